"""snn::snntorch::spikegen against snntorch.spikegen: latency (RC and linear, normalize,
clip, tau, threshold, first_spike_time, on/off targets, bypass, interpolate) and delta
(threshold, padding, off_spike) equal snnTorch's on seeded random data; rate is held to its
distribution (the mean rate of each element, first_spike_time, time-varying input), not to
torch's random stream; to_one_hot equals snnTorch's; the target helpers (targets_rate,
target_rate_code, rate_interpolate, latency_interpolate, targets_latency, targets_convert,
to_one_hot_inverse, from_one_hot) equal snnTorch's where deterministic, their random firing
patterns are held to their distributions, and snnTorch's bugs in them are asserted; bad
arguments are named."""
import itertools

import numpy as np
import pytest
import torch


@pytest.fixture(scope="module")
def sg():
    import snntorch.spikegen as spikegen
    return spikegen


LATENCY_CASES = [
    dict(num_steps=10, bypass=True),  # late spikes beyond num_steps are dropped
    dict(num_steps=25, tau=5, threshold=0.05, bypass=True),
    dict(num_steps=20, normalize=True),
    dict(num_steps=20, normalize=True, linear=True),
    dict(num_steps=15, linear=True, tau=10, clip=True),
    dict(num_steps=30, tau=4, first_spike_time=3, on_target=2.0, off_target=0.5, bypass=True),
    dict(num_steps=12, tau=8, bypass=True),
    dict(num_steps=12, normalize=True, first_spike_time=2, clip=True, threshold=0.2),
]


@pytest.mark.parametrize("kwargs", LATENCY_CASES)
def test_latency_equals_snntorch(snn_ops, sg, kwargs):
    torch.manual_seed(1)
    data = torch.rand(6, 1, 7, 7)
    data[0, 0, 0, :3] = torch.tensor([0.0, 1.0, 0.005])  # the ends and below threshold
    expected = sg.latency(data, **kwargs)
    got = snn_ops.spikegen_latency(data, **kwargs)
    assert got.shape == expected.shape
    assert torch.equal(got, expected.to(got.dtype))


def test_latency_bypass_without_num_steps(snn_ops, sg):
    data = torch.rand(4, 9)
    expected = sg.latency(data, tau=3, bypass=True)
    assert torch.equal(snn_ops.spikegen_latency(data, tau=3, bypass=True), expected)


@pytest.mark.parametrize("threshold,padding,off_spike",
                         list(itertools.product([0.1, 0.5], [False, True], [False, True])))
def test_delta_equals_snntorch(snn_ops, sg, threshold, padding, off_spike):
    torch.manual_seed(2)
    data = torch.rand(20, 3, 11) * 2 - 0.5
    expected = sg.delta(data, threshold=threshold, padding=padding, off_spike=off_spike)
    got = snn_ops.spikegen_delta(data, threshold=threshold, padding=padding, off_spike=off_spike)
    assert torch.equal(got, expected)


def test_to_one_hot_equals_snntorch(snn_ops, sg):
    targets = torch.tensor([3, 0, 9, 9, 2])
    assert torch.equal(snn_ops.spikegen_to_one_hot(targets, 10), sg.to_one_hot(targets, 10))


def test_rate_has_the_rates_and_shapes_snntorch_gives(snn_ops, sg):
    torch.manual_seed(3)
    data = torch.rand(4, 50)
    steps, gain, offset = 4000, 0.8, 0.05
    got = snn_ops.spikegen_rate(data, num_steps=steps, gain=gain, offset=offset)
    assert got.shape == sg.rate(data, num_steps=steps).shape == (steps, 4, 50)
    assert set(got.unique().tolist()) <= {0.0, 1.0}
    p = torch.clamp(data * gain + offset, 0, 1)
    # Each element's rate within 5 binomial standard deviations of its probability.
    sd = torch.sqrt(p * (1 - p) / steps).clamp_min(1e-3)
    assert ((got.mean(0) - p).abs() < 5 * sd).all()
    # Over all elements: a chi-square goodness of fit of the counts.
    counts = got.sum(0).flatten().double()
    expected = (p.flatten() * steps).double()
    var = (steps * p.flatten() * (1 - p.flatten())).double().clamp_min(1e-6)
    chi2 = (((counts - expected) ** 2) / var).sum().item()
    n = counts.numel()
    assert chi2 < n + 5 * np.sqrt(2 * n), chi2
    # first_spike_time: nothing before it; snnTorch's shape.
    first = snn_ops.spikegen_rate(torch.ones(3, 5), num_steps=10, first_spike_time=4)
    assert first.shape == sg.rate(torch.ones(3, 5), num_steps=10, first_spike_time=4).shape
    assert first[:4].sum() == 0 and first[4:].sum() == 6 * 15
    # Time-varying input: one draw per element, first_spike_time empty steps before it.
    tv = snn_ops.spikegen_rate(torch.ones(7, 2), first_spike_time=3, time_var_input=True)
    assert tv.shape == sg.rate(torch.ones(7, 2), first_spike_time=3, time_var_input=True).shape
    assert tv[:3].sum() == 0 and tv[3:].sum() == 14


@pytest.mark.parametrize("call,message", [
    (lambda ops: ops.spikegen_latency(torch.tensor([1.5]), num_steps=5), "must be in [0, 1]"),
    (lambda ops: ops.spikegen_latency(torch.rand(3)), "num_steps must be given"),
    (lambda ops: ops.spikegen_latency(torch.rand(3), num_steps=5, threshold=1.5),
     "threshold must be in (0, 1)"),
    (lambda ops: ops.spikegen_latency(torch.full((3,), 0.011), num_steps=2, tau=50),
     "is beyond num_steps - 1"),
    (lambda ops: ops.spikegen_rate(torch.rand(3)), "num_steps must be > 0"),
    (lambda ops: ops.spikegen_rate(torch.rand(3), num_steps=4, first_spike_time=4),
     "first_spike_time (4) must be <= num_steps - 1 (3)"),
    (lambda ops: ops.spikegen_to_one_hot(torch.tensor([0, 10]), 10), "out of bounds"),
])
def test_bad_arguments_are_named(snn_ops, call, message):
    with pytest.raises(RuntimeError, match=None) as e:
        call(snn_ops)
    assert message in str(e.value), str(e.value)


# --- The target helpers: targets_rate / target_rate_code / rate_interpolate, latency
# interpolation, targets_latency, targets_convert, to_one_hot_inverse, from_one_hot.

@pytest.mark.parametrize("num_steps,first,rate", list(itertools.product(
    [1, 7, 20], [0, 3], [1.0, 0.5, 0.3, 1 / 3, 0.25, 0.11, 0.0])))
def test_target_rate_code_regular_equals_snntorch(snn_ops, sg, num_steps, first, rate):
    if first > num_steps:
        return
    spikes, times = sg.target_rate_code(num_steps, first, rate)
    ours, our_times = snn_ops.spikegen_target_rate_code(num_steps, first, rate)
    assert torch.equal(ours, spikes)
    assert our_times.tolist() == times.long().tolist()


def spike_time_sets(seed, num_steps, count):
    g = torch.Generator().manual_seed(seed)
    for _ in range(count):
        n = int(torch.randint(1, num_steps + 1, (1,), generator=g))
        yield torch.randperm(num_steps, generator=g)[:n].sort().values


@pytest.mark.parametrize("on,off", [(1, 0), (1.25, 0.25), (1.3, -0.2), (0.2, 0.9)])
def test_rate_interpolate_equals_snntorch(snn_ops, sg, on, off):
    for times in spike_time_sets(5, 13, 25):
        expected = sg.rate_interpolate(times, 13, on_target=on, off_target=off)
        assert torch.equal(snn_ops.spikegen_rate_interpolate(times, 13, on, off), expected)
    empty = torch.tensor([], dtype=torch.long)
    assert torch.equal(snn_ops.spikegen_rate_interpolate(empty, 6, on, off),
                       sg.rate_interpolate(empty, 6, on_target=on, off_target=off))


@pytest.mark.parametrize("on,off", [(1, 0), (1.25, 0.25), (0.7, -0.3)])
def test_latency_interpolate_equals_snntorch(snn_ops, sg, on, off):
    g = torch.Generator().manual_seed(6)
    for _ in range(10):
        times = torch.randint(0, 16, (3, 5), generator=g).float() + torch.rand(3, 5, generator=g)
        times[0, 0] = 0.0
        expected = sg.latency_interpolate(times.clone(), 12, on_target=on, off_target=off)
        assert torch.equal(snn_ops.spikegen_latency_interpolate(times, 12, on, off), expected)


@pytest.mark.parametrize("kwargs", [
    dict(), dict(on_target=1.5, off_target=0.25), dict(on_target=0.2, off_target=0.7),
    dict(on_target=1.0, off_target=-0.5),
    dict(num_steps=6, first_spike_time=2), dict(num_steps=6, first_spike_time=3, on_target=1.5,
                                                off_target=0.5),
])
def test_targets_rate_without_rates_equals_snntorch(snn_ops, sg, kwargs):
    labels = torch.tensor([3, 0, 2, 1, 3, 4])
    expected = sg.targets_rate(labels, 5, **kwargs)
    assert torch.equal(snn_ops.spikegen_targets_rate(labels, 5, **kwargs), expected)
    assert torch.equal(snn_ops.spikegen_targets_convert(labels, 5, **kwargs),
                       sg.targets_convert(labels, 5, **kwargs))


RATE_CASES = [dict(correct_rate=0.5), dict(correct_rate=0.8, incorrect_rate=0.2),
              dict(correct_rate=0.4, incorrect_rate=0.25, first_spike_time=2),
              dict(correct_rate=1.0, incorrect_rate=0.3, on_target=1.2, off_target=0.1)]


@pytest.mark.parametrize("kwargs,interpolate", list(itertools.product(RATE_CASES, [False, True])))
def test_targets_rate_with_rates(snn_ops, sg, kwargs, interpolate):
    """snnTorch broadcasts the incorrect classes' pattern [T] along the classes and adds a
    [T, B, C, 1, 1] to a [T, B, C] tensor: an error unless T = C, else a 5-D tensor (with
    interpolate, an error unless T = C, else the right ramps). Here the
    label's class follows the correct pattern and the others the incorrect one: snnTorch's own
    target_rate_code / rate_interpolate / to_one_hot, combined per class."""
    labels = torch.tensor([3, 0, 2, 1, 3])
    steps, classes = 11, 5
    with pytest.raises(RuntimeError):
        sg.targets_rate(labels, classes, num_steps=steps, interpolate=interpolate, **kwargs)
    square = sg.targets_rate(labels, classes, num_steps=classes, interpolate=interpolate,
                             **kwargs)
    if interpolate:  # the ramps are right when T = C (the failing product is unused)
        assert torch.equal(snn_ops.spikegen_targets_rate(
            labels, classes, num_steps=classes, interpolate=True, **kwargs), square)
    else:
        assert square.dim() == 5
    on, off = kwargs.get("on_target", 1), kwargs.get("off_target", 0)
    first = kwargs.get("first_spike_time", 0)
    code = lambda rate: sg.target_rate_code(steps, first, rate)
    (correct, correct_times), (incorrect, incorrect_times) = (
        code(kwargs["correct_rate"]), code(kwargs.get("incorrect_rate", 0)))
    one_hot = sg.to_one_hot(labels, classes)
    inverse = sg.to_one_hot_inverse(one_hot)
    along = lambda x: x.reshape(-1, 1, 1)
    if interpolate:
        interp = lambda t: sg.rate_interpolate(t, steps, on_target=on, off_target=off)
        expected = one_hot * along(interp(correct_times)) + inverse * along(interp(incorrect_times))
    else:
        expected = torch.clamp((one_hot * along(correct) + inverse * along(incorrect)) * on, off)
    ours = snn_ops.spikegen_targets_rate(labels, classes, num_steps=steps,
                                         interpolate=interpolate, **kwargs)
    assert torch.equal(ours, expected)


@pytest.mark.parametrize("kwargs", LATENCY_CASES + [
    dict(num_steps=8, normalize=True, interpolate=True),
    dict(num_steps=10, tau=3, on_target=1.5, off_target=0.2, interpolate=True, bypass=True),
    dict(num_steps=9, linear=True, tau=6, interpolate=True)])
def test_targets_latency_equals_snntorch(snn_ops, sg, kwargs):
    labels = torch.tensor([3, 0, 2, 1, 3])
    expected = sg.targets_latency(labels, 5, **kwargs)
    assert torch.equal(snn_ops.spikegen_targets_latency(labels, 5, **kwargs), expected)
    if kwargs.get("interpolate"):
        torch.manual_seed(1)
        data = torch.rand(3, 6)
        assert torch.equal(snn_ops.spikegen_latency(data, **kwargs), sg.latency(data, **kwargs))


def test_targets_convert_latency_passes_every_option(snn_ops, sg):
    """snnTorch's targets_convert drops on_target, off_target and interpolate for
    code="latency"; here they reach targets_latency (snnTorch's targets_latency with them)."""
    labels = torch.tensor([1, 0, 2])
    kw = dict(num_steps=6, normalize=True, on_target=1.5, off_target=0.25)
    theirs = sg.targets_convert(labels, 3, code="latency", **kw)
    assert torch.equal(theirs, sg.targets_latency(labels, 3, num_steps=6, normalize=True))
    ours = snn_ops.spikegen_targets_convert(labels, 3, code="latency", **kw)
    assert torch.equal(ours, sg.targets_latency(labels, 3, **kw))
    assert not torch.equal(ours, theirs)
    plain = dict(num_steps=6, normalize=True)
    assert torch.equal(snn_ops.spikegen_targets_convert(labels, 3, code="latency", **plain),
                       sg.targets_convert(labels, 3, code="latency", **plain))


def test_one_hot_inverse_and_from_one_hot(snn_ops, sg):
    g = torch.Generator().manual_seed(7)
    labels = torch.randint(0, 6, (9,), generator=g)
    one_hot = sg.to_one_hot(labels, 6)
    assert torch.equal(snn_ops.spikegen_to_one_hot_inverse(one_hot),
                       sg.to_one_hot_inverse(one_hot))
    mixed = torch.randn(4, 5, generator=g).round()
    assert torch.equal(snn_ops.spikegen_to_one_hot_inverse(mixed), sg.to_one_hot_inverse(mixed))
    for label in range(6):  # [C]: snnTorch is right
        vec = sg.to_one_hot(torch.tensor([label]), 6)[0]
        assert torch.equal(snn_ops.spikegen_from_one_hot(vec), sg.from_one_hot(vec))
    # [N, C]: snnTorch returns the row numbers; here the classes.
    assert torch.equal(sg.from_one_hot(one_hot), torch.arange(9))
    assert torch.equal(snn_ops.spikegen_from_one_hot(one_hot), labels)


@pytest.mark.parametrize("first,rate", [(0, 0.3), (4, 0.5), (2, 0.9)])
def test_random_firing_patterns_have_their_distribution(snn_ops, sg, first, rate):
    """uniform: len(arange(first, T, 1/rate)) times drawn uniformly from [first, T) (the ones on
    one step merge); poisson: Bernoulli(rate) from first. Held to these distributions, not to
    torch's random stream; snnTorch's shapes."""
    T, draws = 20, 3000
    torch.manual_seed(8)
    n = len(torch.arange(first, T, 1 / rate))
    for pattern in ("uniform", "poisson"):
        spikes = torch.stack([snn_ops.spikegen_target_rate_code(T, first, rate, pattern)[0]
                              for _ in range(draws)])
        assert spikes.shape == (draws, *sg.target_rate_code(T, first, rate, pattern)[0].shape)
        assert set(spikes.unique().tolist()) <= {0.0, 1.0}
        assert spikes[:, :first].sum() == 0
        p = 1 - (1 - 1 / (T - first)) ** n if pattern == "uniform" else rate
        freq = spikes[:, first:].mean(0)
        assert ((freq - p).abs() < 5 * (p * (1 - p) / draws) ** 0.5 + 1e-6).all(), (pattern, freq, p)
        if pattern == "uniform":
            assert (spikes.sum(1) <= n).all() and (spikes.sum(1) >= 1).all()
    # In targets_rate, one pattern per class kind, shared by the batch.
    labels = torch.tensor([1, 1, 0, 2])
    t = snn_ops.spikegen_targets_rate(labels, 3, num_steps=T, first_spike_time=first,
                                      correct_rate=rate, incorrect_rate=0.2,
                                      firing_pattern="poisson")
    assert t.shape == (T, 4, 3)
    assert torch.equal(t[:, 0, 1], t[:, 1, 1]) and torch.equal(t[:, 2, 0], t[:, 3, 2])


@pytest.mark.parametrize("call,message", [
    (lambda ops: ops.spikegen_targets_rate(torch.tensor([0]), 3, num_steps=5, correct_rate=1.5),
     "correct_rate and incorrect_rate must be in [0, 1], got 1.5 and 0"),
    (lambda ops: ops.spikegen_targets_rate(torch.tensor([0]), 3, num_steps=5, correct_rate=0.2,
                                           incorrect_rate=0.4),
     "correct_rate (0.2) must be >= incorrect_rate (0.4)"),
    (lambda ops: ops.spikegen_targets_rate(torch.tensor([0]), 3, correct_rate=0.5),
     "num_steps must be > 0 with rates or first_spike_time, got 0"),
    (lambda ops: ops.spikegen_targets_rate(torch.tensor([0]), 3, num_steps=5, correct_rate=0.5,
                                           firing_pattern="burst"),
     'firing_pattern must be "regular", "uniform" or "poisson", got "burst"'),
    (lambda ops: ops.spikegen_targets_rate(torch.tensor([3]), 3), "out of bounds"),
    (lambda ops: ops.spikegen_target_rate_code(5, 6, 0.5),
     "first_spike_time must be in [0, num_steps] = [0, 5], got 6"),
    (lambda ops: ops.spikegen_target_rate_code(5, 0, 1.2), "rate must be in [0, 1], got 1.2"),
    (lambda ops: ops.spikegen_targets_convert(torch.tensor([0]), 3, code="phase"),
     'code must be "rate" or "latency", got "phase"'),
    (lambda ops: ops.spikegen_latency_interpolate(torch.tensor([2.0]), 5, 0.1, 0.5),
     "on_target (0.1) must be >= off_target (0.5)"),
    (lambda ops: ops.spikegen_from_one_hot(torch.zeros(2, 2, 2)), "expected a one-hot [C] or [N, C]"),
])
def test_bad_target_arguments_are_named(snn_ops, call, message):
    with pytest.raises(RuntimeError) as e:
        call(snn_ops)
    assert message in str(e.value), str(e.value)
