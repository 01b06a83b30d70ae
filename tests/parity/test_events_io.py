"""Event file readers (torch.ops.snn.events_read & co.) against independent decoders:
Tonic's readers (N-MNIST, AEDAT / DVS Gesture, SHD conversion), expelliarmus (EVT2, EVT3,
DAT), and small numpy decoders written here from the format descriptions; plus the real
fixtures in ../shared/fixtures/events."""
import os
import struct
from pathlib import Path

import numpy as np
import pytest
import torch

from conftest import FIXTURES, missing_fixture

def fixture(name):
    path = FIXTURES / "events" / name
    if not path.exists():
        missing_fixture(f"fixture {path} not found (the shared fixtures folder is absent)")
    return str(path)


def columns(events):
    """A [N, 4] int64 tensor (t, x, y, p) as a dict of numpy columns."""
    a = events.numpy()
    return {"t": a[:, 0], "x": a[:, 1], "y": a[:, 2], "p": a[:, 3]}


def assert_same(ours, ref, fields="txyp"):
    assert len(ours["t"]) == len(ref["t"])
    for f in fields:
        np.testing.assert_array_equal(ours[f], np.asarray(ref[f]).astype(np.int64), err_msg=f)


def random_events(rng, n, width, height, t0=0, max_step=100, max_p=1):
    t = t0 + np.cumsum(rng.integers(0, max_step + 1, n))
    return {"t": t.astype(np.int64), "x": rng.integers(0, width, n), "y": rng.integers(0, height, n),
            "p": rng.integers(0, max_p + 1, n)}


def as_tensor(ev):
    return torch.from_numpy(np.stack([ev[k].astype(np.int64) for k in "txyp"], axis=1))


# ---- N-MNIST --------------------------------------------------------------------------------

def test_nmnist_fixture_matches_tonic(snn_ops):
    from tonic.datasets import NMNIST
    from tonic.io import read_mnist_file
    path = fixture("sample_nmnist.bin")
    events, sensor = snn_ops.events_read(path, "auto")
    ours = columns(events)
    assert sensor == [34, 34, 2]
    assert_same(ours, read_mnist_file(path, dtype=NMNIST.dtype))
    # The counts in shared/README.md.
    assert len(ours["t"]) == 4325
    assert ours["t"][0] == 654 and ours["t"][-1] == 311175
    assert ours["x"].min() >= 0 and ours["x"].max() <= 33 and ours["y"].max() <= 33


def test_nmnist_overflow_markers_match_tonic(snn_ops, tmp_path):
    from tonic.datasets import NMNIST
    from tonic.io import read_mnist_file
    rng = np.random.default_rng(0)
    n = 5000
    x, y, p = rng.integers(0, 34, n), rng.integers(0, 34, n), rng.integers(0, 2, n)
    ts = rng.integers(0, 2**23, n)
    y[rng.random(n) < 0.05] = 240  # overflow markers, written independently of our writer
    raw = np.stack([x, y, (p << 7) | (ts >> 16), (ts >> 8) & 255, ts & 255], axis=1).astype(np.uint8)
    path = tmp_path / "overflow.bin"
    raw.tofile(path)
    events, _ = snn_ops.events_read(str(path), "nmnist")
    assert_same(columns(events), read_mnist_file(str(path), dtype=NMNIST.dtype))
    # Our writer, read by Tonic.
    ev = random_events(rng, 3000, 34, 34, max_step=6000)  # passes 2^23 µs
    snn_ops.events_write(as_tensor(ev), [34, 34, 2], str(tmp_path / "w.bin"), "nmnist")
    assert_same(ev, read_mnist_file(str(tmp_path / "w.bin"), dtype=NMNIST.dtype))


# ---- Prophesee EVT 2.0 ----------------------------------------------------------------------

def expelliarmus_read(path, encoding):
    from expelliarmus import Wizard
    return Wizard(encoding=encoding).read(str(path))


def test_evt2_fixture_matches_expelliarmus_and_readme(snn_ops):
    path = fixture("evt2_sample.raw")
    assert snn_ops.events_detect_format(path) == "evt2"
    events, sensor = snn_ops.events_read(path, "auto")
    ours = columns(events)
    assert sensor == [640, 480, 2]  # hal_plugin_gen3 in the header
    assert_same(ours, expelliarmus_read(path, "evt2"))
    assert len(ours["t"]) == 539481
    assert (ours["p"] == 0).sum() == 171626 and (ours["p"] == 1).sum() == 367855
    assert ours["t"][0] == 1317888 and ours["t"][-1] == 1367888
    assert (np.diff(ours["t"]) >= 0).all()


def test_evt2_fixture_streaming_equals_whole(snn_ops):
    path = fixture("evt2_sample.raw")
    whole, _ = snn_ops.events_read(path, "evt2")
    for max_events, window in [(100_000, 0), (12_345, 0), (0, 1000)]:
        chunks = snn_ops.events_read_chunks(path, "evt2", max_events, window)
        assert torch.equal(torch.cat(chunks), whole)
        if max_events:
            assert all(len(c) == max_events for c in chunks[:-1])
        else:
            starts = whole[0, 0] + window * torch.arange(len(chunks))
            for c, s in zip(chunks, starts):
                assert ((c[:, 0] >= s) & (c[:, 0] < s + window)).all()


def test_evt2_truncated_fixture_names_path_and_offset(snn_ops, tmp_path):
    data = Path(fixture("evt2_sample.raw")).read_bytes()
    path = tmp_path / "cut.raw"
    path.write_bytes(data[:-3])
    partial = len(data) - 4  # the last word started here
    with pytest.raises(RuntimeError, match=rf"snn::events: {path}: truncated EVT2 word \(1 of 4 "
                                           rf"bytes\) at byte {partial}"):
        snn_ops.events_read(str(path), "auto")


def expelliarmus_array(ev):
    """Events as the structured array expelliarmus' writers take."""
    arr = np.zeros(len(ev["t"]), dtype=[("t", "<i8"), ("x", "<i2"), ("y", "<i2"), ("p", "u1")])
    for k in "txyp":
        arr[k] = ev[k]
    return arr


def test_evt2_round_trips_through_expelliarmus(snn_ops, tmp_path):
    from expelliarmus import Wizard
    rng = np.random.default_rng(1)
    # expelliarmus' writer names a Gen3 (640x480) camera in its header.
    ev = random_events(rng, 20000, 640, 480, t0=123456, max_step=300)
    snn_ops.events_write(as_tensor(ev), [640, 480, 2], str(tmp_path / "ours.raw"), "evt2")
    assert_same(ev, expelliarmus_read(tmp_path / "ours.raw", "evt2"))
    arr = expelliarmus_array(ev)
    Wizard(encoding="evt2").save(str(tmp_path / "theirs.raw"), arr)
    events, _ = snn_ops.events_read(str(tmp_path / "theirs.raw"), "evt2")
    assert_same(columns(events), ev)


# ---- Prophesee EVT 3.0 ----------------------------------------------------------------------

def evt3_words(rng, n_groups, triggers=True):
    """A random EVT 3.0 word stream exercising every word type (including vectors, redundant
    time-highs, 24-bit time-high wraps, time-low jitter, and triggers unless told not to)."""
    words = []
    th = 4000  # starts near the top, so that it wraps
    tl = 0
    for _ in range(n_groups):
        r = rng.random()
        if r < 0.15:
            th = (th + rng.integers(0, 3)) & 0xFFF
            words.append(0x8000 | th)
            tl = rng.integers(0, 4096)
            words.append(0x6000 | tl)
        elif r < 0.2:
            tl = max(0, tl - rng.integers(0, 20))  # small step back: not a wrap
            words.append(0x6000 | tl)
        elif r < 0.5:
            tl = min(4095, tl + rng.integers(0, 40))
            words.append(0x6000 | tl)
        words.append(0x0000 | rng.integers(0, 720))
        if rng.random() < 0.5:
            words.append(0x2000 | (rng.integers(0, 2) << 11) | rng.integers(0, 1280))
        else:
            words.append(0x3000 | (rng.integers(0, 2) << 11) | rng.integers(0, 1280 - 40))
            for _ in range(rng.integers(1, 3)):
                if rng.random() < 0.5:
                    words.append(0x4000 | rng.integers(0, 4096))
                else:
                    words.append(0x5000 | rng.integers(0, 256))
        if triggers and rng.random() < 0.05:
            words += [0xA000 | rng.integers(0, 4096), 0xE000, 0xF000 | 5, 0x7000]
    return np.array(words, dtype="<u2")


def evt3_decode(words):
    """Metavision's EVT 3.0 decoding rules, written from the format description."""
    out = []
    have_base, base, loops, time, y, x_base, pol = False, 0, 0, 0, 0, 0, 0
    max_base, loop, threshold = 0xFFF << 12, 1 << 24, 10 << 12
    for w in words.tolist():
        kind, v = w >> 12, w & 0xFFF
        if kind == 0x8:
            new = (v << 12) + loops * loop
            if have_base and base > new and base - new >= max_base - threshold:
                new += loop
                loops += 1
            base, time, have_base = new, new, True
        elif kind == 0x6:
            time = base + v
        elif kind == 0x0:
            y = w & 0x7FF
        elif kind == 0x3:
            x_base, pol = w & 0x7FF, (w >> 11) & 1
        elif kind == 0x2:
            if have_base:
                out.append((time, w & 0x7FF, y, (w >> 11) & 1))
        elif kind in (0x4, 0x5):
            bits = 12 if kind == 0x4 else 8
            for k in range(bits):
                if have_base and (v >> k) & 1:
                    out.append((time, x_base + k, y, pol))
            x_base += bits
    a = np.array(out, dtype=np.int64).reshape(-1, 4)
    return {"t": a[:, 0], "x": a[:, 1], "y": a[:, 2], "p": a[:, 3]}


def test_evt3_matches_numpy_decoder_and_expelliarmus_addresses(snn_ops, tmp_path):
    words = evt3_words(np.random.default_rng(2), 20000)
    path = tmp_path / "a.raw"
    path.write_bytes(b"% evt 3.0\n% format EVT3;height=720;width=1280\n% end\n" + words.tobytes())
    events, sensor = snn_ops.events_read(str(path), "auto")
    assert sensor == [1280, 720, 2]
    ours, ref = columns(events), evt3_decode(words)
    assert ref["t"].max() > (1 << 24)  # the stream did wrap
    assert_same(ours, ref)
    # expelliarmus decodes the same addresses and polarities; its timestamps differ where the
    # time-low steps back (it counts each decrease as a 4096 µs carry): see io.h. It does not
    # know the trigger word type 0xA, so its stream has none.
    # Nor does it drop the events before the first time-high: the stream starts with one.
    words = np.r_[np.array([0x8000 | 4000], "<u2"),
                  evt3_words(np.random.default_rng(2), 20000, triggers=False)].astype("<u2")
    path.write_bytes(b"% evt 3.0\n" + words.tobytes())
    events, _ = snn_ops.events_read(str(path), "auto")
    ours = columns(events)
    assert_same(ours, evt3_decode(words))
    theirs = expelliarmus_read(path, "evt3")
    assert_same(ours, theirs, fields="xyp")
    assert ((theirs["t"] - ours["t"]) % 4096 == 0).all()
    assert (theirs["t"] != ours["t"]).any()  # the stream does step back


def test_evt3_timestamps_match_expelliarmus_without_time_low_steps_back(snn_ops, tmp_path):
    rng = np.random.default_rng(3)
    words, tl = [0x8000 | 7], 0
    for _ in range(5000):
        tl = min(4095, tl + int(rng.integers(0, 2)))
        words += [0x6000 | tl, int(rng.integers(0, 720)),
                  0x2000 | (int(rng.integers(0, 2)) << 11) | int(rng.integers(0, 1280))]
    path = tmp_path / "b.raw"
    path.write_bytes(b"% evt 3.0\n" + np.array(words, dtype="<u2").tobytes())
    events, _ = snn_ops.events_read(str(path), "auto")
    assert_same(columns(events), expelliarmus_read(path, "evt3"))


def test_evt3_written_by_us_matches_numpy_decoder(snn_ops, tmp_path):
    rng = np.random.default_rng(4)
    ev = random_events(rng, 20000, 1280, 720, t0=5, max_step=5000)  # passes several wraps
    path = tmp_path / "w.raw"
    snn_ops.events_write(as_tensor(ev), [1280, 720, 2], str(path), "evt3")
    data = path.read_bytes()
    words = np.frombuffer(data[data.index(b"% end\n") + 6:], dtype="<u2")
    assert_same(evt3_decode(words), ev)


# ---- Prophesee DAT --------------------------------------------------------------------------

def test_dat_matches_expelliarmus_both_ways(snn_ops, tmp_path):
    from expelliarmus import Wizard
    rng = np.random.default_rng(5)
    ev = random_events(rng, 20000, 304, 240, t0=1000, max_step=500)
    snn_ops.events_write(as_tensor(ev), [304, 240, 2], str(tmp_path / "ours.dat"), "dat")
    assert_same(ev, expelliarmus_read(tmp_path / "ours.dat", "dat"))
    arr = expelliarmus_array(ev)
    Wizard(encoding="dat").save(str(tmp_path / "theirs.dat"), arr)
    events, sensor = snn_ops.events_read(str(tmp_path / "theirs.dat"), "auto")
    assert_same(columns(events), ev)


def test_dat_numpy_decoder_with_32_bit_wrap(snn_ops, tmp_path):
    rng = np.random.default_rng(6)
    ev = random_events(rng, 20000, 640, 480, t0=2**32 - 2_000_000, max_step=300, max_p=1)
    path = tmp_path / "wrap.dat"
    snn_ops.events_write(as_tensor(ev), [640, 480, 2], str(path), "dat")
    data = path.read_bytes()
    start = 0
    while data[start:start + 1] == b"%":
        start = data.index(b"\n", start) + 1
    body = data[start:]
    assert body[:2] == bytes([0x0C, 8])
    raw = np.frombuffer(body[2:], dtype="<u4").reshape(-1, 2).astype(np.int64)
    t = raw[:, 0] + (np.cumsum(np.r_[0, np.diff(raw[:, 0]) < -(2**31)]) << 32)
    ref = {"t": t, "x": raw[:, 1] & 0x3FFF, "y": (raw[:, 1] >> 14) & 0x3FFF, "p": raw[:, 1] >> 28}
    assert ref["t"].max() > 2**32
    events, _ = snn_ops.events_read(str(path), "dat")
    assert_same(columns(events), ref)
    assert_same(columns(events), ev)


# ---- DVS Gesture AEDAT 3.1 -----------------------------------------------------------------

def aedat_bytes(rng, n_packets, overflow=0, special=True):
    """An AEDAT 3.1 file written here: polarity packets, and (unless told not to) special-event
    packets between them."""
    out = [b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n"]
    t = 0
    for k in range(n_packets):
        n = int(rng.integers(1, 500))
        x, y, p = rng.integers(0, 128, n), rng.integers(0, 128, n), rng.integers(0, 2, n)
        t = t + np.cumsum(rng.integers(0, 50, n))
        data = (x << 17) | (y << 2) | (p << 1) | 1
        events = np.stack([data, t[:n]], axis=1).astype("<u4")
        t = t[-1:]
        out.append(struct.pack("<hhiiiiii", 1, 1, 8, 4, overflow, n, n, n) + events.tobytes())
        if special and k % 3 == 0:
            out.append(struct.pack("<hhiiiiii", 0, 1, 8, 4, 0, 2, 2, 2) + bytes(16))
    return b"".join(out)


def read_dvs_ibm(path):
    """Tonic's read_dvs_ibm (tonic/io.py). Its own body unpacks two values from
    read_aedat_header_from_file, which returns three in this Tonic version, so the same steps
    are taken here with Tonic's header and packet readers."""
    from tonic.io import get_aer_events_from_file, make_structured_array, read_aedat_header_from_file
    data_version, data_start, _ = read_aedat_header_from_file(path)
    all_events = get_aer_events_from_file(path, data_version, data_start)
    addr, t = all_events["address"], all_events["timeStamp"]
    xytp = make_structured_array((addr >> 17) & 0x1FFF, (addr >> 2) & 0x1FFF, t,
                                 (addr >> 1) & 0x1)
    return (128, 128), xytp


def test_aedat_matches_tonic_read_dvs_ibm(snn_ops, tmp_path):
    rng = np.random.default_rng(7)
    path = tmp_path / "user01_led.aedat"
    data = aedat_bytes(rng, 20)
    # Tonic reads every packet as polarity events: compare on polarity packets only.
    path.write_bytes(data)
    events, sensor = snn_ops.events_read(str(path), "auto")
    assert sensor == [128, 128, 2]
    only_polarity = tmp_path / "polarity.aedat"
    only_polarity.write_bytes(aedat_bytes(np.random.default_rng(7), 20, special=False))
    _, ref = read_dvs_ibm(str(only_polarity))
    assert_same(columns(events), ref)
    events2, _ = snn_ops.events_read(str(only_polarity), "aedat3")
    assert torch.equal(events, events2)


def test_aedat_written_by_us_read_by_tonic(snn_ops, tmp_path):
    ev = random_events(np.random.default_rng(8), 10000, 128, 128, max_step=100)
    path = tmp_path / "w.aedat"
    snn_ops.events_write(as_tensor(ev), [128, 128, 2], str(path), "aedat3")
    _, ref = read_dvs_ibm(str(path))
    assert_same(ev, ref)


def test_dvs_gesture_labels_cut_as_the_csv_says(snn_ops, tmp_path):
    rng = np.random.default_rng(9)
    path = tmp_path / "user02_fluorescent.aedat"
    path.write_bytes(aedat_bytes(rng, 10, special=False))
    _, ref = read_dvs_ibm(str(path))
    t = ref["t"].astype(np.int64)
    bounds = np.sort(rng.choice(np.arange(t[0], t[-1]), 6, replace=False))
    rows = [(3, bounds[0], bounds[1]), (11, bounds[2], bounds[4]), (1, bounds[3], bounds[5])]
    csv = tmp_path / "user02_fluorescent_labels.csv"
    csv.write_text("class,startTime_usec,endTime_usec\n" +
                   "".join(f"{c},{s},{e}\n" for c, s, e in rows))
    cuts, labels = snn_ops.dvs_gesture_read(str(path), str(csv))
    assert labels == [3, 11, 1]
    for cut, (_, s, e) in zip(cuts, rows):
        keep = (t >= s) & (t < e)
        assert keep.sum() > 0
        assert_same(columns(cut), {k: ref[k][keep] for k in "txyp"})


# ---- SHD / SSC HDF5 ------------------------------------------------------------------------

def tonic_hsd_sample(path, index):
    """Tonic's HSD.__getitem__ (tonic/datasets/hsd.py), without its download machinery."""
    import h5py
    from tonic.datasets.hsd import HSD
    from tonic.io import make_structured_array
    with h5py.File(path, "r") as f:
        events = make_structured_array(f["spikes/times"][index].astype(np.float64) * 1e6,
                                       f["spikes/units"][index], 1, dtype=HSD.dtype)
        return events, int(f["labels"][index].astype(int))


@pytest.mark.parametrize("time_dtype", [np.float16, np.float32, np.float64])
def test_shd_matches_tonic(snn_ops, tmp_path, time_dtype):
    import h5py
    rng = np.random.default_rng(10)
    path = tmp_path / "shd.h5"
    n = 8
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.dtype(time_dtype)))
        units = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.dtype(np.uint16)))
        for i in range(n):
            k = int(rng.integers(0, 3000))
            times[i] = np.sort(rng.random(k) * 1.4).astype(time_dtype)
            units[i] = rng.integers(0, 700, k).astype(np.uint16)
        f["labels"] = rng.integers(0, 20, n).astype(np.uint8)
        f["extra/speaker"] = rng.integers(0, 12, n).astype(np.uint16)
        f["extra/keys"] = np.array([b"english-zero", b"german-neun"])
    labels, speakers, keys = snn_ops.shd_info(str(path))
    with h5py.File(path, "r") as f:
        assert labels == f["labels"][()].tolist()
        assert speakers == f["extra/speaker"][()].tolist()
    assert keys == ["english-zero", "german-neun"]
    for i in range(n):
        events, label = snn_ops.shd_read(str(path), i)
        ref, ref_label = tonic_hsd_sample(str(path), i)
        assert label == ref_label
        ours = columns(events)
        assert_same(ours, {"t": ref["t"], "x": ref["x"], "y": np.zeros(len(ref)), "p": ref["p"]})


def test_shd_float16_times_every_value(snn_ops, tmp_path):
    """float16 times (as the published SHD files) are widened by snn.cpp itself: every
    non-negative finite float16 must give Tonic's t; an infinite time is an error."""
    import h5py
    bits = np.arange(0, 0x7C00, dtype=np.uint16)  # +0 .. the largest finite half
    halves = bits.view(np.float16)
    path = tmp_path / "half.h5"
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (2,), dtype=h5py.vlen_dtype(np.dtype(np.float16)))
        units = f.create_dataset("spikes/units", (2,), dtype=h5py.vlen_dtype(np.dtype(np.uint16)))
        times[0] = halves
        units[0] = (np.arange(len(halves)) % 700).astype(np.uint16)
        times[1] = np.array([0.5, np.inf], np.float16)
        units[1] = np.array([1, 2], np.uint16)
        f["labels"] = np.array([3, 4], np.uint8)
    events, _ = snn_ops.shd_read(str(path), 0)
    ref, _ = tonic_hsd_sample(str(path), 0)
    assert np.array_equal(events[:, 0].numpy(), ref["t"])
    with pytest.raises(RuntimeError, match="is not a finite time"):
        snn_ops.shd_read(str(path), 1)


def test_shd_written_by_us_read_by_tonic(snn_ops, tmp_path):
    rng = np.random.default_rng(11)
    samples = []
    for _ in range(5):
        k = int(rng.integers(0, 1000))
        samples.append(torch.from_numpy(np.stack(
            [rng.integers(0, 1_000_000, k), rng.integers(0, 700, k), np.zeros(k, np.int64),
             np.ones(k, np.int64)], axis=1).astype(np.int64)))
    path = tmp_path / "w.h5"
    snn_ops.shd_write(samples, [1, 2, 3, 4, 5], [9, 9, 8, 8, 7], ["a", "b"], str(path))
    for i, s in enumerate(samples):
        ref, label = tonic_hsd_sample(str(path), i)
        assert label == i + 1
        assert_same(columns(s), {"t": ref["t"], "x": ref["x"], "y": np.zeros(len(ref)),
                                 "p": ref["p"]})
    assert snn_ops.events_detect_format(str(path)) == "hdf5"


def test_read_columns_equals_read(snn_ops, tmp_path):
    """The column op hands over the reader's columns: the same events as events_read."""
    rng = np.random.default_rng(30)
    n = 300_000  # large enough to be mapped
    ev = torch.from_numpy(np.stack([np.sort(rng.integers(0, 3_000_000, n)), rng.integers(0, 640, n),
                                    rng.integers(0, 480, n), rng.integers(0, 2, n)], 1))
    for fmt, name in [("evt2", "c.raw"), ("dat", "c.dat")]:
        path = str(tmp_path / name)
        snn_ops.events_write(ev, [640, 480, 2], path, fmt)
        want, sensor = snn_ops.events_read(path)
        t, x, y, p, sensor_c = snn_ops.events_read_columns(path)
        assert sensor_c == sensor
        assert torch.equal(torch.stack([t, x.long(), y.long(), p.long()], 1), want)
