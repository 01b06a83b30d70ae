"""Data-parallel training of the main job's network (`snn train`, preset delay-mlp, LIF, the
embedded spoken digits), measured in one run on this machine:

  1 process x 2 threads        snn train --threads 2
  2 processes x 1 thread       torchrun --standalone --nproc-per-node 2 --no-python snn train
                               (c10d TCPStore + Gloo on loopback)

Each trains --epochs epochs (batch 128, the same seed); the time of an epoch is taken from
metrics.jsonl (training and the test evaluation), the median over the epochs after the first.
Prints samples per second (training samples / epoch time), the gradient bytes all-reduced
per step (every parameter's gradient, float32), and a projection, stated as one, of the step
time on M machines: compute / M (perfect data parallelism) + a ring allreduce's traffic,
2 (M - 1) / M x gradient bytes, over the given network bandwidth.

    python bench/bench_distributed.py [--epochs 3] [--bandwidth-gbit 10]
"""
import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

import torch

from common import BUILD

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "parity"))
from test_amld_tutorial import checkpoint  # noqa: E402


def epoch_seconds(run_dir):
    rows = [json.loads(line) for line in (run_dir / "metrics.jsonl").read_text().splitlines()]
    return statistics.median(r["seconds"] for r in rows[1:]) if len(rows) > 1 else rows[0]["seconds"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--snn", default=str(BUILD / "snn"))
    p.add_argument("--epochs", type=int, default=3)
    p.add_argument("--bandwidth-gbit", type=float, default=10.0)
    args = p.parse_args()
    torchrun = Path(sys.executable).with_name("torchrun")
    common = ["train", "--neuron", "lif", "--epochs", str(args.epochs), "--batch-size", "128",
              "--lr-schedule", "constant"]
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        one = subprocess.run([args.snn, *common, "--threads", "2", "--run-dir", str(tmp / "one")],
                             capture_output=True, text=True)
        assert one.returncode == 0, one.stderr
        two = subprocess.run([str(torchrun), "--standalone", "--nproc-per-node", "2", "--no-python",
                              args.snn, *common, "--run-dir", str(tmp / "two")],
                             capture_output=True, text=True, env={**os.environ, "OMP_NUM_THREADS": "1"})
        assert two.returncode == 0, two.stderr
        n_train = int(next(line for line in one.stdout.splitlines() + one.stderr.splitlines()
                           if "training and" in line).split("data: ")[1].split()[0])
        weights = checkpoint(tmp / "one" / "checkpoint.snn")
        grad_bytes = sum(w.numel() for w in weights.values()) * 4
        steps = -(-n_train // 128)
        t1, t2 = epoch_seconds(tmp / "one"), epoch_seconds(tmp / "two")
        acc1 = json.loads((tmp / "one" / "metrics.jsonl").read_text().splitlines()[-1])["test_accuracy"]
        acc2 = json.loads((tmp / "two" / "metrics.jsonl").read_text().splitlines()[-1])["test_accuracy"]
    print(f"main job network (delay-mlp, LIF), {n_train} training samples, batch 128 "
          f"({steps} steps per epoch), {args.epochs} epochs; torch {torch.__version__}\n")
    print("| processes x threads | epoch (train + test) | samples / s | test accuracy |\n|---|---|---|---|")
    print(f"| 1 x 2 | {t1:.2f} s | {n_train / t1:.0f} | {acc1:.3f} |")
    print(f"| 2 x 1 (torchrun, Gloo, loopback) | {t2:.2f} s | {n_train / t2:.0f} | {acc2:.3f} |")
    print(f"\ngradient bytes all-reduced per step: {grad_bytes:,} ({grad_bytes / 2**20:.2f} MiB, "
          f"{len(weights)} tensors, float32)")
    step = t1 / steps  # the step on one 2-core machine (the evaluation included: an upper bound)
    bw = args.bandwidth_gbit * 1e9 / 8
    print(f"\nprojection (not a measurement): step time on M 2-core machines at "
          f"{args.bandwidth_gbit:g} Gbit/s = {step * 1e3:.1f} ms / M + 2 (M - 1) / M x "
          f"{grad_bytes / 2**20:.2f} MiB / bandwidth")
    print("\n| machines M | compute | allreduce | step | speed-up |\n|---|---|---|---|---|")
    for m in (1, 2, 4, 8, 16):
        comm = 2 * (m - 1) / m * grad_bytes / bw
        print(f"| {m} | {step / m * 1e3:.1f} ms | {comm * 1e3:.1f} ms | {(step / m + comm) * 1e3:.1f} ms | "
              f"{step / (step / m + comm):.1f}x |")


if __name__ == "__main__":
    main()
