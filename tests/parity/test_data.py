"""snn::data::pad_tensors against tonic.collation.PadTensors."""
import pytest
import tonic
import torch


@pytest.mark.parametrize("batch_first", [True, False])
@pytest.mark.parametrize("dtype", [torch.int16, torch.float32, torch.float64, torch.uint8])
def test_pad_tensors_matches_tonic(snn_ops, batch_first, dtype):
    g = torch.Generator().manual_seed(3)
    samples = [(torch.rand(n, 2, 5, generator=g) * 9).to(dtype) for n in (3, 7, 1, 7)]
    expected, _ = tonic.collation.PadTensors(batch_first=batch_first)(
        [(s, torch.tensor(i)) for i, s in enumerate(samples)])
    got = snn_ops.pad_tensors(samples, batch_first)
    assert got.dtype == expected.dtype
    assert torch.equal(got, expected)
