"""snn::spikingtorch against spikingtorch 0.1.3: IF, LIF (tau or decay) and McPitts step by
step (spikingtorch's forward(x, init)) and as one fused sequence, over chained calls, with
inputs that land exactly on the threshold (its step gives 1/2 there); spikes, membranes and
input gradients (the gradient flows through the reset too). The tutorial's flow (its
MySNN network in a SpikingNet, SumDecoder, cross-entropy): output, loss and every
gradient. PeriodicEncoder, SumDecoder and RateDecoder equal spikingtorch's; PoissonEncoder
is held to its distribution (per-element rates against clamp(scale·x, 0, 1))."""
import numpy as np
import pytest
import torch
from torch import nn

from conftest import ATOL, RTOL
from test_sinabs_structure import close, run

spikingtorch = pytest.importorskip("spikingtorch")
from spikingtorch import spikeio  # noqa: E402


def make(model, o):
    if model == "IF":
        return spikingtorch.IF(v0=o["v0"], beta=o["beta"])
    if model == "LIF":
        return spikingtorch.LIF(tau=o["tau"], v0=o["v0"], beta=o["beta"], decay=o.get("decay"))
    return spikingtorch.McPitts(o["thr"], beta=o["beta"])


def theirs(case):
    layer = make(case["model"], case["options"])
    spikes, vs, xs, loss = [], [], [], 0
    for k, x in enumerate(case["inputs"]):
        x = x.clone().requires_grad_(True)
        xs.append(x)
        steps = []
        for t in range(x.shape[1]):
            if case["model"] == "McPitts":
                steps.append(layer(x[:, t]))
                continue
            steps.append(layer(x[:, t], k == 0 and t == 0))
            if case["mode"] == "step" or t == x.shape[1] - 1:
                vs.append(layer.v.detach())
        s = torch.stack(steps, 1)
        spikes.append(s.detach())
        loss = loss + (s * case["grad_spikes"][k]).sum()
    if case["model"] != "McPitts":
        loss = loss + (layer.v * case["grad_v"]).sum()
    loss.backward()
    return dict(spikes=spikes, v=vs, grad_inputs=[x.grad for x in xs])


def random_case(seed, model, mode):
    g = torch.Generator().manual_seed(seed)
    rnd = lambda *shape: torch.rand(*shape, generator=g)  # noqa: E731
    o = dict(v0=float(0.5 + rnd(()) * 1.0), beta=float(1 + rnd(()) * 6))
    if model == "LIF":
        o["tau"] = float(2 + rnd(()) * 10)
        if seed % 2:
            o["decay"] = float(0.5 + rnd(()) * 0.5)
    if model == "McPitts":
        o["thr"] = o["v0"]
    B, N = 3, [7, 300][seed % 2]
    inputs = []
    for _ in range(2):
        x = rnd(B, 6, N) * 1.6 - 0.4
        # Some inputs exactly on the threshold (v = v0 at once from a reset state).
        mask = rnd(B, 6, N) < 0.1
        x[mask] = o["v0"] if model != "LIF" or "decay" in o else o["v0"] / (o["tau"] * (1 - np.exp(-1 / o["tau"])))
        inputs.append(x)
    case = dict(layer="spikingtorch", kind="neuron", model=model, mode=mode, options=o,
                inputs=inputs, grad_spikes=[torch.randn(x.shape, generator=g) for x in inputs],
                grad_v=torch.randn(B, N, generator=g))
    return case


CASES = [(seed, model, mode) for seed in range(4) for model in ("IF", "LIF", "McPitts")
         for mode in ("step", "sequence")]


@pytest.mark.parametrize("seed,model,mode", CASES)
def test_neurons_match_spikingtorch(seed, model, mode, driver, tmp_path):
    case = random_case(seed, model, mode)
    expected = theirs(case)
    ours = run(driver, case, tmp_path)
    half = sum(int((s == 0.5).sum()) for s in expected["spikes"])
    if model != "LIF" or seed % 2:
        assert half > 0, "the case must hit the threshold exactly"
    for k in range(len(case["inputs"])):
        assert torch.equal(ours["spikes"][k], expected["spikes"][k]), f"spikes of call {k}"
        close(ours["grad_inputs"][k], expected["grad_inputs"][k], f"grad input {k}")
    assert len(ours["v"]) == len(expected["v"])
    for k, (a, b) in enumerate(zip(ours["v"], expected["v"])):
        close(a, b, f"v {k}")


def test_gradient_flows_through_the_reset(driver, tmp_path):
    """spikingtorch does not detach s_{t-1} in (1 - s_{t-1})·v: dropping that path (as
    snnTorch does) changes the input gradient; ours keeps it."""
    case = random_case(5, "IF", "step")
    ours = run(driver, case, tmp_path)
    expected = theirs(case)
    close(ours["grad_inputs"][0], expected["grad_inputs"][0], "grad input")
    # The same network with the reset detached gives another gradient.

    class Detached(spikingtorch.IF):
        def forward(self, xi, init=False):
            if init:
                self.reset(xi)
            self.v = (1 - self.s.detach()) * self.v + xi
            self.s = spikingtorch.layers.step(self.v - self.v0, self.beta)
            return self.s

    layer = Detached(v0=case["options"]["v0"], beta=case["options"]["beta"])
    x = case["inputs"][0].clone().requires_grad_(True)
    out = torch.stack([layer(x[:, t], t == 0) for t in range(x.shape[1])], 1)
    (out * case["grad_spikes"][0]).sum().backward()
    assert not torch.allclose(x.grad, expected["grad_inputs"][0], atol=1e-4)


class MySNN(nn.Module):
    """spikingtorch's tutorial network."""

    def __init__(self, nout=10):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 4, (4, 4), stride=2, padding=0)
        self.conv2 = nn.Conv2d(4, 6, (4, 4), stride=1, padding=0)
        self.l1 = nn.Linear(600, nout, bias=None)
        self.sl1, self.sl2, self.sl3 = spikingtorch.IF(), spikingtorch.IF(), spikingtorch.IF()

    def forward(self, xi, init):
        s1 = self.sl1(self.conv1(xi), init)
        s2 = self.sl2(self.conv2(s1), init)
        return self.sl3(self.l1(s2.view(s2.shape[0], -1)), init)


def test_tutorial_flow_matches_spikingtorch(driver, tmp_path):
    torch.manual_seed(0)
    net = MySNN()
    with torch.no_grad():  # larger weights: every layer fires
        for p in net.parameters():
            p.mul_(4)
    model = spikingtorch.SpikingNet(net, (10,))
    nsteps = 8
    images = torch.rand(3, 1, 28, 28)
    x = spikeio.PoissonEncoder(nsteps, 1.0)(images)  # [3, 8, 28, 28]
    labels = torch.tensor([3, 1, 7])
    xg = x.clone().requires_grad_(True)
    spikes = model(xg)
    loss = nn.functional.cross_entropy(spikeio.SumDecoder(nsteps, 1.0)(spikes), labels)
    loss.backward()
    assert spikes.sum() > 0
    weights = {"net." + n: p.detach().clone() for n, p in net.named_parameters()}
    ours = run(driver, dict(layer="spikingtorch", kind="tutorial", nsteps=nsteps, input=x,
                            labels=labels, weights={k[4:]: v for k, v in weights.items()}),
               tmp_path)
    assert torch.equal(ours["spikes"], spikes.detach())
    close(ours["loss"], loss.detach(), "loss")
    close(ours["grad_input"], xg.grad, "grad input")
    assert set(ours["grad_params"]) == set(weights)
    for n, p in model.named_parameters():
        close(ours["grad_params"][n], p.grad, n)


def test_encoders_and_decoders(driver, tmp_path):
    g = torch.Generator().manual_seed(3)
    nsteps, scale = 12, 1.5
    x = torch.rand(4, 1, 5, 5, generator=g)
    x[0, 0, 0, :3] = torch.tensor([0.0, 1.0, 0.8])  # never, always (scale·x ≥ 1), always
    spikes = (torch.rand(4, nsteps, 6, generator=g) < 0.3).float()
    repeats = 400
    ours = run(driver, dict(layer="spikingtorch", kind="io", input=x, nsteps=nsteps, scale=scale,
                            seed=5, repeats=repeats, spikes=spikes), tmp_path)
    assert torch.equal(ours["periodic"], spikeio.PeriodicEncoder(nsteps, scale)(x))
    assert torch.equal(ours["sum"], spikeio.SumDecoder(nsteps, scale)(spikes))
    assert torch.equal(ours["sum_no_offset"], spikeio.SumDecoder(nsteps, scale, offset=False)(spikes))
    assert torch.equal(ours["rate"], spikeio.RateDecoder()(spikes))
    # Poisson: [repeats·4, nsteps, 5, 5]; each element spikes with p = clamp(scale·x, 0, 1).
    p = ours["poisson"]
    assert p.shape == (repeats * 4, nsteps, 5, 5)
    assert set(p.unique().tolist()) <= {0.0, 1.0}
    prob = (x * scale).clamp(0, 1).squeeze(1)  # [4, 5, 5]
    counts = p.reshape(repeats, 4, nsteps, 5, 5).sum((0, 2))  # spikes per element
    n = repeats * nsteps
    assert counts[0, 0, 0] == 0 and counts[0, 0, 1] == n and counts[0, 0, 2] == n
    inner = (prob > 0.02) & (prob < 0.98)
    z = (counts - n * prob) / torch.sqrt(n * prob * (1 - prob)).clamp_min(1e-9)
    assert z[inner].abs().max() < 5, "a rate more than 5 sigma off"
    chi2 = float((z[inner] ** 2).sum())
    dof = int(inner.sum())
    assert chi2 < dof + 5 * np.sqrt(2 * dof), (chi2, dof)
    # spikingtorch's own encoder on the same input: the same rates (its random stream).
    torch.manual_seed(0)
    theirs_p = torch.cat([spikeio.PoissonEncoder(nsteps, scale)(x) for _ in range(repeats)])
    theirs_counts = theirs_p.reshape(repeats, 4, nsteps, 5, 5).sum((0, 2))
    assert ((theirs_counts - counts).abs() / n)[inner].max() < 0.05


def test_bad_arguments_are_named(driver, tmp_path):
    case = random_case(0, "IF", "step")
    case["options"]["v0"] = 0.0
    import subprocess
    torch.save(case, tmp_path / "case.pt")
    proc = subprocess.run([str(driver), str(tmp_path / "case.pt"), str(tmp_path / "r.pt")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "snn::spikingtorch::IF: v0 must be > 0 (a threshold <= 0 fires at rest), got 0" in proc.stderr
