"""snncpp.collation.PadTensors against tonic.collation.PadTensors (the oracle, run here)."""
import numpy as np
import pytest
import torch

tonic = pytest.importorskip("tonic")
from snncpp.collation import PadTensors  # noqa: E402


def batches(seed):
    rng = np.random.default_rng(seed)
    lengths = [3, 9, 1, 9, 4]
    yield "int16 numpy frames", [((rng.random((n, 2, 5)) * 9).astype(np.int16), i)
                                 for i, n in enumerate(lengths)]
    yield "float32 tensors", [(torch.from_numpy(rng.random((n, 7)).astype(np.float32)), np.int64(i))
                              for i, n in enumerate(lengths)]
    yield "float64 tensors, tensor targets", [(torch.rand(n, 1, 3, dtype=torch.float64),
                                               torch.tensor(i)) for i, n in enumerate(lengths)]
    yield "uint8, 2-d targets", [(torch.randint(0, 5, (n, 4), dtype=torch.uint8),
                                  torch.full((2, 3), i)) for i, n in enumerate(lengths)]
    yield "one sample", [(np.ones((4, 2), np.int16), 7)]


@pytest.mark.parametrize("batch_first", [True, False])
def test_pad_tensors_equals_tonics(batch_first):
    for name, batch in batches(0):
        want_x, want_y = tonic.collation.PadTensors(batch_first=batch_first)(batch)
        got_x, got_y = PadTensors(batch_first=batch_first)(batch)
        assert got_x.dtype == want_x.dtype and torch.equal(got_x, want_x), name
        assert got_y.dtype == want_y.dtype and torch.equal(got_y, want_y), name


def test_sparse_samples_go_through_tonics_code():
    batch = [(torch.eye(n, 4).to_sparse(), i) for i, n in enumerate((2, 4))]
    want_x, _ = tonic.collation.PadTensors()(batch)
    batch = [(torch.eye(n, 4).to_sparse(), i) for i, n in enumerate((2, 4))]
    got_x, _ = PadTensors()(batch)
    assert got_x.is_sparse and torch.equal(got_x.to_dense(), want_x.to_dense())


def test_in_a_dataloader():
    data = [(np.full((n, 3), n, np.int16), n % 3) for n in range(1, 20)]
    for a, b in zip(torch.utils.data.DataLoader(data, batch_size=4, collate_fn=PadTensors()),
                    torch.utils.data.DataLoader(data, batch_size=4,
                                                collate_fn=tonic.collation.PadTensors())):
        assert torch.equal(a[0], b[0]) and torch.equal(a[1], b[1])
