"""EventDownsampling, ToSparseTensor and random parameter ranges: snn.cpp against Tonic 1.7.0.

EventDownsampling (integrator and differentiator) and ToSparseTensor are run on the same events
through Tonic and through torch.ops.snn (libsnn.so) and must be equal (events exactly; the sparse
tensor's indices, values and shape). The (lo, hi) ranges of TimeSkew, DropEventByTime and
DropEventByArea cannot reproduce NumPy's random stream: they are held to Tonic where lo == hi,
and otherwise tested for the drawn value lying in [lo, hi), for seeds reproducing, and for
the spread of the draws. Where Tonic has a plain bug, both sides are tested.
"""

import numpy as np
import pytest
import tonic
import tonic.transforms as tt
import torch

from event_helpers import (assert_events_equal, call_spec, from_tonic, ours, random_events,
                           to_tonic)


# ---- helpers ---------------------------------------------------------------------------------

def key(e):
    """One integer per event (t, x, y, p), for set operations on event rows."""
    return ((e[:, 0] * 100_000 + e[:, 1]) * 1000 + e[:, 2]) * 10 + e[:, 3]


def dropped_rows(ev, out):
    return ev[~torch.isin(key(ev), key(out))]


# ---- EventDownsampling -----------------------------------------------------------------------

def downsampling_spec(target, dt, method, threshold, bins):
    return (f"EventDownsampling(target_size=({target[0]}, {target[1]}), dt={dt!r}, "
            f"downsampling_method=\"{method}\", noise_threshold={threshold}, "
            f"differentiator_time_bins={bins})")


def tonic_downsampling(ev, sensor, target, dt, method, threshold, bins):
    t = tt.EventDownsampling(sensor_size=sensor, target_size=target, dt=dt,
                             downsampling_method=method, noise_threshold=threshold,
                             differentiator_time_bins=bins)
    return from_tonic(t(to_tonic(ev)))


DOWNSAMPLING_CASES = [
    # (sensor, target, dt (ms), noise_threshold, differentiator_time_bins, t0)
    ((34, 34, 2), (17, 17), 1.0, 1, 2, 0),
    ((34, 34, 2), (10, 7), 2.5, 2, 3, 0),
    ((34, 34, 2), (8, 8), 0.5, 3, 2, 12_345),
    ((40, 30, 2), (5, 5), 4, 4, 1, 0),
    ((40, 30, 2), (40, 30), 1.0, 1, 4, 500),
    ((17, 5, 2), (3, 2), 1 / 3, 2, 3, 0),
    ((40, 30, 1), (10, 10), 3.0, 2, 2, 0),
    ((34, 34, 2), (6, 6), 1.0, 0, 2, 0),
]


@pytest.mark.parametrize("method", ["integrator", "differentiator"])
@pytest.mark.parametrize("case", DOWNSAMPLING_CASES,
                         ids=lambda c: f"{c[0]}->{c[1]},dt={c[2]:.3g},thr={c[3]},bins={c[4]}")
def test_event_downsampling(snn_ops, method, case):
    sensor, target, dt, threshold, bins, t0 = case
    ev = random_events(40, sensor, True, n=4000, duration=100_000, t0=t0)
    want = tonic_downsampling(ev, sensor, target, dt, method, threshold, bins)
    got, s = ours(snn_ops, ev, sensor, True, downsampling_spec(target, dt, method, threshold, bins))
    assert len(want) > 0
    assert_events_equal(got, want)
    assert s == (*target, 2)
    assert (got[:, 1] < target[0]).all() and (got[:, 2] < target[1]).all()


@pytest.mark.parametrize("method", ["integrator", "differentiator"])
def test_event_downsampling_of_dense_bursts(snn_ops, method):
    """Many events per target pixel and step: v swings far past the threshold both ways."""
    sensor, target = (16, 16, 2), (4, 4)
    ev = random_events(41, sensor, True, n=20_000, duration=20_000)
    for threshold in (1, 5, 20):
        want = tonic_downsampling(ev, sensor, target, 0.7, method, threshold, 3)
        got, _ = ours(snn_ops, ev, sensor, True, downsampling_spec(target, 0.7, method, threshold, 3))
        assert len(want) > 0
        assert_events_equal(got, want)


@pytest.mark.parametrize("method", ["integrator", "differentiator"])
def test_nmnist_event_downsampling(snn_ops, nmnist, method):
    ev, sensor = nmnist
    for target, dt, threshold, bins in [((17, 17), 1.0, 1, 2), ((8, 8), 5.0, 3, 4)]:
        want = tonic_downsampling(ev, sensor, target, dt, method, threshold, bins)
        got, _ = ours(snn_ops, ev, sensor, True, downsampling_spec(target, dt, method, threshold, bins))
        assert len(want) > 0
        assert_events_equal(got, want)


def test_event_downsampling_without_spikes_is_empty(snn_ops):
    """Tonic raises when no target pixel reaches the threshold; ours returns no events."""
    sensor, target = (34, 34, 2), (17, 17)
    ev = random_events(42, sensor, True, n=20, duration=100_000)
    with pytest.raises(ValueError):
        tonic_downsampling(ev, sensor, target, 1.0, "integrator", 50, 2)
    with pytest.raises(IndexError):
        tonic_downsampling(ev, sensor, target, 1.0, "differentiator", 50, 2)
    for method in ("integrator", "differentiator"):
        got, s = ours(snn_ops, ev, sensor, True, downsampling_spec(target, 1.0, method, 50, 2))
        assert got.shape == (0, 4) and s == (17, 17, 2)


def test_event_downsampling_rejects_bad_input(snn_ops):
    ev = random_events(43, (64, 1, 2), False, n=100)
    with pytest.raises(RuntimeError, match="EventDownsampling: needs events with a y column"):
        ours(snn_ops, ev, (64, 1, 2), False, "EventDownsampling(target_size=(8, 1), dt=1)")
    ev = torch.tensor([[0, 1, 1, 2]])
    with pytest.raises(RuntimeError, match=r"has polarity 2, expected 0 \(OFF\) or 1 \(ON\)"):
        ours(snn_ops, ev, (4, 4, 3), True, "EventDownsampling(target_size=(2, 2), dt=1)")
    with pytest.raises(RuntimeError, match="dt must be > 0 \\(milliseconds\\), got dt=-1"):
        snn_ops.events_spec_repr("transform", "EventDownsampling(target_size=(2, 2), dt=-1)")
    with pytest.raises(RuntimeError, match="got noise_threshold=-3"):
        snn_ops.events_spec_repr("transform",
                                 "EventDownsampling(target_size=(2, 2), dt=1, noise_threshold=-3)")
    assert snn_ops.events_spec_repr("transform", "EventDownsampling(target_size=9, dt=1e0)") == (
        "EventDownsampling(target_size=(9, 9), dt=1, downsampling_method=\"integrator\", "
        "noise_threshold=0, differentiator_time_bins=2)")


# ---- ToSparseTensor --------------------------------------------------------------------------

SENSORS = [((34, 34, 2), True), ((17, 5, 2), True), ((40, 30, 1), True), ((64, 1, 2), False),
           ((700, 1, 1), False)]
SENSOR_IDS = ["34x34x2", "17x5x2", "40x30x1", "audio64x2", "audio700x1"]

SPARSE_CASES = [
    dict(time_window=10_000),
    dict(time_window=7_000.5, overlap=1_000),
    dict(time_window=9_000, overlap=3_000, include_incomplete=True),
    dict(event_count=500),
    dict(event_count=700, overlap=100, include_incomplete=True),
    dict(n_time_bins=1),
    dict(n_time_bins=10, overlap=0.3),
    dict(n_event_bins=9),
    dict(n_event_bins=6, overlap=0.5),
]


def sparse_spec(kw):
    return call_spec("ToSparseTensor", kw)


def assert_sparse_equal(got, want):
    assert got.is_sparse and got.is_coalesced()
    assert got.dtype == torch.int32
    want = want.coalesce()
    assert got.shape == want.shape
    assert torch.equal(got.indices(), want.indices())
    assert torch.equal(got.values().long(), want.values().long())
    assert torch.equal(got.to_dense().long(), want.to_dense().long())


@pytest.mark.parametrize("sensor,has_y", SENSORS, ids=SENSOR_IDS)
@pytest.mark.parametrize("kw", SPARSE_CASES, ids=[sparse_spec(k) for k in SPARSE_CASES])
def test_to_sparse_tensor(snn_ops, sensor, has_y, kw):
    ev = random_events(44, sensor, has_y)
    want = tt.ToSparseTensor(sensor_size=sensor, **kw)(to_tonic(ev, has_y))
    assert want.is_sparse and want.dtype == torch.int16
    got = snn_ops.events_to_dense(ev, list(sensor), has_y, sparse_spec(kw))
    assert_sparse_equal(got, want)
    # And the dense form is ToFrame's.
    frame_spec = sparse_spec(kw).replace("ToSparseTensor", "ToFrame")
    frames = snn_ops.events_to_dense(ev, list(sensor), has_y, frame_spec)
    assert torch.equal(got.to_dense(), frames)


def test_nmnist_to_sparse_tensor(snn_ops, nmnist):
    ev, sensor = nmnist
    for kw in (dict(time_window=5_000), dict(n_time_bins=20, overlap=0.2), dict(event_count=300)):
        want = tt.ToSparseTensor(sensor_size=sensor, **kw)(to_tonic(ev))
        assert_sparse_equal(snn_ops.events_to_dense(ev, list(sensor), True, sparse_spec(kw)), want)


def test_to_sparse_tensor_of_empty_events_and_bad_polarity(snn_ops):
    empty = torch.zeros(0, 4, dtype=torch.long)
    got = snn_ops.events_to_dense(empty, [10, 4, 2], True, "ToSparseTensor(n_time_bins=3)")
    assert got.is_sparse and got.shape == (3, 2, 4, 10) and got._nnz() == 0
    with pytest.raises(RuntimeError,
                       match=r"ToSparseTensor: event 0 has polarity 3, expected one in \[0, 2\)"):
        snn_ops.events_to_dense(torch.tensor([[0, 1, 1, 3]]), [4, 4, 2], True,
                                "ToSparseTensor(n_time_bins=1)")
    with pytest.raises(RuntimeError, match="ToSparseTensor: snn::events::ToFrame: give exactly one of"):
        snn_ops.events_spec_repr("representation", "ToSparseTensor(time_window=5, event_count=3)")


# ---- random ranges ---------------------------------------------------------------------------

@pytest.mark.parametrize("coefficient,offset,canonical", [
    (1.3, 100, "TimeSkew(coefficient=1.3, offset=100)"),
    (0.7, -5.5, "TimeSkew(coefficient=0.7, offset=-5.5)"),
    (2.0, 0, "TimeSkew(coefficient=2, offset=0)")])
def test_time_skew_range_with_equal_ends_is_tonics(snn_ops, coefficient, offset, canonical):
    ev = random_events(45, (34, 34, 2), True)
    np.random.seed(0)
    want = from_tonic(tt.TimeSkew(coefficient=(coefficient, coefficient), offset=(offset, offset))(
        to_tonic(ev)))
    spec = f"TimeSkew(coefficient=({coefficient!r}, {coefficient!r}), offset=({offset!r}, {offset!r}))"
    got, _ = ours(snn_ops, ev, (34, 34, 2), True, spec, seed=7)
    assert_events_equal(got, want)
    assert snn_ops.events_spec_repr("transform", spec) == canonical


def drawn_skew(ev, out):
    """(coefficient, offset) of a TimeSkew output, from its first (t = 0) and last event."""
    offset = out[0, 0].item()
    return (out[-1, 0].item() - offset) / ev[-1, 0].item(), offset


def test_time_skew_range_draws_within_the_range(snn_ops):
    sensor = (34, 34, 2)
    ev = random_events(46, sensor, True, duration=1_000_000)
    ev[0, 0] = 0
    spec = "TimeSkew(coefficient=(0.8, 1.2), offset=(0, 150))"
    ours_draws, tonic_draws = [], []
    for seed in range(200):
        out, _ = ours(snn_ops, ev, sensor, True, spec, seed)
        c, o = drawn_skew(ev, out)
        assert 0.8 - 1e-5 <= c < 1.2 + 1e-5 and 0 <= o < 150
        # The output is Tonic's fixed TimeSkew at the drawn coefficient, to the µs.
        again, _ = ours(snn_ops, ev, sensor, True, spec, seed)
        assert torch.equal(out, again), "a seed reproduces"
        ours_draws.append((c, o))
        np.random.seed(seed)
        tonic_out = from_tonic(tt.TimeSkew(coefficient=(0.8, 1.2), offset=(0, 150))(to_tonic(ev)))
        tonic_draws.append(drawn_skew(ev, tonic_out))
    ours_draws, tonic_draws = np.array(ours_draws), np.array(tonic_draws)
    assert len(np.unique(ours_draws[:, 0])) > 190, "drawn per sample"
    # Both draw uniformly from the same ranges: means 1.0 and 75, sd 0.115 and 43 (/sqrt(200)).
    for draws in (ours_draws, tonic_draws):
        assert abs(draws[:, 0].mean() - 1.0) < 0.03 and abs(draws[:, 1].mean() - 75) < 10
        assert draws[:, 0].min() < 0.82 and draws[:, 0].max() > 1.18


def test_drop_event_by_time_range(snn_ops):
    sensor, (lo, hi) = (34, 34, 2), (0.1, 0.4)
    ev = random_events(47, sensor, True, n=5000, t0=1)
    t_max = ev[:, 0].max().item()
    spec = f"DropEventByTime(duration_ratio=({lo}, {hi}))"
    fractions = []
    for seed in range(40):
        out, _ = ours(snn_ops, ev, sensor, True, spec, seed)
        again, _ = ours(snn_ops, ev, sensor, True, spec, seed)
        assert torch.equal(out, again), "a seed reproduces"
        dropped = dropped_rows(ev, out)[:, 0]
        # One interval of length ratio·max(t), lo <= ratio < hi.
        span = (dropped.max() - dropped.min()).item()
        assert span <= hi * t_max
        inside = (ev[:, 0] >= dropped.min()) & (ev[:, 0] <= dropped.max())
        assert inside.sum() == len(dropped)
        fractions.append(len(dropped) / len(ev))
    fractions = np.array(fractions)
    # The density is uniform: the dropped fraction follows the ratio (and never exceeds hi).
    assert fractions.min() > lo - 0.03 and fractions.max() < hi + 0.03
    assert fractions.max() - fractions.min() > 0.15, "the ratio is drawn per sample"
    # Tonic's draws spread the same way.
    tonic_fractions = []
    for seed in range(40):
        np.random.seed(seed)
        kept = tt.DropEventByTime(duration_ratio=(lo, hi))(to_tonic(ev))
        tonic_fractions.append(1 - len(kept) / len(ev))
    assert abs(np.mean(tonic_fractions) - fractions.mean()) < 0.05


def test_drop_event_by_time_range_with_equal_ends(snn_ops):
    sensor = (34, 34, 2)
    ev = random_events(48, sensor, True, n=2000, t0=1)
    for seed in range(5):
        a, _ = ours(snn_ops, ev, sensor, True, "DropEventByTime(duration_ratio=(0.3, 0.3))", seed)
        b, _ = ours(snn_ops, ev, sensor, True, "DropEventByTime(duration_ratio=0.3)", seed)
        assert_events_equal(a, b)
    # Ratio 0: an interval of length 0 at a real-valued start drops nothing, in Tonic too.
    np.random.seed(0)
    want = from_tonic(tt.DropEventByTime(duration_ratio=(0.0, 0.0))(to_tonic(ev)))
    got, _ = ours(snn_ops, ev, sensor, True, "DropEventByTime(duration_ratio=(0, 0))", 3)
    assert_events_equal(got, want)
    assert_events_equal(got, ev)


def box_of(ev, out):
    """(width, height) of the box DropEventByArea cut out (dense events fill it)."""
    d = dropped_rows(ev, out)
    if len(d) == 0:
        return 0, 0
    return (d[:, 1].max() - d[:, 1].min()).item() + 1, (d[:, 2].max() - d[:, 2].min()).item() + 1


def test_drop_event_by_area_range(snn_ops):
    sensor, (lo, hi) = (40, 30, 2), (0.1, 0.3)
    ev = random_events(49, sensor, True, n=30_000)
    spec = f"DropEventByArea(area_ratio=({lo}, {hi}))"
    widths = set()
    for seed in range(40):
        out, _ = ours(snn_ops, ev, sensor, True, spec, seed)
        again, _ = ours(snn_ops, ev, sensor, True, spec, seed)
        assert torch.equal(out, again), "a seed reproduces"
        w, h = box_of(ev, out)
        assert int(40 * lo) <= w <= int(40 * hi) and int(30 * lo) <= h <= int(30 * hi)
        widths.add(w)
    assert len(widths) >= 4, "the ratio is drawn per sample"


def test_drop_event_by_area_range_tonic_draws_above_hi(snn_ops):
    """Tonic 1.7.0 draws a range's ratio as uniform(lo and hi) = uniform in [hi, 1): its bug."""
    sensor, (lo, hi) = (40, 30, 2), (0.1, 0.3)
    ev = random_events(50, sensor, True, n=30_000)
    tonic_widths = []
    for seed in range(20):
        np.random.seed(seed)
        out = from_tonic(tt.DropEventByArea(sensor_size=sensor, area_ratio=(lo, hi))(to_tonic(ev)))
        tonic_widths.append(box_of(ev, out)[0])
    assert min(tonic_widths) >= int(40 * hi) and max(tonic_widths) > int(40 * hi), "Tonic's bug"
    for seed in range(20):
        out, _ = ours(snn_ops, ev, sensor, True, f"DropEventByArea(area_ratio=({lo}, {hi}))", seed)
        assert box_of(ev, out)[0] <= int(40 * hi)


def test_drop_event_by_area_range_with_equal_ends(snn_ops):
    sensor = (40, 30, 2)
    ev = random_events(51, sensor, True, n=5000)
    for seed in range(5):
        a, _ = ours(snn_ops, ev, sensor, True, "DropEventByArea(area_ratio=(0.25, 0.25))", seed)
        b, _ = ours(snn_ops, ev, sensor, True, "DropEventByArea(area_ratio=0.25)", seed)
        assert_events_equal(a, b)
        assert box_of(ev, a) == (10, 7)
    # Ratio 0: an empty box, nothing dropped, as Tonic's fixed 0.0 (Tonic's (0.0, 0.0) range
    # would draw from [0, 1), its bug above).
    np.random.seed(0)
    want = from_tonic(tt.DropEventByArea(sensor_size=sensor, area_ratio=0.0)(to_tonic(ev)))
    got, _ = ours(snn_ops, ev, sensor, True, "DropEventByArea(area_ratio=(0, 0))", 1)
    assert_events_equal(got, want)
    assert_events_equal(got, ev)


def test_range_parameters_are_checked(snn_ops):
    for spec, message in [
        ("TimeSkew(coefficient=(1.2, 0.8))", r"got coefficient=\(1.2, 0.8\)"),
        ("TimeSkew(coefficient=1, offset=(5, -5))", r"got offset=\(5, -5\)"),
        ("DropEventByTime(duration_ratio=(0.2, 1))", r"got duration_ratio=\(0.2, 1\)"),
        ("DropEventByTime(duration_ratio=(0.3, 0.2))", r"a range needs 0 <= lo <= hi < 1"),
        ("DropEventByArea(area_ratio=(-0.1, 0.2))", r"got area_ratio=\(-0.1, 0.2\)"),
        ("DropEventByArea(area_ratio=(0.1, 0.2, 0.3))", r"expects a pair of numbers \(a, b\)"),
    ]:
        with pytest.raises(RuntimeError, match=message):
            snn_ops.events_spec_repr("transform", spec)
