"""snn::analysis::Analyzer against Sinabs' SNNAnalyzer: the synops, firing rates and neuron
counts of every layer and of the model (of the last batch and averaged over the batches),
and the gradient of a synops loss with respect to every weight, on the synops tutorial's
conv SNN (with SumPool2d, and with AvgPool2d for the pooling correction), the SHD MLP, and
the MLP in nested Sequentials. Two batches, a synops-loss backward after each (states
reset before each): the second backward must not fail on either side."""
import warnings

import pytest
import sinabs
import sinabs.layers as sl
import torch
from torch import nn

from conftest import ATOL, RTOL
from test_sinabs_structure import close, run


def sinabs_model(name, batch_size):
    if name in ("conv", "conv_avg"):
        iaf = lambda: sl.IAFSqueeze(batch_size=batch_size, min_v_mem=-1.0)
        pool = (lambda: sl.SumPool2d(2)) if name == "conv" else (lambda: nn.AvgPool2d(2))
        return nn.Sequential(
            sl.FlattenTime(), nn.Conv2d(1, 16, 5, bias=False), iaf(), pool(),
            nn.Conv2d(16, 32, 5, bias=False), iaf(), pool(),
            nn.Conv2d(32, 120, 4, bias=False), iaf(), nn.Flatten(),
            nn.Linear(120, 10, bias=False), iaf(), sl.UnflattenTime(batch_size=batch_size))
    if name == "shd":
        return nn.Sequential(nn.Linear(140, 64), sl.IAF(), nn.Linear(64, 64), sl.IAF(),
                             nn.Linear(64, 20), sl.IAF())
    assert name == "nested"
    return nn.Sequential(nn.Sequential(nn.Linear(140, 64), sl.IAF()),
                         nn.Sequential(nn.Linear(64, 64), sl.IAF(), nn.Linear(64, 20)),
                         sl.IAF())


def inputs(name, B, T, g):
    if name.startswith("conv"):
        return [(torch.rand(B, T, 1, 28, 28, generator=g) < 0.3).float() for _ in range(2)]
    return [(torch.rand(B, T, 140, generator=g) < 0.2).float() * 2 for _ in range(2)]


def to_float(v):
    return float(v) if not torch.is_tensor(v) else float(v.detach())


@pytest.mark.parametrize("name", ["conv", "conv_avg", "shd", "nested"])
def test_analyzer_matches_sinabs(name, driver, tmp_path):
    B, T, dt = 3, 10, 0.5
    g = torch.Generator().manual_seed(7)
    xs = inputs(name, B, T, g)
    torch.manual_seed(5)
    model = sinabs_model(name, B)
    with torch.no_grad():  # weights strong enough that every layer spikes
        for p in model.parameters():
            if p.requires_grad:
                p.mul_(3.0)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        analyzer = sinabs.SNNAnalyzer(model, dt=dt)
    weights = {k: v.detach().clone() for k, v in model.state_dict().items()}
    for x in xs:
        sinabs.reset_states(model)
        model.zero_grad()
        model(x)
        # The sum of the per-layer synops: Sinabs' model total leaves out the AvgPool2d
        # correction (see below); without AvgPool2d the two are the same.
        params = analyzer.get_layer_statistics()["parameter"].values()
        sum(p["synops"] for p in params).backward()
    ours = run(driver, dict(layer="analyzer", model=name, batch_size=B, dt=dt, inputs=xs,
                            weights=weights), tmp_path)
    assert ours["n_batches"] == 2

    for average, key in ((False, "last"), (True, "average")):
        layers = analyzer.get_layer_statistics(average=average)
        mine = ours[key]
        assert sorted(mine["spiking"]) == sorted(layers["spiking"]), key
        for layer, s in layers["spiking"].items():
            m = mine["spiking"][layer]
            what = f"{key} {layer}"
            assert m["n_neurons"] == s["n_neurons"], what
            assert to_float(s["firing_rate"]) > 0, f"{what}: the layer must spike"
            close(m["firing_rate"], s["firing_rate"].detach().reshape(()), f"{what} firing_rate")
            close(m["firing_rate_per_neuron"], s["firing_rate_per_neuron"].detach(),
                  f"{what} firing_rate_per_neuron")
        assert sorted(mine["parameter"]) == sorted(layers["parameter"]), key
        for layer, p in layers["parameter"].items():
            m = mine["parameter"][layer]
            what = f"{key} {layer}"
            assert to_float(p["synops"]) > 0, f"{what}: the layer must receive spikes"
            close(m["synops"], p["synops"].detach().reshape(()).float(), f"{what} synops")
            assert m["num_timesteps"] == p["num_timesteps"], what
            assert m["time_window"] == pytest.approx(p["time_window"]), what
            close(m["synops_per_second"], p["synops/s"].detach().reshape(()).float(),
                  f"{what} synops/s")
        stats = analyzer.get_model_statistics(average=average)
        close(mine["model"]["firing_rate"], stats["firing_rate"].detach(), f"{key} model firing_rate")
        assert mine["model"]["n_spiking_neurons"] == int(stats["n_spiking_neurons"]), key
        if name != "conv_avg":
            close(mine["model"]["synops"], stats["synops"].detach().reshape(()).float(),
                  f"{key} model synops")
        else:
            # Sinabs sums the synops before the AvgPool2d correction; snn.cpp sums the
            # corrected per-layer values (see snn/analysis/analyzer.h).
            corrected = sum(p["synops"].detach() for p in layers["parameter"].values())
            close(mine["model"]["synops"], corrected.reshape(()).float(), f"{key} model synops")
            assert to_float(stats["synops"]) < to_float(corrected)

    # The weights the synops loss reaches: those of every parameter layer but the last
    # (a layer's synops depend on its input, not on its own weights).
    reached = {n: p for n, p in model.named_parameters() if p.grad is not None}
    assert sorted(ours["grad_params"]) == sorted(reached)
    assert len(reached) >= 2
    for n, p in reached.items():
        assert p.grad.abs().sum() > 0, f"{n}: the synops loss must reach it"
        close(ours["grad_params"][n], p.grad, f"grad of the synops loss w.r.t. {n}")
