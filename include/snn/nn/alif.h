#pragma once
/// \file
/// Adaptive leaky integrate-and-fire layers with Sinabs' semantics: snn::ALIF
/// (sinabs.layers.ALIF, after Bellec et al., 2018), snn::ALIFSqueeze, snn::ALIFRecurrent.
///
/// Input [B, T, *features]; output spikes of the same shape. Per step t, with
/// α_m = exp(-1/τ_mem), α_a = exp(-1/τ_adapt), α_s = exp(-1/τ_syn), b0 = spike_threshold:
///   i_t = α_s·(i_{t-1} + x_t)            with tau_syn; else i_t = x_t (not stored)
///   v   = α_m·v_{t-1} + (1-α_m)·i_t      (norm_input; without it: + i_t)
///   θ_t = b0 + adapt_scale·b_{t-1}       the adaptive threshold
///   s_t = spike_fn(v, θ_t);  v_t = reset_fn(s_t, v, θ_t);  v_t = max(v_t, min_v_mem)
///   b_t = α_a·b_{t-1} + (1-α_a)·s_t
/// The surrogate is evaluated at v before the reset and at θ_t; gradient reaches b through
/// the subtractive reset (as in Sinabs, not through the spike function).
/// Difference from Sinabs: with tau_syn and norm_input, Sinabs stores the normalised
/// current (1-α_m)·i_t as its i_syn state, so that the normalisation compounds from step
/// to step; snn.cpp keeps i_t as LIF does and normalises only the membrane's input. Sinabs'
/// layer also does not write i_syn back after a call (the synaptic current restarts on
/// every call) and rejects a per-neuron tau_syn (it tests the tensor's truth value);
/// snn.cpp carries i_syn across calls and takes τ_syn per neuron.
#include "snn/nn/neuron.h"

namespace snn {

/// Options of snn::ALIF: tau_mem, tau_adapt, adapt_scale, train_alphas, norm_input, and the
/// options of every spiking layer (SpikingOptions), with SingleSpike as the default spike
/// function. Example: `snn::ALIF alif(snn::ALIFOptions(20.0, 100.0).adapt_scale(1.5));`
struct ALIFOptions : SpikingOptions<ALIFOptions> {
  ALIFOptions(TimeConstant tau_mem, TimeConstant tau_adapt)
      : tau_mem_(std::move(tau_mem)), tau_adapt_(std::move(tau_adapt)) {
    spike_fn_ = SingleSpike{};
  }
  /// Membrane time constant τ_mem in time steps; a trainable parameter. Required. Example: 20.0.
  TORCH_ARG(TimeConstant, tau_mem);
  /// Time constant τ_adapt of the threshold adaptation b, in time steps; a trainable
  /// parameter. Required. Example: 100.0.
  TORCH_ARG(TimeConstant, tau_adapt);
  /// How much one spike raises the threshold (θ_t = b0 + adapt_scale·b). Default: 1.8.
  TORCH_ARG(double, adapt_scale) = 1.8;
  /// Train α_mem, α_adapt (and α_syn) instead of the τ: the parameters are then named
  /// alpha_mem, alpha_adapt, alpha_syn. Default: false.
  TORCH_ARG(bool, train_alphas) = false;
  /// Scale the input by (1 - α_mem). Default: true.
  TORCH_ARG(bool, norm_input) = true;
};

/// The ALIF neuron model (see the file comment). Parameters: tau_mem, tau_adapt (and
/// tau_syn), or alpha_mem, alpha_adapt (and alpha_syn) with train_alphas. States: v_mem,
/// b (and i_syn), [B, *features].
class ALIFModel : public detail::NeuronCore {
 public:
  using Options = ALIFOptions;
  static constexpr const char* kName = "ALIF";
  explicit ALIFModel(ALIFOptions options) : options(std::move(options)) {}

  at::Tensor alpha_mem_calculated() const;
  at::Tensor alpha_adapt_calculated() const;
  std::optional<at::Tensor> alpha_syn_calculated() const;
  /// The current threshold b0 + adapt_scale·b (Sinabs' spike_threshold state).
  at::Tensor spike_threshold_calculated() const;

  ALIFOptions options;
  /// Trainable time constants (undefined when train_alphas, or tau_syn without a synapse).
  at::Tensor tau_mem, tau_adapt, tau_syn;
  /// Trainable decay factors (defined only with train_alphas).
  at::Tensor alpha_mem, alpha_adapt, alpha_syn;

 protected:
  void reset_model(torch::nn::Module& self);
  std::vector<at::Tensor> op_params(const at::Tensor& input) const;
  void print_options(std::ostream& os) const;
  /// Adds the recorded threshold "spike_threshold" = b0 + adapt_scale·b.
  void add_derived_recordings(std::map<std::string, at::Tensor>& recordings) const override;
};

extern template class NeuronLayer<ALIFModel>;
extern template class SqueezeLayer<ALIFModel>;
extern template class RecurrentLayer<ALIFModel>;

/// Adaptive LIF layer (sinabs.layers.ALIF), input [B, T, *features].
using ALIFImpl = NeuronLayer<ALIFModel>;
TORCH_MODULE(ALIF);
/// ALIF over squeezed input [B·T, *features] (sinabs.layers.ALIFSqueeze).
using ALIFSqueezeImpl = SqueezeLayer<ALIFModel>;
TORCH_MODULE(ALIFSqueeze);
/// ALIF with recurrent connections (sinabs.layers.ALIFRecurrent).
using ALIFRecurrentImpl = RecurrentLayer<ALIFModel>;
TORCH_MODULE(ALIFRecurrent);

}  // namespace snn
