"""Tonic's event transforms and representations, computed by snn.cpp's ops.

Each class is a subclass of the Tonic class of the same name (``tonic.transforms``; CropSpace,
snn.cpp's own, has none), with the same constructor, fields, defaults and repr, and takes what Tonic's takes: a NumPy structured
array of events with fields x, y, t, p (or x, t, p for audio data such as SHD), any order, any
integer or bool field dtypes (the dtypes Tonic's datasets produce). A transform returns a
structured array of the same dtype (EventDownsampling: Tonic's own int32 x, y, p, t); a
representation returns the array Tonic returns (dtype and shape). So they slot into
``tonic.transforms.Compose``, Tonic's datasets and a torch DataLoader unchanged::

    import snncpp.transforms as T          # in place of: import tonic.transforms as T
    transform = T.Compose([T.Denoise(filter_time=10000),
                           T.ToFrame(sensor_size=(34, 34, 2), n_time_bins=10)])

Every class has ``spec``: its canonical text in snn.cpp's transform language (e.g.
``"Denoise(filter_time=10000)"``), the text the op runs.

**Sensor size.** Where Tonic's class takes ``sensor_size``, so does this one, and the events
must lie within it (an event outside it is an error, where Tonic would compute with it). Where
Tonic's class takes none, the transform does not depend on it; the op is given the smallest
sensor that holds the events (max x + 1, max y + 1, max p + 1). Representations without a
``sensor_size`` (None) infer it as Tonic's ToFrame does (max x + 1, max y + 1, the number of
distinct polarities).

**Random transforms** (RandomFlipLR, DropEvent, TimeJitter, ... and the (lo, hi) parameter
ranges) draw one 63-bit seed per call from NumPy's global generator (``np.random``; a fused
Compose draws one for all its members), and snn.cpp's generator (std::mt19937_64) draws
everything else from that seed. So ``np.random.seed(s)`` makes a pipeline reproducible, as
with Tonic, and a torch DataLoader's workers (which seed NumPy each) draw different streams. The draws are not Tonic's (they cannot reproduce NumPy's
streams): the same seed gives other, equally distributed, results. Deterministic transforms
draw nothing.

**Compose.** :class:`Compose` runs each run of consecutive snn.cpp transforms as one op call
(snn.cpp's ``Compose([...])``) on columns, and hands them to a following representation
without building the structured array in between. It falls back to one call per transform
where the sensor sizes the members were given disagree with what the transforms before them
produce (then each member sees exactly its own sensor_size, as in Tonic). Other callables
(Tonic's own transforms, lambdas) may be mixed in; they get structured arrays as usual.

Differences from Tonic 1.7.0, each a Tonic bug that snn.cpp does not have (see
``include/snn/events/transforms.h``):

- CropTime(max=None) bounds nothing (Tonic keeps the first sample's last timestamp as the
  bound of every later sample);
- Denoise keeps no event next to a pixel that never fired (Tonic treats every pixel as having
  fired at t = 0, so it keeps isolated events with t < filter_time);
- RefractoryPeriod keeps a pixel's first event also at t <= 0;
- DropEventByArea draws a (lo, hi) ratio uniformly in [lo, hi) (Tonic: in [hi, 1));
- ToFrame, ToImage and ToSparseTensor count in int32 and return Tonic's int16 only when every
  count fits (else OverflowError: pass ``dtype=np.int32``); Tonic's int16 counts wrap. Empty
  events give zero frames of shape (T, P, H, W) in that dtype (Tonic: float64 (T, P, W, H));
- ToVoxelGrid counts p = 0 as -1 whatever p's dtype (Tonic's in-place ``p[p == 0] = -1``
  turns OFF events into +1 for bool p and into 255 for uint8 p), and puts events that all
  share one timestamp in bin 0 (Tonic divides by zero);
- Compose runs every transform also on empty events (Tonic's stops at the first empty result,
  skipping e.g. a final ToFrame);
- Denoise, RefractoryPeriod, DropPixel, SpatialJitter, ToTimesurface, ToVoxelGrid and
  ToAveragedTimesurface also work on audio events (no y: x is the channel; Tonic's need a y
  field), and ToImage / ToTimesurface on empty events (Tonic's fail);
- the input array is never modified (Tonic's ToFrame sets p = 0 in place for one-polarity
  sensors, and CenterCrop and DropPixel rewrite their own fields);
- DropPixel given both coordinates and hot_pixel_frequency drops both sets of pixels (Tonic
  silently ignores the coordinates); EventDownsampling's noise_threshold=None and
  differentiator_time_bins=None mean Tonic's functional defaults 0 and 2 (Tonic fails).

Float representations are computed in float64 by the ops and stored as float32: ToTimesurface
and ToVoxelGrid return Tonic's float64 arrays holding those float32 values (equal to Tonic's to
about 1e-7 relative), ToAveragedTimesurface and ToBinaRep Tonic's float32.

Timestamps must be integers (µs as in Tonic's datasets); x, y, p must fit int16.

Tonic's pure-NumPy helpers with nothing for snn.cpp to compute are re-exported unchanged:
NumpyAsType, Repeat, ToOneHotEncoding, and RandomDropPixel (which draws a pixel mask from
NumPy). :class:`CropSpace` is snn.cpp's own (RandomCrop at a given corner).
"""
from __future__ import annotations

import math
import numbers
from dataclasses import dataclass, fields
from typing import Any, Callable, Optional, Sequence, Tuple

import numpy as np
import torch
import tonic.transforms as _tt
from tonic.transforms import NumpyAsType, RandomDropPixel, Repeat, ToOneHotEncoding  # noqa: F401

from . import ops  # noqa: F401  (loads libsnn.so)

__all__ = [
    "Compose", "CenterCrop", "CropSpace", "CropTime", "Decimation", "Denoise", "Downsample",
    "DropEvent", "DropEventByArea", "DropEventByTime", "DropPixel", "EventDownsampling",
    "EventDrop", "MergePolarities", "RandomCrop", "RandomFlipLR", "RandomFlipPolarity",
    "RandomFlipUD", "RandomTimeReversal", "RefractoryPeriod", "SpatialJitter", "TimeAlignment",
    "TimeJitter", "TimeSkew", "UniformNoise",
    "ToAveragedTimesurface", "ToBinaRep", "ToFrame", "ToImage", "ToSparseTensor",
    "ToTimesurface", "ToVoxelGrid",
    "NumpyAsType", "RandomDropPixel", "Repeat", "ToOneHotEncoding",
    "from_tonic",
]

Sensor = Tuple[int, int, int]

# The ops, looked up at call time through these names.
_transform_op = torch.ops.snn.events_transform_columns
_dense_op = torch.ops.snn.events_to_dense_columns


# ---- structured arrays <-> columns -----------------------------------------------------------

_FIELDS = ("t", "x", "y", "p")
# Field dtypes torch.from_numpy takes as they are; others are widened (bool -> uint8, ...).
_NATIVE = {np.dtype(k) for k in (np.int8, np.uint8, np.int16, np.int32, np.int64)}


class _Columns:
    """Events as the ops take them: 1-D integer tensors t, x, y, p (y = x for audio: the ops
    ignore it), whether there is a y field, and the structured dtype to return."""

    __slots__ = ("t", "x", "y", "p", "has_y", "dtype", "sensor")

    def __init__(self, t, x, y, p, has_y, dtype, sensor=None):
        self.t, self.x, self.y, self.p = t, x, y, p
        self.has_y, self.dtype, self.sensor = has_y, dtype, sensor

    def __len__(self) -> int:
        return int(self.t.shape[0])

    def inferred_sensor(self) -> Sensor:
        """The smallest sensor that holds the events (max + 1 per axis, at least 1)."""
        if len(self) == 0:
            return (1, 1, 1)
        w = int(self.x.max()) + 1
        h = int(self.y.max()) + 1 if self.has_y else 1
        return (max(w, 1), max(h, 1), max(int(self.p.max()) + 1, 1))

    def to_structured(self) -> np.ndarray:
        out = np.empty(len(self), dtype=self.dtype)
        names = self.dtype.names
        out["t"] = self.t.numpy()
        out["x"] = self.x.numpy()
        if "y" in names:
            out["y"] = self.y.numpy() if self.has_y else 0
        out["p"] = self.p.numpy()
        return out


def _is_structured(events: Any) -> bool:
    return isinstance(events, np.ndarray) and events.dtype.names is not None


def _column(events: np.ndarray, name: str) -> torch.Tensor:
    c = events[name]
    kind = c.dtype.kind
    if kind not in "iub":
        raise TypeError(
            f"snncpp.transforms: field {name!r} has dtype {c.dtype}; the ops take integer events "
            f"(t in microseconds, x, y, p integers or bool), as Tonic's datasets give them")
    if c.dtype in _NATIVE:
        a = np.ascontiguousarray(c)
    elif kind == "b":
        a = np.ascontiguousarray(c, dtype=np.uint8)
    elif c.dtype.itemsize <= 2:
        a = np.ascontiguousarray(c, dtype=np.int32)
    else:
        a = np.ascontiguousarray(c, dtype=np.int64)
    if not a.dtype.isnative:
        a = a.astype(a.dtype.newbyteorder("="))
    return torch.from_numpy(a)


def _columns(events: np.ndarray) -> _Columns:
    names = events.dtype.names
    extra = [n for n in names if n not in _FIELDS]
    missing = [n for n in ("t", "x", "p") if n not in names]
    if extra or missing or events.ndim != 1:
        raise ValueError(
            f"snncpp.transforms: expected a 1-D structured array with fields x, y, t, p (or x, t, "
            f"p for audio), got fields {names} of shape {events.shape}")
    has_y = "y" in names
    x = _column(events, "x")
    return _Columns(_column(events, "t"), x, _column(events, "y") if has_y else x,
                    _column(events, "p"), has_y, events.dtype)


# ---- spec text -----------------------------------------------------------------------------

def _fmt(v: Any) -> str:
    """A value in the spec language."""
    if v is None:
        return "none"
    if isinstance(v, (bool, np.bool_)):
        return "true" if v else "false"
    if isinstance(v, numbers.Integral):
        return str(int(v))
    if isinstance(v, numbers.Real):
        f = float(v)
        if not math.isfinite(f):
            raise ValueError(f"snncpp.transforms: expected a finite number, got {v!r}")
        return repr(f)
    if isinstance(v, str):
        return '"' + v + '"'
    if isinstance(v, tuple):
        return "(" + ", ".join(_fmt(e) for e in v) + ")"
    if isinstance(v, list):
        return "[" + ", ".join(_fmt(e) for e in v) + "]"
    raise TypeError(f"snncpp.transforms: cannot write {v!r} ({type(v).__name__}) as a spec value")


def _call(name: str, args: dict) -> str:
    return name + "(" + ", ".join(f"{k}={_fmt(v)}" for k, v in args.items()) + ")"


def _is_pair(v: Any) -> bool:
    return isinstance(v, (tuple, list, np.ndarray)) and len(v) == 2


def _range(v: Any) -> Any:
    """A number, or Tonic's (lo, hi) range (a tuple; a list too) as a tuple of floats."""
    if _is_pair(v):
        return (float(v[0]), float(v[1]))
    return v


def _is_range(v: Any) -> bool:
    return _is_pair(v) and float(v[0]) != float(v[1])


def _pair(v: Any) -> Tuple[Any, Any]:
    """Tonic's `size` / `spatial_factor`: a number for both axes, or a pair."""
    if _is_pair(v):
        return (v[0], v[1])
    return (v, v)


def _sensor(s: Any) -> Optional[Sensor]:
    if s is None or (hasattr(s, "__len__") and len(s) == 0):
        return None
    if len(s) != 3:
        raise ValueError(f"snncpp.transforms: sensor_size must be (W, H, P), got {s!r}")
    return (int(s[0]), int(s[1]), int(s[2]))


def _draw_seed() -> int:
    """One seed from NumPy's global generator, so np.random.seed reproduces the transforms."""
    return int(np.random.randint(0, 2**63 - 1, dtype=np.int64))


def _tonic_parent(cls: type) -> Optional[type]:
    return next((b for b in cls.__mro__[1:] if b.__module__.startswith("tonic")), None)


def _dropin(cls: type) -> type:
    """A dataclass with the Tonic parent's fields and frozenness (plus the class's own), and
    Tonic's repr (see _repr)."""
    params = getattr(_tonic_parent(cls), "__dataclass_params__", None)
    return dataclass(frozen=bool(params and params.frozen), repr=False)(cls)


def _repr(self) -> str:
    """Tonic's dataclass repr; a field Tonic's class does not have is shown only when it is
    not its default."""
    parent = _tonic_parent(type(self))
    theirs = {f.name for f in fields(parent)} if parent is not None else None
    parts = []
    for f in fields(self):
        value = getattr(self, f.name)
        if theirs is not None and f.name not in theirs and value is f.default:
            continue
        parts.append(f"{f.name}={value!r}")
    return f"{type(self).__qualname__}({', '.join(parts)})"


# ---- transforms ------------------------------------------------------------------------------

class _Transform:
    """What every snn.cpp event transform shares. A subclass names its spec (`_name`,
    `_args`), the sensor size it was given (`_declared`), the sensor it produces
    (`_out_sensor`) and whether it draws random numbers (`_random`)."""

    _name: str = ""
    # The output sensor equals the input's, and the output does not depend on the sensor.
    _keeps_sensor: bool = True
    # The declared sensor's polarity count changes the output (UniformNoise draws p from it).
    _uses_polarities: bool = False

    def __post_init__(self) -> None:
        post = getattr(super(), "__post_init__", None)
        if post is not None:
            post()
        try:
            torch.ops.snn.events_spec_repr("transform", self._text())
        except RuntimeError as err:
            raise ValueError(f"{type(self).__name__}: {err}") from None

    def _args(self) -> dict:
        return {}

    def _text(self) -> str:
        return _call(self._name or type(self).__name__, self._args())

    def _declared(self) -> Optional[Sensor]:
        return None

    def _out_sensor(self, s: Sensor) -> Sensor:
        return s

    def _random(self) -> bool:
        return False

    def _out_dtype(self, dtype: np.dtype) -> np.dtype:
        return dtype

    __repr__ = _repr

    @property
    def spec(self) -> str:
        """The canonical text of this transform in snn.cpp's transform language."""
        return torch.ops.snn.events_spec_repr("transform", self._text())

    def __call__(self, events: np.ndarray) -> np.ndarray:
        if not _is_structured(events):
            return super().__call__(events)  # Tonic's own (e.g. on frames), or its error
        return _run_transforms([self], _columns(events)).to_structured()


def _sensor_for(member: _Transform, cols: _Columns) -> Sensor:
    declared = member._declared()
    return declared if declared is not None else cols.inferred_sensor()


def _apply(members: Sequence[_Transform], cols: _Columns, sensor: Sensor) -> _Columns:
    text = members[0]._text() if len(members) == 1 else \
        "Compose([" + ", ".join(m._text() for m in members) + "])"
    seed = _draw_seed() if any(m._random() for m in members) else 0
    t, x, y, p, new_sensor = _transform_op(cols.t, cols.x, cols.y, cols.p, list(sensor),
                                           cols.has_y, text, seed)
    dtype = cols.dtype
    for m in members:
        dtype = m._out_dtype(dtype)
    return _Columns(t, x, y if cols.has_y else x, p, cols.has_y, dtype, tuple(new_sensor))


def _fused_sensor(members: Sequence[_Transform], cols: _Columns) -> Optional[Sensor]:
    """The input sensor under which one Compose op gives each member the sensor it was given
    (as a call per member would), or None when there is none."""
    inferred = cols.inferred_sensor()
    sensor = inferred
    for k, m in enumerate(members):
        declared = m._declared()
        if declared is not None:
            if all(b._keeps_sensor for b in members[:k]):
                if declared[0] < inferred[0] or declared[1] < inferred[1]:
                    return None  # the events do not fit: let that member say so
                sensor = declared
            break
    s = sensor
    for m in members:
        declared = m._declared()
        if declared is not None:
            if declared[:2] != s[:2] or (m._uses_polarities and declared[2] != s[2]):
                return None
        s = m._out_sensor(s)
    return sensor


def _run_transforms(members: Sequence[_Transform], cols: _Columns) -> _Columns:
    if len(members) > 1:
        sensor = _fused_sensor(members, cols)
        if sensor is not None:
            return _apply(members, cols, sensor)
    for m in members:
        cols = _apply([m], cols, _sensor_for(m, cols))
    return cols


@_dropin
class CropTime(_Transform, _tt.CropTime):
    """Tonic's CropTime: keeps events with min <= t <= max. max=None: no upper bound (Tonic
    keeps the first sample's last timestamp as the bound of every later sample)."""

    def _args(self):
        lo = 0 if self.min is None else math.ceil(self.min)
        hi = None if self.max is None else math.floor(self.max)
        return {"min": lo, "max": hi}


@_dropin
class TimeSkew(_Transform, _tt.TimeSkew):
    """Tonic's TimeSkew: t' = trunc(t·coefficient + offset); a (lo, hi) pair is a range,
    drawn per sample."""

    def _args(self):
        return {"coefficient": _range(self.coefficient), "offset": _range(self.offset)}

    def _random(self):
        return _is_range(self.coefficient) or _is_range(self.offset)


@_dropin
class TimeAlignment(_Transform, _tt.TimeAlignment):
    """Tonic's TimeAlignment: t' = t - min(t)."""


@_dropin
class TimeJitter(_Transform, _tt.TimeJitter):
    """Tonic's TimeJitter: t' = trunc(t + N(0, std²)); sort_timestamps sorts stably."""

    def _args(self):
        return {"std": self.std, "clip_negative": self.clip_negative,
                "sort_timestamps": self.sort_timestamps}

    def _random(self):
        return True


@_dropin
class RandomTimeReversal(_Transform, _tt.RandomTimeReversal):
    """Tonic's RandomTimeReversal (frames: Tonic's own code)."""

    def _args(self):
        return {"p": self.p, "flip_polarities": self.flip_polarities}

    def _random(self):
        return True


@_dropin
class CenterCrop(_Transform, _tt.CenterCrop):
    """Tonic's CenterCrop: a (W, H) box (an int: square) centred on sensor_size."""

    _keeps_sensor = False

    def _args(self):
        w, h = _pair(self.size)
        return {"size": (int(w), int(h))}

    def _declared(self):
        return _sensor(self.sensor_size)

    def _out_sensor(self, s):
        w, h = _pair(self.size)
        return (int(w), int(h), s[2])


@dataclass(frozen=True)
class CropSpace(_Transform):
    """snn.cpp's CropSpace: keeps the events in the box [x, x + width) × [y, y + height) and
    moves them to its origin — Tonic's RandomCrop at a given corner. New sensor
    (width, height, P)."""

    width: int
    height: int
    x: int = 0
    y: int = 0

    _keeps_sensor = False

    def _args(self):
        return {"x": self.x, "y": self.y, "width": self.width, "height": self.height}

    def _out_sensor(self, s):
        return (int(self.width), int(self.height), s[2])

    def __call__(self, events: np.ndarray) -> np.ndarray:
        if not _is_structured(events):
            raise TypeError("CropSpace: expected a structured array of events")
        return super().__call__(events)


@_dropin
class RandomCrop(_Transform, _tt.RandomCrop):
    """Tonic's RandomCrop: a target_size (W, H) box at a random corner of sensor_size."""

    _keeps_sensor = False

    def _args(self):
        return {"target_size": (int(self.target_size[0]), int(self.target_size[1]))}

    def _declared(self):
        return _sensor(self.sensor_size)

    def _out_sensor(self, s):
        return (int(self.target_size[0]), int(self.target_size[1]), s[2])

    def _random(self):
        return True


@_dropin
class Downsample(_Transform, _tt.Downsample):
    """Tonic's Downsample: t' = trunc(t·time_factor), x' = trunc(x·fx), y' = trunc(y·fy);
    with target_size, (fx, fy) = target_size / sensor_size[:2]. The new sensor: target_size,
    or floor((W - 1)·fx) + 1 by floor((H - 1)·fy) + 1."""

    _keeps_sensor = False

    def __post_init__(self):
        if self.target_size is not None and _sensor(self.sensor_size) is None:
            raise ValueError("Downsample: target_size needs sensor_size (as in Tonic)")
        super().__post_init__()

    def _args(self):
        if self.target_size is not None:
            return {"time_factor": self.time_factor,
                    "target_size": (int(self.target_size[0]), int(self.target_size[1]))}
        return {"time_factor": self.time_factor, "spatial_factor": _pair(self.spatial_factor)}

    def _declared(self):
        return _sensor(self.sensor_size) if self.target_size is not None else None

    def _out_sensor(self, s):
        if self.target_size is not None:
            return (int(self.target_size[0]), int(self.target_size[1]), s[2])
        fx, fy = _pair(self.spatial_factor)
        return (math.floor((s[0] - 1) * float(fx)) + 1, math.floor((s[1] - 1) * float(fy)) + 1,
                s[2])


@_dropin
class RandomFlipLR(_Transform, _tt.RandomFlipLR):
    """Tonic's RandomFlipLR: with probability p, x' = W - 1 - x (W from sensor_size)."""

    def _args(self):
        return {"p": self.p}

    def _declared(self):
        return _sensor(self.sensor_size)

    def _random(self):
        return True


@_dropin
class RandomFlipUD(_Transform, _tt.RandomFlipUD):
    """Tonic's RandomFlipUD: with probability p, y' = H - 1 - y (H from sensor_size)."""

    def _args(self):
        return {"p": self.p}

    def _declared(self):
        return _sensor(self.sensor_size)

    def _random(self):
        return True


@_dropin
class RandomFlipPolarity(_Transform, _tt.RandomFlipPolarity):
    """Tonic's RandomFlipPolarity: with probability p (one draw per sample), p' = (p == 0)."""

    def _args(self):
        return {"p": self.p}

    def _random(self):
        return True


@_dropin
class SpatialJitter(_Transform, _tt.SpatialJitter):
    """Tonic's SpatialJitter: (x, y)' = trunc((x, y) + N(0, [[var_x, sigma_xy], [sigma_xy,
    var_y]])); clip_outliers drops events shifted off sensor_size."""

    def _args(self):
        return {"var_x": self.var_x, "var_y": self.var_y, "sigma_xy": self.sigma_xy,
                "clip_outliers": self.clip_outliers}

    def _declared(self):
        return _sensor(self.sensor_size)

    def _random(self):
        return True


@_dropin
class MergePolarities(_Transform, _tt.MergePolarities):
    """Tonic's MergePolarities: p' = 0."""

    _keeps_sensor = False

    def _out_sensor(self, s):
        return (s[0], s[1], 1)


@_dropin
class Denoise(_Transform, _tt.Denoise):
    """Tonic's Denoise: keeps an event when one of its 4 neighbours (2 for audio) fired within
    the last filter_time µs. A pixel that never fired counts as never having fired (Tonic: as
    having fired at t = 0)."""

    def _args(self):
        return {"filter_time": self.filter_time}


@_dropin
class RefractoryPeriod(_Transform, _tt.RefractoryPeriod):
    """Tonic's RefractoryPeriod: per pixel, keeps an event when t - t_previous > delta; a
    (lo, hi) delta is drawn per sample as trunc(uniform(lo, hi)). A pixel's first event is
    always kept (Tonic drops it at t <= 0)."""

    def _args(self):
        return {"delta": _range(self.delta)}

    def _random(self):
        return _is_range(self.delta)


@_dropin
class Decimation(_Transform, _tt.Decimation):
    """Tonic's Decimation: per pixel, keeps every n-th event."""

    def _args(self):
        return {"n": self.n}


@_dropin
class DropEvent(_Transform, _tt.DropEvent):
    """Tonic's DropEvent: drops int(p·N + 0.5) events chosen uniformly; a (lo, hi) p is drawn
    per sample."""

    def _args(self):
        return {"p": _range(self.p)}

    def _random(self):
        return True


@_dropin
class DropPixel(_Transform, _tt.DropPixel):
    """Tonic's DropPixel: drops the events of the given (x, y) pixels (audio: (x, 0)) and of
    the pixels firing above hot_pixel_frequency Hz (frames: Tonic's own code)."""

    def _args(self):
        coordinates = [] if self.coordinates is None else \
            [(int(c[0]), int(c[1])) for c in self.coordinates]
        hot = self.hot_pixel_frequency if self.hot_pixel_frequency else None
        return {"coordinates": coordinates, "hot_pixel_frequency": hot}


@_dropin
class DropEventByTime(_Transform, _tt.DropEventByTime):
    """Tonic's DropEventByTime: drops the events of a random interval of duration_ratio ·
    max(t); a (lo, hi) ratio is drawn per sample."""

    def _args(self):
        return {"duration_ratio": _range(self.duration_ratio)}

    def _random(self):
        return True


@_dropin
class DropEventByArea(_Transform, _tt.DropEventByArea):
    """Tonic's DropEventByArea: drops the events of a random box of area_ratio times
    sensor_size; a (lo, hi) ratio is drawn uniformly in [lo, hi)."""

    def _args(self):
        return {"area_ratio": _range(self.area_ratio)}

    def _declared(self):
        return _sensor(self.sensor_size)

    def _random(self):
        return True


@_dropin
class EventDrop(_Transform, _tt.EventDrop):
    """Tonic's EventDrop: one of identity, DropEventByTime, DropEventByArea, DropEvent."""

    def _declared(self):
        return _sensor(self.sensor_size)

    def _random(self):
        return True


@_dropin
class UniformNoise(_Transform, _tt.UniformNoise):
    """Tonic's UniformNoise: adds n events uniform over [min t, max t) and sensor_size, sorted
    by time (stably); a (lo, hi) n is drawn per sample."""

    _uses_polarities = True

    def _args(self):
        n = self.n
        return {"n": (int(n[0]), int(n[1])) if _is_pair(n) else int(n)}

    def _declared(self):
        return _sensor(self.sensor_size)

    def _random(self):
        return True


_DOWNSAMPLED = np.dtype({"names": ["x", "y", "p", "t"], "formats": ["i4", "i4", "i4", "i4"]})


@_dropin
class EventDownsampling(_Transform, _tt.EventDownsampling):
    """Tonic's EventDownsampling (integrator / differentiator, dt in ms). Returns Tonic's
    int32 (x, y, p, t) array whatever the input dtype, as Tonic does."""

    _keeps_sensor = False

    def _args(self):
        return {"target_size": (int(self.target_size[0]), int(self.target_size[1])),
                "dt": self.dt, "downsampling_method": self.downsampling_method,
                "noise_threshold": 0 if self.noise_threshold is None else self.noise_threshold,
                "differentiator_time_bins": 2 if self.differentiator_time_bins is None
                else self.differentiator_time_bins}

    def _declared(self):
        return _sensor(self.sensor_size)

    def _out_sensor(self, s):
        return (int(self.target_size[0]), int(self.target_size[1]), 2)

    def _out_dtype(self, dtype):
        return _DOWNSAMPLED


# ---- representations -----------------------------------------------------------------------

def _tonic_inferred_sensor(cols: _Columns, what: str) -> Sensor:
    """Tonic's ToFrame rule: max x + 1, max y + 1 (1 for audio), distinct polarities."""
    if len(cols) == 0:
        raise ValueError(f"{what}: cannot infer the sensor size of empty events: give sensor_size")
    h = int(cols.y.max()) + 1 if cols.has_y else 1
    return (int(cols.x.max()) + 1, h, int(torch.unique(cols.p).numel()))


def _narrow(counts: torch.Tensor, dtype: Any, what: str) -> torch.Tensor:
    """int32 counts as the dtype asked for; OverflowError where a count does not fit."""
    target = torch.from_numpy(np.zeros(0, dtype=np.dtype(dtype))).dtype if not isinstance(
        dtype, torch.dtype) else dtype
    if not target.is_floating_point and counts.numel():
        top = int(counts.max())
        if top > torch.iinfo(target).max:
            raise OverflowError(
                f"{what}: a pixel counts {top} events in one frame, more than {target} holds "
                f"(Tonic's int16 would wrap): pass dtype=np.int32")
    return counts.to(target)


class _Representation:
    """What every snn.cpp representation shares: `_name`, `_args`, the sensor it counts on,
    and how the op's tensor becomes Tonic's output."""

    _name: str = ""

    def __post_init__(self) -> None:
        try:
            torch.ops.snn.events_spec_repr("representation", self._text())
        except RuntimeError as err:
            raise ValueError(f"{type(self).__name__}: {err}") from None

    def _args(self) -> dict:
        return {}

    def _text(self) -> str:
        return _call(self._name or type(self).__name__, self._args())

    __repr__ = _repr

    @property
    def spec(self) -> str:
        """The canonical text of this representation in snn.cpp's language."""
        return torch.ops.snn.events_spec_repr("representation", self._text())

    def _sensor(self, cols: _Columns) -> Sensor:
        declared = _sensor(getattr(self, "sensor_size", None))
        if declared is not None:
            return declared
        return _tonic_inferred_sensor(cols, type(self).__name__)

    def _check(self, cols: _Columns, sensor: Sensor) -> None:
        if sensor[2] == 1 and len(cols) and int(cols.p.min()) != int(cols.p.max()):
            raise ValueError("Single polarity sensor, but events contain both polarities.")

    def _dense(self, cols: _Columns) -> torch.Tensor:
        sensor = self._sensor(cols)
        self._check(cols, sensor)
        return _dense_op(cols.t, cols.x, cols.y, cols.p, list(sensor), cols.has_y, self._text())

    def _finish(self, out: torch.Tensor):
        return out.numpy()

    def _from_columns(self, cols: _Columns):
        return self._finish(self._dense(cols))

    def __call__(self, events: np.ndarray) -> Any:
        if not _is_structured(events):
            return super().__call__(events)
        return self._from_columns(_columns(events))


def _frame_args(r) -> dict:
    return {"time_window": r.time_window, "event_count": r.event_count,
            "n_time_bins": r.n_time_bins, "n_event_bins": r.n_event_bins,
            "overlap": r.overlap, "include_incomplete": r.include_incomplete}


@_dropin
class ToFrame(_Representation, _tt.ToFrame):
    """Tonic's ToFrame: event counts [T, P, H, W] (audio [T, P, W]) in ``dtype`` (Tonic's
    int16; OverflowError when a count does not fit it, where Tonic's would wrap)."""

    dtype: Any = np.int16

    def _args(self):
        return dict(_frame_args(self), start_time=self.start_time, end_time=self.end_time)

    def _finish(self, out):
        return _narrow(out, self.dtype, "ToFrame").numpy()


@_dropin
class ToSparseTensor(_Representation, _tt.ToSparseTensor):
    """Tonic's ToSparseTensor: ToFrame's counts as a coalesced sparse COO tensor of ``dtype``
    (Tonic's torch.int16)."""

    dtype: Any = torch.int16

    def _args(self):
        return _frame_args(self)

    def _finish(self, out):
        values = _narrow(out.values(), self.dtype, "ToSparseTensor")
        return torch.sparse_coo_tensor(out.indices(), values, out.shape, is_coalesced=True,
                                       check_invariants=False)


@_dropin
class ToImage(_Representation, _tt.ToImage):
    """Tonic's ToImage: every event counted into one frame [P, H, W] (audio [P, W]) of
    ``dtype`` (Tonic's int16)."""

    dtype: Any = np.int16

    def _finish(self, out):
        return _narrow(out, self.dtype, "ToImage").numpy()


@_dropin
class ToVoxelGrid(_Representation, _tt.ToVoxelGrid):
    """Tonic's ToVoxelGrid: float64 [n_time_bins, 1, H, W] (audio [n, 1, W])."""

    def _args(self):
        return {"n_time_bins": self.n_time_bins}

    def _finish(self, out):
        return out.numpy().astype(np.float64)


@_dropin
class ToTimesurface(_Representation, _tt.ToTimesurface):
    """Tonic's ToTimesurface: float64 [T, P, H, W] (audio [T, P, W]), a surface every dt."""

    def _args(self):
        return {"dt": self.dt, "tau": self.tau}

    def _finish(self, out):
        return out.numpy().astype(np.float64)


@_dropin
class ToAveragedTimesurface(_Representation, _tt.ToAveragedTimesurface):
    """Tonic's ToAveragedTimesurface (HATS): float32 [cells, P, S, S] (audio [cells, P, S])."""

    def _args(self):
        return {"surface_size": self.surface_size, "cell_size": self.cell_size,
                "time_window": self.time_window, "tau": self.tau, "decay": self.decay}


@_dropin
class ToBinaRep(_Representation, _tt.ToBinaRep):
    """Tonic's ToBinaRep. On frames (Tonic's input: ToFrame(n_time_bins=n_frames·n_bits)'s
    output) it is Tonic's own code; on events it runs that whole pipeline in one op, counting
    on ``sensor_size`` (None: inferred as ToFrame does). :class:`Compose` fuses
    ``[ToFrame(n_time_bins=n_frames·n_bits), ToBinaRep(n_frames, n_bits)]`` the same way."""

    sensor_size: Any = None

    def _args(self):
        return {"n_frames": self.n_frames, "n_bits": self.n_bits}


def _fuses_with_bina_rep(frame: Any, bina: Any) -> bool:
    return (type(frame) is ToFrame and type(bina) is ToBinaRep and frame.n_time_bins is not None
            and frame.time_window is None and frame.event_count is None
            and frame.n_event_bins is None and not frame.overlap
            and frame.n_time_bins == bina.n_frames * bina.n_bits)


# ---- Compose -------------------------------------------------------------------------------

class Compose(_tt.Compose):
    """Tonic's Compose. Consecutive snn.cpp transforms run as one op call on columns (see the
    module's documentation); a following snn.cpp representation takes those columns directly.
    Other callables get what Tonic's Compose would give them. Unlike Tonic's, every member runs
    also after a transform returned no events."""

    def __call__(self, events: Any) -> Any:
        members = list(self.transforms)
        cols: Optional[_Columns] = None  # the current events as columns, when they are
        i = 0
        while i < len(members):
            m = members[i]
            if cols is None and _is_structured(events) and isinstance(
                    m, (_Transform, _Representation)):
                cols = _columns(events)
            if cols is not None and isinstance(m, _Transform):
                j = i
                while j < len(members) and isinstance(members[j], _Transform):
                    j += 1
                cols = _run_transforms(members[i:j], cols)
                i = j
                continue
            if cols is not None and isinstance(m, _Representation):
                if i + 1 < len(members) and _fuses_with_bina_rep(m, members[i + 1]):
                    bina = ToBinaRep(members[i + 1].n_frames, members[i + 1].n_bits,
                                     sensor_size=m.sensor_size)
                    events, cols = bina._from_columns(cols), None
                    i += 2
                    continue
                events, cols = m._from_columns(cols), None
                i += 1
                continue
            if cols is not None:
                events, cols = cols.to_structured(), None
            events = m(events)
            i += 1
        return cols.to_structured() if cols is not None else events

    @property
    def spec(self) -> Optional[str]:
        """The canonical text of the members as one Compose when every member is an snn.cpp
        transform (None otherwise)."""
        members = list(self.transforms)
        if not all(isinstance(m, _Transform) for m in members):
            return None
        return torch.ops.snn.events_spec_repr(
            "transform", "Compose([" + ", ".join(m._text() for m in members) + "])")


# ---- from Tonic ------------------------------------------------------------------------------

_BY_NAME = {c.__name__: c for c in (
    CenterCrop, CropTime, Decimation, Denoise, Downsample, DropEvent, DropEventByArea,
    DropEventByTime, DropPixel, EventDownsampling, EventDrop, MergePolarities, RandomCrop,
    RandomFlipLR, RandomFlipPolarity, RandomFlipUD, RandomTimeReversal, RefractoryPeriod,
    SpatialJitter, TimeAlignment, TimeJitter, TimeSkew, UniformNoise, ToAveragedTimesurface,
    ToBinaRep, ToFrame, ToImage, ToSparseTensor, ToTimesurface, ToVoxelGrid)}


def from_tonic(transform: Callable) -> Callable:
    """The snncpp equivalent of a Tonic transform (a Compose: recursively, as a snncpp
    Compose), with the same field values; anything else is returned as it is."""
    if isinstance(transform, (_Transform, _Representation, Compose)):
        return transform
    if isinstance(transform, _tt.Compose):
        return Compose([from_tonic(t) for t in transform.transforms])
    cls = _BY_NAME.get(type(transform).__name__)
    if cls is None or _tonic_parent(cls) is not type(transform):
        return transform
    return cls(**{f.name: getattr(transform, f.name) for f in fields(transform)})
