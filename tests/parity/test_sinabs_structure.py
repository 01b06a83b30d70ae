"""snn.cpp's structural layers, ANN→SNN conversion and the tutorial's conv SNN against
Sinabs: SumPool2d (values and its peculiar gradient), Repeat, from_model with
normalize_weights, and examples/conv_snn (FlattenTime, Conv2d, IAFSqueeze, SumPool2d,
Flatten, Linear, UnflattenTime) with the same weights and input spikes."""
import subprocess

import pytest
import sinabs
import sinabs.layers as sl
import sinabs.utils
import torch
from torch import nn

from conftest import ATOL, BUILD, RTOL

CONV_SNN = BUILD / "conv_snn"


def run(program, case, tmp_path):
    case_file, result_file = tmp_path / "case.pt", tmp_path / "result.pt"
    torch.save(case, case_file)
    proc = subprocess.run([str(program), str(case_file), str(result_file)],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    # Written by our own program (a TorchScript-pickled dict), not an outside file.
    return torch.load(result_file, weights_only=False)


def close(actual, expected, what):
    """atol grows with the tensor's magnitude: float32 sums of large terms (see
    test_sinabs_layers.assert_close)."""
    atol = ATOL * max(1.0, float(expected.abs().max())) if expected.numel() else ATOL
    torch.testing.assert_close(actual, expected, atol=atol, rtol=RTOL, msg=lambda m: f"{what}: {m}")


def sinabs_conv_snn(batch_size):
    iaf = lambda: sl.IAFSqueeze(batch_size=batch_size, min_v_mem=-1.0)
    return nn.Sequential(
        sl.FlattenTime(), nn.Conv2d(1, 16, 5, bias=False), iaf(), sl.SumPool2d(2),
        nn.Conv2d(16, 32, 5, bias=False), iaf(), sl.SumPool2d(2),
        nn.Conv2d(32, 120, 4, bias=False), iaf(), nn.Flatten(),
        nn.Linear(120, 10, bias=False), iaf(), sl.UnflattenTime(batch_size=batch_size))


@pytest.mark.parametrize("seed", [0, 1])
def test_conv_snn_example_matches_sinabs(seed, tmp_path):
    if not CONV_SNN.exists():
        pytest.fail(f"{CONV_SNN} not found: build first (scripts/build.sh)")
    torch.manual_seed(seed)
    B, T = 3, 12
    x = (torch.rand(B, T, 1, 28, 28) < 0.3).float() * 2
    for scale in range(2, 20):  # weights strong enough that the output layer spikes
        torch.manual_seed(seed)
        model = sinabs_conv_snn(B)
        with torch.no_grad():
            for p in model.parameters():
                if p.requires_grad:
                    p.mul_(scale)
        out = model(x)
        if out.sum() > 0:
            break
    out.sum().backward()
    assert out.sum() > 0, "the network must emit output spikes"
    ours = run(CONV_SNN, {"input": x, "weights": {k: v.detach() for k, v in model.state_dict().items()}},
               tmp_path)
    assert torch.equal(ours["output"], out.detach())
    for name, p in model.named_parameters():
        if p.requires_grad:  # Sinabs keeps spike_threshold and min_v_mem as frozen parameters
            close(ours["grad_" + name], p.grad, f"grad of {name}")


@pytest.mark.parametrize("kernel,stride,ceil_mode", [(2, 2, False), (3, 2, True), (2, 1, False)])
def test_sumpool2d_matches_sinabs(kernel, stride, ceil_mode, driver, tmp_path):
    """Values and gradient, which is zero where a window sums to zero (LPPool2d with p=1)."""
    g = torch.Generator().manual_seed(kernel * 10 + stride)
    x = (torch.rand(4, 3, 9, 11, generator=g) < 0.25).float() * torch.randint(1, 3, (4, 3, 9, 11), generator=g)
    grad_output = None
    xs = x.clone().requires_grad_(True)
    out = sl.SumPool2d(kernel, stride, ceil_mode)(xs)
    grad_output = torch.randn(out.shape, generator=g)
    (out * grad_output).sum().backward()
    assert (out == 0).any() and (out > 0).any(), "windows with and without spikes"
    ours = run(driver, dict(layer="SumPool2d", kernel_size=kernel, stride=stride, ceil_mode=ceil_mode,
                            input=x, grad_output=grad_output), tmp_path)
    assert torch.equal(ours["output"], out.detach())
    torch.testing.assert_close(ours["grad_input"], xs.grad, atol=0, rtol=0)
    assert (xs.grad == 0).any(), "the zero-window gradient must be exercised"


def test_repeat_matches_sinabs(driver, tmp_path):
    torch.manual_seed(2)
    conv = nn.Conv2d(2, 5, 3)
    x = torch.rand(3, 4, 2, 7, 7)
    xs = x.clone().requires_grad_(True)
    out = sl.Repeat(conv)(xs)
    grad_output = torch.randn(out.shape)
    (out * grad_output).sum().backward()
    weights = {"module." + k: v.detach() for k, v in conv.state_dict().items()}
    ours = run(driver, dict(layer="Repeat", input=x, grad_output=grad_output, weights=weights), tmp_path)
    close(ours["output"], out.detach(), "output")
    close(ours["grad_input"], xs.grad, "grad_input")
    close(ours["grad_params"]["module.weight"], conv.weight.grad, "grad of weight")


def conversion_ann(last_relu):
    layers = [nn.Conv2d(2, 4, 3, padding=1), nn.ReLU(), nn.AvgPool2d(2), nn.Conv2d(4, 8, 3),
              nn.ReLU(), nn.Flatten(), nn.Linear(32, 10)]
    return nn.Sequential(*layers, *([nn.ReLU()] if last_relu else []))


@pytest.mark.parametrize("last_relu,options", [
    (True, dict(spike_threshold=1.0, min_v_mem=-1.0, bias_rescaling=1.0, add_spiking_output=False)),
    (False, dict(spike_threshold=0.5, min_v_mem=None, bias_rescaling=2.0, add_spiking_output=True)),
])
def test_from_model_matches_sinabs(last_relu, options, driver, tmp_path):
    """normalize_weights on sample data, then from_model: every ReLU an IAFSqueeze, the same
    normalised weights, the same output spikes and gradients on frames [B·T, 2, 8, 8]."""
    torch.manual_seed(3)
    ann = conversion_ann(last_relu)
    weights = {k: v.detach().clone() for k, v in ann.state_dict().items()}
    sample = torch.rand(16, 2, 8, 8)
    B, T = 2, 15
    x = (torch.rand(B * T, 2, 8, 8) < 0.3).float()
    layers = dict(output_layers=["1", "4"], param_layers=["0", "3"], percentile=99.0)
    sinabs.utils.normalize_weights(ann, sample, **layers)
    network = sinabs.from_model(ann, batch_size=B, **options)
    snn = network.spiking_model
    xs = x.clone().requires_grad_(True)
    out = snn(xs)
    grad_output = torch.randn(out.shape)
    (out * grad_output).sum().backward()
    assert out.sum() > 0, "the converted network must spike"
    ours = run(driver, dict(layer="from_model", weights=weights, sample=sample, input=x,
                            grad_output=grad_output, batch_size=B, last_relu=last_relu,
                            **layers, **options), tmp_path)
    expected = ["0 torch::nn::Conv2d", "1 snn::IAFSqueeze", "2 torch::nn::AvgPool2d",
                "3 torch::nn::Conv2d", "4 snn::IAFSqueeze", "5 torch::nn::Flatten",
                "6 torch::nn::Linear", "7 snn::IAFSqueeze" if last_relu else "spike_output snn::IAFSqueeze"]
    assert list(ours["children"]) == expected
    assert [n for n, _ in snn.named_children()] == [e.split()[0] for e in expected]
    # Sinabs keeps spike_threshold and min_v_mem as frozen parameters; snn.cpp as options.
    trained = {n: p for n, p in snn.named_parameters() if p.requires_grad}
    assert sorted(ours["params"]) == sorted(trained)
    for name, p in trained.items():
        close(ours["params"][name], p.detach(), f"normalised {name}")
    assert torch.equal(ours["output"], out.detach())
    close(ours["grad_input"], xs.grad, "grad_input")
    for name, p in trained.items():
        close(ours["grad_params"][name], p.grad, f"grad of {name}")
