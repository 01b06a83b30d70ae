"""torch.ops.snn.lif from Python: the fused op against its plain-ATen reference, a
float64 finite-difference check of its backward, and its argument checks."""
import itertools

import pytest
import torch

from conftest import ATOL, RTOL

OPTIONS = list(itertools.product([False, True],            # synapse
                                 [True, False],            # norm_input
                                 ["multi", "single"],      # spike_fn
                                 ["subtract", "reset"],    # reset_fn
                                 [None, -0.3]))            # min_v_mem


def make_inputs(syn, dtype, B=3, T=11, N=19, seed=0, strided=False):
    g = torch.Generator().manual_seed(seed)
    rand = lambda *s: torch.rand(*s, generator=g, dtype=dtype)
    x = (rand(B, N, T) * 3 - 1).transpose(1, 2) if strided else rand(B, T, N) * 3 - 1
    return dict(
        input=x,
        v_mem=rand(B, N) - 0.5,
        i_syn=rand(B, N) - 0.5 if syn else None,
        alpha_mem=0.5 + 0.5 * rand(N),
        alpha_syn=0.3 + 0.6 * rand(N) if syn else None,
    )


def call(op, t, norm, spike_fn, reset_fn, min_v_mem, reset_value=None, surrogate_args=(0.5, 1.0)):
    return op(t["input"], t["v_mem"], t["i_syn"], t["alpha_mem"], t["alpha_syn"], norm, 1.0,
              spike_fn, reset_fn, reset_value, min_v_mem, "single_exponential",
              list(surrogate_args))


@pytest.mark.parametrize("capability", ["default", "avx2"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("syn,norm,spike_fn,reset_fn,min_v_mem", OPTIONS)
def test_fused_matches_reference(snn_ops, monkeypatch, capability, dtype, syn, norm, spike_fn,
                                 reset_fn, min_v_mem):
    if capability == "avx2" and "avx2" not in open("/proc/cpuinfo").read():
        pytest.skip("this CPU has no AVX2")
    monkeypatch.setenv("SNN_CPU_CAPABILITY", capability)
    for strided in (False, True):
        results = []
        for op in (snn_ops.lif, snn_ops.lif_reference):
            t = {k: (v.clone().requires_grad_(True) if v is not None else None)
                 for k, v in make_inputs(syn, dtype, strided=strided).items()}
            s, v, i = call(op, t, norm, spike_fn, reset_fn, min_v_mem)
            g = torch.Generator().manual_seed(1)
            loss = (s * torch.randn(s.shape, generator=g, dtype=dtype)).sum() + \
                (v * torch.randn(v.shape, generator=g, dtype=dtype)).sum()
            if syn:
                loss = loss + (i * torch.randn(i.shape, generator=g, dtype=dtype)).sum()
            leaves = [x for x in t.values() if x is not None]
            results.append(((s, v, i), torch.autograd.grad(loss, leaves)))
        (fs, fv, fi), fgrads = results[0]
        (rs, rv, ri), rgrads = results[1]
        assert rs.sum() > 0, "the case must spike"
        assert torch.equal(fs, rs)
        torch.testing.assert_close(fv, rv, atol=ATOL, rtol=RTOL)
        if syn:
            torch.testing.assert_close(fi, ri, atol=ATOL, rtol=RTOL)
        for a, b in zip(fgrads, rgrads, strict=True):
            torch.testing.assert_close(a, b, atol=ATOL, rtol=RTOL)


def pre_spike_potentials(t, norm, s_ref, v_ref, i_ref):
    """w_t = α_m·v_{t-1} + u_t, from the reference's recorded states."""
    v_prev = torch.cat([t["v_mem"].unsqueeze(1), v_ref[:, :-1]], 1)
    i = i_ref if t["i_syn"] is not None else t["input"]
    u = (1 - t["alpha_mem"]) * i if norm else i
    return t["alpha_mem"] * v_prev + u


@pytest.mark.parametrize("syn,norm,spike_fn,reset_fn,min_v_mem", OPTIONS)
def test_backward_matches_finite_differences(snn_ops, syn, norm, spike_fn, reset_fn, min_v_mem):
    """The backward of every smooth path (leak, synapse, normalisation, reset, clamp, alphas,
    initial state) against central differences in float64. The spike function itself is a
    step, whose surrogate no finite difference can see: a narrow surrogate (width 1e-4 θ)
    makes its contribution vanish, and inputs are drawn until every membrane potential
    keeps a margin from the thresholds and the clamp, so that no step is crossed."""
    margin = 0.02
    for seed in range(500):
        t = make_inputs(syn, torch.float64, B=2, T=5, N=3, seed=seed)
        s, v, i = call(snn_ops.lif_reference, t, norm, spike_fn, reset_fn, min_v_mem)
        w = pre_spike_potentials(t, norm, s, v, i)
        ok = ((w - w.round()).abs() > margin).all() and s.sum() > 0
        if min_v_mem is not None:
            r = w - s if reset_fn == "subtract" else w * (s == 0)
            ok = ok and ((r - min_v_mem).abs() > margin).all() and (r < min_v_mem).any()
        if ok:
            break
    else:
        pytest.fail("no input with a safe margin found")
    names = [k for k, x in t.items() if x is not None]

    def fn(*tensors):
        return call(snn_ops.lif, dict(t, **dict(zip(names, tensors))), norm, spike_fn, reset_fn,
                    min_v_mem, surrogate_args=(1e-4, 1.0))[: 3 if syn else 2]

    leaves = [t[k].clone().requires_grad_(True) for k in names]
    assert torch.autograd.gradcheck(fn, leaves, eps=1e-6, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("kwargs,message", [
    (dict(spike_fn="double"), 'spike_fn must be "multi" or "single", got "double"'),
    (dict(reset_fn="zero"), 'reset_fn must be "subtract" or "reset", got "zero"'),
    (dict(surrogate="gaussian"), 'surrogate must be "single_exponential", got "gaussian"'),
    (dict(v_mem=torch.zeros(2, 5)), r"expected v_mem of shape \[2, 4\], got \[2, 5\]"),
    (dict(input=torch.zeros(2, 4)), r"expected input of shape \[B, T, N\], got \[2, 4\]"),
    (dict(spike_threshold=0.0), "spike_threshold must be > 0, got 0"),
])
def test_bad_arguments_are_named(snn_ops, kwargs, message):
    args = dict(input=torch.rand(2, 3, 4), v_mem=torch.zeros(2, 4), i_syn=None,
                alpha_mem=torch.full((4,), 0.9), alpha_syn=None, norm_input=True,
                spike_threshold=1.0, spike_fn="multi", reset_fn="subtract", reset_value=None,
                min_v_mem=None, surrogate="single_exponential", surrogate_args=[0.5, 1.0])
    args.update(kwargs)
    with pytest.raises(RuntimeError, match=message):
        snn_ops.lif(*args.values())
