"""snn::snntorch::spikegen against snntorch.spikegen: latency (RC and linear, normalize,
clip, tau, threshold, first_spike_time, on/off targets, bypass) and delta (threshold,
padding, off_spike) equal snnTorch's on seeded random data; rate is held to its
distribution (the mean rate of each element, first_spike_time, time-varying input), not to
torch's random stream; to_one_hot equals snnTorch's; bad arguments are named."""
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
