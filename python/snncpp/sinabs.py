"""snncpp.sinabs: Sinabs' neuron layers on snn.cpp's fused neuron op.

Every class here subclasses the Sinabs layer of the same name (``sinabs.layers``) and
overrides only ``forward``: arguments, attributes, parameters, state buffers, state
handling (``reset_states``, state carried from call to call, re-initialisation when the
input's shape changes), printing and ``state_dict`` are Sinabs' own. ``forward`` runs the
whole sequence through one call of ``torch.ops.snn.neuron`` (the recurrent forms, one call
per step) and leaves the same outputs, states (with their autograd graph, so that BPTT
across calls works), ``recordings`` and ``firing_rate`` as Sinabs' forward does, including
two of its peculiarities:

- ALIF with ``tau_syn`` keeps the input-normalised current as its synaptic state (the
  normalisation compounds from step to step) and does not write ``i_syn`` back: the
  synaptic current restarts from the ``i_syn`` buffer at every call;
- ALIF and the recurrent layers record, for every step but the last, the next step's
  ``v_mem`` before its reset and clamp (and its ``i_syn``): Sinabs records each step's
  state dictionary, which the next step then modifies.

Spikes are float32 whatever the input's dtype, as Sinabs' spike functions make them.

Configurations the op does not compute (a spike function, reset, or surrogate gradient of
one's own, a ``min_v_mem`` per neuron, ...) are named by ``unsupported_reason``; a drop-in
constructed with one raises :class:`~snncpp._dropin.UnsupportedLayer`. What the op does
not take at run time (states in half precision, after ``.half()``; a parameter that varies
over the batch) runs Sinabs' own forward. On devices other than the CPU the op runs its
plain-ATen reference.
"""
from __future__ import annotations

import dataclasses
import math
import numbers
from typing import Any, Callable, ClassVar, Dict, List, Optional, Sequence, Tuple

import sinabs.activation as _sa
import sinabs.layers as _sl
import torch
from sinabs.layers.alif import ALIFSqueeze as _SinabsALIFSqueeze
from torch import Tensor

from ._dropin import DropIn, UnsupportedLayer, op_rejects, spec_bool
from ._dropin import qualname as _qualname
from ._library import load

load()

__all__ = ["IAF", "IAFSqueeze", "IAFRecurrent", "LIF", "LIFSqueeze", "LIFRecurrent", "ALIF",
           "ALIFSqueeze", "ALIFRecurrent", "ExpLeak", "ExpLeakSqueeze", "DROP_INS",
           "NEURON_BASES", "UnsupportedLayer"]

#: The fused op (a module attribute, so that tests can watch its calls).
_neuron: Callable[[Tensor, List[Tensor], List[Tensor], str], List[Tensor]] = torch.ops.snn.neuron

# The surrogate gradients the op computes: Sinabs' class -> the op's name; the op's
# arguments are the dataclass's fields, by the same names.
_SURROGATES: Dict[type, str] = {
    _sa.SingleExponential: "SingleExponential",
    _sa.Heaviside: "Heaviside",
    _sa.Gaussian: "Gaussian",
    _sa.MultiGaussian: "MultiGaussian",
    _sa.PeriodicExponential: "PeriodicExponential",
}
# The dtypes the op computes in.
_OP_DTYPES = (torch.float32, torch.float64)


class _NoFusedOp(Exception):
    """A configuration the fused op does not compute; the message names it."""


def _real(value: Any, what: str) -> float:
    """One finite number from a float, an int or a one-element tensor without a gradient."""
    if isinstance(value, Tensor):
        if value.numel() != 1:
            raise _NoFusedOp(f"{what} of shape {tuple(value.shape)}: the fused op takes one value "
                             f"for every neuron")
        if value.requires_grad:
            raise _NoFusedOp(f"{what} requires grad: the fused op takes it as a constant")
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise _NoFusedOp(f"{what}={value!r}: the fused op takes a number")
    number = float(value)
    if not math.isfinite(number):
        raise _NoFusedOp(f"{what}={number!r}: the fused op takes a finite number")
    return number


def _text(number: float) -> str:
    return repr(number)  # the shortest text that reads back as the same double


def _spike_text(spike_fn: Any) -> str:
    if spike_fn is _sa.MultiSpike:
        return "MultiSpike()"
    if spike_fn is _sa.SingleSpike:
        return "SingleSpike()"
    if type(spike_fn) is _sa.MaxSpike:
        n = spike_fn.max_num_spikes_per_bin
        if n is None:
            return "MaxSpike(max_num_spikes_per_bin=none)"
        count = _real(n, "spike_fn=MaxSpike(max_num_spikes_per_bin)")
        if count != int(count) or count < 1:
            raise _NoFusedOp(f"spike_fn=MaxSpike(max_num_spikes_per_bin={n!r}): the fused op "
                             f"takes a whole number >= 1 or None")
        return f"MaxSpike(max_num_spikes_per_bin={int(count)})"
    raise _NoFusedOp(f"spike_fn={_qualname(spike_fn)}: the fused op computes sinabs.activation's "
                     f"MultiSpike, SingleSpike and MaxSpike only")


def _reset_text(reset_fn: Any) -> str:
    if type(reset_fn) is _sa.MembraneSubtract:
        value = reset_fn.subtract_value
        if value is None:
            return "MembraneSubtract(subtract_value=none)"
        return f"MembraneSubtract(subtract_value={_text(_real(value, 'reset_fn.subtract_value'))})"
    if type(reset_fn) is _sa.MembraneReset:
        return f"MembraneReset(reset_value={_text(_real(reset_fn.reset_value, 'reset_fn.reset_value'))})"
    raise _NoFusedOp(f"reset_fn={_qualname(reset_fn)}: the fused op computes sinabs.activation's "
                     f"MembraneSubtract and MembraneReset only")


def _surrogate_text(surrogate: Any) -> str:
    name = _SURROGATES.get(type(surrogate))
    if name is None:
        raise _NoFusedOp(f"surrogate_grad_fn={_qualname(surrogate)}: the fused op computes "
                         f"sinabs.activation's {', '.join(_SURROGATES.values())} only")
    args = ", ".join(
        f"{f.name}={_text(_real(getattr(surrogate, f.name), f'surrogate_grad_fn.{f.name}'))}"
        for f in dataclasses.fields(surrogate))
    return f"{name}({args})"


def _min_v_mem_text(min_v_mem: Any) -> str:
    return "none" if min_v_mem is None else _text(_real(min_v_mem, "min_v_mem"))


def _has_synapse(layer: torch.nn.Module) -> bool:
    return layer.alpha_syn_calculated is not None


def _spec(layer: torch.nn.Module, synapse: bool, normalised_input: bool = False) -> str:
    """The op's specification for the layer's attributes as they are now (with
    ``normalised_input``, for an input already scaled by 1 - alpha_mem); raises _NoFusedOp
    naming what the op does not compute."""
    if isinstance(layer, _sl.ALIF):
        if layer.spike_fn is None:
            raise _NoFusedOp("spike_fn=None: ALIF needs a spike function")
        if synapse and "i_syn" not in layer._buffers:
            raise _NoFusedOp("a synaptic time constant without the state i_syn")
        # With a synapse, Sinabs' synaptic state is the normalised current: the op's
        # synapse with alpha_syn·(1 - alpha_mem) and no normalisation computes it.
        norm = bool(layer.norm_input) and not synapse and not normalised_input
        return (f"ALIF(synapse={spec_bool(synapse)}, norm_input={spec_bool(norm)}, "
                f"spike={_spike_text(layer.spike_fn)}, reset={_reset_text(layer.reset_fn)}, "
                f"surrogate={_surrogate_text(layer.surrogate_grad_fn)}, "
                f"min_v_mem={_min_v_mem_text(layer.min_v_mem)})")
    if layer.spike_fn is None:  # ExpLeak, or any LIF without spikes
        if synapse:
            raise _NoFusedOp("spike_fn=None with tau_syn: the fused op has no synapse without "
                             "spikes")
        norm = bool(layer.norm_input) and not normalised_input
        return (f"ExpLeak(norm_input={spec_bool(norm)}, "
                f"min_v_mem={_min_v_mem_text(layer.min_v_mem)})")
    if synapse and "i_syn" not in layer._buffers:
        raise _NoFusedOp("a synaptic time constant without the state i_syn")
    if layer.spike_threshold is None:
        raise _NoFusedOp("spike_threshold=None with a spike function")
    norm = bool(layer.norm_input) and not normalised_input
    return (f"LIF(synapse={spec_bool(synapse)}, norm_input={spec_bool(norm)}, "
            f"spike={_spike_text(layer.spike_fn)}, reset={_reset_text(layer.reset_fn)}, "
            f"surrogate={_surrogate_text(layer.surrogate_grad_fn)}, "
            f"min_v_mem={_min_v_mem_text(layer.min_v_mem)})")


def _op_rejects(spec: str) -> Optional[str]:
    """The op's own objection to a specification (e.g. an argument out of range), or None."""
    family = spec.split("(", 1)[0]
    synapse = "synapse=true" in spec
    n_states = {"LIF": 1, "ALIF": 2, "ExpLeak": 1}[family] + synapse
    n_params = {"LIF": 2, "ALIF": 4, "ExpLeak": 1}[family] + synapse
    rejected = op_rejects(spec, n_states, n_params)
    return None if rejected is None else f"the fused op rejects {spec}: {rejected}"


def _reason(layer: torch.nn.Module) -> Optional[str]:
    try:
        spec = _spec(layer, _has_synapse(layer))
    except _NoFusedOp as why:
        return str(why)
    return _op_rejects(spec)


def _op_param(value: Any, features: Sequence[int], dtype: torch.dtype,
              device: torch.device) -> Optional[Tensor]:
    """A parameter as the op takes it: a scalar, or [N] (broadcast right-aligned to the
    features, as Sinabs broadcasts it against the state); None when it varies over
    something else (the batch)."""
    t = value if isinstance(value, Tensor) else torch.tensor(value)
    t = t.to(device=device, dtype=dtype)
    if t.numel() == 1:
        return t.reshape(())
    while t.dim() > len(features) and t.size(0) == 1:
        t = t.squeeze(0)
    if t.dim() > len(features):
        return None
    for p, f in zip(reversed(t.shape), reversed(features)):
        if p != 1 and p != f:
            return None
    return t.expand(*features).reshape(-1)


def _promoted(dtype: torch.dtype, others: Sequence[Any]) -> torch.dtype:
    """The dtype Sinabs' arithmetic on an input of ``dtype`` with these states and
    parameters ends up in (numbers and zero-dimensional tensors take no part in the
    promotion, as in torch)."""
    for t in others:
        if isinstance(t, Tensor) and t.dim() > 0:
            dtype = torch.promote_types(dtype, t.dtype)
    return dtype


class _Run:
    """What one forward hands the op: the specification, the parameters, and how the
    layer's states map onto the op's."""

    def __init__(self, layer: "_SinabsNeuron", spec: str, synapse: bool,
                 params: List[Any]) -> None:
        self.layer = layer
        self.spec = spec
        self.synapse = synapse
        self.family = spec.split("(", 1)[0]
        #: Whether the op scales the input current by 1 - alpha_mem.
        self.norm = "norm_input=true" in spec
        self.raw_params = params
        # The op's states, in its order, by the layer's buffer names.
        if self.family == "ALIF":
            self.state_names = ["v_mem", "b"] + (["i_syn"] if synapse else [])
        else:
            self.state_names = ["v_mem"] + (["i_syn"] if synapse else [])
        self.params: List[Tensor] = []
        self.dtype: Optional[torch.dtype] = None

    def compute_in(self, input_dtype: torch.dtype, states: Sequence[Tensor],
                   features: Sequence[int], device: torch.device) -> Optional[torch.dtype]:
        """The dtype a step computes in (as Sinabs' arithmetic promotes it), with
        self.params converted to it; None when the op cannot compute it."""
        dtype = _promoted(input_dtype, [*states, *self.raw_params])
        if dtype not in _OP_DTYPES:
            return None
        if dtype != self.dtype:
            params = [_op_param(p, features, dtype, device) for p in self.raw_params]
            if any(p is None for p in params):
                return None
            self.params = params  # type: ignore[assignment]
            self.dtype = dtype
        return dtype

    def adaptation_dtype(self) -> torch.dtype:
        """ALIF's b as Sinabs keeps it: its update mixes only b, alpha_adapt and the spikes
        (float32), so a float64 layer's b stays float32 unless those are float64."""
        b: Tensor = getattr(self.layer, "b")
        return _promoted(torch.promote_types(b.dtype, torch.float32), [self.raw_params[1]])

    def op_input(self, x: Tensor, dtype: torch.dtype) -> Tuple[Tensor, str, bool]:
        """The op's input, the specification to run it with, and whether the op
        normalises it. Without a synapse, Sinabs scales the input by 1 - alpha_mem in the
        input's own dtype before adding it to the state: an input of another dtype (half
        precision into float32 states, float32 into float64 ones) is scaled here the same
        way. (With one, the synaptic current has the state's dtype already.)"""
        if not self.norm or self.synapse or x.dtype == dtype:
            return x.to(dtype), self.spec, self.norm
        scaled = (1 - self.raw_params[0]) * x
        return scaled.to(dtype), _spec(self.layer, self.synapse, normalised_input=True), False


class _SinabsNeuron(DropIn):
    """What every Sinabs drop-in shares: the forward on the fused op."""

    #: The Sinabs forward over [B, T, ...] that the drop-in replaces (the fallback for
    #: what the op does not take at run time).
    _sinabs_forward: ClassVar[Callable[..., Tensor]]
    #: Whether the layer is a recurrent form (one op call per step).
    _recurrent: ClassVar[bool] = False
    #: Whether the layer takes [B·T, ...] (Sinabs' Squeeze forms).
    _squeeze: ClassVar[bool] = False

    @classmethod
    def unsupported_reason(cls, layer: torch.nn.Module) -> Optional[str]:
        """Why ``layer`` cannot run on the fused op (the attribute and its value), or None."""
        return _reason(layer)

    def forward(self, input_data: Tensor) -> Tensor:
        """Input [B, T, *features] ([B·T, *features] for the Squeeze forms); returns the
        spikes (ExpLeak: the membrane potential) of the same shape, as Sinabs' forward."""
        x = input_data
        if self._squeeze:
            x = input_data.reshape(self.batch_size, self.num_timesteps, *input_data.shape[1:])
        if self._recurrent:
            out = self._forward_recurrent(x)
        else:
            out = self._forward_sequence(x)
        return out.flatten(start_dim=0, end_dim=1) if self._squeeze else out

    # ---- shared steps ----------------------------------------------------------------

    def _plan(self) -> _Run:
        synapse = _has_synapse(self)
        try:
            spec = _spec(self, synapse)
        except _NoFusedOp as why:
            raise UnsupportedLayer(f"{_qualname(self)}: {why}") from None
        rejected = _op_rejects(spec)
        if rejected is not None:
            raise UnsupportedLayer(f"{_qualname(self)}: {rejected}")
        alpha_mem = self.alpha_mem_calculated
        if isinstance(self, _sl.ALIF):
            params: List[Any] = [alpha_mem, self.alpha_adapt_calculated, self.b0,
                                 self.adapt_scale]
            if synapse:
                alpha_syn = self.alpha_syn_calculated
                params.append((1 - alpha_mem) * alpha_syn if self.norm_input else alpha_syn)
        elif self.spike_fn is None:
            params = [alpha_mem]
        else:
            params = [alpha_mem, self.spike_threshold]
            if synapse:
                params.append(self.alpha_syn_calculated)
        return _Run(self, spec, synapse, params)

    def _spikes(self, run: _Run, output: Tensor) -> Tensor:
        """The layer's output from the op's: spikes are float32 (Sinabs' spike functions
        return .float()); a copy, so that changing it in place leaves the op's saved
        output alone."""
        if run.family != "ExpLeak" and output.dtype != torch.float32:
            return output.to(torch.float32)  # a copy
        return output.clone()

    def _write_states(self, run: _Run, finals: Dict[str, Tensor]) -> None:
        """Writes the final states back as Sinabs' forward does."""
        if run.family == "ALIF":
            self.b = finals["b"]
            self.v_mem = finals["v_mem"]
            self.spike_threshold = self.b0 + self.adapt_scale * finals["b"]
            # (Sinabs' ALIF leaves i_syn as it was.)
        else:
            self.v_mem = finals["v_mem"]
            self.i_syn = finals["i_syn"] if run.synapse else None

    @staticmethod
    def _membrane_before_reset(run: _Run, v_prev: Tensor, current: Tensor,
                               normalise: bool) -> Tensor:
        """w = alpha_mem·v + input current, as Sinabs computes it (for its recordings)."""
        alpha = run.params[0]
        if normalise:
            return alpha * v_prev + (1 - alpha) * current
        return alpha * v_prev + current

    # ---- [B, T, ...] in one op call ------------------------------------------------

    def _forward_sequence(self, input_data: Tensor) -> Tensor:
        run = self._plan()
        batch_size, time_steps, *trailing = input_data.shape
        shape = (batch_size, *trailing)
        if isinstance(self, _sl.ALIF):
            if not self.is_state_initialised() or not self.state_has_shape(shape):
                self.init_state_with_shape(shape)
        else:
            if not self.is_state_initialised():
                self.init_state_with_shape(shape)
            if not self.state_has_shape(shape):
                if not self.has_trailing_dimension(trailing):
                    self.init_state_with_shape(shape)
                else:
                    self.handle_state_batch_size_mismatch(batch_size)
        buffers = [getattr(self, name) for name in run.state_names]
        dtype = run.compute_in(input_data.dtype, buffers, trailing, input_data.device)
        if dtype is None:
            return type(self)._sinabs_forward(self, input_data)

        n = math.prod(trailing)
        states = [b.to(dtype).reshape(batch_size, n) for b in buffers]
        x, spec, normalise = run.op_input(input_data, dtype)
        x = x.reshape(batch_size, time_steps, n)
        out = _neuron(x, states, run.params, spec)
        full = (batch_size, time_steps, *trailing)
        records = {name: out[1 + k] for k, name in enumerate(run.state_names)}
        if run.family == "ALIF":
            records["b"] = records["b"].to(run.adaptation_dtype())
        self._write_states(run, {name: r[:, -1].reshape(shape).clone()
                                 for name, r in records.items()})

        recordings: Dict[str, Tensor] = {}
        if self.record_states:
            names = [name for name, _ in self.named_buffers()]
            if run.family == "ALIF":
                recordings = self._aliased_recordings(run, x, normalise, records, names,
                                                      full)
            else:
                recordings = {name: records[name].reshape(full) for name in names
                              if name in records}
        self.recordings = recordings

        spikes = self._spikes(run, out[0]).reshape(full)
        if isinstance(self, _sl.ALIF):
            self.firing_rate = spikes.sum() / spikes.numel()
        else:
            self.firing_rate = spikes.mean()
        return spikes

    def _aliased_recordings(self, run: _Run, x: Tensor, normalise: bool,
                            records: Dict[str, Tensor], names: List[str],
                            full: Tuple[int, ...]) -> Dict[str, Tensor]:
        """ALIF's recordings as Sinabs leaves them: step t < T-1 holds step t+1's membrane
        before its reset and clamp, and its synaptic current."""
        v = records["v_mem"]
        current = records["i_syn"] if run.synapse else x
        w_next = self._membrane_before_reset(run, v[:, :-1], current[:, 1:], normalise)
        recorded = {"v_mem": torch.cat([w_next, v[:, -1:]], 1), "b": records["b"]}
        if run.synapse:
            i = records["i_syn"]
            recorded["i_syn"] = torch.cat([i[:, 1:], i[:, -1:]], 1)
        result: Dict[str, Tensor] = {}
        for name in names:
            if name == "spike_threshold":
                result[name] = (self.b0 + self.adapt_scale * records["b"]).reshape(full)
            elif name in recorded:
                result[name] = recorded[name].reshape(full)
        return result

    # ---- recurrent forms: one op call per step -------------------------------------

    def _forward_recurrent(self, input_data: Tensor) -> Tensor:
        run = self._plan()
        batch_size, time_steps, *trailing = input_data.shape
        shape = (batch_size, *trailing)
        if not self.is_state_initialised() or not self.state_has_shape(shape):
            self.init_state_with_shape(shape)
        n = math.prod(trailing)
        rec_out = torch.zeros(shape, device=input_data.device)
        states = [getattr(self, name) for name in run.state_names]
        first = torch.promote_types(input_data.dtype, rec_out.dtype)
        if run.compute_in(first, states, trailing, input_data.device) is None:
            return type(self)._sinabs_forward(self, input_data)

        names = [name for name, _ in self.named_buffers()]
        record = bool(self.record_states)
        b_dtype = run.adaptation_dtype() if run.family == "ALIF" else None
        outputs: List[Tensor] = []
        steps: List[Dict[str, Tensor]] = []  # each step's state, as Sinabs records it
        for step in range(time_steps):
            total_input = input_data[:, step] + rec_out
            dtype = run.compute_in(total_input.dtype, states, trailing, input_data.device)
            if dtype is None:  # rec_connect's output changed the dtype to one the op lacks
                raise UnsupportedLayer(f"{_qualname(self)}: the fused op does not compute in "
                                       f"{_promoted(total_input.dtype, states)}")
            x, spec, normalise = run.op_input(total_input, dtype)
            x = x.reshape(batch_size, 1, n)
            previous = [s.to(dtype).reshape(batch_size, n) for s in states]
            out = _neuron(x, previous, run.params, spec)
            states = [r[:, 0] for r in out[1:]]
            spikes = self._spikes(run, out[0][:, 0]).reshape(shape)
            outputs.append(spikes)
            if record:
                now = dict(zip(run.state_names, states))
                if b_dtype is not None:
                    now["b"] = now["b"].to(b_dtype)
                if steps:  # the previous step's record now holds this step's w and i_syn
                    v_prev = previous[0]
                    current = now["i_syn"] if run.synapse else x[:, 0]
                    steps[-1]["v_mem"] = self._membrane_before_reset(run, v_prev, current,
                                                                     normalise)
                    if run.synapse:
                        steps[-1]["i_syn"] = now["i_syn"]
                steps.append(now)
            rec_out = self.rec_connect(spikes).reshape(shape)

        finals = {name: s.reshape(shape).clone() for name, s in zip(run.state_names, states)}
        if b_dtype is not None:
            finals["b"] = finals["b"].to(b_dtype)
        self._write_states(run, finals)
        recordings: Dict[str, Tensor] = {}
        if record:
            for name in names:
                if name == "spike_threshold":
                    values = [self.b0 + self.adapt_scale * s["b"] for s in steps]
                elif name in steps[0]:
                    values = [s[name] for s in steps]
                else:
                    continue
                recordings[name] = torch.stack([v.reshape(shape) for v in values], 1)
        self.recordings = recordings
        spikes_all = torch.stack(outputs, 1)
        self.firing_rate = spikes_all.sum() / spikes_all.numel()
        return spikes_all


class IAF(_SinabsNeuron, _sl.IAF):
    """sinabs.layers.IAF on the fused op: the same layer, the same numbers."""

    original = _sl.IAF
    _sinabs_forward = _sl.LIF.forward


class IAFSqueeze(_SinabsNeuron, _sl.IAFSqueeze):
    """sinabs.layers.IAFSqueeze on the fused op: the same layer, the same numbers."""

    original = _sl.IAFSqueeze
    _sinabs_forward = _sl.LIF.forward
    _squeeze = True


class IAFRecurrent(_SinabsNeuron, _sl.IAFRecurrent):
    """sinabs.layers.IAFRecurrent on the fused op (one call per step, rec_connect between
    steps): the same layer, the same numbers (recordings included)."""

    original = _sl.IAFRecurrent
    _sinabs_forward = _sl.LIFRecurrent.forward
    _recurrent = True


class LIF(_SinabsNeuron, _sl.LIF):
    """sinabs.layers.LIF on the fused op: the same layer, the same numbers."""

    original = _sl.LIF
    _sinabs_forward = _sl.LIF.forward


class LIFSqueeze(_SinabsNeuron, _sl.LIFSqueeze):
    """sinabs.layers.LIFSqueeze on the fused op: the same layer, the same numbers."""

    original = _sl.LIFSqueeze
    _sinabs_forward = _sl.LIF.forward
    _squeeze = True


class LIFRecurrent(_SinabsNeuron, _sl.LIFRecurrent):
    """sinabs.layers.LIFRecurrent on the fused op (one call per step, rec_connect between
    steps): the same layer, the same numbers (recordings included)."""

    original = _sl.LIFRecurrent
    _sinabs_forward = _sl.LIFRecurrent.forward
    _recurrent = True


class ALIF(_SinabsNeuron, _sl.ALIF):
    """sinabs.layers.ALIF on the fused op: the same layer, the same numbers (its synaptic
    state and recordings as Sinabs leaves them; see the module's doc)."""

    original = _sl.ALIF
    _sinabs_forward = _sl.ALIF.forward


class ALIFSqueeze(_SinabsNeuron, _SinabsALIFSqueeze):
    """sinabs.layers.alif.ALIFSqueeze on the fused op: the same layer, the same numbers."""

    original = _SinabsALIFSqueeze
    _sinabs_forward = _sl.ALIF.forward
    _squeeze = True


class ALIFRecurrent(_SinabsNeuron, _sl.ALIFRecurrent):
    """sinabs.layers.ALIFRecurrent on the fused op (one call per step, rec_connect between
    steps): the same layer, the same numbers."""

    original = _sl.ALIFRecurrent
    _sinabs_forward = _sl.ALIFRecurrent.forward
    _recurrent = True


class ExpLeak(_SinabsNeuron, _sl.ExpLeak):
    """sinabs.layers.ExpLeak on the fused op: the same layer, the same numbers."""

    original = _sl.ExpLeak
    _sinabs_forward = _sl.LIF.forward


class ExpLeakSqueeze(_SinabsNeuron, _sl.ExpLeakSqueeze):
    """sinabs.layers.ExpLeakSqueeze on the fused op: the same layer, the same numbers."""

    original = _sl.ExpLeakSqueeze
    _sinabs_forward = _sl.LIF.forward
    _squeeze = True


#: Sinabs' class -> its drop-in (snncpp.accelerate reads it).
DROP_INS: Dict[type, type] = {
    cls.original: cls for cls in (IAF, IAFSqueeze, IAFRecurrent, LIF, LIFSqueeze, LIFRecurrent,
                                  ALIF, ALIFSqueeze, ALIFRecurrent, ExpLeak, ExpLeakSqueeze)
}
#: The base class of Sinabs' neuron layers (snncpp.accelerate reports those it cannot swap).
NEURON_BASES: Tuple[type, ...] = (_sl.StatefulLayer,)
