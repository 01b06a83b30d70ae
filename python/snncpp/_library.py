"""Loads libsnn.so, the library that registers snn.cpp's ops with torch (torch.ops.snn).

The installed package carries its own copy beside this file. SNNCPP_LIBRARY names another
one (a build tree's), for working on the package without installing it.
"""
from __future__ import annotations

import os
from pathlib import Path

import torch

_loaded: Path | None = None


def _check_torch() -> None:
    try:
        from . import _build
    except ImportError:  # a source tree: no build facts to check
        return
    running = torch.__version__.split("+")[0]
    built = _build.torch_version.split("+")[0]
    if running != built:
        raise ImportError(
            f"snncpp {_build.version} was built against torch {_build.torch_version}, but torch "
            f"{torch.__version__} is installed: its C++ ABI differs. Install torch=={built}, or "
            f"rebuild snncpp (pip install --force-reinstall snncpp) against this torch.")


def library_path() -> Path:
    """The libsnn.so this process loads (SNNCPP_LIBRARY, else the package's own)."""
    override = os.environ.get("SNNCPP_LIBRARY")
    if override:
        return Path(override)
    return Path(__file__).with_name("libsnn.so")


def load() -> Path:
    """Loads libsnn.so once; returns its path."""
    global _loaded
    if _loaded is not None:
        return _loaded
    path = library_path()
    if not os.environ.get("SNNCPP_LIBRARY"):
        _check_torch()
    if not path.is_file():
        raise ImportError(f"snncpp: {path} not found (a broken installation: reinstall snncpp; "
                          f"or set SNNCPP_LIBRARY to a built libsnn.so)")
    torch.ops.load_library(str(path))
    _loaded = path
    return path
