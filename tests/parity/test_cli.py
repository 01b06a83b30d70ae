"""The `snn data` commands, checked against independent decoders (Tonic, expelliarmus,
Pillow) on the shared real recordings and on files they write."""
import re
import subprocess

import numpy as np
import pytest
import tonic
from expelliarmus import Wizard
from PIL import Image, ImageSequence


def run(cli, *args):
    return subprocess.run([str(cli), *map(str, args)], capture_output=True, text=True, timeout=120)


def parse_inspect(stdout):
    fields = dict(re.findall(r"^(\w+):\s+(.*)$", stdout, re.M))
    out = {"format": fields["format"], "events": int(fields["events"])}
    if "time" in fields:
        lo, hi = re.match(r"(\d+) \.\. (\d+) us", fields["time"]).groups()
        out["t_min"], out["t_max"] = int(lo), int(hi)
        out["polarity"] = [int(n) for n in re.findall(r"p\d+ (\d+)", fields["polarity"])]
    return out


def test_inspect_evt2_matches_expelliarmus(cli, fixtures):
    path = fixtures / "events" / "evt2_sample.raw"
    proc = run(cli, "data", "inspect", path)
    assert proc.returncode == 0, proc.stderr
    got = parse_inspect(proc.stdout)
    w = Wizard(encoding="evt2")
    w.set_file(str(path))
    ref = w.read()
    assert got["format"] == "evt2"
    assert got["events"] == len(ref)
    assert (got["t_min"], got["t_max"]) == (int(ref["t"].min()), int(ref["t"].max()))
    assert got["polarity"] == [int((ref["p"] == 0).sum()), int((ref["p"] == 1).sum())]
    assert "640 x 480, 2 polarities" in proc.stdout


def test_inspect_nmnist_matches_tonic(cli, fixtures):
    path = fixtures / "events" / "sample_nmnist.bin"
    proc = run(cli, "data", "inspect", path)
    assert proc.returncode == 0, proc.stderr
    got = parse_inspect(proc.stdout)
    ref = tonic.io.read_mnist_file(str(path), dtype=tonic.io.events_struct)
    assert got["events"] == len(ref)
    assert (got["t_min"], got["t_max"]) == (int(ref["t"].min()), int(ref["t"].max()))
    assert got["polarity"] == [int((ref["p"] == 0).sum()), int((ref["p"] == 1).sum())]


# (EVT3 is left out: expelliarmus mis-decodes EVT3 time-low carries; the EVT3 reader is held
# to an independent numpy decoder in test_events_io.py.)
@pytest.mark.parametrize("out_format,suffix", [("evt2", ".raw"), ("dat", ".dat")])
def test_convert_nmnist_to_prophesee_reads_back_in_expelliarmus(cli, fixtures, tmp_path,
                                                                 out_format, suffix):
    src = fixtures / "events" / "sample_nmnist.bin"
    out = tmp_path / ("converted" + suffix)
    proc = run(cli, "data", "convert", src, out, "--out-format", out_format)
    assert proc.returncode == 0, proc.stderr
    ref = tonic.io.read_mnist_file(str(src), dtype=tonic.io.events_struct)
    w = Wizard(encoding=out_format)
    w.set_file(str(out))
    back = w.read()
    order = np.argsort(ref["t"], kind="stable")  # a Prophesee stream is time-ordered
    for field in ("t", "x", "y", "p"):
        assert np.array_equal(back[field].astype(np.int64), ref[field][order].astype(np.int64)), field


def test_convert_applies_a_transform(cli, fixtures, tmp_path):
    src = fixtures / "events" / "sample_nmnist.bin"
    out = tmp_path / "cropped.bin"
    proc = run(cli, "data", "convert", src, out, "--transform", "CropTime(min=0, max=100000)")
    assert proc.returncode == 0, proc.stderr
    ref = tonic.io.read_mnist_file(str(src), dtype=tonic.io.events_struct)
    back = tonic.io.read_mnist_file(str(out), dtype=tonic.io.events_struct)
    assert len(back) == int(((ref["t"] >= 0) & (ref["t"] <= 100000)).sum())


def test_plot_writes_pictures(cli, fixtures, tmp_path):
    src = fixtures / "events" / "sample_nmnist.bin"
    gif = tmp_path / "frames.gif"
    proc = run(cli, "data", "plot", src, "-o", gif, "--frames", 5, "--scale", 1)
    assert proc.returncode == 0, proc.stderr
    frames = list(ImageSequence.Iterator(Image.open(gif)))
    assert len(frames) == 5 and frames[0].size == (34, 34)
    png = tmp_path / "all.png"
    assert run(cli, "data", "plot", src, "-o", png, "--scale", 1).returncode == 0
    img = np.asarray(Image.open(png).convert("RGB"))
    assert img.shape == (34, 34, 3) and img.max() == 255
    # By default a small sensor is scaled up (nearest neighbour) to at least 256 pixels.
    big = tmp_path / "big.png"
    assert run(cli, "data", "plot", src, "-o", big).returncode == 0
    scaled = np.asarray(Image.open(big).convert("RGB"))
    assert scaled.shape == (272, 272, 3)
    assert np.array_equal(scaled[::8, ::8], img)


def test_bad_input_exits_2_with_a_message(cli, tmp_path):
    assert run(cli, "data", "inspect", tmp_path / "missing.raw").returncode == 2
    bad = tmp_path / "bad.raw"
    bad.write_bytes(b"% evt 3.0\n% end\n\x01")  # a truncated EVT3 word
    proc = run(cli, "data", "inspect", bad)
    assert proc.returncode == 2
    assert proc.stderr.startswith("snn: error:") and str(bad) in proc.stderr
    proc = run(cli, "data", "convert", bad, tmp_path / "x.txt")
    assert proc.returncode == 2
    assert run(cli, "data", "frobnicate").returncode == 2


def write_shd(path, n=3, seed=4):
    """An SHD-layout file written by h5py (not by snn.cpp); returns Tonic's events per sample."""
    import h5py
    rng = np.random.default_rng(seed)
    samples = []
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.dtype(np.float32)))
        units = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.dtype(np.uint16)))
        for i in range(n):
            k = int(rng.integers(100, 1000))
            times[i] = np.sort(rng.random(k) * 1.0).astype(np.float32)
            units[i] = rng.integers(0, 700, k).astype(np.uint16)
        f["labels"] = rng.integers(0, 20, n).astype(np.uint8)
    with h5py.File(path, "r") as f:
        for i in range(n):  # Tonic's SHD conversion: t = times * 1e6 as int, p = 1
            samples.append((f["spikes/times"][i] * 1e6).astype(np.int64))
    return samples


def test_inspect_and_plot_shd(cli, tmp_path):
    path = tmp_path / "shd_test.h5"
    samples = write_shd(path)
    proc = run(cli, "data", "inspect", path, "--sample", 1)
    assert proc.returncode == 0, proc.stderr
    got = parse_inspect(proc.stdout)
    assert got["format"] == "hdf5" and "samples:   3" in proc.stdout
    assert got["events"] == len(samples[1])
    assert (got["t_min"], got["t_max"]) == (int(samples[1].min()), int(samples[1].max()))
    whole = parse_inspect(run(cli, "data", "inspect", path).stdout)
    assert whole["events"] == sum(len(s) for s in samples)
    # Audio is plotted as a raster: time to the right, the 700 channels upwards.
    png = tmp_path / "raster.png"
    proc = run(cli, "data", "plot", path, "--sample", 0, "-o", png, "--frames", 50)
    assert proc.returncode == 0, proc.stderr
    img = np.asarray(Image.open(png).convert("RGB"))
    assert img.shape == (700, 50, 3) and img.max() == 255
    # A sample must be chosen for what needs one sample.
    proc = run(cli, "data", "plot", path, "-o", png)
    assert proc.returncode == 2 and "choose one with --sample" in proc.stderr


def nmnist_record(x, y, p, t):
    return bytes([x, y, (p << 7) | (t >> 16), (t >> 8) & 0xFF, t & 0xFF])


def test_sensor_option_and_its_hint(cli, tmp_path):
    """An N-MNIST event beyond the assumed 34x34 sensor: the error says the size was assumed
    and names --sensor; with --sensor the file reads."""
    path = tmp_path / "wide.bin"
    path.write_bytes(nmnist_record(3, 4, 1, 100) + nmnist_record(40, 5, 0, 200))
    proc = run(cli, "data", "inspect", path)
    assert proc.returncode == 2
    assert "outside the 34x34 sensor (assumed: the N-MNIST default, as the file gives none)" in proc.stderr
    assert "give the sensor size with --sensor WxH" in proc.stderr
    proc = run(cli, "data", "inspect", path, "--sensor", "64x48")
    assert proc.returncode == 0, proc.stderr
    assert "sensor:    64 x 48, 2 polarities (given in the read options)" in proc.stdout
    assert "extent:    x 0..40, y 0..5" in proc.stdout
    proc = run(cli, "data", "inspect", path, "--sensor", "64by48")
    assert proc.returncode == 2 and "--sensor expects WxH or WxHxP" in proc.stderr


def test_inspect_says_when_the_sensor_is_assumed(cli, tmp_path):
    """A DAT file whose header gives no width and height: 640x480 is assumed, and said so,
    beside the extent of the events."""
    n = 10
    t = np.arange(n) * 100
    x, y, p = np.arange(n) * 10, np.arange(n) * 5, np.arange(n) % 2
    words = np.stack([t, x | (y << 14) | (p << 28)], 1).astype("<u4")
    path = tmp_path / "plain.dat"
    path.write_bytes(b"% Version 2\n" + bytes([0x0C, 8]) + words.tobytes())
    proc = run(cli, "data", "inspect", path)
    assert proc.returncode == 0, proc.stderr
    assert ("sensor:    640 x 480, 2 polarities (assumed: the DAT (Gen3) default, as the file "
            "gives none)") in proc.stdout
    assert "extent:    x 0..90, y 0..45" in proc.stdout
