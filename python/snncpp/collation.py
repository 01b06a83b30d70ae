"""Tonic's collation on snn.cpp's op: ``snncpp.collation.PadTensors`` pads a batch of
samples of different lengths in one call (``torch.ops.snn.pad_tensors``) instead of one
``torch.cat`` and one zero tensor per sample. The same batches, the same dtype (Tonic's
promotion of integer frames to float32 included)."""
from __future__ import annotations

from typing import Any, List, Sequence, Tuple

import tonic.collation as _tc
import torch

from . import ops

__all__ = ["PadTensors"]


class PadTensors(_tc.PadTensors):
    """tonic.collation.PadTensors: zero-pads the samples [T_i, ...] of a batch to the longest
    and stacks them ([B, T, ...] with batch_first, else [T, B, ...]); targets as Tonic
    collates them. Sparse samples go through Tonic's own code."""

    def __call__(self, batch: Sequence[Tuple[Any, Any]]) -> Tuple[torch.Tensor, torch.Tensor]:
        samples: List[torch.Tensor] = [
            s if isinstance(s, torch.Tensor) else torch.as_tensor(s) for s, _ in batch]
        if any(s.is_sparse for s in samples) or any(s.device.type != "cpu" for s in samples):
            return super().__call__(batch)
        targets = [t if isinstance(t, torch.Tensor) else torch.tensor(t) for _, t in batch]
        padded = ops.pad_tensors(samples, self.batch_first)
        if targets[0].dim() > 1:
            return padded, torch.stack(targets, 0 if self.batch_first else -1)
        return padded, torch.tensor(targets, device=targets[-1].device)
