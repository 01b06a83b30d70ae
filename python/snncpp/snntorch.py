"""Drop-in replacements for snnTorch's neurons that run on snn.cpp's fused neuron op.

``snncpp.snntorch.Leaky`` (and Synaptic, Alpha, Lapicque, RLeaky, RSynaptic) subclasses
``snntorch.Leaky`` and overrides only ``forward``: constructor, attributes, parameters,
buffers, hidden-state handling (``init_hidden``, ``reset_mem``, ``reset_hidden``,
``detach_hidden``, ``output``), printing and state_dict are snnTorch's. A step
``spk, mem = lif(x_t, mem)`` runs as one step of ``torch.ops.snn.neuron`` with the same
spikes, states and gradients (backpropagation through time included). Each layer also has
:meth:`~_Neuron.forward_sequence`, which runs T steps in one call of the op.

What the op cannot run (a spike_grad that is not one of ``snntorch.surrogate``'s, such as
``custom_surrogate``; ``state_quant``; ``inhibition`` with the same-step reset) raises
:class:`~snncpp._dropin.UnsupportedLayer`; ``accelerate`` leaves such layers as they are.
Inputs the op does not take (other than float32 and float64) run snnTorch's own forward.

Not replaced (no fused op computes them): DeltaLeaky (it fires on the change of the
membrane), StateLeaky, LinearLeaky, AssociativeLeaky (a convolution over time, a linear
attention), LeakyParallel (torch's RNN), SLSTM and SConv2dLSTM (torch's LSTM cells).
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable, Dict, List, Optional, Sequence, Tuple, Union

import snntorch
import torch
from snntorch import surrogate as _sg
from torch import Tensor

from ._dropin import DropIn, UnsupportedLayer, op_rejects, qualname, spec_bool
from ._library import load

load()

__all__ = ["Leaky", "Synaptic", "Alpha", "Lapicque", "RLeaky", "RSynaptic", "UnsupportedLayer",
           "DROP_INS", "NEURON_BASES", "surrogate_spec"]

_Outputs = Union[Tensor, Tuple[Tensor, ...]]

# ---- surrogates ---------------------------------------------------------------------------

# snnTorch's surrogates are closures (``atan(alpha)`` returns ``inner``): every closure of one
# factory shares its code object, and its parameters are the closure's cells. Code object →
# (the op's surrogate, the closure variables that are its arguments, in the op's order).
_CLOSURES: Dict[Any, Tuple[str, Tuple[str, ...]]] = {
    _sg.atan().__code__: ("ATan", ("alpha",)),
    _sg.fast_sigmoid().__code__: ("FastSigmoid", ("slope",)),
    _sg.sigmoid().__code__: ("Sigmoid", ("slope",)),
    _sg.spike_rate_escape().__code__: ("SpikeRateEscape", ("beta", "slope")),
    _sg.triangular().__code__: ("Triangular", ("threshold",)),
    _sg.straight_through_estimator().__code__: ("StraightThroughEstimator", ()),
    _sg.heaviside().__code__: ("HeavisideMask", ()),
    _sg.SFS().__code__: ("SparseFastSigmoid", ("slope", "B")),
    # snnTorch's LSO() passes one argument to a function of two and fails at its first call;
    # the op runs the leaky spike operator it means (gradient 1 above θ, slope below).
    _sg.LSO().__code__: ("LeakySpikeOperator", ("slope",)),
    # SSO: gradient 1 above θ, (u - 1/2 + mean)·variance below, u uniform (torch's default
    # generator, drawn by the op's forward rather than snnTorch's backward).
    _sg.SSO().__code__: ("SSO", ("mean", "variance")),
}
# Autograd functions that take the input alone, passed as ``spike_grad=X.apply``.
_FUNCTIONS: Dict[Any, str] = {
    _sg.Heaviside: "HeavisideMask",
    _sg.StraightThroughEstimator: "StraightThroughEstimator",
}
_CUSTOM_CODE = _sg.custom_surrogate(lambda x, g, o: g).__code__


def _number(value: Any) -> Optional[str]:
    """A closure's argument as spec text (None: not one finite number)."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            return None
        value = value.item()
    if not isinstance(value, numbers.Real):
        return None
    v = float(value)
    return repr(v) if math.isfinite(v) else None


def _callable_name(fn: Any) -> str:
    return getattr(fn, "__qualname__", None) or type(fn).__qualname__


def surrogate_spec(spike_grad: Callable[[Tensor], Tensor]) -> Tuple[Optional[str], Optional[str]]:
    """The op's surrogate text for a snnTorch ``spike_grad`` and None, or None and why the op
    has none (e.g. ``custom_surrogate``, a function of one's own)."""
    if spike_grad is snntorch.SpikingNeuron._surrogate_bypass:  # surrogate_disable=True
        return "NoGradient()", None
    owner = getattr(spike_grad, "__self__", None)
    if isinstance(owner, type) and getattr(spike_grad, "__name__", None) == "apply":
        name = _FUNCTIONS.get(owner)
        if name is not None:
            return f"{name}()", None
    code = getattr(spike_grad, "__code__", None)
    if code is _CUSTOM_CODE:
        return None, ("spike_grad is snntorch.surrogate.custom_surrogate(...): a Python "
                      "function of its own, which the fused op cannot call")
    entry = _CLOSURES.get(code) if code is not None else None
    if entry is None:
        return None, (f"spike_grad {_callable_name(spike_grad)} is not one of "
                      f"snntorch.surrogate's functions (atan, fast_sigmoid, sigmoid, "
                      f"spike_rate_escape, triangular, straight_through_estimator, heaviside, "
                      f"SFS, LSO, SSO) nor surrogate_disable")
    name, arg_names = entry
    cells = dict(zip(code.co_freevars, spike_grad.__closure__ or ()))
    args = []
    for arg in arg_names:
        text = _number(cells[arg].cell_contents) if arg in cells else None
        if text is None:
            return None, f"spike_grad {name}: its {arg} is not one finite number"
        args.append(f"{arg}={text}")
    return f"{name}({', '.join(args)})", None


# ---- specification ------------------------------------------------------------------------

_RESET_TEXT = {"subtract": "MembraneSubtract()", "zero": "MembraneReset(reset_value=0)",
               "none": "NoReset()"}
_RESET_NAMES = ("subtract", "zero", "none")  # snnTorch's reset_mechanism_val 0, 1, 2


def _mechanism(layer: torch.nn.Module) -> Optional[str]:
    """The reset of snnTorch's update, from the ``state_function`` its constructor chose."""
    fn = getattr(layer, "state_function", None)
    if getattr(fn, "__self__", None) is not layer:
        return None
    func = getattr(fn, "__func__", None)
    for name, mechanism in (("_base_sub", "subtract"), ("_base_zero", "zero"),
                            ("_base_int", "none")):
        if func is not None and func is getattr(type(layer), name, None):
            return mechanism
    return None


class _Family:
    """How one snnTorch class maps onto the op: its states, and the spec's fixed keys."""

    def __init__(self, op: str, call_states: Tuple[str, ...], op_states: Tuple[str, ...],
                 n_params: int, synapse: bool = False, recurrent: bool = False,
                 zero_keeps_input: bool = True, has_reset_delay: bool = True,
                 same_step_reset: bool = True, hidden_message: str = "") -> None:
        self.op = op
        self.call_states = call_states  # snnTorch's order in a call: forward(x, *states)
        self.op_states = op_states      # the op's order (for recurrent layers: without rec)
        self.n_params = n_params
        self.synapse = synapse
        self.recurrent = recurrent
        self.zero_keeps_input = zero_keeps_input
        self.has_reset_delay = has_reset_delay    # the class has a reset_delay attribute
        self.same_step_reset = same_step_reset    # reset_delay=False resets in the step
        self.hidden_message = hidden_message      # snnTorch's TypeError with init_hidden


def _describe(family: _Family, layer: torch.nn.Module) -> Tuple[Optional[str], Optional[str]]:
    """(spec, None) for a layer the op runs, else (None, why not)."""
    surrogate, reason = surrogate_spec(layer.spike_grad)
    if reason is not None:
        return None, reason
    if getattr(layer, "state_quant", False):
        return None, ("state_quant (a Python quantiser applied inside each step) has no "
                      "fused op")
    mechanism = _mechanism(layer)
    if mechanism is None:
        return None, ("state_function is not one of the layer's own updates (_base_sub, "
                      "_base_zero, _base_int)")
    delay = bool(getattr(layer, "reset_delay", True)) if family.has_reset_delay else True
    if not delay and family.same_step_reset:
        same = _RESET_NAMES[int(layer.reset_mechanism_val)]
        if same != mechanism:
            return None, (f"reset_mechanism_val ({same!r}) differs from the update chosen at "
                          f"construction ({mechanism!r}); the op applies one reset")
        if layer.inhibition and mechanism != "none":
            return None, ("inhibition with reset_delay=False: snnTorch's same-step reset "
                          "follows the inhibited spikes")
    if not family.same_step_reset:
        delay = True  # RSynaptic discards its same-step reset
    if family.op == "Alpha":
        spec = f"Alpha(reset={_RESET_TEXT[mechanism]}, surrogate={surrogate})"
    else:
        spec = (f"Leaky(synapse={spec_bool(family.synapse)}, "
                f"recurrent={spec_bool(family.recurrent)}, "
                f"spike=HeavisideSpike(), reset={_RESET_TEXT[mechanism]}, "
                f"reset_delay={spec_bool(delay)}, reset_grad=false, "
                f"zero_keeps_input={spec_bool(family.zero_keeps_input)}, surrogate={surrogate}, "
                f"state_quant=0)")
    n_states = len(family.op_states) + (1 if family.recurrent else 0)
    rejection = op_rejects(spec, n_states, family.n_params)
    if rejection is not None:
        return None, f"the fused op rejects {spec}: {rejection}"
    return spec, None


# ---- running the op -----------------------------------------------------------------------

def _layout_params(params: Sequence[Tensor], step: Tuple[int, ...], dtype: torch.dtype,
                   device: torch.device) -> Tuple[List[Tuple[str, Tensor]], bool]:
    """Each parameter as one value ("s"), per feature ("f") or varying over the batch ("b")
    for steps of shape ``step`` [B, *features]; and whether any varies over the batch."""
    laid: List[Tuple[str, Tensor]] = []
    fold = False
    for p in params:
        if p.dtype != dtype or p.device != device:
            p = p.to(device=device, dtype=dtype)
        if p.numel() == 1 and p.dim() <= len(step):
            laid.append(("s", p.reshape(())))
            continue
        if p.dim() > len(step) or tuple(torch.broadcast_shapes(p.shape, step)) != step:
            raise UnsupportedLayer(
                f"a parameter of shape {list(p.shape)} does not broadcast to the step's shape "
                f"{list(step)} without enlarging it")
        if p.dim() == len(step) and p.shape[0] != 1:
            fold = True
            laid.append(("b", p))
        else:
            laid.append(("f", p.squeeze(0) if p.dim() == len(step) else p))
    return laid, fold


def _fused(x: Tensor, time_first: bool, states: Sequence[Tensor], params: Sequence[Tensor],
           spec: str) -> List[Tensor]:
    """Runs a sequence ``x`` [T, B, *F] (time first) or [B, T, *F] through the op from
    ``states`` [B, *F]; returns the output and every state's record, shaped as ``x``."""
    if time_first:
        T, step = x.shape[0], tuple(x.shape[1:])
    else:
        T, step = x.shape[1], (x.shape[0],) + tuple(x.shape[2:])
    if T == 0:
        raise ValueError("snncpp.snntorch: a sequence needs at least one time step")
    B = step[0] if step else 1
    N = math.prod(step[1:])
    laid, fold = _layout_params(params, step, x.dtype, x.device)
    st = [s if s.dtype == x.dtype else s.to(x.dtype) for s in states]
    if not fold:
        xs = x.reshape(T, B, N).transpose(0, 1) if time_first else x.reshape(B, T, N)
        ss = [s.reshape(B, N) for s in st]
        ps = [p if kind == "s" else p.expand(step[1:]).reshape(N) for kind, p in laid]
    else:  # a parameter varies over the batch: every sample's neurons are neurons of one row
        M = B * N
        xs = (x.reshape(T, M) if time_first else x.reshape(B, T, N).transpose(0, 1).reshape(T, M))
        xs = xs.unsqueeze(0)
        ss = [s.reshape(1, M) for s in st]
        ps = [p if kind == "s" else p.expand(step).reshape(M) for kind, p in laid]
    outs = torch.ops.snn.neuron(xs, ss, ps, spec)
    shaped = []
    for o in outs:  # [B, T, N] or, folded, [1, T, B·N]
        if not fold:
            o = o.transpose(0, 1).reshape((T,) + step) if time_first else o.reshape(x.shape)
        else:
            o = o[0].reshape((T,) + step)
            if not time_first:
                o = o.transpose(0, 1)
        shaped.append(o)
    return shaped


def _own(t: Tensor) -> Tensor:
    """``t`` as a tensor of its own: a state the layer keeps must not be a view of the op's
    output (snnTorch's detach_hidden detaches it in place, which views do not allow)."""
    return t.clone() if t._is_view() else t


def _inhibit(spk: Tensor, mem: Tensor, threshold: Tensor) -> Tensor:
    """snnTorch's fire_inhibition: only the neuron with the largest mem - θ of each sample
    keeps its spike (the last dimension)."""
    winner = torch.argmax((mem - threshold).detach(), dim=-1, keepdim=True)
    return spk * torch.zeros_like(spk).scatter_(-1, winner, 1.0)


# ---- the drop-ins -------------------------------------------------------------------------

class _Neuron(DropIn):
    """What the snnTorch drop-ins share: the spec from the layer's attributes, the state
    handling of snnTorch's forward, the op call."""

    _family: _Family

    @classmethod
    def unsupported_reason(cls, layer: torch.nn.Module) -> Optional[str]:
        """Why ``layer`` cannot run on the fused op, or None when it can."""
        return _describe(cls._family, layer)[1]

    def _spec(self) -> str:
        """The op's spec text from the layer's attributes now (kept with the attributes it
        was made from, and made again when one of them changes)."""
        delay = getattr(self, "reset_delay", True)
        key = (self.spike_grad, self.state_quant, self.state_function, delay, self.inhibition,
               None if delay or not self._family.same_step_reset
               else int(self.reset_mechanism_val))
        cached = self.__dict__.get("_snncpp_spec")
        if cached is not None and cached[0] == key:
            return cached[1]  # type: ignore[no-any-return]
        spec, reason = _describe(self._family, self)
        if reason is not None:
            raise UnsupportedLayer(f"{qualname(self)}: {reason}")
        assert spec is not None
        self.__dict__["_snncpp_spec"] = (key, spec)
        return spec

    # The pieces each class supplies.
    def _op_input(self, x: Tensor) -> Tensor:
        return x

    def _op_params(self, x: Tensor, inhibit: bool) -> List[Tensor]:
        raise NotImplementedError

    def _spike_factor(self, inhibit: bool) -> Optional[Tensor]:
        """A factor the op's spikes are multiplied by here (Alpha's graded_spikes_factor)."""
        return None

    def _spike_dtype(self, inhibit: bool) -> torch.dtype:
        # snnTorch's spikes are float32 (its spike functions return ``.float()``) times the
        # graded_spikes_factor (not with inhibition).
        if inhibit:
            return torch.float32
        return torch.promote_types(torch.float32, self.graded_spikes_factor.dtype)

    def _take_states(self, given: Sequence[Optional[Tensor]], step: torch.Size,
                     dtype: torch.dtype) -> None:
        """snnTorch's state handling: the states passed in become the layer's, passing any
        with init_hidden is a TypeError, and a state of another shape restarts at zero."""
        names = self._family.call_states
        for name, value in zip(names, given):
            if value is not None:
                setattr(self, name, value)
        if self.init_hidden and any(v is not None for v in given):
            raise TypeError(self._family.hidden_message)
        for name in names:
            current = getattr(self, name)
            if current.shape != step:
                setattr(self, name, torch.zeros(step, dtype=dtype, device=current.device))

    def _outputs(self, spk: Tensor, states: Sequence[Tensor]) -> _Outputs:
        if self.output:
            return (spk, *states)
        if self.init_hidden:
            return spk
        return (spk, *states)

    def _run(self, x: Tensor, given: Sequence[Optional[Tensor]], sequence: bool,
             time_first: bool) -> _Outputs:
        """One step (``x`` [B, *F]) or a sequence, from the given or the hidden states."""
        if x.dtype not in (torch.float32, torch.float64):
            step = self._original_step  # the op computes in float32 and float64
        elif self._family.recurrent:
            step = self._recurrent_step
        else:
            return self._fused_run(x, given, sequence, time_first)
        if not sequence:
            return step(x, given)
        return self._loop(x, given, time_first, step)

    def _original_step(self, x: Tensor, given: Sequence[Optional[Tensor]]) -> _Outputs:
        """snnTorch's own forward (for inputs the op does not take, e.g. half precision)."""
        return type(self).original.forward(self, x, *given)  # type: ignore[attr-defined]

    def _recurrent_step(self, x: Tensor, given: Sequence[Optional[Tensor]]) -> _Outputs:
        raise NotImplementedError

    def _loop(self, x: Tensor, given: Sequence[Optional[Tensor]], time_first: bool,
              step: Callable[[Tensor, Sequence[Optional[Tensor]]], _Outputs]) -> _Outputs:
        """A sequence as snnTorch's loop runs it: ``step`` per time step, the states it
        returns passed on (without init_hidden); the outputs stacked."""
        dim = 0 if time_first else 1
        outs = []
        for t, x_t in enumerate(x.unbind(dim)):
            if t > 0:
                given = () if self.init_hidden else tuple(
                    getattr(self, n) for n in self._family.call_states)
            outs.append(step(x_t, given))
        if not outs:
            raise ValueError("snncpp.snntorch: a sequence needs at least one time step")
        if isinstance(outs[0], Tensor):
            return torch.stack(outs, dim)  # type: ignore[arg-type]
        return tuple(torch.stack(parts, dim) for parts in zip(*outs))

    def _fused_run(self, x: Tensor, given: Sequence[Optional[Tensor]], sequence: bool,
                   time_first: bool) -> _Outputs:
        """One step or a whole sequence in one call of the op."""
        if sequence:
            step = x.shape[1:] if time_first else x.shape[:1] + x.shape[2:]
        else:
            step = x.shape
        self._take_states(given, step, x.dtype)
        spec = self._spec()
        fam = self._family
        inhibit = bool(self.inhibition)
        if inhibit and len(step) != 2:
            raise UnsupportedLayer(f"{type(self).__qualname__}: inhibition needs steps of "
                                   f"shape [B, N], got {list(step)}")
        seq = x if sequence else x.unsqueeze(0)
        tf = time_first or not sequence
        op_x = self._op_input(seq)
        states0 = [getattr(self, name) for name in fam.op_states]
        outs = _fused(op_x, tf, states0, self._op_params(op_x, inhibit), spec)
        spk, records = outs[0], dict(zip(fam.op_states, outs[1:]))
        mem_rec = records["mem"]
        factor = self._spike_factor(inhibit)
        if factor is not None:
            spk = spk * factor
        if inhibit:
            spk = _inhibit(spk, mem_rec, self.threshold)
        dtype = self._spike_dtype(inhibit)
        if spk.dtype != dtype:
            spk = spk.to(dtype)
        # snnTorch's ``reset``: the delayed reset of the last step, H(mem_{T-1} - θ).
        T = seq.shape[0] if tf else seq.shape[1]
        if T == 1:
            before = states0[0]
        else:
            before = mem_rec[-2] if tf else mem_rec[:, -2]
        self.reset = (before > self.threshold).float()  # no gradient, as snnTorch's
        last = {}
        for name, rec in records.items():
            last[name] = _own(rec[-1] if tf else rec[:, -1])
            setattr(self, name, last[name])
        if not sequence:
            spk = spk[0]
            return self._outputs(spk, [last[n] for n in fam.call_states])
        return self._outputs(spk, [records[n] for n in fam.call_states])

    def forward_sequence(self, input_: Tensor, *states: Optional[Tensor],
                         batch_first: bool = False) -> _Outputs:
        """T steps in one call of the fused op: the same as calling the layer on ``input_[t]``
        for t = 0..T-1 (``input_`` [T, B, ...], or [B, T, ...] with ``batch_first``), the
        ``states`` (forward's, in its order; None: the layer's) passed to the first step.
        Returns forward's outputs with every step stacked along the time dimension (spikes,
        or spikes and the record of each state); the layer's states are those of the last
        step, as after the loop."""
        if len(states) > len(self._family.call_states):
            raise TypeError(f"{type(self).__qualname__}.forward_sequence takes at most "
                            f"{len(self._family.call_states)} states "
                            f"({', '.join(self._family.call_states)}), got {len(states)}")
        return self._run(input_, states, True, not batch_first)


class Leaky(_Neuron, snntorch.Leaky):
    """snntorch.Leaky on the fused op: ``spk, mem = lif(x, mem)``."""

    original = snntorch.Leaky
    _family = _Family("Leaky", ("mem",), ("mem",), 3,
                      hidden_message="`mem` should not be passed as an argument while "
                                     "`init_hidden=True`")

    def forward(self, input_: Tensor, mem: Optional[Tensor] = None) -> _Outputs:
        return self._run(input_, (mem,), False, True)

    def _op_params(self, x: Tensor, inhibit: bool) -> List[Tensor]:
        gsf = torch.ones((), dtype=x.dtype, device=x.device) if inhibit else \
            self.graded_spikes_factor
        return [self.beta.clamp(0, 1), self.threshold, gsf]


class Synaptic(_Neuron, snntorch.Synaptic):
    """snntorch.Synaptic on the fused op: ``spk, syn, mem = lif(x, syn, mem)``."""

    original = snntorch.Synaptic
    _family = _Family("Leaky", ("syn", "mem"), ("mem", "syn"), 4, synapse=True,
                      zero_keeps_input=False,
                      hidden_message="`mem` or `syn` should not be passed as an argument "
                                     "while `init_hidden=True`")

    def forward(self, input_: Tensor, syn: Optional[Tensor] = None,
                mem: Optional[Tensor] = None) -> _Outputs:
        return self._run(input_, (syn, mem), False, True)

    def _op_params(self, x: Tensor, inhibit: bool) -> List[Tensor]:
        gsf = torch.ones((), dtype=x.dtype, device=x.device) if inhibit else \
            self.graded_spikes_factor
        return [self.beta.clamp(0, 1), self.threshold, gsf, self.alpha.clamp(0, 1)]


class Lapicque(_Neuron, snntorch.Lapicque):
    """snntorch.Lapicque on the fused op: ``spk, mem = lif(x, mem)``; R, C and time_step
    (buffers) set the decay 1 - Δt/(R·C) and the input's scale R·Δt/(R·C)."""

    original = snntorch.Lapicque
    _family = _Family("Leaky", ("mem",), ("mem",), 3, zero_keeps_input=False,
                      has_reset_delay=False,
                      hidden_message="`mem` should not be passed as an argument while "
                                     "`init_hidden=True`")

    def forward(self, input_: Tensor, mem: Optional[Tensor] = None) -> _Outputs:
        return self._run(input_, (mem,), False, True)

    def _op_input(self, x: Tensor) -> Tensor:
        return x * self.R * (1 / (self.R * self.C)) * self.time_step

    def _op_params(self, x: Tensor, inhibit: bool) -> List[Tensor]:
        gsf = torch.ones((), dtype=x.dtype, device=x.device) if inhibit else \
            self.graded_spikes_factor
        return [1 - self.time_step / (self.R * self.C), self.threshold, gsf]


class Alpha(_Neuron, snntorch.Alpha):
    """snntorch.Alpha on the fused op: ``spk, syn_exc, syn_inh, mem = lif(x, syn_exc,
    syn_inh, mem)``."""

    original = snntorch.Alpha
    _family = _Family("Alpha", ("syn_exc", "syn_inh", "mem"), ("mem", "syn_exc", "syn_inh"), 4,
                      has_reset_delay=False,
                      hidden_message="When `init_hidden=True`, Alpha expects 1 input argument.")

    def forward(self, input_: Tensor, syn_exc: Optional[Tensor] = None,
                syn_inh: Optional[Tensor] = None, mem: Optional[Tensor] = None) -> _Outputs:
        return self._run(input_, (syn_exc, syn_inh, mem), False, True)

    def _op_params(self, x: Tensor, inhibit: bool) -> List[Tensor]:
        a, b = self.alpha.clamp(0, 1), self.beta.clamp(0, 1)
        tau_alpha = torch.log(a) / (torch.log(b) - torch.log(a)) + 1
        return [a, b, self.threshold, tau_alpha]

    def _spike_factor(self, inhibit: bool) -> Optional[Tensor]:
        return None if inhibit else self.graded_spikes_factor


class _Recurrent(_Neuron):
    """RLeaky and RSynaptic: the connection (``self.recurrent``: Linear, Conv2d or
    snnTorch's one-to-one V) of the last spikes enters the op as its state "rec"; a sequence
    runs step by step (the recurrence feeds each step's spikes to the next)."""

    def _recurrent_step(self, x: Tensor, given: Sequence[Optional[Tensor]]) -> _Outputs:
        self._take_states(given, x.shape, x.dtype)
        spec = self._spec()
        fam = self._family
        inhibit = bool(self.inhibition)
        if inhibit and x.dim() != 2:
            raise UnsupportedLayer(f"{type(self).__qualname__}: inhibition needs steps of "
                                   f"shape [B, N], got {list(x.shape)}")
        rec = self.recurrent(self.spk)
        if rec.shape != x.shape:
            rec = rec.expand(x.shape)
        states0 = [getattr(self, name) for name in fam.op_states] + [rec]
        outs = _fused(x.unsqueeze(0), True, states0, self._op_params(x, inhibit), spec)
        spk = outs[0][0]
        records = {name: _own(r[0]) for name, r in zip(fam.op_states, outs[1:])}
        if inhibit:
            spk = _inhibit(spk, records["mem"], self.threshold)
        dtype = self._spike_dtype(inhibit)
        if spk.dtype != dtype:
            spk = spk.to(dtype)
        self.reset = (states0[0] > self.threshold).float()
        for name, value in records.items():
            setattr(self, name, value)
        self.spk = spk = _own(spk)
        self._check_call(given)
        return self._outputs(spk, [getattr(self, n) for n in fam.call_states if n != "spk"])

    def _check_call(self, given: Sequence[Optional[Tensor]]) -> None:
        """Checks of the call beyond the states' (RSynaptic's)."""


class RLeaky(_Recurrent, snntorch.RLeaky):
    """snntorch.RLeaky on the fused op: ``spk, mem = lif(x, spk, mem)``."""

    original = snntorch.RLeaky
    _family = _Family("Leaky", ("spk", "mem"), ("mem",), 3, recurrent=True,
                      zero_keeps_input=False,
                      hidden_message="When `init_hidden=True`,RLeaky expects 1 input argument.")

    def forward(self, input_: Tensor, spk: Optional[Tensor] = None,
                mem: Optional[Tensor] = None) -> _Outputs:
        return self._run(input_, (spk, mem), False, True)

    def _op_params(self, x: Tensor, inhibit: bool) -> List[Tensor]:
        gsf = torch.ones((), dtype=x.dtype, device=x.device) if inhibit else \
            self.graded_spikes_factor
        return [self.beta.clamp(0, 1), self.threshold, gsf]


class RSynaptic(_Recurrent, snntorch.RSynaptic):
    """snntorch.RSynaptic on the fused op: ``spk, syn, mem = lif(x, spk, syn, mem)``.

    As in snnTorch, reset_delay=False changes nothing: snnTorch's RSynaptic computes its
    same-step reset from the spk and mem passed to the call (a TypeError without them) and
    discards it."""

    original = snntorch.RSynaptic
    _family = _Family("Leaky", ("spk", "syn", "mem"), ("mem", "syn"), 4, synapse=True,
                      recurrent=True, zero_keeps_input=False, same_step_reset=False,
                      hidden_message="When `init_hidden=True`, RSynaptic expects 1 input "
                                     "argument.")

    def forward(self, input_: Tensor, spk: Optional[Tensor] = None,
                syn: Optional[Tensor] = None, mem: Optional[Tensor] = None) -> _Outputs:
        return self._run(input_, (spk, syn, mem), False, True)

    def _check_call(self, given: Sequence[Optional[Tensor]]) -> None:
        if self.reset_delay:
            return
        spk = given[0] if len(given) > 0 else None
        mem = given[2] if len(given) > 2 else None
        if spk is None or (mem is None and int(self.reset_mechanism_val) != 2):
            raise TypeError(
                "RSynaptic(reset_delay=False) needs spk and mem passed to every call: "
                "snnTorch's RSynaptic computes its same-step reset from them (and discards it)")

    def _op_params(self, x: Tensor, inhibit: bool) -> List[Tensor]:
        gsf = torch.ones((), dtype=x.dtype, device=x.device) if inhibit else \
            self.graded_spikes_factor
        return [self.beta.clamp(0, 1), self.threshold, gsf, self.alpha.clamp(0, 1)]


#: snnTorch's class → its drop-in (read by snncpp.accelerate).
DROP_INS: Dict[type, type] = {
    snntorch.Leaky: Leaky,
    snntorch.Synaptic: Synaptic,
    snntorch.Lapicque: Lapicque,
    snntorch.Alpha: Alpha,
    snntorch.RLeaky: RLeaky,
    snntorch.RSynaptic: RSynaptic,
}

#: The base classes of snnTorch's neuron layers (LeakyParallel is a torch.nn.Module of its
#: own), for accelerate's report of the layers it leaves.
NEURON_BASES: Tuple[type, ...] = (snntorch.SpikingNeuron, snntorch.LeakyParallel)
