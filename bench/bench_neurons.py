"""Neuron layers forward + backward: snn.cpp's neuron op against Sinabs, per family, measured
in the same run.

Usage: python bench/bench_neurons.py [--threads N] [--repeats N]
Prints, per family (IAF, LIF, ALIF, ExpLeak) and problem size, the median wall time of one
forward + backward pass (loss = output.sum()) of the Sinabs layer, of snn.cpp's fused op
(torch.ops.snn.neuron) and of its plain-ATen reference, and the speed-up over Sinabs.
"""
import argparse
import os
import sys

import sinabs.layers as sl
import torch

from common import LIBRARY, timeit

# family: (Sinabs layer, snn.cpp spec, parameters as functions of the trainable tau tensors)
FAMILIES = {
    "IAF": (lambda: sl.IAF(), "LIF(norm_input=false)",
            lambda taus: [torch.tensor(1.0), torch.tensor(1.0)]),
    "LIF": (lambda: sl.LIF(tau_mem=10.0), "LIF()",
            lambda taus: [torch.exp(-1.0 / taus[0]), torch.tensor(1.0)]),
    "ALIF": (lambda: sl.ALIF(tau_mem=10.0, tau_adapt=20.0), "ALIF()",
             lambda taus: [torch.exp(-1.0 / taus[0]), torch.exp(-1.0 / taus[1]), torch.tensor(1.0),
                           torch.tensor(1.8)]),
    "ExpLeak": (lambda: sl.ExpLeak(tau_mem=10.0), "ExpLeak()",
                lambda taus: [torch.exp(-1.0 / taus[0])]),
}


def sinabs_step(make, x):
    layer = make()

    def run():
        xi = x.clone().requires_grad_(True)
        layer.reset_states()
        layer.zero_grad()
        layer(xi).sum().backward()
    return run


def snn_step(op, spec, params, x):
    B, T, N = x.shape
    taus = [torch.tensor(10.0, requires_grad=True), torch.tensor(20.0, requires_grad=True)]
    n_states = 2 if spec.startswith("ALIF") else 1

    def run():
        xi = x.clone().requires_grad_(True)
        out = op(xi, [torch.zeros(B, N) for _ in range(n_states)], params(taus), spec)
        out[0].sum().backward()
    return run


def main():
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--threads", type=int, default=os.cpu_count(), help="torch threads (default: all cores)")
    p.add_argument("--repeats", type=int, default=5, help="timed repetitions per case (default 5)")
    args = p.parse_args()
    if not LIBRARY.exists():
        sys.exit(f"{LIBRARY} not found: build first (scripts/build.sh)")
    torch.ops.load_library(str(LIBRARY))
    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    print(f"neuron layers forward+backward, {args.threads} threads, median of {args.repeats}")
    print(f"{'family':>8} {'B x T x N':>16} {'sinabs ms':>10} {'snn ms':>9} {'ref ms':>9} {'snn vs sinabs':>14}")
    for name, (make, spec, params) in FAMILIES.items():
        for (B, T, N) in [(32, 100, 256), (16, 300, 1024)]:
            x = torch.rand(B, T, N) * 3
            t_sinabs = timeit(sinabs_step(make, x), args.repeats)
            t_snn = timeit(snn_step(torch.ops.snn.neuron, spec, params, x), args.repeats)
            t_ref = timeit(snn_step(torch.ops.snn.neuron_reference, spec, params, x), args.repeats)
            print(f"{name:>8} {f'{B} x {T} x {N}':>16} {t_sinabs * 1e3:10.1f} "
                  f"{t_snn * 1e3:9.2f} {t_ref * 1e3:9.1f} {t_sinabs / t_snn:13.1f}x", flush=True)


if __name__ == "__main__":
    main()
