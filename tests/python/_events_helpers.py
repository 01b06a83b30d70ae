"""Helpers of the event-data tests: random events in the structured dtypes Tonic's datasets
give, and comparisons of structured arrays."""
import numpy as np

# The dtypes of Tonic's datasets (tonic/datasets/*.py) and Tonic's default (tonic.io).
NMNIST_DTYPE = np.dtype([("x", int), ("y", int), ("t", int), ("p", int)])
GESTURE_DTYPE = np.dtype([("x", np.int16), ("y", np.int16), ("p", bool), ("t", np.int64)])
EVENTS_STRUCT = np.dtype([("x", np.int16), ("y", np.int16), ("t", np.int64), ("p", bool)])
NERDD_DTYPE = np.dtype([("t", np.int32), ("x", np.int16), ("y", np.int16), ("p", bool)])
HSD_DTYPE = np.dtype([("t", int), ("x", int), ("p", int)])

# (id, sensor (W, H, P), dtype): image sensors of each dataset dtype, one polarity, and audio.
CONFIGS = [
    ("nmnist", (34, 34, 2), NMNIST_DTYPE),
    ("gesture", (48, 40, 2), GESTURE_DTYPE),
    ("struct17x5", (17, 5, 2), EVENTS_STRUCT),
    ("nerdd", (40, 30, 2), NERDD_DTYPE),
    ("mono", (40, 30, 1), NMNIST_DTYPE),
    ("shd", (700, 1, 1), HSD_DTYPE),
]
IMAGE_CONFIGS = [c for c in CONFIGS if "y" in c[2].names]


def random_events(seed, sensor, dtype, n=2000, duration=200_000, t0=0):
    """Sorted random events in `dtype`. One polarity: p = 0 for images, 1 for audio (as SHD)."""
    rng = np.random.default_rng(seed)
    w, h, npol = sensor
    ev = np.zeros(n, dtype)
    ev["t"] = np.sort(rng.integers(t0, t0 + duration, n))
    ev["x"] = rng.integers(0, w, n)
    if "y" in dtype.names:
        ev["y"] = rng.integers(0, h, n)
    ev["p"] = rng.integers(0, npol, n) if npol > 1 else (0 if "y" in dtype.names else 1)
    return ev


def with_y(ev):
    """Audio events with a y = 0 field (int64), for Tonic functions that need one."""
    dtype = np.dtype(ev.dtype.descr + [("y", "<i8")])
    out = np.zeros(len(ev), dtype)
    for name in ev.dtype.names:
        out[name] = ev[name]
    return out


def without_y(ev, dtype):
    """The inverse of with_y: the fields of `dtype` only."""
    out = np.zeros(len(ev), dtype)
    for name in dtype.names:
        out[name] = ev[name]
    return out


def assert_events_equal(ours, theirs, what=""):
    assert isinstance(ours, np.ndarray), what
    assert ours.dtype == theirs.dtype, f"{what}: dtype {ours.dtype} != {theirs.dtype}"
    assert ours.shape == theirs.shape, f"{what}: shape {ours.shape} != {theirs.shape}"
    for name in theirs.dtype.names:
        np.testing.assert_array_equal(ours[name], theirs[name], err_msg=f"{what}: field {name}")


def event_keys(ev):
    """One integer per event (t, x, y, p), for set operations on events."""
    y = ev["y"].astype(np.int64) if "y" in ev.dtype.names else 0
    return ((ev["t"].astype(np.int64) * 2048 + ev["x"].astype(np.int64)) * 2048 + y) * 4 + \
        ev["p"].astype(np.int64)


def is_subsequence(part, whole):
    """Whether `part`'s events are some of `whole`'s, in whole's order (keys unique)."""
    kp, kw = event_keys(part), event_keys(whole)
    return bool(np.array_equal(kw[np.isin(kw, kp)], kp))
