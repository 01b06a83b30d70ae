"""Helpers of the event-transform parity tests: random events as the ops take them, and the
conversions to and from Tonic's structured arrays."""
import numpy as np
import torch


def random_events(seed, sensor, has_y, n=3000, duration=200_000, t0=0):
    """Sorted random events as int64 [N, 4] (t, x, y, p); one polarity value with P = 1."""
    rng = np.random.default_rng(seed)
    w, h, p = sensor
    t = np.sort(rng.integers(t0, t0 + duration, n))
    x = rng.integers(0, w, n)
    y = rng.integers(0, h, n) if has_y else np.zeros(n, np.int64)
    pol = rng.integers(0, p, n) if p > 1 else np.full(n, 0 if has_y else 1)
    return torch.from_numpy(np.stack([t, x, y, pol], 1).astype(np.int64))


def to_tonic(ev, has_y=True):
    """A Tonic structured array from an [N, 4] tensor (audio: fields x, t, p)."""
    a = ev.numpy()
    names = ["x", "y", "t", "p"] if has_y else ["x", "t", "p"]
    s = np.zeros(len(a), np.dtype([(k, "<i8") for k in names]))
    s["t"], s["x"], s["p"] = a[:, 0], a[:, 1], a[:, 3]
    if has_y:
        s["y"] = a[:, 2]
    return s


def from_tonic(s):
    """An [N, 4] int64 tensor from a Tonic structured array (y = 0 without a y field)."""
    y = s["y"] if "y" in s.dtype.names else np.zeros(len(s))
    return torch.from_numpy(np.stack([s["t"], s["x"], y, s["p"]], 1).astype(np.int64).reshape(-1, 4))


def ours(snn_ops, ev, sensor, has_y, spec, seed=0):
    """snn.cpp's transform `spec` of the events: (events, new sensor)."""
    out, new_sensor = snn_ops.events_transform(ev, list(sensor), has_y, spec, seed)
    return out, tuple(new_sensor)


def assert_events_equal(a, b):
    assert a.shape == b.shape, f"{a.shape} != {b.shape}"
    assert torch.equal(a, b), f"first difference at row {(a != b).any(1).nonzero()[0].item()}"


def call_spec(name, kw):
    """The text form `Name(key=value, ...)` of keyword arguments (booleans as true / false)."""
    def fmt(v):
        return "true" if v is True else "false" if v is False else repr(v)
    return name + "(" + ", ".join(f"{k}={fmt(v)}" for k, v in kw.items()) + ")"
