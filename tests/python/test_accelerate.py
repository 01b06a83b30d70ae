"""snncpp.accelerate on the seed tutorials' models: the same outputs and gradients as before
the swap (the oracle is the untouched model, run by Sinabs / snnTorch at test time), every
neuron layer swapped in place, and what cannot be swapped reported by module path."""
import copy
import warnings

import pytest
import torch

import snncpp
from conftest import ATOL, RTOL

sinabs = pytest.importorskip("sinabs")
snntorch = pytest.importorskip("snntorch")
import sinabs.activation as sa  # noqa: E402
import sinabs.layers as sl  # noqa: E402


def amld_shd_mlp(neuron, batch_size):
    """The AMLD SHD tutorial's network (Sinabs): 140 -> 64 -> 64 -> 20, Squeeze layers."""
    common = dict(tau_syn=1.0, min_v_mem=0.0, spike_fn=sa.SingleSpike, batch_size=batch_size)
    make = (lambda: sl.IAFSqueeze(**common)) if neuron == "iaf" else \
        (lambda: sl.LIFSqueeze(tau_mem=2.0, norm_input=False, **common))
    return torch.nn.Sequential(torch.nn.Linear(140, 64, bias=False), make(),
                               torch.nn.Linear(64, 64, bias=False), make(),
                               torch.nn.Linear(64, 20, bias=False), make())


def synops_conv_net(batch_size):
    """Sinabs' tutorial "Training an SNN with fewer synops": its conv SNN on [B*T, 1, 28, 28]."""
    iaf = lambda: sl.IAFSqueeze(batch_size=batch_size, min_v_mem=-1.0,
                                surrogate_grad_fn=sa.SingleExponential())
    return torch.nn.Sequential(
        torch.nn.Conv2d(1, 16, 5, bias=False), iaf(), sl.SumPool2d(2),
        torch.nn.Conv2d(16, 32, 5, bias=False), iaf(), sl.SumPool2d(2),
        torch.nn.Conv2d(32, 120, 4, bias=False), iaf(), torch.nn.Flatten(),
        torch.nn.Linear(120, 10, bias=False), iaf())


class SnnTorchTutorialNet(torch.nn.Module):
    """snnTorch's tutorial 5 network: Linear -> Leaky -> Linear -> Leaky, stepped in a loop."""

    def __init__(self, inputs=784, hidden=100, outputs=10, beta=0.95):
        super().__init__()
        self.fc1 = torch.nn.Linear(inputs, hidden)
        self.lif1 = snntorch.Leaky(beta=beta)
        self.fc2 = torch.nn.Linear(hidden, outputs)
        self.lif2 = snntorch.Leaky(beta=beta)

    def forward(self, x):  # x [T, B, inputs]
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        spikes, mems = [], []
        for step in range(x.shape[0]):
            spk1, mem1 = self.lif1(self.fc1(x[step]), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            spikes.append(spk2)
            mems.append(mem2)
        return torch.stack(spikes), torch.stack(mems)


def run_and_grads(model, x, forward):
    """Outputs of `forward(model, x)` over two calls (state carried), and every gradient."""
    x = x.clone().requires_grad_(True)
    model.zero_grad()
    out = forward(model, x)
    loss = sum((o.float() * torch.linspace(0.5, 1.5, o.shape[-1])).sum() for o in out)
    loss.backward()
    grads = {n: p.grad.clone() for n, p in model.named_parameters() if p.grad is not None}
    return [o.detach() for o in out], x.grad.clone(), grads


def assert_same(before, after):
    (out_a, gx_a, g_a), (out_b, gx_b, g_b) = before, after
    for a, b in zip(out_a, out_b):
        assert torch.equal(a, b), f"outputs differ in {(a != b).sum().item()} places"
    torch.testing.assert_close(gx_b, gx_a, atol=ATOL, rtol=RTOL)
    assert g_a.keys() == g_b.keys()
    for name in g_a:
        torch.testing.assert_close(g_b[name], g_a[name], atol=ATOL, rtol=RTOL, msg=name)


def swapped_paths(report):
    return sorted(p for p, _, _ in report.swapped)


@pytest.mark.parametrize("neuron", ["iaf", "lif"])
def test_amld_shd_mlp(neuron):
    torch.manual_seed(0)
    B, T = 8, 70
    model = amld_shd_mlp(neuron, B)
    for m in model:
        if isinstance(m, torch.nn.Linear):
            m.weight.data *= 10  # enough spikes to make the comparison mean something
    x = (torch.rand(B, T, 140) < 0.2).float()

    def forward(net, inp):
        sinabs.reset_states(net)
        out1 = net(inp.reshape(B * T, -1)).reshape(B, T, -1)
        out2 = net(inp.flip(1).reshape(B * T, -1)).reshape(B, T, -1)  # state carried over
        return out1, out2

    original = copy.deepcopy(model)
    before = run_and_grads(original, x, forward)
    assert before[0][0].sum() > 10
    params = list(model.parameters())
    report = snncpp.accelerate(model)
    assert swapped_paths(report) == ["1", "3", "5"] and not report.not_swapped
    assert all(type(model[i]).__module__ == "snncpp.sinabs" for i in (1, 3, 5))
    assert all(isinstance(model[i], sl.StatefulLayer) for i in (1, 3, 5))
    assert list(model.parameters()) == params and all(a is b for a, b in zip(model.parameters(), params))
    assert repr(model) == repr(original)
    assert_same(before, run_and_grads(model, x, forward))


def test_sinabs_synops_conv_net_and_its_synops_loss():
    torch.manual_seed(1)
    B, T = 4, 10
    model = synops_conv_net(B)
    x = (torch.rand(B * T, 1, 28, 28) < 0.3).float()

    def forward(net, inp):
        sinabs.reset_states(net)
        analyzer = sinabs.SNNAnalyzer(net)
        out = net(inp)
        synops = analyzer.get_model_statistics(average=True)["synops"]
        return out, synops.reshape(1)

    original = copy.deepcopy(model)
    before = run_and_grads(original, x, forward)
    report = snncpp.accelerate(model)
    assert swapped_paths(report) == ["1", "10", "4", "7"] and not report.not_swapped
    after = run_and_grads(model, x, forward)
    # The synops (Sinabs' own analyzer, hooked on the drop-ins) and their gradient as a loss.
    assert_same(before, after)


def test_snntorch_tutorial_net():
    torch.manual_seed(2)
    model = SnnTorchTutorialNet()
    x = torch.rand(25, 16, 784) * 0.5
    original = copy.deepcopy(model)
    before = run_and_grads(original, x, lambda net, inp: net(inp))
    assert before[0][0].sum() > 10
    report = snncpp.accelerate(model)
    assert swapped_paths(report) == ["lif1", "lif2"] and not report.not_swapped
    assert isinstance(model.lif1, snntorch.Leaky) and type(model.lif1).__module__ == "snncpp.snntorch"
    assert_same(before, run_and_grads(model, x, lambda net, inp: net(inp)))


def test_an_optimizer_built_before_the_swap_keeps_training_the_model():
    torch.manual_seed(3)
    B, T = 4, 20
    model = amld_shd_mlp("lif", B)
    reference = copy.deepcopy(model)
    x = (torch.rand(B, T, 140) < 0.3).float() * 3
    y = torch.randint(0, 20, (B,))
    opts = [torch.optim.Adam(m.parameters(), lr=1e-2) for m in (model, reference)]
    snncpp.accelerate(model)  # after the optimizer was built
    for net, opt in zip((model, reference), opts):
        for _ in range(3):
            sinabs.reset_states(net)
            loss = torch.nn.functional.cross_entropy(
                net(x.reshape(B * T, -1)).reshape(B, T, -1).sum(1), y)
            opt.zero_grad()
            loss.backward()
            opt.step()
    for a, b in zip(model.parameters(), reference.parameters()):
        torch.testing.assert_close(a, b, atol=ATOL, rtol=RTOL)
    fresh = amld_shd_mlp("lif", B)
    moved = [not torch.equal(a, b) for a, b in zip(model.parameters(), fresh.parameters())
             if a.shape == b.shape]
    assert any(moved), "the optimizer changed nothing"


class MySpike(torch.autograd.Function):
    """A spike function of the user's own: no fused op computes it."""

    @staticmethod
    def forward(ctx, v_mem, spike_threshold):
        return (v_mem > spike_threshold).float()

    @staticmethod
    def backward(ctx, grad):
        return grad, None


class MyLIF(sl.LIF):
    """A subclass of a Sinabs layer: its own code may change what it computes."""


def test_what_cannot_be_swapped_is_reported_by_path_and_left_alone():
    model = torch.nn.Sequential(
        torch.nn.Linear(4, 4),
        torch.nn.Sequential(sl.IAF(), sl.LIF(tau_mem=5.0, spike_fn=MySpike)),
        MyLIF(tau_mem=3.0),
        snntorch.Leaky(beta=0.9, spike_grad=lambda x: x))
    with pytest.warns(UserWarning, match=r"NOT swapped +1\.1"):
        report = snncpp.accelerate(model)
    assert swapped_paths(report) == ["1.0"]
    left = {p: (c, r) for p, c, r in report.not_swapped}
    assert set(left) == {"1.1", "2", "3"}
    assert "spike_fn" in left["1.1"][1]
    assert "subclass" in left["2"][1]
    assert "spike_grad" in left["3"][1]
    assert type(model[1][1]) is sl.LIF and type(model[2]) is MyLIF
    assert type(model[3]) is snntorch.Leaky
    assert "1.1" in str(report) and "sinabs.layers.lif.LIF" in str(report)


def test_strict_swaps_nothing_when_something_cannot_be_swapped():
    model = torch.nn.Sequential(sl.IAF(), sl.LIF(tau_mem=5.0, spike_fn=MySpike))
    with pytest.raises(snncpp._dropin.UnsupportedLayer, match=r"1 .*spike_fn"):
        snncpp.accelerate(model, strict=True)
    assert type(model[0]) is sl.IAF


def test_the_model_itself_is_swapped_and_a_second_call_changes_nothing():
    layer = sl.LIF(tau_mem=4.0)
    report = snncpp.accelerate(layer)
    assert swapped_paths(report) == [""] and type(layer).__module__ == "snncpp.sinabs"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        again = snncpp.accelerate(layer)
    assert not again.swapped and not again.not_swapped


def test_accelerate_rejects_what_is_not_a_module():
    with pytest.raises(TypeError, match="expected a torch.nn.Module"):
        snncpp.accelerate([sl.IAF()])
