#pragma once
/// \file
/// Synaptic delays: a tapped delay line, snn::DelayLine, and a delay per neuron, snn::Delay
/// (NIR's Delay node).
///
/// Input [B, T, C, *rest]; output [B, T, K·C, *rest] for K delays d_0 … d_{K-1} (in time
/// steps): block k of the channel dimension is the input d_k steps ago,
///   y[b, t, k·C + c, …] = x[b, t - d_k, c, …],
/// so that the layer after it (a Linear over C·K inputs, a Conv2d over K·C channels) has one
/// synapse per source and delay. A neuron with a short membrane time constant behind such a
/// layer fires on the coincidence of features that were apart in time, which lets a
/// feed-forward network tell apart inputs that differ in the order of their parts (spoken
/// words) rather than in their sums alone. Synops count every delayed copy of a spike.
///
/// The last max(d) input steps are the layer's state ("history", [B, max(d), C, *rest],
/// zeros at first), so that a sequence cut into several calls gives the same output as one
/// call; `reset_states()` starts again from silence (see snn/nn/stateful.h). No parameters.
#include <ATen/core/Tensor.h>
#include <torch/arg.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/pimpl.h>

#include <vector>

#include "snn/nn/stateful.h"

namespace snn {

/// Options of snn::DelayLine. Example: `snn::DelayLine(snn::DelayLineOptions({0, 4, 8}))`.
struct DelayLineOptions {
  /* implicit */ DelayLineOptions(std::vector<int64_t> delays) : delays_(std::move(delays)) {}
  /// The delays in time steps, each >= 0, at least one; the output holds them in this order.
  TORCH_ARG(std::vector<int64_t>, delays);
};

/// Tapped delay line over batch-first input [B, T, C, *rest] → [B, T, K·C, *rest].
class DelayLineImpl : public torch::nn::Cloneable<DelayLineImpl>, public StatefulModule {
 public:
  explicit DelayLineImpl(DelayLineOptions options);
  void reset() override;
  at::Tensor forward(const at::Tensor& input);
  void pretty_print(std::ostream& os) const override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  DelayLineOptions options;
  /// The longest delay.
  int64_t max_delay() const { return max_delay_; }

 private:
  int64_t max_delay_ = 0;
};
TORCH_MODULE(DelayLine);

/// Options of snn::Delay. Example: `snn::Delay(snn::DelayOptions(torch::tensor({0, 2, 5})))`.
struct DelayOptions {
  /* implicit */ DelayOptions(at::Tensor delays) : delays_(std::move(delays)) {}
  /// The delay of each feature in time steps: integers >= 0, of the feature shape (or
  /// broadcastable to it, right-aligned; a scalar delays every feature alike).
  TORCH_ARG(at::Tensor, delays);
};

/// A delay per feature over batch-first input [B, T, *features] → the same shape:
///   y[b, t, n] = x[b, t - d_n, n]   (zero before the first input step).
/// NIR's Delay node (y(t) = x(t - τ)) with d = round(τ / dt). The last max(d) input steps
/// are the state ("history", [B, max(d), *features]), so that a sequence cut into several
/// calls gives the same output as one call. No parameters.
class DelayImpl : public torch::nn::Cloneable<DelayImpl>, public StatefulModule {
 public:
  explicit DelayImpl(DelayOptions options);
  void reset() override;
  at::Tensor forward(const at::Tensor& input);
  void pretty_print(std::ostream& os) const override;
  void save(torch::serialize::OutputArchive& archive) const override;
  void load(torch::serialize::InputArchive& archive) override;

  DelayOptions options;
  /// The longest delay.
  int64_t max_delay() const { return max_delay_; }

 private:
  int64_t max_delay_ = 0;
};
TORCH_MODULE(Delay);

}  // namespace snn
