"""torch.ops.snn.neuron from Python: the same op and specification text as from C++; the
fused kernel against its plain-ATen reference, float64 finite-difference checks of its
backward for every family, tracing with torch.export / torch.compile, argument checks."""
import pytest
import torch

from conftest import ATOL, RTOL

SPECS = [
    "LIF()",
    "LIF(synapse=true, norm_input=false, spike=SingleSpike(), reset=MembraneReset(reset_value=0.1))",
    "LIF(spike=MaxSpike(max_num_spikes_per_bin=2), surrogate=PeriodicExponential(), min_v_mem=-0.4)",
    "ALIF()",
    "ALIF(synapse=true, spike=MultiSpike(), surrogate=MultiGaussian(), min_v_mem=-0.2)",
    "ALIF(norm_input=false, reset=MembraneSubtract(subtract_value=0.7), surrogate=Gaussian())",
    "ExpLeak()",
    "ExpLeak(norm_input=true, min_v_mem=0.05)",
    "LIF(synapse=true, surrogate=ATan(alpha=3))",
    "ALIF(surrogate=FastSigmoid(slope=10), min_v_mem=-0.2)",
    "Leaky()",
    "Leaky(synapse=true, reset=MembraneReset(), reset_delay=false, surrogate=SparseFastSigmoid())",
    "Leaky(reset=NoReset(), surrogate=HeavisideMask())",
    "Alpha(reset=MembraneReset())",
]


def make_inputs(ops, spec, dtype, B=3, T=12, N=301, seed=0, per_neuron=True):
    """Input, states and parameters for `spec`, named as the op lists them."""
    g = torch.Generator().manual_seed(seed)
    rand = lambda *s: torch.rand(*s, generator=g, dtype=dtype)
    x = rand(B, T, N) * 3 - 0.7
    if "norm_input=false" not in spec and spec.split("(")[0] in ("LIF", "ALIF"):
        x = x * 4
    states, params = spec_layout(spec)
    ranges = dict(alpha_mem=(0.6, 0.95), alpha_syn=(0.3, 0.9), alpha_adapt=(0.5, 0.9),
                  spike_threshold=(0.8, 1.2), adapt_scale=(0.5, 1.8), beta=(0.6, 0.95),
                  threshold=(0.8, 1.2), graded_spikes_factor=(0.5, 1.5), alpha=(0.3, 0.9), tau_alpha=(1.0, 1.6))
    state = [rand(B, N) * 0.3 if name == "b" else rand(B, N) - 0.5 for name in states]
    param = []
    if spec.startswith("Alpha"):  # alpha > beta
        ranges.update(alpha=(0.85, 0.95), beta=(0.3, 0.6))
    for name in params:
        lo, hi = ranges[name]
        param.append(lo + (hi - lo) * rand(N) if per_neuron else torch.tensor((lo + hi) / 2, dtype=dtype))
    return x, state, param


def spec_layout(spec):
    """State and parameter names, as snn/ops/neuron.h lists them."""
    family = spec.split("(")[0]
    syn = "synapse=true" in spec
    if family == "LIF":
        return ["v_mem"] + (["i_syn"] if syn else []), \
            ["alpha_mem", "spike_threshold"] + (["alpha_syn"] if syn else [])
    if family == "ALIF":
        return ["v_mem", "b"] + (["i_syn"] if syn else []), \
            ["alpha_mem", "alpha_adapt", "spike_threshold", "adapt_scale"] + (["alpha_syn"] if syn else [])
    if family == "Alpha":
        return ["mem", "syn_exc", "syn_inh"], ["alpha", "beta", "threshold", "tau_alpha"]
    if family == "Leaky":
        return ["mem"] + (["syn"] if syn else []), \
            ["beta", "threshold", "graded_spikes_factor"] + (["alpha"] if syn else [])
    return ["v_mem"], ["alpha_mem"]


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
@pytest.mark.parametrize("threads", [1, 2])
@pytest.mark.parametrize("spec", SPECS)
def test_fused_matches_reference(snn_ops, spec, threads, dtype):
    """Spikes equal and states close in float32 and float64; gradients held tightly in
    float64, where the order of summation (the reference sums a parameter's gradient in
    another order than the kernel) leaves no float32 rounding to hide behind."""
    before = torch.get_num_threads()
    torch.set_num_threads(threads)
    try:
        results = []
        for op in (snn_ops.neuron, snn_ops.neuron_reference):
            x, state, param = make_inputs(snn_ops, spec, dtype, per_neuron=threads == 2)
            leaves = [t.requires_grad_(True) for t in [x, *state, *param]]
            out = op(x, state, param, spec)
            g = torch.Generator().manual_seed(1)
            loss = sum((o * torch.randn(o.shape, generator=g, dtype=dtype)).sum() for o in out)
            grads = torch.autograd.grad(loss, leaves, allow_unused=True)
            results.append((out, [torch.zeros_like(l) if gr is None else gr
                                  for l, gr in zip(leaves, grads)]))
        (fused, fgrads), (ref, rgrads) = results
        if not spec.startswith("ExpLeak"):
            assert ref[0].sum() > 0 and (ref[0] == 0).any(), "the case must spike, not everywhere"
            assert torch.equal(fused[0], ref[0])
        for a, b in zip(fused, ref, strict=True):
            torch.testing.assert_close(a, b, atol=ATOL, rtol=RTOL)
        if dtype == torch.float64:
            for a, b in zip(fgrads, rgrads, strict=True):
                torch.testing.assert_close(a, b, atol=1e-9, rtol=1e-9)
    finally:
        torch.set_num_threads(before)


GRADCHECK_SPECS = [
    "LIF(synapse=true, surrogate=SingleExponential(grad_width=0.0001), min_v_mem=-0.3)",
    "LIF(norm_input=false, reset=MembraneReset(reset_value=0.1), "
    "surrogate=SingleExponential(grad_width=0.0001))",
    "ALIF(synapse=true, surrogate=SingleExponential(grad_width=0.0001))",
    "ALIF(spike=MultiSpike(), reset=MembraneReset(), surrogate=SingleExponential(grad_width=0.0001), "
    "min_v_mem=-0.2)",
    "ExpLeak(norm_input=true, min_v_mem=-0.1)",
]


def margins_ok(snn_ops, spec, x, state, param, margin=0.02):
    """Every step keeps a margin from the spike steps and the clamp, so that central
    differences cross no discontinuity; and the case spikes."""
    out = snn_ops.neuron_reference(x, state, param, spec)
    states, params = spec_layout(spec)
    p = dict(zip(params, param))
    rec = dict(zip(states, out[1:]))
    prev = {k: torch.cat([s.unsqueeze(1), rec[k][:, :-1]], 1) for k, s in zip(states, state)}
    norm = "norm_input=true" in spec or (not spec.startswith("ExpLeak") and "norm_input=false" not in spec)
    if "i_syn" in rec:
        i = rec["i_syn"]
    else:
        i = x
    w = p["alpha_mem"] * prev["v_mem"] + ((1 - p["alpha_mem"]) * i if norm else i)
    if spec.startswith("ExpLeak"):
        ok, r = True, w  # no spikes; the clamp acts on w
    else:
        th = p["spike_threshold"] + p["adapt_scale"] * prev["b"] if "b" in rec else p["spike_threshold"]
        ratio = w / th
        ok = bool(((ratio - ratio.round()).abs() > margin).all()) and bool(out[0].sum() > 0)
        if "MembraneReset" in spec:  # the specs above reset to 0.1 or 0
            r = w * (out[0] == 0) + (0.1 if "reset_value=0.1" in spec else 0.0)
        else:
            r = w - out[0] * th
    if "min_v_mem" in spec:
        vmin = float(spec.split("min_v_mem=")[1].rstrip(")"))
        ok = ok and bool(((r - vmin).abs() > margin).all()) and bool((r < vmin).any())
    return ok


LEAKY_GRADCHECK_SPECS = [
    "Leaky(synapse=true, surrogate=NoGradient())",
    "Leaky(reset=MembraneReset(), surrogate=NoGradient())",
    "Alpha(surrogate=NoGradient())",
    "Alpha(reset=MembraneReset(), surrogate=NoGradient())",
]


@pytest.mark.parametrize("spec", LEAKY_GRADCHECK_SPECS)
def test_leaky_backward_matches_finite_differences(snn_ops, spec):
    """snnTorch's Leaky / Synaptic: every smooth path (leak, synapse, delayed reset by θ or to
    zero, the graded spike's factor, initial states) against central differences in float64.
    With reset_delay the recorded membrane is the one the spike and the next reset read:
    inputs are drawn until every recorded value keeps a margin from the threshold."""
    for seed in range(2000):
        x, state, param = make_inputs(snn_ops, spec, torch.float64, B=2, T=5, N=3, seed=seed)
        out = snn_ops.neuron_reference(x, state, param, spec)
        mem = torch.cat([state[0].unsqueeze(1), out[1]], 1)
        if bool(((mem - param[1]).abs() > 0.02).all()) and 0 < int((out[0] > 0).sum()) < out[0].numel():
            break
    else:
        pytest.fail("no input with a safe margin found")
    ns = len(state)

    def fn(*tensors):
        return tuple(snn_ops.neuron(tensors[0], list(tensors[1:1 + ns]), list(tensors[1 + ns:]), spec))

    leaves = [t.clone().requires_grad_(True) for t in [x, *state, *param]]
    assert torch.autograd.gradcheck(fn, leaves, eps=1e-6, atol=1e-7, rtol=1e-5)


@pytest.mark.parametrize("spec", GRADCHECK_SPECS)
def test_backward_matches_finite_differences(snn_ops, spec):
    """The backward of every smooth path (leak, synapse, normalisation, reset, adaptation,
    clamp, parameters, initial state) against central differences in float64. The spike
    function is a step whose surrogate no finite difference sees: a narrow surrogate
    (width 1e-4 θ) makes its contribution vanish, and inputs are drawn until every step
    keeps a margin from the thresholds and the clamp."""
    for seed in range(2000):
        x, state, param = make_inputs(snn_ops, spec, torch.float64, B=2, T=5, N=3, seed=seed)
        if margins_ok(snn_ops, spec, x, state, param):
            break
    else:
        pytest.fail("no input with a safe margin found")
    ns, n_in = len(state), 1 + len(state) + len(param)

    def fn(*tensors):
        return tuple(snn_ops.neuron(tensors[0], list(tensors[1:1 + ns]), list(tensors[1 + ns:]), spec))

    leaves = [t.clone().requires_grad_(True) for t in [x, *state, *param]]
    assert len(leaves) == n_in
    assert torch.autograd.gradcheck(fn, leaves, eps=1e-6, atol=1e-7, rtol=1e-5)


def test_traces_with_export_and_compile(snn_ops):
    """The Meta kernels let torch.export and torch.compile trace the op (forward and
    backward), and the compiled function computes what the eager one does."""
    spec = "ALIF(synapse=true)"

    class Layer(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.alpha_mem = torch.nn.Parameter(torch.full((16,), 0.9))

        def forward(self, x):
            B, N = x.shape[0], x.shape[2]
            state = [torch.zeros(B, N), torch.zeros(B, N), torch.zeros(B, N)]
            params = [self.alpha_mem, torch.tensor(0.8), torch.tensor(1.0), torch.tensor(1.8),
                      torch.tensor(0.7)]
            return torch.ops.snn.neuron(x, state, params, spec)[0]

    x = torch.rand(4, 10, 16) * 5
    layer = Layer()
    exported = torch.export.export(layer, (x,))
    assert "snn.neuron" in str(exported.graph)
    torch.testing.assert_close(exported.module()(x), layer(x))

    compiled = torch.compile(layer, backend="aot_eager", fullgraph=True)
    xc, xe = x.clone().requires_grad_(True), x.clone().requires_grad_(True)
    out_c, out_e = compiled(xc), layer(xe)
    torch.testing.assert_close(out_c, out_e)
    out_c.sum().backward()
    grad_c = layer.alpha_mem.grad.clone()
    layer.alpha_mem.grad = None
    out_e.sum().backward()
    torch.testing.assert_close(xc.grad, xe.grad)
    torch.testing.assert_close(grad_c, layer.alpha_mem.grad)


@pytest.mark.parametrize("args,message", [
    (dict(spec="LIF(spike=Double())"), r"spike must be one of MultiSpike\(\), SingleSpike\(\), MaxSpike"),
    (dict(spec="LIF(surrogate=Logistic())"), r"surrogate must be one of SingleExponential"),
    (dict(spec="Izhikevich()"), r"the family must be one of LIF\(...\), ALIF\(...\), ExpLeak"),
    (dict(state=[torch.zeros(2, 5)]), r"expected v_mem of shape \[2, 4\], got \[2, 5\]"),
    (dict(input=torch.zeros(2, 4)), r"expected input of shape \[B, T, N\], got \[2, 4\]"),
    (dict(params=[torch.full((4,), 0.9)]), r"takes 2 parameters \[alpha_mem, spike_threshold\], got 1"),
])
def test_bad_arguments_are_named(snn_ops, args, message):
    call = dict(input=torch.rand(2, 3, 4), state=[torch.zeros(2, 4)],
                params=[torch.full((4,), 0.9), torch.tensor(1.0)], spec="LIF()")
    call.update(args)
    with pytest.raises(RuntimeError, match=message):
        snn_ops.neuron(call["input"], call["state"], call["params"], call["spec"])


@pytest.mark.parametrize("name,kwargs,snntorch_fn", [
    ("ATan", {}, lambda st: st.atan()),
    ("ATan", {"alpha": 3.5}, lambda st: st.atan(alpha=3.5)),
    ("FastSigmoid", {}, lambda st: st.fast_sigmoid()),
    ("FastSigmoid", {"slope": 5}, lambda st: st.fast_sigmoid(slope=5)),
    ("Sigmoid", {}, lambda st: st.sigmoid()),
    ("Sigmoid", {"slope": 4}, lambda st: st.sigmoid(slope=4)),
    ("SpikeRateEscape", {}, lambda st: st.spike_rate_escape()),
    ("SpikeRateEscape", {"beta": 2, "slope": 3}, lambda st: st.spike_rate_escape(beta=2, slope=3)),
    ("Triangular", {}, lambda st: st.triangular()),
    ("Triangular", {"threshold": 0.5}, lambda st: st.triangular(threshold=0.5)),
    ("StraightThroughEstimator", {}, lambda st: st.straight_through_estimator()),
    ("HeavisideMask", {}, lambda st: st.heaviside()),
    ("SparseFastSigmoid", {}, lambda st: st.SFS()),
    ("SparseFastSigmoid", {"slope": 5, "B": -0.5}, lambda st: st.SFS(slope=5, B=-0.5)),
])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_snntorch_surrogates_match_snntorch(snn_ops, name, kwargs, snntorch_fn, dtype):
    """snnTorch's atan and fast_sigmoid as surrogates: one step of a LIF without leak or
    normalisation from v = 0 gives w = x, and the gradient of its spikes with respect to x is
    the surrogate at x - θ, which must equal snnTorch's backward of its spike function at the
    same point (fused kernel and reference alike)."""
    import snntorch.surrogate as st
    torch.manual_seed(5)
    x = (torch.rand(4, 1, 300, dtype=dtype) * 4 - 2)
    theta = 0.8
    args = ", ".join(f"{k}={v}" for k, v in kwargs.items())
    spec = f"LIF(norm_input=false, spike=SingleSpike(), surrogate={name}({args}))"
    expected_x = (x - theta).clone().requires_grad_(True)
    snntorch_fn(st)(expected_x).sum().backward()
    # Only where snnTorch's own arithmetic is finite (its sigmoid overflows to NaN below
    # x = -88.7/slope in float32; test_snntorch_sigmoid_without_its_nan covers that side).
    finite = torch.isfinite(expected_x.grad)
    assert finite.float().mean() > 0.5
    for op in (snn_ops.neuron, snn_ops.neuron_reference):
        xi = x.clone().requires_grad_(True)
        out = op(xi, [torch.zeros(4, 300, dtype=dtype)],
                 [torch.tensor(0.0, dtype=dtype), torch.tensor(theta, dtype=dtype)], spec)
        out[0].sum().backward()
        assert torch.isfinite(xi.grad).all()
        torch.testing.assert_close(xi.grad[finite], expected_x.grad[finite], atol=1e-6, rtol=1e-5)


def test_snntorch_sigmoid_without_its_nan(snn_ops):
    """snnTorch's sigmoid surrogate computes exp(-slope·x), which overflows in float32 below
    x = -88.7/slope and gives NaN gradients there (a plain bug); Sigmoid here is the same
    function written with exp(-slope·|x|): finite and close to zero where snnTorch has NaN."""
    import snntorch.surrogate as st
    x = torch.tensor([-5.0, -4.0, -3.0, 0.5])[None, None, :]
    expected = x.clone().requires_grad_(True)
    st.sigmoid(slope=25)(expected).sum().backward()
    assert torch.isnan(expected.grad[0, 0, :2]).all(), "snnTorch's NaN is documented"
    xi = (x + 0.8).clone().requires_grad_(True)
    out = snn_ops.neuron(xi, [torch.zeros(1, 4)], [torch.tensor(0.0), torch.tensor(0.8)],
                         "LIF(norm_input=false, spike=SingleSpike(), surrogate=Sigmoid())")
    out[0].sum().backward()
    assert torch.isfinite(xi.grad).all()
    assert (xi.grad[0, 0, :2].abs() < 1e-30).all()
    torch.testing.assert_close(xi.grad[0, 0, 2:], expected.grad[0, 0, 2:], atol=1e-6, rtol=1e-5)


def test_leaky_spike_operator_is_what_snntorch_describes(snn_ops):
    """snnTorch's LSO(slope) passes one argument to StochasticSpikeOperator, which takes
    two: it cannot run (asserted). LeakySpikeOperator is the function its
    LeakySpikeOperator class computes: 1 where the neuron spikes, slope elsewhere."""
    import snntorch.surrogate as st
    with pytest.raises(TypeError):
        st.LSO(slope=0.2)(torch.zeros(3, requires_grad=True))
    x = torch.tensor([-1.0, -0.1, 0.1, 2.0])[None, None, :] + 0.8
    for op in (snn_ops.neuron, snn_ops.neuron_reference):
        xi = x.clone().requires_grad_(True)
        out = op(xi, [torch.zeros(1, 4)], [torch.tensor(0.0), torch.tensor(0.8)],
                 "LIF(norm_input=false, spike=SingleSpike(), surrogate=LeakySpikeOperator(slope=0.2))")
        out[0].sum().backward()
        torch.testing.assert_close(xi.grad[0, 0], torch.tensor([0.2, 0.2, 1.0, 1.0]))
