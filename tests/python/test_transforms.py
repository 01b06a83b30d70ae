"""snncpp.transforms against Tonic 1.7.0's transforms, computed here on the same events.

Deterministic transforms and representations must equal Tonic's (dtype, shape, values; float
surfaces to float32 precision) on random events in the dtypes Tonic's datasets give, audio
included. Random transforms cannot reproduce NumPy's draws: they are held to Tonic in their
deterministic limits and tested for reproducibility under np.random.seed and for their
statistics (each random output is checked to be one of the outputs the transform can give).
Where snncpp deliberately differs from a Tonic bug, both sides are shown.
"""
import numpy as np
import pytest
import tonic
import tonic.transforms as tt
import torch

import snncpp.transforms as T

from _events_helpers import (CONFIGS, IMAGE_CONFIGS, NMNIST_DTYPE, GESTURE_DTYPE,
                             assert_events_equal, event_keys, is_subsequence, random_events,
                             with_y, without_y)

CONFIG_IDS = [c[0] for c in CONFIGS]
IMAGE_IDS = [c[0] for c in IMAGE_CONFIGS]


def tonic_apply(transform, ev, audio_via_y=False):
    """Tonic's transform of a copy of the events; audio through a y = 0 field when Tonic's
    function needs one."""
    ev = ev.copy()
    if audio_via_y and "y" not in ev.dtype.names:
        return without_y(transform(with_y(ev)), ev.dtype)
    return transform(ev)


# ---- deterministic transforms: equal to Tonic's -----------------------------------------------

def deterministic_cases(sensor, has_y):
    """(id, Tonic's, ours, Tonic needs a y field, t0) for a sensor; ours built from the same
    arguments."""
    w, h, _ = sensor
    cases = [
        ("CropTime", dict(min=20_000, max=150_000), False),
        ("CropTime", dict(min=1000.5, max=99_999.9), False),
        ("Denoise", dict(filter_time=5000), True),
        ("RefractoryPeriod", dict(delta=1000), True),
        ("Decimation", dict(n=3), False),
        ("DropPixel", dict(coordinates=[(0, 0), (3, 0), (5, min(2, h - 1))]), True),
        # 1.5 times the mean rate of a pixel (2000 events in 0.2 s): a few pixels are hot.
        ("DropPixel", dict(hot_pixel_frequency=1.5 * 2000 / (w * h) / 0.2), True),
        ("Downsample", dict(time_factor=0.001, spatial_factor=0.5), False),
        ("Downsample", dict(time_factor=2.5, spatial_factor=(0.25, 0.5)), False),
        ("Downsample", dict(sensor_size=sensor, target_size=(w // 2, max(h // 3, 1))), False),
        ("MergePolarities", {}, False),
        ("TimeAlignment", {}, False),
        ("TimeSkew", dict(coefficient=1.3, offset=100), False),
        ("TimeSkew", dict(coefficient=(0.7, 0.7), offset=(-5.5, -5.5)), False),
        ("RandomFlipLR", dict(sensor_size=sensor, p=1), False),
        ("RandomFlipPolarity", dict(p=1), False),
        ("RandomTimeReversal", dict(p=1), False),
        ("RandomTimeReversal", dict(p=1, flip_polarities=False), False),
        ("TimeJitter", dict(std=0), False),
        ("DropEvent", dict(p=0.0), False),
        ("DropEventByTime", dict(duration_ratio=0.0), False),
    ]
    if has_y:
        cases += [
            ("RandomFlipUD", dict(sensor_size=sensor, p=1), False),
            ("SpatialJitter", dict(sensor_size=sensor, var_x=0, var_y=0, clip_outliers=True), False),
            ("CenterCrop", dict(sensor_size=sensor, size=(w // 2, h // 2 + 1)), False),
            ("CenterCrop", dict(sensor_size=sensor, size=w + 4), False),
            ("RandomCrop", dict(sensor_size=sensor, target_size=(w, h)), False),
            ("DropEventByArea", dict(sensor_size=sensor, area_ratio=0.0), False),
        ]
    return cases


@pytest.mark.parametrize("name,sensor,dtype", CONFIGS, ids=CONFIG_IDS)
def test_deterministic_transforms_equal_tonic(name, sensor, dtype):
    has_y = "y" in dtype.names
    ev = random_events(1, sensor, dtype, t0=5001)  # every t > filter_time, delta: no start-up quirk
    for cls, kw, audio_via_y in deterministic_cases(sensor, has_y):
        theirs_t, ours_t = getattr(tt, cls)(**kw), getattr(T, cls)(**kw)
        np.random.seed(0)
        want = tonic_apply(theirs_t, ev, audio_via_y)
        before = ev.copy()
        got = ours_t(ev)
        assert_events_equal(got, want, f"{name}: {ours_t!r}")
        assert_events_equal(ev, before, f"{name}: {ours_t!r} left its input alone")
        assert 0 < len(got) or cls == "CenterCrop"


@pytest.mark.parametrize("name,sensor,dtype", IMAGE_CONFIGS[:2], ids=IMAGE_IDS[:2])
@pytest.mark.parametrize("method", ["integrator", "differentiator"])
def test_event_downsampling_equals_tonic(name, sensor, dtype, method):
    ev = random_events(2, sensor, dtype, n=3000, duration=60_000)
    for target, dt, threshold, bins in [((17, 13), 1.0, 1, 2), ((8, 8), 2.5, 2, 3)]:
        kw = dict(sensor_size=sensor, target_size=target, downsampling_method=method, dt=dt,
                  noise_threshold=threshold, differentiator_time_bins=bins)
        want = tt.EventDownsampling(**kw)(ev.copy())
        got = T.EventDownsampling(**kw)(ev)
        assert len(want) > 0
        assert_events_equal(got, want, f"{name} {kw}")  # Tonic's int32 (x, y, p, t) dtype


def test_tonic_quirks_are_not_reproduced():
    """The documented differences: each a Tonic bug, shown on Tonic and absent here."""
    ev = random_events(3, (34, 34, 2), NMNIST_DTYPE, n=500, duration=100_000)
    # CropTime(max=None): Tonic bounds later samples by the first sample's last timestamp.
    crop, ours = tt.CropTime(), T.CropTime()
    crop(ev[:100].copy())
    assert len(crop(ev.copy())) < len(ev)
    assert_events_equal(ours(ev[:100]), ev[:100])
    assert_events_equal(ours(ev), ev)
    # Real-valued bounds: the integer timestamps inside them, as Tonic's comparisons.
    steps = np.zeros(31, NMNIST_DTYPE)
    steps["t"] = np.arange(31)
    for lo, hi in ((10.5, 20.5), (10, 20), (-3.5, 29.99)):
        assert_events_equal(T.CropTime(min=lo, max=hi)(steps), tt.CropTime(min=lo, max=hi)(steps.copy()))
    # Denoise: Tonic keeps an isolated event with t < filter_time.
    lone = np.array([(5, 5, 100, 1)], NMNIST_DTYPE)
    assert len(tt.Denoise(filter_time=10_000)(lone.copy())) == 1
    assert len(T.Denoise(filter_time=10_000)(lone)) == 0
    # RefractoryPeriod: Tonic drops a pixel's first event at t = 0.
    two = np.array([(3, 4, 0, 1), (3, 4, 5000, 1)], NMNIST_DTYPE)
    assert len(tt.RefractoryPeriod(delta=1000)(two.copy())) == 1
    assert_events_equal(T.RefractoryPeriod(delta=1000)(two), two)
    # ToFrame on a one-polarity sensor: Tonic sets the caller's p to 0.
    mono = random_events(4, (10, 10, 1), NMNIST_DTYPE, n=50)
    mono["p"] = 1
    copy = mono.copy()
    tt.ToFrame(sensor_size=(10, 10, 1), n_time_bins=2)(copy)
    assert (copy["p"] == 0).all()
    T.ToFrame(sensor_size=(10, 10, 1), n_time_bins=2)(mono)
    assert (mono["p"] == 1).all()


def test_transforms_work_on_audio_where_tonics_need_y():
    ev = random_events(5, (700, 1, 1), np.dtype([("t", int), ("x", int), ("p", int)]), t0=5001)
    with pytest.raises((ValueError, KeyError)):
        tt.Denoise(filter_time=5000)(ev.copy())
    want = without_y(tt.Denoise(filter_time=5000)(with_y(ev)), ev.dtype)
    assert_events_equal(T.Denoise(filter_time=5000)(ev), want)
    frames = T.ToTimesurface(sensor_size=(700, 1, 1), dt=20_000, tau=10_000)(ev)
    assert frames.dtype == np.float64 and frames.shape[1:] == (1, 700) and len(frames) >= 9


# ---- random transforms: reproducible, and only outputs the transform can give -------------------

def random_cases(sensor, has_y):
    w, h, _ = sensor
    cases = [T.TimeJitter(std=100), T.RandomTimeReversal(p=0.5), T.RandomFlipPolarity(p=0.5),
             T.RandomFlipLR(sensor_size=sensor, p=0.5), T.DropEvent(p=0.3),
             T.DropEvent(p=(0.1, 0.4)), T.DropEventByTime(duration_ratio=0.25),
             T.RefractoryPeriod(delta=(100, 3000)), T.TimeSkew(coefficient=(0.8, 1.2), offset=(0, 150)),
             T.UniformNoise(sensor_size=sensor, n=(10, 100))]
    if has_y:
        cases += [T.RandomFlipUD(sensor_size=sensor), T.SpatialJitter(sensor_size=sensor, clip_outliers=True),
                  T.RandomCrop(sensor_size=sensor, target_size=(w // 2, h // 2)),
                  T.DropEventByArea(sensor_size=sensor, area_ratio=(0.1, 0.3)),
                  T.EventDrop(sensor_size=sensor)]
    return cases


@pytest.mark.parametrize("name,sensor,dtype", CONFIGS, ids=CONFIG_IDS)
def test_random_transforms_are_reproducible_under_np_random_seed(name, sensor, dtype):
    ev = random_events(6, sensor, dtype, n=500)
    for t in random_cases(sensor, "y" in dtype.names):
        outs = []
        for seed in (1, 2, 1, 3, 4):
            np.random.seed(seed)
            state = np.random.get_state()[1].copy()
            outs.append(t(ev))
            assert not np.array_equal(state, np.random.get_state()[1]), f"{t!r} draws from numpy"
            assert outs[-1].dtype == ev.dtype
        assert_events_equal(outs[0], outs[2], f"{name}: {t!r}, same seed")
        others = [o for o in (outs[1], outs[3], outs[4])
                  if o.shape != outs[0].shape or not np.array_equal(o, outs[0])]
        assert others, f"{name}: {t!r} gives one output for every seed"


def test_deterministic_transforms_draw_nothing():
    ev = random_events(7, (34, 34, 2), NMNIST_DTYPE)
    np.random.seed(5)
    T.Compose([T.Denoise(filter_time=1000), T.Downsample(spatial_factor=0.5),
               T.ToFrame(sensor_size=(17, 17, 2), n_time_bins=3)])(ev)
    a = np.random.rand()
    np.random.seed(5)
    assert np.random.rand() == a


@pytest.mark.parametrize("cls,kw", [
    ("RandomFlipLR", dict(sensor_size=(16, 12, 2))), ("RandomFlipUD", dict(sensor_size=(16, 12, 2))),
    ("RandomFlipPolarity", {}), ("RandomTimeReversal", {})])
def test_random_flips_give_tonics_outputs_with_probability_p(cls, kw):
    ev = random_events(8, (16, 12, 2), GESTURE_DTYPE, n=60)
    flipped = getattr(tt, cls)(p=1, **kw)(ev.copy())
    ours = getattr(T, cls)(p=0.3, **kw)
    np.random.seed(0)
    n_flipped = 0
    for _ in range(300):
        out = ours(ev)
        if np.array_equal(out, flipped):
            n_flipped += 1
        else:
            assert_events_equal(out, ev)
    assert abs(n_flipped / 300 - 0.3) < 0.08


def test_drop_event_drops_tonics_count_keeping_order():
    ev = random_events(9, (34, 34, 2), NMNIST_DTYPE, n=1001)
    for p in (0.1, 0.5, 0.9):
        want = tt.DropEvent(p=p)(ev.copy())
        got = T.DropEvent(p=p)(ev)
        assert len(got) == len(want) == len(ev) - int(p * len(ev) + 0.5)
        assert is_subsequence(got, ev)
    np.random.seed(1)
    sizes = {len(T.DropEvent(p=(0.1, 0.4))(ev)) for _ in range(30)}
    assert len(sizes) > 10 and min(sizes) >= 0.6 * len(ev) - 1 and max(sizes) <= 0.9 * len(ev) + 1


def test_time_and_spatial_jitter_statistics_match_tonics():
    ev = random_events(10, (1000, 1000, 2), NMNIST_DTYPE, n=20_000, t0=1_000_000)
    ev["x"] = ev["x"] % 600 + 200
    ev["y"] = ev["y"] % 600 + 200
    np.random.seed(2)
    ours = T.TimeJitter(std=100, clip_negative=False)(ev)["t"] - ev["t"]
    theirs = tt.TimeJitter(std=100, clip_negative=False)(ev.copy())["t"] - ev["t"]
    for shift in (ours, theirs):
        assert abs(shift.mean()) < 3 and abs(shift.std() - 100) < 5
    srt = T.TimeJitter(std=100, sort_timestamps=True)(ev)
    assert (np.diff(srt["t"]) >= 0).all()
    kw = dict(sensor_size=(1000, 1000, 2), var_x=400, var_y=100, sigma_xy=100)
    ours = T.SpatialJitter(**kw)(ev)
    theirs = tt.SpatialJitter(**kw)(ev.copy())
    for out in (ours, theirs):
        d = np.stack([out["x"] - ev["x"], out["y"] - ev["y"]]).astype(float)
        np.testing.assert_allclose(np.cov(d), [[400, 100], [100, 100]], atol=15)


def test_random_crop_is_a_crop_at_some_corner():
    sensor, target = (34, 30, 2), (16, 9)
    ev = random_events(11, sensor, GESTURE_DTYPE)
    np.random.seed(3)
    corners = set()
    for _ in range(10):
        out = T.RandomCrop(sensor_size=sensor, target_size=target)(ev)
        match = []
        for x0 in range(sensor[0] - target[0] + 1):
            for y0 in range(sensor[1] - target[1] + 1):
                box = ev[(ev["x"] >= x0) & (ev["x"] < x0 + 16) & (ev["y"] >= y0) & (ev["y"] < y0 + 9)]
                if len(box) == len(out) and (box["x"] - x0 == out["x"]).all() and \
                        (box["y"] - y0 == out["y"]).all() and (box["t"] == out["t"]).all():
                    match.append((x0, y0))
        assert match, "the output is Tonic's crop at one corner"
        want = T.CropSpace(width=16, height=9, x=match[0][0], y=match[0][1])(ev)
        assert_events_equal(out, want)
        corners.add(match[0])
    assert len(corners) > 3


def test_refractory_period_range_is_tonics_at_a_drawn_delta():
    ev = random_events(12, (8, 8, 2), NMNIST_DTYPE, n=3000, duration=30_000, t0=1)
    candidates = {d: tt.RefractoryPeriod(delta=d)(ev.copy()) for d in range(40, 44)}
    np.random.seed(4)
    seen = set()
    for _ in range(12):
        out = T.RefractoryPeriod(delta=(40, 44))(ev)
        match = [d for d, want in candidates.items() if want.shape == out.shape and np.array_equal(want, out)]
        assert match
        seen.update(match)
    assert len(seen) > 1


def test_uniform_noise_drop_by_time_drop_by_area_and_event_drop():
    sensor = (34, 20, 2)
    ev = random_events(13, sensor, NMNIST_DTYPE, n=3000, t0=5000)
    np.random.seed(6)
    out = T.UniformNoise(sensor_size=sensor, n=500)(ev)
    assert len(out) == len(ev) + 500 == len(tt.UniformNoise(sensor_size=sensor, n=500)(ev.copy()))
    assert (np.diff(out["t"]) >= 0).all() and is_subsequence(ev, out)
    assert out["t"].min() >= ev["t"].min() and out["x"].max() < 34 and out["y"].max() < 20
    assert set(np.unique(out["p"])) == {0, 1}
    t_max = ev["t"].max()
    for _ in range(10):
        out = T.DropEventByTime(duration_ratio=0.25)(ev)
        dropped = ev[~np.isin(event_keys(ev), event_keys(out))]["t"]
        assert 0 < len(dropped) and dropped.max() - dropped.min() <= 0.25 * t_max
        assert ((ev["t"] >= dropped.min()) & (ev["t"] <= dropped.max())).sum() == len(dropped)
        out = T.DropEventByArea(sensor_size=sensor, area_ratio=0.3)(ev)
        dropped = ev[~np.isin(event_keys(ev), event_keys(out))]
        x0, y0 = dropped["x"].min(), dropped["y"].min()
        assert dropped["x"].max() - x0 < int(34 * 0.3) and dropped["y"].max() - y0 < int(20 * 0.3)
        in_box = (ev["x"] >= x0) & (ev["x"] < x0 + int(34 * 0.3)) & (ev["y"] >= y0) & \
            (ev["y"] < y0 + int(20 * 0.3))
        assert in_box.sum() == len(dropped)
    unchanged = np.mean([len(T.EventDrop(sensor_size=sensor)(ev)) == len(ev) for _ in range(200)])
    tonic_unchanged = np.mean([len(tt.EventDrop(sensor_size=sensor)(ev.copy())) == len(ev)
                               for _ in range(200)])
    assert abs(unchanged - 0.25) < 0.1 and abs(tonic_unchanged - 0.25) < 0.1


# ---- representations: equal to Tonic's ---------------------------------------------------------

FRAME_CASES = [
    dict(time_window=10_000), dict(time_window=7_000.5, overlap=1_000),
    dict(time_window=9_000, overlap=3_000, include_incomplete=True),
    dict(time_window=5_000, start_time=-20_000, end_time=250_000),
    dict(event_count=500), dict(event_count=700, overlap=100, include_incomplete=True),
    dict(n_time_bins=7), dict(n_time_bins=10, overlap=0.3),
    dict(n_event_bins=9), dict(n_event_bins=6, overlap=0.5),
]


@pytest.mark.parametrize("name,sensor,dtype", CONFIGS, ids=CONFIG_IDS)
def test_to_frame_image_and_sparse_tensor_equal_tonic(name, sensor, dtype):
    ev = random_events(14, sensor, dtype)
    for kw in FRAME_CASES:
        want = tt.ToFrame(sensor_size=sensor, **kw)(ev.copy())
        got = T.ToFrame(sensor_size=sensor, **kw)(ev)
        assert got.dtype == want.dtype == np.int16 and got.shape == want.shape, kw
        np.testing.assert_array_equal(got, want, err_msg=str(kw))
    sparse_kw = [k for k in FRAME_CASES if "start_time" not in k]
    for kw in sparse_kw[::2]:
        want = tt.ToSparseTensor(sensor_size=sensor, **kw)(ev.copy())
        got = T.ToSparseTensor(sensor_size=sensor, **kw)(ev)
        assert got.is_sparse and got.is_coalesced() and got.dtype == want.dtype == torch.int16
        want = want.coalesce()
        assert got.shape == want.shape and torch.equal(got.indices(), want.indices())
        assert torch.equal(got.values(), want.values())
    want = tt.ToImage(sensor_size=sensor)(ev.copy())
    got = T.ToImage(sensor_size=sensor)(ev)
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)


@pytest.mark.parametrize("name,sensor,dtype", CONFIGS, ids=CONFIG_IDS)
def test_to_frame_infers_the_sensor_as_tonic(name, sensor, dtype):
    ev = random_events(15, sensor, dtype, n=300)
    for kw in (dict(n_time_bins=3), dict(event_count=100)):
        want = tt.ToFrame(sensor_size=None, **kw)(ev.copy())
        got = T.ToFrame(sensor_size=None, **kw)(ev)
        assert got.shape == want.shape and got.dtype == want.dtype
        np.testing.assert_array_equal(got, want)


def test_to_frame_counts_do_not_wrap_and_empty_events_give_zero_frames():
    n = 40_000
    ev = np.zeros(n, NMNIST_DTYPE)
    ev["t"], ev["x"], ev["y"], ev["p"] = np.arange(n), 2, 1, 1
    assert tt.ToFrame(sensor_size=(4, 4, 2), n_event_bins=1)(ev.copy())[0, 1, 1, 2] != n, "Tonic wraps"
    with pytest.raises(OverflowError, match="dtype=np.int32"):
        T.ToFrame(sensor_size=(4, 4, 2), n_event_bins=1)(ev)
    frames = T.ToFrame(sensor_size=(4, 4, 2), n_event_bins=1, dtype=np.int32)(ev)
    assert frames.dtype == np.int32 and frames[0, 1, 1, 2] == n
    assert T.ToImage(sensor_size=(4, 4, 2), dtype=np.int32)(ev)[1, 1, 2] == n
    sparse = T.ToSparseTensor(sensor_size=(4, 4, 2), n_event_bins=1, dtype=torch.int32)(ev)
    assert sparse.to_dense()[0, 1, 1, 2] == n
    empty = ev[:0]
    assert tt.ToFrame(sensor_size=(10, 4, 2), n_time_bins=3)(empty.copy()).shape == (3, 2, 10, 4)
    got = T.ToFrame(sensor_size=(10, 4, 2), n_time_bins=3)(empty)
    assert got.shape == (3, 2, 4, 10) and got.dtype == np.int16 and not got.any()
    assert not T.ToImage(sensor_size=(10, 4, 2))(empty).any()
    with pytest.raises(ValueError, match="Single polarity sensor"):
        T.ToFrame(sensor_size=(4, 4, 1), n_time_bins=1)(np.array([(1, 1, 0, 0), (1, 1, 5, 1)],
                                                                 NMNIST_DTYPE))


@pytest.mark.parametrize("name,sensor,dtype", [c for c in IMAGE_CONFIGS if c[1][2] == 2],
                         ids=[c[0] for c in IMAGE_CONFIGS if c[1][2] == 2])
def test_voxel_grid_and_timesurfaces_equal_tonic(name, sensor, dtype):
    ev = random_events(16, sensor, dtype, n=1500)
    int_p = ev.astype(np.dtype([(k, np.int64) for k in ev.dtype.names]))
    for n_bins in (1, 5):
        # Tonic's own voxel grid is right for integer p only (see the next test).
        want = tt.ToVoxelGrid(sensor_size=sensor, n_time_bins=n_bins)(int_p.copy())
        got = T.ToVoxelGrid(sensor_size=sensor, n_time_bins=n_bins)(ev)
        assert got.dtype == want.dtype == np.float64 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-6)
    for dt, tau in ((10_000, 5_000), (7_777.5, 20_000)):
        want = tt.ToTimesurface(sensor_size=sensor, dt=dt, tau=tau)(ev.copy())
        got = T.ToTimesurface(sensor_size=sensor, dt=dt, tau=tau)(ev)
        assert got.dtype == want.dtype == np.float64 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-6, atol=1e-7)
    small = ev[:400]
    for kw in (dict(), dict(surface_size=3, cell_size=8, time_window=20_000, tau=5_000, decay="lin")):
        want = tt.ToAveragedTimesurface(sensor_size=sensor, **kw)(small.copy())
        got = T.ToAveragedTimesurface(sensor_size=sensor, **kw)(small)
        assert got.dtype == want.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)


def test_voxel_grid_counts_off_events_whatever_the_polarity_dtype():
    """Tonic's p[p == 0] = -1 gives +1 for bool p (and 255 for uint8 p); snncpp gives -1."""
    ev = random_events(17, (20, 10, 2), GESTURE_DTYPE, n=500)
    int_p = ev.astype(np.dtype([(k, np.int64) for k in ev.dtype.names]))
    right = tt.ToVoxelGrid(sensor_size=(20, 10, 2), n_time_bins=3)(int_p.copy())
    wrong = tt.ToVoxelGrid(sensor_size=(20, 10, 2), n_time_bins=3)(ev.copy())
    assert wrong.min() >= 0 and right.min() < 0, "Tonic's bug on bool p"
    for events in (ev, int_p):
        np.testing.assert_allclose(T.ToVoxelGrid(sensor_size=(20, 10, 2), n_time_bins=3)(events),
                                   right, rtol=1e-6, atol=1e-6)


@pytest.mark.parametrize("name,sensor,dtype", IMAGE_CONFIGS, ids=IMAGE_IDS)
def test_to_bina_rep_equals_tonics_pipeline(name, sensor, dtype):
    ev = random_events(18, sensor, dtype, n=1500)
    for n_frames, n_bits in ((1, 8), (3, 4)):
        frame = dict(sensor_size=sensor, n_time_bins=n_frames * n_bits)
        frames = tt.ToFrame(**frame)(ev.copy())
        want = tt.ToBinaRep(n_frames=n_frames, n_bits=n_bits)(frames)
        # On frames: Tonic's own; on events with a sensor size: one op; in a Compose: fused.
        np.testing.assert_array_equal(T.ToBinaRep(n_frames=n_frames, n_bits=n_bits)(frames), want)
        got = T.ToBinaRep(n_frames=n_frames, n_bits=n_bits, sensor_size=sensor)(ev)
        assert got.dtype == want.dtype == np.float32 and got.shape == want.shape
        np.testing.assert_array_equal(got, want)
        got = T.Compose([T.ToFrame(**frame), T.ToBinaRep(n_frames=n_frames, n_bits=n_bits)])(ev)
        np.testing.assert_array_equal(got, want)


# ---- Compose ------------------------------------------------------------------------------------

def pipeline(C, sensor=(34, 34, 2)):
    return [C.CropTime(min=30_000, max=180_000), C.Denoise(filter_time=20_000),
            C.Downsample(spatial_factor=0.5), C.RefractoryPeriod(delta=300),
            C.RandomFlipLR(sensor_size=(17, 17, 2), p=1), C.MergePolarities(),
            C.ToFrame(sensor_size=(17, 17, 1), time_window=20_000)]


class CountingOps:
    """Counts the calls of snncpp.transforms' ops."""

    def __init__(self, monkeypatch):
        self.transform = self.dense = 0
        transform, dense = T._transform_op, T._dense_op

        def counted_transform(*args):
            self.transform += 1
            return transform(*args)

        def counted_dense(*args):
            self.dense += 1
            return dense(*args)
        monkeypatch.setattr(T, "_transform_op", counted_transform)
        monkeypatch.setattr(T, "_dense_op", counted_dense)


@pytest.mark.parametrize("name,sensor,dtype", IMAGE_CONFIGS[:3], ids=IMAGE_IDS[:3])
def test_compose_equals_tonics_in_one_op_call(monkeypatch, name, sensor, dtype):
    ev = random_events(19, (34, 34, 2), dtype, t0=20_001)
    want = tt.Compose(pipeline(tt))(ev.copy())
    calls = CountingOps(monkeypatch)
    got = T.Compose(pipeline(T))(ev)
    assert (calls.transform, calls.dense) == (1, 1), "one fused transform op, one frame op"
    assert got.dtype == want.dtype and got.shape == want.shape
    np.testing.assert_array_equal(got, want)
    # Tonic's Compose calling snncpp's transforms one by one: the same frames.
    np.testing.assert_array_equal(tt.Compose(pipeline(T))(ev), want)
    # Without the representation: events of the input dtype.
    want = tt.Compose(pipeline(tt)[:-1])(ev.copy())
    assert_events_equal(T.Compose(pipeline(T)[:-1])(ev), want)


def test_compose_falls_back_to_one_call_per_member_when_sensors_disagree(monkeypatch):
    ev = random_events(20, (34, 34, 2), NMNIST_DTYPE)
    for flip_sensor, n_calls in (((17, 17, 2), 1), ((34, 34, 2), 2)):
        members = lambda C: [C.Downsample(spatial_factor=0.5),  # noqa: E731
                             C.RandomFlipLR(sensor_size=flip_sensor, p=1)]
        want = tt.Compose(members(tt))(ev.copy())
        calls = CountingOps(monkeypatch)
        assert_events_equal(T.Compose(members(T))(ev), want)
        assert calls.transform == n_calls
    # The declared sensor of a later member sizes a fused run's input.
    calls = CountingOps(monkeypatch)
    members = lambda C: [C.Denoise(filter_time=1000), C.UniformNoise(sensor_size=(40, 40, 3), n=0),  # noqa: E731
                         C.RandomFlipLR(sensor_size=(40, 40, 3), p=1)]
    want = tt.Compose(members(tt))(ev[ev["t"] > 1000].copy())
    got = T.Compose(members(T))(ev[ev["t"] > 1000])
    assert calls.transform == 1
    assert len(got) == len(want) and np.array_equal(np.sort(event_keys(got)), np.sort(event_keys(want)))


def test_compose_mixes_other_callables_and_runs_on_empty_events():
    ev = random_events(21, (34, 34, 2), NMNIST_DTYPE, t0=10_001)
    every_other = lambda e: e[::2]  # noqa: E731
    members = lambda C: [C.Denoise(filter_time=10_000), every_other,  # noqa: E731
                         C.Downsample(spatial_factor=0.5), tt.NumpyAsType(int)]
    np.testing.assert_array_equal(T.Compose(members(T))(ev), tt.Compose(members(tt))(ev.copy()))
    # Tonic's Compose stops at the first empty result; snncpp's runs ToFrame on it.
    theirs = tt.Compose([tt.CropTime(min=10**9), tt.ToFrame(sensor_size=(34, 34, 2), n_time_bins=3)])
    assert theirs(ev.copy()).dtype.names is not None, "Tonic returns empty events (its bug)"
    frames = T.Compose([T.CropTime(min=10**9), T.ToFrame(sensor_size=(34, 34, 2), n_time_bins=3)])(ev)
    assert frames.shape == (3, 2, 34, 34) and not frames.any()


def test_random_compose_is_reproducible():
    ev = random_events(22, (34, 34, 2), NMNIST_DTYPE)
    c = T.Compose([T.DropEvent(p=0.2), T.TimeJitter(std=50), T.RandomFlipLR(sensor_size=(34, 34, 2)),
                   T.ToFrame(sensor_size=(34, 34, 2), n_time_bins=4)])
    np.random.seed(7)
    a = c(ev)
    np.random.seed(7)
    b = c(ev)
    np.random.seed(8)
    d = c(ev)
    assert np.array_equal(a, b) and not np.array_equal(a, d)
    assert 0.7 * len(ev) < a.sum() <= len(ev) - int(0.2 * len(ev) + 0.5)


def test_sensor_propagation_matches_the_ops():
    """The sensors the fused Compose relies on are those the ops produce."""
    ev = random_events(23, (34, 30, 2), NMNIST_DTYPE)
    cols = T._columns(ev)
    for t in [T.Downsample(spatial_factor=0.5), T.Downsample(spatial_factor=(1 / 3, 0.7)),
              T.Downsample(sensor_size=(34, 30, 2), target_size=(10, 7)), T.MergePolarities(),
              T.CenterCrop(sensor_size=(34, 30, 2), size=12), T.CropSpace(width=5, height=6, x=2),
              T.RandomCrop(sensor_size=(34, 30, 2), target_size=(9, 9)),
              T.EventDownsampling(sensor_size=(34, 30, 2), target_size=(6, 5), dt=1.0,
                                  downsampling_method="integrator", noise_threshold=1),
              T.Denoise(filter_time=100), T.UniformNoise(sensor_size=(34, 30, 2), n=5)]:
        out = T._apply([t], cols, (34, 30, 2))
        assert out.sensor == t._out_sensor((34, 30, 2)), t


# ---- Tonic's interfaces: DataLoader, repr, spec, from_tonic, errors -----------------------------

class ListDataset(torch.utils.data.Dataset):
    def __init__(self, samples, transform):
        self.samples, self.transform = samples, transform

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        return self.transform(self.samples[i]), i % 10


@pytest.mark.parametrize("workers", [0, 2])
def test_dataloader_with_pad_tensors(workers):
    samples = [random_events(30 + k, (34, 34, 2), NMNIST_DTYPE, n=300 + 50 * k,
                             duration=50_000 + 20_000 * k) for k in range(6)]

    def batches(C):
        transform = C.Compose([C.Downsample(spatial_factor=0.5),
                               C.ToFrame(sensor_size=(17, 17, 2), time_window=10_000)])
        loader = torch.utils.data.DataLoader(ListDataset(samples, transform), batch_size=3,
                                             collate_fn=tonic.collation.PadTensors(),
                                             num_workers=workers)
        return list(loader)
    ours, theirs = batches(T), batches(tt)
    assert len(ours) == len(theirs) == 2
    for (a, ta), (b, tb) in zip(ours, theirs):
        assert a.dtype == b.dtype and a.shape == b.shape and torch.equal(a, b) and torch.equal(ta, tb)


def test_repr_spec_and_from_tonic():
    pairs = [(tt.Denoise(filter_time=1000), T.Denoise(filter_time=1000)),
             (tt.ToFrame(sensor_size=(3, 3, 2), n_time_bins=3), T.ToFrame(sensor_size=(3, 3, 2), n_time_bins=3)),
             (tt.RandomFlipLR(sensor_size=(3, 3, 2)), T.RandomFlipLR(sensor_size=(3, 3, 2))),
             (tt.ToBinaRep(), T.ToBinaRep()), (tt.CropTime(max=5), T.CropTime(max=5))]
    for theirs, ours in pairs:
        assert repr(ours) == repr(theirs) and isinstance(ours, type(theirs))
        assert type(T.from_tonic(theirs)) is type(ours) and T.from_tonic(theirs) == ours
    assert T.Downsample(spatial_factor=0.5).spec == \
        "Downsample(time_factor=1, spatial_factor=(0.5, 0.5), target_size=none)"
    assert T.CropTime(min=0.5, max=99.9).spec == "CropTime(min=1, max=99)"
    assert T.ToFrame(sensor_size=None, n_time_bins=3).spec.startswith("ToFrame(time_window=none")
    assert T.Compose([T.Denoise(filter_time=5), T.MergePolarities()]).spec == \
        "Compose([Denoise(filter_time=5), MergePolarities()])"
    assert T.Compose([T.Denoise(filter_time=5), tt.MergePolarities()]).spec is None
    converted = T.from_tonic(tt.Compose([tt.Denoise(filter_time=5), tt.NumpyAsType(int)]))
    assert isinstance(converted, T.Compose) and type(converted.transforms[0]) is T.Denoise
    assert type(converted.transforms[1]) is tt.NumpyAsType
    assert T.NumpyAsType is tt.NumpyAsType and T.RandomDropPixel is tt.RandomDropPixel
    for name in T.__all__:
        assert getattr(T, name) is not None


def test_bad_input_and_parameters_are_errors():
    ev = random_events(24, (34, 34, 2), NMNIST_DTYPE, n=100)
    with pytest.raises(TypeError, match="field 't' has dtype float64"):
        T.Denoise(filter_time=10)(ev.astype([("x", int), ("y", int), ("t", float), ("p", int)]))
    with pytest.raises(ValueError, match="expected a 1-D structured array"):
        T.Denoise(filter_time=10)(np.zeros(3, [("x", int), ("y", int), ("t", int), ("p", int), ("q", int)]))
    with pytest.raises(RuntimeError, match="outside the sensor"):
        T.RandomFlipLR(sensor_size=(20, 20, 2))(ev)
    with pytest.raises(ValueError, match="n must be >= 1"):
        T.Decimation(n=0)
    with pytest.raises(ValueError, match="target_size needs sensor_size"):
        T.Downsample(target_size=(3, 3))
    frames = tt.ToFrame(sensor_size=(34, 34, 2), n_time_bins=2)(ev.copy())
    # Frames go to Tonic's own code where Tonic's class takes them.
    np.random.seed(0)
    want = tt.RandomTimeReversal(p=1)(frames)
    np.testing.assert_array_equal(T.RandomTimeReversal(p=1)(frames), want)
    np.testing.assert_array_equal(T.DropPixel(coordinates=[(1, 1)])(frames.copy()),
                                  tt.DropPixel(coordinates=[(1, 1)])(frames.copy()))
