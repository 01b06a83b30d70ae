"""The Python package's tests (tests/python): they import snncpp as installed.

CTest builds the wheel, installs it into a scratch environment and runs these tests there
with SNNCPP_REQUIRE_INSTALLED=1, so that a module or file missing from the wheel fails them.
While working on the package, `PYTHONPATH=python SNNCPP_LIBRARY=build/libsnn.so pytest
tests/python` runs them on the source tree.
"""
import os
from pathlib import Path

import pytest

import snncpp

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT.parent / "shared" / "fixtures"

# The tolerance Sinabs' own GPU backend (EXODUS) is held to, as in tests/parity.
ATOL, RTOL = 1e-5, 1e-4

if os.environ.get("SNNCPP_REQUIRE_INSTALLED", "") == "1":
    _file = Path(snncpp.__file__).resolve()
    if ROOT / "python" in _file.parents or os.environ.get("SNNCPP_LIBRARY"):
        raise RuntimeError(f"tests/python must run against the installed snncpp, but it was "
                           f"imported from {_file} (SNNCPP_LIBRARY={os.environ.get('SNNCPP_LIBRARY')})")


def fixtures_required():
    flag = lambda name: os.environ.get(name, "").lower() in ("1", "true", "yes")
    return flag("CI") or flag("SNN_REQUIRE_FIXTURES")


@pytest.fixture(scope="session")
def fixtures():
    """The shared real recordings (../shared/fixtures); in CI a missing folder fails."""
    if not FIXTURES.is_dir():
        message = f"{FIXTURES} not found: the shared fixtures are not available here"
        if fixtures_required():
            pytest.fail(message + " (fixtures are required: CI / SNN_REQUIRE_FIXTURES is set)")
        pytest.skip(message)
    return FIXTURES
