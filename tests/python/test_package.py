"""The installed package itself: its library, its version, and the check of the torch it
was built against."""
import re
from pathlib import Path

import pytest
import torch

import snncpp
from snncpp import _library
from conftest import ROOT


def test_the_version_is_the_projects():
    want = re.search(r'^version = "([^"]+)"', (ROOT / "pyproject.toml").read_text(), re.M).group(1)
    assert snncpp.__version__.split("+")[0] == want


def test_the_library_is_the_packages_own():
    path = snncpp.library_path()
    assert path.is_file()
    if not _library.os.environ.get("SNNCPP_LIBRARY"):
        assert path.parent == Path(snncpp.__file__).parent
    assert hasattr(torch.ops.snn, "neuron")


def test_another_torch_is_refused_by_name(monkeypatch):
    build = pytest.importorskip("snncpp._build")  # only the installed package records it
    monkeypatch.setattr(torch, "__version__", "1.0.0")
    with pytest.raises(ImportError, match=rf"built against torch {re.escape(build.torch_version)}"
                                          r".*torch 1\.0\.0 is installed"):
        _library._check_torch()
