"""NIR import and export (snn::nir) against the libraries that read and write NIR: Norse,
snnTorch and Sinabs, each through its own importer (and exporter), on the shared fixture
files and on seeded random graphs of every node type each library supports.

snn.cpp runs a NIR file with one library's discretisation (its `convention`); the same file
imported by that library must give the same spikes (exactly) and states (within the suite's
tolerance). Where a library's importer has a plain bug, snn.cpp does the correct thing and
the test checks both sides (see each test)."""
import warnings

import nir
import numpy as np
import pytest
import torch

from conftest import ATOL, FIXTURES, RTOL, missing_fixture
from test_sinabs_structure import run

warnings.filterwarnings("ignore", category=DeprecationWarning)
warnings.filterwarnings("ignore", category=UserWarning)


def run_nir(driver, tmp_path, path, convention, x, dt=None, calls=1, export_path=None):
    case = {"layer": "nir", "path": str(path), "convention": convention, "input": x,
            "calls": calls, "dt": dt, "export_path": None if export_path is None else str(export_path)}
    return run(driver, case, tmp_path)


def close(actual, expected, what):
    if actual.shape != expected.shape and actual.numel() == expected.numel():
        expected = expected.reshape(actual.shape)  # Norse's Flatten from dimension 0 (batch 1)
    atol = ATOL * max(1.0, float(expected.abs().max())) if expected.numel() else ATOL
    torch.testing.assert_close(actual.float(), expected.float(), atol=atol, rtol=RTOL,
                               msg=lambda m: f"{what}: {m}")


def fixture(name):
    path = FIXTURES / "nir" / name
    if not path.exists():
        missing_fixture(f"{path} not found")
    return path


def f32(rng, *shape, low=0.0, high=1.0):
    return rng.uniform(low, high, size=shape).astype(np.float32)


def write(graph, path):
    nir.write(str(path), graph, compression=None)
    return path


# ---- the libraries' own runs -------------------------------------------------------------


def norse_run(graph, x, dt):
    """Norse's from_nir, one step per call (its convention), states of the last step."""
    import norse.torch as nt
    model = nt.from_nir(graph, dt=dt)
    state, outs = None, []
    for t in range(x.shape[1]):
        y, state = model(x[:, t], state)
        outs.append(y.reshape(x.shape[0], *y.shape[1:]) if y.shape[0] == x.shape[0]
                    else y.reshape(x.shape[0], -1))  # a Flatten from dimension 0 (batch 1)

    def unpack(s):
        if hasattr(s, "v"):
            return {"v": s.v}
        if isinstance(s, tuple) and len(s) == 1:
            return unpack(s[0])
        if isinstance(s, tuple) and len(s) == 2 and hasattr(s[0], "v"):
            return {"i": s[0].v, "v": s[1].v}  # Norse's NIR CubaLIF: (synapse, LIF)
        return None
    states = {name: unpack(s) for name, s in state.state.items() if unpack(s) is not None}
    return torch.stack(outs, 1).detach(), states


def snntorch_run(graph, x):
    """snnTorch's import_from_nir, one step per call; the neurons' hidden states."""
    from snntorch.import_nir import import_from_nir
    model = import_from_nir(graph)
    state, outs = None, []
    for t in range(x.shape[1]):
        y, state = model(x[:, t], state)
        outs.append(y[0] if isinstance(y, tuple) else y)  # its IF returns (spk, mem)
    states = {}
    for name, m in model.named_modules():
        if hasattr(m, "mem") and isinstance(m.mem, torch.Tensor):
            entry = {"mem": m.mem.detach()}
            if hasattr(m, "syn") and isinstance(m.syn, torch.Tensor):
                entry["syn"] = m.syn.detach()
            states[name] = entry
    return torch.stack(outs, 1).detach(), states


def sinabs_run(graph, x):
    """Sinabs' from_nir on [B·T, ...] (its Squeeze layers), states v_mem."""
    from sinabs.nir import from_nir
    B, T = x.shape[:2]
    model = from_nir(graph, batch_size=B)
    y, _ = model(x.reshape(B * T, *x.shape[2:]))
    states = {name.replace("_", "."): {"v_mem": m.v_mem.detach()}
              for name, m in model.named_children() if hasattr(m, "v_mem")}
    return y.reshape(B, T, *y.shape[1:]).detach(), states


def compare(ours, out, states, names):
    """`names`: (their node / module name, our node name, {their state: our state})."""
    assert torch.equal(ours["output"], out), (
        f"outputs differ in {int((ours['output'] != out).sum())} of {out.numel()} values "
        f"({float(out.abs().sum())} against {float(ours['output'].abs().sum())})")
    for theirs, node, mapping in names:
        for a, b in mapping.items():
            close(ours["states"][node][b], states[theirs][a], f"{node}.{b}")


# ---- the fixtures ------------------------------------------------------------------------


def test_norse_fixture_runs_as_norse_runs_it(driver, tmp_path):
    """lif_norse.nir (Affine → LIF, written by Norse), at Norse's dt 1e-3, in 3 calls."""
    path = fixture("lif_norse.nir")
    torch.manual_seed(0)
    x = torch.rand(2, 30, 1) * 0.5
    out, states = norse_run(nir.read(str(path)), x, 1e-3)
    ours = run_nir(driver, tmp_path, path, "norse", x, calls=3)
    assert out.sum() > 0
    compare(ours, out, states, [("1", "1", {"v": "v"})])


def test_sinabs_fixture_runs_as_sinabs_runs_it(driver, tmp_path):
    """cnn_sinabs.nir (Conv2d, IF, SumPool2d, Flatten, Affine; NIR 0.2.0, written by Sinabs)."""
    path = fixture("cnn_sinabs.nir")
    torch.manual_seed(1)
    x = (torch.rand(2, 12, 2, 34, 34) < 0.15).float()
    out, states = sinabs_run(nir.read(str(path)), x)
    ours = run_nir(driver, tmp_path, path, "sinabs", x)
    assert out.sum() > 0
    compare(ours, out, states, [(n, n, {"v_mem": "v_mem"}) for n in ["1", "3", "6", "10", "12"]])


def test_snntorch_runs_the_norse_fixture_as_snntorch_does(driver, tmp_path):
    """The same file under snnTorch's convention (dt 1e-4, threshold scaled by r·dt/τ)."""
    path = fixture("lif_norse.nir")
    torch.manual_seed(2)
    x = torch.rand(2, 30, 1) * 0.5
    out, states = snntorch_run(nir.read(str(path)), x)
    ours = run_nir(driver, tmp_path, path, "snntorch", x)
    assert out.sum() > 0
    compare(ours, out, states, [("1", "1", {"mem": "mem"})])


# ---- random graphs of every node type ----------------------------------------------------


def norse_graph(rng, n_in=6, n=10, n_out=4):
    """Affine → LIF → Linear → CubaLIF → Affine → IF, NIR 1.0.8 with v_leak ≠ 0 (Norse
    ignores r of LIF and IF and v_reset: those stay 1 and 0)."""
    return nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([n_in])),
        "fc1": nir.Affine(weight=f32(rng, n, n_in, low=-1, high=2), bias=f32(rng, n, low=-.1, high=.1)),
        "lif": nir.LIF(tau=f32(rng, n, low=2e-3, high=2e-2), r=np.ones(n, np.float32),
                       v_leak=f32(rng, n, low=-.1, high=.1), v_threshold=f32(rng, n, low=.05, high=.3)),
        "fc2": nir.Linear(weight=f32(rng, n, n, low=-.5, high=1.5)),
        "cuba": nir.CubaLIF(tau_mem=f32(rng, n, low=2e-3, high=2e-2), tau_syn=f32(rng, n, low=1e-3, high=1e-2),
                            r=f32(rng, n, low=.5, high=2), v_leak=f32(rng, n, low=-.05, high=.05),
                            v_threshold=f32(rng, n, low=.02, high=.2), w_in=f32(rng, n, low=.5, high=2)),
        "fc3": nir.Affine(weight=f32(rng, n_out, n, low=-.5, high=1), bias=np.zeros(n_out, np.float32)),
        "if": nir.IF(r=np.ones(n_out, np.float32), v_threshold=f32(rng, n_out, low=.5, high=1.5)),
        "output": nir.Output(output_type=np.array([n_out])),
    }, edges=[("input", "fc1"), ("fc1", "lif"), ("lif", "fc2"), ("fc2", "cuba"), ("cuba", "fc3"),
              ("fc3", "if"), ("if", "output")])


def test_random_graph_runs_as_norse_runs_it(driver, tmp_path):
    rng = np.random.default_rng(3)
    path = write(norse_graph(rng), tmp_path / "g.nir")
    torch.manual_seed(3)
    x = torch.rand(3, 40, 6) * 2
    for dt in (1e-3, 5e-4):
        out, states = norse_run(nir.read(str(path)), x, dt)
        ours = run_nir(driver, tmp_path, path, "norse", x, dt=dt, calls=2)
        assert out.sum() > 0
        compare(ours, out, states, [("lif", "lif", {"v": "v"}), ("cuba", "cuba", {"v": "v", "i": "i"}),
                                    ("if", "if", {"v": "v"})])


def test_norse_conv_graph(driver, tmp_path):
    """Conv2d → IF → SumPool2d → Flatten → Affine → LIF, batch 1 (Norse's Flatten takes
    start_dim as it is, counting the batch: with batch 1 both readings agree)."""
    rng = np.random.default_rng(4)
    g = nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([2, 8, 8])),
        "conv": nir.Conv2d(input_shape=(8, 8), weight=f32(rng, 4, 2, 3, 3, low=-.5, high=1),
                           stride=1, padding=1, dilation=1, groups=1, bias=f32(rng, 4, low=0, high=.1)),
        "if": nir.IF(r=np.ones((4, 8, 8), np.float32), v_threshold=np.ones((4, 8, 8), np.float32)),
        "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "flat": nir.Flatten(input_type={"input": np.array([4, 4, 4])}, start_dim=0, end_dim=-1),
        "fc": nir.Affine(weight=f32(rng, 5, 64, low=-.2, high=.4), bias=np.zeros(5, np.float32)),
        "lif": nir.LIF(tau=np.full(5, 5e-3, np.float32), r=np.ones(5, np.float32),
                       v_leak=np.zeros(5, np.float32), v_threshold=np.full(5, .3, np.float32)),
        "output": nir.Output(output_type=np.array([5])),
    }, edges=[("input", "conv"), ("conv", "if"), ("if", "pool"), ("pool", "flat"), ("flat", "fc"),
              ("fc", "lif"), ("lif", "output")], type_check=False)
    path = write(g, tmp_path / "conv.nir")
    torch.manual_seed(4)
    x = (torch.rand(1, 20, 2, 8, 8) < 0.3).float()
    out, states = norse_run(nir.read(str(path), type_check=False), x, 1e-3)
    ours = run_nir(driver, tmp_path, path, "norse", x)
    assert out.sum() > 0
    compare(ours, out, states, [("if", "if", {"v": "v"}), ("lif", "lif", {"v": "v"})])


def snntorch_graph(rng, n_in=5, n=8, n_out=3, dt=1e-4):
    """Affine → LIF → Linear → CubaLIF (r = τ_mem/dt, as snnTorch requires) → Affine → LIF."""
    # snnTorch folds r·dt/τ (LIF) and w_in·dt/τ_syn (CubaLIF) into one threshold per layer
    # (the first neuron's, for all): one time constant per layer keeps that exact.
    tau_mem, tau_syn, tau1 = (np.full(n, 1.3e-3, np.float32), np.full(n, 6e-4, np.float32),
                              np.full(n, 9e-4, np.float32))
    return nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([n_in])),
        "fc1": nir.Affine(weight=f32(rng, n, n_in, low=-1, high=2), bias=f32(rng, n, low=-.1, high=.1)),
        "lif1": nir.LIF(tau=tau1, r=(tau1 / np.float32(dt) * np.float32(.5)).astype(np.float32),
                        v_leak=np.zeros(n, np.float32), v_threshold=np.full(n, 1.0, np.float32)),
        "fc2": nir.Linear(weight=f32(rng, n, n, low=-.5, high=1.5)),
        "cuba": nir.CubaLIF(tau_mem=tau_mem, tau_syn=tau_syn,
                            r=(tau_mem / np.float32(dt)).astype(np.float32), v_leak=np.zeros(n, np.float32),
                            v_threshold=np.full(n, 1.0, np.float32),
                            w_in=(tau_syn / np.float32(dt) * np.float32(.4)).astype(np.float32)),
        "fc3": nir.Affine(weight=f32(rng, n_out, n, low=-.5, high=1), bias=np.zeros(n_out, np.float32)),
        "lif2": nir.LIF(tau=np.full(n_out, 1e-3, np.float32), r=np.full(n_out, 10.0, np.float32),
                        v_leak=np.zeros(n_out, np.float32), v_threshold=np.full(n_out, .5, np.float32)),
        "output": nir.Output(output_type=np.array([n_out])),
    }, edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "fc2"), ("fc2", "cuba"), ("cuba", "fc3"),
              ("fc3", "lif2"), ("lif2", "output")])


def test_random_graph_runs_as_snntorch_runs_it(driver, tmp_path):
    rng = np.random.default_rng(5)
    g = snntorch_graph(rng)
    path = write(g, tmp_path / "g.nir")
    torch.manual_seed(5)
    x = torch.rand(2, 40, 5) * 2
    out, states = snntorch_run(g, x)
    ours = run_nir(driver, tmp_path, path, "snntorch", x, calls=4)
    assert out.sum() > 0
    compare(ours, out, states, [("lif1", "lif1", {"mem": "mem"}), ("cuba", "cuba", {"mem": "mem", "syn": "syn"}),
                                ("lif2", "lif2", {"mem": "mem"})])


def test_snntorch_if_is_an_integrator_here_and_leaks_in_snntorch(driver, tmp_path):
    """snnTorch's importer turns IF into Leaky(beta=0.9): a leak NIR's IF does not have.
    snn.cpp integrates (beta = 1); both sides checked against snnTorch's Leaky."""
    import snntorch as snn
    rng = np.random.default_rng(6)
    n = 6
    g = nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([n])),
        "if": nir.IF(r=np.ones(n, np.float32), v_threshold=np.full(n, 1.5, np.float32)),
        "output": nir.Output(output_type=np.array([n]))},
        edges=[("input", "if"), ("if", "output")])
    path = write(g, tmp_path / "if.nir")
    torch.manual_seed(6)
    x = torch.rand(2, 30, n) * 0.6
    theirs, _ = snntorch_run(g, x)

    def leaky(beta):
        m = snn.Leaky(beta=beta, threshold=torch.tensor(g.nodes["if"].v_threshold), reset_delay=False,
                      init_hidden=True)
        return torch.stack([m(x[:, t]) for t in range(x.shape[1])], 1).detach()
    ours = run_nir(driver, tmp_path, path, "snntorch", x)
    assert torch.equal(theirs, leaky(0.9))      # snnTorch's import: a leak of 0.9
    assert torch.equal(ours["output"], leaky(1.0))  # snn.cpp: NIR's integrator
    assert not torch.equal(ours["output"], theirs)


def test_random_graph_runs_as_sinabs_runs_it(driver, tmp_path):
    """Affine → LIF → Affine → IF → Affine → LI with Sinabs' importer (τ in steps)."""
    rng = np.random.default_rng(7)
    n_in, n, n_out = 5, 9, 4
    g = nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([n_in])),
        "fc1": nir.Affine(weight=f32(rng, n, n_in, low=-1, high=2), bias=f32(rng, n, low=-.1, high=.1)),
        "lif": nir.LIF(tau=f32(rng, n, low=2, high=30), r=np.ones(n, np.float32),
                       v_leak=np.zeros(n, np.float32), v_threshold=np.full(n, .7, np.float32)),
        "fc2": nir.Affine(weight=f32(rng, n, n, low=-1, high=1.5), bias=np.zeros(n, np.float32)),
        "if": nir.IF(r=np.ones(n, np.float32), v_threshold=np.full(n, 1.3, np.float32)),
        "fc3": nir.Affine(weight=f32(rng, n_out, n, low=-.5, high=1), bias=np.zeros(n_out, np.float32)),
        "li": nir.LI(tau=f32(rng, n_out, low=3, high=20), r=np.ones(n_out, np.float32),
                     v_leak=np.zeros(n_out, np.float32)),
        "output": nir.Output(output_type=np.array([n_out])),
    }, edges=[("input", "fc1"), ("fc1", "lif"), ("lif", "fc2"), ("fc2", "if"), ("if", "fc3"),
              ("fc3", "li"), ("li", "output")])
    path = write(g, tmp_path / "g.nir")
    torch.manual_seed(7)
    x = torch.rand(3, 25, n_in) * 2
    out, states = sinabs_run(g, x)
    ours = run_nir(driver, tmp_path, path, "sinabs", x)
    assert out.abs().sum() > 0
    compare(ours, out, states, [(k, k, {"v_mem": "v_mem"}) for k in ["lif", "if", "li"]])


# ---- recurrent graphs ----------------------------------------------------------------------


def braille_graph(rng, dt=1e-4, n_in=4, n=6, n_out=3):
    """NIR's braille example shape: Affine → CubaLIF ⇄ Affine (recurrent), → Affine → CubaLIF."""
    cuba = lambda k: nir.CubaLIF(
        tau_syn=np.full(k, 5e-4, np.float32), tau_mem=np.full(k, 1e-3, np.float32),
        r=np.full(k, 1e-3 / dt, np.float32), v_leak=np.zeros(k, np.float32),
        v_threshold=np.full(k, 1.0, np.float32), w_in=np.full(k, 5e-4 / dt, np.float32))
    return nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([n_in])),
        "fc1": nir.Affine(weight=f32(rng, n, n_in, low=-.5, high=1.5), bias=f32(rng, n, low=-.1, high=.1)),
        "lif1": cuba(n),
        "w_rec": nir.Affine(weight=f32(rng, n, n, low=-.8, high=.8), bias=f32(rng, n, low=-.1, high=.1)),
        "fc2": nir.Affine(weight=f32(rng, n_out, n, low=-.5, high=1.5), bias=np.zeros(n_out, np.float32)),
        "lif2": cuba(n_out),
        "output": nir.Output(output_type=np.array([n_out])),
    }, edges=[("input", "fc1"), ("fc1", "lif1"), ("lif1", "w_rec"), ("w_rec", "lif1"),
              ("lif1", "fc2"), ("fc2", "lif2"), ("lif2", "output")])


def test_recurrent_graph_matches_snntorch_neurons_wired_as_nir_defines(driver, tmp_path):
    """The braille shape under snnTorch's convention, against snnTorch's Synaptic layers in
    a loop with the recurrent Affine on the previous step's spikes. (snnTorch's own
    importer wires the recurrence wrongly — it feeds the input through w_rec as well,
    W_rec·(W1·x + s) — so snn.cpp is checked against snnTorch's neurons, wired as NIR's
    edges say, and shown to differ from snnTorch's import.)"""
    import snntorch as snn
    rng = np.random.default_rng(8)
    g = braille_graph(rng)
    path = write(g, tmp_path / "braille.nir")
    torch.manual_seed(8)
    x = torch.rand(2, 30, 4) * 2
    ours = run_nir(driver, tmp_path, path, "snntorch", x, calls=3)
    assert ours["recurrent"]
    lin = lambda name: lambda v: torch.nn.functional.linear(
        v, torch.tensor(g.nodes[name].weight), torch.tensor(g.nodes[name].bias))
    fc1, w_rec, fc2 = lin("fc1"), lin("w_rec"), lin("fc2")
    syn = lambda: snn.Synaptic(alpha=1 - 1e-4 / 5e-4, beta=1 - 1e-4 / 1e-3, threshold=1.0,
                               reset_mechanism="zero", reset_delay=False, init_hidden=True)
    l1, l2 = syn(), syn()
    s1 = torch.zeros(2, 6)
    outs = []
    for t in range(x.shape[1]):
        s1 = l1(fc1(x[:, t]) + w_rec(s1))  # NIR sums a node's inputs
        outs.append(l2(fc2(s1)))
    expected = torch.stack(outs, 1).detach()
    assert expected.sum() > 0
    assert torch.equal(ours["output"], expected)
    close(ours["states"]["lif1"]["mem"], l1.mem.detach(), "lif1.mem")
    close(ours["states"]["lif1"]["syn"], l1.syn.detach(), "lif1.syn")
    ordered = nir.NIRGraph(nodes={k: g.nodes[k] for k in ["input", "fc1", "lif1", "w_rec", "fc2", "lif2", "output"]},
                           edges=g.edges, type_check=False)  # nirtorch needs them in order
    theirs, _ = snntorch_run(ordered, x)
    assert not torch.equal(theirs, expected)


def test_recurrent_graph_runs_as_norse_runs_it(driver, tmp_path):
    """The braille shape under Norse's convention against Norse's import (whose executor
    carries each recurrent edge's previous output)."""
    rng = np.random.default_rng(9)
    g = braille_graph(rng)
    path = write(g, tmp_path / "braille.nir")
    torch.manual_seed(9)
    x = torch.rand(2, 30, 4) * 3
    ours = run_nir(driver, tmp_path, path, "norse", x, dt=1e-4, calls=2)
    out, states = norse_run(nir.read(str(path)), x, 1e-4)
    assert out.sum() > 0
    compare(ours, out, states, [("lif1", "lif1", {"v": "v", "i": "i"}), ("lif2", "lif2", {"v": "v", "i": "i"})])


# ---- export: snn.cpp → NIR → the libraries, and back ---------------------------------------


@pytest.mark.parametrize("convention", ["norse", "snntorch", "sinabs"])
def test_exported_graph_runs_in_the_library_and_here_as_before(driver, tmp_path, convention):
    """A graph imported here (each convention's layers: CubaLIF; Leaky and Synaptic; IAF,
    LIF, ExpLeak) and exported again: nir.read loads the file, the library's importer runs
    it as it ran the original, and snn.cpp's own import of it gives identical outputs."""
    rng = np.random.default_rng(10)
    torch.manual_seed(10)
    if convention == "norse":
        g, x = norse_graph(rng), torch.rand(2, 30, 6) * 2
        lib = lambda graph: norse_run(graph, x, 1e-3)[0]
    elif convention == "snntorch":
        g, x = snntorch_graph(rng), torch.rand(2, 30, 5) * 2
        lib = lambda graph: snntorch_run(graph, x)[0]
    else:
        n = 7
        g = nir.NIRGraph(nodes={
            "input": nir.Input(input_type=np.array([4])),
            "fc1": nir.Affine(weight=f32(rng, n, 4, low=-1, high=2), bias=np.zeros(n, np.float32)),
            "lif": nir.LIF(tau=f32(rng, n, low=3, high=20), r=np.ones(n, np.float32),
                           v_leak=np.zeros(n, np.float32), v_threshold=np.full(n, .8, np.float32)),
            "fc2": nir.Affine(weight=f32(rng, 3, n, low=-1, high=2), bias=np.zeros(3, np.float32)),
            "if": nir.IF(r=np.ones(3, np.float32), v_threshold=np.full(3, 1.1, np.float32)),
            "fc3": nir.Affine(weight=f32(rng, 2, 3, low=-1, high=2), bias=np.zeros(2, np.float32)),
            "li": nir.LI(tau=f32(rng, 2, low=3, high=9), r=np.ones(2, np.float32), v_leak=np.zeros(2, np.float32)),
            "output": nir.Output(output_type=np.array([2]))},
            edges=[("input", "fc1"), ("fc1", "lif"), ("lif", "fc2"), ("fc2", "if"), ("if", "fc3"),
                   ("fc3", "li"), ("li", "output")])
        x = torch.rand(2, 30, 4) * 2
        lib = lambda graph: sinabs_run(graph, x)[0]
    original = write(g, tmp_path / "original.nir")
    exported = tmp_path / "exported.nir"
    first = run_nir(driver, tmp_path, original, convention, x, export_path=exported)
    assert first["output"].sum() > 0
    read_back = nir.read(str(exported))
    assert set(read_back.nodes) >= {"input", "output"}
    assert torch.equal(lib(read_back), lib(nir.read(str(original))))
    again = run_nir(driver, tmp_path, exported, convention, x)
    assert torch.equal(again["output"], first["output"])


def test_exported_conv_graphs_run_in_sinabs_and_norse_as_before(driver, tmp_path):
    """The Sinabs fixture's conv net (Conv2d, IF, SumPool2d, Flatten, Affine) imported here
    and exported again runs in Sinabs as the fixture does; a conv graph under Norse's
    convention likewise in Norse."""
    path = fixture("cnn_sinabs.nir")
    torch.manual_seed(15)
    x = (torch.rand(2, 10, 2, 34, 34) < 0.15).float()
    exported = tmp_path / "cnn.nir"
    run_nir(driver, tmp_path, path, "sinabs", x, export_path=exported)
    expected, _ = sinabs_run(nir.read(str(path)), x)
    assert expected.sum() > 0
    assert torch.equal(sinabs_run(nir.read(str(exported)), x)[0], expected)

    rng = np.random.default_rng(16)
    g = nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([2, 8, 8])),
        "conv": nir.Conv2d(input_shape=(8, 8), weight=f32(rng, 4, 2, 3, 3, low=-.5, high=1),
                           stride=1, padding=1, dilation=1, groups=1, bias=np.zeros(4, np.float32)),
        "if": nir.IF(r=np.ones((4, 8, 8), np.float32), v_threshold=np.ones((4, 8, 8), np.float32)),
        "pool": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "output": nir.Output(output_type=np.array([4, 4, 4])),
    }, edges=[("input", "conv"), ("conv", "if"), ("if", "pool"), ("pool", "output")], type_check=False)
    original = write(g, tmp_path / "conv.nir")
    x = (torch.rand(2, 15, 2, 8, 8) < 0.3).float()
    exported = tmp_path / "conv_out.nir"
    run_nir(driver, tmp_path, original, "norse", x, export_path=exported)
    expected, _ = norse_run(nir.read(str(original), type_check=False), x, 1e-3)
    assert expected.sum() > 0
    assert torch.equal(norse_run(nir.read(str(exported), type_check=False), x, 1e-3)[0], expected)


def test_sinabs_export_runs_here_as_the_sinabs_model(driver, tmp_path):
    """sinabs.to_nir of a Sinabs model (per-neuron τ, norm_input=False, min_v_mem = -θ as
    its importer assumes) imports here and runs as the model itself."""
    import sinabs
    import sinabs.layers as sl
    from sinabs.nir import to_nir
    torch.manual_seed(11)
    B, T = 2, 25
    model = torch.nn.Sequential(
        sl.FlattenTime(), torch.nn.Linear(6, 10),
        sl.LIFSqueeze(tau_mem=torch.rand(10) * 20 + 2, spike_threshold=torch.full((10,), .9),
                      norm_input=False, batch_size=B),
        torch.nn.Linear(10, 4), sl.IAFSqueeze(min_v_mem=-1.0, batch_size=B), sl.UnflattenTime(B))
    x = torch.rand(B, T, 6) * 2
    expected = model(x).detach()
    sinabs.reset_states(model)
    g = to_nir(model[1:5], x.reshape(B * T, 6))
    path = write(g, tmp_path / "sinabs.nir")
    ours = run_nir(driver, tmp_path, path, "sinabs", x)
    assert expected.sum() > 0
    assert torch.equal(ours["output"], expected)


def test_snntorch_export_runs_here_as_the_snntorch_model(driver, tmp_path):
    """snntorch.export_to_nir of Leaky and Synaptic (vector β, zero reset in the spiking
    step: the layers its importer builds) imports here and runs as the model itself."""
    import snntorch as snn
    from snntorch.export_nir import export_to_nir
    torch.manual_seed(12)
    n = 8
    kw = dict(reset_mechanism="zero", reset_delay=False, init_hidden=True)
    model = torch.nn.Sequential(
        torch.nn.Linear(5, n), snn.Leaky(beta=torch.full((n,), 0.9), threshold=torch.ones(n), **kw),
        torch.nn.Linear(n, 3), snn.Synaptic(alpha=torch.full((3,), 0.8), beta=torch.full((3,), 0.85),
                                             threshold=torch.ones(3), **kw))
    with torch.no_grad():
        model[0].weight.uniform_(0, 1)
        model[2].weight.uniform_(0, 1)
    x = torch.rand(2, 30, 5) * 2
    g = export_to_nir(model, x[:, 0], ignore_dims=[0])
    for m in model.modules():
        if hasattr(m, "reset_mem"):
            m.reset_mem()
    expected = torch.stack([model(x[:, t]) for t in range(x.shape[1])], 1).detach()
    path = write(g, tmp_path / "snntorch.nir")
    ours = run_nir(driver, tmp_path, path, "snntorch", x)
    assert expected.sum() > 0
    assert torch.equal(ours["output"], expected)


def test_norse_export_runs_here_as_norse_reimports_it(driver, tmp_path):
    """norse.to_nir of LIFBoxCell / LIBoxCell layers imports here as Norse imports the file.
    (Norse writes τ = dt/τ_inv but reads τ_inv = 1/τ: its round trip changes the time
    constants by dt; snn.cpp follows its importer.)"""
    import norse.torch as nt
    from norse.torch.functional.lif_box import LIFBoxParameters
    torch.manual_seed(13)
    n = 6
    model = nt.SequentialState(
        torch.nn.Linear(4, n),
        nt.LIFBoxCell(LIFBoxParameters(tau_mem_inv=torch.full((n,), 0.4), v_th=torch.full((n,), .1),
                                       v_leak=torch.zeros(n))),
        torch.nn.Linear(n, 3))
    with torch.no_grad():
        model[0].weight.uniform_(0, 1)
    g = nt.to_nir(model, torch.randn(4))
    path = write(g, tmp_path / "norse.nir")
    x = torch.rand(2, 30, 4) * 4
    expected, _ = norse_run(nir.read(str(path), type_check=False), x, 1e-3)
    ours = run_nir(driver, tmp_path, path, "norse", x)
    assert expected.abs().sum() > 0
    assert torch.equal(ours["output"], expected)


@pytest.mark.parametrize("model,convention", [("lif_recurrent", "sinabs"), ("iaf_recurrent", "sinabs"),
                                              ("rleaky", "snntorch"), ("rsynaptic", "snntorch")])
def test_recurrent_layers_export_as_cycles(driver, tmp_path, model, convention):
    """Sinabs' recurrent forms and snnTorch's RLeaky / RSynaptic export as a neuron node and
    its connection in a cycle: nir.read loads the file, snn.cpp re-imports it to the same
    outputs (a connection without bias: Sinabs restarts the recurrent input at zero in every
    call, where NIR's Affine adds its bias from the first step), and snnTorch's importer
    turns the snnTorch ones into a model that runs."""
    torch.manual_seed(14)
    x = torch.rand(2, 25, 4) * 2
    path = tmp_path / "rec.nir"
    first = run(driver, {"layer": "nir_export", "model": model, "bias": False, "seed": 14,
                         "input": x, "export_path": str(path)}, tmp_path)
    assert first["output"].sum() > 0
    g = nir.read(str(path))
    assert any(e[::-1] in g.edges for e in g.edges)  # a cycle of two nodes
    again = run_nir(driver, tmp_path, path, convention, x)
    assert again["recurrent"]
    assert torch.equal(again["output"], first["output"])
    if convention == "snntorch":
        ordered = nir.NIRGraph(nodes={k: g.nodes[k] for k in ["input", "0", "1", "1.rec.0", "output"]},
                               edges=g.edges, type_check=False)
        out, _ = snntorch_run(ordered, x)
        assert out.shape == first["output"].shape


def test_snntorch_conv_graphs(driver, tmp_path):
    """Conv2d → LIF → AvgPool2d → SumPool2d → Flatten → Affine → LIF, and Conv1d → LIF,
    under snnTorch's convention against its importer (batch 1: its Flatten counts the batch
    in start_dim, see the README)."""
    rng = np.random.default_rng(17)
    lif = lambda *shape: nir.LIF(tau=np.full(shape, 1e-3, np.float32), r=np.full(shape, 10.0, np.float32),
                                 v_leak=np.zeros(shape, np.float32), v_threshold=np.full(shape, .5, np.float32))
    g = nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([2, 8, 8])),
        "conv": nir.Conv2d(input_shape=(8, 8), weight=f32(rng, 4, 2, 3, 3, low=-.3, high=1),
                           stride=1, padding=1, dilation=1, groups=1, bias=f32(rng, 4, low=0, high=.1)),
        "lif1": lif(4, 8, 8),
        "avg": nir.AvgPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "sum": nir.SumPool2d(kernel_size=np.array([2, 2]), stride=np.array([2, 2]), padding=np.array([0, 0])),
        "flat": nir.Flatten(input_type={"input": np.array([4, 2, 2])}, start_dim=0, end_dim=-1),
        "fc": nir.Affine(weight=f32(rng, 3, 16, low=-.2, high=.8), bias=np.zeros(3, np.float32)),
        "lif2": lif(3),
        "output": nir.Output(output_type=np.array([3])),
    }, edges=[("input", "conv"), ("conv", "lif1"), ("lif1", "avg"), ("avg", "sum"), ("sum", "flat"),
              ("flat", "fc"), ("fc", "lif2"), ("lif2", "output")], type_check=False)
    path = write(g, tmp_path / "conv2d.nir")
    torch.manual_seed(17)
    x = (torch.rand(1, 20, 2, 8, 8) < 0.4).float()
    out, _ = snntorch_run(g, x)
    ours = run_nir(driver, tmp_path, path, "snntorch", x)
    assert out.sum() > 0
    assert torch.equal(ours["output"], out.reshape(ours["output"].shape))

    g1 = nir.NIRGraph(nodes={
        "input": nir.Input(input_type=np.array([2, 10])),
        "conv": nir.Conv1d(input_shape=10, weight=f32(rng, 3, 2, 3, low=-.3, high=1), stride=1,
                           padding=1, dilation=1, groups=1, bias=np.zeros(3, np.float32)),
        "lif": lif(3, 10),
        "output": nir.Output(output_type=np.array([3, 10])),
    }, edges=[("input", "conv"), ("conv", "lif"), ("lif", "output")], type_check=False)
    path = write(g1, tmp_path / "conv1d.nir")
    x = (torch.rand(2, 20, 2, 10) < 0.4).float()
    out, states = snntorch_run(g1, x)
    ours = run_nir(driver, tmp_path, path, "snntorch", x)
    assert out.sum() > 0
    compare(ours, out, states, [("lif", "lif", {"mem": "mem"})])
