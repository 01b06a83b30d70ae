#pragma once
/// \file
/// snnTorch's neurons (snntorch 1.0.0) as torch::nn layers: snn::snntorch::Leaky,
/// Synaptic, Lapicque (the neuron op's Leaky family) and Alpha (its Alpha family), see
/// snn/ops/neuron.h; numerically snnTorch's: the same spikes, states and gradients (the
/// parity suite holds them to snnTorch).
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
///   Lapicque: Leaky with β = 1 - Δt/(R·C) and input x_t·R·(1/(R·C))·Δt, the zero reset
///   after the input ("zero": mem·(1 - r_t)), the reset always delayed.
///   Alpha: see snn/ops/neuron.h (family Alpha); default reset_mechanism "zero".
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
/// inhibition (the spikes of the largest membrane only) is a mask on the op's output, for
/// features of one dimension with the delayed reset. state_quant (StateQuant) quantises
/// the states after each update; such a layer runs on the op's reference.
#include <torch/arg.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/linear.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <optional>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "snn/nn/neuron.h"

namespace snn::snntorch {

/// A neuron parameter (beta, alpha, threshold, graded_spikes_factor): snn::Value, one value
/// for every neuron or a tensor broadcast against the feature shape, as snnTorch takes them.
using snn::Value;

/// snnTorch's state_quant: a quantiser of the states, applied after each step's update and
/// before the spike, with the identity as its gradient. Make one with state_quant(levels)
/// (to the nearest of the levels, snnTorch's StateQuant), state_quant_uniform(...)
/// (snnTorch's state_quant(uniform=True) levels) or state_quant(fn) (any function). A layer
/// with one runs on the neuron op's reference (plain ATen), not the fused kernel.
struct StateQuant {
  int64_t id = 0;  // snn::ops::register_state_quant's
};
/// To the nearest of `levels` (1-D; the first on a tie, as snnTorch).
StateQuant state_quant(const at::Tensor& levels);
/// snnTorch's state_quant(num_bits, uniform=True, threshold, lower_limit, upper_limit): the
/// 2^num_bits levels evenly from -threshold·(1 + lower_limit) to threshold·(1 + upper_limit).
StateQuant state_quant_uniform(int64_t num_bits = 8, double threshold = 1.0,
                               double lower_limit = 0.0, double upper_limit = 0.2);
/// Any quantiser q(v), elementwise.
StateQuant state_quant(std::function<at::Tensor(const at::Tensor&)> quantise);

/// The options every snnTorch spiking neuron has (snntorch's SpikingNeuron and LIF).
template <typename Derived>
struct SpikingNeuronOptions {
  /// Firing threshold θ. Default: 1.0.
  SNN_OPTION(Value, threshold) = 1.0;
  /// Surrogate gradient of the spike (snntorch.surrogate): ATan, FastSigmoid, Sigmoid,
  /// SpikeRateEscape, Triangular, StraightThroughEstimator, HeavisideMask (heaviside),
  /// SparseFastSigmoid (SFS), LeakySpikeOperator (LSO), SSO, a function of one's own
  /// (snn::custom_surrogate: snnTorch's custom_surrogate) or any of Sinabs' surrogates.
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
  /// Only the neuron with the largest mem - θ of each sample may spike at a step (the
  /// others' spikes are masked; the states are not: the reset still follows mem, as in
  /// snnTorch). Features of one dimension [N], reset_delay = true; not for RLeaky /
  /// RSynaptic. snnTorch drops graded_spikes_factor from the masked spikes; here it stays.
  /// Default: false.
  SNN_OPTION(bool, inhibition) = false;
  /// snnTorch's state_quant (see StateQuant); none: the states are not quantised.
  /// Default: none.
  SNN_OPTION(std::optional<StateQuant>, state_quant) = std::nullopt;
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

/// Options of snn::snntorch::Lapicque: give beta, or two of beta, R and C (snnTorch's
/// rules: beta alone: R = 1, C = Δt/(R·ln(1/β)); beta and R: C from them; beta and C: R
/// from them; R and C: β = exp(-Δt/(R·C))). Example:
/// `snn::snntorch::Lapicque lap(snn::snntorch::LapicqueOptions().R(5.1).C(5e-3).time_step(1e-3));`
struct LapicqueOptions : SpikingNeuronOptions<LapicqueOptions> {
  /// Membrane decay β (one value). Default: none.
  TORCH_ARG(std::optional<double>, beta) = std::nullopt;
  /// Resistance R. Default: none.
  TORCH_ARG(std::optional<double>, R) = std::nullopt;
  /// Capacitance C. Default: none.
  TORCH_ARG(std::optional<double>, C) = std::nullopt;
  /// Time step Δt. Default: 1.
  TORCH_ARG(double, time_step) = 1.0;
};

/// Options of snn::snntorch::Alpha: alpha > beta, beta < 1 (snnTorch's checks). Default
/// reset_mechanism: "zero" (snnTorch's). Example:
/// `snn::snntorch::Alpha a(snn::snntorch::AlphaOptions(0.9, 0.8));`
struct AlphaOptions : SpikingNeuronOptions<AlphaOptions> {
  AlphaOptions(Value alpha, Value beta) : alpha_(std::move(alpha)), beta_(std::move(beta)) {
    this->reset_mechanism("zero");
  }
  /// Decay of the excitatory current. Required.
  TORCH_ARG(Value, alpha);
  /// Decay of the inhibitory current. Required.
  TORCH_ARG(Value, beta);
  /// Train alpha (snnTorch's Alpha fails with learn_alpha=True: it assigns a tensor to its
  /// alpha Parameter; here alpha trains). Default: false.
  TORCH_ARG(bool, learn_alpha) = false;
};

/// The recurrent connection of RLeaky and RSynaptic (snnTorch's options): all_to_all with
/// linear_features (a Linear(F, F) on the spikes [B, F]) or conv2d_channels and kernel_size
/// (a Conv2d(C, C, k, padding k/2) on [B, C, H, W]); or one-to-one, spikes times V.
template <typename Derived>
struct RecurrentOptions : SpikingNeuronOptions<Derived> {
  /// One-to-one weight V (one value, or one per neuron). Default: 1.0.
  SNN_OPTION(Value, V) = 1.0;
  /// A full connection (Linear or Conv2d) instead of V. Default: true.
  SNN_OPTION(bool, all_to_all) = true;
  /// Features F of the Linear connection. Default: none.
  SNN_OPTION(std::optional<int64_t>, linear_features) = std::nullopt;
  /// Channels of the Conv2d connection. Default: none.
  SNN_OPTION(std::optional<int64_t>, conv2d_channels) = std::nullopt;
  /// Kernel size of the Conv2d connection. Default: none.
  SNN_OPTION(std::optional<int64_t>, kernel_size) = std::nullopt;
  /// Train the connection (V, or the Linear / Conv2d weights). Default: true.
  SNN_OPTION(bool, learn_recurrent) = true;
};

/// Options of snn::snntorch::RLeaky. Example:
/// `snn::snntorch::RLeaky r(snn::snntorch::RLeakyOptions(0.9).linear_features(64));`
struct RLeakyOptions : RecurrentOptions<RLeakyOptions> {
  /* implicit */ RLeakyOptions(Value beta) : beta_(std::move(beta)) {}
  /// Membrane decay β, clamped to [0, 1]. Required.
  TORCH_ARG(Value, beta);
};

/// Options of snn::snntorch::RSynaptic. Example:
/// `snn::snntorch::RSynaptic r(snn::snntorch::RSynapticOptions(0.8, 0.9).linear_features(64));`
struct RSynapticOptions : RecurrentOptions<RSynapticOptions> {
  RSynapticOptions(Value alpha, Value beta) : alpha_(std::move(alpha)), beta_(std::move(beta)) {}
  /// Synaptic decay α, clamped to [0, 1]. Required.
  TORCH_ARG(Value, alpha);
  /// Membrane decay β, clamped to [0, 1]. Required.
  TORCH_ARG(Value, beta);
  /// Train alpha. Default: false.
  TORCH_ARG(bool, learn_alpha) = false;
};

namespace detail {

/// Registers `value` (a copy) as the parameter `name` with `learn`, else as a buffer.
at::Tensor value_or_parameter(torch::nn::Module& self, const std::string& name,
                              const at::Tensor& value, bool learn);
/// The spike's surrogate: spike_grad, or none with surrogate_disable.
Surrogate spike_surrogate(const Surrogate& spike_grad, bool surrogate_disable);
/// "true" / "false", as the layers print their flags.
const char* boolean(bool value);

/// What snnTorch's neurons share: the threshold, the specification, the step calls.
class SnnTorchNeuron : public snn::detail::NeuronCore {
 public:
  /// Zeroes the states (snnTorch's reset_mem; detached).
  void reset_mem() { reset_states(); }
  /// The membrane after the last step (undefined before the first call).
  const at::Tensor& mem() const { return state("mem"); }

  /// The threshold (a parameter with learn_threshold, else a buffer).
  at::Tensor threshold;

 protected:
  /// Sets snnTorch's inhibition (checked against the layer's options).
  void set_inhibition(const char* layer, bool inhibition, bool reset_delay, bool recurrent);
  /// With inhibition: the spikes of the neuron with the largest mem - θ per sample and step.
  at::Tensor model_output(const std::vector<at::Tensor>& op_outputs) const override;
  bool inhibition_ = false;
  /// The specification of `family` from the options every snnTorch neuron has.
  template <typename D>
  static ops::NeuronSpec make_spec(const char* layer, ops::NeuronFamily family, bool synapse,
                                   bool zero_keeps_input, const SpikingNeuronOptions<D>& o) {
    auto spec = make_spec(layer, family, synapse, zero_keeps_input, o.reset_mechanism(),
                          o.reset_delay(), o.spike_grad(), o.surrogate_disable());
    if (o.state_quant()) spec.state_quant = o.state_quant()->id;
    return spec;
  }
  static ops::NeuronSpec make_spec(const char* layer, ops::NeuronFamily family, bool synapse,
                                   bool zero_keeps_input, const std::string& reset_mechanism,
                                   bool reset_delay, const Surrogate& spike_grad,
                                   bool surrogate_disable);
  /// Registers `value` as the parameter `name` (with `learn`) or as a buffer.
  static at::Tensor register_value(torch::nn::Module& self, const std::string& name,
                                   const Value& value, bool learn);
  /// One step [B, *features] from the given states (the op's order; undefined: the hidden
  /// one), or from the hidden ones where none are given; returns [spk, states...] in the
  /// op's order.
  std::vector<at::Tensor> step_states(const char* layer, bool init_hidden, const at::Tensor& input,
                                      const std::vector<at::Tensor>& states,
                                      const std::vector<at::Tensor>& params);
  template <typename D>
  void print_common(std::ostream& os, const SpikingNeuronOptions<D>& o) const {
    print_common(os, o.threshold(), o.spike_grad(), o.surrogate_disable(), o.init_hidden(),
                 o.learn_beta(), o.learn_threshold(), o.reset_mechanism(), o.reset_delay(),
                 o.shape(), o.record_states());
    if (o.inhibition()) os << ", inhibition=true";
    if (o.state_quant()) os << ", state_quant=" << o.state_quant()->id;
  }
  void print_common(std::ostream& os, const Value& threshold, const Surrogate& spike_grad,
                    bool surrogate_disable, bool init_hidden, bool learn_beta,
                    bool learn_threshold, const std::string& reset_mechanism, bool reset_delay,
                    const std::optional<std::vector<int64_t>>& shape, bool record_states) const;
};

/// What RLeaky and RSynaptic share: the recurrent connection and the step loop. The
/// neuron op runs one step at a time (family Leaky with recurrent=true: the connection's
/// output of the previous step's spikes enters as the state "rec"); the spikes of the last
/// step are a state too ("spk"), so that the recurrence spans calls, as in snnTorch.
class RecurrentSnnTorchNeuron : public SnnTorchNeuron {
 public:
  /// The spikes of the last step (undefined before the first call).
  const at::Tensor& spk() const { return state("spk"); }
  /// A sequence [B, T, *features], step by step; returns the spikes.
  at::Tensor run_sequence(const at::Tensor& input);

  /// The connection: Linear or Conv2d (registered as "recurrent"), or V.
  torch::nn::Linear recurrent_linear{nullptr};
  torch::nn::Conv2d recurrent_conv{nullptr};
  at::Tensor V;

 protected:
  template <typename D>
  void reset_recurrent(torch::nn::Module& self, const RecurrentOptions<D>& o) {
    reset_recurrent(self, o.V(), o.all_to_all(), o.linear_features(), o.conv2d_channels(),
                    o.kernel_size(), o.learn_recurrent());
  }
  void reset_recurrent(torch::nn::Module& self, const Value& v, bool all_to_all,
                       std::optional<int64_t> linear_features,
                       std::optional<int64_t> conv2d_channels, std::optional<int64_t> kernel_size,
                       bool learn_recurrent);
  /// Declares the op's states and "spk".
  void set_recurrent_spec(const ops::NeuronSpec& spec,
                          const std::optional<std::vector<int64_t>>& shape);
  /// The connection's output for spikes [B, *features].
  at::Tensor recurrent(const at::Tensor& spikes);
  /// One step from the given states (op order, then spk; undefined: the hidden one);
  /// returns [spk, mem (, syn)].
  std::vector<at::Tensor> recurrent_step(const char* layer, bool init_hidden,
                                         const at::Tensor& input,
                                         const std::vector<at::Tensor>& states);
  /// The op's parameters (the model's).
  virtual std::vector<at::Tensor> recurrent_params(const at::Tensor& input) const = 0;
  virtual const char* layer_name() const = 0;
  virtual bool record() const = 0;
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
  /// beta, graded_spikes_factor: parameters when learned, else buffers.
  at::Tensor beta, graded_spikes_factor;

 protected:
  void reset_model(torch::nn::Module& self);
  std::vector<at::Tensor> op_params(const at::Tensor& input) const;
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
  at::Tensor alpha, beta;

 protected:
  void reset_model(torch::nn::Module& self);
  std::vector<at::Tensor> op_params(const at::Tensor& input) const;
  void print_options(std::ostream& os) const;
};

/// snnTorch's Lapicque neuron model (see the file comment). States: mem. Buffers R, C,
/// time_step and beta (a parameter with learn_beta: it reaches the update through the
/// constant derived from it; snnTorch's learn_beta fails at construction unless beta is
/// given alone).
class LapicqueModel : public detail::SnnTorchNeuron {
 public:
  using Options = LapicqueOptions;
  static constexpr const char* kName = "snntorch::Lapicque";
  explicit LapicqueModel(LapicqueOptions options) : options(std::move(options)) {}

  std::tuple<at::Tensor, at::Tensor> step(const at::Tensor& input, const at::Tensor& mem);
  at::Tensor step(const at::Tensor& input);
  /// The input current as the membrane receives it: x·R·(1/(R·C))·Δt.
  at::Tensor model_input(const at::Tensor& input) const;
  /// R and C as the update uses them. With beta given, the constant derived from it is
  /// derived again at every call, so that a learned beta trains (snnTorch derives it once,
  /// at construction, and only its first backward reaches beta).
  std::pair<at::Tensor, at::Tensor> constants() const;

  LapicqueOptions options;
  at::Tensor beta, R, C, time_step;

 protected:
  void reset_model(torch::nn::Module& self);
  std::vector<at::Tensor> op_params(const at::Tensor& input) const;
  void print_options(std::ostream& os) const;
};

/// snnTorch's Alpha neuron model (see snn/ops/neuron.h, family Alpha). States: mem,
/// syn_exc, syn_inh.
class AlphaModel : public detail::SnnTorchNeuron {
 public:
  using Options = AlphaOptions;
  static constexpr const char* kName = "snntorch::Alpha";
  explicit AlphaModel(AlphaOptions options) : options(std::move(options)) {}

  /// One step → (spk, syn_exc, syn_inh, mem), snnTorch's order.
  std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> step(const at::Tensor& input,
                                                                  const at::Tensor& syn_exc,
                                                                  const at::Tensor& syn_inh,
                                                                  const at::Tensor& mem);
  at::Tensor step(const at::Tensor& input);

  AlphaOptions options;
  at::Tensor alpha, beta;

 protected:
  void reset_model(torch::nn::Module& self);
  std::vector<at::Tensor> op_params(const at::Tensor& input) const;
  void print_options(std::ostream& os) const;
};

/// snnTorch's RLeaky (see the file comment; Leaky with x_t + recurrent(spk_{t-1}) added
/// last). States: mem, rec (the recurrent input of the last step), spk.
class RLeakyModel : public detail::RecurrentSnnTorchNeuron {
 public:
  using Options = RLeakyOptions;
  static constexpr const char* kName = "snntorch::RLeaky";
  explicit RLeakyModel(RLeakyOptions options) : options(std::move(options)) {}

  /// One step: input, spk, mem [B, *features] → (spk, mem), snnTorch's order.
  std::tuple<at::Tensor, at::Tensor> step(const at::Tensor& input, const at::Tensor& spk,
                                          const at::Tensor& mem);
  at::Tensor step(const at::Tensor& input);

  RLeakyOptions options;
  at::Tensor beta;

 protected:
  void reset_model(torch::nn::Module& self);
  std::vector<at::Tensor> op_params(const at::Tensor& input) const { return recurrent_params(input); }
  std::vector<at::Tensor> recurrent_params(const at::Tensor& input) const override;
  const char* layer_name() const override { return kName; }
  bool record() const override { return options.record_states(); }
  void print_options(std::ostream& os) const;
};

/// snnTorch's RSynaptic (Synaptic with x_t + recurrent(spk_{t-1}) in the synaptic current).
/// States: mem, syn, rec, spk.
class RSynapticModel : public detail::RecurrentSnnTorchNeuron {
 public:
  using Options = RSynapticOptions;
  static constexpr const char* kName = "snntorch::RSynaptic";
  explicit RSynapticModel(RSynapticOptions options) : options(std::move(options)) {}

  /// One step: input, spk, syn, mem → (spk, syn, mem), snnTorch's order.
  std::tuple<at::Tensor, at::Tensor, at::Tensor> step(const at::Tensor& input,
                                                      const at::Tensor& spk,
                                                      const at::Tensor& syn,
                                                      const at::Tensor& mem);
  at::Tensor step(const at::Tensor& input);
  const at::Tensor& syn() const { return state("syn"); }

  RSynapticOptions options;
  at::Tensor alpha, beta;

 protected:
  void reset_model(torch::nn::Module& self);
  std::vector<at::Tensor> op_params(const at::Tensor& input) const { return recurrent_params(input); }
  std::vector<at::Tensor> recurrent_params(const at::Tensor& input) const override;
  const char* layer_name() const override { return kName; }
  bool record() const override { return options.record_states(); }
  void print_options(std::ostream& os) const;
};

}  // namespace snn::snntorch

namespace snn {
extern template class NeuronLayer<snntorch::LeakyModel>;
extern template class NeuronLayer<snntorch::SynapticModel>;
extern template class NeuronLayer<snntorch::LapicqueModel>;
extern template class NeuronLayer<snntorch::AlphaModel>;
extern template class NeuronLayer<snntorch::RLeakyModel>;
extern template class NeuronLayer<snntorch::RSynapticModel>;
}  // namespace snn

namespace snn::snntorch {

/// The module holder of a snnTorch neuron: `layer(x)` runs a sequence [B, T, *features];
/// `layer(x_t, states...)` one step with the states passed in (snnTorch's order), returning
/// (spk, states...).
#define SNN_SNNTORCH_MODULE(Name)                                                  \
  using Name##Impl = NeuronLayer<Name##Model>;                                     \
  class Name : public torch::nn::ModuleHolder<Name##Impl> {                        \
   public:                                                                         \
    using torch::nn::ModuleHolder<Name##Impl>::ModuleHolder;                       \
    using torch::nn::ModuleHolder<Name##Impl>::get;                                \
    at::Tensor operator()(const at::Tensor& input) { return get()->forward(input); } \
    template <typename... States>                                                  \
    auto operator()(const at::Tensor& input, const States&... states) {            \
      return get()->step(input, states...);                                        \
    }                                                                              \
  }

/// snntorch.Leaky: `leaky(x)`, `auto [spk, mem] = leaky(cur, mem)`.
SNN_SNNTORCH_MODULE(Leaky);
/// snntorch.Synaptic: `syn(x)`, `auto [spk, syn, mem] = layer(cur, syn, mem)`.
SNN_SNNTORCH_MODULE(Synaptic);
/// snntorch.Lapicque: `lapicque(x)`, `auto [spk, mem] = lapicque(cur, mem)`.
SNN_SNNTORCH_MODULE(Lapicque);
/// snntorch.Alpha: `alpha(x)`, `auto [spk, syn_exc, syn_inh, mem] = alpha(cur, syn_exc, syn_inh, mem)`.
SNN_SNNTORCH_MODULE(Alpha);
/// snntorch.RLeaky: `rleaky(x)` (step by step), `auto [spk, mem] = rleaky(cur, spk, mem)`.
SNN_SNNTORCH_MODULE(RLeaky);
/// snntorch.RSynaptic: `auto [spk, syn, mem] = rsyn(cur, spk, syn, mem)`.
SNN_SNNTORCH_MODULE(RSynaptic);

}  // namespace snn::snntorch
