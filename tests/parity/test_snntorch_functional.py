"""snn::snntorch::functional against snntorch.functional: every loss, option, reduction and
class weight, the first-spike-time functions with their custom gradients, the metrics and the
regulariser, on seeded random outputs (values and gradients with respect to the output).
snnTorch's bugs (documented in include/snn/snntorch/functional.h) are asserted on both sides:
snnTorch's result is shown to be the buggy one, ours to equal snnTorch's own computation
where the bug is absent. Bad arguments give errors that name the value."""
import itertools

import pytest
import torch

from conftest import ATOL, RTOL

T, B, C = 7, 5, 4


@pytest.fixture(scope="module")
def SF():
    import snntorch.functional as functional
    return functional


def data(seed, membrane=False, outputs=C, steps=T, batch=B, classes=None, p=0.4):
    g = torch.Generator().manual_seed(seed)
    if membrane:
        out = torch.randn(steps, batch, outputs, generator=g)
    else:
        out = (torch.rand(steps, batch, outputs, generator=g) < p).float()
    labels = torch.randint(0, classes or outputs, (batch,), generator=g)
    weight = torch.rand(classes or outputs, generator=g) + 0.5
    return out, labels, weight


def value_and_grad(fn, out):
    x = out.clone().requires_grad_(True)
    y = fn(x)
    y.sum().backward()
    return y.detach(), x.grad


def assert_same(ours_fn, theirs_fn, out):
    ours, our_grad = value_and_grad(ours_fn, out)
    theirs, their_grad = value_and_grad(theirs_fn, out)
    assert ours.numel() == theirs.numel()
    torch.testing.assert_close(ours, theirs.reshape(ours.shape), atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(our_grad, their_grad, atol=ATOL, rtol=RTOL)


REDUCTIONS = ["mean", "sum", "none"]
CE_LOSSES = ["ce_rate_loss", "ce_count_loss", "ce_max_membrane_loss"]


@pytest.mark.parametrize("name,reduction", list(itertools.product(CE_LOSSES, REDUCTIONS)))
def test_cross_entropy_losses_equal_snntorch(snn_ops, SF, name, reduction):
    out, labels, _ = data(1, membrane=name == "ce_max_membrane_loss")
    ours = getattr(snn_ops, "functional_" + name)
    assert_same(lambda x: ours(x, labels, reduction=reduction),
                lambda x: getattr(SF, name)(reduction=reduction)(x, labels), out)


@pytest.mark.parametrize("name,reduction",
                         list(itertools.product(CE_LOSSES, ["mean", "none"])))
def test_cross_entropy_class_weights_equal_snntorch(snn_ops, SF, name, reduction):
    out, labels, weight = data(2, membrane=name == "ce_max_membrane_loss")
    ours = getattr(snn_ops, "functional_" + name)
    assert_same(lambda x: ours(x, labels, reduction=reduction, weight=weight),
                lambda x: getattr(SF, name)(reduction=reduction, weight=weight)(x, labels), out)


@pytest.mark.parametrize("name", CE_LOSSES + ["mse_temporal_loss"])
def test_weight_with_sum_sums(snn_ops, SF, name):
    """snnTorch: a weight with reduction "sum" returns the unreduced loss; here it is summed
    (snnTorch's own "none" result, summed). mse_temporal_loss's weight needs B = C in
    snnTorch (see test_mse_weights_are_per_sample), so that case runs with B = C."""
    batch = C if name == "mse_temporal_loss" else B
    out, labels, weight = data(3, membrane=name == "ce_max_membrane_loss", batch=batch)
    ours = getattr(snn_ops, "functional_" + name)
    theirs_sum = getattr(SF, name)(reduction="sum", weight=weight)(out.clone(), labels)
    theirs_none = getattr(SF, name)(reduction="none", weight=weight)(out.clone(), labels)
    assert theirs_sum.numel() > 1 and torch.equal(theirs_sum, theirs_none)  # the bug
    if name == "mse_temporal_loss":  # snnTorch weighs column c by weight[labels[c]]
        return
    assert_same(lambda x: ours(x, labels, reduction="sum", weight=weight),
                lambda x: getattr(SF, name)(reduction="none", weight=weight)(x, labels).sum(),
                out)


@pytest.mark.parametrize("name,reduction", list(itertools.product(
    ["ce_count_loss", "mse_count_loss"], REDUCTIONS)))
def test_population_code_equals_snntorch(snn_ops, SF, name, reduction):
    out, labels, _ = data(4, outputs=12, classes=3)
    ours = getattr(snn_ops, "functional_" + name)
    assert_same(lambda x: ours(x, labels, population_code=True, num_classes=3,
                               reduction=reduction),
                lambda x: getattr(SF, name)(population_code=True, num_classes=3,
                                            reduction=reduction)(x, labels), out)


def test_ce_count_population_code_with_weight(snn_ops, SF):
    out, labels, weight = data(5, outputs=12, classes=3)
    assert_same(lambda x: snn_ops.functional_ce_count_loss(
        x, labels, population_code=True, num_classes=3, weight=weight),
        lambda x: SF.ce_count_loss(population_code=True, num_classes=3, weight=weight)(x, labels),
        out)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_ce_rate_population_code_pools(snn_ops, SF, reduction):
    """snnTorch's ce_rate_loss(population_code=True) does not pool and fails without a
    weight; here each step's group sums are the logits: snnTorch's ce_rate_loss of the
    pooled outputs."""
    out, labels, weight = data(6, outputs=12, classes=3)
    with pytest.raises(TypeError):
        SF.ce_rate_loss(population_code=True, num_classes=3)(out.clone(), labels)
    # With a weight, snnTorch runs the loss over the 12 ungrouped outputs.
    w12 = torch.tensor([weight[0].item()] * 4 + [weight[1].item()] * 8)
    snntorch_value = SF.ce_rate_loss(population_code=True, num_classes=3,
                                     weight=weight)(out.clone(), labels)
    unpooled = SF.ce_rate_loss(weight=w12)(out.clone(), labels)
    torch.testing.assert_close(snntorch_value, unpooled)
    pool = lambda x: x.reshape(T, B, 3, 4).sum(-1)
    assert_same(lambda x: snn_ops.functional_ce_rate_loss(
        x, labels, population_code=True, num_classes=3, reduction=reduction),
        lambda x: SF.ce_rate_loss(reduction=reduction)(pool(x), labels), out)
    assert_same(lambda x: snn_ops.functional_ce_rate_loss(
        x, labels, population_code=True, num_classes=3, weight=weight),
        lambda x: SF.ce_rate_loss(weight=weight)(pool(x), labels), out)
    ours = snn_ops.functional_ce_rate_loss(out, labels, population_code=True, num_classes=3,
                                           weight=weight)
    assert not torch.isclose(ours, snntorch_value.reshape(()))


@pytest.mark.parametrize("rates,reduction", list(itertools.product(
    [(1, 0), (0.8, 0.1), (0.75, 0.3), (0.5, 0.5)], REDUCTIONS)))
def test_mse_count_loss_equals_snntorch(snn_ops, SF, rates, reduction):
    out, labels, _ = data(7)
    cr, ir = rates
    assert_same(lambda x: snn_ops.functional_mse_count_loss(
        x, labels, correct_rate=cr, incorrect_rate=ir, reduction=reduction),
        lambda x: SF.mse_count_loss(correct_rate=cr, incorrect_rate=ir,
                                    reduction=reduction)(x, labels), out)


@pytest.mark.parametrize("targets,reduction", list(itertools.product(
    [(1, 0), (1.5, 0.2), (0.3, 0.9)], REDUCTIONS)))
def test_mse_membrane_loss_equals_snntorch(snn_ops, SF, targets, reduction):
    out, labels, _ = data(8, membrane=True)
    on, off = targets
    assert_same(lambda x: snn_ops.functional_mse_membrane_loss(
        x, labels, on_target=on, off_target=off, reduction=reduction),
        lambda x: SF.mse_membrane_loss(on_target=on, off_target=off,
                                       reduction=reduction)(x, labels), out)


def test_mse_membrane_negative_off_target_is_kept(snn_ops, SF):
    """snnTorch's targets clamp(one_hot·on, min=off) turn off_target < 0 < on_target into 0;
    here the targets are as given: snnTorch's loss with off_target 0, shifted targets."""
    out, labels, _ = data(9, membrane=True)
    theirs = SF.mse_membrane_loss(on_target=1.0, off_target=-0.5)(out.clone(), labels)
    as_zero = SF.mse_membrane_loss(on_target=1.0, off_target=0.0)(out.clone(), labels)
    torch.testing.assert_close(theirs, as_zero)  # the bug
    # Shifting outputs and targets by 0.5 leaves the error unchanged: on 1.5, off 0.
    assert_same(lambda x: snn_ops.functional_mse_membrane_loss(x, labels, on_target=1.0,
                                                               off_target=-0.5),
                lambda x: SF.mse_membrane_loss(on_target=1.5, off_target=0.0)(x + 0.5, labels),
                out)


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_mse_membrane_time_var_targets(snn_ops, SF, reduction):
    """snnTorch fails on labels [T, B]; here step t is held to labels[t]: the mean over the
    steps of snnTorch's loss of each step alone."""
    out, _, _ = data(10, membrane=True)
    labels = torch.randint(0, C, (T, B), generator=torch.Generator().manual_seed(10))
    with pytest.raises(RuntimeError):
        SF.mse_membrane_loss(time_var_targets=True)(out.clone(), labels)

    def per_step(x):
        steps = [SF.mse_membrane_loss(on_target=1.2, off_target=0.1, reduction=reduction)(
            x[t:t + 1], labels[t]) for t in range(T)]
        return torch.stack([s.reshape(s.shape if reduction == "none" else ()) for s in steps]
                           ).mean(0)

    assert_same(lambda x: snn_ops.functional_mse_membrane_loss(
        x, labels, time_var_targets=True, on_target=1.2, off_target=0.1, reduction=reduction),
        per_step, out)


@pytest.mark.parametrize("name,reduction", list(itertools.product(
    ["mse_count_loss", "mse_membrane_loss", "mse_temporal_loss"], ["mean", "none"])))
def test_mse_weights_are_per_sample(snn_ops, SF, name, reduction):
    """snnTorch multiplies the [B, C] loss by weight[labels] broadcast over the classes: it
    fails unless B = C and then weighs column c by weight[labels[c]]. Here every element of
    sample b's row is multiplied by weight[labels[b]]: snnTorch's unweighted "none" loss,
    weighted per row."""
    out, labels, weight = data(11, membrane=name == "mse_membrane_loss")
    with pytest.raises(RuntimeError):
        getattr(SF, name)(weight=weight)(out.clone(), labels)
    square, sq_labels, _ = data(12, membrane=name == "mse_membrane_loss", batch=C)
    theirs = getattr(SF, name)(weight=weight, reduction="none")(square.clone(), sq_labels)
    plain = getattr(SF, name)(reduction="none")(square.clone(), sq_labels)
    torch.testing.assert_close(theirs, plain * weight[sq_labels])  # by column: the bug
    ours = getattr(snn_ops, "functional_" + name)
    # Temporal targets whose clamp is exact in snnTorch (see test_mse_temporal_default_targets).
    theirs_kw, ours_kw = {}, {}
    if name == "mse_temporal_loss":
        theirs_kw, ours_kw = dict(on_target=2, off_target=6), dict(on_target=[2], off_target=[6])

    def oracle(x):
        loss = getattr(SF, name)(reduction="none", **theirs_kw)(x, labels)
        loss = loss * weight[labels].unsqueeze(-1)
        return loss.mean() if reduction == "mean" else loss

    assert_same(lambda x: ours(x, labels, weight=weight, reduction=reduction, **ours_kw),
                oracle, out)


def test_first_spike_time_value_and_gradient(snn_ops, SF):
    out, _, _ = data(13, p=0.15)
    out[:, 0, 0] = 0  # a neuron that never spikes: time T - 1
    g = torch.randn(B, C, generator=torch.Generator().manual_seed(13))
    assert_same(lambda x: snn_ops.functional_first_spike_time(x) * g,
                lambda x: SF.loss.SpikeTime.FirstSpike.apply(x) * g, out)


def test_multi_spike_times_per_neuron(snn_ops, SF):
    """snnTorch's MultiSpike zeroes, after each spike time, that time step of every neuron;
    here only the neuron's own spike. The oracle: snnTorch's MultiSpike on every neuron alone
    (B = N = 1, where the two agree), values and gradients."""
    out, _, _ = data(14, p=0.5)
    count = 3
    g = torch.randn(count, B, C, generator=torch.Generator().manual_seed(14))
    multi = SF.loss.SpikeTime.MultiSpike.apply

    def per_neuron(x):
        rows = [[multi(x[:, b:b + 1, n:n + 1], count)[:, 0, 0] for n in range(C)]
                for b in range(B)]
        return torch.stack([torch.stack(r, -1) for r in rows], 1)

    assert_same(lambda x: snn_ops.functional_multi_spike_times(x, count) * g,
                lambda x: per_neuron(x) * g, out)
    # The whole batch at once differs in snnTorch.
    assert not torch.equal(multi(out.clone(), count), snn_ops.functional_multi_spike_times(
        out, count))


@pytest.mark.parametrize("inverse,reduction,weighted", list(itertools.product(
    ["negate", "reciprocal"], REDUCTIONS, [False, True])))
def test_ce_temporal_loss_equals_snntorch(snn_ops, SF, inverse, reduction, weighted):
    out, labels, weight = data(15, p=0.2)
    w = weight if weighted else None
    assert_same(lambda x: snn_ops.functional_ce_temporal_loss(
        x, labels, inverse=inverse, reduction=reduction, weight=w),
        lambda x: SF.ce_temporal_loss(inverse=inverse, reduction=reduction, weight=w)(x, labels),
        out)


@pytest.mark.parametrize("targets,tolerance,reduction", list(itertools.product(
    [(2, 6), (-1, 2), (5, 0)], [0, 2], REDUCTIONS)))
def test_mse_temporal_loss_equals_snntorch(snn_ops, SF, targets, tolerance, reduction):
    """Labels to target times where on_target > off_target >= 0 or on_target <= off_target
    (snnTorch's clamp is then exact; see test_mse_temporal_default_targets)."""
    out, labels, _ = data(16, p=0.2)
    on, off = targets
    assert_same(lambda x: snn_ops.functional_mse_temporal_loss(
        x, labels, on_target=[on], off_target=[off], tolerance=tolerance, reduction=reduction),
        lambda x: SF.mse_temporal_loss(on_target=on, off_target=off, tolerance=tolerance,
                                       reduction=reduction)(x, labels), out)


@pytest.mark.parametrize("tolerance,reduction", list(itertools.product([0, 1.5], REDUCTIONS)))
def test_mse_temporal_target_is_time(snn_ops, SF, tolerance, reduction):
    out, _, _ = data(17, p=0.2)
    g = torch.Generator().manual_seed(17)
    times = torch.randint(-T, T, (B, C), generator=g).float()
    assert_same(lambda x: snn_ops.functional_mse_temporal_loss(
        x, times, target_is_time=True, tolerance=tolerance, reduction=reduction),
        lambda x: SF.mse_temporal_loss(target_is_time=True, tolerance=tolerance,
                                       reduction=reduction)(x, times.clone()), out)


def test_mse_temporal_default_targets(snn_ops, SF):
    """snnTorch's targets clamp(one_hot·0, min=-1) make every default target 0; here the
    label's neuron aims at 0 and the others at -1 (T - 1): snnTorch's target_is_time loss
    with those times."""
    out, labels, _ = data(18, p=0.2)
    zeros = torch.zeros(B, C)
    theirs = SF.mse_temporal_loss()(out.clone(), labels)
    torch.testing.assert_close(theirs, SF.mse_temporal_loss(target_is_time=True)(
        out.clone(), zeros))  # the bug
    intended = torch.where(torch.nn.functional.one_hot(labels, C).bool(), 0.0, T - 1.0)
    assert_same(lambda x: snn_ops.functional_mse_temporal_loss(x, labels),
                lambda x: SF.mse_temporal_loss(target_is_time=True)(x, intended.clone()), out)


@pytest.mark.parametrize("tolerance,reduction", list(itertools.product([0, 1], REDUCTIONS)))
def test_mse_temporal_multi_spike_single_neuron(snn_ops, SF, tolerance, reduction):
    """multi_spike against snnTorch where its MultiSpike is right (B = N = 1), with target
    lists whose clamp is exact (on_target <= off_target)."""
    g = torch.Generator().manual_seed(19)
    for trial in range(6):
        out = (torch.rand(12, 1, 1, generator=g) < 0.4).float()
        labels = torch.zeros(1, dtype=torch.long)
        on, off = [1, 3, 6], [2, 5, 8]
        assert_same(lambda x: snn_ops.functional_mse_temporal_loss(
            x, labels, on_target=on, off_target=off, multi_spike=True, tolerance=tolerance,
            reduction=reduction),
            lambda x: SF.mse_temporal_loss(on_target=on, off_target=off, multi_spike=True,
                                           tolerance=tolerance, reduction=reduction)(x, labels),
            out)


def test_mse_temporal_multi_spike_batch(snn_ops, SF):
    """multi_spike over a batch: snnTorch's loss with its MultiSpike taken per neuron (the
    documented difference) and the target times given."""
    out, labels, _ = data(20, p=0.4)
    on, off = [0, 2], [3, 5]
    one_hot = torch.nn.functional.one_hot(labels, C).bool()
    times = torch.stack([torch.where(one_hot, float(a), float(b)) for a, b in zip(on, off)])
    multi = SF.loss.SpikeTime.MultiSpike.apply

    def oracle(x):
        t = torch.stack([torch.stack([multi(x[:, b:b + 1, n:n + 1], 2)[:, 0, 0]
                                      for n in range(C)], -1) for b in range(B)], 1)
        return torch.nn.functional.mse_loss(t / T, times / T)

    assert_same(lambda x: snn_ops.functional_mse_temporal_loss(
        x, labels, on_target=on, off_target=off, multi_spike=True), oracle, out)


def test_l1_rate_sparsity(snn_ops, SF):
    out, _, _ = data(21)
    for lam in (1e-5, 0.3):
        assert_same(lambda x: snn_ops.functional_l1_rate_sparsity(x, lam),
                    lambda x: SF.l1_rate_sparsity(Lambda=lam)(x), out)


@pytest.mark.parametrize("seed", range(4))
def test_accuracies_equal_snntorch(snn_ops, SF, seed):
    out, labels, _ = data(30 + seed, p=0.3, batch=40)
    assert snn_ops.functional_accuracy_rate(out, labels) == pytest.approx(
        SF.accuracy_rate(out, labels))
    pop, pop_labels, _ = data(40 + seed, outputs=12, classes=3, batch=40)
    assert snn_ops.functional_accuracy_rate(pop, pop_labels, population_code=True,
                                            num_classes=3) == pytest.approx(
        SF.accuracy_rate(pop, pop_labels, population_code=True, num_classes=3))
    sparse, sparse_labels, _ = data(50 + seed, p=0.1, batch=40)
    assert snn_ops.functional_accuracy_temporal(sparse, sparse_labels) == pytest.approx(
        SF.accuracy_temporal(sparse, sparse_labels))


OUT = torch.zeros(T, B, C)
LABELS = torch.zeros(B, dtype=torch.long)


@pytest.mark.parametrize("call,message", [
    (lambda ops: ops.functional_ce_rate_loss(OUT[0], LABELS), "expected output of shape [T, B, C]"),
    (lambda ops: ops.functional_ce_count_loss(OUT, LABELS[:3]), "expected labels of shape [B] = [5]"),
    (lambda ops: ops.functional_mse_count_loss(OUT, LABELS + 4), "label 4 is out of range for 4 classes"),
    (lambda ops: ops.functional_ce_max_membrane_loss(OUT, LABELS.float()), "expected int64 labels"),
    (lambda ops: ops.functional_ce_count_loss(OUT, LABELS, population_code=True, num_classes=3),
     "num_classes (3) must divide the number of outputs (4)"),
    (lambda ops: ops.functional_ce_rate_loss(OUT, LABELS, population_code=True),
     "population_code needs num_classes >= 1, got 0"),
    (lambda ops: ops.functional_accuracy_rate(OUT, LABELS, population_code=True, num_classes=3),
     "num_classes (3) must divide"),
    (lambda ops: ops.functional_ce_rate_loss(OUT, LABELS, reduction="avg"),
     'reduction must be "mean", "sum" or "none", got "avg"'),
    (lambda ops: ops.functional_ce_temporal_loss(OUT, LABELS, inverse="invert"),
     'inverse must be "negate" or "reciprocal", got "invert"'),
    (lambda ops: ops.functional_ce_count_loss(OUT, LABELS, weight=torch.ones(3)),
     "expected a weight of shape [4]"),
    (lambda ops: ops.functional_mse_temporal_loss(OUT, LABELS, on_target=[0, 1],
                                                  off_target=[2], multi_spike=True),
     "on_target [0, 1] and off_target [2] must have the same length"),
    (lambda ops: ops.functional_mse_temporal_loss(OUT, LABELS, on_target=[0, 1],
                                                  off_target=[2, 3]),
     "several need multi_spike"),
    (lambda ops: ops.functional_mse_temporal_loss(OUT, torch.zeros(B, 3), target_is_time=True),
     "expected target times of shape [B, N]"),
    (lambda ops: ops.functional_mse_membrane_loss(OUT, LABELS, time_var_targets=True),
     "expected time-varying labels of shape [T, B] = [7, 5]"),
    (lambda ops: ops.functional_multi_spike_times(OUT, 0), "count must be >= 1, got 0"),
])
def test_bad_arguments_are_named(snn_ops, call, message):
    with pytest.raises(RuntimeError) as e:
        call(snn_ops)
    assert message in str(e.value), str(e.value)
