"""The AMLD SHD tutorial's network on the embedded spoken digits, side by side in one run:
the tutorial's own Python pipeline (Tonic CropTime(0.7 s) + ToFrame(1 ms) + 10-bin x
5-channel sums; Sinabs IAFSqueeze / LIFSqueeze with tau_syn=1, min_v_mem=0, SingleSpike;
Linear layers without bias), `snn train --preset amld-tutorial` (the same pipeline in C++)
and `snn train --preset shd-mlp` (the earlier preset), each with IAF and LIF neurons,
10 epochs, batch 128, Adam lr 1e-3 constant, the same data. Prints test accuracy after the
last epoch and the median time per epoch (training and test evaluation). The Python run
starts from the weights snn.cpp starts from (torch.manual_seed(seed) before the layers,
built in the same order) and visits the batches in the Trainer's order, so that the
tutorial's pipeline and the preset differ by float rounding alone; spikes are thresholds,
and over 10 epochs such differences grow into different test answers.

    python bench/bench_amld.py [--epochs 10] [--threads 2]
"""
import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from common import BUILD, ROOT, spoken_digits_dir

sys.path.insert(0, str(ROOT / "tests" / "parity"))
from test_amld_tutorial import sinabs_network, tutorial_set  # noqa: E402  (the same pipeline)


def python_pipeline(neuron, train, test, epochs, seed):
    torch.manual_seed(seed)
    x, y = train
    xt, yt = test
    net = sinabs_network(neuron, 128)
    adam = torch.optim.Adam(net.parameters(), lr=1e-3)
    times, accuracy = [], 0.0

    def forward(model, xb):
        for m in model:
            if hasattr(m, "reset_states"):
                m.reset_states()
        B, T = xb.shape[:2]
        for m in model:
            if hasattr(m, "batch_size"):
                m.batch_size = B  # the last batch is smaller (SqueezeMixin splits by it)
        return model(xb.reshape(B * T, -1)).reshape(B, T, -1)

    for epoch in range(epochs):
        t0 = time.perf_counter()
        # The order snn's Trainer draws (seed and epoch alone), and with torch.manual_seed(seed)
        # before the layers the same initial weights: the two runs start alike.
        order = torch.randperm(len(x), generator=torch.Generator().manual_seed(seed * 1000003 + epoch))
        for b in range(0, len(x), 128):
            idx = order[b:b + 128]
            out = forward(net, x[idx])
            loss = torch.nn.functional.cross_entropy(out.sum(1), y[idx])
            adam.zero_grad()
            loss.backward()
            adam.step()
        with torch.no_grad():
            correct = 0
            for b in range(0, len(xt), 128):
                correct += (forward(net, xt[b:b + 128]).sum(1).argmax(1) == yt[b:b + 128]).sum().item()
        accuracy = correct / len(xt)
        times.append(time.perf_counter() - t0)
    return accuracy, statistics.median(times)


def snn_train(snn, preset, neuron, epochs, threads, run_dir):
    subprocess.run([str(snn), "train", "--preset", preset, "--neuron", neuron, "--epochs",
                    str(epochs), "--batch-size", "128", "--lr", "1e-3", "--lr-schedule",
                    "constant", "--threads", str(threads), "--run-dir", str(run_dir)],
                   check=True, capture_output=True, text=True)
    rows = [json.loads(l) for l in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return rows[-1]["test_accuracy"], statistics.median(r["seconds"] for r in rows)


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--snn", default=str(BUILD / "snn"))
    p.add_argument("--epochs", type=int, default=10)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--seed", type=int, default=0)
    args = p.parse_args()
    torch.set_num_threads(args.threads)
    # The data: made by snn on first use (the default spoken digits), then binned by Tonic.
    subprocess.run([args.snn, "config", "show"], check=True, capture_output=True)
    folder = spoken_digits_dir()
    if not (folder / "spoken_digits_train.h5").exists():
        subprocess.run([args.snn, "data", "synth-digits", "--out", str(folder)], check=True)
    t0 = time.perf_counter()
    train = tutorial_set(folder / "spoken_digits_train.h5")
    test = tutorial_set(folder / "spoken_digits_test.h5")
    print(f"Tonic binned {len(train[0])} + {len(test[0])} samples in "
          f"{time.perf_counter() - t0:.1f} s (once, not in the epoch times)", flush=True)
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        for neuron in ("iaf", "lif"):
            acc, sec = python_pipeline(neuron, train, test, args.epochs, args.seed)
            rows.append(("Python: Tonic + Sinabs (the tutorial)", neuron, acc, sec))
            print(rows[-1], flush=True)
            for preset in ("amld-tutorial", "shd-mlp"):
                acc, sec = snn_train(args.snn, preset, neuron, args.epochs, args.threads,
                                     Path(tmp) / f"{preset}-{neuron}")
                rows.append((f"snn train --preset {preset}", neuron, acc, sec))
                print(rows[-1], flush=True)
    print(f"\n{args.epochs} epochs, batch 128, lr 1e-3 constant, {args.threads} threads\n")
    print("| pipeline | neuron | test accuracy | time per epoch |\n|---|---|---|---|")
    for name, neuron, acc, sec in rows:
        print(f"| {name} | {neuron} | {acc:.3f} | {sec:.2f} s |")


if __name__ == "__main__":
    main()
