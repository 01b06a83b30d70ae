#include "snn/snntorch/neurons.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <ostream>

namespace snn::snntorch {

Value::Value(double value)
    : value_(at::scalar_tensor(value, at::TensorOptions().dtype(at::kFloat))) {}

Value::Value(at::Tensor value) : value_(std::move(value)) {
  TORCH_CHECK(value_.defined(), "snn::snntorch: a parameter tensor must be defined");
  TORCH_CHECK(at::isFloatingType(value_.scalar_type()),
              "snn::snntorch: a parameter must be a floating-point tensor, got ",
              value_.scalar_type());
}

std::ostream& operator<<(std::ostream& os, const Value& value) {
  const auto& t = value.tensor();
  if (t.numel() == 1) return os << t.item<double>();
  return os << "tensor of shape " << t.sizes();
}

namespace detail {
namespace {

ResetFn reset_of(const char* layer, const std::string& mechanism) {
  if (mechanism == "subtract") return MembraneSubtract{};
  if (mechanism == "zero") return MembraneReset{0.0};
  TORCH_CHECK(mechanism == "none", "snn::", layer,
              ": reset_mechanism must be \"subtract\", \"zero\" or \"none\", got \"", mechanism,
              "\"");
  return NoReset{};
}

at::Tensor register_value(torch::nn::Module& self, const std::string& name, const Value& value,
                          bool learn) {
  auto t = value.tensor().detach().clone();
  if (learn) return self.register_parameter(name, t);
  return self.register_buffer(name, t);
}

}  // namespace

void SnnTorchNeuron::reset_neuron(torch::nn::Module& self, const Value& beta_value,
                                  bool learn_beta, const Value& threshold_value,
                                  bool learn_threshold, const Value& graded, bool learn_graded,
                                  const std::optional<Value>& alpha_value, bool learn_alpha,
                                  const Surrogate& spike_grad, bool surrogate_disable,
                                  const std::string& reset_mechanism, bool reset_delay,
                                  const std::optional<std::vector<int64_t>>& shape) {
  const char* layer = alpha_value ? "snntorch::Synaptic" : "snntorch::Leaky";
  ops::NeuronSpec spec;
  spec.family = ops::NeuronFamily::Leaky;
  spec.synapse = alpha_value.has_value();
  spec.spike = ops::SpikeKind::Heaviside;
  spec.norm_input = false;
  spec.reset_delay = reset_delay;
  set_choice(spec, reset_of(layer, reset_mechanism));
  set_choice(spec, surrogate_disable ? Surrogate(NoGradient{}) : spike_grad);
  beta = register_value(self, "beta", beta_value, learn_beta);
  threshold = register_value(self, "threshold", threshold_value, learn_threshold);
  graded_spikes_factor = register_value(self, "graded_spikes_factor", graded, learn_graded);
  if (alpha_value) alpha = register_value(self, "alpha", *alpha_value, learn_alpha);
  set_spec(spec, shape);
}

std::vector<at::Tensor> SnnTorchNeuron::neuron_params() const {
  std::vector<at::Tensor> p{beta.clamp(0, 1), threshold, graded_spikes_factor};
  if (alpha.defined()) p.push_back(alpha.clamp(0, 1));
  return p;
}

std::vector<at::Tensor> SnnTorchNeuron::step_states(const char* layer, bool init_hidden,
                                                    const at::Tensor& input,
                                                    const std::vector<at::Tensor>& states) {
  TORCH_CHECK(states.empty() || !init_hidden, "snn::", layer,
              ": states must not be passed to a step while init_hidden=true");
  TORCH_CHECK(input.dim() >= 1, "snn::", layer, ": expected input of shape [B, ...], got ",
              input.sizes());
  const auto names = state_names();
  for (size_t k = 0; k < states.size(); ++k) {
    // A state of another shape is replaced by zeros (snnTorch's rule), in run_op.
    if (states[k].defined()) set_state(names[k], states[k]);
  }
  auto out = run_op(layer, input.unsqueeze(1), neuron_params());
  for (auto& o : out) o = o.squeeze(1);
  return out;
}

void SnnTorchNeuron::print_common(std::ostream& os, const Value& threshold_value,
                                  const Surrogate& spike_grad, bool surrogate_disable,
                                  bool init_hidden, bool learn_beta, bool learn_threshold,
                                  const std::string& reset_mechanism, bool reset_delay,
                                  const std::optional<std::vector<int64_t>>& shape,
                                  bool record_states) const {
  const auto b = [](bool v) { return v ? "true" : "false"; };
  os << ", threshold=" << threshold_value << ", spike_grad=" << spike_grad
     << ", surrogate_disable=" << b(surrogate_disable) << ", init_hidden=" << b(init_hidden)
     << ", learn_beta=" << b(learn_beta) << ", learn_threshold=" << b(learn_threshold)
     << ", reset_mechanism=\"" << reset_mechanism << "\", reset_delay=" << b(reset_delay);
  print_tail(os, shape, record_states);
}

}  // namespace detail

// ---- Leaky -------------------------------------------------------------------

void LeakyModel::reset_model(torch::nn::Module& self) {
  reset_neuron(self, options, options.beta(), options.graded_spikes_factor(),
               options.learn_graded_spikes_factor(), std::nullopt, false);
}

std::tuple<at::Tensor, at::Tensor> LeakyModel::step(const at::Tensor& input, const at::Tensor& mem) {
  const auto out = step_states(kName, options.init_hidden(), input, {mem});
  return {out[0], out[1]};
}

at::Tensor LeakyModel::step(const at::Tensor& input) {
  return step_states(kName, false, input, {})[0];
}

void LeakyModel::print_options(std::ostream& os) const {
  os << "beta=" << options.beta() << ", graded_spikes_factor=" << options.graded_spikes_factor()
     << ", learn_graded_spikes_factor=" << (options.learn_graded_spikes_factor() ? "true" : "false");
  print_common(os, options);
}

// ---- Synaptic ----------------------------------------------------------------

void SynapticModel::reset_model(torch::nn::Module& self) {
  reset_neuron(self, options, options.beta(), Value(1.0), false, options.alpha(),
               options.learn_alpha());
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> SynapticModel::step(const at::Tensor& input,
                                                                   const at::Tensor& syn,
                                                                   const at::Tensor& mem) {
  const auto out = step_states(kName, options.init_hidden(), input, {mem, syn});
  return {out[0], out[2], out[1]};
}

at::Tensor SynapticModel::step(const at::Tensor& input) {
  return step_states(kName, false, input, {})[0];
}

void SynapticModel::print_options(std::ostream& os) const {
  os << "alpha=" << options.alpha() << ", beta=" << options.beta()
     << ", learn_alpha=" << (options.learn_alpha() ? "true" : "false");
  print_common(os, options);
}

}  // namespace snn::snntorch

namespace snn {
template class NeuronLayer<snntorch::LeakyModel>;
template class NeuronLayer<snntorch::SynapticModel>;
}  // namespace snn
