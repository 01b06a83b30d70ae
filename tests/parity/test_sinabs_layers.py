"""snn.cpp's neuron layers against Sinabs' (sinabs.layers): LIF, IAF, ALIF, ExpLeak, their
Squeeze forms and the recurrent forms.

Each case draws seeded random inputs, time constants and loss weights, runs three chained
forward calls (state and its graph carried across calls) in Sinabs and, through
snn_parity_driver, in snn.cpp's C++ layers, backpropagates the same loss through both,
and compares: spikes exactly; states, recordings and gradients (inputs and every
parameter) within atol 1e-5, rtol 1e-4. Where Sinabs has a plain bug, snn.cpp does the
right thing and the case asserts the documented difference (see `is_alif_syn_norm` and
`aliased_recordings`).
"""
import os
import random
import subprocess
import zlib

import pytest
import sinabs.activation as sa
import sinabs.layers as sl
import sinabs.layers.functional as sf
import torch

from conftest import ATOL, RTOL

SHAPES = [(2, 10, 3), (3, 7, 2, 4), (1, 25, 17), (2, 6, 300)]

# (layer, form, options); every option appears in at least one case.
CASES = [
    ("LIF", "", {}),
    ("LIF", "", {"tau_syn": 5.0}),
    ("LIF", "", {"spike_fn": "single"}),
    ("LIF", "", {"reset_fn": "reset"}),
    ("LIF", "", {"reset_fn": "reset", "spike_fn": "single", "tau_syn": 3.0}),
    ("LIF", "", {"min_v_mem": -0.5}),
    ("LIF", "", {"min_v_mem": -0.2, "tau_syn": 4.0, "reset_fn": "reset"}),
    ("LIF", "", {"train_alphas": True}),
    ("LIF", "", {"train_alphas": True, "tau_syn": 6.0}),
    ("LIF", "", {"norm_input": False}),
    ("LIF", "", {"norm_input": False, "tau_syn": 2.0, "spike_threshold": 2.0}),
    ("LIF", "", {"surrogate_args": {"grad_width": 0.3, "grad_scale": 2.0}}),
    ("LIF", "", {"spike_threshold": 0.7, "reset_value": 0.5}),
    ("LIF", "", {"reset_fn": "reset", "reset_value": 0.1}),
    ("LIF", "", {"record_states": True}),
    ("LIF", "", {"record_states": True, "tau_syn": 5.0, "min_v_mem": -1.0}),
    ("LIF", "", {"per_neuron_tau": True, "tau_syn": 4.0}),
    ("LIF", "", {"per_neuron_tau": True, "train_alphas": True}),
    ("LIF", "", {"input_scale": 4.0}),  # several spikes per step (MultiSpike)
    ("LIF", "", {"spike_fn": "max", "max_spikes": 2, "input_scale": 4.0}),
    ("LIF", "", {"surrogate": "Heaviside", "surrogate_args": {"window": 0.5}}),
    ("LIF", "", {"surrogate": "Gaussian", "surrogate_args": {"mu": 0.1, "sigma": 0.4, "grad_scale": 1.5}}),
    ("LIF", "", {"surrogate": "MultiGaussian", "tau_syn": 3.0}),
    ("LIF", "", {"surrogate": "PeriodicExponential", "input_scale": 3.0}),
    ("IAF", "", {}),
    ("IAF", "", {"input_scale": 5.0, "tau_syn": 2.0}),
    ("IAF", "", {"tau_syn": 5.0}),
    ("IAF", "", {"spike_fn": "single", "reset_fn": "reset"}),
    ("IAF", "", {"min_v_mem": -0.5, "record_states": True}),
    ("IAF", "", {"tau_syn": 3.0, "record_states": True, "spike_threshold": 1.5}),
    ("IAF", "", {"surrogate_args": {"grad_width": 1.0, "grad_scale": 0.5}, "per_neuron_tau": True,
                 "tau_syn": 2.0}),
    ("IAF", "", {"spike_fn": "max", "max_spikes": 3, "input_scale": 6.0,
                 "surrogate": "PeriodicExponential", "surrogate_args": {"grad_width": 0.8}}),
    ("IAF", "", {"surrogate": "Gaussian", "reset_fn": "reset"}),
    ("ALIF", "", {}),
    ("ALIF", "", {"tau_syn": 5.0, "norm_input": False}),
    ("ALIF", "", {"tau_syn": 5.0}),  # the documented difference: ALIF_SYN_NORM
    ("ALIF", "", {"tau_syn": 3.0, "train_alphas": True, "record_states": True}),
    ("ALIF", "", {"train_alphas": True}),
    ("ALIF", "", {"norm_input": False, "adapt_scale": 0.5}),
    ("ALIF", "", {"spike_fn": "multi", "input_scale": 3.0}),
    ("ALIF", "", {"reset_fn": "reset", "reset_value": 0.1, "min_v_mem": -0.3}),
    ("ALIF", "", {"min_v_mem": -0.2, "record_states": True}),
    ("ALIF", "", {"record_states": True, "spike_threshold": 0.8, "adapt_scale": 2.5}),
    ("ALIF", "", {"per_neuron_tau": True}),
    ("ALIF", "", {"reset_value": 0.6, "surrogate": "MultiGaussian"}),
    ("ALIF", "", {"surrogate": "Heaviside", "spike_fn": "max", "max_spikes": 2, "input_scale": 3.0}),
    ("ALIF", "", {"surrogate": "Gaussian", "surrogate_args": {"sigma": 0.3}}),
    ("ALIF", "", {"surrogate": "PeriodicExponential", "norm_input": False}),
    ("ExpLeak", "", {}),
    ("ExpLeak", "", {"norm_input": True}),
    ("ExpLeak", "", {"min_v_mem": -0.1, "record_states": True}),
    ("ExpLeak", "", {"train_alphas": True, "per_neuron_tau": True}),
    ("IAF", "Squeeze", {"batch": True}),
    ("IAF", "Squeeze", {"tau_syn": 3.0, "record_states": True}),
    ("LIF", "Squeeze", {"batch": True, "tau_syn": 4.0}),
    ("LIF", "Squeeze", {"spike_fn": "single"}),
    ("ALIF", "Squeeze", {"batch": True}),
    ("ALIF", "Squeeze", {"record_states": True}),
    ("ExpLeak", "Squeeze", {"batch": True, "min_v_mem": -0.2}),
    ("ExpLeak", "Squeeze", {"norm_input": True}),
    ("IAF", "Recurrent", {}),
    ("IAF", "Recurrent", {"tau_syn": 3.0, "record_states": True}),
    ("IAF", "Recurrent", {"conv": True}),
    ("LIF", "Recurrent", {}),
    ("LIF", "Recurrent", {"tau_syn": 5.0, "record_states": True, "min_v_mem": -0.5}),
    ("LIF", "Recurrent", {"train_alphas": True, "spike_fn": "single", "conv": True}),
    ("ALIF", "Recurrent", {}),
    # (With tau_syn and norm_input the corrected oracle, fed (1 - α)·x, cannot scale the
    # recurrent input: that combination has no recurrent case.)
    ("ALIF", "Recurrent", {"tau_syn": 4.0, "norm_input": False, "sequential": True}),
    ("ALIF", "Recurrent", {"record_states": True, "norm_input": False}),
]


def random_cases(per_layer=6, seed=20261203):
    """Seeded random option combinations per spiking layer, on top of the cases above."""
    rng = random.Random(seed)
    cases = []
    for layer in ("LIF", "IAF", "ALIF"):
        for _ in range(per_layer):
            o = {"spike_fn": rng.choice(["multi", "single", "max"]),
                 "reset_fn": rng.choice(["subtract", "reset"]),
                 "surrogate": rng.choice(["SingleExponential", "Heaviside", "Gaussian",
                                          "MultiGaussian", "PeriodicExponential"]),
                 "spike_threshold": rng.choice([0.5, 1.0, 1.5]),
                 "record_states": rng.random() < 0.5,
                 "per_neuron_tau": rng.random() < 0.3,
                 "input_scale": rng.choice([1.0, 2.0, 3.0])}
            if o["spike_fn"] == "max":
                o["max_spikes"] = rng.choice([1, 2, 3])
            if rng.random() < 0.5:
                o["tau_syn"] = rng.choice([2.0, 4.0, 8.0])
            if rng.random() < 0.4:
                o["reset_value"] = rng.choice([0.1, 0.3, 0.6])
            if rng.random() < 0.4:
                o["min_v_mem"] = -rng.choice([0.2, 0.5, 1.0])
            if layer != "IAF":
                o["train_alphas"] = rng.random() < 0.3
                o["norm_input"] = rng.random() < 0.7
            if layer == "ALIF":
                o["adapt_scale"] = rng.choice([0.5, 1.8, 3.0])
                if "tau_syn" in o:  # Sinabs' ALIF fails on a per-neuron tau_syn (`if tau_syn`)
                    o["per_neuron_tau"] = False
            cases.append((layer, "", o))
    return cases


CASES += random_cases()

DEFAULTS = dict(tau_syn=None, spike_threshold=1.0, spike_fn="multi", max_spikes=None,
                reset_fn="subtract", reset_value=None, surrogate="SingleExponential",
                surrogate_args={}, min_v_mem=None, train_alphas=False, norm_input=True,
                record_states=False, per_neuron_tau=False, input_scale=1.0, adapt_scale=1.8,
                batch=False, conv=False, sequential=False)
LAYER_DEFAULTS = {"ALIF": dict(spike_fn="single"), "ExpLeak": dict(norm_input=False)}


def is_alif_syn_norm(case):
    """Sinabs' ALIF stores the input-normalised current as its i_syn state (so the
    normalisation compounds); snn.cpp keeps i_t as LIF does (include/snn/nn/alif.h)."""
    return case["layer"] == "ALIF" and case["tau_syn"] is not None and case["norm_input"]


def aliased_recordings(case):
    """Sinabs' ALIF and recurrent layers append one state dictionary per step that the next
    step then modifies in place: every recorded v_mem (and i_syn) but the last holds the
    next step's value before its reset. snn.cpp records each step's own state; the oracle
    for it is Sinabs run one step per call (`stepwise_recordings`)."""
    return case["layer"] == "ALIF" or case["form"] == "Recurrent"


def make_case(layer, form, options, shape, seed):
    opts = {**DEFAULTS, **LAYER_DEFAULTS.get(layer, {}), **options}
    assert not (layer == "ALIF" and form == "Recurrent" and opts["tau_syn"] and opts["norm_input"]), \
        "no oracle for ALIFRecurrent with tau_syn and norm_input"
    g = torch.Generator().manual_seed(seed)
    B, T, *features = shape
    calls = 3
    # Input normalisation scales the input by (1 - alpha): drive it harder to spike.
    amp = opts["input_scale"] * (10.0 if layer != "IAF" and opts["norm_input"] else 0.8)
    inputs = [amp * (torch.rand(shape, generator=g) - 0.35) for _ in range(calls)]

    def tau(value):
        if opts["per_neuron_tau"]:
            return value * (0.5 + torch.rand(features[-1], generator=g))
        return torch.tensor(float(value))

    case = {
        "layer": layer,
        "form": form,
        "tau_mem": tau(10.0) if layer in ("LIF", "ALIF", "ExpLeak") else None,
        "tau_adapt": tau(20.0) if layer == "ALIF" else None,
        "tau_syn": tau(opts["tau_syn"]) if opts["tau_syn"] is not None else None,
        **{k: opts[k] for k in ("spike_threshold", "spike_fn", "max_spikes", "reset_fn",
                                "reset_value", "surrogate", "surrogate_args", "min_v_mem",
                                "train_alphas", "norm_input", "record_states", "adapt_scale")},
        "inputs": inputs,
        "grad_spikes": [torch.randn(shape, generator=g) for _ in range(calls)],
    }
    for k in ("spike_threshold", "adapt_scale"):
        case[k] = float(case[k])
    case["surrogate_args"] = {k: float(v) for k, v in case["surrogate_args"].items()}
    state_names = {"LIF": ["v_mem", "i_syn"], "IAF": ["v_mem", "i_syn"],
                   "ALIF": ["v_mem", "i_syn", "b"], "ExpLeak": ["v_mem"]}[layer]
    if case["tau_syn"] is None:
        state_names = [n for n in state_names if n != "i_syn"]
    # Loss weights on the recordings and the final states; none on i_syn where Sinabs'
    # state means something else, none on recordings that Sinabs aliases.
    rec_names = [] if aliased_recordings(case) else [n for n in state_names if n != "b"]
    if is_alif_syn_norm(case):
        state_names = [n for n in state_names if n != "i_syn"]
        rec_names = [n for n in rec_names if n != "i_syn"]
    case["grad_rec"] = {n: [torch.randn(shape, generator=g) for _ in range(calls)]
                        for n in rec_names} if opts["record_states"] else {}
    case["grad_final"] = {n: torch.randn([B, *features], generator=g) for n in state_names}
    if form == "Squeeze":
        case["inputs"] = [x.flatten(0, 1) for x in case["inputs"]]
        case["grad_spikes"] = [x.flatten(0, 1) for x in case["grad_spikes"]]
        case["batch_size"], case["num_timesteps"] = (B, None) if opts["batch"] else (None, T)
    if form == "Recurrent":
        if opts["conv"]:
            C = features[0] if len(features) == 3 else 1
            case["rec_weight"] = 0.5 * torch.randn(C, C, 3, 3, generator=g)
            case["rec_bias"] = 0.1 * torch.randn(C, generator=g)
            case["rec_padding"] = 1
        else:
            N = features[-1] if len(features) == 1 else None
            case["rec_weight"] = torch.randn(N, N, generator=g) / N ** 0.5
            case["rec_bias"] = 0.1 * torch.randn(N, generator=g)
            case["rec_sequential"] = opts["sequential"]
    return case


def sinabs_options(case):
    spike_fn = {"single": sa.SingleSpike, "multi": sa.MultiSpike,
                "max": sa.MaxSpike(max_num_spikes_per_bin=case["max_spikes"])}[case["spike_fn"]]
    if case["reset_fn"] == "reset":
        reset_fn = sa.MembraneReset(reset_value=case["reset_value"] or 0.0)
    else:
        reset_fn = sa.MembraneSubtract(subtract_value=case["reset_value"])
    surrogate = getattr(sa, case["surrogate"])(**case["surrogate_args"])
    return dict(spike_threshold=case["spike_threshold"], spike_fn=spike_fn, reset_fn=reset_fn,
                surrogate_grad_fn=surrogate, min_v_mem=case["min_v_mem"],
                record_states=case["record_states"])


def sinabs_layer(case, norm_input=None):
    """The Sinabs layer of the case (rec_connect with the case's weights)."""
    clone = lambda t: t.clone() if t is not None else None
    norm = case["norm_input"] if norm_input is None else norm_input
    name, form = case["layer"], case["form"]
    kwargs = {}
    if form == "Squeeze":
        kwargs = dict(batch_size=case["batch_size"], num_timesteps=case["num_timesteps"])
    if form == "Recurrent":
        kwargs = dict(rec_connect=rec_connect(case))
    if name == "ExpLeak":
        return getattr(sl, "ExpLeak" + form)(
            tau_mem=clone(case["tau_mem"]), min_v_mem=case["min_v_mem"],
            train_alphas=case["train_alphas"], norm_input=norm,
            record_states=case["record_states"], **kwargs)
    common = dict(tau_syn=clone(case["tau_syn"]), **sinabs_options(case), **kwargs)
    if name == "LIF":
        return getattr(sl, "LIF" + form)(tau_mem=clone(case["tau_mem"]),
                                         train_alphas=case["train_alphas"], norm_input=norm,
                                         **common)
    if name == "IAF":
        return getattr(sl, "IAF" + form)(**common)
    common["spike_threshold"] = torch.tensor(case["spike_threshold"])
    # ALIFSqueeze is not exported by sinabs.layers.
    return getattr(sl.alif, "ALIF" + form)(tau_mem=clone(case["tau_mem"]),
                                      tau_adapt=clone(case["tau_adapt"]),
                                      adapt_scale=case["adapt_scale"],
                                      train_alphas=case["train_alphas"], norm_input=norm, **common)


class CarriedALIF:
    """Sinabs' ALIF (any form) computed by Sinabs' own step functions
    (sinabs.layers.functional.alif_forward / alif_recurrent) with the layer's parameters,
    its whole state carried from call to call. Sinabs' ALIF.forward writes v_mem, b and
    spike_threshold back after a call but not i_syn, so that its synaptic current restarts
    from its initial value on every call; snn.cpp carries it (include/snn/nn/alif.h)."""

    def __init__(self, layer, form):
        self.layer, self.form, self.state, self.recordings = layer, form, None, {}

    def __call__(self, x):
        l = self.layer
        if self.form == "Squeeze":
            x = x.reshape(l.batch_size, l.num_timesteps, *x.shape[1:])
        B, T, *features = x.shape
        if self.state is None:
            l.init_state_with_shape((B, *features))
            self.state = dict(l.named_buffers())
        kwargs = dict(input_data=x, alpha_mem=l.alpha_mem_calculated,
                      alpha_adapt=l.alpha_adapt_calculated, alpha_syn=l.alpha_syn_calculated,
                      adapt_scale=l.adapt_scale, state=self.state, spike_fn=l.spike_fn,
                      reset_fn=l.reset_fn, surrogate_grad_fn=l.surrogate_grad_fn,
                      min_v_mem=l.min_v_mem, b0=l.b0, norm_input=l.norm_input,
                      record_states=l.record_states)
        names = list(self.state)  # the layer's states (Sinabs adds i_syn to the dict in any case)
        if self.form == "Recurrent":
            spikes, state, self.recordings = sf.alif_recurrent(rec_connect=l.rec_connect, **kwargs)
        else:
            spikes, state, self.recordings = sf.alif_forward(**kwargs)
        self.state = {k: state[k] for k in names}
        return spikes.flatten(0, 1) if self.form == "Squeeze" else spikes

    def final(self, name):
        return self.state[name]


class Layer:
    """A Sinabs layer as the tests call it: forward, final state by name, recordings."""

    def __init__(self, layer):
        self.layer = layer

    def __call__(self, x):
        return self.layer(x)

    def final(self, name):
        return getattr(self.layer, name)

    @property
    def recordings(self):
        return self.layer.recordings


def sinabs_model(case, norm_input=None):
    layer = sinabs_layer(case, norm_input)
    model = CarriedALIF(layer, case["form"]) if case["layer"] == "ALIF" else Layer(layer)
    return model, layer


def rec_connect(case):
    w = case["rec_weight"]
    if w.dim() == 2:
        m = torch.nn.Linear(w.shape[1], w.shape[0])
    else:
        m = torch.nn.Conv2d(w.shape[1], w.shape[0], w.shape[2], padding=case["rec_padding"])
    with torch.no_grad():
        m.weight.copy_(w)
        m.bias.copy_(case["rec_bias"])
    return nn_sequential(m) if case.get("rec_sequential") else m


def nn_sequential(m):
    return torch.nn.Sequential(m)


def run_sinabs(case):
    alif_syn_norm = is_alif_syn_norm(case)
    # ALIF_SYN_NORM: the oracle is Sinabs without norm_input, fed (1 - α_mem)·x inside the
    # graph: the same function as snn.cpp's ALIF, whose i_syn is then Sinabs' / (1 - α_mem).
    model, layer = sinabs_model(case, norm_input=False if alif_syn_norm else None)
    out = {"spikes": [], "recordings": {}, "grad_inputs": []}
    loss = torch.zeros(())
    xs = []
    for k, x in enumerate(case["inputs"]):
        x = x.clone().requires_grad_(True)
        xs.append(x)
        fed = x
        if alif_syn_norm:
            fed = (1 - layer.alpha_mem_calculated) * x
        s = model(fed)
        out["spikes"].append(s.detach())
        loss = loss + (s * case["grad_spikes"][k]).sum()
        if case["record_states"]:
            for name, rec in model.recordings.items():
                if alif_syn_norm and name == "i_syn":
                    rec = rec / (1 - layer.alpha_mem_calculated)
                out["recordings"].setdefault(name, []).append(rec.detach())
                if name in case["grad_rec"]:
                    loss = loss + (rec * case["grad_rec"][name][k]).sum()
    out["final"] = {}
    for name, weight in case["grad_final"].items():
        value = model.final(name)
        loss = loss + (value * weight).sum()
        out["final"][name] = value.detach()
    loss.backward()
    out["grad_inputs"] = [x.grad for x in xs]
    out["grad_params"] = {n: p.grad for n, p in layer.named_parameters() if p.grad is not None}
    return out


def stepwise_recordings(case, theirs):
    """The true per-step states: Sinabs' batch-first layer called once per time step (its
    state carries across calls), fed x_t, plus rec_connect(s_{t-1}) from Sinabs' own
    recurrent spikes for the recurrent forms."""
    model, layer = sinabs_model(dict(case, form=""),
                                norm_input=False if is_alif_syn_norm(case) else None)
    conn = rec_connect(case) if case["form"] == "Recurrent" else None
    recs = {}
    with torch.no_grad():
        for x, s in zip(case["inputs"], theirs["spikes"]):
            if case["form"] == "Squeeze":
                B = case["batch_size"] or x.shape[0] // case["num_timesteps"]
                x, s = x.unflatten(0, (B, -1)), s.unflatten(0, (B, -1))
            steps = {}
            for t in range(x.shape[1]):
                xt = x[:, t:t + 1]
                if conn is not None and t > 0:
                    xt = xt + conn(s[:, t - 1]).reshape(xt.shape)
                if is_alif_syn_norm(case):
                    xt = (1 - layer.alpha_mem_calculated) * xt
                model(xt)
                for name, rec in model.recordings.items():
                    if is_alif_syn_norm(case) and name == "i_syn":
                        rec = rec / (1 - layer.alpha_mem_calculated)
                    steps.setdefault(name, []).append(rec)
            for name, parts in steps.items():
                recs.setdefault(name, []).append(torch.cat(parts, 1))
    return recs


def run_snn(case, driver, tmp_path, threads):
    case_file, result_file = tmp_path / "case.pt", tmp_path / "result.pt"
    torch.save(case, case_file)
    env = dict(os.environ, OMP_NUM_THREADS=str(threads))
    proc = subprocess.run([str(driver), str(case_file), str(result_file)],
                          capture_output=True, text=True, timeout=120, env=env)
    assert proc.returncode == 0, proc.stderr
    # Written by our own driver (a TorchScript-pickled dict), not an outside file.
    return torch.load(result_file, weights_only=False)


def assert_close(actual, expected, what, scaled=False):
    """atol 1e-5, rtol 1e-4; with `scaled` (gradients), atol grows with the tensor's largest
    value: a gradient summed in float32 from terms of size M carries rounding of about
    M·1e-7 in every element, whatever the order of summation (e.g. a recurrent weight's
    gradient with entries near 2000 next to entries near 0.03)."""
    assert actual.shape == expected.shape, f"{what}: shape {actual.shape} != {expected.shape}"
    atol = ATOL * max(1.0, float(expected.abs().max())) if scaled and expected.numel() else ATOL
    torch.testing.assert_close(actual, expected, atol=atol, rtol=RTOL, msg=lambda m: f"{what}: {m}")


def compare(case, ours, theirs):
    for k, (a, b) in enumerate(zip(ours["spikes"], theirs["spikes"], strict=True)):
        if case["layer"] == "ExpLeak":
            assert_close(a, b, f"output of call {k}")
        else:
            assert torch.equal(a, b), f"spikes of call {k} differ at {(a != b).nonzero()[:5].tolist()}"
    for k, (a, b) in enumerate(zip(ours["grad_inputs"], theirs["grad_inputs"], strict=True)):
        assert_close(a, b, f"grad_inputs[{k}]", scaled=True)
    for name, b in theirs["final"].items():
        assert_close(ours["final"][name], b, f"final {name}")
    assert sorted(ours["grad_params"]) == sorted(theirs["grad_params"])
    for name, b in theirs["grad_params"].items():
        assert_close(ours["grad_params"][name], b, f"grad of {name}", scaled=True)
    if case["record_states"]:
        expected = theirs["recordings"]
        if aliased_recordings(case):
            expected = stepwise_recordings(case, theirs)
        assert sorted(ours["recordings"]) == sorted(expected)
        for name, recs in expected.items():
            for k, (a, b) in enumerate(zip(ours["recordings"][name], recs, strict=True)):
                assert_close(a, b, f"recording {name}[{k}]")


def case_id(layer, form, options):
    return f"{layer}{form}-" + ("-".join(f"{k}={v}" for k, v in options.items()) or "defaults")


def case_shapes(layer, form, options):
    if "input_scale" in options and "surrogate" in options and "spike_threshold" in options:
        return [(3, 7, 2, 4), (2, 6, 300)]  # the random cases: a small and a large shape
    if form == "Squeeze":
        return [(2, 5, 3), (3, 4, 2, 3, 5)]
    if form == "Recurrent":
        return [(2, 7, 2, 4, 4)] if options.get("conv") else [(2, 8, 5), (1, 12, 300)]
    return SHAPES


PARAMS = [(l, f, o, s) for l, f, o in CASES for s in case_shapes(l, f, o)]


@pytest.mark.parametrize("layer,form,options,shape", PARAMS,
                         ids=[case_id(l, f, o) + "-" + "x".join(map(str, s)) for l, f, o, s in PARAMS])
def test_matches_sinabs(layer, form, options, shape, driver, tmp_path):
    case = make_case(layer, form, options, shape,
                     seed=zlib.crc32(repr((layer, form, options, shape)).encode()))
    theirs = run_sinabs(case)
    if layer != "ExpLeak":
        n_spikes = sum(float(s.sum()) for s in theirs["spikes"])
        assert n_spikes > 0, "case produced no spikes"
    # One thread for half the shapes, two for the rest (the parallel chunks differ).
    threads = 1 + zlib.crc32(repr(shape).encode()) % 2
    ours = run_snn(case, driver, tmp_path, threads)
    compare(case, ours, theirs)


@pytest.mark.parametrize("norm_input", [True, False])
def test_alif_differs_from_sinabs_where_documented(norm_input, driver, tmp_path):
    """With tau_syn, Sinabs' ALIF layer restarts its synaptic current on every call (it
    does not write i_syn back), and with norm_input it normalises its stored current again
    at every step; snn.cpp does neither, so the two differ (test_matches_sinabs holds
    snn.cpp to the corrected oracle)."""
    case = make_case("ALIF", "", {"tau_syn": 5.0, "norm_input": norm_input}, (2, 10, 3), seed=5)
    ours = run_snn(case, driver, tmp_path, 2)
    layer = sinabs_layer(case)
    with torch.no_grad():
        theirs = [layer(x) for x in case["inputs"]]
        assert torch.equal(layer.i_syn, torch.zeros_like(layer.i_syn)), "i_syn never written"
    assert any(not torch.equal(a, b) for a, b in zip(ours["spikes"], theirs))


@pytest.mark.parametrize("layer,form", [("LIF", "Recurrent"), ("ALIF", ""), ("ALIF", "Recurrent")])
def test_recordings_differ_from_sinabs_where_documented(layer, form, driver, tmp_path):
    """Sinabs' ALIF and recurrent layers record, for every step but the last, the next
    step's membrane before its reset (an aliased dictionary); snn.cpp records each step's
    state, which test_matches_sinabs checks against Sinabs run one step per call."""
    case = make_case(layer, form, {"record_states": True, "norm_input": False}, (2, 8, 5), seed=9)
    ours = run_snn(case, driver, tmp_path, 2)
    sinabs = sinabs_layer(case)
    with torch.no_grad():
        sinabs(case["inputs"][0])
    theirs = sinabs.recordings["v_mem"]
    assert torch.allclose(ours["recordings"]["v_mem"][0][:, -1], theirs[:, -1], atol=ATOL)
    assert not torch.allclose(ours["recordings"]["v_mem"][0][:, :-1], theirs[:, :-1], atol=1e-3)
