"""snncpp: snn.cpp's fused spiking-neuron kernels and event-data tools, from Python.

- ``snncpp.sinabs`` and ``snncpp.snntorch``: drop-in layers for Sinabs' and snnTorch's
  neurons (same arguments, attributes, parameters, state handling and outputs), each running
  a whole sequence through one fused op;
- ``snncpp.accelerate(model)``: swaps the supported layers of an existing model in place;
- ``snncpp.transforms`` and ``snncpp.datasets``: Tonic's transforms and datasets on Tonic's
  structured event arrays;
- ``snncpp.ops``: the ops themselves (``torch.ops.snn``), typed.
"""
from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

import torch  # noqa: F401  (loads LibTorch before libsnn.so)

from ._library import library_path, load

load()

try:
    from ._build import version as __version__
except ImportError:  # a source tree (SNNCPP_LIBRARY)
    __version__ = "0.1.0+source"

from . import ops  # noqa: E402
from ._accelerate import AccelerateReport, accelerate  # noqa: E402

__all__ = ["__version__", "accelerate", "AccelerateReport", "library_path", "ops",
           "sinabs", "snntorch", "transforms", "io", "datasets", "collation"]

# The drop-in subpackages import the library they replace (Sinabs, snnTorch, Tonic) only
# when asked for.
_LAZY = ("sinabs", "snntorch", "transforms", "io", "datasets", "collation")

if TYPE_CHECKING:
    from . import collation, datasets, io, sinabs, snntorch, transforms  # noqa: F401


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return importlib.import_module(f".{name}", __name__)
    raise AttributeError(f"module 'snncpp' has no attribute {name!r}")
