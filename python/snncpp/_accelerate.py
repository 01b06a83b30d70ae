"""snncpp.accelerate: an existing Sinabs or snnTorch model onto the fused op, in place."""
from __future__ import annotations

import importlib
import importlib.util
import warnings
from dataclasses import dataclass, field
from typing import Dict, List, Tuple

import torch

from ._dropin import UnsupportedLayer
from ._dropin import qualname as _qualname

# The drop-in modules: each defines DROP_INS (original class -> drop-in class) and
# NEURON_BASES (the base classes of its library's neuron layers, to find what is left).
_FAMILIES = (("sinabs", "snncpp.sinabs"), ("snntorch", "snncpp.snntorch"))


@dataclass
class AccelerateReport:
    """What :func:`accelerate` did, by module path ("" is the model itself)."""

    #: (path, original class, drop-in class) of every layer now on the fused op.
    swapped: List[Tuple[str, str, str]] = field(default_factory=list)
    #: (path, class, reason) of every neuron layer left as it was.
    not_swapped: List[Tuple[str, str, str]] = field(default_factory=list)

    def __str__(self) -> str:
        lines = [f"snncpp.accelerate: {len(self.swapped)} layer(s) swapped, "
                 f"{len(self.not_swapped)} left as they were"]
        lines += [f"  swapped  {p or '<model>'}: {a} -> {b}" for p, a, b in self.swapped]
        lines += [f"  NOT swapped  {p or '<model>'} ({c}): {r}" for p, c, r in self.not_swapped]
        return "\n".join(lines)


def _families() -> Tuple[Dict[type, type], Tuple[type, ...]]:
    drop_ins: Dict[type, type] = {}
    bases: List[type] = []
    for library, module in _FAMILIES:
        if importlib.util.find_spec(library) is None:
            continue
        m = importlib.import_module(module)
        drop_ins.update(m.DROP_INS)
        bases.extend(m.NEURON_BASES)
    return drop_ins, tuple(bases)


def accelerate(model: torch.nn.Module, *, strict: bool = False,
               warn: bool = True) -> AccelerateReport:
    """Swaps every Sinabs and snnTorch neuron layer of ``model`` (nested modules too, and
    the model itself) for its snncpp drop-in, in place.

    A swapped layer is the same object with its class changed: its parameters (an optimizer
    holding them keeps working), buffers, state, hooks and printing are unchanged, and it
    computes the same numbers on the fused op. A neuron layer that cannot be swapped (no
    drop-in for its class, a subclass of a layer, or a configuration the fused op does not
    run, such as a user-defined spike function) is left as it was and reported by its module
    path: in the returned report, as a warning (``warn``), or as an error (``strict``, which
    then swaps nothing).
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"snncpp.accelerate: expected a torch.nn.Module, got {type(model)!r}")
    drop_ins, bases = _families()
    dropin_types = tuple(set(drop_ins.values()))
    report = AccelerateReport()
    plan = []
    for path, module in model.named_modules():
        kind = type(module)
        if dropin_types and isinstance(module, dropin_types):
            continue  # already on the fused op
        target = drop_ins.get(kind)
        if target is not None:
            reason = target.unsupported_reason(module)
            if reason is None:
                plan.append((path, module, target))
            else:
                report.not_swapped.append((path, _qualname(kind), reason))
        elif bases and isinstance(module, bases):
            near = [t for t in drop_ins if isinstance(module, t)]
            reason = (f"a subclass of {_qualname(near[0])}: its own code may change what the "
                      f"layer computes" if near else f"no drop-in for {_qualname(kind)}")
            report.not_swapped.append((path, _qualname(kind), reason))
    if strict and report.not_swapped:
        raise UnsupportedLayer(str(report))
    for path, module, target in plan:
        target.from_original(module)
        report.swapped.append((path, _qualname(type(module).original), _qualname(target)))
    if warn and report.not_swapped:
        warnings.warn(str(report), stacklevel=2)
    return report
