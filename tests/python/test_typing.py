"""The package is typed (it ships py.typed): every public function and method defined in
snncpp has annotations for each parameter and its return value, so that IDEs and type
checkers see its signature."""
import importlib
import inspect
from pathlib import Path

import pytest

import snncpp

MODULES = ["snncpp", "snncpp.ops", "snncpp._accelerate", "snncpp._dropin", "snncpp._library",
           "snncpp.sinabs", "snncpp.snntorch", "snncpp.transforms", "snncpp.io",
           "snncpp.datasets", "snncpp.collation"]


def public_callables(module):
    for name, obj in vars(module).items():
        if name.startswith("_") or getattr(obj, "__module__", None) != module.__name__:
            continue
        if inspect.isfunction(obj):
            yield f"{module.__name__}.{name}", obj
        elif inspect.isclass(obj):
            # Its own methods and those it inherits from snncpp's private bases.
            members = {}
            for klass in reversed(obj.__mro__):
                if klass.__module__.startswith("snncpp"):
                    members.update(vars(klass))
            for attr, member in members.items():
                if attr.startswith("_") and attr not in ("__init__", "__call__"):
                    continue
                fn = member.__func__ if isinstance(member, (classmethod, staticmethod)) else member
                if inspect.isfunction(fn) and fn.__module__.startswith("snncpp"):
                    yield f"{module.__name__}.{name}.{attr}", fn


def test_py_typed_is_installed():
    assert (Path(snncpp.__file__).parent / "py.typed").is_file()


@pytest.mark.parametrize("name", MODULES)
def test_every_public_function_is_annotated(name):
    module = importlib.import_module(name)
    missing = []
    for qualname, fn in public_callables(module):
        sig = inspect.signature(fn)
        for p in sig.parameters.values():
            if p.name in ("self", "cls"):
                continue
            if p.annotation is inspect.Parameter.empty:
                missing.append(f"{qualname}({p.name})")
        if sig.return_annotation is inspect.Signature.empty and fn.__name__ != "__init__":
            missing.append(f"{qualname} -> ?")
    assert not missing, f"not annotated: {missing}"
