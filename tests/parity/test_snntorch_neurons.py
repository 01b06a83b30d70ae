"""snn::snntorch::Leaky and Synaptic against snntorch.Leaky and snntorch.Synaptic.

snn_parity_driver builds the C++ layer from a case (options with snnTorch's names), runs it
as a sequence forward (the fused op over [B, T, N]), as a loop of `leaky(x_t, mem)` with
the state passed in and out, or as a loop of `leaky->step(x_t)` on the hidden state, over
chained calls, and backpropagates a random linear loss of every step's spikes and states.
snnTorch runs the same loop of single steps. Spikes must be equal; states and gradients
(input, initial states, beta, threshold, graded_spikes_factor, alpha) within atol 1e-5 /
rtol 1e-4, gradients scaled as in the Sinabs suite (test_sinabs_layers.assert_close)."""
import math
import random

import pytest
import snntorch
import torch
from snntorch import surrogate as sg

from test_sinabs_layers import assert_close, run_snn

# snnTorch's surrogate → the same surrogate's text in snn.cpp.
SURROGATES = {
    "atan": (lambda: sg.atan(), "ATan(alpha=2)"),
    "atan3": (lambda: sg.atan(alpha=3.0), "ATan(alpha=3)"),
    "fast_sigmoid": (lambda: sg.fast_sigmoid(slope=10), "FastSigmoid(slope=10)"),
    "sigmoid": (lambda: sg.sigmoid(slope=5), "Sigmoid(slope=5)"),
    "spike_rate_escape": (lambda: sg.spike_rate_escape(beta=2, slope=5),
                          "SpikeRateEscape(beta=2, slope=5)"),
    "triangular": (lambda: sg.triangular(threshold=0.5), "Triangular(threshold=0.5)"),
    "straight_through_estimator": (lambda: sg.straight_through_estimator(),
                                   "StraightThroughEstimator()"),
    "heaviside": (lambda: sg.heaviside(), "HeavisideMask()"),
    "SFS": (lambda: sg.SFS(slope=10, B=0.1), "SparseFastSigmoid(slope=10, B=0.1)"),
}


MODELS = ["Leaky", "Synaptic", "Lapicque", "Alpha", "RLeaky", "RSynaptic"]
# The states besides mem, in snnTorch's order.
STATES = {"Leaky": [], "Synaptic": ["syn"], "Lapicque": [], "Alpha": ["syn_exc", "syn_inh"],
          "RLeaky": [], "RSynaptic": ["syn"]}
# What a step call takes after the input, in snnTorch's order ("spk": the last spikes).
CALL = {"Leaky": ["mem"], "Synaptic": ["syn", "mem"], "Lapicque": ["mem"],
        "Alpha": ["syn_exc", "syn_inh", "mem"], "RLeaky": ["spk", "mem"],
        "RSynaptic": ["spk", "syn", "mem"]}


def random_case(seed):
    """A seeded random configuration: every option drawn, shapes beyond one kernel chunk."""
    rng = random.Random(seed)
    model = rng.choice(MODELS)
    N = rng.choice([37, 300])
    per = lambda: rng.random() < 0.5  # a per-neuron tensor or one value
    g = torch.Generator().manual_seed(seed)
    rand = lambda *s: torch.rand(*s, generator=g)
    value = lambda lo, hi: lo + (hi - lo) * (rand(N) if per() else rand(()))
    surrogate = rng.choice(list(SURROGATES))
    opts = dict(
        beta=value(0.5, 1.05),  # above 1: the clamp (and its zero gradient) is exercised
        threshold=value(0.7, 1.3),
        spike_grad=surrogate, spike_grad_text=SURROGATES[surrogate][1],
        surrogate_disable=rng.random() < 0.1,
        learn_beta=per(), learn_threshold=per(),
        reset_mechanism=rng.choice(["subtract", "zero", "none"]),
        reset_delay=rng.random() < 0.6,
    )
    if model == "Leaky":
        opts.update(graded_spikes_factor=value(0.5, 1.5), learn_graded_spikes_factor=per())
    elif model in ("Synaptic", "RSynaptic"):
        opts.update(alpha=value(0.3, 0.95), learn_alpha=per())
    elif model == "Lapicque":
        # snnTorch's four ways to give the constants (one value each).
        opts.update(reset_delay=True, time_step=rng.choice([1.0, 1e-3]))
        beta, r, c = 0.6 + 0.35 * rng.random(), 1 + 4 * rng.random(), 1 + 4 * rng.random()
        kind = rng.choice(["beta", "beta_R", "beta_C", "R_C"])
        opts.update(beta=beta if "beta" in kind else None, R=r if "R" in kind else None,
                    C=c if "C" in kind else None)
        dt = opts["time_step"]
        if kind == "R_C":
            opts["C"] = c * dt  # R·C > Δt: a decay in (0, 1)
        elif kind == "beta_C":
            opts["C"] = c * dt
        # snnTorch's learn_beta works with beta alone (with R and / or C its construction
        # fails); here beta trains in every case (the derived constant follows it).
        opts["learn_beta"] = opts["learn_beta"] and kind == "beta"
        # The membrane settles at x·R: inputs scaled to cross the threshold.
        r_eff = dt / (opts["C"] * math.log(1 / beta)) if kind == "beta_C" else \
            (1.0 if kind == "beta" else r)
        opts["input_scale"] = 2.5 / r_eff
    else:  # Alpha: alpha > beta, no reset_delay, learn_alpha fails in snnTorch
        opts.update(alpha=value(0.8, 0.95), beta=value(0.4, 0.75), learn_alpha=False,
                    reset_delay=True, reset_mechanism=rng.choice(["subtract", "zero", "zero", "none"]))
    # snnTorch's inhibition (its own draw, so that the other options stay as they were):
    # dense layers, the delayed reset, graded factor 1 (snnTorch drops the factor from the
    # masked spikes: test_inhibition_keeps_the_graded_factor).
    if not model.startswith("R") and opts["reset_delay"] and random.Random(seed + 10_000).random() < 0.35:
        opts["inhibition"] = True
        if model == "Leaky":
            opts.update(graded_spikes_factor=torch.tensor(1.0), learn_graded_spikes_factor=False)
    if model.startswith("R"):
        # A Linear connection, or one-to-one V (snnTorch's learn_recurrent, default on).
        all_to_all = rng.random() < 0.6
        opts.update(all_to_all=all_to_all, learn_recurrent=rng.random() < 0.7)
        if all_to_all:
            opts["linear_features"] = N
        else:
            opts["V"] = value(-0.5, 0.5)
    B, T = rng.choice([1, 3]), rng.choice([1, 6, 11])
    calls = rng.choice([1, 2])
    scale = {"Leaky": 1.0, "Synaptic": 0.5, "Lapicque": opts.get("input_scale"), "Alpha": 1.0,
             "RLeaky": 1.0, "RSynaptic": 0.5}[model]
    inputs = [(rand(B, T, N) * 1.1 - 0.35) * scale for _ in range(calls)]
    mode = rng.choice(["sequence", "step", "hidden_step"])
    if model.startswith("R"):
        # snnTorch draws the connection's weights: the driver copies them.
        torch.manual_seed(seed)
        opts["weights"] = {n: p.detach().clone()
                           for n, p in make_snntorch(dict(model=model, options=opts)).named_parameters()}
    case = dict(layer="snntorch", model=model, options=opts, mode=mode, inputs=inputs,
                mem0=rand(B, N) * 1.6 - 0.3, syn0=rand(B, N) - 0.5, exc0=rand(B, N) * 2,
                inh0=-rand(B, N), spk0=(rand(B, N) > 0.7).float())
    for name in ["spikes", "mem"] + STATES[model]:
        case["grad_" + name] = [torch.randn(x.shape, generator=g) for x in inputs]
    return case, rng.choice([1, 2])


class SameStepReset(torch.nn.Module):
    """snnTorch's RSynaptic with the reset moved into the spiking step, as snnTorch's
    RLeaky does it: mem - (spk - reset)·θ ("subtract") or mem - (spk - reset)·mem ("zero")."""

    def __init__(self, layer, mechanism):
        super().__init__()
        self.layer, self.mechanism = layer, mechanism

    def forward(self, x, *states):
        spk, syn, mem = self.layer(x, *states)
        do_reset = spk / self.layer.graded_spikes_factor - self.layer.reset
        if self.mechanism == "subtract":
            mem = mem - do_reset * self.layer.threshold
        elif self.mechanism == "zero":
            mem = mem - do_reset * mem
        self.layer.mem = mem
        return spk, syn, mem

    def named_parameters(self, *args, **kwargs):
        return self.layer.named_parameters(*args, **kwargs)


def make_snntorch(case):
    o = case["options"]
    kw = dict(threshold=o["threshold"].clone(), spike_grad=SURROGATES[o["spike_grad"]][0](),
              surrogate_disable=o["surrogate_disable"], learn_beta=o["learn_beta"],
              learn_threshold=o["learn_threshold"], reset_mechanism=o["reset_mechanism"])
    if o.get("inhibition"):
        kw["inhibition"] = True
    if "state_quant" in o:
        kw["state_quant"] = o["state_quant"]
    model = case["model"]
    if model == "Leaky":
        return snntorch.Leaky(beta=o["beta"].clone(), reset_delay=o["reset_delay"],
                              graded_spikes_factor=o["graded_spikes_factor"].clone(),
                              learn_graded_spikes_factor=o["learn_graded_spikes_factor"], **kw)
    if model.startswith("R"):
        rec = dict(all_to_all=o["all_to_all"], learn_recurrent=o["learn_recurrent"],
                   reset_delay=o["reset_delay"])
        if o["all_to_all"]:
            for key in ("linear_features", "conv2d_channels", "kernel_size"):
                if o.get(key) is not None:
                    rec[key] = o[key]
        else:
            rec["V"] = o["V"].clone()
        if model == "RLeaky":
            layer = snntorch.RLeaky(beta=o["beta"].clone(), **rec, **kw)
        else:
            # snnTorch's RSynaptic(reset_delay=False) resets the arguments it was called with
            # and drops the result (a TypeError without them): the oracle is its delayed
            # form with the same-step reset applied as its RLeaky applies it
            # (test_rsynaptic_same_step_reset_bug asserts the bug).
            rec["reset_delay"] = True
            layer = snntorch.RSynaptic(alpha=o["alpha"].clone(), beta=o["beta"].clone(),
                                       learn_alpha=o["learn_alpha"], **rec, **kw)
            if not o["reset_delay"]:
                layer = SameStepReset(layer, o["reset_mechanism"])
        if "weights" in o:
            with torch.no_grad():
                for n, p in layer.named_parameters():
                    p.copy_(o["weights"][n])
        return layer
    if model == "Synaptic":
        return snntorch.Synaptic(alpha=o["alpha"].clone(), beta=o["beta"].clone(),
                                 learn_alpha=o["learn_alpha"], reset_delay=o["reset_delay"], **kw)
    if model == "Lapicque":
        consts = {k: o[k] for k in ("beta", "R", "C") if o[k] is not None}
        return snntorch.Lapicque(time_step=o["time_step"], **consts, **kw)
    return snntorch.Alpha(alpha=o["alpha"].clone(), beta=o["beta"].clone(),
                          learn_alpha=o["learn_alpha"], **kw)


def run_snntorch(case):
    layer = make_snntorch(case)
    model = case["model"]
    extra = STATES[model]
    init = {"mem": "mem0", "syn": "syn0", "syn_exc": "exc0", "syn_inh": "inh0", "spk": "spk0"}
    call = CALL[model]
    if case["mode"] == "step":
        states = {n: case[init[n]].clone().requires_grad_(True) for n in call}
        # The driver's order: the op's states, then spk.
        leaves = [states["mem"]] + [states[n] for n in extra] + \
            ([states["spk"]] if "spk" in call else [])
    else:
        states, leaves = None, []  # snnTorch starts from zeros
    out = {name: [] for name in ["spikes", "mem"] + extra}
    xs, loss = [], 0
    for k, x in enumerate(case["inputs"]):
        x = x.clone().requires_grad_(True)
        xs.append(x)
        steps = {name: [] for name in out}
        for t in range(x.shape[1]):
            if states is None:
                res = layer(x[:, t])
            else:
                res = layer(x[:, t], *[states[n] for n in call])
            spk, *new = res
            states = dict(zip([n for n in call if n != "spk"], new), spk=spk)
            steps["spikes"].append(spk)
            for n in extra + ["mem"]:
                steps[n].append(states[n])
        for name, values in steps.items():
            seq = torch.stack(values, 1)
            out[name].append(seq.detach())
            loss = loss + (seq * case["grad_" + name][k]).sum()
    loss.backward()
    params = {n: p.grad for n, p in layer.named_parameters() if p.grad is not None}
    return dict(out, grad_inputs=[x.grad for x in xs], grad_states=[l.grad for l in leaves],
                grad_params=params)


def compare(ours, theirs):
    for k, (a, b) in enumerate(zip(ours["spikes"], theirs["spikes"], strict=True)):
        assert torch.equal(a, b), f"spikes of call {k} differ at {(a != b).nonzero()[:5].tolist()}"
    for name in ("mem", "syn", "syn_exc", "syn_inh"):
        for k, b in enumerate(theirs.get(name, [])):
            assert_close(ours[name][k], b, f"{name} of call {k}")
    for k, (a, b) in enumerate(zip(ours["grad_inputs"], theirs["grad_inputs"], strict=True)):
        assert_close(a, b, f"grad_inputs[{k}]", scaled=True)
    for k, (a, b) in enumerate(zip(ours["grad_states"], theirs["grad_states"], strict=True)):
        # Alpha's membrane reaches the next step only through the detached reset: snnTorch
        # gives the initial membrane no gradient, here it is zero.
        assert_close(a, torch.zeros_like(a) if b is None else b, f"grad of initial state {k}",
                     scaled=True)
    # A parameter that snnTorch's graph never reaches has no gradient there; here it is zero.
    for name in set(ours["grad_params"]) | set(theirs["grad_params"]):
        a, b = ours["grad_params"].get(name), theirs["grad_params"].get(name)
        if b is None:
            assert not a.any(), f"grad of {name}: snnTorch has none, got {a}"
        else:
            assert a is not None, f"grad of {name}: missing"
            assert_close(a.reshape(b.shape), b, f"grad of {name}", scaled=True)


SEEDS = list(range(60))


@pytest.mark.parametrize("seed", SEEDS)
def test_matches_snntorch(seed, driver, tmp_path):
    case, threads = random_case(seed)
    theirs = run_snntorch(case)
    ours = run_snn(case, driver, tmp_path, threads)
    compare(ours, theirs)


def test_grid_covers_every_option():
    """The random grid draws every model, mode, reset, timing and surrogate, and spikes."""
    seen = set()
    for seed in SEEDS:
        case, threads = random_case(seed)
        o = case["options"]
        seen |= {("model", case["model"]), ("mode", case["mode"]), ("reset", o["reset_mechanism"]),
                 ("delay", o["reset_delay"]), ("surrogate", o["spike_grad"]),
                 ("disable", o["surrogate_disable"]), ("threads", threads),
                 ("N", case["inputs"][0].shape[-1]), ("calls", len(case["inputs"])),
                 ("inhibition", bool(o.get("inhibition")))}
    expected = ({("model", m) for m in MODELS}
                | {("mode", m) for m in ("sequence", "step", "hidden_step")}
                | {("reset", r) for r in ("subtract", "zero", "none")}
                | {("delay", d) for d in (True, False)} | {("disable", d) for d in (True, False)}
                | {("surrogate", s) for s in SURROGATES} | {("threads", 1), ("threads", 2)}
                | {("N", 37), ("N", 300), ("calls", 1), ("calls", 2)}
                | {("inhibition", True), ("inhibition", False)})
    assert expected <= seen, f"never drawn: {sorted(expected - seen)}"


@pytest.mark.parametrize("model", MODELS)
def test_sequence_equals_step_loop(model, driver, tmp_path):
    """The fused multi-step forward equals looping the single step (both C++)."""
    case = next(c for c, _ in map(random_case, range(1000))
                if c["model"] == model and c["inputs"][0].shape[1] > 1)
    results = {}
    for mode in ("sequence", "hidden_step"):
        case["mode"] = mode
        results[mode] = run_snn(case, driver, tmp_path, 2)
    a, b = results["sequence"], results["hidden_step"]
    assert sum(float(s.sum()) for s in a["spikes"]) > 0
    for k in range(len(case["inputs"])):
        assert torch.equal(a["spikes"][k], b["spikes"][k])
        assert_close(a["mem"][k], b["mem"][k], "mem")
        assert_close(a["grad_inputs"][k], b["grad_inputs"][k], "grad_inputs", scaled=True)
    for name in a["grad_params"]:
        assert_close(a["grad_params"][name], b["grad_params"][name], name, scaled=True)


def test_alpha_learns_alpha_where_snntorch_cannot(driver, tmp_path):
    """snnTorch's Alpha(learn_alpha=True) fails at construction (it assigns a clamped
    tensor to its alpha Parameter); here alpha is a parameter with a gradient."""
    case = next(c for c, _ in map(random_case, range(1000))
                if c["model"] == "Alpha" and c["inputs"][0].shape[1] > 1)
    with pytest.raises(TypeError):
        snntorch.Alpha(alpha=0.9, beta=0.8, learn_alpha=True)
    case["options"]["learn_alpha"] = True
    case["mode"] = "sequence"
    ours = run_snn(case, driver, tmp_path, 1)
    assert "alpha" in ours["grad_params"]
    assert torch.isfinite(ours["grad_params"]["alpha"]).all()
    assert ours["grad_params"]["alpha"].abs().sum() > 0


def test_rsynaptic_same_step_reset_bug():
    """snnTorch's RSynaptic(reset_delay=False) computes its same-step reset from the states
    passed to the call and discards it: without states it raises TypeError, with them its
    states equal the delayed form's. snn.cpp's RSynaptic resets in the step (as snnTorch's
    RLeaky and Synaptic do); test_matches_snntorch holds it to that."""
    torch.manual_seed(0)
    kw = dict(alpha=0.8, beta=0.9, all_to_all=False, V=0.3)
    with pytest.raises(TypeError):
        snntorch.RSynaptic(reset_delay=False, **kw)(torch.rand(2, 5) * 3)
    x = torch.rand(6, 2, 5) * 3
    runs = []
    for delay in (False, True):
        layer = snntorch.RSynaptic(reset_delay=delay, **kw)
        spk, syn, mem = (torch.zeros(2, 5) for _ in range(3))
        outs = []
        for t in range(6):
            spk, syn, mem = layer(x[t], spk, syn, mem)
            outs.append(mem)
        runs.append(torch.stack(outs))
    assert torch.equal(runs[0], runs[1])


@pytest.mark.parametrize("model", ["RLeaky", "RSynaptic"])
def test_recurrent_conv2d_matches_snntorch(model, driver, tmp_path):
    """all_to_all with conv2d_channels and kernel_size: a Conv2d(C, C, k, padding k/2) on the
    spikes [B, C, H, W] of the last step; spikes, states and every gradient (the Conv2d's
    weight and bias included) against snnTorch over two chained calls."""
    g = torch.Generator().manual_seed(7)
    B, T, C, H, W = 2, 7, 3, 5, 6
    opts = dict(beta=torch.tensor(0.85), threshold=torch.tensor(1.0), spike_grad="atan",
                spike_grad_text=SURROGATES["atan"][1], surrogate_disable=False, learn_beta=True,
                learn_threshold=True, reset_mechanism="subtract", reset_delay=True,
                all_to_all=True, learn_recurrent=True, conv2d_channels=C, kernel_size=3)
    if model == "RSynaptic":
        opts.update(alpha=torch.tensor(0.7), learn_alpha=True)
    torch.manual_seed(3)
    opts["weights"] = {n: p.detach().clone() for n, p in
                       make_snntorch(dict(model=model, options=opts)).named_parameters()}
    inputs = [torch.rand(B, T, C, H, W, generator=g) * 1.2 - 0.3 for _ in range(2)]
    case = dict(layer="snntorch", model=model, options=opts, mode="sequence", inputs=inputs)
    for name in ["spikes", "mem"] + STATES[model]:
        case["grad_" + name] = [torch.randn(x.shape, generator=g) for x in inputs]
    theirs = run_snntorch(case)
    assert sum(float(s.sum()) for s in theirs["spikes"]) > 0
    assert "recurrent.weight" in theirs["grad_params"]
    compare(run_snn(case, driver, tmp_path, 2), theirs)


def test_sso_gradient_has_snntorchs_distribution(driver, tmp_path):
    """SSO (snnTorch's stochastic spike operator): above the threshold the spike's gradient
    is the output gradient itself, below it that gradient times (u - 1/2 + mean)·variance,
    u uniform, drawn afresh. One step of Leaky on both sides: the suprathreshold gradients
    equal, the subthreshold ones from the same distribution (bounds, mean, a two-sample
    Kolmogorov-Smirnov test), not from the same random stream."""
    from scipy import stats
    mean, variance = 0.1, 0.4
    g = torch.Generator().manual_seed(3)
    B, N = 4, 4000
    x = torch.rand(B, 1, N, generator=g) * 2
    opts = dict(beta=torch.tensor(0.9), threshold=torch.tensor(1.0), spike_grad="atan",
                spike_grad_text=f"SSO(mean={mean}, variance={variance})",
                surrogate_disable=False, learn_beta=False, learn_threshold=False,
                reset_mechanism="subtract", reset_delay=True,
                graded_spikes_factor=torch.tensor(1.0), learn_graded_spikes_factor=False)
    case = dict(layer="snntorch", model="Leaky", options=opts, mode="sequence", inputs=[x],
                grad_spikes=[torch.ones_like(x)], grad_mem=[torch.zeros_like(x)])
    ours = run_snn(case, driver, tmp_path, 1)["grad_inputs"][0][:, 0]
    layer = snntorch.Leaky(beta=0.9, spike_grad=sg.SSO(mean=mean, variance=variance))
    xi = x[:, 0].clone().requires_grad_(True)
    spk, _ = layer(xi, torch.zeros(B, N))
    spk.sum().backward()
    theirs = xi.grad
    above = x[:, 0] > 1.0
    assert torch.equal(ours[above], theirs[above])
    assert torch.equal(ours[above], torch.ones_like(ours[above]))
    lo, hi = (-0.5 + mean) * variance, (0.5 + mean) * variance
    for grads in (ours[~above], theirs[~above]):
        assert float(grads.min()) >= lo - 1e-6 and float(grads.max()) < hi + 1e-6
        assert abs(float(grads.mean()) - mean * variance) < 4 * variance / (12 * grads.numel()) ** 0.5
    assert stats.ks_2samp(ours[~above].numpy(), theirs[~above].numpy()).pvalue > 1e-3
    assert not torch.equal(ours[~above], theirs[~above])  # two streams, not one


def test_inhibition_keeps_the_graded_factor(driver, tmp_path):
    """snnTorch's fire_inhibition multiplies the masked spikes by nothing: its
    graded_spikes_factor is lost with inhibition. Here the factor stays: ours are
    snnTorch's times the factor, one neuron at most per sample and step."""
    case = next(c for c, _ in map(random_case, range(2000))
                if c["model"] == "Leaky" and c["options"].get("inhibition"))
    o = case["options"]
    o["graded_spikes_factor"] = torch.tensor(0.5)
    case["mode"] = "sequence"
    for x in case["inputs"]:
        x.mul_(3)  # many above the threshold
    ours = run_snn(case, driver, tmp_path, 1)
    theirs = run_snntorch(case)
    for a, b in zip(ours["spikes"], theirs["spikes"]):
        assert b.sum() > 0
        torch.testing.assert_close(a, b * 0.5)
        assert int((a > 0).sum(-1).max()) == 1


@pytest.mark.parametrize("model,uniform,reset", [
    ("Leaky", True, "subtract"), ("Leaky", False, "zero"), ("Synaptic", True, "subtract"),
    ("Synaptic", False, "zero"), ("Alpha", True, "zero"), ("Lapicque", True, "subtract")])
def test_state_quant_matches_snntorch(model, uniform, reset, driver, tmp_path):
    """snnTorch's state_quant (snntorch.functional.quant): uniform levels made by ours
    (state_quant_uniform) or snnTorch's non-uniform ones handed over (state_quant(levels));
    the states quantised after each update, the gradient straight through; spikes, states
    and every gradient against snnTorch, sequence and step forms."""
    from snntorch.functional import quant
    for mode in ("sequence", "step"):
        case = next(c for c, _ in map(random_case, range(2000))
                    if c["model"] == model and c["inputs"][0].shape[1] > 1 and
                    not c["options"].get("inhibition") and
                    (model in ("Alpha", "Lapicque") or c["options"]["reset_delay"]))
        o = case["options"]
        o["reset_mechanism"] = reset
        bits, thr, lo, hi = 4, 1.0, 0.3, 0.5
        o["state_quant"] = quant.state_quant(num_bits=bits, uniform=uniform, threshold=thr,
                                             lower_limit=lo, upper_limit=hi)
        if uniform:
            o.update(state_quant_bits=bits, state_quant_threshold=thr, state_quant_lower=lo,
                     state_quant_upper=hi)
        else:
            o["state_quant_levels"] = o["state_quant"].__closure__[0].cell_contents.clone()
        case["mode"] = mode
        theirs = run_snntorch(case)
        del o["state_quant"]  # a Python function: not for the driver
        ours = run_snn(case, driver, tmp_path, 2)
        assert sum(float(s.sum()) for s in theirs["spikes"]) > 0
        compare(ours, theirs)
