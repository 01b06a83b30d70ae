#pragma once
/// \file
/// snnTorch's neurons (snntorch 1.0.0) as torch::nn layers: snn::snntorch::Leaky
/// (snntorch.Leaky) and snn::snntorch::Synaptic (snntorch.Synaptic), on the neuron op's
/// Leaky family (snn/ops/neuron.h), numerically snnTorch's: the same spikes, states and
/// gradients (the parity suite holds them to snnTorch).
///
/// Per step t (θ = threshold, β = clamp(beta, 0, 1), α = clamp(alpha, 0, 1), H(x) = x > 0):
///   r_t = H(mem_{t-1} - θ)                       the reset, delayed one step, no gradient
///   Leaky:    mem = β·mem_{t-1} + x_t - r_t·θ      reset_mechanism "subtract"
///             mem = β·(1 - r_t)·mem_{t-1} + x_t    "zero";  "none": no reset term
///   Synaptic: syn_t = α·syn_{t-1} + x_t;  mem = β·mem_{t-1} + syn_t, minus r_t·θ
///             ("subtract") or times (1 - r_t) ("zero")
///   spk_t = H(mem - θ)·graded_spikes_factor; its gradient is the surrogate spike_grad at
///   mem - θ, with respect to mem and (negated) θ
///   reset_delay = false: mem_t = mem - (H(mem - θ) - r_t)·θ ("subtract") or
///   mem - (H(mem - θ) - r_t)·mem ("zero") — the reset in the step that spikes.
///
/// Calls, as snnTorch users write them:
///   auto [spk, mem] = leaky(cur, mem);         one step, [B, *features]; the state passed
///                                              in and the new one returned (init_hidden=False)
///   auto spk = leaky->step(cur);               one step on the hidden state (init_hidden=True)
///   auto spk = leaky(x);                       a whole sequence [B, T, *features], batch first,
///                                              in one fused op, on the hidden state (what a
///                                              torch::nn::Sequential calls); equal to looping
///                                              the single step
///   leaky->reset_mem();  snn::reset_states(model);  snn::detach_states(model);
///                                              snnTorch's reset_mem / reset_hidden /
///                                              detach_hidden (truncated BPTT)
/// The state persists across calls with its graph (snn/nn/stateful.h) and restarts at zero
/// when the input's shape changes, as in snnTorch. The state after the last step is
/// `leaky->mem()` (snnTorch's output=True returns it alongside the spikes).
///
/// Not available: inhibition (it couples the neurons of a layer through an arg-max) and
/// state_quant (quantisation functions); the options are absent, not ignored.
#include <torch/arg.h>
#include <torch/nn/pimpl.h>

#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "snn/nn/neuron.h"

namespace snn::snntorch {

/// A neuron parameter (beta, alpha, threshold, graded_spikes_factor): one value for every
/// neuron, or a tensor broadcast right-aligned against the feature shape (e.g. [N]: one
/// per neuron), as snnTorch takes them.
class Value {
 public:
  /* implicit */ Value(double value);
  /* implicit */ Value(at::Tensor value);
  const at::Tensor& tensor() const { return value_; }

 private:
  at::Tensor value_;
};
std::ostream& operator<<(std::ostream& os, const Value& value);

/// The options every snnTorch spiking neuron has (snntorch's SpikingNeuron and LIF).
template <typename Derived>
struct SpikingNeuronOptions {
  /// Firing threshold θ. Default: 1.0.
  SNN_OPTION(Value, threshold) = 1.0;
  /// Surrogate gradient of the spike (snntorch.surrogate): ATan, FastSigmoid, Sigmoid,
  /// SpikeRateEscape, Triangular, StraightThroughEstimator, HeavisideMask (heaviside),
  /// SparseFastSigmoid (SFS), LeakySpikeOperator (LSO) or any of Sinabs' surrogates.
  /// Default: ATan{2.0} (snnTorch's default).
  SNN_OPTION(Surrogate, spike_grad) = ATan{};
  /// No gradient through the spike at all. Default: false.
  SNN_OPTION(bool, surrogate_disable) = false;
  /// snnTorch's init_hidden: the state lives in the layer only; passing one to a step
  /// call is an error (as snnTorch raises TypeError). Default: false.
  SNN_OPTION(bool, init_hidden) = false;
  /// Train beta (a parameter; else a buffer). Default: false.
  SNN_OPTION(bool, learn_beta) = false;
  /// Train the threshold. Default: false.
  SNN_OPTION(bool, learn_threshold) = false;
  /// "subtract" (θ), "zero" or "none". Default: "subtract".
  SNN_OPTION(std::string, reset_mechanism) = "subtract";
  /// Reset in the step after the spike (snnTorch's default) or in the same step.
  /// Default: true.
  SNN_OPTION(bool, reset_delay) = true;
  /// Create the states with this shape [B, *features] at construction. Default: none.
  SNN_OPTION(std::optional<std::vector<int64_t>>, shape) = std::nullopt;
  /// Keep every state of every step of a sequence forward in recordings(). Default: false.
  SNN_OPTION(bool, record_states) = false;
};

/// Options of snn::snntorch::Leaky. Example:
/// `snn::snntorch::Leaky lif(snn::snntorch::LeakyOptions(0.9).learn_beta(true));`
struct LeakyOptions : SpikingNeuronOptions<LeakyOptions> {
  /* implicit */ LeakyOptions(Value beta) : beta_(std::move(beta)) {}
  /// Membrane decay β, clamped to [0, 1] in every step. Required. Example: 0.9.
  TORCH_ARG(Value, beta);
  /// The value of a spike. Default: 1.0. (With reset_delay=false snnTorch divides by it
  /// and gives NaN at 0; here the reset does not depend on it.)
  TORCH_ARG(Value, graded_spikes_factor) = 1.0;
  /// Train graded_spikes_factor. Default: false.
  TORCH_ARG(bool, learn_graded_spikes_factor) = false;
};

/// Options of snn::snntorch::Synaptic. Example:
/// `snn::snntorch::Synaptic syn(snn::snntorch::SynapticOptions(0.8, 0.9));`
struct SynapticOptions : SpikingNeuronOptions<SynapticOptions> {
  SynapticOptions(Value alpha, Value beta) : alpha_(std::move(alpha)), beta_(std::move(beta)) {}
  /// Synaptic decay α, clamped to [0, 1]. Required. Example: 0.8.
  TORCH_ARG(Value, alpha);
  /// Membrane decay β, clamped to [0, 1]. Required. Example: 0.9.
  TORCH_ARG(Value, beta);
  /// Train alpha. Default: false.
  TORCH_ARG(bool, learn_alpha) = false;
};

namespace detail {

/// What Leaky and Synaptic share: their parameters, specification and step calls.
class SnnTorchNeuron : public snn::detail::NeuronCore {
 public:
  /// Zeroes the states (snnTorch's reset_mem; detached).
  void reset_mem() { reset_states(); }
  /// The membrane after the last step (undefined before the first call).
  const at::Tensor& mem() const { return state("mem"); }

  /// Parameters (registered as parameters when learned, else as buffers), snnTorch's names.
  at::Tensor beta, threshold, graded_spikes_factor, alpha;

 protected:
  /// Registers the parameters and sets the specification; `alpha_value` for Synaptic.
  template <typename D>
  void reset_neuron(torch::nn::Module& self, const SpikingNeuronOptions<D>& o, const Value& beta_value,
                    const Value& graded, bool learn_graded, const std::optional<Value>& alpha_value,
                    bool learn_alpha) {
    reset_neuron(self, beta_value, o.learn_beta(), o.threshold(), o.learn_threshold(), graded,
                 learn_graded, alpha_value, learn_alpha, o.spike_grad(), o.surrogate_disable(),
                 o.reset_mechanism(), o.reset_delay(), o.shape());
  }
  void reset_neuron(torch::nn::Module& self, const Value& beta_value, bool learn_beta,
                    const Value& threshold_value, bool learn_threshold, const Value& graded,
                    bool learn_graded, const std::optional<Value>& alpha_value, bool learn_alpha,
                    const Surrogate& spike_grad, bool surrogate_disable,
                    const std::string& reset_mechanism, bool reset_delay,
                    const std::optional<std::vector<int64_t>>& shape);
  /// The op's parameters: [β, θ, graded_spikes_factor (, α)], decays clamped to [0, 1].
  std::vector<at::Tensor> neuron_params() const;
  /// One step [B, *features] from the given states (op order: mem, syn), or from the
  /// hidden ones where none are given; returns [spk, mem (, syn)].
  std::vector<at::Tensor> step_states(const char* layer, bool init_hidden, const at::Tensor& input,
                                      const std::vector<at::Tensor>& states);
  template <typename D>
  void print_common(std::ostream& os, const SpikingNeuronOptions<D>& o) const {
    print_common(os, o.threshold(), o.spike_grad(), o.surrogate_disable(), o.init_hidden(),
                 o.learn_beta(), o.learn_threshold(), o.reset_mechanism(), o.reset_delay(),
                 o.shape(), o.record_states());
  }
  void print_common(std::ostream& os, const Value& threshold, const Surrogate& spike_grad,
                    bool surrogate_disable, bool init_hidden, bool learn_beta,
                    bool learn_threshold, const std::string& reset_mechanism, bool reset_delay,
                    const std::optional<std::vector<int64_t>>& shape, bool record_states) const;
};

}  // namespace detail

/// snnTorch's Leaky neuron model (see the file comment). States: mem.
class LeakyModel : public detail::SnnTorchNeuron {
 public:
  using Options = LeakyOptions;
  static constexpr const char* kName = "snntorch::Leaky";
  explicit LeakyModel(LeakyOptions options) : options(std::move(options)) {}

  /// One step: input and mem [B, *features] → (spk, mem).
  std::tuple<at::Tensor, at::Tensor> step(const at::Tensor& input, const at::Tensor& mem);
  /// One step on the hidden state → spk.
  at::Tensor step(const at::Tensor& input);

  LeakyOptions options;

 protected:
  void reset_model(torch::nn::Module& self);
  std::vector<at::Tensor> op_params(const at::Tensor& /*input*/) const { return neuron_params(); }
  void print_options(std::ostream& os) const;
};

/// snnTorch's Synaptic neuron model (see the file comment). States: mem, syn.
class SynapticModel : public detail::SnnTorchNeuron {
 public:
  using Options = SynapticOptions;
  static constexpr const char* kName = "snntorch::Synaptic";
  explicit SynapticModel(SynapticOptions options) : options(std::move(options)) {}

  /// One step: input, syn, mem [B, *features] → (spk, syn, mem), snnTorch's order.
  std::tuple<at::Tensor, at::Tensor, at::Tensor> step(const at::Tensor& input,
                                                      const at::Tensor& syn, const at::Tensor& mem);
  /// One step on the hidden states → spk.
  at::Tensor step(const at::Tensor& input);
  /// The synaptic current after the last step.
  const at::Tensor& syn() const { return state("syn"); }

  SynapticOptions options;

 protected:
  void reset_model(torch::nn::Module& self);
  std::vector<at::Tensor> op_params(const at::Tensor& /*input*/) const { return neuron_params(); }
  void print_options(std::ostream& os) const;
};

}  // namespace snn::snntorch

namespace snn {
extern template class NeuronLayer<snntorch::LeakyModel>;
extern template class NeuronLayer<snntorch::SynapticModel>;
}  // namespace snn

namespace snn::snntorch {

using LeakyImpl = NeuronLayer<LeakyModel>;
using SynapticImpl = NeuronLayer<SynapticModel>;

/// snntorch.Leaky. `leaky(x)`: a sequence [B, T, *features]; `leaky(cur, mem)`: one step
/// returning (spk, mem).
class Leaky : public torch::nn::ModuleHolder<LeakyImpl> {
 public:
  using torch::nn::ModuleHolder<LeakyImpl>::ModuleHolder;
  using torch::nn::ModuleHolder<LeakyImpl>::get;
  at::Tensor operator()(const at::Tensor& input) { return get()->forward(input); }
  std::tuple<at::Tensor, at::Tensor> operator()(const at::Tensor& input, const at::Tensor& mem) {
    return get()->step(input, mem);
  }
};

/// snntorch.Synaptic. `syn(x)`: a sequence; `syn(cur, syn_state, mem)`: one step returning
/// (spk, syn, mem).
class Synaptic : public torch::nn::ModuleHolder<SynapticImpl> {
 public:
  using torch::nn::ModuleHolder<SynapticImpl>::ModuleHolder;
  using torch::nn::ModuleHolder<SynapticImpl>::get;
  at::Tensor operator()(const at::Tensor& input) { return get()->forward(input); }
  std::tuple<at::Tensor, at::Tensor, at::Tensor> operator()(const at::Tensor& input,
                                                            const at::Tensor& syn,
                                                            const at::Tensor& mem) {
    return get()->step(input, syn, mem);
  }
};

}  // namespace snn::snntorch
