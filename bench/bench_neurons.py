"""Neuron kernels and training steps: snn.cpp against every peer, measured in one run.

Usage: python bench/bench_neurons.py [--threads N] [--repeats N] [--quick] [--markdown FILE]

Peers, on the same input tensors and the same torch (each in its own layout: SpikingJelly,
snnTorch and Norse take [T, B, N], Sinabs and snn.cpp [B, T, N]; the transposed copy is made
outside the timing):
  snn.cpp      torch.ops.snn.neuron (the fused op the C++ layers run), trainable decays
  SpikingJelly spikingjelly 2.0 multi-step nodes (LIFNode, IFNode, CUBALIFNode, ...)
  Sinabs       sinabs.layers (IAF, LIF, ALIF, ExpLeak)
  snnTorch     snntorch.Leaky / Synaptic stepped in a Python loop, as its users do
  Norse        norse.torch.LIF / IAF / LSNN / LI (Norse's LIF always has a synaptic current)
Every timing is the median (and min-max) of --repeats runs after a warm-up; a peer whose
warm-up took over SLOW_SECONDS is timed once ("1 run"). Forward (with the graph recorded)
and backward (loss = output.sum()) are timed separately within each run; fwd+bwd is their
sum per run. Beside each case, a plain copy over the same bytes (dst.copy_(src) of one
[B, T, N] tensor, read + write) gives the machine's bandwidth in that run; snn.cpp's column
also shows the bytes its op must move (inputs read, outputs written) as a fraction of it.

The in-process cases run with snn.cpp's caching CPU allocator installed for the whole
process (torch.ops.snn.set_caching_allocator), so every peer gets it too; one table shows
the system allocator against it. Peak memory (training step, Open Neuromorphic benchmark) is
measured in a fresh process per case: the peak resident set (VmHWM, reset before the step)
minus the resident set before it.
"""
import argparse
import json
import os
import platform
import statistics
import subprocess
import sys
import time

import torch

from common import BENCH_LIBRARY, LIBRARY

SLOW_SECONDS = 3.0
HERE = os.path.dirname(os.path.abspath(__file__))


def load_snn():
    if not LIBRARY.exists():
        sys.exit(f"{LIBRARY} not found: build first (scripts/build.sh)")
    torch.ops.load_library(str(LIBRARY))
    if BENCH_LIBRARY.exists():
        torch.ops.load_library(str(BENCH_LIBRARY))


# ---- timing ---------------------------------------------------------------------------------

def time_phases(make_run, x, repeats, backward=True):
    """make_run() -> run(x) giving the output; times forward and backward of output.sum().
    Returns {"fwd": [...], "bwd": [...], "total": [...]} in seconds."""
    run = make_run()

    def once():
        xi = x.detach().requires_grad_(backward)
        t0 = time.perf_counter()
        out = run(xi)
        t1 = time.perf_counter()
        if backward:
            out.sum().backward()
        t2 = time.perf_counter()
        return t1 - t0, t2 - t1

    t0 = time.perf_counter()
    once()  # warm-up
    n = 1 if time.perf_counter() - t0 > SLOW_SECONDS else repeats
    fwd, bwd = [], []
    for _ in range(n):
        f, b = once()
        fwd.append(f)
        bwd.append(b)
    return {"fwd": fwd, "bwd": bwd, "total": [f + b for f, b in zip(fwd, bwd)]}


def med(ts):
    return statistics.median(ts)


def fmt_ms(ts):
    if ts is None:
        return "—"
    m = med(ts) * 1e3
    digits = 2 if m < 10 else 1 if m < 1000 else 0
    if len(ts) == 1:
        return f"{m:.{digits}f} (1 run)"
    return f"{m:.{digits}f} ({min(ts) * 1e3:.{digits}f}–{max(ts) * 1e3:.{digits}f})"


def copy_seconds(shape, repeats):
    src = torch.rand(shape)
    dst = torch.empty_like(src)
    dst.copy_(src)
    ts = []
    for _ in range(max(repeats, 5)):
        t0 = time.perf_counter()
        dst.copy_(src)
        ts.append(time.perf_counter() - t0)
    return med(ts)


# ---- the neuron layers of each library --------------------------------------------------------
# make(kind, B, T, N) -> (layout, make_run) or None where the library has no such neuron.
# kinds: LIF, LIF+syn, IAF, ALIF, ExpLeak.  Time constants: τ_mem 10 (decay 0.905), τ_syn 5,
# τ_adapt 20; threshold 1; subtractive reset where the library has one.

SNN_SPECS = {
    # kind: (spec, number of states, parameters as functions of the trainable taus)
    "LIF": ("LIF()", 1, lambda tau: [torch.exp(-1.0 / tau[0]), torch.tensor(1.0)]),
    "LIF+syn": ("LIF(synapse=true)", 2,
                lambda tau: [torch.exp(-1.0 / tau[0]), torch.tensor(1.0), torch.exp(-1.0 / tau[1])]),
    "IAF": ("LIF(norm_input=false)", 1, lambda tau: [torch.tensor(1.0), torch.tensor(1.0)]),
    "ALIF": ("ALIF()", 2, lambda tau: [torch.exp(-1.0 / tau[0]), torch.exp(-1.0 / tau[2]),
                                       torch.tensor(1.0), torch.tensor(1.8)]),
    "ExpLeak": ("ExpLeak()", 1, lambda tau: [torch.exp(-1.0 / tau[0])]),
}


def make_snn(kind, B, T, N):
    spec, n_states, params = SNN_SPECS[kind]
    taus = [torch.tensor(10.0, requires_grad=True), torch.tensor(5.0, requires_grad=True),
            torch.tensor(20.0, requires_grad=True)]
    zeros = [torch.zeros(B, N) for _ in range(n_states)]

    def make_run():
        def run(x):
            return torch.ops.snn.neuron(x, zeros, params(taus), spec)[0]
        return run
    return "BTN", make_run


def make_sinabs(kind, B, T, N):
    import sinabs.layers as sl
    layers = {
        "LIF": lambda: sl.LIF(tau_mem=10.0),
        "LIF+syn": lambda: sl.LIF(tau_mem=10.0, tau_syn=5.0),
        "IAF": lambda: sl.IAF(),
        "ALIF": lambda: sl.ALIF(tau_mem=10.0, tau_adapt=20.0),
        "ExpLeak": lambda: sl.ExpLeak(tau_mem=10.0),
    }
    layer = layers[kind]()

    def make_run():
        def run(x):
            layer.reset_states()
            layer.zero_grad()
            return layer(x)
        return run
    return "BTN", make_run


def make_spikingjelly(kind, B, T, N):
    from spikingjelly.activation_based import functional, neuron
    nodes = {
        "LIF": lambda: neuron.LIFNode(tau=10.0, v_reset=None, step_mode="m"),
        "LIF+syn": lambda: neuron.CUBALIFNode(c_decay=0.2, v_decay=0.1, v_threshold=1.0,
                                              v_reset=None),
        "IAF": lambda: neuron.IFNode(v_reset=None, step_mode="m"),
        "ExpLeak": lambda: neuron.NonSpikingLIFNode(tau=10.0),
    }
    if kind not in nodes:
        return None
    node = nodes[kind]()
    node.step_mode = "m"  # CUBALIFNode and NonSpikingLIFNode take no step_mode argument

    def make_run():
        def run(x):
            functional.reset_net(node)
            out = node(x)
            # NonSpikingLIFNode returns its membrane as a list of steps
            return torch.stack(out) if isinstance(out, list) else out
        return run
    return "TBN", make_run


def make_snntorch(kind, B, T, N):
    import snntorch as snt
    cells = {
        "LIF": lambda: snt.Leaky(beta=0.905, reset_mechanism="subtract"),
        "LIF+syn": lambda: snt.Synaptic(alpha=0.819, beta=0.905, reset_mechanism="subtract"),
        "IAF": lambda: snt.Leaky(beta=1.0, reset_mechanism="subtract"),
    }
    if kind not in cells:
        return None
    cell = cells[kind]()

    def make_run():
        def run(x):
            if kind == "LIF+syn":
                syn, mem = cell.reset_mem()
                out = []
                for t in range(x.shape[0]):
                    spk, syn, mem = cell(x[t], syn, mem)
                    out.append(spk)
            else:
                mem = cell.reset_mem()
                out = []
                for t in range(x.shape[0]):
                    spk, mem = cell(x[t], mem)
                    out.append(spk)
            return torch.stack(out)
        return run
    return "TBN", make_run


def make_norse(kind, B, T, N):
    import norse.torch as nt
    mods = {
        "LIF": lambda: nt.LIF(),
        "LIF+syn": lambda: nt.LIF(),
        "IAF": lambda: nt.IAF(),
        "ALIF": lambda: nt.LSNN(),
        "ExpLeak": lambda: nt.LI(),
    }
    mod = mods[kind]()

    def make_run():
        def run(x):
            return mod(x)[0]
        return run
    return "TBN", make_run


PEERS = [("snn.cpp", make_snn), ("SpikingJelly", make_spikingjelly), ("Sinabs", make_sinabs),
         ("snnTorch", make_snntorch), ("Norse", make_norse)]


def op_bytes(kind, shape, phase):
    """Bytes snn.cpp's op must move for one case: forward reads x and writes the output and
    the state records; backward reads x and the records and writes dL/dx (the output's
    gradient of a sum is a broadcast scalar, not a tensor)."""
    _, n_states, _ = SNN_SPECS[kind]
    per = shape[0] * shape[1] * shape[2] * 4
    fwd = (2 + n_states) * per
    bwd = (2 + n_states) * per
    return {"fwd": fwd, "bwd": bwd, "total": fwd + bwd}[phase]


# ---- cases ---------------------------------------------------------------------------------------

class Report:
    def __init__(self, path):
        self.lines = []
        self.path = path

    def print(self, line=""):
        print(line, flush=True)
        self.lines.append(line)

    def table(self, header, rows):
        self.print("| " + " | ".join(header) + " |")
        self.print("|" + "|".join("---" for _ in header) + "|")
        for r in rows:
            self.print("| " + " | ".join(str(c) for c in r) + " |")
        self.print()


def neuron_cases(rep, shapes_by_kind, repeats, peers=PEERS):
    for kind, shapes in shapes_by_kind.items():
        rep.print(f"### {kind}: forward + backward (fwd / bwd / together), ms, median (min–max)")
        rep.print()
        rows = []
        for (B, T, N) in shapes:
            torch.manual_seed(0)
            x = torch.rand(B, T, N) * (0.5 if kind == "IAF" else 3.0)
            x_tbn = x.transpose(0, 1).contiguous()
            copy_s = copy_seconds((B, T, N), repeats)
            copy_gbs = 2 * B * T * N * 4 / copy_s / 1e9
            results = {}
            for name, make in PEERS:
                if name not in peers:
                    continue
                made = make(kind, B, T, N)
                if made is None:
                    results[name] = None
                    continue
                layout, make_run = made
                results[name] = time_phases(make_run, x if layout == "BTN" else x_tbn, repeats)
            ours = results["snn.cpp"]
            best_name, best = None, None
            for name, r in results.items():
                if name == "snn.cpp" or r is None:
                    continue
                if best is None or med(r["total"]) < med(best["total"]):
                    best_name, best = name, r
            for phase in ("fwd", "bwd", "total"):
                gbs = op_bytes(kind, (B, T, N), phase) / med(ours[phase]) / 1e9
                row = [f"{B}·{T}·{N}" if phase == "fwd" else "", phase if phase != "total" else "fwd+bwd"]
                for name, _ in PEERS:
                    if name in peers:
                        row.append(fmt_ms(results[name][phase]) if results[name] else "—")
                row.append(f"{med(best[phase]) / med(ours[phase]):.1f}× ({best_name})" if best else "—")
                row.append(f"{gbs:.1f} GB/s = {gbs / copy_gbs:.0%}")
                row.append(f"{copy_s * 1e3:.2f} ms = {copy_gbs:.1f} GB/s" if phase == "fwd" else "")
                rows.append(row)
        header = ["B·T·N", "phase"] + [n for n, _ in PEERS if n in peers] + \
            ["fastest peer / snn.cpp", "snn.cpp op traffic, of copy", "copy (same bytes)"]
        rep.table(header, rows)


# ---- snnTorch's models --------------------------------------------------------------------
# snn.cpp's C++ layers (torch.ops.snn_bench.snntorch_layer_seconds: the sequence forward, one
# fused op; RLeaky steps itself) against snnTorch's layers stepped in Python and
# SpikingJelly's nearest multi-step nodes (LIFNode without input decay: Leaky; CUBALIFNode:
# Synaptic; no Alpha or recurrent node).

def make_snntorch_model(model, B, T, N):
    import snntorch as snt
    torch.manual_seed(0)
    layers = {
        "Leaky": lambda: snt.Leaky(beta=0.905),
        "Synaptic": lambda: snt.Synaptic(alpha=0.819, beta=0.905),
        "Alpha": lambda: snt.Alpha(alpha=0.905, beta=0.819, reset_mechanism="subtract"),
        "RLeaky": lambda: snt.RLeaky(beta=0.905, linear_features=N),
    }
    layer = layers[model]()

    def make_run():
        def run(x):
            states = layer.reset_mem()
            states = list(states) if isinstance(states, tuple) else [states]
            out = []
            for t in range(x.shape[0]):
                if model == "RLeaky":
                    spk, mem = layer(x[t], states[0], states[1])
                    states = [spk, mem]
                else:
                    res = layer(x[t], *states)
                    spk, states = res[0], list(res[1:])
                out.append(spk)
            return torch.stack(out)
        return run
    return "TBN", make_run


def make_spikingjelly_model(model, B, T, N):
    from spikingjelly.activation_based import functional, neuron
    nodes = {
        "Leaky": lambda: neuron.LIFNode(tau=1 / (1 - 0.905), decay_input=False, v_reset=None,
                                        step_mode="m"),
        "Synaptic": lambda: neuron.CUBALIFNode(c_decay=1 - 0.819, v_decay=1 - 0.905,
                                               v_threshold=1.0, v_reset=None),
    }
    if model not in nodes:
        return None
    node = nodes[model]()
    node.step_mode = "m"

    def make_run():
        def run(x):
            functional.reset_net(node)
            return node(x)
        return run
    return "TBN", make_run


def snntorch_step_seconds(model, x, repeats):
    """Median fwd+bwd seconds of snnTorch's step call over x [B, T, N], each x_t its own
    leaf (made outside the timing, as on snn.cpp's side)."""
    import snntorch as snt
    layer = {"Leaky": lambda: snt.Leaky(beta=0.905),
             "Synaptic": lambda: snt.Synaptic(alpha=0.819, beta=0.905)}[model]()
    ts = []
    for r in range(repeats + 1):
        xs = [x[:, t].clone().requires_grad_(True) for t in range(x.shape[1])]
        t0 = time.perf_counter()
        states = layer.reset_mem()
        states = list(states) if isinstance(states, tuple) else [states]
        out = []
        for xt in xs:
            res = layer(xt, *states)
            out.append(res[0])
            states = list(res[1:])
        torch.stack(out).sum().backward()
        if r:
            ts.append(time.perf_counter() - t0)
    return med(ts)


def snntorch_cases(rep, shapes, repeats):
    rep.print("### snnTorch's models: forward + backward, ms, median (min–max); snn.cpp: its "
              "C++ layers (the sequence forward)")
    rep.print()
    rows = []
    for model in ("Leaky", "Synaptic", "Alpha", "RLeaky"):
        for (B, T, N) in shapes[model]:
            torch.manual_seed(0)
            x = torch.rand(B, T, N) * 1.5
            x_tbn = x.transpose(0, 1).contiguous()
            fwd, bwd = torch.ops.snn_bench.snntorch_layer_seconds(x, model, False, repeats)
            ours = fwd + bwd
            peers = {}
            for name, make in (("snnTorch", make_snntorch_model),
                               ("SpikingJelly", make_spikingjelly_model)):
                made = make(model, B, T, N)
                peers[name] = None if made is None else \
                    med(time_phases(made[1], x_tbn, repeats)["total"])
            best = min((v, k) for k, v in peers.items() if v is not None)
            rows.append([model, f"{B}·{T}·{N}", f"{ours * 1e3:.2f}",
                         f"{peers['snnTorch'] * 1e3:.2f}",
                         f"{peers['SpikingJelly'] * 1e3:.2f}" if peers["SpikingJelly"] else "—",
                         f"{best[0] / ours:.1f}× ({best[1]})"])
    rep.table(["model", "B·T·N", "snn.cpp", "snnTorch", "SpikingJelly",
               "fastest peer / snn.cpp"], rows)
    rep.print("### The single-step call: `auto [spk, mem] = leaky(x_t, mem)` in a C++ loop "
              "against snnTorch's `spk, mem = leaky(x_t, mem)` in a Python loop, µs per step "
              "(forward + backward over T steps, divided by T)")
    rep.print()
    rows = []
    for model in ("Leaky", "Synaptic"):
        for (B, T, N) in [(1, 100, 64), (16, 100, 512)]:
            torch.manual_seed(0)
            x = torch.rand(B, T, N) * 1.5
            fwd, bwd = torch.ops.snn_bench.snntorch_layer_seconds(x, model, True, repeats)
            seq = sum(torch.ops.snn_bench.snntorch_layer_seconds(x, model, False, repeats))
            theirs = snntorch_step_seconds(model, x, repeats)
            rows.append([model, f"{B}·{T}·{N}", f"{(fwd + bwd) / T * 1e6:.1f}",
                         f"{seq / T * 1e6:.1f}", f"{theirs / T * 1e6:.1f}",
                         f"{theirs / (fwd + bwd):.1f}×"])
    rep.table(["model", "B·T·N", "snn.cpp step call", "snn.cpp sequence (per step)",
               "snnTorch step call", "snnTorch / snn.cpp step"], rows)


def lif_total(make, x, x_tbn, repeats):
    """Median fwd+bwd seconds of the library's LIF on x (in its layout)."""
    B, T, N = x.shape
    layout, make_run = make("LIF", B, T, N)
    return med(time_phases(make_run, x if layout == "BTN" else x_tbn, repeats)["total"])


def allocator_case(rep, repeats):
    rep.print("### Allocator: LIF forward + backward, ms, system allocator → caching allocator")
    rep.print()
    rows = []
    for (B, T, N) in [(128, 70, 64), (16, 100, 512), (16, 500, 512), (16, 500, 4096)]:
        x = torch.rand(B, T, N) * 3
        x_tbn = x.transpose(0, 1).contiguous()
        row = [f"{B}·{T}·{N}"]
        for name, make in [("snn.cpp", make_snn), ("SpikingJelly", make_spikingjelly)]:
            got = []
            for cache in (False, True):
                torch.ops.snn.set_caching_allocator(cache)
                got.append(lif_total(make, x, x_tbn, repeats))
            row.append(f"{got[0] * 1e3:.2f} → {got[1] * 1e3:.2f}")
        rows.append(row)
    torch.ops.snn.set_caching_allocator(True)
    rep.table(["B·T·N", "snn.cpp", "SpikingJelly"], rows)


def thread_case(rep, repeats):
    rep.print("### Threads: LIF forward + backward at 16·500·512, ms")
    rep.print()
    B, T, N = 16, 500, 512
    x = torch.rand(B, T, N) * 3
    x_tbn = x.transpose(0, 1).contiguous()
    rows = []
    saved = torch.get_num_threads()
    for name, make in [("snn.cpp", make_snn), ("SpikingJelly", make_spikingjelly)]:
        row = [name]
        got = []
        for threads in (1, 2):
            torch.set_num_threads(threads)
            got.append(lif_total(make, x, x_tbn, repeats))
            row.append(f"{got[-1] * 1e3:.2f}")
        row.append(f"{got[0] / got[1]:.2f}×")
        rows.append(row)
    torch.set_num_threads(saved)
    rep.table(["", "1 thread", "2 threads", "speed-up"], rows)


# ---- cases in a fresh process (peak memory) -------------------------------------------------------

def rss_kib(field):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"no {field} in /proc/self/status")


def reset_peak():
    with open("/proc/self/clear_refs", "w") as f:
        f.write("5")


def child_onb(peer, n, repeats):
    """Linear(n, n) + LIF, B = 16, T = 500: fwd, bwd and the peak memory of one step."""
    B, T = 16, 500
    torch.manual_seed(0)
    lin = torch.nn.Linear(n, n)
    x = torch.rand(B, T, n)
    make = dict(PEERS)[peer]
    layout, make_run = make("LIF", B, T, n)
    if layout == "TBN":
        x = x.transpose(0, 1).contiguous()
    run = make_run()

    def model(xi):
        return run(lin(xi))
    # The first step in this process: what it allocates is what it needs.
    base = rss_kib("VmRSS")
    reset_peak()
    model(x.detach().requires_grad_(False)).sum().backward()
    peak = rss_kib("VmHWM") - base
    lin.zero_grad(set_to_none=True)
    r = time_phases(lambda: model, x, repeats)
    return {"fwd": r["fwd"], "bwd": r["bwd"], "total": r["total"], "peak_mib": peak / 1024}


def shd_data(B=128, T=70):
    torch.manual_seed(0)
    x = (torch.rand(B, T, 140) < 0.05).float()
    y = torch.randint(0, 20, (B,))
    return x, y


def child_train(peer, model_name, steps):
    if model_name == "shd":
        x, y = shd_data()
    else:
        torch.manual_seed(0)
        x = (torch.rand(8, 30, 2, 64, 64) < 0.05).float()
        y = torch.randint(0, 11, (8,))
    base = rss_kib("VmRSS")
    reset_peak()
    if peer == "snn.cpp":
        fn = torch.ops.snn_bench.shd_train_seconds if model_name == "shd" else \
            torch.ops.snn_bench.dvs_train_seconds
        times = fn(x, y, steps)
    else:
        times = sinabs_train(model_name, x, y, steps)
    peak = rss_kib("VmHWM") - base
    return {"total": times, "peak_mib": peak / 1024}


def sinabs_train(model_name, x, y, steps):
    import sinabs
    import sinabs.layers as sl
    nn = torch.nn
    torch.manual_seed(0)
    B = x.shape[0]
    if model_name == "shd":
        model = nn.Sequential(nn.Linear(140, 64), sl.IAF(), nn.Linear(64, 64), sl.IAF(),
                              nn.Linear(64, 20), sl.IAF())
        inp = x
    else:
        def conv(i, o):
            return nn.Conv2d(i, o, 3, padding=1, bias=False)
        model = nn.Sequential(conv(2, 8), sl.IAFSqueeze(batch_size=B), sl.SumPool2d(2),
                              conv(8, 16), sl.IAFSqueeze(batch_size=B), sl.SumPool2d(2),
                              conv(16, 16), sl.IAFSqueeze(batch_size=B), sl.SumPool2d(2),
                              nn.Flatten(), nn.Linear(16 * 8 * 8, 11, bias=False),
                              sl.IAFSqueeze(batch_size=B))
        inp = x.flatten(0, 1)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3)
    times = []
    for s in range(steps + 1):
        t0 = time.perf_counter()
        sinabs.reset_states(model)
        opt.zero_grad()
        out = model(inp)
        if model_name != "shd":
            out = out.unflatten(0, (B, -1))
        loss = nn.functional.cross_entropy(out.sum(1), y)
        loss.backward()
        opt.step()
        if s > 0:
            times.append(time.perf_counter() - t0)
    return times


def run_child(args_list, threads, cache):
    cmd = [sys.executable, os.path.abspath(__file__), "--threads", str(threads), "--child",
           json.dumps(args_list)] + ([] if cache else ["--system-allocator"])
    out = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError(f"child {args_list} failed:\n{out.stderr[-2000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def onb_case(rep, ns, repeats, threads, peers):
    rep.print("### Open Neuromorphic benchmark: Linear(n, n) + LIF, B = 16, T = 500 "
              "(ms, median (min–max); peak MiB of one step, fresh process each)")
    rep.print()
    rows = []
    for n in ns:
        res = {}
        for name, _ in PEERS:
            if name in peers:
                res[name] = run_child(["onb", name, n, repeats], threads, True)
        ours = res["snn.cpp"]
        best = min((r for k, r in res.items() if k != "snn.cpp"), key=lambda r: med(r["total"]))
        for phase in ("fwd", "bwd", "total"):
            row = [f"n = {n}" if phase == "fwd" else "", "fwd+bwd" if phase == "total" else phase]
            row += [fmt_ms(res[name][phase]) for name, _ in PEERS if name in peers]
            row.append(f"{med(best[phase]) / med(ours[phase]):.1f}×")
            rows.append(row)
        rows.append(["", "peak MiB"] + [f"{res[name]['peak_mib']:.0f}" for name, _ in PEERS
                                          if name in peers] + [""])
    rep.table(["n", "phase"] + [n for n, _ in PEERS if n in peers] + ["fastest peer / snn.cpp"],
              rows)


def train_case(rep, model_name, title, steps, threads):
    rep.print(f"### {title}")
    rep.print()
    rows = []
    res = {}
    for peer in ("snn.cpp", "Sinabs"):
        res[peer] = run_child(["train", peer, model_name, steps], threads, True)
    for peer in ("snn.cpp", "Sinabs"):
        r = res[peer]
        rows.append([peer, fmt_ms(r["total"]), f"{r['peak_mib']:.1f}"])
    speed = med(res["Sinabs"]["total"]) / med(res["snn.cpp"]["total"])
    mem = res["snn.cpp"]["peak_mib"] / max(res["Sinabs"]["peak_mib"], 1e-9)
    rows.append(["snn.cpp vs Sinabs", f"{speed:.1f}× faster", f"{mem:.2f}× the memory"])
    rep.table(["", "step ms, median (min–max)", "peak MiB (RSS rise)"], rows)


def machine():
    cpu = "unknown CPU"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    mem = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") / 2**30
    return f"{cpu}, {os.cpu_count()} cores, {mem:.0f} GiB, {platform.system()} {platform.release()}"


def versions():
    import importlib.metadata as md
    out = [f"torch {torch.__version__}"]
    for pkg in ("spikingjelly", "sinabs", "snntorch", "norse"):
        try:
            out.append(f"{pkg} {md.version(pkg)}")
        except md.PackageNotFoundError:
            out.append(f"{pkg} (not installed)")
    return ", ".join(out)


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all cores)")
    p.add_argument("--repeats", type=int, default=5, help="timed repetitions per case (default 5)")
    p.add_argument("--quick", action="store_true",
                   help="smaller set: LIF only, no 16·500·4096, ONB n = 512 only")
    p.add_argument("--markdown", help="also write the report to this Markdown file")
    p.add_argument("--only", choices=["snntorch"],
                   help="run one group of cases alone (snntorch: snnTorch's models)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--system-allocator", action="store_true", help=argparse.SUPPRESS)
    args = p.parse_args()
    load_snn()
    torch.set_num_threads(args.threads)
    if not args.system_allocator:
        torch.ops.snn.set_caching_allocator(True)
    if args.child:
        c = json.loads(args.child)
        if c[0] == "onb":
            r = child_onb(c[1], c[2], c[3])
        else:
            r = child_train(c[1], c[2], c[3])
        print(json.dumps(r))
        return

    rep = Report(args.markdown)
    rep.print(f"Machine: {machine()}; {args.threads} threads; {versions()}.")
    rep.print(f"Command: `python bench/bench_neurons.py --threads {args.threads} --repeats "
              f"{args.repeats}{' --quick' if args.quick else ''}"
              f"{' --only ' + args.only if args.only else ''}`; caching CPU allocator on for "
              "every column (one process).")
    rep.print()
    if args.only == "snntorch":
        shapes = [(128, 70, 64)] if args.quick else [(128, 70, 64), (16, 500, 512)]
        snntorch_cases(rep, {"Leaky": shapes, "Synaptic": shapes, "Alpha": shapes,
                             "RLeaky": [(128, 70, 64)]}, args.repeats)
        write_markdown(rep, args.markdown)
        return
    big = [] if args.quick else [(16, 500, 4096)]
    lif_shapes = [(128, 70, 64), (16, 100, 512), (16, 500, 512)] + big
    if args.quick:
        kinds = {"LIF": lif_shapes}
    else:
        kinds = {"LIF": lif_shapes, "LIF+syn": lif_shapes, "IAF": lif_shapes,
                 "ALIF": [(128, 70, 64), (16, 500, 512)],
                 "ExpLeak": [(128, 70, 64), (16, 500, 512)]}
    all_peers = [n for n, _ in PEERS]
    neuron_cases(rep, kinds, args.repeats, all_peers)
    small = [(128, 70, 64), (16, 500, 512)]
    snntorch_cases(rep, {"Leaky": [(128, 70, 64)] if args.quick else small,
                         "Synaptic": [(128, 70, 64)] if args.quick else small,
                         "Alpha": [(128, 70, 64)] if args.quick else small,
                         "RLeaky": [(128, 70, 64)]}, args.repeats)
    allocator_case(rep, args.repeats)
    thread_case(rep, args.repeats)
    onb_case(rep, [512] if args.quick else [512, 2048, 4096], args.repeats, args.threads,
             all_peers)
    train_case(rep, "shd", "SHD tutorial model, one training step (B = 128, T = 70, Adam, "
               "cross-entropy on summed spikes)", args.repeats * 4, args.threads)
    train_case(rep, "dvs", "DVS tutorial conv model, one training step (B = 8, T = 30, "
               "2×64×64 frames, Conv/IAFSqueeze/SumPool)", args.repeats, args.threads)
    write_markdown(rep, args.markdown)


def write_markdown(rep, path):
    if path:
        tmp = path + ".tmp"
        with open(tmp, "w") as f:
            f.write("\n".join(rep.lines) + "\n")
        os.replace(tmp, path)


if __name__ == "__main__":
    main()
