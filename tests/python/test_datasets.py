"""snncpp.io and snncpp.datasets against Tonic 1.7.0's readers and datasets, computed here.

The readers run on the shared real recordings (../shared/fixtures/events) and on files
written here, next to Tonic's readers (expelliarmus for Prophesee files, which Tonic has no
reader for). The datasets run on small folders in Tonic's layout built in tmp_path, next to
Tonic's own dataset classes on the same folders (their download check bypassed); every item
must be equal: structured dtype, values, target and order.
"""
from pathlib import Path
import struct

import h5py
import numpy as np
import pytest
import tonic
import tonic.transforms as tt
import torch

import snncpp.datasets as D
import snncpp.io as sio
import snncpp.transforms as T

from _events_helpers import EVENTS_STRUCT, GESTURE_DTYPE, HSD_DTYPE, NMNIST_DTYPE, assert_events_equal


def fixture(fixtures, name):
    path = fixtures / "events" / name
    assert path.is_file(), f"{path} missing from the shared fixtures"
    return str(path)


def assert_items_equal(ours, theirs):
    assert len(ours) == len(theirs) > 0
    for i in range(len(theirs)):
        (a, ta), (b, tb) = ours[i], theirs[i]
        assert_events_equal(a, b, f"item {i}")
        assert type(ta) is type(tb) and ta == tb, f"item {i}: target {ta!r} != {tb!r}"


# ---- readers --------------------------------------------------------------------------------

def test_read_mnist_file_equals_tonic_on_the_fixture(fixtures):
    path = fixture(fixtures, "sample_nmnist.bin")
    for dtype in (NMNIST_DTYPE, EVENTS_STRUCT, tonic.datasets.NMNIST.dtype):
        assert_events_equal(sio.read_mnist_file(path, dtype=dtype),
                            tonic.io.read_mnist_file(path, dtype=dtype))
    with open(path, "rb") as f:
        ours = sio.read_mnist_file(f, dtype=NMNIST_DTYPE, is_stream=True)
    with open(path, "rb") as f:
        assert_events_equal(ours, tonic.io.read_mnist_file(f, dtype=NMNIST_DTYPE, is_stream=True))
    # The counts of shared/README.md.
    assert len(ours) == 4325 and ours["t"][0] == 654 and ours["t"][-1] == 311_175
    assert sio.detect_format(path) == "nmnist"
    assert_events_equal(sio.read_events(path), sio.read_mnist_file(path, dtype=EVENTS_STRUCT))


def test_read_mnist_file_with_overflow_markers_equals_tonic(tmp_path):
    rng = np.random.default_rng(0)
    n = 3000
    x, y, p = rng.integers(0, 34, n), rng.integers(0, 34, n), rng.integers(0, 2, n)
    ts = rng.integers(0, 2**23, n)
    y[rng.random(n) < 0.05] = 240  # overflow markers
    raw = np.stack([x, y, (p << 7) | (ts >> 16), (ts >> 8) & 255, ts & 255], 1).astype(np.uint8)
    path = tmp_path / "overflow.bin"
    raw.tofile(path)
    assert_events_equal(sio.read_mnist_file(path, dtype=NMNIST_DTYPE),
                        tonic.io.read_mnist_file(str(path), dtype=NMNIST_DTYPE))


def test_read_events_evt2_fixture_equals_expelliarmus(fixtures):
    expelliarmus = pytest.importorskip("expelliarmus")
    path = fixture(fixtures, "evt2_sample.raw")
    ours, sensor = sio.read_events(path, return_sensor_size=True)
    assert sensor == (640, 480, 2) and ours.dtype == EVENTS_STRUCT
    theirs = expelliarmus.Wizard(encoding="evt2").read(path)
    assert len(ours) == len(theirs) == 539_481
    for name in "txyp":
        np.testing.assert_array_equal(ours[name].astype(np.int64), theirs[name].astype(np.int64))
    assert (ours["p"] == 0).sum() == 171_626 and ours["t"][0] == 1_317_888
    # Any dtype of fields t, x, y, p: e.g. expelliarmus' own.
    assert_events_equal(sio.read_events(path, "evt2", dtype=theirs.dtype), theirs)
    assert sio.detect_format(path) == "evt2"


def aedat_bytes(rng, n_packets):
    """An AEDAT 3.1 file of polarity packets: x, y, p, valid bit set, no timestamp overflow."""
    out = [b"#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n"]
    t = 0
    for _ in range(n_packets):
        n = int(rng.integers(1, 400))
        x, y, p = rng.integers(0, 128, n), rng.integers(0, 128, n), rng.integers(0, 2, n)
        ts = t + np.cumsum(rng.integers(0, 50, n))
        t = int(ts[-1])
        events = np.stack([(x << 17) | (y << 2) | (p << 1) | 1, ts], 1).astype("<u4")
        out.append(struct.pack("<hhiiiiii", 1, 1, 8, 4, 0, n, n, n) + events.tobytes())
    return b"".join(out)


def tonic_read_dvs_ibm(path):
    """tonic.io.read_dvs_ibm's steps with Tonic's own header and packet readers (its body
    unpacks two values from a three-value header in Tonic 1.7.0)."""
    from tonic.io import get_aer_events_from_file, make_structured_array, read_aedat_header_from_file
    with pytest.raises(ValueError):
        tonic.io.read_dvs_ibm(path)
    version, start, _ = read_aedat_header_from_file(path)
    ev = get_aer_events_from_file(path, version, start)
    addr = ev["address"]
    return (128, 128), make_structured_array((addr >> 17) & 0x1FFF, (addr >> 2) & 0x1FFF,
                                             ev["timeStamp"], (addr >> 1) & 0x1)


def test_read_dvs_ibm_and_dvs_gesture_equal_tonic(tmp_path):
    rng = np.random.default_rng(1)
    path = tmp_path / "user02_fluorescent.aedat"
    path.write_bytes(aedat_bytes(rng, 12))
    shape, ours = sio.read_dvs_ibm(path)
    want_shape, theirs = tonic_read_dvs_ibm(str(path))
    assert shape == want_shape
    assert_events_equal(ours, theirs)
    assert_events_equal(sio.read_events(path), theirs)
    t = theirs["t"]
    bounds = np.sort(rng.choice(np.arange(t[0], t[-1]), 6, replace=False))
    rows = [(3, bounds[0], bounds[1]), (11, bounds[2], bounds[4]), (1, bounds[3], bounds[5])]
    (tmp_path / "user02_fluorescent_labels.csv").write_text(
        "class,startTime_usec,endTime_usec\n" + "".join(f"{c},{s},{e}\n" for c, s, e in rows))
    gestures = sio.read_dvs_gesture(path)
    assert [g[1] for g in gestures] == [2, 10, 0]
    for (events, _), (_, s, e) in zip(gestures, rows):
        keep = (t >= s) & (t < e)
        assert keep.sum() > 0
        want = np.zeros(keep.sum(), GESTURE_DTYPE)
        for name in "xytp":
            want[name] = theirs[keep][name]
        assert_events_equal(events, want)


# ---- SHD / SSC ------------------------------------------------------------------------------

def write_hsd(path, rng, n, keys=(b"english-zero", b"german-neun")):
    """An HDF5 file in SHD's layout: float16 times in seconds, uint16 units."""
    with h5py.File(path, "w") as f:
        times = f.create_dataset("spikes/times", (n,), dtype=h5py.vlen_dtype(np.dtype(np.float16)))
        units = f.create_dataset("spikes/units", (n,), dtype=h5py.vlen_dtype(np.dtype(np.uint16)))
        for i in range(n):
            k = int(rng.integers(0 if i else 1, 3000))
            times[i] = np.sort(rng.random(k) * 1.4).astype(np.float16)
            units[i] = rng.integers(0, 700, k).astype(np.uint16)
        f["labels"] = rng.integers(0, 20, n).astype(np.uint8)
        f["extra/speaker"] = rng.integers(0, 12, n).astype(np.uint16)
        f["extra/keys"] = np.array(list(keys))


@pytest.fixture
def no_download(monkeypatch):
    """Tonic's datasets take the folders built here as downloaded."""
    for cls in (tonic.datasets.SHD, tonic.datasets.SSC, tonic.datasets.NMNIST,
                tonic.datasets.DVSGesture):
        monkeypatch.setattr(cls, "_check_exists", lambda self: True)


def test_shd_and_ssc_items_equal_tonic(tmp_path, no_download):
    rng = np.random.default_rng(2)
    (tmp_path / "SHD").mkdir()
    (tmp_path / "SSC").mkdir()
    write_hsd(tmp_path / "SHD" / "shd_train.h5", rng, 7)
    write_hsd(tmp_path / "SHD" / "shd_test.h5", rng, 3)
    write_hsd(tmp_path / "SSC" / "ssc_valid.h5", rng, 4, keys=(b"yes", b"no", b"up"))
    for ours, theirs in [(D.SHD(tmp_path), tonic.datasets.SHD(str(tmp_path))),
                         (D.SHD(tmp_path, train=False), tonic.datasets.SHD(str(tmp_path), train=False)),
                         (D.SSC(tmp_path, split="valid"), tonic.datasets.SSC(str(tmp_path), split="valid"))]:
        assert isinstance(ours, type(theirs)) and ours.dtype == theirs.dtype == HSD_DTYPE
        assert_items_equal(ours, theirs)
        assert ours[-1][0].shape == theirs[-1][0].shape
        assert list(ours.classes) == list(theirs.classes)
        np.testing.assert_array_equal(ours._speaker, theirs._speaker)
        assert ours.sensor_size == theirs.sensor_size == (700, 1, 1)
    np.testing.assert_array_equal(D.SHD(tmp_path).speaker, tonic.datasets.SHD(str(tmp_path)).speaker)
    with pytest.raises(IndexError):
        D.SHD(tmp_path)[7]
    # With transforms: snncpp's on snncpp's dataset, Tonic's on Tonic's.
    frame = dict(sensor_size=(700, 1, 1), time_window=100_000)
    ours = D.SHD(tmp_path, transform=T.ToFrame(**frame), target_transform=lambda t: t + 100)
    theirs = tonic.datasets.SHD(str(tmp_path), transform=tt.ToFrame(**frame),
                                target_transform=lambda t: t + 100)
    for i in range(len(theirs)):
        (a, ta), (b, tb) = ours[i], theirs[i]
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b) and ta == tb


def test_shd_in_a_dataloader_with_pad_tensors(tmp_path, no_download):
    (tmp_path / "SHD").mkdir()
    write_hsd(tmp_path / "SHD" / "shd_train.h5", np.random.default_rng(3), 6)

    def batches(dataset):
        loader = torch.utils.data.DataLoader(dataset, batch_size=3,
                                             collate_fn=tonic.collation.PadTensors())
        return list(loader)
    frame = dict(sensor_size=(700, 1, 1), time_window=50_000)
    ours = batches(D.SHD(tmp_path, transform=T.Compose([T.Downsample(spatial_factor=0.1),
                                                         T.ToFrame(**dict(frame, sensor_size=(70, 1, 1)))])))
    theirs = batches(tonic.datasets.SHD(str(tmp_path), transform=tt.Compose(
        [tt.Downsample(spatial_factor=0.1), tt.ToFrame(**dict(frame, sensor_size=(70, 1, 1)))])))
    assert len(ours) == len(theirs) == 2
    for (a, ta), (b, tb) in zip(ours, theirs):
        assert a.shape == b.shape and a.dtype == b.dtype and torch.equal(a, b) and torch.equal(ta, tb)


# ---- N-MNIST --------------------------------------------------------------------------------

def nmnist_folder(root, fixture_path):
    """Tonic's N-MNIST layout: NMNIST/{Train,Test}/<digit>/*.bin, from the fixture's records."""
    data = Path(fixture_path).read_bytes()
    records = lambda a, b: data[5 * a:5 * b]  # noqa: E731
    # Events around the first saccade's end (t = 1e5 µs), where first_saccade_only cuts.
    ts = np.array([99_998, 99_999, 100_000, 100_001, 150_000])
    edge = np.stack([ts % 34, ts % 31, (1 << 7) | (ts >> 16), (ts >> 8) & 255, ts & 255], 1)
    files = {"Train/0/00002.bin": data, "Train/0/00001.bin": records(0, 1500),
             "Train/5/00006.bin": edge.astype(np.uint8).tobytes(),
             "Train/3/00007.bin": records(1000, 4000), "Train/7/00003.bin": records(2000, 4325),
             "Test/1/00004.bin": records(0, 3000), "Test/9/00005.bin": data}
    for name, content in files.items():
        path = root / "NMNIST" / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(content)


@pytest.mark.parametrize("train", [True, False])
@pytest.mark.parametrize("kw", [{}, dict(first_saccade_only=True), dict(stabilize=True)],
                         ids=["plain", "first_saccade_only", "stabilize"])
def test_nmnist_items_equal_tonic(tmp_path, fixtures, no_download, train, kw):
    nmnist_folder(tmp_path, fixture(fixtures, "sample_nmnist.bin"))
    ours = D.NMNIST(tmp_path, train=train, **kw)
    theirs = tonic.datasets.NMNIST(str(tmp_path), train=train, **kw)
    assert len(ours) == (5 if train else 2)
    assert ours.data == theirs.data and ours.targets == theirs.targets
    assert_items_equal(ours, theirs)


def test_nmnist_with_transforms_equals_tonic(tmp_path, fixtures, no_download):
    nmnist_folder(tmp_path, fixture(fixtures, "sample_nmnist.bin"))

    def make(C):
        return C.Compose([C.CropTime(max=200_000), C.Downsample(spatial_factor=0.5),
                          C.ToFrame(sensor_size=(17, 17, 2), n_time_bins=5)])
    both = lambda e, t: (e[:, :1], t * 2)  # noqa: E731
    ours = D.NMNIST(tmp_path, transform=make(T), transforms=both)
    theirs = tonic.datasets.NMNIST(str(tmp_path), transform=make(tt), transforms=both)
    for i in range(len(theirs)):
        (a, ta), (b, tb) = ours[i], theirs[i]
        assert a.dtype == b.dtype and a.shape == b.shape and np.array_equal(a, b) and ta == tb


# ---- DVS Gesture ----------------------------------------------------------------------------

def gesture_folder(root, rng, npy_dtype):
    """Tonic's preprocessed DVS Gesture layout: one .npy per gesture, columns x, y, p, t (ms)."""
    for split, users in (("ibmGestureTrain", ("user01_fluorescent", "user02_led", "user10_lab")),
                         ("ibmGestureTest", ("user24_natural",))):
        for user in users:
            folder = root / "DVSGesture" / split / user
            folder.mkdir(parents=True)
            for label in rng.choice(11, 3, replace=False):
                n = int(rng.integers(50, 500))
                events = np.stack([rng.integers(0, 128, n), rng.integers(0, 128, n),
                                   rng.integers(0, 2, n), np.sort(rng.integers(0, 6000, n))], 1)
                np.save(folder / f"{label}.npy", events.astype(npy_dtype))


@pytest.mark.parametrize("npy_dtype", [np.float64, np.int64])
def test_dvs_gesture_items_equal_tonic(tmp_path, no_download, npy_dtype):
    gesture_folder(tmp_path, np.random.default_rng(4), npy_dtype)
    for train in (True, False):
        ours = D.DVSGesture(tmp_path, train=train)
        theirs = tonic.datasets.DVSGesture(str(tmp_path), train=train)
        assert ours.dtype == theirs.dtype == GESTURE_DTYPE
        assert ours.data == theirs.data and ours.targets == theirs.targets
        assert ours.users == theirs.users and ours.lighting == theirs.lighting
        assert_items_equal(ours, theirs)
    frame = dict(sensor_size=(128, 128, 2), time_window=1_000_000, include_incomplete=True)
    ours = D.DVSGesture(tmp_path, transform=T.ToFrame(**frame))
    theirs = tonic.datasets.DVSGesture(str(tmp_path), transform=tt.ToFrame(**frame))
    for i in range(len(theirs)):
        assert np.array_equal(ours[i][0], theirs[i][0]) and ours[i][1] == theirs[i][1]


# ---- missing files ------------------------------------------------------------------------

def test_missing_files_name_the_expected_path_and_the_source(tmp_path):
    for make, expected, source in [
            (lambda: D.SHD(tmp_path), tmp_path / "SHD" / "shd_train.h5", "shd_train.h5.zip"),
            (lambda: D.SSC(tmp_path, split="test"), tmp_path / "SSC" / "ssc_test.h5", "ssc_test.h5.zip"),
            (lambda: D.NMNIST(tmp_path, train=False), tmp_path / "NMNIST" / "Test", "test.zip"),
            (lambda: D.DVSGesture(tmp_path), tmp_path / "DVSGesture" / "ibmGestureTrain",
             "ibmGestureTrain.tar.gz")]:
        with pytest.raises(FileNotFoundError) as err:
            make()
        message = str(err.value)
        assert str(expected) in message and source in message and "does not download" in message
    with pytest.raises(ValueError, match="split must be"):
        D.SSC(tmp_path, split="dev")
    (tmp_path / "SHD").mkdir()
    write_hsd(tmp_path / "SHD" / "shd_train.h5", np.random.default_rng(5), 2)
    with pytest.raises(ValueError, match="use read_hsd"):
        sio.read_events(tmp_path / "SHD" / "shd_train.h5")
    events, label = sio.read_hsd(tmp_path / "SHD" / "shd_train.h5", 0)
    want, target = D.SHD(tmp_path)[0]
    assert_events_equal(events, want)
    assert label == target
