#pragma once
/// \file
/// Batching of variable-length samples (Tonic's collation.PadTensors).
#include <torch/data/datasets/map.h>
#include <torch/data/example.h>
#include <torch/data/transforms/collate.h>

#include <vector>

namespace snn::data {

/// Pads samples [T_i, ...] with zeros at the end of dim 0 to the longest T and stacks them:
/// [B, T, ...] with `batch_first` (default), else [T, B, ...]. As Tonic's PadTensors, the
/// result is at least float32 (an integer sample is promoted; a float64 one stays float64).
at::Tensor pad_tensors(const std::vector<at::Tensor>& samples, bool batch_first = true);

/// Collation for torch::data loaders:
/// `dataset.map(snn::data::PadTensors())` → batches {data [B, T, ...], target [B, ...]}.
/// Targets as Tonic collates them: one-value targets ([] or [1]) become [B]; targets of two
/// or more dims are stacked along dim 0 (batch_first) or the last dim (time first); 1-d
/// targets of several values (which Tonic rejects) are stacked along dim 0.
class PadTensors
    : public torch::data::transforms::BatchTransform<std::vector<torch::data::Example<>>,
                                                     torch::data::Example<>> {
 public:
  explicit PadTensors(bool batch_first = true) : batch_first_(batch_first) {}
  torch::data::Example<> apply_batch(std::vector<torch::data::Example<>> batch) override;

 private:
  bool batch_first_;
};

}  // namespace snn::data
