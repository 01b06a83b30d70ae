"""Shared fixtures of the parity suite: where the built library and driver are."""
import os
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[2]
BUILD = Path(os.environ.get("SNN_BUILD_DIR", ROOT / "build"))
LIBRARY = BUILD / "libsnn.so"
DRIVER = BUILD / "tests" / "snn_parity_driver"

# The tolerance Sinabs' own GPU backend (EXODUS) is held to.
ATOL, RTOL = 1e-5, 1e-4


@pytest.fixture(scope="session")
def snn_ops():
    """torch.ops.snn, loaded from the built libsnn.so."""
    if not LIBRARY.exists():
        pytest.fail(f"{LIBRARY} not found: build first (scripts/build.sh) or set SNN_BUILD_DIR")
    torch.ops.load_library(str(LIBRARY))
    return torch.ops.snn


@pytest.fixture(scope="session")
def driver():
    if not DRIVER.exists():
        pytest.fail(f"{DRIVER} not found: build first (scripts/build.sh) or set SNN_BUILD_DIR")
    return DRIVER

CLI = BUILD / "snn"
FIXTURES = ROOT.parent / "shared" / "fixtures"


def fixtures_required():
    """In CI (CI=true) or with SNN_REQUIRE_FIXTURES=1, a missing fixture fails the test."""
    flag = lambda name: os.environ.get(name, "").lower() in ("1", "true", "yes")
    return flag("CI") or flag("SNN_REQUIRE_FIXTURES")


def missing_fixture(message):
    """Skips the test for want of a shared fixture, or fails it where fixtures are required."""
    if fixtures_required():
        pytest.fail(f"{message} (fixtures are required: CI / SNN_REQUIRE_FIXTURES is set)")
    pytest.skip(message)


@pytest.fixture(scope="session")
def cli():
    if not CLI.exists():
        pytest.fail(f"{CLI} not found: build first (scripts/build.sh) or set SNN_BUILD_DIR")
    return CLI


@pytest.fixture(scope="session")
def fixtures():
    """The shared real recordings; tests that need them skip when the folder is absent."""
    if not FIXTURES.is_dir():
        missing_fixture(f"{FIXTURES} not found: the shared fixtures are not available here")
    return FIXTURES


@pytest.fixture(scope="session")
def nmnist(fixtures):
    """The N-MNIST recording as Tonic reads it: (int64 [N, 4] events, sensor size)."""
    import tonic
    from event_helpers import from_tonic
    path = fixtures / "events" / "sample_nmnist.bin"
    if not path.exists():
        missing_fixture(f"{path} not found")
    s = tonic.io.read_mnist_file(str(path), dtype=tonic.datasets.NMNIST.dtype)
    return from_tonic(s), (34, 34, 2)


@pytest.fixture(scope="session")
def small_digits(cli, tmp_path_factory):
    """A small embedded spoken-digits set (4 voices, 1 rendition) made by `snn data
    synth-digits`: the folder of spoken_digits_train.h5 and spoken_digits_test.h5."""
    import subprocess
    out = tmp_path_factory.mktemp("digits")
    proc = subprocess.run([str(cli), "data", "synth-digits", "--out", str(out), "--voices", "4",
                           "--renditions", "1", "--flite-renditions", "1"], capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr
    assert "(held-out voices)" in proc.stdout
    return out
