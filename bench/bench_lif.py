"""LIF forward + backward: snn.cpp's fused op against Sinabs, measured in the same run.

Usage: python bench/bench_lif.py [--threads N] [--repeats N]
Prints, per problem size, the median wall time of one forward + backward pass of
sinabs.layers.LIF, of snn.cpp's fused op (torch.ops.snn.lif) and of its plain-ATen
reference, and the speed-up of the fused op over Sinabs.
"""
import argparse
import os
import sys
import time

import sinabs.layers as sl
import torch

from common import LIBRARY, timeit





def sinabs_step(x, tau_syn):
    layer = sl.LIF(tau_mem=10.0, tau_syn=tau_syn)

    def run():
        xi = x.clone().requires_grad_(True)
        layer.reset_states()
        layer.zero_grad()
        layer(xi).sum().backward()
    return run


def snn_step(op, x, tau_syn):
    B, T, N = x.shape
    tau_mem = torch.tensor(10.0, requires_grad=True)
    tau_s = torch.tensor(float(tau_syn), requires_grad=True) if tau_syn else None

    def run():
        xi = x.clone().requires_grad_(True)
        am = torch.exp(-1.0 / tau_mem).expand(N)
        asyn = torch.exp(-1.0 / tau_s).expand(N) if tau_s is not None else None
        i0 = torch.zeros(B, N) if tau_s is not None else None
        s, v, i = op(xi, torch.zeros(B, N), i0, am, asyn, True, 1.0, "multi", "subtract", None,
                     None, "single_exponential", [0.5, 1.0])
        s.sum().backward()
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
    print(f"LIF forward+backward, {args.threads} threads, median of {args.repeats}")
    print(f"{'B x T x N':>18} {'tau_syn':>7} {'sinabs ms':>10} {'snn ms':>9} {'ref ms':>9} {'snn vs sinabs':>14}")
    for (B, T, N) in [(32, 100, 256), (16, 300, 1024), (8, 100, 2 * 34 * 34)]:
        for tau_syn in (None, 5.0):
            x = torch.rand(B, T, N) * 3
            t_sinabs = timeit(sinabs_step(x, tau_syn), args.repeats)
            t_snn = timeit(snn_step(torch.ops.snn.lif, x, tau_syn), args.repeats)
            t_ref = timeit(snn_step(torch.ops.snn.lif_reference, x, tau_syn), args.repeats)
            print(f"{f'{B} x {T} x {N}':>18} {str(tau_syn):>7} {t_sinabs * 1e3:10.1f} "
                  f"{t_snn * 1e3:9.2f} {t_ref * 1e3:9.1f} {t_sinabs / t_snn:13.1f}x")


if __name__ == "__main__":
    main()
