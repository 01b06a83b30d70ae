"""snn::LIF / snn::IAF against sinabs.layers.LIF / IAF.

Each case draws seeded random inputs, time constants and loss weights, runs three chained
forward calls (state and its graph carried across calls) in Sinabs and, through
snn_parity_driver, in snn.cpp's C++ layers, backpropagates the same loss through both,
and compares: spikes exactly; v_mem, i_syn and gradients (inputs, tau/alpha) within
atol 1e-5, rtol 1e-4.
"""
import subprocess
import zlib

import pytest
import sinabs.activation as sa
import sinabs.layers as sl
import torch

from conftest import ATOL, RTOL

SHAPES = [(2, 10, 3), (3, 7, 2, 4), (1, 25, 17)]

# (layer, options); every option of the issue appears in at least one case.
CASES = [
    ("LIF", {}),
    ("LIF", {"tau_syn": 5.0}),
    ("LIF", {"spike_fn": "single"}),
    ("LIF", {"reset_fn": "reset"}),
    ("LIF", {"reset_fn": "reset", "spike_fn": "single", "tau_syn": 3.0}),
    ("LIF", {"min_v_mem": -0.5}),
    ("LIF", {"min_v_mem": -0.2, "tau_syn": 4.0, "reset_fn": "reset"}),
    ("LIF", {"train_alphas": True}),
    ("LIF", {"train_alphas": True, "tau_syn": 6.0}),
    ("LIF", {"norm_input": False}),
    ("LIF", {"norm_input": False, "tau_syn": 2.0, "spike_threshold": 2.0}),
    ("LIF", {"grad_width": 0.3, "grad_scale": 2.0}),
    ("LIF", {"spike_threshold": 0.7, "reset_value": 0.5}),
    ("LIF", {"reset_fn": "reset", "reset_value": 0.1}),
    ("LIF", {"record_states": True}),
    ("LIF", {"record_states": True, "tau_syn": 5.0, "min_v_mem": -1.0}),
    ("LIF", {"per_neuron_tau": True, "tau_syn": 4.0}),
    ("LIF", {"per_neuron_tau": True, "train_alphas": True}),
    ("LIF", {"input_scale": 4.0}),  # several spikes per step (MultiSpike)
    ("IAF", {}),
    ("IAF", {"input_scale": 5.0, "tau_syn": 2.0}),
    ("IAF", {"tau_syn": 5.0}),
    ("IAF", {"spike_fn": "single", "reset_fn": "reset"}),
    ("IAF", {"min_v_mem": -0.5, "record_states": True}),
    ("IAF", {"tau_syn": 3.0, "record_states": True, "spike_threshold": 1.5}),
    ("IAF", {"grad_width": 1.0, "grad_scale": 0.5, "per_neuron_tau": True, "tau_syn": 2.0}),
]

DEFAULTS = dict(tau_syn=None, spike_threshold=1.0, spike_fn="multi", reset_fn="subtract",
                reset_value=None, grad_width=0.5, grad_scale=1.0, min_v_mem=None,
                train_alphas=False, norm_input=True, record_states=False, per_neuron_tau=False,
                input_scale=1.0)


def make_case(layer, options, shape, seed):
    opts = {**DEFAULTS, **options}
    g = torch.Generator().manual_seed(seed)
    B, T, *features = shape
    calls = 3
    # LIF with norm_input scales the input by (1 - alpha): drive it harder to spike.
    amp = opts["input_scale"] * (10.0 if layer == "LIF" and opts["norm_input"] else 0.8)
    inputs = [amp * (torch.rand(shape, generator=g) - 0.35) for _ in range(calls)]

    def tau(value):
        if opts["per_neuron_tau"]:
            # Broadcast against the last feature dimension.
            return value * (0.5 + torch.rand(features[-1], generator=g))
        return torch.tensor(float(value))

    case = {
        "layer": layer,
        "tau_mem": tau(10.0) if layer == "LIF" else None,
        "tau_syn": tau(opts["tau_syn"]) if opts["tau_syn"] is not None else None,
        **{k: opts[k] for k in ("spike_threshold", "spike_fn", "reset_fn", "reset_value",
                                "grad_width", "grad_scale", "min_v_mem", "train_alphas",
                                "norm_input", "record_states")},
        "inputs": inputs,
        "grad_spikes": [torch.randn(shape, generator=g) for _ in range(calls)],
        "grad_v_rec": [torch.randn(shape, generator=g) for _ in range(calls)],
        "grad_v_final": torch.randn([B, *features], generator=g),
        "grad_i_final": torch.randn([B, *features], generator=g),
    }
    for k in ("spike_threshold", "grad_width", "grad_scale"):
        case[k] = float(case[k])
    return case


def run_sinabs(case):
    spike_fn = sa.SingleSpike if case["spike_fn"] == "single" else sa.MultiSpike
    if case["reset_fn"] == "reset":
        reset_fn = sa.MembraneReset(reset_value=case["reset_value"] or 0.0)
    else:
        reset_fn = sa.MembraneSubtract(subtract_value=case["reset_value"])
    kwargs = dict(
        tau_syn=case["tau_syn"].clone() if case["tau_syn"] is not None else None,
        spike_threshold=case["spike_threshold"],
        spike_fn=spike_fn,
        reset_fn=reset_fn,
        surrogate_grad_fn=sa.SingleExponential(grad_width=case["grad_width"],
                                               grad_scale=case["grad_scale"]),
        min_v_mem=case["min_v_mem"],
        record_states=case["record_states"],
    )
    if case["layer"] == "LIF":
        layer = sl.LIF(tau_mem=case["tau_mem"].clone(), train_alphas=case["train_alphas"],
                       norm_input=case["norm_input"], **kwargs)
    else:
        layer = sl.IAF(**kwargs)
    loss = torch.zeros(())
    out = {"spikes": [], "v_rec": [], "i_rec": [], "grad_inputs": []}
    xs = []
    for k, x in enumerate(case["inputs"]):
        x = x.clone().requires_grad_(True)
        xs.append(x)
        s = layer(x)
        out["spikes"].append(s.detach())
        loss = loss + (s * case["grad_spikes"][k]).sum()
        if case["record_states"]:
            out["v_rec"].append(layer.recordings["v_mem"].detach())
            loss = loss + (layer.recordings["v_mem"] * case["grad_v_rec"][k]).sum()
            if "i_syn" in layer.recordings:
                out["i_rec"].append(layer.recordings["i_syn"].detach())
    loss = loss + (layer.v_mem * case["grad_v_final"]).sum()
    out["v_final"] = layer.v_mem.detach()
    if case["tau_syn"] is not None:
        loss = loss + (layer.i_syn * case["grad_i_final"]).sum()
        out["i_final"] = layer.i_syn.detach()
    loss.backward()
    out["grad_inputs"] = [x.grad for x in xs]
    for name, p in layer.named_parameters():
        if p.grad is not None:
            out["grad_" + name] = p.grad
    return out


def run_snn(case, driver, tmp_path):
    case_file, result_file = tmp_path / "case.pt", tmp_path / "result.pt"
    torch.save(case, case_file)
    proc = subprocess.run([str(driver), str(case_file), str(result_file)],
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    # Written by our own driver (a TorchScript-pickled dict), not an outside file.
    return torch.load(result_file, weights_only=False)


def assert_close(actual, expected, what):
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    torch.testing.assert_close(actual, expected, atol=ATOL, rtol=RTOL, msg=lambda m: f"{what}: {m}")


def compare(ours, theirs):
    for k, (a, b) in enumerate(zip(ours["spikes"], theirs["spikes"], strict=True)):
        assert torch.equal(a, b), f"spikes of call {k} differ at {(a != b).nonzero()[:5].tolist()}"
    for key in ("v_rec", "i_rec", "grad_inputs"):
        assert len(ours[key]) == len(theirs[key]), key
        for k, (a, b) in enumerate(zip(ours[key], theirs[key])):
            assert_close(a, b, f"{key}[{k}]")
    for key in ("v_final", "i_final"):
        assert (key in ours) == (key in theirs), key
        if key in theirs:
            assert_close(ours[key], theirs[key], key)
    param_grads = sorted(k for k in theirs if k.startswith("grad_") and k != "grad_inputs")
    assert sorted(k for k in ours if k.startswith("grad_") and k != "grad_inputs") == param_grads
    for key in param_grads:
        assert_close(ours[key], theirs[key], key)


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: "x".join(map(str, s)))
@pytest.mark.parametrize("layer,options", CASES,
                         ids=[f"{l}-" + ("-".join(f"{k}={v}" for k, v in o.items()) or "defaults")
                              for l, o in CASES])
def test_matches_sinabs(layer, options, shape, driver, tmp_path):
    case = make_case(layer, options, shape, seed=zlib.crc32(repr((layer, options, shape)).encode()))
    theirs = run_sinabs(case)
    # The test must exercise spiking: some spikes, and not every neuron at every step.
    n_spikes = sum(float(s.sum()) for s in theirs["spikes"])
    assert n_spikes > 0, "case produced no spikes"
    ours = run_snn(case, driver, tmp_path)
    compare(ours, theirs)
