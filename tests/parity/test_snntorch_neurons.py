"""snn::snntorch::Leaky and Synaptic against snntorch.Leaky and snntorch.Synaptic.

snn_parity_driver builds the C++ layer from a case (options with snnTorch's names), runs it
as a sequence forward (the fused op over [B, T, N]), as a loop of `leaky(x_t, mem)` with
the state passed in and out, or as a loop of `leaky->step(x_t)` on the hidden state, over
chained calls, and backpropagates a random linear loss of every step's spikes and states.
snnTorch runs the same loop of single steps. Spikes must be equal; states and gradients
(input, initial states, beta, threshold, graded_spikes_factor, alpha) within atol 1e-5 /
rtol 1e-4, gradients scaled as in the Sinabs suite (test_sinabs_layers.assert_close)."""
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


def random_case(seed):
    """A seeded random configuration: every option drawn, shapes beyond one kernel chunk."""
    rng = random.Random(seed)
    model = rng.choice(["Leaky", "Synaptic"])
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
    else:
        opts.update(alpha=value(0.3, 0.95), learn_alpha=per())
    B, T = rng.choice([1, 3]), rng.choice([1, 6, 11])
    calls = rng.choice([1, 2])
    scale = 1.0 if model == "Leaky" else 0.5
    inputs = [(rand(B, T, N) * 1.1 - 0.35) * scale for _ in range(calls)]
    mode = rng.choice(["sequence", "step", "hidden_step"])
    case = dict(layer="snntorch", model=model, options=opts, mode=mode, inputs=inputs,
                mem0=rand(B, N) * 1.6 - 0.3, syn0=rand(B, N) - 0.5)
    for name in ["spikes", "mem"] + (["syn"] if model == "Synaptic" else []):
        case["grad_" + name] = [torch.randn(x.shape, generator=g) for x in inputs]
    return case, rng.choice([1, 2])


def run_snntorch(case):
    o = case["options"]
    kw = dict(beta=o["beta"].clone(), threshold=o["threshold"].clone(),
              spike_grad=SURROGATES[o["spike_grad"]][0](), surrogate_disable=o["surrogate_disable"],
              learn_beta=o["learn_beta"], learn_threshold=o["learn_threshold"],
              reset_mechanism=o["reset_mechanism"], reset_delay=o["reset_delay"])
    synaptic = case["model"] == "Synaptic"
    if synaptic:
        layer = snntorch.Synaptic(alpha=o["alpha"].clone(), learn_alpha=o["learn_alpha"], **kw)
    else:
        layer = snntorch.Leaky(graded_spikes_factor=o["graded_spikes_factor"].clone(),
                               learn_graded_spikes_factor=o["learn_graded_spikes_factor"], **kw)
    leaves = []
    if case["mode"] == "step":
        mem = case["mem0"].clone().requires_grad_(True)
        syn = case["syn0"].clone().requires_grad_(True)
        leaves = [mem, syn] if synaptic else [mem]
    else:
        mem = syn = None  # snnTorch starts from zeros
    out = {"spikes": [], "mem": [], "syn": []}
    xs, loss = [], 0
    for k, x in enumerate(case["inputs"]):
        x = x.clone().requires_grad_(True)
        xs.append(x)
        steps = {"spikes": [], "mem": [], "syn": []}
        for t in range(x.shape[1]):
            if synaptic:
                spk, syn, mem = layer(x[:, t], syn, mem) if mem is not None else layer(x[:, t])
                steps["syn"].append(syn)
            else:
                spk, mem = layer(x[:, t], mem) if mem is not None else layer(x[:, t])
            steps["spikes"].append(spk)
            steps["mem"].append(mem)
        for name, values in steps.items():
            if not values:
                continue
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
    for name in ("mem", "syn"):
        for k, b in enumerate(theirs[name]):
            assert_close(ours[name][k], b, f"{name} of call {k}")
    for k, (a, b) in enumerate(zip(ours["grad_inputs"], theirs["grad_inputs"], strict=True)):
        assert_close(a, b, f"grad_inputs[{k}]", scaled=True)
    for k, (a, b) in enumerate(zip(ours["grad_states"], theirs["grad_states"], strict=True)):
        assert_close(a, b, f"grad of initial state {k}", scaled=True)
    # A parameter that snnTorch's graph never reaches has no gradient there; here it is zero.
    for name in set(ours["grad_params"]) | set(theirs["grad_params"]):
        a, b = ours["grad_params"].get(name), theirs["grad_params"].get(name)
        if b is None:
            assert not a.any(), f"grad of {name}: snnTorch has none, got {a}"
        else:
            assert a is not None, f"grad of {name}: missing"
            assert_close(a.reshape(b.shape), b, f"grad of {name}", scaled=True)


SEEDS = list(range(40))


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
                 ("N", case["inputs"][0].shape[-1]), ("calls", len(case["inputs"]))}
    expected = ({("model", m) for m in ("Leaky", "Synaptic")}
                | {("mode", m) for m in ("sequence", "step", "hidden_step")}
                | {("reset", r) for r in ("subtract", "zero", "none")}
                | {("delay", d) for d in (True, False)} | {("disable", d) for d in (True, False)}
                | {("surrogate", s) for s in SURROGATES} | {("threads", 1), ("threads", 2)}
                | {("N", 37), ("N", 300), ("calls", 1), ("calls", 2)})
    assert expected <= seen, f"never drawn: {sorted(expected - seen)}"


@pytest.mark.parametrize("model", ["Leaky", "Synaptic"])
def test_sequence_equals_step_loop(model, driver, tmp_path):
    """The fused multi-step forward equals looping the single step (both C++)."""
    case, _ = random_case(3)
    case["model"] = model
    o = case["options"]
    if model == "Leaky":
        o.setdefault("graded_spikes_factor", torch.tensor(1.0))
        o.setdefault("learn_graded_spikes_factor", True)
    else:
        o.setdefault("alpha", torch.tensor(0.8))
        o.setdefault("learn_alpha", True)
        case.setdefault("grad_syn", [torch.randn(x.shape) for x in case["inputs"]])
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
