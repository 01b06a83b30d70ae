"""What the benchmarks share: the built library's path and the timer."""
import os
import statistics
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BUILD = Path(os.environ.get("SNN_BUILD_DIR", ROOT / "build"))
LIBRARY = BUILD / "libsnn.so"
# torch.ops.snn_bench: in-process timings of the C++ API (bench/bench_ops.cpp).
BENCH_LIBRARY = BUILD / "libsnn_bench.so"


def timings(fn, repeats):
    """Median, min and max wall time of `repeats` calls of fn, after one warm-up call."""
    fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), min(times), max(times)


def timeit(fn, repeats):
    """Median wall time of `repeats` calls of fn, after one warm-up call."""
    return timings(fn, repeats)[0]


def spoken_digits_dir():
    """Where the snn CLI caches the embedded spoken digits (SNN_CACHE_DIR, else ~/.cache/snn.cpp)."""
    base = os.environ.get("SNN_CACHE_DIR") or str(Path.home() / ".cache" / "snn.cpp")
    return Path(base) / "data" / "spoken-digits"
