"""The README's "From Python" table names what the package holds: every drop-in, transform,
reader and dataset, and nothing it does not hold."""
import re

import pytest

import snncpp
from conftest import ROOT


def table_rows():
    text = (ROOT / "README.md").read_text()
    section = text.split("## From Python", 1)[1].split("\n## ", 1)[0]
    rows = {}
    for line in section.splitlines():
        m = re.match(r"\| `(snncpp\.\w+)` \| (.*) \|$", line)
        if m:
            rows[m.group(1)] = m.group(2)
    return rows


def names_in(row):
    """Every backticked name of the row, with `A/B/C`-style groups expanded (RandomFlipLR/UD)."""
    names = set()
    for token in re.findall(r"`([A-Za-z_][\w/]*)(?:\([^`]*\))?`", row):
        head, *rest = token.split("/")
        names.add(head)
        stem = re.match(r"(.*?)(?:[A-Z][a-z]*|[A-Z]+)$", head).group(1) if rest else head
        names.update(stem + r for r in rest)
    return names


@pytest.mark.parametrize("module,exported", [
    ("snncpp.sinabs", lambda m: {c.__name__ for c in m.DROP_INS.values()}),
    ("snncpp.snntorch", lambda m: {c.__name__ for c in m.DROP_INS.values()}),
    ("snncpp.transforms", lambda m: {n for n in m.__all__ if hasattr(getattr(m, n), "spec")} | {"Compose"}),
    ("snncpp.io", lambda m: {n for n in m.__all__ if n.startswith("read_")}),
    ("snncpp.datasets", lambda m: set(m.__all__)),
    ("snncpp.collation", lambda m: set(m.__all__)),
])
def test_the_readme_table_lists_what_each_module_holds(module, exported):
    import importlib
    m = importlib.import_module(module)
    row = table_rows()[module]
    listed = names_in(row)
    want = exported(m)
    assert want <= listed, f"{module}: the README does not list {sorted(want - listed)}"
    capitalised = {n for n in listed if n[0].isupper() or n.startswith("read_")}
    missing = {n for n in capitalised if not hasattr(m, n)}
    assert not missing, f"{module}: the README lists {sorted(missing)}, which it does not have"


def test_the_table_covers_every_public_module():
    assert set(table_rows()) == {f"snncpp.{n}" for n in snncpp.__all__
                                 if n not in ("__version__", "accelerate", "AccelerateReport",
                                              "library_path")}
