"""snncpp from Python against the Python libraries it replaces, measured in one run.

1. One training step (states reset, forward, cross-entropy of the summed output, backward,
   Adam step) of
   - the AMLD SHD tutorial's Sinabs network (Linear 140 -> 64 -> 64 -> 20 without bias,
     IAFSqueeze / LIFSqueeze with tau_syn=1, min_v_mem=0, SingleSpike; batch 128, 70 steps):
     Sinabs as is, and the same model after snncpp.accelerate(model);
   - snnTorch's tutorial network (Linear 784 -> 1000 -> 10, Leaky beta=0.95, 25 steps in
     the usual Python loop, batch 128): snnTorch as is, after snncpp.accelerate(model), and
     accelerated with each neuron layer given the whole sequence (forward_sequence).
2. One epoch of a torch DataLoader (batch 128, PadTensors) over the spoken digits in SHD's
   layout, each sample through CropTime(max=0.7 s) and ToFrame(1 ms bins): tonic.datasets.SHD
   with tonic.transforms and tonic.collation.PadTensors, and snncpp.datasets.SHD with
   snncpp.transforms and snncpp.collation.PadTensors.

Each timing is the median of --repeats runs after a warm-up, all in this process, on the
same data and weights. It imports snncpp as installed (scripts/python_package.sh install DIR,
then DIR/env/bin/python bench/bench_python.py) or, from a build tree, with
PYTHONPATH=python SNNCPP_LIBRARY=build/libsnn.so.

    python bench/bench_python.py [--threads 2] [--repeats 10] [--data DIR]
"""
import argparse
import copy
import sys
import tempfile
from pathlib import Path

import torch

from common import ROOT, spoken_digits_dir, timings

sys.path.insert(0, str(ROOT / "tests" / "parity"))
from test_amld_tutorial import sinabs_network as amld_network  # noqa: E402  (the same network)


def sinabs_step(model, opt, x, y):
    import sinabs
    B, T = x.shape[:2]

    def step():
        sinabs.reset_states(model)
        out = model(x.reshape(B * T, -1)).reshape(B, T, -1)
        loss = torch.nn.functional.cross_entropy(out.sum(1), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


class SnnTorchNet(torch.nn.Module):
    def __init__(self):
        super().__init__()
        import snntorch
        self.fc1 = torch.nn.Linear(784, 1000)
        self.lif1 = snntorch.Leaky(beta=0.95)
        self.fc2 = torch.nn.Linear(1000, 10)
        self.lif2 = snntorch.Leaky(beta=0.95)

    def forward(self, x):
        mem1, mem2 = self.lif1.init_leaky(), self.lif2.init_leaky()
        out = []
        for t in range(x.shape[0]):
            spk1, mem1 = self.lif1(self.fc1(x[t]), mem1)
            spk2, mem2 = self.lif2(self.fc2(spk1), mem2)
            out.append(spk2)
        return torch.stack(out)


class SnnTorchSequenceNet(SnnTorchNet):
    """The same network and weights, each layer given the whole sequence at once: the Linear
    layers on [T, B, ...], the neurons through the drop-in's forward_sequence (one op call)."""

    def forward(self, x):
        spk1, _ = self.lif1.forward_sequence(self.fc1(x), self.lif1.init_leaky())
        spk2, _ = self.lif2.forward_sequence(self.fc2(spk1), self.lif2.init_leaky())
        return spk2


def snntorch_step(model, opt, x, y):
    def step():
        out = model(x)
        loss = torch.nn.functional.cross_entropy(out.sum(0), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def matmul_share(step, runs=3):
    """The share of a step's CPU time spent in matrix products (aten::addmm / mm / bmm, the
    Linear layers' forward and backward), from torch's profiler (self times)."""
    from torch.profiler import ProfilerActivity, profile
    step()
    with profile(activities=[ProfilerActivity.CPU]) as prof:
        for _ in range(runs):
            step()
    events = prof.key_averages()
    total = sum(e.self_cpu_time_total for e in events)
    mm = sum(e.self_cpu_time_total for e in events if e.key in ("aten::addmm", "aten::mm", "aten::bmm"))
    return mm / total


def training_steps(repeats):
    import snncpp
    rows = []
    torch.manual_seed(0)
    B, T = 128, 70
    x = (torch.rand(B, T, 140) < 0.1).float() * 2
    y = torch.randint(0, 20, (B,))
    for neuron in ("iaf", "lif"):
        torch.manual_seed(1)
        original = amld_network(neuron, B)
        accelerated = copy.deepcopy(original)
        report = snncpp.accelerate(accelerated)
        assert len(report.swapped) == 3 and not report.not_swapped, report
        times = [timings(sinabs_step(m, torch.optim.Adam(m.parameters(), 1e-3), x, y), repeats)
                 for m in (original, accelerated)]
        rows.append((f"AMLD SHD tutorial MLP, {neuron.upper()} (Sinabs)", "Sinabs", *times))
    torch.manual_seed(2)
    xs = torch.rand(25, 128, 784)
    ys = torch.randint(0, 10, (128,))
    original = SnnTorchNet()
    accelerated = copy.deepcopy(original)
    report = snncpp.accelerate(accelerated)
    assert len(report.swapped) == 2 and not report.not_swapped, report
    sequence = SnnTorchSequenceNet()
    sequence.load_state_dict(original.state_dict())
    snncpp.accelerate(sequence)
    with torch.no_grad():  # the same spikes either way
        assert torch.equal(original(xs), sequence(xs))
    steps = [snntorch_step(m, torch.optim.Adam(m.parameters(), 5e-4), xs, ys)
             for m in (original, accelerated, sequence)]
    times = [timings(step, repeats) for step in steps]
    shares = [matmul_share(step) for step in steps]
    note = (f"snnTorch tutorial net: matrix products take {shares[0]:.0%} of the step's CPU time "
            f"with snnTorch, {shares[1]:.0%} accelerated, {shares[2]:.0%} with forward_sequence "
            f"(torch.profiler, self times)")
    rows.append(("snnTorch tutorial 5 net (784-1000-10), Leaky, 25 steps in a Python loop",
                 "snnTorch", times[0], times[1]))
    rows.append(("the same, the neurons given the whole sequence (forward_sequence)",
                 "snnTorch", times[0], times[2]))
    return rows, note


def dataloader_epochs(folder, repeats, caching):
    """One epoch of each pipeline over the spoken digits' training set, in SHD's layout
    (caching: with snn.cpp's caching CPU allocator installed for the whole process, which
    both pipelines then use)."""
    import tonic
    import tonic.transforms as tt

    import snncpp.collation
    import snncpp.datasets
    import snncpp.transforms as st
    source = folder / "spoken_digits_train.h5"
    if not source.exists():
        sys.exit(f"{source} not found: make it with `build/snn data synth-digits --out {folder}` "
                 f"(or run scripts/run.sh once), or pass --data")
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "SHD").mkdir()
        (Path(tmp) / "SHD" / "shd_train.h5").symlink_to(source)
        # Tonic checks its download's checksum; these files are not its download.
        tonic.datasets.SHD._check_exists = lambda self: True
        sensor = (700, 1, 1)
        pipelines = {
            "Tonic": (tonic.datasets.SHD, tt.Compose(
                [tt.CropTime(max=700_000), tt.ToFrame(sensor_size=sensor, time_window=1000)]),
                tonic.collation.PadTensors(batch_first=True)),
            "snncpp": (snncpp.datasets.SHD, st.Compose(
                [st.CropTime(max=700_000), st.ToFrame(sensor_size=sensor, time_window=1000)]),
                snncpp.collation.PadTensors(batch_first=True)),
        }
        # Tonic's Compose stops at an empty sample (a final ToFrame is skipped and the collation
        # fails): the few utterances without a spike are left out of both pipelines.
        raw = snncpp.datasets.SHD(tmp, train=True)
        keep = [i for i in range(len(raw)) if len(raw[i][0]) > 0]
        results = {}
        for name, (dataset_class, transform, collate) in pipelines.items():
            dataset = torch.utils.data.Subset(dataset_class(tmp, train=True, transform=transform), keep)
            loader = torch.utils.data.DataLoader(
                dataset, batch_size=128, shuffle=False, collate_fn=collate)

            def epoch():
                results[name] = [batch for batch in loader]
            results[name + " time"] = timings(epoch, repeats)
            n = len(dataset)
        # Both pipelines give the same batches (the check that the timing compares like with like).
        for (xa, ya), (xb, yb) in zip(results["Tonic"], results["snncpp"]):
            assert torch.equal(torch.as_tensor(xa), torch.as_tensor(xb)) and torch.equal(ya, yb)
        rows.append((f"{n} spoken digits (SHD layout): CropTime(0.7 s) + ToFrame(1 ms), batch "
                     f"128, {'caching' if caching else 'system'} allocator",
                     results["Tonic time"], results["snncpp time"]))
    return rows


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=10)
    p.add_argument("--data", default=None, help="folder of spoken_digits_{train,test}.h5 "
                   "(default: the snn CLI's cache, ~/.cache/snn.cpp/data/spoken-digits)")
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    import snncpp
    print(f"snncpp {snncpp.__version__} from {Path(snncpp.__file__).parent}; torch "
          f"{torch.__version__}; {args.threads} threads; median of {args.repeats} runs\n")
    print("| training step | peer | peer time | snncpp.accelerate | speed-up |\n|---|---|---|---|---|")
    rows, note = training_steps(args.repeats)
    for name, peer, (tp, tp0, tp1), (ts, ts0, ts1) in rows:
        print(f"| {name} | {peer} | {tp * 1e3:.1f} ms ({tp0 * 1e3:.1f}-{tp1 * 1e3:.1f}) | "
              f"{ts * 1e3:.1f} ms ({ts0 * 1e3:.1f}-{ts1 * 1e3:.1f}) | {tp / ts:.1f}x |", flush=True)
    print(f"\n{note}")
    print("\n| DataLoader epoch | Tonic | snncpp | speed-up |\n|---|---|---|---|")
    # The padded batches are large (128 x 700 x 700 float32): with the system allocator each
    # one costs page faults; snn.cpp's caching allocator (for both pipelines) keeps them.
    for caching in (False, True):
        snncpp.ops.set_caching_allocator(caching)
        for name, (tp, tp0, tp1), (ts, ts0, ts1) in dataloader_epochs(
                Path(args.data) if args.data else spoken_digits_dir(), max(1, args.repeats // 3), caching):
            print(f"| {name} | {tp:.2f} s ({tp0:.2f}-{tp1:.2f}) | {ts:.2f} s ({ts0:.2f}-{ts1:.2f}) "
                  f"| {tp / ts:.1f}x |", flush=True)
    snncpp.ops.set_caching_allocator(False)


if __name__ == "__main__":
    main()
