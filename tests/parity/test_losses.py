"""snn::train's losses against snnTorch's (snntorch.functional): ce_rate_loss,
mse_count_loss (with rates whose target counts are not whole: snnTorch truncates them) and
mse_membrane_loss, ce_count_loss (the summed-spikes cross-entropy of Sinabs' tutorials)
and ce_max_membrane_loss. The value and its gradient with respect to the output, on seeded random outputs."""
import pytest
import snntorch.functional as SF
import torch
from torch import nn

from conftest import ATOL, RTOL
from test_sinabs_structure import run


def oracle(kind, out_btc, labels, options):
    """The loss as the Python library computes it; snnTorch takes [T, B, C]."""
    tbc = out_btc.transpose(0, 1)
    if kind == "rate_ce":
        return SF.ce_rate_loss()(tbc, labels)
    if kind == "count_mse":
        return SF.mse_count_loss(correct_rate=options["correct_rate"],
                                 incorrect_rate=options["incorrect_rate"])(tbc, labels)
    if kind == "membrane_mse":
        return SF.mse_membrane_loss(on_target=options["on_target"],
                                    off_target=options["off_target"])(tbc, labels)
    if kind == "sum_ce":  # Sinabs' tutorials' loss is snnTorch's ce_count_loss
        return SF.ce_count_loss()(tbc, labels)
    assert kind == "max_membrane_ce"
    return SF.ce_max_membrane_loss()(tbc, labels)


@pytest.mark.parametrize("kind,options", [
    ("rate_ce", {}),
    ("count_mse", {"correct_rate": 0.8, "incorrect_rate": 0.1}),
    ("count_mse", {"correct_rate": 0.75, "incorrect_rate": 0.3}),
    ("membrane_mse", {"on_target": 1.5, "off_target": 0.2}),
    ("sum_ce", {}),
    ("max_membrane_ce", {}),
])
def test_loss_matches_the_python_library(kind, options, driver, tmp_path):
    g = torch.Generator().manual_seed(11)
    B, T, C = 5, 7, 4
    spikes = (torch.rand(B, T, C, generator=g) < 0.4).float()
    out = torch.randn(B, T, C, generator=g) if "membrane" in kind else spikes
    labels = torch.randint(0, C, (B,), generator=g)
    x = out.clone().requires_grad_(True)
    expected = oracle(kind, x, labels, options).reshape(())
    expected.backward()
    ours = run(driver, dict(layer="loss", kind=kind, output=out, labels=labels, **options),
               tmp_path)
    torch.testing.assert_close(ours["loss"], expected.detach(), atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(ours["grad_output"], x.grad, atol=ATOL, rtol=RTOL)
    assert ours["prediction"].shape == (B,)


def test_a_negative_off_target_is_kept(driver, tmp_path):
    """snnTorch builds the membrane targets as clamp(one_hot * on_target, min=off_target),
    which turns a negative off_target into 0; snn.cpp keeps it (documented at
    LossOptions::off_target). Both sides, on the same outputs."""
    g = torch.Generator().manual_seed(12)
    out = torch.randn(4, 6, 3, generator=g)
    labels = torch.tensor([0, 2, 1, 2])
    options = {"on_target": 1.0, "off_target": -0.5}
    ours = run(driver, dict(layer="loss", kind="membrane_mse", output=out, labels=labels,
                            **options), tmp_path)
    snntorch_value = oracle("membrane_mse", out, labels, options).reshape(())
    one_hot = nn.functional.one_hot(labels, 3).float().unsqueeze(1)
    as_written = ((out - (one_hot * 1.0 + (1 - one_hot) * -0.5)) ** 2).mean()
    as_snntorch = ((out - one_hot * 1.0) ** 2).mean()
    torch.testing.assert_close(snntorch_value, as_snntorch, atol=ATOL, rtol=RTOL)
    torch.testing.assert_close(ours["loss"], as_written, atol=ATOL, rtol=RTOL)
    assert not torch.isclose(ours["loss"], snntorch_value)
