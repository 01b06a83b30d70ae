"""snn.cpp's ops (``torch.ops.snn``), with their signatures for IDEs and type checkers.

Every op is also reachable as ``torch.ops.snn.<name>`` once snncpp is imported.
"""
from __future__ import annotations

from typing import List, Sequence, Tuple

import torch
from torch import Tensor

from ._library import load

load()
_snn = torch.ops.snn


def neuron(input: Tensor, state: Sequence[Tensor], params: Sequence[Tensor],
           spec: str) -> List[Tensor]:
    """Runs a whole sequence of one neuron family through the fused op.

    input [B, T, N]; each state [B, N] (before the first step); each parameter a scalar or
    [N]; ``spec`` the family and its options as text, e.g.
    ``"LIF(spike=MultiSpike(), reset=MembraneSubtract(), surrogate=SingleExponential())"``.
    Returns [output [B, T, N], the record of every state [B, T, N]...]. Differentiable with
    respect to the input, every state and every parameter.
    """
    return _snn.neuron(input, list(state), list(params), spec)


def neuron_reference(input: Tensor, state: Sequence[Tensor], params: Sequence[Tensor],
                     spec: str) -> List[Tensor]:
    """The same as :func:`neuron`, computed step by step with plain ATen ops (autograd)."""
    return _snn.neuron_reference(input, list(state), list(params), spec)


def events_transform_columns(t: Tensor, x: Tensor, y: Tensor, p: Tensor,
                             sensor_size: Sequence[int], has_y: bool, transform: str,
                             seed: int = 0) -> Tuple[Tensor, Tensor, Tensor, Tensor, List[int]]:
    """Applies an event transform (its text, e.g. ``"Denoise(filter_time=10000)"``) to events
    as columns t (int64 µs), x, y, p (int16); returns the new columns and sensor size."""
    return _snn.events_transform_columns(t, x, y, p, list(sensor_size), has_y, transform, seed)


def events_to_dense_columns(t: Tensor, x: Tensor, y: Tensor, p: Tensor,
                            sensor_size: Sequence[int], has_y: bool,
                            representation: str) -> Tensor:
    """A dense representation (e.g. ``"ToFrame(n_time_bins=10)"``) of events as columns."""
    return _snn.events_to_dense_columns(t, x, y, p, list(sensor_size), has_y, representation)


def events_read_columns(path: str, format: str = "auto"
                        ) -> Tuple[Tensor, Tensor, Tensor, Tensor, List[int]]:
    """Reads an event file (N-MNIST .bin, AEDAT, EVT2/EVT3 .raw, .dat, ...) as columns t, x,
    y, p and the sensor size (W, H, P)."""
    return _snn.events_read_columns(path, format)


def events_spec_repr(kind: str, spec: str) -> str:
    """The canonical text of a transform / representation / slicer specification."""
    return _snn.events_spec_repr(kind, spec)


def events_slice(events: Tensor, sensor_size: Sequence[int], has_y: bool, slicer: str) -> Tensor:
    """The [start, stop) index pairs [S, 2] of the slices of int64 [N, 4] events."""
    return _snn.events_slice(events, list(sensor_size), has_y, slicer)


def shd_read(path: str, index: int) -> Tuple[Tensor, int]:
    """Sample ``index`` of an SHD / SSC HDF5 file: int64 [N, 4] events and its label."""
    return _snn.shd_read(path, index)


def shd_info(path: str) -> Tuple[List[int], List[int], List[str]]:
    """An SHD / SSC file's labels, speakers and class names."""
    return _snn.shd_info(path)


def pad_tensors(samples: Sequence[Tensor], batch_first: bool = True) -> Tensor:
    """Tonic's PadTensors: zero-pads samples [T_i, ...] to one batch."""
    return _snn.pad_tensors(list(samples), batch_first)


def events_detect_format(path: str) -> str:
    """The format of an event file, from its header and extension: "nmnist", "evt2", "evt3",
    "dat", "aedat3" or "hdf5"."""
    return _snn.events_detect_format(path)


def dvs_gesture_read(aedat_path: str, labels_path: str) -> Tuple[List[Tensor], List[int]]:
    """A DVS Gesture recording (AEDAT 3.1) cut into its gestures by its labels CSV: int64
    [N, 4] events (t, x, y, p) per gesture, and each gesture's class as in the CSV (1..11)."""
    return _snn.dvs_gesture_read(aedat_path, labels_path)


def set_caching_allocator(enabled: bool) -> None:
    """Installs (or removes) snn.cpp's caching CPU allocator for the whole process: freed
    blocks are kept for reuse instead of going back to the system, which saves the page
    faults of large tensors made anew every step (padded batches, frames). Every tensor
    allocated on the CPU afterwards, by any library, goes through it."""
    _snn.set_caching_allocator(enabled)


def caching_allocator_enabled() -> bool:
    """Whether snn.cpp's caching CPU allocator is installed."""
    return bool(_snn.caching_allocator_enabled())


def empty_cache() -> None:
    """Returns the caching allocator's free blocks to the system."""
    _snn.empty_cache()
