"""One epoch of the main job (`snn train`, preset delay-mlp, LIF, the embedded spoken digits)
timed with the snn binary of this build and, given --before, with another build's binary
(e.g. of an earlier commit), alternating runs in one process so that both see the same
machine. Prints the median epoch time (training and test evaluation, as metrics.jsonl
records it) of each and their ratio.

    python bench/bench_epoch.py --before /path/to/old/build/snn --repeats 3
"""
import argparse
import json
import statistics
import subprocess
import tempfile
from pathlib import Path

from common import BUILD


def epoch_seconds(snn, args, run_dir):
    cmd = [str(snn), "train", "--preset", args.preset, "--neuron", args.neuron, "--epochs", "1",
           "--threads", str(args.threads), "--run-dir", str(run_dir)]
    subprocess.run(cmd, check=True, capture_output=True, text=True)
    rows = [json.loads(l) for l in (Path(run_dir) / "metrics.jsonl").read_text().splitlines()]
    return rows[-1]["seconds"], rows[-1]["test_accuracy"]


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--snn", default=str(BUILD / "snn"))
    p.add_argument("--before", help="another build's snn binary to compare with")
    p.add_argument("--preset", default="delay-mlp")
    p.add_argument("--neuron", default="lif")
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeats", type=int, default=3)
    args = p.parse_args()
    binaries = {"this build": args.snn}
    if args.before:
        binaries["before"] = args.before
    times = {k: [] for k in binaries}
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(args.repeats):
            for name, snn in binaries.items():
                s, acc = epoch_seconds(snn, args, Path(tmp) / f"{name}-{r}".replace(" ", "_"))
                times[name].append(s)
                print(f"{name}: epoch {s:.2f} s (test accuracy {acc:.3f})", flush=True)
    print(f"\n| binary | median epoch (s) | runs |\n|---|---|---|")
    for name, t in times.items():
        print(f"| {name} | {statistics.median(t):.2f} | {', '.join(f'{x:.2f}' for x in t)} |")
    if args.before:
        ratio = statistics.median(times["before"]) / statistics.median(times["this build"])
        print(f"\nbefore / this build: {ratio:.2f}x")


if __name__ == "__main__":
    main()
