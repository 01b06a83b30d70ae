"""snn::snntorch's StateLeaky, LinearLeaky, AssociativeLeaky, DeltaLeaky and GradedSpikes
against snnTorch 1.0.0 on seeded random options: outputs (spikes equal), and the gradients
of the input and of every parameter, snnTorch's parameters copied in by name. snnTorch's
StateLeaky / LinearLeaky apply graded_spikes_factor twice (fire() has it, forward multiplies
again): ours applies it once; the oracle is snnTorch's own fire() on its membrane, and the
difference is asserted."""
import pytest
import snntorch
import snntorch.surrogate as sg
import torch
from snntorch._layers.graded_spikes import GradedSpikes

from test_sinabs_layers import assert_close
from test_sinabs_structure import run

SURROGATES = [(lambda: sg.atan(), "ATan(alpha=2)"),
              (lambda: sg.fast_sigmoid(slope=10), "FastSigmoid(slope=10)"),
              (lambda: sg.sigmoid(slope=5), "Sigmoid(slope=5)"),
              (lambda: sg.triangular(threshold=0.5), "Triangular(threshold=0.5)")]


def rnd(g, *shape):
    return torch.rand(*shape, generator=g)


def state_leaky_case(seed, linear):
    g = torch.Generator().manual_seed(seed)
    T, B, C, I = 9, 3, 6, 5
    per_neuron = seed % 2 == 0
    beta = rnd(g, C) * 0.5 + 0.45 if per_neuron else torch.tensor(0.8)
    sur = SURROGATES[seed % len(SURROGATES)]
    o = dict(beta=beta, threshold=torch.tensor(0.6 + float(rnd(g, ())) * 0.8),
             graded_spikes_factor=torch.tensor([1.0, 0.7, 1.5][seed % 3]),
             spike_grad_text=sur[1], surrogate_disable=seed % 5 == 4, learn_beta=seed % 2 == 1,
             learn_threshold=seed % 3 != 0, learn_graded_spikes_factor=seed % 4 == 1,
             output=not (seed % 7 == 6 and not linear),
             kernel_truncation_steps=[None, 4, 20][seed % 3])
    kw = dict(threshold=float(o["threshold"]), spike_grad=sur[0](),
              surrogate_disable=o["surrogate_disable"], learn_beta=o["learn_beta"],
              learn_threshold=o["learn_threshold"], output=o["output"],
              graded_spikes_factor=float(o["graded_spikes_factor"]),
              learn_graded_spikes_factor=o["learn_graded_spikes_factor"],
              kernel_truncation_steps=o["kernel_truncation_steps"])
    if linear:
        o.update(in_features=I, out_features=C, bias=seed % 2 == 0)
        theirs = snntorch.LinearLeaky(beta=beta.clone(), in_features=I, out_features=C,
                                      bias=o["bias"], **kw)
        x = rnd(g, T, B, I) * 2 - 0.5
    else:
        o.update(channels=C)
        theirs = snntorch.StateLeaky(beta=beta.clone(), channels=C, **kw)
        x = rnd(g, T, B, C) * 1.2
    if o["kernel_truncation_steps"] is None:
        del o["kernel_truncation_steps"]
    return o, theirs, x, g


def oracle_state_leaky(layer, x, linear):
    """snnTorch's own pieces: the membrane, then fire() (the factor once)."""
    current = layer.linear(x.reshape(-1, x.shape[2])).reshape(x.shape[0], x.shape[1], -1) \
        if linear else x
    mem = layer._base_state_function(current)
    if not layer.output:
        return [mem]
    return [layer.fire(mem), mem]


def compare_case(driver, tmp_path, model, o, layer, x, outs_fn, g, name_map=lambda n: n,
                 mode=None):
    # The weights and buffers as they are before the forward (running statistics change).
    weights = {name_map(n): p.detach().clone() for n, p in layer.named_parameters()}
    weights.update({name_map(n): b.detach().clone() for n, b in layer.named_buffers()})
    xi = x.clone().requires_grad_(True)
    outs = outs_fn(layer, xi)
    grads = [torch.randn(t.shape, generator=g) for t in outs]
    sum((t * w).sum() for t, w in zip(outs, grads) if t.requires_grad).backward()
    case = dict(layer="snntorch_parallel", model=model, options=o, weights=weights, input=x,
                grad_outputs=grads)
    if mode:
        case["mode"] = mode
    ours = run(driver, case, tmp_path)
    assert len(ours["outputs"]) == len(outs)
    for k, (a, b) in enumerate(zip(ours["outputs"], outs)):
        if k == 0 and len(outs) >= 1 and model not in ("AssociativeLeaky", "GradedSpikes") \
                and not (model == "StateLeaky" and not o.get("output", True)):
            assert torch.equal(a, b.detach()), f"spikes of {model}"
        else:
            assert_close(a, b.detach(), f"output {k}", scaled=True)
    assert_close(ours["grad_input"], xi.grad, "grad input", scaled=True)
    for n, p in layer.named_parameters():
        if p.grad is None:
            continue
        assert_close(ours["grad_params"][name_map(n)], p.grad, n, scaled=True)
    return ours


@pytest.mark.parametrize("seed", range(10))
@pytest.mark.parametrize("linear", [False, True])
def test_state_and_linear_leaky_match_snntorch(seed, linear, driver, tmp_path):
    o, layer, x, g = state_leaky_case(seed, linear)
    model = "LinearLeaky" if linear else "StateLeaky"
    compare_case(driver, tmp_path, model, o, layer, x,
                 lambda l, xi: oracle_state_leaky(l, xi, linear), g)


def test_state_leaky_applies_the_graded_factor_once(driver, tmp_path):
    o, layer, x, g = state_leaky_case(1, False)  # graded_spikes_factor 0.7
    assert abs(float(o["graded_spikes_factor"]) - 0.7) < 1e-6
    ours = compare_case(driver, tmp_path, "StateLeaky", o, layer, x,
                        lambda l, xi: oracle_state_leaky(l, xi, False), g)
    spk_theirs, _ = layer(x)
    assert spk_theirs.sum() > 0
    torch.testing.assert_close(spk_theirs, ours["outputs"][0] * 0.7)  # factor²
    assert not torch.equal(spk_theirs, ours["outputs"][0])


@pytest.mark.parametrize("seed,use_q", [(0, True), (1, False), (2, True)])
def test_associative_leaky_matches_snntorch(seed, use_q, driver, tmp_path):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    d, n, I = [(2, 3, 5), (3, 3, 4), (4, 2, 6)][seed]
    layer = snntorch.AssociativeLeaky(in_dim=I, d_value=d, d_key=n, num_spiking_neurons=d * n,
                                      use_q_projection=use_q)
    with torch.no_grad():  # larger writes: the states cross the threshold
        layer.to_v.weight.mul_(3)
        layer.to_k.weight.mul_(3)
    x = rnd(g, 8, 3, I) * 2 - 0.5
    o = dict(in_dim=I, d_value=d, d_key=n, use_q_projection=use_q)
    ours = compare_case(driver, tmp_path, "AssociativeLeaky", o, layer, x, lambda l, xi: [l(xi)], g)
    if not use_q:
        assert ours["outputs"][0].sum() > 0 and torch.equal(ours["outputs"][0],
                                                             layer(x).detach())


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("mode", ["step", "hidden", "sequence"])
def test_delta_leaky_matches_snntorch(seed, mode, driver, tmp_path):
    g = torch.Generator().manual_seed(seed)
    sur = SURROGATES[seed % len(SURROGATES)]
    beta, delta = 0.6 + 0.3 * float(rnd(g, ())), 0.2 + 0.4 * float(rnd(g, ()))
    layer = snntorch.DeltaLeaky(delta_threshold=delta, beta=beta, spike_grad=sur[0](),
                                learn_beta=seed % 2 == 1)
    x = rnd(g, 10, 3, 7) * 1.5 - 0.3

    def outs(l, xi):
        state, spikes, mems = (None, None), [], []
        for t in range(xi.shape[0]):
            spk, state = l(xi[t], state)
            spikes.append(spk)
            mems.append(state[0])
        return [torch.stack(spikes)] + ([torch.stack(mems)] if mode == "step" else [])

    o = dict(beta=torch.tensor(beta), delta_threshold=delta, spike_grad_text=sur[1],
             learn_beta=seed % 2 == 1)
    ours = compare_case(driver, tmp_path, "DeltaLeaky", o, layer, x, outs, g, mode=mode)
    assert 0 < int(ours["outputs"][0].sum()) < x.numel()


def test_graded_spikes_matches_snntorch(driver, tmp_path):
    g = torch.Generator().manual_seed(4)
    torch.manual_seed(0)
    layer = GradedSpikes(size=5, constant_factor=0)  # uniform weights, copied over
    x = (rnd(g, 5, 5) < 0.5).float()
    compare_case(driver, tmp_path, "GradedSpikes", dict(size=5, constant_factor=0.0), layer, x,
                 lambda l, xi: [l(xi)], g)


def test_bad_arguments_are_named(driver, tmp_path):
    import subprocess
    o, layer, x, g = state_leaky_case(0, False)
    o["beta"] = torch.rand(4)  # channels 6
    torch.save(dict(layer="snntorch_parallel", model="StateLeaky", options=o, weights={},
                    input=x, grad_outputs=[]), tmp_path / "case.pt")
    proc = subprocess.run([str(driver), str(tmp_path / "case.pt"), str(tmp_path / "r.pt")],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode != 0
    assert "StateLeaky: beta must have shape [], [1] or [channels] = [6], got [4]" in proc.stderr


def leaky_parallel_case(seed):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    T, B, I, H = 8, 3, 5, 6
    sur = SURROGATES[seed % len(SURROGATES)]
    beta = [None, 0.85, torch.tensor([0.9])][seed % 3]
    o = dict(input_size=I, hidden_size=H, bias=seed % 2 == 0,
             threshold=torch.tensor(0.5 + 0.5 * float(rnd(g, ()))), spike_grad_text=sur[1],
             surrogate_disable=False, learn_beta=seed % 2 == 1, learn_threshold=seed % 3 == 1,
             graded_spikes_factor=torch.tensor([1.0, 0.8][seed % 2]),
             learn_graded_spikes_factor=seed % 4 == 2, weight_hh_enable=False)
    layer = snntorch.LeakyParallel(input_size=I, hidden_size=H, beta=beta, bias=o["bias"],
                                   threshold=float(o["threshold"]), spike_grad=sur[0](),
                                   learn_beta=o["learn_beta"], learn_threshold=o["learn_threshold"],
                                   graded_spikes_factor=float(o["graded_spikes_factor"]),
                                   learn_graded_spikes_factor=o["learn_graded_spikes_factor"])
    if beta is not None:
        o["beta"] = torch.as_tensor(beta, dtype=torch.float32).reshape(-1)
    x = rnd(g, T, B, I) * 2
    return o, layer, x, g


@pytest.mark.parametrize("seed", range(6))
def test_leaky_parallel_matches_snntorch(seed, driver, tmp_path):
    o, layer, x, g = leaky_parallel_case(seed)
    ours = compare_case(driver, tmp_path, "LeakyParallel", o, layer, x, lambda l, xi: [l(xi)], g)
    assert ours["outputs"][0].sum() > 0
    if o["learn_beta"]:  # the recurrence stays diagonal while it trains
        w = ours["grad_params"]["rnn.weight_hh_l0"]
        assert torch.equal(w, torch.diag(torch.diag(w)))


def test_leaky_parallel_puts_per_neuron_betas_on_the_diagonal(driver, tmp_path):
    """snnTorch's LeakyParallel fills weight_hh from beta only for one value: a tensor of
    hidden_size values is skipped (its weights stay torch's random ones, masked to the
    diagonal). Here the diagonal is beta."""
    import subprocess
    betas = torch.linspace(0.5, 0.95, 6)
    theirs = snntorch.LeakyParallel(input_size=5, hidden_size=6, beta=betas)
    assert not torch.allclose(torch.diag(theirs.rnn.weight_hh_l0), betas)
    o, layer, x, g = leaky_parallel_case(0)
    o["beta"] = betas
    weights = {n: p.detach().clone() for n, p in layer.named_parameters()}
    weights["rnn.weight_hh_l0"] = torch.diag(betas)  # what ours holds
    case = dict(layer="snntorch_parallel", model="LeakyParallel", options=o, weights=weights,
                input=x, grad_outputs=[torch.ones(x.shape[0], x.shape[1], 6)])
    ours = run(driver, case, tmp_path)
    with torch.no_grad():
        layer.rnn.weight_hh_l0.copy_(torch.diag(betas))
    assert torch.equal(ours["outputs"][0], layer(x))


def slstm_case(seed, input_size, mode):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    H = 6
    sur = SURROGATES[seed % len(SURROGATES)]
    reset = ["subtract", "zero", "none"][seed % 3]
    o = dict(input_size=input_size, hidden_size=H, bias=seed % 2 == 0,
             threshold=torch.tensor(0.1 + 0.2 * float(rnd(g, ()))), spike_grad_text=sur[1],
             surrogate_disable=seed % 5 == 4, learn_threshold=seed % 2 == 1,
             reset_mechanism=reset)
    layer = snntorch.SLSTM(input_size=input_size, hidden_size=H, bias=o["bias"],
                           threshold=float(o["threshold"]), spike_grad=sur[0](),
                           surrogate_disable=o["surrogate_disable"],
                           learn_threshold=o["learn_threshold"], reset_mechanism=reset)
    x = rnd(g, 7, 3, input_size) * 2 - 0.5
    return o, layer, x, g


def slstm_outputs(l, xi):
    """Two chained calls of T steps, the states passed on (snnTorch's step form)."""
    spikes, syns, mems = [], [], []
    syn, mem = l.reset_mem()
    for _ in range(2):
        for t in range(xi.shape[0]):
            spk, syn, mem = l(xi[t], syn, mem)
            spikes.append(spk)
        syns.append(syn)
        mems.append(mem)
    return [torch.stack(spikes), torch.stack(syns), torch.stack(mems)]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("mode", ["step", "hidden", "sequence"])
def test_slstm_matches_snntorch(seed, mode, driver, tmp_path):
    """input_size == hidden_size (where snnTorch's state handling is right)."""
    o, layer, x, g = slstm_case(seed, 6, mode)
    ours = compare_case(driver, tmp_path, "SLSTM", o, layer, x, slstm_outputs, g, mode=mode)
    assert 0 < int(ours["outputs"][0].sum()) < ours["outputs"][0].numel()


def test_slstm_keeps_its_states_when_input_and_hidden_sizes_differ(driver, tmp_path):
    """snnTorch's SLSTM compares its states with the input's shape: with input_size !=
    hidden_size they never match and it restarts from zero at every step (so the cell
    has no memory). Here they are kept: the oracle is snnTorch's own cell stepped with the
    states it should have kept; snnTorch's own output differs."""
    o, layer, x, g = slstm_case(2, 4, "step")

    def kept(l, xi):  # snnTorch's cell and reset, the states carried over
        spikes, syns, mems = [], [], []
        syn = mem = torch.zeros(xi.shape[1], 6)
        for _ in range(2):
            for t in range(xi.shape[0]):
                reset = (mem - l.threshold > 0).float()
                h, c = l.lstm_cell(xi[t], (mem, syn))
                mem = {"subtract": h - reset * l.threshold, "zero": h - h * reset,
                       "none": h}[l.reset_mechanism]
                syn = c
                spikes.append(l.spike_grad(mem - l.threshold))
            syns.append(syn)
            mems.append(mem)
        return [torch.stack(spikes), torch.stack(syns), torch.stack(mems)]

    ours = compare_case(driver, tmp_path, "SLSTM", o, layer, x, kept, g, mode="step")
    theirs_buggy = slstm_outputs(layer, x)[2]
    assert not torch.allclose(ours["outputs"][2], theirs_buggy.detach())


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("mode", ["step", "sequence"])
def test_sconv2dlstm_matches_snntorch(seed, mode, driver, tmp_path):
    g = torch.Generator().manual_seed(seed)
    torch.manual_seed(seed)
    sur = SURROGATES[seed % len(SURROGATES)]
    pools = [(0, 0), (2, 0), (0, 2), (0, 0)][seed]
    kernel = [3, 5, (3, 5), (1, 3)][seed]
    o = dict(in_channels=2, out_channels=3, kernel_size=list(kernel) if isinstance(kernel, tuple)
             else [kernel], bias=seed % 2 == 0,
             max_pool=pools[0], avg_pool=pools[1], threshold=torch.tensor(0.15),
             spike_grad_text=sur[1], learn_threshold=seed % 2 == 1,
             reset_mechanism=["subtract", "zero", "none", "subtract"][seed])
    layer = snntorch.SConv2dLSTM(in_channels=2, out_channels=3, kernel_size=kernel,
                                 bias=o["bias"], max_pool=o["max_pool"], avg_pool=o["avg_pool"],
                                 threshold=0.15, spike_grad=sur[0](),
                                 learn_threshold=o["learn_threshold"],
                                 reset_mechanism=o["reset_mechanism"])
    with torch.no_grad():  # larger gates: the cells cross the threshold
        layer.conv.weight.mul_(4)
    x = rnd(g, 5, 2, 2, 6, 6) * 2

    def outs(l, xi):
        syn, mem = l.reset_mem()
        spikes = []
        for t in range(xi.shape[0]):
            spk, syn, mem = l(xi[t], syn, mem)
            spikes.append(spk)
        return [torch.stack(spikes), syn, mem]

    ours = compare_case(driver, tmp_path, "SConv2dLSTM", o, layer, x, outs, g, mode=mode)
    assert 0 < int(ours["outputs"][0].sum()) < ours["outputs"][0].numel()


@pytest.mark.parametrize("dims", [1, 2])
@pytest.mark.parametrize("affine,momentum", [(True, 0.2), (False, 0.2), (True, None)])
def test_batchnormtt_matches_snntorch(dims, affine, momentum, driver, tmp_path):
    """A batch norm per step without bias: training outputs, the running statistics, eval
    outputs, and the gradients of the input and the weights."""
    g = torch.Generator().manual_seed(dims)
    T, B, C = 4, 5, 3
    make = snntorch.BatchNormTT1d if dims == 1 else snntorch.BatchNormTT2d
    bntt = make(C, T, eps=1e-4, momentum=momentum, affine=affine)
    with torch.no_grad():
        for p in bntt.parameters():
            p.uniform_(0.5, 1.5, generator=g)
    x = rnd(g, T, B, C, *([7] if dims == 1 else [4, 4])) * 3 - 1
    o = dict(features=C, time_steps=T, eps=1e-4, momentum=momentum, affine=affine)

    def outs(l, xi):
        l.train()
        l[0](xi[0] * 2)  # a first batch: the cumulative average (momentum None) needs two
        train = [l[t](xi[t]) for t in range(T)]
        l.eval()
        ev = [l[t](xi[t]) for t in range(T)]
        stats = [torch.stack([bn.running_mean, bn.running_var]) for bn in l]
        return [torch.stack(train), torch.stack(ev), torch.stack(stats)]

    compare_case(driver, tmp_path, f"BatchNormTT{dims}d", o, bntt, x, outs, g)
    assert [n for n, _ in bntt.named_parameters()] == (
        [f"{t}.weight" for t in range(T)] if affine else [])
