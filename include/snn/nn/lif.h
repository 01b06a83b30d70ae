#pragma once
/// \file
/// Leaky and non-leaky integrate-and-fire layers with Sinabs' semantics:
/// snn::LIF (sinabs.layers.LIF), snn::IAF (sinabs.layers.IAF) and their Squeeze forms
/// snn::LIFSqueeze, snn::IAFSqueeze, and their recurrent forms snn::LIFRecurrent,
/// snn::IAFRecurrent.
///
/// Input [B, T, *features] (batch first; Squeeze forms [B·T, *features]); output spikes of
/// the same shape. Per step t, with α_m = exp(-1/τ_mem), α_s = exp(-1/τ_syn),
/// θ = spike_threshold:
///   i_t = α_s·(i_{t-1} + x_t)          with tau_syn; else i_t = x_t (not stored)
///   v   = α_m·v_{t-1} + (1-α_m)·i_t    (norm_input; without it: + i_t)
///   s_t = spike_fn(v, θ);  v_t = reset_fn(s_t, v, θ);  v_t = max(v_t, min_v_mem)
/// The spike function's gradient is the surrogate evaluated at v before the reset.
/// IAF is the same with α_m = 1 and no input normalisation.
/// Each forward runs the whole sequence in one neuron op (snn/ops/neuron.h, family LIF):
/// the fused kernel on the CPU, its plain-ATen reference on other devices.
#include "snn/nn/neuron.h"

namespace snn {

/// Options of snn::LIF: tau_mem, train_alphas and norm_input, and the options of every
/// spiking layer (SpikingOptions: tau_syn, spike_threshold, spike_fn, reset_fn, surrogate,
/// min_v_mem, shape, record_states). Example:
/// `snn::LIF lif(snn::LIFOptions(10.0).tau_syn(5.0).spike_fn(snn::SingleSpike{}));`
struct LIFOptions : SpikingOptions<LIFOptions> {
  /* implicit */ LIFOptions(TimeConstant tau_mem) : tau_mem_(std::move(tau_mem)) {}
  /// Membrane time constant τ_mem in time steps (α_mem = exp(-1/τ_mem)); a trainable
  /// parameter. Required. Example: 10.0.
  TORCH_ARG(TimeConstant, tau_mem);
  /// Train α_mem (and α_syn) directly instead of τ: the parameters are then named
  /// alpha_mem / alpha_syn. Default: false.
  TORCH_ARG(bool, train_alphas) = false;
  /// Scale the input by (1 - α_mem). Default: true.
  TORCH_ARG(bool, norm_input) = true;
};

/// Options of snn::IAF: the options of every spiking layer (SpikingOptions), without a
/// membrane leak. Example: `snn::IAF iaf(snn::IAFOptions().spike_threshold(2.0).min_v_mem(-1.0));`
struct IAFOptions : SpikingOptions<IAFOptions> {};

/// The LIF neuron model (see the file comment). Parameters: tau_mem (and tau_syn), or
/// alpha_mem (and alpha_syn) with train_alphas. States: v_mem (and i_syn), [B, *features].
class LIFModel : public detail::NeuronCore {
 public:
  using Options = LIFOptions;
  static constexpr const char* kName = "LIF";
  explicit LIFModel(LIFOptions options) : options(std::move(options)) {}

  /// α_mem as forward uses it: exp(-1/tau_mem), or the trained alpha_mem.
  at::Tensor alpha_mem_calculated() const;
  /// α_syn as forward uses it; none without a synapse.
  std::optional<at::Tensor> alpha_syn_calculated() const;

  LIFOptions options;
  /// Trainable time constants (undefined when train_alphas, or tau_syn without a synapse).
  at::Tensor tau_mem, tau_syn;
  /// Trainable decay factors (defined only with train_alphas).
  at::Tensor alpha_mem, alpha_syn;

 protected:
  void reset_model(torch::nn::Module& self);
  /// The op's parameters for this input (see snn/ops/neuron.h, family LIF).
  std::vector<at::Tensor> op_params(const at::Tensor& input) const;
  void print_options(std::ostream& os) const;
};

/// The IAF neuron model: LIF with α_mem = 1 and no input normalisation.
/// Parameters: tau_syn when given. States: v_mem (and i_syn).
class IAFModel : public detail::NeuronCore {
 public:
  using Options = IAFOptions;
  static constexpr const char* kName = "IAF";
  explicit IAFModel(IAFOptions options) : options(std::move(options)) {}

  /// α_syn as forward uses it; none without a synapse.
  std::optional<at::Tensor> alpha_syn_calculated() const;

  IAFOptions options;
  /// Trainable synaptic time constant (undefined without a synapse).
  at::Tensor tau_syn;

 protected:
  void reset_model(torch::nn::Module& self);
  /// The op's parameters for this input (see snn/ops/neuron.h, family LIF).
  std::vector<at::Tensor> op_params(const at::Tensor& input) const;
  void print_options(std::ostream& os) const;
};

extern template class NeuronLayer<LIFModel>;
extern template class SqueezeLayer<LIFModel>;
extern template class RecurrentLayer<LIFModel>;
extern template class NeuronLayer<IAFModel>;
extern template class SqueezeLayer<IAFModel>;
extern template class RecurrentLayer<IAFModel>;

/// Leaky integrate-and-fire layer (sinabs.layers.LIF), input [B, T, *features].
using LIFImpl = NeuronLayer<LIFModel>;
TORCH_MODULE(LIF);
/// LIF over squeezed input [B·T, *features] (sinabs.layers.LIFSqueeze).
/// Example: `snn::LIFSqueeze(snn::LIFOptions(10.0), snn::SqueezeOptions().batch_size(8))`.
using LIFSqueezeImpl = SqueezeLayer<LIFModel>;
TORCH_MODULE(LIFSqueeze);
/// LIF with recurrent connections (sinabs.layers.LIFRecurrent). Example:
/// `snn::LIFRecurrent(snn::LIFOptions(10.0), torch::nn::AnyModule(torch::nn::Linear(64, 64)))`.
using LIFRecurrentImpl = RecurrentLayer<LIFModel>;
TORCH_MODULE(LIFRecurrent);
/// Integrate-and-fire layer (sinabs.layers.IAF), input [B, T, *features].
using IAFImpl = NeuronLayer<IAFModel>;
TORCH_MODULE(IAF);
/// IAF over squeezed input [B·T, *features] (sinabs.layers.IAFSqueeze).
using IAFSqueezeImpl = SqueezeLayer<IAFModel>;
TORCH_MODULE(IAFSqueeze);
/// IAF with recurrent connections (sinabs.layers.IAFRecurrent).
using IAFRecurrentImpl = RecurrentLayer<IAFModel>;
TORCH_MODULE(IAFRecurrent);

}  // namespace snn
