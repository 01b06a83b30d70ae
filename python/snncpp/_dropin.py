"""What every drop-in layer shares: the switch of an existing layer to its drop-in class.

A drop-in subclasses the layer it replaces and overrides only ``forward``: its constructor,
attributes, parameters, buffers, state handling and printing are the original's. So an
existing layer becomes its drop-in by a change of class, in place (``from_original``): the
same object, parameters (an optimizer that holds them keeps working), buffers, state and
hooks. Everything the fused op needs is therefore read from the original's attributes at
call time, never set up in a constructor of the drop-in's own.
"""
from __future__ import annotations

from typing import Optional, TypeVar

import torch

T = TypeVar("T", bound="DropIn")


class UnsupportedLayer(ValueError):
    """A layer's configuration has no fused op (e.g. a user-defined spike function)."""


class DropIn(torch.nn.Module):
    """Mixin of the drop-in layers: ``class LIF(DropIn, sinabs.layers.LIF)``."""

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
            raise UnsupportedLayer(
                f"{cls.__module__}.{cls.__qualname__} replaces "
                f"{cls.original.__module__}.{cls.original.__qualname__}, not "
                f"{type(layer).__module__}.{type(layer).__qualname__}")
        reason = cls.unsupported_reason(layer)
        if reason is not None:
            raise UnsupportedLayer(reason)
        layer.__class__ = cls
        return layer  # type: ignore[return-value]

    def _check_supported(self) -> None:
        """For constructors: raises ValueError when this configuration has no fused op."""
        reason = type(self).unsupported_reason(self)
        if reason is not None:
            raise UnsupportedLayer(f"{type(self).__module__}.{type(self).__qualname__}: {reason}")
