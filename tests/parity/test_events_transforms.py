"""Event transforms, dense representations and slicers: snn.cpp against Tonic (the oracle).

Every deterministic transform, representation and slicer is run on the same events through
Tonic 1.7.0 and through torch.ops.snn (libsnn.so), and the results must be equal (frames
and events exactly, float surfaces to 1e-5). Random transforms are held to Tonic in their
deterministic limits (p = 1, std = 0, ...) and tested for their statistics. Where snn.cpp
fixes a plain Tonic bug, both sides are tested: Tonic shows the bug, snn.cpp does not.
"""

import numpy as np
import pytest
import tonic
import tonic.slicers as ts
import tonic.transforms as tt
import torch

from event_helpers import (assert_events_equal, call_spec, from_tonic, ours, random_events,
                           to_tonic)


# (sensor (W, H, P), has_y)
SENSORS = [((34, 34, 2), True), ((17, 5, 2), True), ((40, 30, 1), True), ((64, 1, 2), False),
           ((700, 1, 1), False)]
SENSOR_IDS = ["34x34x2", "17x5x2", "40x30x1", "audio64x2", "audio700x1"]


# ---- helpers ---------------------------------------------------------------------------------

def as_image(ev, sensor):
    """Audio events as an image of height 1, for Tonic functions that need a y field."""
    return to_tonic(ev, True), (sensor[0], 1, sensor[2])


# ---- event transforms ------------------------------------------------------------------------

@pytest.mark.parametrize("sensor,has_y", SENSORS, ids=SENSOR_IDS)
@pytest.mark.parametrize("lo,hi", [(0, 100_000), (50_000, 50_000), (1234, 180_000), (-10, None)])
def test_crop_time(snn_ops, sensor, has_y, lo, hi):
    ev = random_events(1, sensor, has_y)
    want = from_tonic(tt.CropTime(min=lo, max=hi)(to_tonic(ev, has_y)))
    spec = f"CropTime(min={lo}, max={'none' if hi is None else hi})"
    got, s = ours(snn_ops, ev, sensor, has_y, spec)
    assert_events_equal(got, want)
    assert s == sensor


def test_crop_time_without_max_bounds_each_sample_by_itself(snn_ops):
    """Tonic's CropTime() keeps the first sample's max for later samples; ours does not."""
    sensor = (34, 34, 2)
    short = random_events(2, sensor, True, duration=10_000)
    long = random_events(3, sensor, True, duration=100_000)
    crop = tt.CropTime()
    crop(to_tonic(short, True))
    tonic_long = crop(to_tonic(long, True))
    assert len(tonic_long) < len(long), "Tonic should drop the later sample's events (its bug)"
    got, _ = ours(snn_ops, long, sensor, True, "CropTime()")
    assert_events_equal(got, long)


@pytest.mark.parametrize("sensor,has_y", SENSORS, ids=SENSOR_IDS)
@pytest.mark.parametrize("time_factor,spatial", [(1, 0.5), (0.001, (0.25, 0.5)), (2.5, 1 / 3),
                                                 (1, 1)])
def test_downsample(snn_ops, sensor, has_y, time_factor, spatial):
    ev = random_events(4, sensor, has_y)
    want = from_tonic(tt.Downsample(time_factor=time_factor, spatial_factor=spatial)(
        to_tonic(ev, has_y)))
    fx, fy = spatial if isinstance(spatial, tuple) else (spatial, spatial)
    spec = f"Downsample(time_factor={time_factor!r}, spatial_factor=({fx!r}, {fy!r}))"
    got, s = ours(snn_ops, ev, sensor, has_y, spec)
    assert_events_equal(got, want)
    assert got[:, 1].max() < s[0] and (not has_y or got[:, 2].max() < s[1]), "events fit the new sensor"


@pytest.mark.parametrize("target", [(17, 17), (10, 7), (34, 34)])
def test_downsample_to_target_size(snn_ops, target):
    sensor = (34, 34, 2)
    ev = random_events(5, sensor, True)
    want = from_tonic(tt.Downsample(sensor_size=sensor, target_size=target)(to_tonic(ev, True)))
    got, s = ours(snn_ops, ev, sensor, True, f"Downsample(target_size={target})")
    assert_events_equal(got, want)
    assert s == (*target, 2)


@pytest.mark.parametrize("sensor,has_y", SENSORS, ids=SENSOR_IDS)
@pytest.mark.parametrize("filter_time", [1000, 5000.5, 30_000])
def test_denoise(snn_ops, sensor, has_y, filter_time):
    # Every t >= filter_time: Tonic's start-up quirk (see the next test) plays no part.
    ev = random_events(6, sensor, has_y, t0=int(filter_time) + 1)
    s, img = as_image(ev, sensor)
    want = from_tonic(tt.Denoise(filter_time=filter_time)(s))
    got, _ = ours(snn_ops, ev, sensor, has_y, f"Denoise(filter_time={filter_time})")
    assert 0 < len(got) < len(ev)
    assert_events_equal(got, want)


def test_denoise_keeps_no_event_without_a_neighbour(snn_ops):
    """Tonic treats every pixel as having fired at t=0, so an isolated early event passes."""
    ev = torch.tensor([[100, 5, 5, 1]])
    assert len(tt.Denoise(filter_time=10_000)(to_tonic(ev, True))) == 1, "Tonic keeps it (its bug)"
    got, _ = ours(snn_ops, ev, (34, 34, 2), True, "Denoise(filter_time=10000)")
    assert len(got) == 0


@pytest.mark.parametrize("sensor,has_y", SENSORS, ids=SENSOR_IDS)
@pytest.mark.parametrize("delta", [0, 500, 20_000.5])
def test_refractory_period(snn_ops, sensor, has_y, delta):
    ev = random_events(7, sensor, has_y, t0=1)  # every t > 0, see the next test
    s, _ = as_image(ev, sensor)
    want = from_tonic(tt.RefractoryPeriod(delta=delta)(s))
    got, _ = ours(snn_ops, ev, sensor, has_y, f"RefractoryPeriod(delta={delta})")
    assert_events_equal(got, want)


def test_refractory_period_keeps_a_pixels_first_event_at_time_zero(snn_ops):
    ev = torch.tensor([[0, 3, 4, 1], [5000, 3, 4, 1]])
    assert len(tt.RefractoryPeriod(delta=1000)(to_tonic(ev, True))) == 1, "Tonic drops t=0 (bug)"
    got, _ = ours(snn_ops, ev, (34, 34, 2), True, "RefractoryPeriod(delta=1000)")
    assert_events_equal(got, ev)


@pytest.mark.parametrize("sensor,has_y", SENSORS, ids=SENSOR_IDS)
def test_deterministic_transforms(snn_ops, sensor, has_y):
    ev = random_events(8, sensor, has_y)
    img, img_sensor = as_image(ev, sensor)
    cases = [
        (tt.MergePolarities(), "MergePolarities()", to_tonic(ev, has_y)),
        (tt.TimeSkew(coefficient=1.3, offset=100), "TimeSkew(coefficient=1.3, offset=100)",
         to_tonic(ev, has_y)),
        (tt.TimeSkew(coefficient=0.7, offset=-5.5), "TimeSkew(coefficient=0.7, offset=-5.5)",
         to_tonic(ev, has_y)),
        (tt.TimeAlignment(), "TimeAlignment()", to_tonic(ev, has_y)),
        (tt.Decimation(n=3), "Decimation(n=3)", img),
        (tt.RandomFlipLR(sensor_size=sensor, p=1), "RandomFlipLR(p=1)", to_tonic(ev, has_y)),
        (tt.RandomFlipLR(sensor_size=sensor, p=0), "RandomFlipLR(p=0)", to_tonic(ev, has_y)),
        (tt.RandomFlipPolarity(p=1), "RandomFlipPolarity(p=1)", to_tonic(ev, has_y)),
        (tt.RandomTimeReversal(p=1), "RandomTimeReversal(p=1)", to_tonic(ev, has_y)),
        (tt.RandomTimeReversal(p=1, flip_polarities=False),
         "RandomTimeReversal(p=1, flip_polarities=false)", to_tonic(ev, has_y)),
        (tt.TimeJitter(std=0), "TimeJitter(std=0)", to_tonic(ev, has_y)),
        (tt.DropEvent(p=0.0), "DropEvent(p=0)", to_tonic(ev, has_y)),
        (tt.DropPixel(coordinates=[(0, 0), (3, 0), (5, 2)]),
         "DropPixel(coordinates=[(0, 0), (3, 0), (5, 2)])", img),
    ]
    if has_y:
        cases += [
            (tt.RandomFlipUD(sensor_size=sensor, p=1), "RandomFlipUD(p=1)", to_tonic(ev, True)),
            (tt.SpatialJitter(sensor_size=sensor, var_x=0, var_y=0, clip_outliers=True),
             "SpatialJitter(var_x=0, var_y=0, clip_outliers=true)", to_tonic(ev, True)),
        ]
    for tonic_t, spec, data in cases:
        np.random.seed(0)
        want = from_tonic(tonic_t(data))
        got, s = ours(snn_ops, ev, sensor, has_y, spec)
        assert got.shape == want.shape and torch.equal(got, want), spec
    _, s = ours(snn_ops, ev, sensor, has_y, "MergePolarities()")
    assert s == (sensor[0], sensor[1], 1)


@pytest.mark.parametrize("frequency", [5, 20, 60])
def test_drop_hot_pixels(snn_ops, frequency):
    sensor = (16, 12, 2)
    ev = random_events(9, sensor, True, n=4000, duration=1_000_000)
    # A few hot pixels.
    hot = torch.tensor([[t, 3, 4, 1] for t in range(0, 1_000_000, 5_000)])
    ev = torch.cat([ev, hot])
    ev = ev[torch.argsort(ev[:, 0], stable=True)]
    want = from_tonic(tt.DropPixel(hot_pixel_frequency=frequency)(to_tonic(ev, True)))
    got, _ = ours(snn_ops, ev, sensor, True, f"DropPixel(hot_pixel_frequency={frequency})")
    assert len(got) < len(ev)
    assert_events_equal(got, want)


@pytest.mark.parametrize("size", [(10, 12), (34, 34), (40, 20), (7, 50)])
def test_center_crop(snn_ops, size):
    sensor = (34, 30, 2)
    ev = random_events(10, sensor, True)
    want = from_tonic(tt.CenterCrop(sensor_size=sensor, size=list(size))(to_tonic(ev, True)))
    got, s = ours(snn_ops, ev, sensor, True, f"CenterCrop(size={size})")
    assert_events_equal(got, want)
    assert s == (*size, 2)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_crop_space_is_tonics_random_crop_at_the_drawn_corner(snn_ops, seed):
    sensor, target = (34, 30, 2), (16, 9)
    ev = random_events(11, sensor, True)
    np.random.seed(seed)
    x0 = int(np.random.rand() * (sensor[0] - target[0]))
    y0 = int(np.random.rand() * (sensor[1] - target[1]))
    np.random.seed(seed)
    want = from_tonic(tt.RandomCrop(sensor_size=sensor, target_size=target)(to_tonic(ev, True)))
    got, s = ours(snn_ops, ev, sensor, True,
                  f"CropSpace(x={x0}, y={y0}, width={target[0]}, height={target[1]})")
    assert_events_equal(got, want)
    assert s == (*target, 2)


# ---- random transforms: statistics and seeds --------------------------------------------------

@pytest.mark.parametrize("p", [0.1, 0.25, 0.5, 0.9, 1.0])
def test_drop_event_drops_tonics_count(snn_ops, p):
    sensor = (34, 34, 2)
    ev = random_events(12, sensor, True, n=1001)
    want_len = len(tt.DropEvent(p=p)(to_tonic(ev, True)))
    a, _ = ours(snn_ops, ev, sensor, True, f"DropEvent(p={p})", seed=1)
    b, _ = ours(snn_ops, ev, sensor, True, f"DropEvent(p={p})", seed=1)
    c, _ = ours(snn_ops, ev, sensor, True, f"DropEvent(p={p})", seed=2)
    assert len(a) == want_len
    assert torch.equal(a, b), "one seed, one result"
    if 0 < len(a) < len(ev):
        assert not torch.equal(a, c), "another seed, another result"
    # The kept events are a subsequence in the original order (t is sorted and unique per row).
    keep = torch.isin(ev[:, 0] * 1_000_000 + ev[:, 1] * 1000 + ev[:, 2] * 10 + ev[:, 3],
                      a[:, 0] * 1_000_000 + a[:, 1] * 1000 + a[:, 2] * 10 + a[:, 3])
    assert torch.equal(ev[keep], a)


def test_drop_event_with_a_range_of_p(snn_ops):
    sensor = (34, 34, 2)
    ev = random_events(29, sensor, True, n=1000)
    fractions = set()
    for seed in range(30):
        out, _ = ours(snn_ops, ev, sensor, True, "DropEvent(p=(0.1, 0.4))", seed)
        f = 1 - len(out) / len(ev)
        assert 0.1 - 1e-3 <= f <= 0.4 + 1e-3
        fractions.add(len(out))
    assert len(fractions) > 10, "p is drawn per sample"


def test_refractory_period_with_a_range_of_delta(snn_ops):
    sensor = (8, 8, 2)
    ev = random_events(30, sensor, True, n=3000, duration=30_000, t0=1)
    candidates = {d: from_tonic(tt.RefractoryPeriod(delta=d)(to_tonic(ev, True))) for d in range(40, 44)}
    seen = set()
    for seed in range(12):
        out, _ = ours(snn_ops, ev, sensor, True, "RefractoryPeriod(delta=(40, 44))", seed)
        match = [d for d, want in candidates.items() if want.shape == out.shape and torch.equal(want, out)]
        assert match, "the output is Tonic's for a whole delta in [40, 44)"
        seen.update(match)
    assert len(seen) > 1


def test_drop_event_is_uniform_over_events(snn_ops):
    sensor, p, trials = (8, 8, 2), 0.3, 400
    ev = torch.stack([torch.arange(50), torch.arange(50) % 8, torch.arange(50) // 8 % 8,
                      torch.arange(50) % 2], 1)
    kept = torch.zeros(50, dtype=torch.float64)
    for seed in range(trials):
        out, _ = ours(snn_ops, ev, sensor, True, f"DropEvent(p={p})", seed)
        kept[out[:, 0]] += 1
    rate = 1 - kept / trials
    # Each event is dropped with probability 15/50 = 0.3: binomial sd ~ 0.023 per event.
    assert abs(rate.mean().item() - p) < 1e-6
    assert (rate - p).abs().max().item() < 0.1


def test_time_jitter_statistics(snn_ops):
    sensor = (34, 34, 2)
    ev = random_events(13, sensor, True, n=20000, t0=1_000_000)
    out, _ = ours(snn_ops, ev, sensor, True, "TimeJitter(std=100, clip_negative=false)", seed=3)
    shift = (out[:, 0] - ev[:, 0]).double()
    assert abs(shift.mean().item()) < 3
    assert abs(shift.std().item() - 100) < 5
    again, _ = ours(snn_ops, ev, sensor, True, "TimeJitter(std=100, clip_negative=false)", seed=3)
    other, _ = ours(snn_ops, ev, sensor, True, "TimeJitter(std=100, clip_negative=false)", seed=4)
    assert torch.equal(out, again) and not torch.equal(out, other)
    srt, _ = ours(snn_ops, ev, sensor, True, "TimeJitter(std=100, sort_timestamps=true)", seed=3)
    assert bool((srt[1:, 0] >= srt[:-1, 0]).all())


def test_time_jitter_draws_are_gaussian_like_tonics(snn_ops):
    """The jitter's distribution, tails included, against a normal law and against Tonic's
    own jitter (numpy's normal sampler) on the same events: two-sample KS test."""
    from scipy import stats
    n, std, t0 = 400_000, 1000.0, 10**9
    ev = torch.zeros(n, 4, dtype=torch.int64)
    ev[:, 0] = t0
    out, _ = ours(snn_ops, ev, (34, 34, 2), True, f"TimeJitter(std={std})", seed=11)
    # t' = trunc(t + std·z) = floor here (t' > 0); a uniform dither undoes the flooring.
    dither = np.random.default_rng(1).random(n)
    z = (out[:, 0].numpy() - t0 + dither) / std
    assert stats.kstest(z, "norm").pvalue > 1e-3
    tail = np.mean(np.abs(z) > 3.5)  # 4.65e-4 for a standard normal; sd ~3.4e-5 here
    assert abs(tail - 2 * stats.norm.sf(3.5)) < 1.5e-4
    np.random.seed(5)
    theirs = tt.TimeJitter(std=std, clip_negative=False)(to_tonic(ev, True))
    z_tonic = (theirs["t"] - t0 + np.random.default_rng(2).random(n)) / std
    assert stats.ks_2samp(z, z_tonic).pvalue > 1e-3


def test_time_jitter_clips_negative_times_as_tonic(snn_ops):
    ev = torch.tensor([[0, 1, 1, 0], [1, 2, 2, 1], [2, 3, 3, 0]] * 1000)
    ev = ev[torch.argsort(ev[:, 0], stable=True)]
    out, _ = ours(snn_ops, ev, (34, 34, 2), True, "TimeJitter(std=10)", seed=0)
    assert len(out) < len(ev) and bool((out[:, 0] >= 0).all())


def test_spatial_jitter_statistics(snn_ops):
    sensor = (1000, 1000, 2)
    ev = random_events(14, (600, 600, 2), True, n=20000)
    ev[:, 1:3] += 200
    out, _ = ours(snn_ops, ev, sensor, True,
                  "SpatialJitter(var_x=400, var_y=100, sigma_xy=100)", seed=5)
    d = (out[:, 1:3] - ev[:, 1:3]).double()
    cov = torch.cov(d.T)
    want = torch.tensor([[400.0, 100.0], [100.0, 100.0]], dtype=torch.float64)
    # Truncation toward zero adds at most ~1/3 px² of variance.
    assert torch.allclose(cov, want, atol=15), cov


@pytest.mark.parametrize("name", ["RandomFlipLR", "RandomFlipUD", "RandomFlipPolarity",
                                  "RandomTimeReversal"])
def test_random_flips_happen_with_probability_p(snn_ops, name):
    sensor = (16, 16, 2)
    ev = random_events(15, sensor, True, n=50)
    flipped = 0
    for seed in range(300):
        out, _ = ours(snn_ops, ev, sensor, True, f"{name}(p=0.3)", seed)
        flipped += not torch.equal(out, ev)
    assert abs(flipped / 300 - 0.3) < 0.1


def test_drop_event_by_time_drops_one_interval(snn_ops):
    sensor, ratio = (34, 34, 2), 0.25
    ev = random_events(23, sensor, True, n=5000, t0=1)
    t_max = ev[:, 0].max().item()
    tonic_len = [len(tt.DropEventByTime(duration_ratio=ratio)(to_tonic(ev, True))) for _ in range(20)]
    for seed in range(20):
        out, _ = ours(snn_ops, ev, sensor, True, f"DropEventByTime(duration_ratio={ratio})", seed)
        dropped = ev[~torch.isin(ev[:, 0], out[:, 0])][:, 0]
        # One interval of length ratio * max(t): its events are contiguous and span <= it.
        assert dropped.max() - dropped.min() <= ratio * t_max
        inside = (ev[:, 0] >= dropped.min()) & (ev[:, 0] <= dropped.max())
        assert inside.sum() == len(dropped)
        # As many dropped as Tonic drops, give or take the density of random events.
        assert abs(len(ev) - len(out) - np.mean([len(ev) - n for n in tonic_len])) < 0.1 * len(ev)


def test_drop_event_by_area_drops_one_box(snn_ops):
    sensor, ratio = (40, 30, 2), 0.3
    ev = random_events(24, sensor, True, n=20000)
    cut_w, cut_h = int(40 * ratio), int(30 * ratio)
    corners = set()
    for seed in range(20):
        out, _ = ours(snn_ops, ev, sensor, True, f"DropEventByArea(area_ratio={ratio})", seed)
        key = lambda e: e[:, 0] * 10**6 + e[:, 1] * 1000 + e[:, 2] * 10 + e[:, 3]  # noqa: E731
        dropped = ev[~torch.isin(key(ev), key(out))]
        x0, y0 = dropped[:, 1].min().item(), dropped[:, 2].min().item()
        assert dropped[:, 1].max() - x0 == cut_w - 1 and dropped[:, 2].max() - y0 == cut_h - 1
        in_box = ((ev[:, 1] >= x0) & (ev[:, 1] < x0 + cut_w) & (ev[:, 2] >= y0)
                  & (ev[:, 2] < y0 + cut_h))
        assert in_box.sum() == len(dropped)
        corners.add((x0, y0))
    assert len(corners) > 5, "the box moves with the seed"
    # Tonic drops a box of the same size.
    np.random.seed(0)
    tonic_out = tt.DropEventByArea(sensor_size=sensor, area_ratio=ratio)(to_tonic(ev, True))
    assert abs((len(ev) - len(tonic_out)) - len(dropped)) < 0.5 * len(dropped)


def test_event_drop_picks_one_of_four_strategies(snn_ops):
    sensor = (34, 34, 2)
    ev = random_events(28, sensor, True, n=5000)
    unchanged = 0
    for seed in range(200):
        out, _ = ours(snn_ops, ev, sensor, True, "EventDrop()", seed)
        again, _ = ours(snn_ops, ev, sensor, True, "EventDrop()", seed)
        assert torch.equal(out, again)
        assert len(out) <= len(ev)
        unchanged += torch.equal(out, ev)
    # The identity is one of four choices; the others drop events (almost surely, here).
    assert abs(unchanged / 200 - 0.25) < 0.1
    tonic_unchanged = np.mean([len(tt.EventDrop(sensor_size=sensor)(to_tonic(ev, True))) == len(ev)
                               for _ in range(200)])
    assert abs(tonic_unchanged - 0.25) < 0.1


def test_uniform_noise(snn_ops):
    sensor, n = (34, 20, 2), 3000
    ev = random_events(25, sensor, True, n=2000, t0=5000)
    out, s = ours(snn_ops, ev, sensor, True, f"UniformNoise(n={n})", 3)
    assert len(out) == len(ev) + n == len(tt.UniformNoise(sensor_size=sensor, n=n)(to_tonic(ev, True)))
    assert bool((out[1:, 0] >= out[:-1, 0]).all()), "sorted by time"
    assert out[:, 0].min() >= ev[:, 0].min() and out[:, 0].max() <= ev[:, 0].max()
    for col, size in [(1, 34), (2, 20), (3, 2)]:
        counts = torch.bincount(out[:, col], minlength=size)
        assert len(counts) == size and counts.min() > 0
    again, _ = ours(snn_ops, ev, sensor, True, f"UniformNoise(n={n})", 3)
    assert torch.equal(out, again)


# ---- Compose ---------------------------------------------------------------------------------

def test_compose_matches_tonic(snn_ops):
    sensor = (34, 34, 2)
    ev = random_events(16, sensor, True, t0=20_001)
    tonic_t = tt.Compose([tt.CropTime(min=50_000, max=150_000), tt.Denoise(filter_time=20_000),
                          tt.Downsample(spatial_factor=0.5), tt.RefractoryPeriod(delta=300)])
    want = from_tonic(tonic_t(to_tonic(ev, True)))
    spec = ("Compose([CropTime(min=50000, max=150000), Denoise(filter_time=20000), "
            "Downsample(spatial_factor=0.5), RefractoryPeriod(delta=300)])")
    got, s = ours(snn_ops, ev, sensor, True, spec)
    assert_events_equal(got, want)
    assert s == (17, 17, 2)


def test_compose_runs_every_transform_on_empty_events(snn_ops):
    """Tonic's Compose skips every transform after an empty result, ToFrame included."""
    sensor = (34, 34, 2)
    ev = random_events(17, sensor, True)
    tonic_out = tt.Compose([tt.CropTime(min=10**9), tt.ToFrame(sensor_size=sensor, n_time_bins=3)])(
        to_tonic(ev, True))
    assert tonic_out.dtype.names is not None and len(tonic_out) == 0, \
        "Tonic returns empty events, not frames (its bug)"
    got, s = ours(snn_ops, ev, sensor, True, "Compose([CropTime(min=1000000000), MergePolarities()])")
    assert len(got) == 0 and s == (34, 34, 1), "the later transform ran"
    frames = snn_ops.events_to_dense(got, list(s), True, "ToFrame(n_time_bins=3)")
    assert frames.shape == (3, 1, 34, 34)


# ---- dense representations --------------------------------------------------------------------

FRAME_CASES = [
    dict(time_window=10_000),
    dict(time_window=7_000.5, overlap=1_000),
    dict(time_window=9_000, include_incomplete=True),
    dict(time_window=9_000, overlap=3_000, include_incomplete=True),
    dict(time_window=5_000, start_time=-20_000, end_time=250_000),
    dict(time_window=5_000, start_time=10_000, end_time=60_000, include_incomplete=True),
    dict(event_count=500),
    dict(event_count=700, overlap=100),
    dict(event_count=700, overlap=100, include_incomplete=True),
    dict(event_count=5000),
    dict(n_time_bins=1),
    dict(n_time_bins=7),
    dict(n_time_bins=10, overlap=0.3),
    dict(n_event_bins=1),
    dict(n_event_bins=9),
    dict(n_event_bins=6, overlap=0.5),
]


def frame_spec(kw):
    return call_spec("ToFrame", kw)


@pytest.mark.parametrize("sensor,has_y", SENSORS, ids=SENSOR_IDS)
@pytest.mark.parametrize("kw", FRAME_CASES, ids=[frame_spec(k) for k in FRAME_CASES])
def test_to_frame(snn_ops, sensor, has_y, kw):
    ev = random_events(18, sensor, has_y)
    want = torch.from_numpy(tt.ToFrame(sensor_size=sensor, **kw)(to_tonic(ev, has_y)).astype(np.int64))
    got = snn_ops.events_to_dense(ev, list(sensor), has_y, frame_spec(kw))
    assert got.dtype == torch.int32
    assert got.shape == want.shape
    assert torch.equal(got.long(), want)


@pytest.mark.parametrize("kw", [dict(time_window=10), dict(n_time_bins=4), dict(event_count=3),
                                dict(n_event_bins=3, overlap=0.2)])
def test_to_frame_with_many_equal_timestamps(snn_ops, kw):
    sensor = (8, 6, 2)
    ev = random_events(19, sensor, True, n=500, duration=60)
    want = torch.from_numpy(tt.ToFrame(sensor_size=sensor, **kw)(to_tonic(ev, True)).astype(np.int64))
    got = snn_ops.events_to_dense(ev, list(sensor), True, frame_spec(kw))
    assert torch.equal(got.long(), want)


@pytest.mark.parametrize("kw", [dict(time_window=20_000, overlap=5_000), dict(n_time_bins=30, overlap=0.5),
                                dict(event_count=10_000, overlap=3_000, include_incomplete=True)])
def test_to_frame_large_input_counted_in_parallel(snn_ops, kw):
    sensor = (64, 48, 2)
    ev = random_events(27, sensor, True, n=400_000, duration=2_000_000)
    want = torch.from_numpy(tt.ToFrame(sensor_size=sensor, **kw)(to_tonic(ev, True)).astype(np.int64))
    threads = torch.get_num_threads()
    torch.set_num_threads(4)
    try:
        got = snn_ops.events_to_dense(ev, list(sensor), True, frame_spec(kw))
    finally:
        torch.set_num_threads(threads)
    assert torch.equal(got.long(), want)


def test_to_frame_counts_do_not_wrap(snn_ops):
    """Tonic counts in int16: 40000 events at one pixel wrap to a negative count."""
    sensor = (4, 4, 2)
    ev = torch.stack([torch.arange(40000), torch.full((40000,), 2), torch.full((40000,), 1),
                      torch.ones(40000, dtype=torch.long)], 1)
    tonic_frames = tt.ToFrame(sensor_size=sensor, n_time_bins=1)(to_tonic(ev, True))
    assert tonic_frames.dtype == np.int16 and tonic_frames[0, 1, 1, 2] != 39999, "Tonic wraps"
    got = snn_ops.events_to_dense(ev, list(sensor), True, "ToFrame(n_event_bins=1)")
    assert got[0, 1, 1, 2].item() == 40000
    got = snn_ops.events_to_dense(ev, list(sensor), True, "ToFrame(n_time_bins=1)")
    assert got[0, 1, 1, 2].item() == 39999, "time bins end at the last event's time, as Tonic"


def test_to_frame_of_empty_events_is_t_p_h_w(snn_ops):
    """Tonic's empty-input frames are (T, P, W, H); ours keep (T, P, H, W)."""
    sensor = (10, 4, 2)
    empty = torch.zeros(0, 4, dtype=torch.long)
    assert tt.ToFrame(sensor_size=sensor, n_time_bins=3)(to_tonic(empty, True)).shape == (3, 2, 10, 4)
    got = snn_ops.events_to_dense(empty, list(sensor), True, "ToFrame(n_time_bins=3)")
    assert got.shape == (3, 2, 4, 10) and got.sum() == 0


@pytest.mark.parametrize("sensor,has_y", SENSORS, ids=SENSOR_IDS)
def test_to_image(snn_ops, sensor, has_y):
    ev = random_events(26, sensor, has_y)
    want = torch.from_numpy(tt.ToImage(sensor_size=sensor)(to_tonic(ev, has_y)).astype(np.int64))
    got = snn_ops.events_to_dense(ev, list(sensor), has_y, "ToImage()")
    assert got.shape == want.shape and torch.equal(got.long(), want)


@pytest.mark.parametrize("sensor", [(34, 34, 2), (17, 5, 2)], ids=["34x34", "17x5"])
@pytest.mark.parametrize("n_time_bins", [1, 3, 10])
def test_to_voxel_grid(snn_ops, sensor, n_time_bins):
    ev = random_events(20, sensor, True)
    want = torch.from_numpy(tt.ToVoxelGrid(sensor_size=sensor, n_time_bins=n_time_bins)(
        to_tonic(ev, True)))
    got = snn_ops.events_to_dense(ev, list(sensor), True, f"ToVoxelGrid(n_time_bins={n_time_bins})")
    assert got.shape == want.shape
    torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("sensor", [(34, 34, 2), (17, 5, 2), (20, 10, 1)], ids=["34x34", "17x5", "1pol"])
@pytest.mark.parametrize("dt,tau", [(10_000, 5_000), (7_777.5, 20_000), (50_000, 1_000)])
def test_to_timesurface(snn_ops, sensor, dt, tau):
    ev = random_events(21, sensor, True, n=2000)
    want = torch.from_numpy(tt.ToTimesurface(sensor_size=sensor, dt=dt, tau=tau)(to_tonic(ev, True)))
    got = snn_ops.events_to_dense(ev, list(sensor), True, f"ToTimesurface(dt={dt}, tau={tau})")
    assert got.shape == want.shape
    torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=1e-4)


@pytest.mark.parametrize("sensor,has_y", SENSORS, ids=SENSOR_IDS)
@pytest.mark.parametrize("n_frames,n_bits", [(1, 8), (4, 2), (3, 5), (2, 12)])
def test_to_bina_rep(snn_ops, sensor, has_y, n_frames, n_bits):
    """Tonic's documented pipeline: ToFrame(n_time_bins=n_frames * n_bits), then ToBinaRep."""
    ev = random_events(31, sensor, has_y, n=1500)
    frames = tt.ToFrame(sensor_size=sensor, n_time_bins=n_frames * n_bits)(to_tonic(ev, has_y))
    if not has_y:  # Tonic's ToBinaRep takes 4-D frames only: audio as an image of height 1
        frames = frames[:, :, None, :]
    want = torch.from_numpy(tt.ToBinaRep(n_frames=n_frames, n_bits=n_bits)(frames))
    if not has_y:
        want = want[:, :, 0, :]
    got = snn_ops.events_to_dense(ev, list(sensor), has_y,
                                  f"ToBinaRep(n_frames={n_frames}, n_bits={n_bits})")
    assert got.dtype == torch.float32 and got.shape == want.shape
    assert 0 < got.mean() < 1 and len(got.unique()) > 2, "neither empty nor saturated"
    torch.testing.assert_close(got.double(), want.double(), atol=1e-5, rtol=1e-4)


def test_to_bina_rep_defaults_and_empty_events(snn_ops):
    sensor = (34, 34, 2)
    ev = random_events(32, sensor, True, n=400)
    want = torch.from_numpy(tt.ToBinaRep()(tt.ToFrame(sensor_size=sensor, n_time_bins=8)(
        to_tonic(ev, True))))
    got = snn_ops.events_to_dense(ev, list(sensor), True, "ToBinaRep()")
    torch.testing.assert_close(got.double(), want.double(), atol=1e-5, rtol=1e-4)
    assert snn_ops.events_spec_repr("representation", "ToBinaRep()") == \
        "ToBinaRep(n_frames=1, n_bits=8)"
    empty = snn_ops.events_to_dense(torch.zeros(0, 4, dtype=torch.long), list(sensor), True,
                                    "ToBinaRep(n_frames=2, n_bits=3)")
    assert empty.shape == (2, 2, 34, 34) and empty.sum() == 0
    with pytest.raises(RuntimeError, match="n_bits must lie in \\[2, 63\\], got n_bits=1"):
        snn_ops.events_to_dense(ev, list(sensor), True, "ToBinaRep(n_bits=1)")


AVERAGED_TS_CASES = [
    dict(),
    dict(surface_size=3, cell_size=8, time_window=20_000, tau=5_000),
    dict(surface_size=7, cell_size=7, time_window=50_000.5, tau=12_345.5, decay="lin"),
    dict(surface_size=1, cell_size=4, time_window=30_000, tau=2_000),
    dict(surface_size=5, cell_size=16, time_window=40_000, tau=30_000, decay="lin"),
]


def averaged_ts_spec(kw):
    return "ToAveragedTimesurface(" + ", ".join(
        f'{k}="{v}"' if isinstance(v, str) else f"{k}={v!r}" for k, v in kw.items()) + ")"


@pytest.mark.parametrize("sensor,has_y", SENSORS, ids=SENSOR_IDS)
@pytest.mark.parametrize("kw", AVERAGED_TS_CASES, ids=[averaged_ts_spec(k) for k in AVERAGED_TS_CASES])
def test_to_averaged_timesurface(snn_ops, sensor, has_y, kw):
    ev = random_events(33, sensor, has_y, n=1500)
    data = to_tonic(ev, True)  # Tonic needs a y field: audio as an image of height 1
    if sensor[2] == 1:
        data["p"] = 0  # Tonic indexes its memories by p: one polarity is channel 0
    want = torch.from_numpy(tt.ToAveragedTimesurface(sensor_size=sensor, **kw)(data))
    if not has_y:  # no neighbour lies off the centre row
        r = kw.get("surface_size", 5) // 2
        assert want[:, :, :r].abs().sum() == 0 and want[:, :, r + 1:].abs().sum() == 0
        want = want[:, :, r]
    got = snn_ops.events_to_dense(ev, list(sensor), has_y, averaged_ts_spec(kw))
    assert got.dtype == torch.float32 and got.shape == want.shape
    torch.testing.assert_close(got.double(), want.double(), atol=1e-5, rtol=1e-4)


def test_to_averaged_timesurface_with_many_neighbours_and_unsorted_events(snn_ops):
    sensor, kw = (16, 12, 2), dict(surface_size=5, cell_size=6, time_window=5_000, tau=1_000)
    ev = random_events(34, sensor, True, n=4000, duration=50_000)
    want = torch.from_numpy(tt.ToAveragedTimesurface(sensor_size=sensor, **kw)(to_tonic(ev, True)))
    got = snn_ops.events_to_dense(ev, list(sensor), True, averaged_ts_spec(kw))
    assert (want.sum((2, 3)) > 2).all(), "surfaces hold many past events"
    torch.testing.assert_close(got.double(), want.double(), atol=1e-5, rtol=1e-4)
    # Out of time order, every earlier event of a cell is looked at (as Tonic).
    shuffled = ev[torch.randperm(len(ev), generator=torch.Generator().manual_seed(0))]
    want = torch.from_numpy(tt.ToAveragedTimesurface(sensor_size=sensor, **kw)(
        to_tonic(shuffled, True)))
    got = snn_ops.events_to_dense(shuffled, list(sensor), True, averaged_ts_spec(kw))
    torch.testing.assert_close(got.double(), want.double(), atol=1e-5, rtol=1e-4)


def test_to_averaged_timesurface_window_before_time_zero(snn_ops):
    """Tonic starts the window at max(0, t - time_window): events at t < 0 never count."""
    sensor, spec = (10, 10, 2), "ToAveragedTimesurface(surface_size=3, time_window=100, tau=50)"
    ev = torch.tensor([[-60, 4, 4, 1], [-20, 5, 5, 1]])
    want = tt.ToAveragedTimesurface(sensor_size=sensor, surface_size=3, time_window=100, tau=50)(
        to_tonic(ev, True))
    assert want[0, 1, 0, 0] == 0, "Tonic drops the neighbour at t = -60 (its bug)"
    got = snn_ops.events_to_dense(ev, list(sensor), True, spec)
    assert got[0, 1, 0, 0].item() == pytest.approx(np.exp(-40 / 50) / 2)
    shifted = ev.clone()
    shifted[:, 0] += 100  # at t >= 0 the two agree
    want = torch.from_numpy(tt.ToAveragedTimesurface(sensor_size=sensor, surface_size=3,
                                                     time_window=100, tau=50)(to_tonic(shifted, True)))
    torch.testing.assert_close(snn_ops.events_to_dense(shifted, list(sensor), True, spec).double(),
                               want.double(), atol=1e-6, rtol=1e-5)
    assert snn_ops.events_spec_repr("representation", "ToAveragedTimesurface(decay='lin')") == (
        'ToAveragedTimesurface(surface_size=5, cell_size=10, time_window=1000, tau=100, decay="lin")')


# ---- slicers ---------------------------------------------------------------------------------

def tonic_ranges(slicer, data, n):
    return torch.tensor([[min(int(a), n), min(int(b), n)] for a, b in
                         slicer.get_slice_metadata(data, None)], dtype=torch.long).reshape(-1, 2)


SLICER_CASES = [
    (ts.SliceByTime(time_window=10_000), "SliceByTime(time_window=10000)"),
    (ts.SliceByTime(time_window=9_999.5, overlap=2_500, include_incomplete=True),
     "SliceByTime(time_window=9999.5, overlap=2500, include_incomplete=true)"),
    (ts.SliceByTime(time_window=30_000, start_time=-5_000, end_time=400_000),
     "SliceByTime(time_window=30000, start_time=-5000, end_time=400000)"),
    (ts.SliceByTime(time_window=500_000), "SliceByTime(time_window=500000)"),
    (ts.SliceByTimeBins(bin_count=7), "SliceByTimeBins(bin_count=7)"),
    (ts.SliceByTimeBins(bin_count=5, overlap=0.25), "SliceByTimeBins(bin_count=5, overlap=0.25)"),
    (ts.SliceByEventCount(event_count=400), "SliceByEventCount(event_count=400)"),
    (ts.SliceByEventCount(event_count=700, overlap=50, include_incomplete=True),
     "SliceByEventCount(event_count=700, overlap=50, include_incomplete=true)"),
    (ts.SliceByEventCount(event_count=10_000), "SliceByEventCount(event_count=10000)"),
    (ts.SliceByEventBins(bin_count=4), "SliceByEventBins(bin_count=4)"),
    (ts.SliceByEventBins(bin_count=6, overlap=0.4), "SliceByEventBins(bin_count=6, overlap=0.4)"),
    (ts.SliceAtIndices(start_indices=[0, 10, 2000], end_indices=[5, 3000, 9000]),
     "SliceAtIndices(start_indices=[0, 10, 2000], end_indices=[5, 3000, 9000])"),
    (ts.SliceAtTimePoints(start_tw=np.array([0, 1000.5, 50_000]), end_tw=np.array([10, 90_000, 1e6])),
     "SliceAtTimePoints(start_times=[0, 1000.5, 50000], end_times=[10, 90000, 1000000])"),
]


@pytest.mark.parametrize("sensor,has_y", SENSORS[:1] + SENSORS[3:4], ids=["34x34x2", "audio"])
@pytest.mark.parametrize("case", SLICER_CASES, ids=[c[1] for c in SLICER_CASES])
def test_slicers(snn_ops, sensor, has_y, case):
    tonic_slicer, spec = case
    ev = random_events(22, sensor, has_y)
    want = tonic_ranges(tonic_slicer, to_tonic(ev, has_y), len(ev))
    got = snn_ops.events_slice(ev, list(sensor), has_y, spec)
    assert got.shape == want.shape and torch.equal(got, want)


RESET_TIME_CASES = [dict(time_window=10_000), dict(time_window=9_999.5, include_incomplete=True),
                    dict(time_window=30_000, start_time=-5_000, end_time=400_000),
                    dict(time_window=25_000, start_time=12_345)]


def slicer_spec(name, kw):
    def fmt(v):
        return "true" if v is True else "false" if v is False else repr(v)
    return name + "(" + ", ".join(f"{k}={fmt(v)}" for k, v in kw.items()) + ")"


@pytest.mark.parametrize("sensor,has_y", SENSORS, ids=SENSOR_IDS)
@pytest.mark.parametrize("kw", RESET_TIME_CASES, ids=[slicer_spec("SliceByTime", k) for k in RESET_TIME_CASES])
def test_slice_by_time_reset_time(snn_ops, sensor, has_y, kw):
    ev = random_events(35, sensor, has_y, t0=1_000)
    want, _ = ts.SliceByTime(reset_time=True, **kw).slice(to_tonic(ev, has_y), None)
    spec = slicer_spec("SliceByTime", dict(kw, reset_time=True))
    got = snn_ops.events_slice_pieces(ev, list(sensor), has_y, spec)
    assert len(got) == len(want) > 1
    for k, (g, w) in enumerate(zip(got, want)):
        assert_events_equal(g, from_tonic(w))
    # The same ranges as without reset_time, and no shift then.
    plain = snn_ops.events_slice_pieces(ev, list(sensor), has_y, slicer_spec("SliceByTime", kw))
    ranges = snn_ops.events_slice(ev, list(sensor), has_y, spec)
    for (a, b), p in zip(ranges.tolist(), plain):
        assert_events_equal(p, ev[a:b])


def test_slice_by_time_reset_time_with_overlap(snn_ops):
    """Tonic subtracts k * time_window (and shifts the shared events of overlapping views
    again): its later slices drift below the first window; ours stay in it."""
    sensor, kw = (34, 34, 2), dict(time_window=20_000, overlap=5_000)
    ev = random_events(36, sensor, True)
    start = ev[0, 0].item()
    want, _ = ts.SliceByTime(reset_time=True, **kw).slice(to_tonic(ev, True), None)
    assert min(int(w["t"].min()) for w in want if len(w)) < start, "Tonic drifts (its bug)"
    got = snn_ops.events_slice_pieces(ev, list(sensor), True,
                                      slicer_spec("SliceByTime", dict(kw, reset_time=True)))
    ranges = snn_ops.events_slice(ev, list(sensor), True, slicer_spec("SliceByTime", kw))
    assert len(got) == len(want) == len(ranges)
    for k, (g, (a, b)) in enumerate(zip(got, ranges.tolist())):
        expect = ev[a:b].clone()
        expect[:, 0] -= k * 15_000
        assert_events_equal(g, expect)
        assert len(g) == 0 or (g[:, 0].min() >= start and g[:, 0].max() < start + 20_000)


def test_spec_repr_is_canonical(snn_ops):
    assert snn_ops.events_spec_repr("transform", "Downsample(spatial_factor=0.5)") == \
        "Downsample(time_factor=1, spatial_factor=(0.5, 0.5), target_size=none)"
    assert snn_ops.events_spec_repr("slicer", "SliceByEventBins(bin_count=3)") == \
        "SliceByEventBins(bin_count=3, overlap=0)"
    assert snn_ops.events_spec_repr("slicer", "SliceByTime(time_window=5)") == (
        "SliceByTime(time_window=5, overlap=0, include_incomplete=false, start_time=none, "
        "end_time=none, reset_time=false)")
    with pytest.raises(RuntimeError, match="unknown transform 'Blur'"):
        snn_ops.events_spec_repr("transform", "Blur()")


# ---- the N-MNIST fixture ------------------------------------------------------------------------

NMNIST_TRANSFORMS = [
    (lambda: tt.CropTime(min=10_000, max=200_000), "CropTime(min=10000, max=200000)"),
    (lambda: tt.Downsample(time_factor=0.001, spatial_factor=0.5),
     "Downsample(time_factor=0.001, spatial_factor=0.5)"),
    (lambda: tt.RefractoryPeriod(delta=2000), "RefractoryPeriod(delta=2000)"),
    (lambda: tt.MergePolarities(), "MergePolarities()"),
    (lambda: tt.RandomFlipLR(sensor_size=(34, 34, 2), p=1), "RandomFlipLR(p=1)"),
    (lambda: tt.RandomFlipUD(sensor_size=(34, 34, 2), p=1), "RandomFlipUD(p=1)"),
    (lambda: tt.CenterCrop(sensor_size=(34, 34, 2), size=(28, 28)), "CenterCrop(size=(28, 28))"),
    (lambda: tt.Decimation(n=2), "Decimation(n=2)"),
    (lambda: tt.DropPixel(hot_pixel_frequency=30), "DropPixel(hot_pixel_frequency=30)"),
]


@pytest.mark.parametrize("case", NMNIST_TRANSFORMS, ids=[c[1] for c in NMNIST_TRANSFORMS])
def test_nmnist_transforms(snn_ops, nmnist, case):
    ev, sensor = nmnist
    make, spec = case
    assert ev[0, 0] > 0, "RefractoryPeriod parity needs t > 0"
    want = from_tonic(make()(to_tonic(ev, True)))
    got, _ = ours(snn_ops, ev, sensor, True, spec)
    assert_events_equal(got, want)


def test_nmnist_denoise(snn_ops, nmnist):
    ev, sensor = nmnist
    filter_time = 10_000
    want = from_tonic(tt.Denoise(filter_time=filter_time)(to_tonic(ev, True)))
    got, _ = ours(snn_ops, ev, sensor, True, f"Denoise(filter_time={filter_time})")
    # Tonic also keeps some events before filter_time (its start-up bug); after it, equal.
    late_want, late_got = want[want[:, 0] >= filter_time], got[got[:, 0] >= filter_time]
    assert_events_equal(late_got, late_want)
    # Shifted so that every t >= filter_time, the two agree everywhere.
    shifted = ev.clone()
    shifted[:, 0] += filter_time
    want = from_tonic(tt.Denoise(filter_time=filter_time)(to_tonic(shifted, True)))
    got, _ = ours(snn_ops, shifted, sensor, True, f"Denoise(filter_time={filter_time})")
    assert_events_equal(got, want)


@pytest.mark.parametrize("kw", FRAME_CASES[:4] + FRAME_CASES[6:9] + FRAME_CASES[11:13] + FRAME_CASES[14:],
                         ids=lambda k: frame_spec(k))
def test_nmnist_to_frame(snn_ops, nmnist, kw):
    ev, sensor = nmnist
    want = torch.from_numpy(tt.ToFrame(sensor_size=sensor, **kw)(to_tonic(ev, True)).astype(np.int64))
    got = snn_ops.events_to_dense(ev, list(sensor), True, frame_spec(kw))
    assert torch.equal(got.long(), want)


def test_nmnist_voxel_grid_timesurface_and_slices(snn_ops, nmnist):
    ev, sensor = nmnist
    want = torch.from_numpy(tt.ToVoxelGrid(sensor_size=sensor, n_time_bins=5)(to_tonic(ev, True)))
    got = snn_ops.events_to_dense(ev, list(sensor), True, "ToVoxelGrid(n_time_bins=5)")
    torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=1e-4)
    want = torch.from_numpy(tt.ToTimesurface(sensor_size=sensor, dt=20_000, tau=10_000)(
        to_tonic(ev, True)))
    got = snn_ops.events_to_dense(ev, list(sensor), True, "ToTimesurface(dt=20000, tau=10000)")
    torch.testing.assert_close(got.double(), want, atol=1e-5, rtol=1e-4)
    for tonic_slicer, spec in SLICER_CASES:
        want = tonic_ranges(tonic_slicer, to_tonic(ev, True), len(ev))
        got = snn_ops.events_slice(ev, list(sensor), True, spec)
        assert torch.equal(got, want), spec


# ---- the column ops (t int64, x, y, p int16; output handed over without a copy) ------------

def as_columns(ev):
    return ev[:, 0].clone(), ev[:, 1].to(torch.int16), ev[:, 2].to(torch.int16), ev[:, 3].to(torch.int16)


@pytest.mark.parametrize("sensor,has_y", [((34, 34, 2), True), ((700, 1, 1), False)])
@pytest.mark.parametrize("spec", ["MergePolarities()", "CropTime(min=20000, max=150000)",
                                  "Downsample(time_factor=0.5, spatial_factor=0.5)",
                                  "DropEvent(p=0.3)", "TimeJitter(std=500)", "Decimation(n=3)"])
def test_column_ops_equal_the_tensor_ops(snn_ops, sensor, has_y, spec):
    ev = random_events(21, sensor, has_y)
    want, want_sensor = ours(snn_ops, ev, sensor, has_y, spec, seed=4)
    t, x, y, p, got_sensor = snn_ops.events_transform_columns(*as_columns(ev), list(sensor), has_y,
                                                              spec, 4)
    assert (t.dtype, x.dtype, y.dtype, p.dtype) == (torch.int64, torch.int16, torch.int16, torch.int16)
    assert tuple(got_sensor) == want_sensor
    assert_events_equal(torch.stack([t, x.long(), y.long(), p.long()], 1), want)
    frames = snn_ops.events_to_dense_columns(*as_columns(ev), list(sensor), has_y,
                                             "ToFrame(n_time_bins=5)")
    assert torch.equal(frames, snn_ops.events_to_dense(ev, list(sensor), has_y, "ToFrame(n_time_bins=5)"))


def test_column_ops_take_any_integer_dtype_and_reject_bad_columns(snn_ops):
    ev = random_events(22, (34, 34, 2), True, n=500)
    wide = [ev[:, k].clone() for k in range(4)]  # all int64
    t, x, y, p, _ = snn_ops.events_transform_columns(*wide, [34, 34, 2], True, "MergePolarities()", 0)
    assert torch.equal(x.long(), ev[:, 1]) and bool((p == 0).all())
    with pytest.raises(RuntimeError, match="columns t, x, y, p of one length"):
        snn_ops.events_transform_columns(wide[0], wide[1][:-1], wide[2], wide[3], [34, 34, 2], True,
                                         "MergePolarities()", 0)
    with pytest.raises(RuntimeError, match="expected integer columns, got x of dtype Float"):
        snn_ops.events_transform_columns(wide[0], wide[1].float(), wide[2], wide[3], [34, 34, 2],
                                         True, "MergePolarities()", 0)
    far = wide[1].clone()
    far[7] = 65536 + 3  # would pass the sensor check as 3 once narrowed
    with pytest.raises(RuntimeError, match="column x holds values in .* outside int16"):
        snn_ops.events_transform_columns(wide[0], far, wide[2], wide[3], [34, 34, 2], True,
                                         "MergePolarities()", 0)
    out = wide[1].clone()
    out[3] = 34
    with pytest.raises(RuntimeError, match=r"event 3 \(x=34"):
        snn_ops.events_transform_columns(wide[0], out, wide[2], wide[3], [34, 34, 2], True,
                                         "MergePolarities()", 0)
