"""What every drop-in layer shares: the switch of an existing layer to its drop-in class.

A drop-in subclasses the layer it replaces and overrides only ``forward``: its constructor,
attributes, parameters, buffers, state handling and printing are the original's. So an
existing layer becomes its drop-in by a change of class, in place (``from_original``): the
same object, parameters (an optimizer that holds them keeps working), buffers, state and
hooks. Everything the fused op needs is therefore read from the original's attributes at
call time, never set up in a constructor of the drop-in's own.
"""
from __future__ import annotations

import functools
from typing import Any, Optional, TypeVar

import torch

T = TypeVar("T", bound="DropIn")


class UnsupportedLayer(ValueError):
    """A layer's configuration has no fused op (e.g. a user-defined spike function)."""


def qualname(obj: Any) -> str:
    """``module.Class`` of a class, or of an object's class."""
    t = obj if isinstance(obj, type) else type(obj)
    return f"{t.__module__}.{t.__qualname__}"


def spec_bool(value: Any) -> str:
    """A flag as the op's specification text writes it."""
    return "true" if value else "false"


@functools.lru_cache(maxsize=None)
def op_rejects(spec: str, n_states: int, n_params: int) -> Optional[str]:
    """The fused op's objection to a specification text (the first line of its message,
    e.g. an argument out of range), or None when it takes it: one trial step on tiny
    tensors, once per text."""
    try:
        with torch.random.fork_rng(devices=[]), torch.no_grad():  # SSO draws numbers
            torch.ops.snn.neuron(torch.zeros(1, 1, 1), [torch.zeros(1, 1)] * n_states,
                                 [torch.full((), 0.5)] * n_params, spec)
    except RuntimeError as error:
        return str(error).strip().splitlines()[0]
    return None


class DropIn(torch.nn.Module):
    """Mixin of the drop-in layers: ``class LIF(DropIn, sinabs.layers.LIF)``."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # A drop-in class (one that names its `original`) is constructed by the original's
        # constructor (with its signature), then checked: a configuration the op does not
        # compute is refused at construction.
        super().__init_subclass__(**kwargs)
        original = cls.__dict__.get("original")
        if original is None:
            return

        @functools.wraps(original.__init__)
        def __init__(self: DropIn, *args: Any, **kw: Any) -> None:
            original.__init__(self, *args, **kw)
            self._check_supported()

        cls.__init__ = __init__  # type: ignore[method-assign]

    #: The class this drop-in replaces (set by each drop-in).
    original: type

    @classmethod
    def unsupported_reason(cls, layer: torch.nn.Module) -> Optional[str]:
        """Why ``layer`` (an instance of ``cls.original``) cannot run on the fused op, or
        None when it can."""
        return None

    @classmethod
    def from_original(cls: type[T], layer: torch.nn.Module) -> T:
        """Turns ``layer``, an instance of exactly ``cls.original``, into this drop-in in
        place and returns it; raises UnsupportedLayer (the layer unchanged) when its
        configuration has no fused op."""
        if type(layer) is not cls.original:
            raise UnsupportedLayer(f"{qualname(cls)} replaces {qualname(cls.original)}, not "
                                   f"{qualname(layer)}")
        reason = cls.unsupported_reason(layer)
        if reason is not None:
            raise UnsupportedLayer(reason)
        layer.__class__ = cls
        return layer  # type: ignore[return-value]

    def _check_supported(self) -> None:
        """For constructors: raises ValueError when this configuration has no fused op."""
        reason = type(self).unsupported_reason(self)
        if reason is not None:
            raise UnsupportedLayer(f"{qualname(self)}: {reason}")
