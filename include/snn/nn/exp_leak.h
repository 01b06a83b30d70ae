#pragma once
/// \file
/// Leaky integrators without spikes, with Sinabs' semantics: snn::ExpLeak
/// (sinabs.layers.ExpLeak) and snn::ExpLeakSqueeze.
///
/// Input [B, T, *features]; output the membrane potential of the same shape. Per step t,
/// with α = exp(-1/τ_mem):
///   w_t = α·v_{t-1} + (1-α)·x_t       (norm_input; without it: + x_t)
///   v_t = max(w_t, min_v_mem)         the state (min_v_mem given; else v_t = w_t)
/// The output is w_t, before the clamp, as in Sinabs.
#include "snn/nn/neuron.h"

namespace snn {

/// Options of snn::ExpLeak: tau_mem, train_alphas, norm_input, and the options of every
/// neuron layer (NeuronOptions: min_v_mem, shape, record_states). Example:
/// `snn::ExpLeak leak(snn::ExpLeakOptions(5.0));`
struct ExpLeakOptions : NeuronOptions<ExpLeakOptions> {
  /* implicit */ ExpLeakOptions(TimeConstant tau_mem) : tau_mem_(std::move(tau_mem)) {}
  /// Membrane time constant τ_mem in time steps; a trainable parameter. Required. Example: 5.0.
  TORCH_ARG(TimeConstant, tau_mem);
  /// Train α_mem instead of τ_mem (the parameter is then named alpha_mem). Default: false.
  TORCH_ARG(bool, train_alphas) = false;
  /// Scale the input by (1 - α_mem). Default: false.
  TORCH_ARG(bool, norm_input) = false;
};

/// The ExpLeak model. Parameter: tau_mem (or alpha_mem with train_alphas). State: v_mem.
class ExpLeakModel : public detail::NeuronCore {
 public:
  using Options = ExpLeakOptions;
  static constexpr const char* kName = "ExpLeak";
  explicit ExpLeakModel(ExpLeakOptions options) : options(std::move(options)) {}

  at::Tensor alpha_mem_calculated() const;

  ExpLeakOptions options;
  /// Trainable time constant (undefined when train_alphas).
  at::Tensor tau_mem;
  /// Trainable decay factor (defined only with train_alphas).
  at::Tensor alpha_mem;

 protected:
  void reset_model(torch::nn::Module& self);
  std::vector<at::Tensor> op_params(const at::Tensor& input) const;
  void print_options(std::ostream& os) const;
};

extern template class NeuronLayer<ExpLeakModel>;
extern template class SqueezeLayer<ExpLeakModel>;

/// Leaky integrator (sinabs.layers.ExpLeak), input [B, T, *features].
using ExpLeakImpl = NeuronLayer<ExpLeakModel>;
TORCH_MODULE(ExpLeak);
/// ExpLeak over squeezed input [B·T, *features] (sinabs.layers.ExpLeakSqueeze).
using ExpLeakSqueezeImpl = SqueezeLayer<ExpLeakModel>;
TORCH_MODULE(ExpLeakSqueeze);

}  // namespace snn
