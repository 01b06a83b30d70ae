#include "snn/data/collate.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

namespace snn::data {

at::Tensor pad_tensors(const std::vector<at::Tensor>& samples, bool batch_first) {
  TORCH_CHECK(!samples.empty(), "snn::data::pad_tensors: expected at least one sample, got none");
  int64_t max_length = 0;
  for (size_t i = 0; i < samples.size(); ++i) {
    TORCH_CHECK(samples[i].dim() >= 1, "snn::data::pad_tensors: sample ", i,
                " must have a time dimension, got shape ", samples[i].sizes());
    TORCH_CHECK(samples[i].sizes().slice(1) == samples[0].sizes().slice(1),
                "snn::data::pad_tensors: sample ", i, " has shape ", samples[i].sizes(),
                ", which differs from sample 0's ", samples[0].sizes(), " beyond dim 0");
    max_length = std::max(max_length, samples[i].size(0));
  }
  std::vector<at::Tensor> padded;
  padded.reserve(samples.size());
  for (const auto& s : samples) {
    const auto dtype = at::promote_types(s.scalar_type(), at::kFloat);
    auto shape = s.sizes().vec();
    shape[0] = max_length - s.size(0);
    padded.push_back(at::cat({s.to(dtype), at::zeros(shape, s.options().dtype(dtype))}));
  }
  return at::stack(padded, batch_first ? 0 : 1);
}

torch::data::Example<> PadTensors::apply_batch(std::vector<torch::data::Example<>> batch) {
  std::vector<at::Tensor> data, targets;
  for (auto& example : batch) {
    data.push_back(std::move(example.data));
    targets.push_back(std::move(example.target));
  }
  // As Tonic: one-value targets ([] or [1]) become [B]; targets of two or more dims are
  // stacked along dim 0 (batch first) or the last dim. (Tonic fails on 1-d targets of
  // several values; they are stacked along dim 0 here.)
  const auto& first = targets.front();
  if (first.dim() <= 1 && first.numel() == 1) {
    for (auto& t : targets) t = t.reshape({});
  }
  const bool along_last = !batch_first_ && first.dim() >= 2;
  auto target = at::stack(targets, along_last ? -1 : 0);
  return {pad_tensors(data, batch_first_), target};
}

}  // namespace snn::data
