"""Event transforms and ToFrame: snn.cpp (torch.ops.snn) against Tonic, measured in the same run.

Usage: python bench/bench_events.py [--events N] [--repeats N] [--threads N]
Prints, per operation, the median wall time of Tonic on a structured NumPy array (the dtype
of Tonic's own dataset of that kind), of
snn.cpp's op on the same events as an int64 [N, 4] tensor (the op's time includes turning the
tensor into events and back), of the column op (t int64, x, y, p int16 in; the output columns
handed over without a copy), and of snn.cpp's C++ API on the same events (what a C++
program pays: no conversion), with the speed-ups over Tonic. Recordings: random
events on a DVS-sized sensor (128x128x2) and an audio-shaped one (700 channels, as SHD).
"""
import argparse
import time

import numpy as np
import tonic.transforms as tt
import torch

from common import BENCH_LIBRARY, LIBRARY, timeit





# The structured dtypes Tonic's own datasets produce: DVSGesture (x, y int16, p bool, t int64)
# for the DVS-sized recordings, NMNIST (all int64) for the N-MNIST-sized ones, SHD (t, x, p
# int64) for audio.
DVS_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("p", bool), ("t", np.int64)])
NMNIST_DTYPE = np.dtype([("x", int), ("y", int), ("t", int), ("p", int)])
AUDIO_DTYPE = np.dtype([("t", int), ("x", int), ("p", int)])


def recording(n, sensor, has_y, dtype, seed=0):
    rng = np.random.default_rng(seed)
    w, h, p = sensor
    t = np.sort(rng.integers(1, 2_000_000, n))
    x = rng.integers(0, w, n)
    y = rng.integers(0, h, n) if has_y else np.zeros(n, np.int64)
    pol = rng.integers(0, p, n)
    tensor = torch.from_numpy(np.stack([t, x, y, pol], 1).astype(np.int64))
    s = np.zeros(n, dtype if has_y else AUDIO_DTYPE)
    s["t"], s["x"], s["p"] = t, x, pol
    if has_y:
        s["y"] = y
    return tensor, s


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--events", type=int, default=200_000, help="events per recording")
    p.add_argument("--slow-events", type=int, default=20_000,
                   help="events for the transforms Tonic runs as Python loops")
    p.add_argument("--small-events", type=int, default=5_000,
                   help="events per sample in the N-MNIST-sized run (34x34x2)")
    p.add_argument("--repeats", type=int, default=5)
    p.add_argument("--threads", type=int, default=1)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    torch.ops.load_library(str(LIBRARY))
    torch.ops.load_library(str(BENCH_LIBRARY))
    ops = torch.ops.snn

    print(f"threads={args.threads} repeats={args.repeats}")
    ratios = run_cases(ops, ((128, 128, 2), True), args.events, args.slow_events, args.repeats,
                       "DVS-sized recordings (128x128x2, Tonic's DVSGesture dtype; audio 700x1x2)",
                       DVS_DTYPE)
    ratios += run_cases(ops, ((34, 34, 2), True), args.small_events, args.small_events,
                        args.repeats, "N-MNIST-sized samples (34x34x2, Tonic's NMNIST dtype; "
                        "audio 700x1x2)", NMNIST_DTYPE)
    print(f"geometric mean speed-up over all: {np.exp(np.mean(np.log(ratios))):.1f}x")


def run_cases(ops, dvs, n_events, n_slow, repeats, title, dtype):
    audio = ((700, 1, 2), False)
    w = dvs[0][0]
    cases = [
        # (label, sensor, has_y, n, tonic transform, snn spec, kind)
        ("ToFrame(time_window=10000)", *dvs, n_events,
         tt.ToFrame(sensor_size=dvs[0], time_window=10_000), "ToFrame(time_window=10000)", "dense"),
        ("ToFrame(n_time_bins=20)", *dvs, n_events,
         tt.ToFrame(sensor_size=dvs[0], n_time_bins=20), "ToFrame(n_time_bins=20)", "dense"),
        ("ToFrame(event_count=5000, overlap=1000)", *dvs, n_events,
         tt.ToFrame(sensor_size=dvs[0], event_count=5000, overlap=1000),
         "ToFrame(event_count=5000, overlap=1000)", "dense"),
        ("ToFrame(n_time_bins=100) audio", *audio, n_events,
         tt.ToFrame(sensor_size=audio[0], n_time_bins=100), "ToFrame(n_time_bins=100)", "dense"),
        ("ToVoxelGrid(n_time_bins=10)", *dvs, n_events,
         tt.ToVoxelGrid(sensor_size=dvs[0], n_time_bins=10), "ToVoxelGrid(n_time_bins=10)", "dense"),
        ("CropTime", *dvs, n_events, tt.CropTime(min=100_000, max=1_500_000),
         "CropTime(min=100000, max=1500000)", "events"),
        ("Downsample(spatial_factor=0.5)", *dvs, n_events,
         tt.Downsample(time_factor=0.001, spatial_factor=0.5),
         "Downsample(time_factor=0.001, spatial_factor=0.5)", "events"),
        ("MergePolarities", *dvs, n_events, tt.MergePolarities(), "MergePolarities()", "events"),
        ("RandomFlipLR(p=1)", *dvs, n_events, tt.RandomFlipLR(sensor_size=dvs[0], p=1),
         "RandomFlipLR(p=1)", "events"),
        ("DropEvent(p=0.2)", *dvs, n_events, tt.DropEvent(p=0.2), "DropEvent(p=0.2)", "events"),
        ("TimeJitter(std=100)", *dvs, n_events, tt.TimeJitter(std=100),
         "TimeJitter(std=100)", "events"),
        ("Denoise(filter_time=10000)", *dvs, n_slow, tt.Denoise(filter_time=10_000),
         "Denoise(filter_time=10000)", "events"),
        ("RefractoryPeriod(delta=1000)", *dvs, n_slow,
         tt.RefractoryPeriod(delta=1000), "RefractoryPeriod(delta=1000)", "events"),
        ("Compose(Denoise, Downsample, ToFrame)", *dvs, n_slow,
         tt.Compose([tt.Denoise(filter_time=10_000), tt.Downsample(spatial_factor=0.5),
                     tt.ToFrame(sensor_size=(w // 2, w // 2, 2), time_window=10_000)]),
         ("Compose([Denoise(filter_time=10000), Downsample(spatial_factor=0.5)])",
          "ToFrame(time_window=10000)"), "pipeline"),
    ]

    print(f"\n{title}")
    print(f"{'operation':44s} {'events':>8s} {'tonic ms':>10s} {'snn.cpp ms':>11s} {'speed-up':>9s}"
          f" {'column ms':>10s} {'speed-up':>9s} {'C++ API ms':>11s} {'speed-up':>9s}")
    ratios = []
    for label, sensor, has_y, n, tonic_t, spec, kind in cases:
        tensor, structured = recording(n, sensor, has_y, dtype)
        size = list(sensor)
        cols = (tensor[:, 0].clone(), tensor[:, 1].to(torch.int16), tensor[:, 2].to(torch.int16),
                tensor[:, 3].to(torch.int16))
        run_cols = None
        if kind == "dense":
            run = lambda: ops.events_to_dense(tensor, size, has_y, spec)  # noqa: E731
            run_cols = lambda: ops.events_to_dense_columns(*cols, size, has_y, spec)  # noqa: E731
        elif kind == "events":
            run = lambda: ops.events_transform(tensor, size, has_y, spec, 0)  # noqa: E731
            run_cols = lambda: ops.events_transform_columns(*cols, size, has_y, spec, 0)  # noqa: E731
        else:
            def run():
                ev, s = ops.events_transform(tensor, size, has_y, spec[0], 0)
                return ops.events_to_dense(ev, s, has_y, spec[1])
        # Tonic's transforms copy their input themselves; a transform that changed the array
        # it was given would be timed on a fresh copy each call.
        before = structured.copy()
        tonic_t(structured)
        if np.array_equal(before, structured):
            t_tonic = timeit(lambda: tonic_t(structured), repeats)
        else:
            structured = before
            t_tonic = timeit(lambda: tonic_t(structured.copy()), repeats)
        t_snn = timeit(run, repeats)
        t_cols = timeit(run_cols, repeats) if run_cols else None
        # The C++ API on the same events, without the tensor <-> events conversion.
        if kind == "pipeline":
            t_cpp = None
        else:
            t_cpp = torch.ops.snn_bench.apply_seconds(tensor, size, has_y, spec, kind == "dense",
                                                      repeats)
        ratios.append(t_tonic / t_snn)
        cpp = f"{t_cpp * 1e3:11.3f} {t_tonic / t_cpp:8.1f}x" if t_cpp else f"{'-':>11s} {'-':>9s}"
        col = f"{t_cols * 1e3:10.3f} {t_tonic / t_cols:8.1f}x" if t_cols else f"{'-':>10s} {'-':>9s}"
        print(f"{label:44s} {n:8d} {t_tonic * 1e3:10.3f} {t_snn * 1e3:11.3f} {t_tonic / t_snn:8.1f}x"
              f" {col} {cpp}")
    print(f"geometric mean speed-up: {np.exp(np.mean(np.log(ratios))):.1f}x")
    return ratios


if __name__ == "__main__":
    main()
