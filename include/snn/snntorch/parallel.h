#pragma once
/// \file
/// snnTorch's newer neurons (snntorch 1.0.0), which compute a whole sequence at once,
/// time-first as snnTorch takes them ([T, B, C]): StateLeaky, LinearLeaky and
/// AssociativeLeaky; DeltaLeaky (a Leaky that fires on the change of its membrane) and
/// GradedSpikes (a learnable spike magnitude). The spike of each, H(v - θ)·factor with the
/// surrogate's gradient into v and θ, is the neuron op's (snn::snntorch::fire), so every
/// surrogate of snn::Surrogate serves them; numerically snnTorch's (the parity suite holds
/// them to it).
///
///   StateLeaky(beta, channels): τ = 1/(1 - β + 1e-12) (trained with learn_beta: the
///     parameter is `tau`, as in snnTorch), mem_t = Σ_{k<K} exp(-k/τ)·x_{t-k} (a causal
///     convolution; K = T, or kernel_truncation_steps), no reset; output (spk, mem), or mem
///     alone with output=false.
///   LinearLeaky(beta, in_features, out_features): Linear, then StateLeaky.
///   AssociativeLeaky(in_dim, d_value, d_key): v = W_v x, k = W_k x, a = σ(W_α x),
///     S_t = a_t ⊙ S_{t-1} + v_t k_tᵀ (computed by snnTorch's scaled prefix sums, which this
///     follows), spikes of S (threshold 1), read out through q = W_q x when use_q_projection.
///   DeltaLeaky(delta_threshold, beta): mem_t = β·mem_{t-1} + x_t, spk = H(|mem_t - mem_{t-1}|
///     - delta_threshold), no reset; states (mem, mem_prev).
///   GradedSpikes(size, constant_factor): x · weights, weights [size, 1].
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <tuple>
#include <utility>

#include "snn/nn/neuron_options.h"
#include "snn/snntorch/neurons.h"

namespace snn::snntorch {

/// snnTorch's fire: H(mem - threshold)·graded_spikes_factor, the surrogate's gradient into
/// mem and (negated) threshold; threshold and factor broadcast against mem's last
/// dimensions. Any shape.
at::Tensor fire(const at::Tensor& mem, const at::Tensor& threshold,
                const at::Tensor& graded_spikes_factor, const Surrogate& spike_grad);

/// Options of StateLeaky. Example: `StateLeaky(StateLeakyOptions(0.9, 64).learn_beta(true))`.
struct StateLeakyOptions {
  StateLeakyOptions(Value beta, int64_t channels) : beta_(std::move(beta)), channels_(channels) {}
  /// Decay β: one value, or [channels]. Required.
  TORCH_ARG(Value, beta);
  /// Channels C of the input [T, B, C]. Required.
  TORCH_ARG(int64_t, channels);
  TORCH_ARG(Value, threshold) = 1.0;
  TORCH_ARG(Surrogate, spike_grad) = ATan{};
  TORCH_ARG(bool, surrogate_disable) = false;
  /// Train τ (the parameter "tau"). Default: false.
  TORCH_ARG(bool, learn_beta) = false;
  TORCH_ARG(bool, learn_threshold) = false;
  /// Return (spk, mem); false: mem alone (forward_mem). Default: true.
  TORCH_ARG(bool, output) = true;
  TORCH_ARG(Value, graded_spikes_factor) = 1.0;
  TORCH_ARG(bool, learn_graded_spikes_factor) = false;
  /// Kernel length K; none: T. Default: none.
  TORCH_ARG(std::optional<int64_t>, kernel_truncation_steps) = std::nullopt;
};

class StateLeakyImpl : public torch::nn::Cloneable<StateLeakyImpl> {
 public:
  explicit StateLeakyImpl(StateLeakyOptions options);
  void reset() override;
  /// input [T, B, C] → (spk, mem), each [T, B, C].
  std::tuple<at::Tensor, at::Tensor> forward(const at::Tensor& input);
  /// The membrane alone (what output=false returns).
  at::Tensor membrane(const at::Tensor& input) const;
  /// β = (τ - 1)/τ.
  at::Tensor beta() const { return (tau - 1) / tau; }
  void pretty_print(std::ostream& os) const override;
  StateLeakyOptions options;
  at::Tensor tau, threshold, graded_spikes_factor;
};
TORCH_MODULE(StateLeaky);

/// Options of LinearLeaky: StateLeaky's, with the Linear's features and bias.
struct LinearLeakyOptions {
  LinearLeakyOptions(Value beta, int64_t in_features, int64_t out_features)
      : beta_(std::move(beta)), in_features_(in_features), out_features_(out_features) {}
  TORCH_ARG(Value, beta);
  TORCH_ARG(int64_t, in_features);
  TORCH_ARG(int64_t, out_features);
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(Value, threshold) = 1.0;
  TORCH_ARG(Surrogate, spike_grad) = ATan{};
  TORCH_ARG(bool, surrogate_disable) = false;
  TORCH_ARG(bool, learn_beta) = false;
  TORCH_ARG(bool, learn_threshold) = false;
  TORCH_ARG(bool, output) = true;
  TORCH_ARG(Value, graded_spikes_factor) = 1.0;
  TORCH_ARG(bool, learn_graded_spikes_factor) = false;
  TORCH_ARG(std::optional<int64_t>, kernel_truncation_steps) = std::nullopt;
};

class LinearLeakyImpl : public torch::nn::Cloneable<LinearLeakyImpl> {
 public:
  explicit LinearLeakyImpl(LinearLeakyOptions options);
  void reset() override;
  /// input [T, B, in_features] → (spk, mem), each [T, B, out_features].
  std::tuple<at::Tensor, at::Tensor> forward(const at::Tensor& input);
  void pretty_print(std::ostream& os) const override;
  LinearLeakyOptions options;
  /// snnTorch's names: linear.weight, linear.bias, tau, threshold, graded_spikes_factor.
  torch::nn::Linear linear{nullptr};
  at::Tensor tau, threshold, graded_spikes_factor;
};
TORCH_MODULE(LinearLeaky);

/// Options of AssociativeLeaky: num_spiking_neurons = d_value·d_key.
struct AssociativeLeakyOptions {
  AssociativeLeakyOptions(int64_t in_dim, int64_t d_value, int64_t d_key)
      : in_dim_(in_dim), d_value_(d_value), d_key_(d_key) {}
  TORCH_ARG(int64_t, in_dim);
  TORCH_ARG(int64_t, d_value);
  TORCH_ARG(int64_t, d_key);
  /// Read the spikes out through q (to_q); false: the spikes [T, B, d·n] themselves.
  TORCH_ARG(bool, use_q_projection) = true;
};

class AssociativeLeakyImpl : public torch::nn::Cloneable<AssociativeLeakyImpl> {
 public:
  explicit AssociativeLeakyImpl(AssociativeLeakyOptions options);
  void reset() override;
  /// x [T, B, in_dim] → [T, B, d·d] (with q) or [T, B, d·n].
  at::Tensor forward(const at::Tensor& x);
  void pretty_print(std::ostream& os) const override;
  AssociativeLeakyOptions options;
  torch::nn::Linear to_v{nullptr}, to_k{nullptr}, to_alpha{nullptr}, to_q{nullptr};
};
TORCH_MODULE(AssociativeLeaky);

/// Options of DeltaLeaky (snnTorch's Leaky arguments that matter to it).
struct DeltaLeakyOptions {
  /* implicit */ DeltaLeakyOptions(Value beta) : beta_(std::move(beta)) {}
  TORCH_ARG(Value, beta);
  /// The change of the membrane that fires. Default: 1.
  TORCH_ARG(double, delta_threshold) = 1.0;
  TORCH_ARG(Surrogate, spike_grad) = ATan{};
  TORCH_ARG(bool, learn_beta) = false;
  /// The states live in the layer (step(x)); else they are passed in. Default: false.
  TORCH_ARG(bool, init_hidden) = false;
};

class DeltaLeakyImpl : public torch::nn::Cloneable<DeltaLeakyImpl> {
 public:
  explicit DeltaLeakyImpl(DeltaLeakyOptions options);
  void reset() override;
  /// One step: x_t and (mem, mem_prev) [B, ...] (undefined: zeros) → (spk, (mem, mem_prev)).
  std::tuple<at::Tensor, std::pair<at::Tensor, at::Tensor>> forward(
      const at::Tensor& input, const std::pair<at::Tensor, at::Tensor>& state);
  /// One step on the layer's states (init_hidden).
  at::Tensor step(const at::Tensor& input);
  /// A sequence [B, T, ...], batch first, from zero states → spikes [B, T, ...].
  at::Tensor sequence(const at::Tensor& input);
  /// Zeroes (forgets) the layer's states.
  void reset_mem() { mem_ = at::Tensor(); mem_prev_ = at::Tensor(); }
  void pretty_print(std::ostream& os) const override;
  DeltaLeakyOptions options;
  at::Tensor beta;

 private:
  /// One step from the given states (forward without its init_hidden check).
  std::tuple<at::Tensor, std::pair<at::Tensor, at::Tensor>> advance(
      const at::Tensor& input, const std::pair<at::Tensor, at::Tensor>& state) const;
  at::Tensor mem_, mem_prev_;
};
TORCH_MODULE(DeltaLeaky);

/// snnTorch's GradedSpikes: x · weights, weights [size, 1] (constant_factor, or uniform in
/// [0.5, 1.5) when 0).
class GradedSpikesImpl : public torch::nn::Cloneable<GradedSpikesImpl> {
 public:
  GradedSpikesImpl(int64_t size, double constant_factor);
  void reset() override;
  at::Tensor forward(const at::Tensor& x) { return x * weights; }
  void pretty_print(std::ostream& os) const override;
  int64_t size;
  double constant_factor;
  at::Tensor weights;
};
TORCH_MODULE(GradedSpikes);

}  // namespace snn::snntorch
