"""snncpp.sinabs against Sinabs itself (the oracle, run in the same process).

Every drop-in is built with the same arguments and parameters as its Sinabs layer, and
both run the same inputs over three consecutive calls (state, and its autograd graph,
carried across them); one loss over every call's output, the recordings and the final
states is backpropagated through both. Compared: outputs exactly, states, recordings,
firing rates and gradients (every input and parameter) within ATOL / RTOL. Then the layer
contract: state handling, state_dict, repr, in-place conversion, unsupported
configurations, and that the drop-ins do run on the fused op.
"""
import copy
import inspect
import random
import warnings
from typing import Any, Dict, List, Tuple

import pytest
import sinabs.activation as sa
import sinabs.layers as sl
import sinabs.layers.functional as sf
import torch
from sinabs.layers.alif import ALIFSqueeze as SinabsALIFSqueeze

import snncpp
import snncpp.sinabs as ss
from snncpp._dropin import DropIn, UnsupportedLayer

from conftest import ATOL, RTOL

ORIGINALS = {cls.__name__: cls for cls in ss.DROP_INS}
KINDS = {"IAF": "IAF", "IAFSqueeze": "IAF", "IAFRecurrent": "IAF",
         "LIF": "LIF", "LIFSqueeze": "LIF", "LIFRecurrent": "LIF",
         "ALIF": "ALIF", "ALIFSqueeze": "ALIF", "ALIFRecurrent": "ALIF",
         "ExpLeak": "ExpLeak", "ExpLeakSqueeze": "ExpLeak"}
SHAPES = [(2, 9, 5), (3, 7, 2, 4), (1, 12, 6), (2, 6, 3, 2, 2)]


# ---- configurations ------------------------------------------------------------------

def surrogate(rng: random.Random) -> Any:
    pick = rng.randrange(5)
    if pick == 0:
        return sa.SingleExponential(grad_width=rng.choice([0.3, 0.5, 1.0]),
                                    grad_scale=rng.choice([0.5, 1.0, 2.0]))
    if pick == 1:
        return sa.Heaviside(window=rng.choice([0.3, 0.5, 1.0]))
    if pick == 2:
        return sa.Gaussian(mu=rng.choice([0.0, 0.1]), sigma=rng.choice([0.3, 0.5]),
                           grad_scale=rng.choice([1.0, 1.5]))
    if pick == 3:
        return sa.MultiGaussian(sigma=rng.choice([0.4, 0.5]), h=rng.choice([0.1, 0.15]),
                                s=rng.choice([4.0, 6.0]))
    return sa.PeriodicExponential(grad_width=rng.choice([0.3, 0.5, 0.8]),
                                  grad_scale=rng.choice([1.0, 2.0]))


def spike_fn(rng: random.Random) -> Any:
    return rng.choice([sa.MultiSpike, sa.SingleSpike, sa.MaxSpike(rng.choice([1, 2, 3])),
                       sa.MaxSpike(None)])


def reset_fn(rng: random.Random) -> Any:
    return rng.choice([sa.MembraneSubtract(), sa.MembraneSubtract(subtract_value=0.7),
                       sa.MembraneReset(), sa.MembraneReset(reset_value=0.1)])


class Case:
    """One configuration: builds the Sinabs layer and its drop-in with equal arguments."""

    def __init__(self, name: str, seed: int, dtype: torch.dtype = torch.float32):
        self.name, self.seed, self.dtype = name, seed, dtype
        rng = random.Random(seed)
        kind = KINDS[name]
        shape = list(rng.choice(SHAPES))
        features = shape[2:]
        self.per_neuron = rng.random() < 0.35
        self.tau_shape = tuple(features[-1:]) if rng.random() < 0.5 else \
            tuple(features[:1] + [1] * (len(features) - 1))
        o: Dict[str, Any] = {"record_states": rng.random() < 0.5}
        if rng.random() < 0.35:
            o["min_v_mem"] = -rng.choice([0.2, 0.5, 1.0])
        if kind in ("LIF", "ALIF", "ExpLeak"):
            o["tau_mem"] = ("tau", rng.choice([5.0, 10.0, 20.0]))
            o["train_alphas"] = rng.random() < 0.3
        if kind == "ExpLeak":
            o["norm_input"] = rng.random() < 0.5
        else:
            if rng.random() < 0.45:
                # Sinabs' ALIF rejects a per-neuron tau_syn (it tests its truth value).
                o["tau_syn"] = ("tau" if kind != "ALIF" else "scalar", rng.choice([2.0, 4.0]))
            o["spike_fn"] = spike_fn(rng)
            o["reset_fn"] = reset_fn(rng)
            o["surrogate_grad_fn"] = surrogate(rng)
            o["spike_threshold"] = torch.tensor(rng.choice([0.5, 1.0, 1.5]))
            if kind == "LIF" and rng.random() < 0.2:  # one threshold per neuron
                o["spike_threshold"] = ("thresholds", 1.0)
        if kind in ("LIF", "ALIF"):
            o["norm_input"] = rng.random() < 0.7
        if kind == "ALIF":
            o["tau_adapt"] = ("tau", rng.choice([10.0, 30.0]))
            o["adapt_scale"] = rng.choice([0.5, 1.8, 3.0])
        if name.endswith("Squeeze"):
            if rng.random() < 0.5:
                o["batch_size"] = shape[0]
            else:
                o["num_timesteps"] = shape[1]
        self.recurrent = name.endswith("Recurrent")
        if self.recurrent:
            n = 1
            for f in features:
                n *= f
            if len(features) == 1:
                self.rec_template: torch.nn.Module = torch.nn.Linear(n, n)
            else:  # spikes [B, *features] -> [B, N] (Sinabs reshapes it back)
                self.rec_template = torch.nn.Sequential(torch.nn.Flatten(), torch.nn.Linear(n, n))
            with torch.no_grad():
                for p in self.rec_template.parameters():
                    p.copy_(torch.randn(p.shape, generator=torch.Generator().manual_seed(seed)) * 0.5)
        self.options = o
        self.shape = tuple(shape)
        norm = o.get("norm_input", False) and kind != "IAF"
        amp = (12.0 if norm else 1.5) * rng.choice([1.0, 2.0])
        g = torch.Generator().manual_seed(seed)
        self.tau_noise = 0.5 + torch.rand(self.tau_shape, generator=g)
        self.thresholds = 0.5 + torch.rand(features[-1], generator=g)
        self.inputs = [amp * (torch.rand(self.shape, generator=g) - 0.35) for _ in range(3)]

    def kwargs(self) -> Dict[str, Any]:
        """Fresh arguments (no tensor shared between the two layers)."""
        kw: Dict[str, Any] = {}
        for key, value in self.options.items():
            if isinstance(value, tuple) and value[0] == "tau":
                kw[key] = value[1] * self.tau_noise.clone() if self.per_neuron else value[1]
            elif isinstance(value, tuple) and value[0] == "scalar":
                kw[key] = value[1]
            elif isinstance(value, tuple) and value[0] == "thresholds":
                kw[key] = self.thresholds.clone()
            elif isinstance(value, torch.Tensor):
                kw[key] = value.clone()
            else:
                kw[key] = copy.deepcopy(value)
        if self.recurrent:
            kw["rec_connect"] = copy.deepcopy(self.rec_template)
        return kw

    def pair(self) -> Tuple[torch.nn.Module, torch.nn.Module]:
        original = ORIGINALS[self.name](**self.kwargs())
        drop_in = getattr(ss, self.name)(**self.kwargs())
        drop_in.load_state_dict(original.state_dict())
        if self.dtype != torch.float32:
            original.to(self.dtype)
            drop_in.to(self.dtype)
        return original, drop_in

    def input(self, k: int) -> torch.Tensor:
        x = self.inputs[k].to(self.dtype)
        if self.name.endswith("Squeeze"):
            x = x.flatten(0, 1)
        return x

    def __repr__(self) -> str:
        return f"{self.name}(seed={self.seed}, dtype={self.dtype}, shape={self.shape}, " \
               f"per_neuron={self.per_neuron}, {self.options})"


def close(a: torch.Tensor, b: torch.Tensor, what: str) -> None:
    assert a.shape == b.shape and a.dtype == b.dtype, f"{what}: {a.shape} {a.dtype} vs {b.shape} {b.dtype}"
    torch.testing.assert_close(b, a, atol=ATOL, rtol=RTOL, msg=lambda m: f"{what}: {m}")


def run_both(case: Case, original: torch.nn.Module, drop_in: torch.nn.Module,
             calls: int = 3) -> None:
    """Runs both layers over `calls` consecutive inputs and compares everything."""
    g = torch.Generator().manual_seed(case.seed + 1)
    losses = [torch.zeros(()), torch.zeros(())]
    inputs: List[List[torch.Tensor]] = [[], []]
    for k in range(calls):
        outs = []
        for j, layer in enumerate((original, drop_in)):
            x = case.input(k).clone().requires_grad_()
            inputs[j].append(x)
            outs.append(layer(x))
        a, b = outs
        assert a.dtype == b.dtype and a.shape == b.shape, (a.dtype, b.dtype, a.shape, b.shape)
        assert torch.equal(a, b), f"call {k}: outputs differ at {(a != b).nonzero()[:5].tolist()}"
        w = torch.randn(a.shape, generator=g, dtype=a.dtype)
        losses = [losses[0] + (a * w).sum(), losses[1] + (b * w).sum()]
        assert sorted(original.recordings) == sorted(drop_in.recordings), \
            (list(original.recordings), list(drop_in.recordings))
        for name, ra in original.recordings.items():
            rb = drop_in.recordings[name]
            close(ra, rb, f"call {k}: recording {name}")
            w = torch.randn(ra.shape, generator=g, dtype=ra.dtype)
            losses = [losses[0] + (ra * w).sum(), losses[1] + (rb * w).sum()]
        close(original.firing_rate, drop_in.firing_rate, f"call {k}: firing_rate")
        # Sinabs' LIF sets i_syn to None without a synapse (ALIF leaves it alone).
        assert (getattr(original, "i_syn", "unset") is None) == (getattr(drop_in, "i_syn", "unset") is None)
    buffers_a, buffers_b = dict(original.named_buffers()), dict(drop_in.named_buffers())
    assert list(buffers_a) == list(buffers_b)
    for name, sa_ in buffers_a.items():
        sb = buffers_b[name]
        close(sa_, sb, f"state {name}")
        assert sa_.requires_grad == sb.requires_grad, name
        if sa_.requires_grad:
            w = torch.randn(sa_.shape, generator=g, dtype=sa_.dtype)
            losses = [losses[0] + (sa_ * w).sum(), losses[1] + (sb * w).sum()]
    losses[0].backward()
    losses[1].backward()
    for k, (xa, xb) in enumerate(zip(*inputs)):
        close(xa.grad, xb.grad, f"input {k} grad")
    params_a, params_b = dict(original.named_parameters()), dict(drop_in.named_parameters())
    assert list(params_a) == list(params_b)
    for name, pa in params_a.items():
        pb = params_b[name]
        assert (pa.grad is None) == (pb.grad is None), name
        if pa.grad is not None:
            close(pa.grad, pb.grad, f"parameter {name} grad")


PARITY = [(name, seed) for name in ORIGINALS for seed in range(7)]


@pytest.mark.parametrize("name,seed", PARITY, ids=[f"{n}-{s}" for n, s in PARITY])
def test_matches_sinabs(name: str, seed: int) -> None:
    # (Sinabs' recurrent layers cannot run in float64: their spikes are float32, so a
    # float64 rec_connect rejects them.)
    dtype = torch.float64 if seed % 3 == 2 and not name.endswith("Recurrent") else torch.float32
    case = Case(name, 1000 * seed + len(name), dtype)
    original, drop_in = case.pair()
    try:
        run_both(case, original, drop_in)
    except AssertionError as error:
        raise AssertionError(f"{case}: {error}") from error


@pytest.mark.parametrize("name", ["LIF", "ALIFRecurrent", "ExpLeak"])
def test_float64_input_into_float32_layer(name: str) -> None:
    """Sinabs promotes a float64 input over float32 parameters and states; spikes stay
    float32 (its spike functions return .float())."""
    case = Case(name, 77)
    original, drop_in = case.pair()
    case.dtype = torch.float64
    run_both(case, original, drop_in)
    assert original.v_mem.dtype == drop_in.v_mem.dtype == torch.float64


# ---- hand-picked configurations ---------------------------------------------------------

def hand_case(name: str, seed: int, **options: Any) -> Case:
    case = Case(name, seed)
    if KINDS[name] != "ExpLeak":
        # Explicit: Sinabs wraps its default-argument tensor in every layer built with the
        # default threshold, so an in-place change to one changes the default.
        options.setdefault("spike_threshold", torch.tensor(1.0))
    case.options = options
    case.per_neuron = False
    return case


HAND = [
    ("LIF", dict(tau_mem=10.0, tau_syn=5.0, record_states=True, min_v_mem=-0.5)),
    ("LIF", dict(tau_mem=10.0, spike_fn=sa.MaxSpike(2), reset_fn=sa.MembraneReset(0.2))),
    ("IAF", dict(tau_syn=3.0, record_states=True, spike_threshold=torch.tensor(1.5))),
    ("ALIF", dict(tau_mem=10.0, tau_adapt=20.0, tau_syn=4.0, record_states=True)),
    ("ALIF", dict(tau_mem=10.0, tau_adapt=20.0, tau_syn=4.0, norm_input=False,
                  train_alphas=True, record_states=True)),
    ("ALIF", dict(tau_mem=10.0, tau_adapt=20.0, spike_fn=sa.MultiSpike, min_v_mem=-0.3,
                  record_states=True)),
    ("ExpLeak", dict(tau_mem=5.0, norm_input=True, min_v_mem=-0.1, record_states=True)),
    ("IAFSqueeze", dict(batch_size=None, num_timesteps=None)),  # filled in below
    ("LIFSqueeze", dict(tau_mem=10.0, tau_syn=4.0, record_states=True)),
    ("ExpLeakSqueeze", dict(tau_mem=8.0, train_alphas=True)),
    ("ALIFSqueeze", dict(tau_mem=10.0, tau_adapt=15.0, record_states=True)),
    ("IAFRecurrent", dict(tau_syn=3.0, record_states=True, min_v_mem=-0.5)),
    ("LIFRecurrent", dict(tau_mem=10.0, tau_syn=5.0, record_states=True)),
    ("ALIFRecurrent", dict(tau_mem=10.0, tau_adapt=20.0, tau_syn=4.0, record_states=True)),
    ("ALIFRecurrent", dict(tau_mem=10.0, tau_adapt=20.0, spike_fn=sa.MaxSpike(2),
                           reset_fn=sa.MembraneReset(), record_states=True)),
]


@pytest.mark.parametrize("k", range(len(HAND)), ids=[f"{n}-{k}" for k, (n, _) in enumerate(HAND)])
def test_hand_picked_matches_sinabs(k: int) -> None:
    name, options = HAND[k]
    for squeeze in (["batch_size", "num_timesteps"] if name.endswith("Squeeze") else [None]):
        case = hand_case(name, 500 + k, **{o: v for o, v in options.items()
                                           if o not in ("batch_size", "num_timesteps")})
        if squeeze is not None:
            case.options[squeeze] = case.shape[0] if squeeze == "batch_size" else case.shape[1]
        original, drop_in = case.pair()
        run_both(case, original, drop_in)


def test_recurrent_with_linear_records_as_sinabs() -> None:
    """The recurrent layers' recordings hold, for every step but the last, the next step's
    membrane before its reset (Sinabs records a dictionary the next step modifies)."""
    torch.manual_seed(3)
    linear = torch.nn.Linear(4, 4)
    kw = dict(tau_mem=10.0, tau_syn=4.0, record_states=True, min_v_mem=-0.4)
    a = sl.LIFRecurrent(rec_connect=copy.deepcopy(linear), spike_threshold=torch.tensor(1.0), **kw)
    b = ss.LIFRecurrent(rec_connect=copy.deepcopy(linear), spike_threshold=torch.tensor(1.0), **kw)
    x = 15 * (torch.rand(2, 8, 4) - 0.3)
    assert torch.equal(a(x), b(x))
    close(a.recordings["v_mem"], b.recordings["v_mem"], "v_mem")
    # The last step's record is its own (reset, clamped) state.
    close(b.recordings["v_mem"][:, -1], b.v_mem, "last record")
    assert b.recordings["v_mem"][:, :-1].min() < -0.4  # not clamped: before the reset


# ---- the layer contract ----------------------------------------------------------------

def sinabs_neuron_classes() -> List[type]:
    found = {c for c in vars(sl).values()
             if isinstance(c, type) and issubclass(c, sl.StatefulLayer) and c is not sl.StatefulLayer}
    return sorted(found | {SinabsALIFSqueeze}, key=lambda c: c.__name__)


def test_every_sinabs_neuron_layer_has_a_drop_in() -> None:
    assert set(ss.DROP_INS) == set(sinabs_neuron_classes())
    assert ss.NEURON_BASES == (sl.StatefulLayer,)
    for original, drop_in in ss.DROP_INS.items():
        assert drop_in.original is original
        assert issubclass(drop_in, original) and issubclass(drop_in, DropIn)
        assert drop_in.__name__ == original.__name__
        assert getattr(ss, drop_in.__name__) is drop_in
        assert drop_in.__doc__ and original.__name__ in drop_in.__doc__


@pytest.mark.parametrize("name", sorted(ORIGINALS))
def test_drop_in_overrides_only_forward(name: str) -> None:
    original, drop_in = ORIGINALS[name], getattr(ss, name)
    changed = {attr for attr in dir(original)
               if inspect.getattr_static(drop_in, attr) is not inspect.getattr_static(original, attr)}
    assert changed <= {"forward", "__init__", "__init_subclass__", "__doc__", "__module__",
                       "__annotations__", "__dict__", "__weakref__"}, changed
    # The constructor is the original's (checked for support at its end).
    assert inspect.signature(drop_in) == inspect.signature(original)


@pytest.mark.parametrize("name", sorted(ORIGINALS))
def test_repr_state_dict_and_isinstance(name: str) -> None:
    case = Case(name, 11)
    if KINDS[name] == "ALIF" and "tau_syn" not in case.options:
        # Sinabs' ALIF cannot print itself with train_alphas and no tau_syn (its
        # _param_dict reads alpha_syn, None); nor can its drop-in.
        case.options["train_alphas"] = False
    original, drop_in = case.pair()
    assert isinstance(drop_in, original.__class__)
    assert repr(drop_in) == repr(original)
    assert str(drop_in) == str(original)
    sd_a, sd_b = original.state_dict(), drop_in.state_dict()
    assert list(sd_a) == list(sd_b)
    for key in sd_a:
        assert torch.equal(sd_a[key], sd_b[key]), key
    # Run both (state buffers take the input's shape), then save / load both ways.
    with torch.no_grad():
        original(case.input(0))
        drop_in(case.input(0))
        for p in original.parameters():
            p.add_(0.01)
    drop_in.load_state_dict(original.state_dict())
    for (ka, va), (kb, vb) in zip(original.state_dict().items(), drop_in.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka
    fresh = case.pair()[0]
    with torch.no_grad():
        fresh(case.input(0))
    fresh.load_state_dict(drop_in.state_dict())
    for (ka, va), (kb, vb) in zip(fresh.state_dict().items(), drop_in.state_dict().items()):
        assert ka == kb and torch.equal(va, vb), ka
    with torch.no_grad():
        assert torch.equal(fresh(case.input(1)), drop_in(case.input(1)))
    if name.endswith("Recurrent"):
        return  # Sinabs' deepcopy fails on a rec_connect with parameters (getattr of "a.b")
    # Sinabs' deepcopy (a new instance from its arguments; ALIF's loses norm_input) keeps
    # the class.
    twins = copy.deepcopy(fresh), copy.deepcopy(drop_in)
    assert type(twins[1]) is type(drop_in)
    with torch.no_grad():
        assert torch.equal(twins[0](case.input(2)), twins[1](case.input(2)))


STATE_CASES = {
    "LIF": dict(tau_mem=10.0, tau_syn=4.0, min_v_mem=-0.5),
    "IAF": dict(spike_fn=sa.SingleSpike, reset_fn=sa.MembraneReset()),
    "ALIF": dict(tau_mem=10.0, tau_adapt=20.0, tau_syn=3.0),
    "ExpLeak": dict(tau_mem=6.0, norm_input=True),
    "LIFRecurrent": dict(tau_mem=10.0),
    "IAFSqueeze": dict(tau_syn=2.0),
}


@pytest.mark.parametrize("name", sorted(STATE_CASES))
def test_state_handling_as_sinabs(name: str) -> None:
    case = hand_case(name, 21, **STATE_CASES[name])
    if name.endswith("Squeeze"):
        case.options["batch_size"] = case.shape[0]
    original, drop_in = case.pair()

    def both(x: torch.Tensor, seed: int) -> None:
        outs = []
        for layer in (original, drop_in):
            torch.manual_seed(seed)  # Sinabs draws the states kept when the batch shrinks
            outs.append(layer(x))
        assert torch.equal(outs[0], outs[1])
        for (n, va), (_, vb) in zip(original.named_buffers(), drop_in.named_buffers()):
            close(va, vb, n)

    x = case.input(0)
    both(x, 0)
    for layer in (original, drop_in):
        layer.reset_states()
        assert all(not b.requires_grad and not b.any() for b in layer.buffers())
    both(case.input(1), 1)
    for layer in (original, drop_in):
        torch.manual_seed(5)
        layer.reset_states(randomize=True, value_ranges={"v_mem": (-0.5, 0.5)})
    both(case.input(2), 2)
    # zero_grad detaches the states (they must not be views of the op's records).
    for layer in (original, drop_in):
        layer.zero_grad()
        assert not any(b.requires_grad for b in layer.buffers())
    if not name.endswith("Squeeze"):
        # A smaller batch: the non-recurrent LIF family keeps randomly drawn states, the
        # others start afresh; new feature shapes start afresh.
        both(x[:1], 3)
        assert drop_in.v_mem.shape[0] == 1
        if not name.endswith("Recurrent"):
            both(torch.cat([x, x], -1), 4)
            assert drop_in.v_mem.shape[-1] == 2 * x.shape[-1]
    else:
        both(x, 3)


@pytest.mark.parametrize("name", sorted(ORIGINALS))
def test_from_original_converts_in_place(name: str) -> None:
    case = Case(name, 31)
    layer, reference = case.pair()[0], case.pair()[0]
    reference.load_state_dict(layer.state_dict())
    xs = [[case.input(k).clone().requires_grad_() for k in range(2)] for _ in range(2)]
    out1 = [layer(xs[0][0]), reference(xs[1][0])]
    params = {n: p for n, p in layer.named_parameters()}
    buffers = {n: b for n, b in layer.named_buffers()}
    drop_in_cls = getattr(ss, name)
    converted = drop_in_cls.from_original(layer)
    assert converted is layer and type(layer) is drop_in_cls
    assert {n: p for n, p in layer.named_parameters()} == params  # the same objects
    assert all(b is buffers[n] for n, b in layer.named_buffers())
    out2 = [layer(xs[0][1]), reference(xs[1][1])]
    assert torch.equal(out2[0], out2[1])
    # BPTT from the second call (fused op) back into the first (Sinabs' own graph).
    w1, w2 = torch.randn(out1[0].shape), torch.randn(out2[0].shape)
    ((out1[0] * w1).sum() + (out2[0] * w2).sum()).backward()
    ((out1[1] * w1).sum() + (out2[1] * w2).sum()).backward()
    for xa, xb in zip(*xs):
        close(xb.grad, xa.grad, "input grad")
    for (n, pa), (_, pb) in zip(layer.named_parameters(), reference.named_parameters()):
        if pb.grad is not None:
            close(pb.grad, pa.grad, n)
    with pytest.raises(UnsupportedLayer):
        drop_in_cls.from_original(torch.nn.ReLU())


class OwnSpike(sa.SingleSpike):
    """A spike function of one's own (the op cannot know what it computes)."""


def own_surrogate(v_mem: torch.Tensor, spike_threshold: torch.Tensor) -> torch.Tensor:
    return torch.ones_like(v_mem)


def own_reset(spikes: torch.Tensor, state: dict, threshold: torch.Tensor) -> dict:
    return state


UNSUPPORTED = [
    ("LIF", dict(tau_mem=10.0, spike_fn=OwnSpike), "spike_fn"),
    ("IAF", dict(surrogate_grad_fn=own_surrogate), "surrogate_grad_fn"),
    ("ALIF", dict(tau_mem=10.0, tau_adapt=20.0, reset_fn=own_reset), "reset_fn"),
    ("LIF", dict(tau_mem=10.0, min_v_mem=torch.tensor([-1.0, -0.5])), "min_v_mem"),
    ("IAF", dict(spike_fn=sa.MaxSpike(2.5)), "max_num_spikes_per_bin"),
    ("LIF", dict(tau_mem=10.0, surrogate_grad_fn=sa.SingleExponential(grad_width=0.0)), "grad_width"),
    ("LIFRecurrent", dict(tau_mem=10.0, rec_connect=torch.nn.Identity(),
                          reset_fn=sa.MembraneSubtract(subtract_value=float("nan"))), "subtract_value"),
    ("ExpLeak", dict(tau_mem=10.0, min_v_mem=float("-inf")), "min_v_mem"),
]


@pytest.mark.parametrize("k", range(len(UNSUPPORTED)), ids=[f"{n}-{w}" for n, _, w in UNSUPPORTED])
def test_unsupported_configuration_is_named(k: int) -> None:
    name, kwargs, what = UNSUPPORTED[k]
    drop_in_cls = getattr(ss, name)
    layer = ORIGINALS[name](**kwargs)
    reason = drop_in_cls.unsupported_reason(layer)
    assert reason is not None and what in reason, reason
    with pytest.raises(UnsupportedLayer, match=what):
        drop_in_cls.from_original(layer)
    assert type(layer) is ORIGINALS[name]  # left as it was
    with pytest.raises(UnsupportedLayer, match=what):
        drop_in_cls(**kwargs)
    model = torch.nn.Sequential(layer, sl.IAF())
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("always")
        report = snncpp.accelerate(model)
    assert [p for p, _, _ in report.swapped] == ["1"]
    assert [p for p, _, _ in report.not_swapped] == ["0"] and what in report.not_swapped[0][2]
    assert type(model[1]) is ss.IAF and type(model[0]) is ORIGINALS[name]


def test_supported_configurations_have_no_reason() -> None:
    for name in ORIGINALS:
        for seed in range(7):
            case = Case(name, seed)
            assert getattr(ss, name).unsupported_reason(ORIGINALS[name](**case.kwargs())) is None, case


def test_attribute_changed_to_unsupported_raises_at_forward() -> None:
    layer = ss.LIF(tau_mem=10.0)
    layer(torch.rand(1, 3, 2))
    layer.spike_fn = OwnSpike
    with pytest.raises(UnsupportedLayer, match="spike_fn"):
        layer(torch.rand(1, 3, 2))


@pytest.fixture
def op_calls(monkeypatch: pytest.MonkeyPatch) -> List[str]:
    """Counts the fused op's calls; Sinabs' own loops fail if anything reaches them."""
    calls: List[str] = []
    op = ss._neuron

    def counting(x: torch.Tensor, state: Any, params: Any, spec: str) -> Any:
        if x.device.type != "meta":
            calls.append(spec)
        return op(x, state, params, spec)

    def fail(*args: Any, **kwargs: Any) -> Any:
        raise AssertionError("Sinabs' own forward ran")

    monkeypatch.setattr(ss, "_neuron", counting)
    for fn in ("lif_forward", "lif_recurrent", "alif_forward", "alif_recurrent"):
        monkeypatch.setattr(sf, fn, fail)
    return calls


@pytest.mark.parametrize("name", sorted(ORIGINALS))
def test_runs_on_the_fused_op(name: str, op_calls: List[str]) -> None:
    case = Case(name, 41)
    drop_in = getattr(ss, name)(**case.kwargs())
    drop_in(case.input(0))
    steps = case.shape[1] if name.endswith("Recurrent") else 1
    assert len(op_calls) == steps, op_calls
    family = {"IAF": "LIF", "LIF": "LIF", "ALIF": "ALIF", "ExpLeak": "ExpLeak"}[KINDS[name]]
    assert op_calls[0].startswith(family + "(")


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16])
@pytest.mark.parametrize("name", ["LIF", "ALIF", "ExpLeak", "IAFRecurrent"])
def test_low_precision_inputs(name: str, dtype: torch.dtype,
                              monkeypatch: pytest.MonkeyPatch) -> None:
    """A half-precision input into float32 states runs on the op, scaled by 1 - alpha_mem
    in its own dtype as Sinabs scales it; half-precision states (after .half()) take
    Sinabs' own forward (the op computes in float32 and float64)."""
    calls: List[str] = []
    op = ss._neuron
    monkeypatch.setattr(ss, "_neuron",
                        lambda x, s, p, spec: calls.append(spec) or op(x, s, p, spec))
    case = hand_case(name, 61, **{k: v for k, v in STATE_CASES.get(name, {}).items()})
    if name == "IAFRecurrent":
        case = Case(name, 61)
    original, drop_in = case.pair()
    x = case.input(0).to(dtype)
    assert torch.equal(original(x), drop_in(x)) and calls
    for (n, va), (_, vb) in zip(original.named_buffers(), drop_in.named_buffers()):
        close(va, vb, n)
    if name.endswith("Recurrent"):
        return  # Sinabs' float32 spikes cannot enter a half-precision rec_connect
    calls.clear()
    original.to(dtype), drop_in.to(dtype)
    assert torch.equal(original(x), drop_in(x)) and not calls
    for (n, va), (_, vb) in zip(original.named_buffers(), drop_in.named_buffers()):
        close(va, vb, n)


def test_batch_dependent_parameter_runs_sinabs_forward() -> None:
    """A time constant that varies over the batch has no per-neuron form: Sinabs' forward."""
    tau = torch.tensor([[5.0], [20.0]])
    a = sl.LIF(tau_mem=tau.clone(), spike_threshold=torch.tensor(1.0))
    b = ss.LIF(tau_mem=tau.clone(), spike_threshold=torch.tensor(1.0))
    x = 10 * torch.rand(2, 6, 3)
    assert torch.equal(a(x), b(x))
    close(a.v_mem, b.v_mem, "v_mem")


def test_output_may_be_changed_in_place() -> None:
    """As with Sinabs, the returned spikes are the caller's (the op keeps its own)."""
    for cls in (sl.LIF, ss.LIF):
        layer = cls(tau_mem=10.0)
        x = (10 * torch.rand(2, 6, 3)).requires_grad_()
        out = layer(x)
        out.mul_(2)
        (out.sum() + layer.v_mem.sum()).backward()
        assert x.grad is not None


def test_shape_argument_and_constructor_errors() -> None:
    a, b = sl.IAF(shape=(2, 3)), ss.IAF(shape=(2, 3))
    assert torch.equal(a.v_mem, b.v_mem) and b.v_mem.shape == (2, 3)
    with pytest.raises(TypeError):
        ss.IAFSqueeze()  # Sinabs' own error: neither batch_size nor num_timesteps


@pytest.mark.parametrize("name", ["IAFRecurrent", "LIFRecurrent", "ALIFRecurrent"])
def test_rec_connect_runs_as_often_as_in_sinabs(name: str) -> None:
    """Sinabs runs rec_connect after every step, the last included (hooks and stateful
    connections see the same calls)."""
    counts = []
    for cls in (ORIGINALS[name], getattr(ss, name)):
        case = Case(name, 71)
        kw = case.kwargs()
        seen: List[torch.Size] = []
        kw["rec_connect"].register_forward_hook(lambda m, i, o: seen.append(i[0].shape))
        layer = cls(**kw)
        layer(case.input(0))
        layer(case.input(1))
        counts.append(seen)
    assert counts[0] == counts[1] and len(counts[0]) == 2 * Case(name, 71).shape[1]


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("name", ["LIF", "IAFSqueeze", "ALIF", "ExpLeak", "LIFRecurrent"])
def test_matches_sinabs_on_cuda(name: str) -> None:
    """On other devices the op runs its plain-ATen reference: the same numbers."""
    case = Case(name, 81)
    original, drop_in = case.pair()
    original.cuda(), drop_in.cuda()
    for k in range(2):
        x = case.input(k).cuda()
        a, b = original(x), drop_in(x)
        assert b.device == a.device and torch.equal(a, b)
        for (n, va), (_, vb) in zip(original.named_buffers(), drop_in.named_buffers()):
            close(va, vb, n)
