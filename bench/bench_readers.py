"""Event file readers: snn.cpp (torch.ops.snn.events_read) against Tonic and expelliarmus,
on the same files, measured in the same run.

Usage: python bench/bench_readers.py [--events N] [--repeats N] [--threads N]
Files: the shared real recordings (N-MNIST .bin, EVT2 .raw) when ../shared/fixtures is there,
an SHD-layout HDF5 file (all its samples read: Tonic's HSD.__getitem__ per sample),
and, for every format with a working peer reader, a file of N random events that snn.cpp
writes (N-MNIST, EVT2, EVT3, DAT; Tonic 1.7.0's AEDAT 3.1 reader read_dvs_ibm fails on
its own header parser, so AEDAT has no peer here).
snn.cpp's op time includes building the int64 [N, 4] tensor that Python receives; the column op
(events_read_columns) hands the reader's columns over without a copy.
"""
import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import tonic
import torch

from common import BENCH_LIBRARY, LIBRARY, ROOT, timeit
from expelliarmus import Wizard

FIXTURES = ROOT.parent / "shared" / "fixtures" / "events"




def expelliarmus_reader(encoding):
    def read(path):
        w = Wizard(encoding=encoding)
        w.set_file(str(path))
        return w.read()
    return read


class TonicHSD:
    """Just what Tonic's HSD.__getitem__ reads (its dataset classes would download first):
    that method itself is run, unchanged, on this object."""
    dtype = tonic.datasets.hsd.HSD.dtype
    transform = target_transform = None

    def __init__(self, path):
        self.location_on_system, self.data_filename = str(path.parent), path.name


def write_shd(path, samples, events_per_sample, seed=0):
    """An SHD-layout file (float16 seconds, uint16 units, as the published files)."""
    import h5py
    rng = np.random.default_rng(seed)
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (samples,), dtype=h5py.vlen_dtype(np.float16))
        units = f.create_dataset("spikes/units", (samples,), dtype=h5py.vlen_dtype(np.uint16))
        for i in range(samples):
            times[i] = np.sort(rng.random(events_per_sample) * 1.0).astype(np.float16)
            units[i] = rng.integers(0, 700, events_per_sample).astype(np.uint16)
        f["labels"] = rng.integers(0, 20, samples).astype(np.uint8)
        f["extra/speaker"] = rng.integers(0, 12, samples).astype(np.uint16)
        f["extra/keys"] = np.array([b"zero", b"one"])


def random_events(n, sensor):
    rng = np.random.default_rng(0)
    w, h, p = sensor
    t = np.sort(rng.integers(0, 10 * n, n))
    return torch.from_numpy(np.stack([t, rng.integers(0, w, n), rng.integers(0, h, n),
                                      rng.integers(0, p, n)], 1).astype(np.int64))


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--events", type=int, default=1_000_000, help="events per generated file (default 1e6)")
    ap.add_argument("--repeats", type=int, default=5, help="timed repetitions (default 5)")
    ap.add_argument("--threads", type=int, default=1,
                    help="LibTorch threads for snn.cpp (default 1: the peers decode on one)")
    args = ap.parse_args()
    torch.set_num_threads(args.threads)
    torch.ops.load_library(str(LIBRARY))
    torch.ops.load_library(str(BENCH_LIBRARY))
    ops = torch.ops.snn
    tonic_nmnist = lambda path: tonic.io.read_mnist_file(str(path), dtype=tonic.io.events_struct)
    cases = []
    if FIXTURES.is_dir():
        cases += [("N-MNIST fixture (4k events)", FIXTURES / "sample_nmnist.bin", "tonic", tonic_nmnist),
                  ("EVT2 fixture (539k events)", FIXTURES / "evt2_sample.raw", "expelliarmus",
                   expelliarmus_reader("evt2"))]
    tmp = Path(tempfile.mkdtemp())
    n = args.events
    generated = [
        ("nmnist", (34, 34, 2), ".bin", "tonic", tonic_nmnist),
        ("evt2", (640, 480, 2), ".raw", "expelliarmus", expelliarmus_reader("evt2")),
        ("evt3", (1280, 720, 2), ".raw", "expelliarmus", expelliarmus_reader("evt3")),
        ("dat", (640, 480, 2), ".dat", "expelliarmus", expelliarmus_reader("dat")),
    ]
    for fmt, sensor, suffix, peer_name, peer in generated:
        path = tmp / f"random_{fmt}{suffix}"
        events = random_events(n, sensor)
        if fmt == "nmnist":  # N-MNIST's 23-bit timestamps (with markers) reach 2^36 us
            events[:, 0] = torch.sort(torch.randint(0, 300_000, (n,)))[0]
        ops.events_write(events, list(sensor), str(path), fmt)
        cases.append((f"{fmt} ({n // 1000}k random events)", path, peer_name, peer))
    print(f"threads={args.threads} repeats={args.repeats}")
    print(f"{'file':<34} {'peer':<13} {'peer ms':>9} {'snn ms':>8} {'speed-up':>9}"
          f" {'column ms':>9} {'speed-up':>9} {'C++ API ms':>11} {'speed-up':>9}")
    # SHD: every sample of a file, Tonic's way (its __getitem__ per sample) against the op
    # (one read per sample) and the C++ API (one HSDFile, as snn::data::SHD).
    shd = tmp / "shd_test.h5"
    write_shd(shd, 200, 4000)
    hsd = TonicHSD(shd)
    shd_cases = [("SHD (200 samples x 4k events)", shd, "tonic",
                  lambda p: [tonic.datasets.hsd.HSD.__getitem__(hsd, i) for i in range(200)],
                  lambda p: [ops.shd_read(str(p), i) for i in range(200)],
                  lambda p, r: torch.ops.snn_bench.hsd_read_seconds(str(p), r))]
    for name, path, peer_name, peer in cases:
        t_peer = timeit(lambda: peer(path), args.repeats)
        t_snn = timeit(lambda: ops.events_read(str(path)), args.repeats)
        t_cols = timeit(lambda: ops.events_read_columns(str(path)), args.repeats)
        t_cpp = torch.ops.snn_bench.read_seconds(str(path), args.repeats)
        print(f"{name:<34} {peer_name:<13} {t_peer * 1e3:9.1f} {t_snn * 1e3:8.1f} {t_peer / t_snn:8.1f}x"
              f" {t_cols * 1e3:9.1f} {t_peer / t_cols:8.1f}x {t_cpp * 1e3:11.1f} {t_peer / t_cpp:8.1f}x")
    for name, path, peer_name, peer, snn_op, cpp in shd_cases:
        t_peer = timeit(lambda: peer(path), args.repeats)
        t_snn = timeit(lambda: snn_op(path), args.repeats)
        t_cpp = cpp(path, args.repeats)
        print(f"{name:<34} {peer_name:<13} {t_peer * 1e3:9.1f} {t_snn * 1e3:8.1f} {t_peer / t_snn:8.1f}x"
              f" {'-':>9s} {'-':>9s} {t_cpp * 1e3:11.1f} {t_peer / t_cpp:8.1f}x")


if __name__ == "__main__":
    main()
