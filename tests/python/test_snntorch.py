"""snncpp.snntorch's drop-ins against snnTorch itself (the oracle, run at test time).

Every case builds snnTorch's layer and the drop-in from the same arguments (and the same
seed, for the recurrent connection's weights), runs both over T steps in snnTorch's loop
(states passed in and out, the layer's own states, or init_hidden), backpropagates one
random linear loss of every step's spikes and states, and compares: spikes exactly, states
and gradients (input, initial states, every parameter) within ATOL / RTOL.
"""
import copy
import inspect
import random

import pytest
import snntorch
import snntorch.utils
import torch
from snntorch import surrogate as sg

import snncpp
from snncpp import snntorch as S
from snncpp._dropin import DropIn, UnsupportedLayer

from conftest import ATOL, RTOL

# snnTorch warns at every layer built with inhibition.
pytestmark = pytest.mark.filterwarnings("ignore:Inhibition is an unstable feature")

MODELS = ["Leaky", "Synaptic", "Lapicque", "Alpha", "RLeaky", "RSynaptic"]
# What a step takes after the input, and what it returns after the spikes (snnTorch's order).
CALL = {"Leaky": ["mem"], "Synaptic": ["syn", "mem"], "Lapicque": ["mem"],
        "Alpha": ["syn_exc", "syn_inh", "mem"], "RLeaky": ["spk", "mem"],
        "RSynaptic": ["spk", "syn", "mem"]}
RETURNS = {m: [n for n in CALL[m] if n != "spk"] for m in MODELS}

# snnTorch's surrogates (spike_grad), with non-default arguments.
SURROGATES = {
    "default": lambda: None,
    "atan": lambda: sg.atan(alpha=3.0),
    "fast_sigmoid": lambda: sg.fast_sigmoid(slope=10),
    "sigmoid": lambda: sg.sigmoid(slope=5),
    "spike_rate_escape": lambda: sg.spike_rate_escape(beta=2, slope=5),
    "triangular": lambda: sg.triangular(threshold=0.5),
    "straight_through_estimator": lambda: sg.straight_through_estimator(),
    "heaviside": lambda: sg.heaviside(),
    "Heaviside.apply": lambda: sg.Heaviside.apply,
    "SFS": lambda: sg.SFS(slope=10, B=0.1),
    "tensor_argument": lambda: sg.fast_sigmoid(slope=torch.tensor(7.0)),
}


@pytest.fixture(autouse=True)
def _clear_instances():
    """snnTorch keeps every neuron it builds in SpikingNeuron.instances (for reset_hidden)."""
    snntorch.SpikingNeuron.instances.clear()
    yield
    snntorch.SpikingNeuron.instances.clear()


def assert_close(actual, expected, what, scaled=False):
    """ATOL / RTOL; with `scaled` (gradients) the atol grows with the largest value: a
    gradient summed in float32 from terms of size M carries rounding of about M·1e-7."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    atol = ATOL * max(1.0, float(expected.abs().max())) if scaled and expected.numel() else ATOL
    torch.testing.assert_close(actual, expected, atol=atol, rtol=RTOL,
                               msg=lambda m: f"{what}: {m}")


# ---- cases ----------------------------------------------------------------------------------

def make_case(model, seed, mode=None):
    """A seeded random configuration of `model`: constructor arguments, shapes, inputs (made
    by `inputs`), the loop's mode and the loss's weights."""
    rng = random.Random(seed * 1000 + MODELS.index(model))
    g = torch.Generator().manual_seed(seed)
    rand = lambda *s: torch.rand(*s, generator=g)
    conv = model.startswith("R") and rng.random() < 0.25
    if conv:
        features = (2, 3, 4)
    else:
        features = rng.choice([(5,), (33,), (3, 4)])

    def value(lo, hi, tensor_only=False):
        """One number, a 0-d tensor, a per-neuron tensor, or one broadcast over features."""
        kind = rng.choice(["tensor", "per_neuron", "broadcast"] if tensor_only else
                          ["float", "tensor", "per_neuron", "broadcast"])
        if kind == "float":
            return lo + (hi - lo) * rng.random()
        if kind == "tensor":
            return lo + (hi - lo) * rand(())
        if kind == "per_neuron":
            return lo + (hi - lo) * rand(*features)
        return lo + (hi - lo) * rand(features[0], *[1] * (len(features) - 1))

    surrogate = rng.choice(list(SURROGATES))
    kw = dict(threshold=value(0.7, 1.3), spike_grad=SURROGATES[surrogate](),
              surrogate_disable=rng.random() < 0.1, learn_threshold=rng.random() < 0.5,
              reset_mechanism=rng.choice(["subtract", "zero", "none"]))
    if rng.random() < 0.5:
        kw["learn_beta"] = True
    if model == "Leaky":
        kw.update(beta=value(0.5, 1.05), graded_spikes_factor=value(0.5, 1.5),
                  learn_graded_spikes_factor=rng.random() < 0.5, reset_delay=rng.random() < 0.6)
    elif model in ("Synaptic", "RSynaptic"):
        kw.update(alpha=value(0.3, 0.95), beta=value(0.5, 1.05), learn_alpha=rng.random() < 0.5,
                  reset_delay=rng.random() < 0.6)
    elif model == "RLeaky":
        kw.update(beta=value(0.5, 1.05), reset_delay=rng.random() < 0.6)
    elif model == "Lapicque":
        # snnTorch's ways to give the constants: beta; beta and R; beta and C; R and C.
        how = rng.choice(["beta", "beta_R", "beta_C", "R_C"])
        dt = rng.choice([1, 1.0, 1e-3])
        kw["time_step"] = dt
        beta = 0.6 + 0.35 * rng.random()
        if "beta" in how:
            kw["beta"] = beta
        if "R" in how:
            kw["R"] = 1 + 4 * rng.random()
        if "C" in how:
            kw["C"] = (1 + 4 * rng.random()) * dt
        if how != "beta":
            kw.pop("learn_beta", None)  # snnTorch's learn_beta needs beta alone
    else:  # Alpha: alpha > beta; snnTorch's learn_alpha fails at construction
        kw.update(alpha=value(0.8, 0.95), beta=value(0.4, 0.75),
                  reset_mechanism=rng.choice(["subtract", "zero", "zero", "none"]))
    if model.startswith("R"):
        if conv:
            kw.update(all_to_all=True, conv2d_channels=features[0], kernel_size=3)
        elif rng.random() < 0.5 and len(features) == 1:
            kw.update(all_to_all=True, linear_features=features[0])
        else:
            kw.update(all_to_all=False, V=value(-0.5, 0.5))
        kw["learn_recurrent"] = rng.random() < 0.7
    delay = kw.get("reset_delay", True) or model == "RSynaptic"
    if len(features) == 1 and delay and rng.random() < 0.25:
        kw["inhibition"] = True
    if mode is None:
        mode = rng.choice(["passed", "passed", "own", "hidden"])
    if model == "RSynaptic" and not kw["reset_delay"]:
        mode = "passed"  # snnTorch's RSynaptic(reset_delay=False) needs spk and mem passed
    if mode == "hidden":
        kw["init_hidden"] = True
        kw["output"] = rng.random() < 0.5
    elif rng.random() < 0.3:
        kw["output"] = True  # no effect without init_hidden
    B = rng.choice([1, 3])
    T = rng.choice([1, 4, 9])
    calls = rng.choice([1, 2])
    return dict(model=model, seed=seed, kwargs=kw, features=features, B=B, T=T, calls=calls,
                mode=mode, surrogate=surrogate, generator=g,
                convert=rng.random() < 0.5)


def clone_kwargs(kw):
    return {k: v.clone() if isinstance(v, torch.Tensor) else v for k, v in kw.items()}


def build(case, cls):
    """snnTorch's layer (cls = snntorch.X) or the drop-in (cls = snncpp.snntorch.X, built
    directly or converted from snnTorch's, as the case says)."""
    torch.manual_seed(case["seed"])  # the recurrent connection's initial weights
    dropin = issubclass(cls, DropIn)
    if dropin and case["convert"]:
        layer = cls.from_original(cls.original(**clone_kwargs(case["kwargs"])))
    else:
        layer = cls(**clone_kwargs(case["kwargs"]))
    assert isinstance(layer, getattr(snntorch, case["model"]))
    assert isinstance(layer, DropIn) == dropin
    return layer


def add_inputs(case, layer):
    """Inputs [T, B, *features] per call, scaled so that the neurons spike, initial states
    and the loss's weights."""
    g, model = case["generator"], case["model"]
    shape = (case["T"], case["B"]) + case["features"]
    scale = {"Leaky": 1.0, "Synaptic": 0.5, "Alpha": 1.0, "RLeaky": 1.0, "RSynaptic": 0.5}.get(model)
    if model == "Lapicque":
        scale = 2.5 / float(layer.R)  # the membrane settles at x·R
    case["inputs"] = [(torch.rand(shape, generator=g) * 1.1 - 0.3) * scale
                      for _ in range(case["calls"])]
    step = shape[1:]
    case["init"] = {"mem": torch.rand(step, generator=g) * 1.6 - 0.3,
                    "syn": torch.rand(step, generator=g) - 0.5,
                    "syn_exc": torch.rand(step, generator=g) * 2,
                    "syn_inh": -torch.rand(step, generator=g),
                    "spk": (torch.rand(step, generator=g) > 0.7).float()}
    case["weights"] = [{n: torch.randn(shape, generator=g) for n in ["spk"] + RETURNS[model]}
                       for _ in range(case["calls"])]


def run(layer, case, sequence=False, batch_first=False):
    """snnTorch's loop over every call's steps (or the drop-in's forward_sequence); returns
    the records of spikes and states per call, and every gradient."""
    model, mode = case["model"], case["mode"]
    call, returns = CALL[model], RETURNS[model]
    states = None
    leaves = {}
    if mode == "passed":
        states = {n: case["init"][n].clone().requires_grad_(True) for n in call}
        leaves = dict(states)
    records, xs, loss = [], [], 0
    for k, x in enumerate(case["inputs"]):
        x = x.clone().requires_grad_(True)
        xs.append(x)
        rec = {n: [] for n in ["spk"] + returns}
        if sequence:
            args = [states[n] for n in call] if states is not None else []
            xin = x.transpose(0, 1) if batch_first else x
            res = layer.forward_sequence(xin, *args, batch_first=batch_first)
            if batch_first:
                res = tuple(r.transpose(0, 1) for r in res) if isinstance(res, tuple) else \
                    res.transpose(0, 1)
            if isinstance(res, torch.Tensor):
                raise AssertionError("forward_sequence returned spikes alone")
            seq = dict(zip(["spk"] + returns, res))
            if states is not None:
                states = {n: seq[n][-1] for n in call}
        else:
            for t in range(x.shape[0]):
                if states is not None:
                    res = layer(x[t], *[states[n] for n in call])
                else:
                    res = layer(x[t])
                if isinstance(res, torch.Tensor):  # init_hidden without output: spikes alone
                    assert mode == "hidden" and not case["kwargs"].get("output")
                    res = (res, *[getattr(layer, n) for n in returns])
                spk, *values = res
                step = dict(zip(returns, values), spk=spk)
                if states is not None:
                    states = {n: step[n] for n in call}
                for n in rec:
                    rec[n].append(step[n])
            seq = {n: torch.stack(v) for n, v in rec.items()}
        for n, v in seq.items():
            loss = loss + (v * case["weights"][k][n]).sum()
        records.append({n: v.detach() for n, v in seq.items()})
    loss.backward()
    return dict(records=records, grad_inputs=[x.grad for x in xs],
                grad_states={n: t.grad for n, t in leaves.items()},
                grad_params={n: p.grad for n, p in layer.named_parameters()
                             if p.grad is not None},
                final={n: getattr(layer, n).detach() for n in call + ["reset"]})


def compare(ours, theirs):
    for k, (a, b) in enumerate(zip(ours["records"], theirs["records"], strict=True)):
        assert a.keys() == b.keys()
        assert a["spk"].dtype == b["spk"].dtype
        assert torch.equal(a["spk"], b["spk"]), \
            f"spikes of call {k} differ at {(a['spk'] != b['spk']).nonzero()[:5].tolist()}"
        for n in a:
            if n != "spk":
                assert_close(a[n], b[n], f"{n} of call {k}")
    for n in theirs["final"]:  # the states, and snnTorch's `reset` of the last step
        assert_close(ours["final"][n], theirs["final"][n], f"the layer's {n} after the loop")
    for k, (a, b) in enumerate(zip(ours["grad_inputs"], theirs["grad_inputs"], strict=True)):
        assert_close(a, b, f"grad of the input of call {k}", scaled=True)
    for n, b in theirs["grad_states"].items():
        a = ours["grad_states"][n]
        # A state snnTorch's graph never reaches (Alpha's mem) has no gradient there.
        b = torch.zeros_like(a) if b is None and a is not None else b
        a = torch.zeros_like(b) if a is None and b is not None else a
        if b is not None:
            assert_close(a, b, f"grad of the initial {n}", scaled=True)
    for n in set(ours["grad_params"]) | set(theirs["grad_params"]):
        a, b = ours["grad_params"].get(n), theirs["grad_params"].get(n)
        if b is None:
            assert not a.any(), f"grad of {n}: snnTorch has none, got {a}"
        else:
            assert a is not None, f"grad of {n}: missing"
            assert_close(a, b, f"grad of {n}", scaled=True)


def spikes_of(result):
    return sum(float(r["spk"].abs().sum()) for r in result["records"])


# ---- the random grid --------------------------------------------------------------------

SEEDS = range(14)
GRID = [(m, s) for m in MODELS for s in SEEDS]


@pytest.mark.parametrize("model,seed", GRID)
def test_step_loop_matches_snntorch(model, seed):
    case = make_case(model, seed)
    theirs_layer = build(case, getattr(snntorch, model))
    ours_layer = build(case, getattr(S, model))
    add_inputs(case, theirs_layer)
    compare(run(ours_layer, case), run(theirs_layer, case))


def test_grid_covers_every_option():
    """The grid draws every model, surrogate, reset, timing, mode and shape, and spikes."""
    seen = set()
    spiking = 0
    for model, seed in GRID:
        case = make_case(model, seed)
        kw = case["kwargs"]
        seen |= {("model", model), ("surrogate", case["surrogate"]), ("mode", case["mode"]),
                 ("reset", kw["reset_mechanism"]), ("delay", kw.get("reset_delay", True)),
                 ("disable", kw["surrogate_disable"]), ("output", bool(kw.get("output"))),
                 ("dims", len(case["features"])), ("convert", case["convert"]),
                 ("inhibition", bool(kw.get("inhibition"))), ("calls", case["calls"]),
                 ("beta", type(kw.get("beta")).__name__)}
        if model.startswith("R"):
            seen.add(("recurrent", "linear" if kw.get("linear_features") else
                      "conv2d" if kw.get("conv2d_channels") else "V"))
        layer = build(case, getattr(snntorch, model))
        add_inputs(case, layer)
        spiking += spikes_of(run(layer, case)) > 0
    expected = ({("model", m) for m in MODELS} | {("surrogate", s) for s in SURROGATES}
                | {("mode", m) for m in ("passed", "own", "hidden")}
                | {("reset", r) for r in ("subtract", "zero", "none")}
                | {("delay", d) for d in (True, False)} | {("disable", d) for d in (True, False)}
                | {("output", o) for o in (True, False)} | {("dims", d) for d in (1, 2, 3)}
                | {("convert", c) for c in (True, False)}
                | {("inhibition", i) for i in (True, False)} | {("calls", c) for c in (1, 2)}
                | {("recurrent", r) for r in ("linear", "conv2d", "V")}
                | {("beta", t) for t in ("float", "Tensor")})
    assert expected <= seen, f"never drawn: {sorted(expected - seen)}"
    assert spiking >= 0.8 * len(GRID), f"only {spiking} of {len(GRID)} cases spike"


# ---- sequences in one op call -------------------------------------------------------------

@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("mode,batch_first", [("passed", False), ("own", True), ("hidden", False)])
def test_forward_sequence_matches_snntorch_loop(model, mode, batch_first):
    """forward_sequence (T steps, one op call; the recurrent layers step by step) against
    snnTorch's loop: the same records, final states and gradients, over chained calls."""
    for seed in range(100):
        case = make_case(model, seed, mode=mode)
        if case["T"] > 1 and (mode != "hidden" or case["kwargs"].get("output")):
            break
    case["calls"] = 2
    theirs_layer = build(case, getattr(snntorch, model))
    ours_layer = build(case, getattr(S, model))
    add_inputs(case, theirs_layer)
    theirs = run(theirs_layer, case)
    assert spikes_of(theirs) > 0
    compare(run(ours_layer, case, sequence=True, batch_first=batch_first), theirs)


def test_forward_sequence_continues_with_steps():
    """After forward_sequence the layer holds the last step's states (and its graph): steps
    that follow continue as snnTorch's loop does."""
    g = torch.Generator().manual_seed(4)
    x = torch.rand(12, 3, 7, generator=g) * 1.5
    grads = []
    for cls in (snntorch.Synaptic, S.Synaptic):
        layer = cls(alpha=0.7, beta=0.9, init_hidden=True, learn_beta=True)
        xi = x.clone().requires_grad_(True)
        if cls is S.Synaptic:
            spk = torch.cat([layer.forward_sequence(xi[:8]), torch.stack([layer(xi[t])
                                                                           for t in range(8, 12)])])
        else:
            spk = torch.stack([layer(xi[t]) for t in range(12)])
        (spk.sum() + layer.mem.sum()).backward()
        grads.append((spk.detach(), layer.syn.detach(), xi.grad, layer.beta.grad))
    assert grads[0][0].sum() > 0
    assert torch.equal(grads[0][0], grads[1][0])
    for a, b in zip(grads[0][1:], grads[1][1:]):
        assert_close(b, a, "state / gradient", scaled=True)


def test_forward_sequence_with_init_hidden_returns_spikes():
    layer = S.Leaky(beta=0.9, init_hidden=True)
    out = layer.forward_sequence(torch.rand(5, 2, 3) * 2)
    assert isinstance(out, torch.Tensor) and out.shape == (5, 2, 3)
    with pytest.raises(TypeError):
        layer.forward_sequence(torch.rand(5, 2, 3), torch.zeros(2, 3))
    with pytest.raises(TypeError, match="at most 1 states"):
        S.Leaky(beta=0.9).forward_sequence(torch.rand(5, 2, 3), torch.zeros(2, 3),
                                           torch.zeros(2, 3))


# ---- parameters that vary over the batch, dtypes ------------------------------------------

@pytest.mark.parametrize("sequence", [False, True])
def test_parameters_varying_over_the_batch(sequence):
    """snnTorch broadcasts a beta / threshold of shape [B, N] against the input: the drop-in
    runs every sample's neurons as neurons of one row."""
    g = torch.Generator().manual_seed(9)
    B, N, T = 3, 6, 7
    kw = dict(alpha=0.3 + 0.6 * torch.rand(B, N, generator=g),
              beta=0.5 + 0.5 * torch.rand(1, N, generator=g),
              threshold=0.8 + 0.4 * torch.rand(B, 1, generator=g), learn_alpha=True,
              learn_threshold=True)
    case = dict(model="Synaptic", seed=0, kwargs=kw, features=(N,), B=B, T=T, calls=2,
                mode="passed", generator=g, convert=False)
    theirs_layer = build(case, snntorch.Synaptic)
    ours_layer = build(case, S.Synaptic)
    add_inputs(case, theirs_layer)
    theirs = run(theirs_layer, case)
    assert spikes_of(theirs) > 0
    compare(run(ours_layer, case, sequence=sequence), theirs)


def test_float64_input():
    """snnTorch's spikes stay float32 (its spike functions return .float()) while the
    membrane follows the input's dtype: so do the drop-in's."""
    x = torch.rand(4, 2, 5, dtype=torch.float64) * 2
    results = []
    for cls in (snntorch.Leaky, S.Leaky):
        layer = cls(beta=0.8)
        mem = None
        out = []
        for t in range(4):
            spk, mem = layer(x[t], mem) if mem is not None else layer(x[t])
            out.append((spk, mem))
        results.append(out)
    for (s1, m1), (s2, m2) in zip(*results):
        assert s1.dtype == s2.dtype == torch.float32 and m1.dtype == m2.dtype == torch.float64
        assert torch.equal(s1, s2)
        torch.testing.assert_close(m2, m1)


@pytest.mark.parametrize("model", ["Leaky", "RLeaky"])
def test_half_precision_runs_snntorchs_forward(model):
    """The op computes in float32 and float64: other inputs run snnTorch's own forward."""
    x = torch.rand(4, 2, 5, generator=torch.Generator().manual_seed(1)).to(torch.bfloat16) * 2
    kw = dict(beta=0.8, V=0.5, all_to_all=False) if model == "RLeaky" else dict(beta=0.8)
    theirs, ours = getattr(snntorch, model)(**kw), getattr(S, model)(**kw)
    expected = [theirs(x[t]) for t in range(4)]
    got = ours.forward_sequence(x)
    for t, e in enumerate(expected):
        assert torch.equal(got[0][t], e[0]) and torch.equal(got[1][t], e[1])


# ---- surrogates beyond the grid ----------------------------------------------------------

class _LeakySpikeOperator(torch.autograd.Function):
    """The operator snnTorch's LSO means: gradient 1 above the threshold, slope below."""

    @staticmethod
    def forward(ctx, x, slope):
        out = (x > 0).float()
        ctx.save_for_backward(out)
        ctx.slope = slope
        return out

    @staticmethod
    def backward(ctx, grad):
        (out,) = ctx.saved_tensors
        return grad * out + (1 - out) * ctx.slope * grad, None


def test_lso_runs_the_leaky_spike_operator():
    """snnTorch's LSO() calls StochasticSpikeOperator with one argument of two and fails;
    the drop-in runs the leaky spike operator, held to a correct one run by snnTorch."""
    x = torch.rand(3, 8) * 2
    with pytest.raises(TypeError):
        snntorch.Leaky(beta=0.9, spike_grad=sg.LSO(slope=0.2))(x, torch.zeros(3, 8))
    case = make_case("Leaky", 3, mode="passed")
    case["kwargs"].update(spike_grad=lambda v: _LeakySpikeOperator.apply(v, 0.2),
                          inhibition=False, surrogate_disable=False)
    case["convert"] = False
    theirs_layer = build(case, snntorch.Leaky)
    case["kwargs"]["spike_grad"] = sg.LSO(slope=0.2)
    ours_layer = build(case, S.Leaky)
    add_inputs(case, theirs_layer)
    theirs = run(theirs_layer, case)
    assert spikes_of(theirs) > 0
    compare(run(ours_layer, case), theirs)


def test_sso_gradient_has_snntorchs_distribution():
    """SSO: above the threshold the spike's gradient is the output's gradient, below it
    that gradient times (u - 1/2 + mean)·variance, u uniform, drawn afresh (snnTorch draws in
    its backward, the op in its forward: the same distribution, not the same numbers)."""
    mean, variance = 0.1, 0.4
    # The noise comes from torch's default generator: seeded apart from the input's, so
    # that the two streams are not the same numbers.
    torch.manual_seed(20240)
    x = torch.rand(4, 4000, generator=torch.Generator().manual_seed(3)) * 2
    grads = []
    for cls in (snntorch.Leaky, S.Leaky):
        layer = cls(beta=0.9, spike_grad=sg.SSO(mean=mean, variance=variance))
        xi = x.clone().requires_grad_(True)
        spk, _ = layer(xi, torch.zeros_like(x))
        spk.sum().backward()
        grads.append(xi.grad)
    above = x > 1.0
    lo, hi = (-0.5 + mean) * variance, (0.5 + mean) * variance
    assert torch.equal(grads[0][above], grads[1][above])
    for grad in grads:
        below = grad[~above]
        assert float(below.min()) >= lo - 1e-6 and float(below.max()) < hi + 1e-6
        assert abs(float(below.mean()) - mean * variance) < 5 * variance / (12 * below.numel()) ** 0.5
        assert float(below.std()) == pytest.approx(variance / 12 ** 0.5, rel=0.05)


def test_surrogate_spec_reads_the_closures():
    assert S.surrogate_spec(sg.atan()) == ("ATan(alpha=2.0)", None)
    assert S.surrogate_spec(sg.spike_rate_escape(beta=2, slope=5)) == \
        ("SpikeRateEscape(beta=2.0, slope=5.0)", None)
    assert S.surrogate_spec(sg.SFS(slope=10, B=0.1)) == ("SparseFastSigmoid(slope=10.0, B=0.1)", None)
    assert S.surrogate_spec(sg.triangular()) == ("Triangular(threshold=1.0)", None)
    assert S.surrogate_spec(sg.Heaviside.apply) == ("HeavisideMask()", None)
    assert S.surrogate_spec(snntorch.Leaky(beta=0.5, surrogate_disable=True).spike_grad) == \
        ("NoGradient()", None)
    spec, reason = S.surrogate_spec(sg.fast_sigmoid(slope=torch.ones(3)))
    assert spec is None and "slope" in reason


# ---- what the op cannot run -------------------------------------------------------------

UNSUPPORTED = [
    (dict(spike_grad=sg.custom_surrogate(lambda x, g, o: g)), "custom_surrogate"),
    (dict(spike_grad=lambda x: (x > 0).float()), "not one of snntorch.surrogate"),
    (dict(state_quant=lambda v: v.round()), "state_quant"),
    (dict(inhibition=True, reset_delay=False), "inhibition"),
    (dict(spike_grad=sg.fast_sigmoid(slope=0)), "slope"),
]


@pytest.mark.parametrize("kwargs,reason", UNSUPPORTED)
def test_unsupported_configuration_is_refused(kwargs, reason):
    original = snntorch.Leaky(beta=0.9, **kwargs)
    assert reason in S.Leaky.unsupported_reason(original)
    params = list(original.parameters())
    with pytest.raises(UnsupportedLayer, match=reason):
        S.Leaky.from_original(original)
    assert type(original) is snntorch.Leaky and list(original.parameters()) == params
    with pytest.raises(UnsupportedLayer, match=reason):
        S.Leaky(beta=0.9, **kwargs)


def test_attributes_changed_between_calls():
    """The spec follows the layer's attributes at every call: a new surrogate takes effect,
    one the op cannot run is refused; snnTorch's reset_mechanism setter changes only its
    same-step reset (the update keeps the state_function chosen at construction)."""
    g = torch.Generator().manual_seed(5)
    x = torch.rand(6, 2, 7, generator=g) * 2
    results = []
    for mod in (snntorch, S):
        layer = mod.Leaky(beta=0.9, learn_threshold=True)
        xi = x.clone().requires_grad_(True)
        out = [layer(xi[t])[0] for t in range(2)]
        layer.spike_grad = sg.fast_sigmoid(slope=3)
        layer.reset_mechanism = "zero"  # the delayed reset still subtracts
        out += [layer(xi[t])[0] for t in range(2, 6)]
        (torch.stack(out) * torch.arange(6.0).view(6, 1, 1)).sum().backward()
        results.append((torch.stack(out).detach(), xi.grad, layer.threshold.grad))
    assert torch.equal(results[0][0], results[1][0])
    for a, b in zip(results[0][1:], results[1][1:]):
        assert_close(b, a, "gradient", scaled=True)
    layer = S.Leaky(beta=0.9, reset_delay=False)
    layer(torch.rand(2, 3))
    layer.reset_mechanism = "zero"  # the same-step reset would differ from the update's
    with pytest.raises(UnsupportedLayer, match="reset_mechanism_val"):
        layer(torch.rand(2, 3))
    layer = S.Leaky(beta=0.9)
    layer(torch.rand(2, 3))
    layer.spike_grad = lambda v: (v > 0).float()
    with pytest.raises(UnsupportedLayer, match="spike_grad"):
        layer(torch.rand(2, 3))


def test_from_original_needs_exactly_the_original_class():
    with pytest.raises(UnsupportedLayer, match="replaces snntorch"):
        S.Leaky.from_original(snntorch.Synaptic(alpha=0.5, beta=0.5))
    with pytest.raises(UnsupportedLayer):
        S.Leaky.from_original(snntorch.DeltaLeaky(beta=0.5))  # a subclass of Leaky


def test_inhibition_needs_steps_of_one_feature_dimension():
    with pytest.raises(UnsupportedLayer, match="inhibition"):
        S.Leaky(beta=0.9, inhibition=True)(torch.rand(2, 3, 4))


def test_rsynaptic_same_step_reset_as_snntorch():
    """snnTorch's RSynaptic(reset_delay=False) computes its same-step reset from the spk and
    mem passed to the call and discards it: a TypeError without them, the delayed form's
    numbers with them. The drop-in does the same."""
    kw = dict(alpha=0.8, beta=0.9, all_to_all=False, V=0.3, reset_delay=False)
    for cls in (snntorch.RSynaptic, S.RSynaptic):
        with pytest.raises(TypeError):
            cls(**kw)(torch.rand(2, 5) * 3)


# ---- what the original's machinery sees ---------------------------------------------------

@pytest.mark.parametrize("model", MODELS)
def test_from_original_converts_in_place(model):
    """The same object and parameter objects, an instance of snnTorch's class, the same
    printing and numbers, and its state carried on."""
    case = make_case(model, 5, mode="own")
    case["convert"] = False
    original = build(case, getattr(snntorch, model))
    add_inputs(case, original)
    x = case["inputs"][0]
    with torch.no_grad():
        for t in range(min(2, x.shape[0])):
            original(x[t])  # a state to carry over
    twin = copy.deepcopy(original)
    params = dict(original.named_parameters())
    buffers = dict(original.named_buffers())
    text = repr(original)
    layer = getattr(S, model).from_original(original)
    assert layer is original and type(layer) is getattr(S, model)
    assert isinstance(layer, getattr(snntorch, model)) and isinstance(layer, DropIn)
    assert all(p is params[n] for n, p in layer.named_parameters())
    assert all(b is buffers[n] for n, b in layer.named_buffers())
    assert repr(layer) == text
    theirs = run(twin, case)
    ours = run(layer, case)
    compare(ours, theirs)


@pytest.mark.parametrize("model", MODELS)
def test_state_dict_round_trip(model):
    """snnTorch's state_dict loads into the drop-in (strictly) and the drop-in's back into
    snnTorch's layer; the loaded values are the ones computed with."""
    case = make_case(model, 7, mode="passed")
    case["convert"] = False
    kw = case["kwargs"]
    if model == "Lapicque":
        # snnTorch's Lapicque(learn_beta=True) keeps a graph through its buffers R and C:
        # loading a state_dict into them breaks its backward (snnTorch's own layer too).
        kw.pop("learn_beta", None)
    original = build(case, getattr(snntorch, model))
    with torch.no_grad():  # values of their own, unlike the drop-in's constructor's
        for n, t in list(original.named_parameters()) + list(original.named_buffers()):
            if t.is_floating_point() and n not in ("alpha", "beta") and t.numel():
                t.mul_(1.05)
    ours = getattr(S, model)(**clone_kwargs(kw))
    ours.load_state_dict(original.state_dict())
    assert ours.state_dict().keys() == original.state_dict().keys()
    for n, t in original.state_dict().items():
        assert torch.equal(ours.state_dict()[n], t), n
    back = getattr(snntorch, model)(**clone_kwargs(kw))
    back.load_state_dict(ours.state_dict())
    for n, t in original.state_dict().items():
        assert torch.equal(back.state_dict()[n], t), n
    add_inputs(case, original)
    compare(run(ours, case), run(original, case))


def test_repr_and_signature():
    pairs = [(snntorch.Leaky(beta=0.9, learn_beta=True), S.Leaky(beta=0.9, learn_beta=True)),
             (snntorch.RLeaky(beta=0.9, linear_features=4), S.RLeaky(beta=0.9, linear_features=4)),
             (snntorch.RSynaptic(alpha=0.5, beta=0.9, conv2d_channels=2, kernel_size=3),
              S.RSynaptic(alpha=0.5, beta=0.9, conv2d_channels=2, kernel_size=3))]
    for theirs, ours in pairs:
        assert repr(ours) == repr(theirs)
    for model in MODELS:
        assert inspect.signature(getattr(S, model)) == inspect.signature(getattr(snntorch, model))


def test_hidden_state_utilities():
    """init_hidden layers in a Sequential: snntorch.utils.reset, reset_hidden, detach_hidden,
    reset_mem and init_leaky act on the drop-ins as on snnTorch's layers."""
    g = torch.Generator().manual_seed(11)
    x = torch.rand(6, 2, 8, generator=g) * 1.5
    runs = []
    for mod in (snntorch, S):
        torch.manual_seed(0)
        net = torch.nn.Sequential(torch.nn.Linear(8, 8),
                                  mod.Leaky(beta=0.9, init_hidden=True),
                                  torch.nn.Linear(8, 6),
                                  mod.Synaptic(alpha=0.6, beta=0.8, init_hidden=True, output=True))
        out = []
        for t in range(3):
            out.append(net(x[t]))
        snntorch.utils.reset(net)
        assert not net[1].mem.any() and not net[3].syn.any() and not net[3].mem.any()
        for t in range(3, 6):
            out.append(net(x[t]))
            mod.Leaky.detach_hidden()
            mod.Synaptic.detach_hidden()
            assert not net[1].mem.requires_grad and not net[3].mem.requires_grad
        mem_before = net[1].mem.clone()
        assert torch.equal(net[1].init_leaky(), torch.zeros_like(mem_before))
        snntorch.Leaky.reset_hidden()
        runs.append((out, mem_before))
    for (a, b) in zip(runs[0][0], runs[1][0]):
        assert torch.equal(a[0], b[0])
        for u, v in zip(a[1:], b[1:]):
            assert_close(v, u, "state")
    assert_close(runs[1][1], runs[0][1], "mem")


def test_init_hidden_refuses_states_as_snntorch():
    for mod in (snntorch, S):
        with pytest.raises(TypeError, match="init_hidden"):
            mod.Leaky(beta=0.9, init_hidden=True)(torch.rand(2, 3), torch.zeros(2, 3))
        with pytest.raises(TypeError, match="1 input argument"):
            mod.Alpha(alpha=0.9, beta=0.8, init_hidden=True)(torch.rand(2, 3),
                                                             torch.zeros(2, 3))


def test_reset_attribute_as_snntorch():
    """snnTorch keeps the last step's delayed reset as ``reset`` (code written around its
    layers reads it)."""
    x = torch.rand(5, 2, 4) * 2
    layers = [snntorch.Leaky(beta=0.9), S.Leaky(beta=0.9)]
    for t in range(5):
        for layer in layers:
            layer(x[t])
        assert torch.equal(layers[0].reset, layers[1].reset)
    assert layers[0].reset.any()


def test_drop_in_table():
    assert set(S.DROP_INS) == {getattr(snntorch, m) for m in MODELS}
    for original, dropin in S.DROP_INS.items():
        assert dropin.original is original and issubclass(dropin, original)
        assert dropin.__name__ == original.__name__
        assert issubclass(original, S.NEURON_BASES)
    assert issubclass(snntorch.LeakyParallel, S.NEURON_BASES)
    assert snncpp.snntorch is S


def test_accelerate_swaps_snntorch_layers():
    pytest.importorskip("snncpp.sinabs")  # accelerate loads every family that is installed
    net = torch.nn.Sequential(torch.nn.Linear(4, 4), snntorch.Leaky(beta=0.9, init_hidden=True),
                              snntorch.Leaky(beta=0.9, init_hidden=True,
                                             spike_grad=sg.custom_surrogate(lambda x, g, o: g)))
    with pytest.warns(UserWarning):
        report = snncpp.accelerate(net)
    assert type(net[1]) is S.Leaky and type(net[2]) is snntorch.Leaky
    assert [p for p, _, _ in report.swapped] == ["1"]
    assert [p for p, _, _ in report.not_swapped] == ["2"]
