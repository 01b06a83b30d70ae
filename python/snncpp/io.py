"""Event file readers returning Tonic's structured arrays, decoded by snn.cpp's readers.

- :func:`read_mnist_file`: N-MNIST / N-Caltech101 ``.bin``, as ``tonic.io.read_mnist_file``
  (same signature, dtype and values);
- :func:`read_dvs_ibm`: a DVS Gesture AEDAT 3.1 recording, as ``tonic.io.read_dvs_ibm``
  (``((128, 128), events)`` with Tonic's ``events_struct``); :func:`read_dvs_gesture` cuts a
  recording into its gestures by its ``_labels.csv``;
- :func:`read_events`: any format snn.cpp reads (N-MNIST, Prophesee EVT 2.0 / EVT 3.0 ``.raw``
  and ``.dat``, AEDAT 3.1), detected from the header and extension;
- :func:`read_hsd`: one sample of an SHD / SSC HDF5 file, as ``tonic.datasets.SHD`` gives it.

Tonic has no Prophesee reader; for those formats the values are those of expelliarmus (the
decoder Tonic's ecosystem uses) except where the file format's own rules differ from it (see
``include/snn/events/io.h``): EVT words before the first TIME_HIGH carry no time and are
dropped, and EVT 3.0 time-low steps back are not carried. For AEDAT 3.1 snn.cpp reads only the
polarity packets, drops events whose valid bit is clear and adds the packets' timestamp
overflow (2^31 µs); Tonic reads every packet as polarity events and ignores both (and its
``read_dvs_ibm`` fails in Tonic 1.7.0: it unpacks two values from a three-value header).
"""
from __future__ import annotations

import os
import tempfile
from typing import BinaryIO, List, Optional, Tuple, Union

import numpy as np
import torch

from . import ops

__all__ = ["events_struct", "read_mnist_file", "read_events", "read_dvs_ibm",
           "read_dvs_gesture", "read_hsd", "detect_format"]

#: Tonic's default event dtype (``tonic.io.events_struct``).
events_struct = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", bool)])
#: Tonic's DVSGesture dtype.
_GESTURE = np.dtype([("x", np.int16), ("y", np.int16), ("p", bool), ("t", np.int64)])
#: Tonic's HSD (SHD / SSC) dtype: audio events, no y.
_HSD = np.dtype([("t", int), ("x", int), ("p", int)])

PathLike = Union[str, "os.PathLike[str]"]


def _structured(t: torch.Tensor, x: torch.Tensor, y: Optional[torch.Tensor], p: torch.Tensor,
                dtype: np.dtype, what: str) -> np.ndarray:
    dtype = np.dtype(dtype)
    names = dtype.names or ()
    if any(n not in ("t", "x", "y", "p") for n in names) or any(
            n not in names for n in ("t", "x", "p")):
        raise ValueError(f"{what}: dtype must have fields t, x, p (and y), got {names}")
    if "y" in names and y is None:
        raise ValueError(f"{what}: these events have no y, but the dtype {dtype} has a y field")
    pol = p.numpy()
    if dtype["p"].kind == "b" and len(pol) and int(pol.max()) > 1:
        raise ValueError(f"{what}: polarities reach {int(pol.max())}, which a bool field cannot "
                         f"hold: pass a dtype with an integer p")
    out = np.empty(len(pol), dtype=dtype)
    out["t"] = t.numpy()
    out["x"] = x.numpy()
    if "y" in names:
        out["y"] = y.numpy()
    out["p"] = pol
    return out


def _read(path: PathLike, format: str) -> Tuple[torch.Tensor, ...]:
    return torch.ops.snn.events_read_columns(os.fspath(path), format)


def detect_format(path: PathLike) -> str:
    """The format snn.cpp finds for a file: "nmnist", "evt2", "evt3", "dat", "aedat3" or
    "hdf5"."""
    return ops.events_detect_format(os.fspath(path))


def read_events(path: PathLike, format: str = "auto", dtype: Optional[np.dtype] = None, *,
                return_sensor_size: bool = False
                ) -> Union[np.ndarray, Tuple[np.ndarray, Tuple[int, int, int]]]:
    """The events of a file as a structured array of ``dtype`` (default: Tonic's
    ``events_struct``, fields x, y, t, p). ``format``: "auto" (from the header and extension),
    "nmnist", "evt2", "evt3", "dat" or "aedat3". With ``return_sensor_size``, returns
    ``(events, (W, H, P))``, the sensor size the file's header names (or its format's
    default). HDF5 files hold many samples: see :func:`read_hsd`."""
    if format.lower() != "auto" and format.lower() in ("hdf5", "h5"):
        raise ValueError("read_events: an HDF5 file holds many samples: use read_hsd(path, index)")
    if format.lower() == "auto" and detect_format(path) == "hdf5":
        raise ValueError(f"read_events: {path} is an HDF5 file of many samples: use "
                         f"read_hsd(path, index)")
    t, x, y, p, sensor = _read(path, format)
    events = _structured(t, x, y, p, events_struct if dtype is None else dtype, "read_events")
    return (events, tuple(sensor)) if return_sensor_size else events


def read_mnist_file(bin_file: Union[PathLike, BinaryIO], dtype: np.dtype,
                    is_stream: bool = False) -> np.ndarray:
    """``tonic.io.read_mnist_file``: the events of an N-MNIST / N-Caltech101 ``.bin`` file (a
    path, or with ``is_stream`` an open binary file) as a structured array of ``dtype`` (e.g.
    ``tonic.datasets.NMNIST.dtype``), overflow markers applied."""
    if not is_stream:
        t, x, y, p, _ = _read(bin_file, "nmnist")
        return _structured(t, x, y, p, dtype, "read_mnist_file")
    data = bin_file.read()
    fd, name = tempfile.mkstemp(suffix=".bin")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
        t, x, y, p, _ = _read(name, "nmnist")
    finally:
        os.unlink(name)
    return _structured(t, x, y, p, dtype, "read_mnist_file")


def read_dvs_ibm(filename: PathLike) -> Tuple[Tuple[int, int], np.ndarray]:
    """``tonic.io.read_dvs_ibm``: ``((128, 128), events)`` of a DVS Gesture AEDAT 3.1
    recording, events in Tonic's ``events_struct`` (x, y, t, p)."""
    t, x, y, p, sensor = _read(filename, "aedat3")
    return (int(sensor[1]), int(sensor[0])), _structured(t, x, y, p, events_struct, "read_dvs_ibm")


def read_dvs_gesture(aedat_path: PathLike, labels_path: Optional[PathLike] = None,
                     dtype: np.dtype = _GESTURE) -> List[Tuple[np.ndarray, int]]:
    """The gestures of a DVS Gesture recording: ``[(events, target), ...]`` in the order of its
    labels CSV (default: ``<recording>_labels.csv`` beside it), each gesture's events with
    start <= t < end (µs, as recorded), target = the CSV's class - 1 (0..10, Tonic's
    DVSGesture targets). Events in ``dtype`` (default: Tonic's DVSGesture dtype x, y, p, t).

    This reads the original recordings (DvsGesture.tar.gz). tonic.datasets.DVSGesture reads a
    preprocessed copy with timestamps rounded to milliseconds, see snncpp.datasets."""
    aedat = os.fspath(aedat_path)
    if labels_path is None:
        labels_path = os.path.splitext(aedat)[0] + "_labels.csv"
    samples, labels = ops.dvs_gesture_read(aedat, os.fspath(labels_path))
    out = []
    for events, label in zip(samples, labels):
        out.append((_structured(events[:, 0], events[:, 1], events[:, 2], events[:, 3], dtype,
                                "read_dvs_gesture"), int(label) - 1))
    return out


def read_hsd(path: PathLike, index: int, dtype: np.dtype = _HSD) -> Tuple[np.ndarray, int]:
    """Sample ``index`` of an SHD / SSC HDF5 file as Tonic's SHD gives it: events (t in µs =
    trunc(float64(time) · 1e6), x = unit, p = 1; Tonic's dtype t, x, p) and the label."""
    events, label = ops.shd_read(os.fspath(path), int(index))
    events = _structured(events[:, 0], events[:, 1], None, events[:, 3], dtype, "read_hsd")
    return events, int(label)
