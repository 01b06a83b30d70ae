"""`snn export`, `snn data inspect` and `snn eval` with NIR graphs: a run trained by `snn
train` (the main job's network: synaptic delays, LIF) exports to a file that nir.read
loads, re-imports with the same test accuracy and loss, and lists its graph; the errors
name what was wrong."""
import re

import nir
import pytest

from conftest import FIXTURES, missing_fixture
from test_cli_train import run, small  # noqa: F401  (the small spoken-digits configuration)


@pytest.fixture(scope="module")
def trained(cli, small, tmp_path_factory):  # noqa: F811
    d = tmp_path_factory.mktemp("nir_run")
    proc = run(cli, "train", "--config", small, "--epochs", 4, "--neuron", "lif", "--run-dir",
               d / "run")
    assert proc.returncode == 0, proc.stderr
    return d / "run"


def accuracy_and_loss(stdout):
    m = re.search(r"test accuracy ([0-9.]+) \((\d+) samples\), loss ([0-9.]+)", stdout)
    assert m, stdout
    return m.groups()


def test_exported_run_reimports_with_the_same_accuracy(cli, trained, tmp_path):
    out = tmp_path / "model.nir"
    proc = run(cli, "export", trained, "--format", "nir", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert "convention sinabs" in proc.stdout
    graph = nir.read(str(out))
    types = {type(n).__name__ for n in graph.nodes.values()}
    assert {"Input", "Delay", "Affine", "Linear", "LIF", "Output"} <= types
    names = [n.decode() if isinstance(n, bytes) else str(n) for n in graph.metadata["snn_classes"]]
    assert names == (trained / "classes.txt").read_text().splitlines()
    native = run(cli, "eval", trained)
    assert native.returncode == 0, native.stderr
    imported = run(cli, "eval", out, "--run", trained)
    assert imported.returncode == 0, imported.stderr
    assert "NIR graph" in imported.stdout
    assert accuracy_and_loss(imported.stdout) == accuracy_and_loss(native.stdout)


def test_export_of_a_checkpoint_file_and_inspect(cli, trained, tmp_path):
    out = tmp_path / "m.nir"
    assert run(cli, "export", trained / "checkpoint.snn", "-o", out).returncode == 0
    proc = run(cli, "data", "inspect", out)
    assert proc.returncode == 0, proc.stderr
    assert "format:    NIR graph (version 1.0.8)" in proc.stdout
    assert re.search(r"^0\.tap1: Delay$", proc.stdout, re.M)
    assert re.search(r"^\s+delay: Float\[140\] all 4$", proc.stdout, re.M)
    assert re.search(r"^\s+input -> 0\.tap0$", proc.stdout, re.M)


def test_inspect_lists_a_fixture_graph(cli):
    path = FIXTURES / "nir" / "cnn_sinabs.nir"
    if not path.exists():
        missing_fixture(f"{path} not found")
    proc = run(cli, "data", "inspect", path)
    assert proc.returncode == 0, proc.stderr
    assert "format:    NIR graph (version 0.2.0)" in proc.stdout
    assert "nodes:     15" in proc.stdout
    assert re.search(r"^0: Conv2d\n(\s+.*\n)*?\s+weight: Float\[16, 2, 5, 5\]", proc.stdout, re.M)
    assert re.search(r"^\s+shape: Long\[3\] = \[2, 34, 34\]$", proc.stdout, re.M)
    assert "edges (14):" in proc.stdout


def test_nir_errors_are_named(cli, trained, tmp_path):
    bad = tmp_path / "bad.nir"
    bad.write_bytes(b"not an HDF5 file at all")
    proc = run(cli, "data", "inspect", bad)
    assert proc.returncode == 2 and str(bad) in proc.stderr and "HDF5" in proc.stderr
    proc = run(cli, "eval", bad, "--run", trained)
    assert proc.returncode == 2 and str(bad) in proc.stderr
    out = tmp_path / "m.nir"
    assert run(cli, "export", trained, "-o", out).returncode == 0
    proc = run(cli, "eval", out)
    assert proc.returncode == 2 and "needs data" in proc.stderr
    proc = run(cli, "eval", trained, "--convention", "norse")
    assert proc.returncode == 2 and "apply to a NIR model" in proc.stderr
    proc = run(cli, "export", tmp_path, "-o", out)
    assert proc.returncode == 2 and "is not a run directory" in proc.stderr
    proc = run(cli, "export", trained, "--format", "onnx", "-o", out)
    assert proc.returncode == 2


@pytest.mark.parametrize("neuron", ["leaky", "iaf"])
def test_other_neurons_reimport_with_the_same_accuracy(cli, small, tmp_path, neuron):  # noqa: F811
    """snnTorch's Leaky (exported as snnTorch writes it, its reset in the metadata) and IAF."""
    assert run(cli, "train", "--config", small, "--epochs", 2, "--neuron", neuron, "--run-dir",
               tmp_path / "run").returncode == 0
    out = tmp_path / "m.nir"
    proc = run(cli, "export", tmp_path / "run", "-o", out)
    assert proc.returncode == 0, proc.stderr
    assert ("convention snntorch" if neuron == "leaky" else "convention sinabs") in proc.stdout
    native = run(cli, "eval", tmp_path / "run")
    imported = run(cli, "eval", out, "--run", tmp_path / "run")
    assert imported.returncode == 0, imported.stderr
    assert accuracy_and_loss(imported.stdout) == accuracy_and_loss(native.stdout)


def test_alif_has_no_nir_form(cli, small, tmp_path):  # noqa: F811
    assert run(cli, "train", "--config", small, "--epochs", 1, "--neuron", "alif", "--run-dir",
               tmp_path / "run").returncode == 0
    proc = run(cli, "export", tmp_path / "run", "-o", tmp_path / "m.nir")
    assert proc.returncode == 2
    assert "module '2' (snn::ALIF(" in proc.stderr, proc.stderr
    assert "has no NIR form" in proc.stderr
    assert not (tmp_path / "m.nir").exists()
