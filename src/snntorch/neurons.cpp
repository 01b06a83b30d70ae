#include "snn/snntorch/neurons.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <map>
#include <ostream>

namespace snn::snntorch {

StateQuant state_quant(const at::Tensor& levels) {
  TORCH_CHECK(levels.dim() == 1 && levels.numel() >= 1 && at::isFloatingType(levels.scalar_type()),
              "snn::snntorch::state_quant: expected levels of shape [n] (floating point), got ",
              levels.sizes(), " ", levels.scalar_type());
  const auto l = levels.detach().clone();
  return state_quant([l](const at::Tensor& v) {
    const auto levels_here = l.to(v.dtype());
    const auto distance = (levels_here.view({1, -1}) - v.reshape({-1, 1})).abs();
    return levels_here.index_select(0, std::get<1>(at::min(distance, 1))).reshape(v.sizes());
  });
}

StateQuant state_quant_uniform(int64_t num_bits, double threshold, double lower_limit,
                               double upper_limit) {
  TORCH_CHECK(num_bits >= 1 && num_bits <= 16,
              "snn::snntorch::state_quant_uniform: num_bits must be in [1, 16], got ", num_bits);
  return state_quant(at::linspace(-threshold - threshold * lower_limit,
                                  threshold + threshold * upper_limit, int64_t{1} << num_bits));
}

StateQuant state_quant(std::function<at::Tensor(const at::Tensor&)> quantise) {
  return StateQuant{ops::register_state_quant(std::move(quantise))};
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

}  // namespace

const char* boolean(bool v) { return v ? "true" : "false"; }

at::Tensor value_or_parameter(torch::nn::Module& self, const std::string& name,
                              const at::Tensor& value, bool learn) {
  auto t = value.detach().clone();
  if (learn) return self.register_parameter(name, t);
  return self.register_buffer(name, t);
}

Surrogate spike_surrogate(const Surrogate& spike_grad, bool surrogate_disable) {
  return surrogate_disable ? Surrogate(NoGradient{}) : spike_grad;
}

ops::NeuronSpec SnnTorchNeuron::make_spec(const char* layer, ops::NeuronFamily family,
                                          bool synapse, bool zero_keeps_input,
                                          const std::string& reset_mechanism, bool reset_delay,
                                          const Surrogate& spike_grad, bool surrogate_disable) {
  ops::NeuronSpec spec;
  spec.family = family;
  spec.synapse = synapse;
  spec.spike = ops::SpikeKind::Heaviside;
  spec.norm_input = false;
  spec.reset_delay = reset_delay;
  spec.zero_keeps_input = zero_keeps_input;
  set_choice(spec, reset_of(layer, reset_mechanism));
  set_choice(spec, spike_surrogate(spike_grad, surrogate_disable));
  return spec;
}

void SnnTorchNeuron::set_inhibition(const char* layer, bool inhibition, bool reset_delay,
                                    bool recurrent) {
  TORCH_CHECK(!inhibition || !recurrent, "snn::", layer, ": inhibition is not available for the "
              "recurrent forms (their fed-back spikes would have to be the masked ones)");
  TORCH_CHECK(!inhibition || reset_delay, "snn::", layer, ": inhibition needs reset_delay=true "
              "(snnTorch's same-step reset follows the masked spikes)");
  inhibition_ = inhibition;
}

at::Tensor SnnTorchNeuron::model_output(const std::vector<at::Tensor>& op_outputs) const {
  if (!inhibition_) return op_outputs[0];
  const auto& mem = op_outputs[1];  // [B, T, N]
  TORCH_CHECK(mem.dim() == 3, "snn::snntorch: inhibition needs features of one dimension [N] "
              "(input [B, T, N] or a step's [B, N]), got states of shape ", mem.sizes());
  const auto winner = at::argmax((mem - threshold).detach(), -1, /*keepdim=*/true);
  return op_outputs[0] * at::zeros_like(mem).scatter_(-1, winner, 1.0);
}

at::Tensor SnnTorchNeuron::register_value(torch::nn::Module& self, const std::string& name,
                                          const Value& value, bool learn) {
  return value_or_parameter(self, name, value.tensor(), learn);
}

std::vector<at::Tensor> SnnTorchNeuron::step_states(const char* layer, bool init_hidden,
                                                    const at::Tensor& input,
                                                    const std::vector<at::Tensor>& states,
                                                    const std::vector<at::Tensor>& params) {
  TORCH_CHECK(states.empty() || !init_hidden, "snn::", layer,
              ": states must not be passed to a step while init_hidden=true");
  TORCH_CHECK(input.dim() >= 1, "snn::", layer, ": expected input of shape [B, ...], got ",
              input.sizes());
  const auto& names = state_names();
  for (size_t k = 0; k < states.size(); ++k) {
    // A state of another shape is replaced by zeros (snnTorch's rule), in run_op.
    if (states[k].defined()) set_state(names[k], states[k]);
  }
  auto out = run_op(layer, input.unsqueeze(1), params);
  out[0] = model_output(out);
  for (auto& o : out) o = o.squeeze(1);
  return out;
}

void SnnTorchNeuron::print_common(std::ostream& os, const Value& threshold_value,
                                  const Surrogate& spike_grad, bool surrogate_disable,
                                  bool init_hidden, bool learn_beta, bool learn_threshold,
                                  const std::string& reset_mechanism, bool reset_delay,
                                  const std::optional<std::vector<int64_t>>& shape,
                                  bool record_states) const {
  os << ", threshold=" << threshold_value << ", spike_grad=" << spike_grad
     << ", surrogate_disable=" << boolean(surrogate_disable)
     << ", init_hidden=" << boolean(init_hidden) << ", learn_beta=" << boolean(learn_beta)
     << ", learn_threshold=" << boolean(learn_threshold) << ", reset_mechanism=\""
     << reset_mechanism << "\", reset_delay=" << boolean(reset_delay);
  print_tail(os, shape, record_states);
}

void RecurrentSnnTorchNeuron::reset_recurrent(torch::nn::Module& self, const Value& v,
                                              bool all_to_all,
                                              std::optional<int64_t> linear_features,
                                              std::optional<int64_t> conv2d_channels,
                                              std::optional<int64_t> kernel_size,
                                              bool learn_recurrent) {
  const char* layer = layer_name();
  recurrent_linear = nullptr;
  recurrent_conv = nullptr;
  V = at::Tensor();
  if (all_to_all) {
    if (linear_features) {
      TORCH_CHECK(*linear_features >= 1, "snn::", layer, ": linear_features must be >= 1, got ",
                  *linear_features);
      recurrent_linear = self.register_module(
          "recurrent", torch::nn::Linear(*linear_features, *linear_features));
    } else {
      TORCH_CHECK(conv2d_channels && kernel_size, "snn::", layer,
                  ": all_to_all=true needs linear_features, or conv2d_channels and kernel_size");
      TORCH_CHECK(*conv2d_channels >= 1 && *kernel_size >= 1, "snn::", layer,
                  ": conv2d_channels and kernel_size must be >= 1, got ", *conv2d_channels, ", ",
                  *kernel_size);
      recurrent_conv = self.register_module(
          "recurrent", torch::nn::Conv2d(torch::nn::Conv2dOptions(*conv2d_channels,
                                                                  *conv2d_channels, *kernel_size)
                                             .padding(*kernel_size / 2)));
    }
    if (!learn_recurrent) {
      for (auto& p : recurrent_linear ? recurrent_linear->parameters()
                                      : recurrent_conv->parameters()) {
        p.set_requires_grad(false);
      }
    }
  } else {
    V = register_value(self, "V", v, learn_recurrent);
  }
}

void RecurrentSnnTorchNeuron::set_recurrent_spec(const ops::NeuronSpec& spec,
                                                 const std::optional<std::vector<int64_t>>& shape) {
  set_spec(spec, shape);
  auto names = spec.state_names();
  names.emplace_back("spk");
  define_states(names);
  if (shape && !state("spk").defined()) init_states(*shape, at::TensorOptions().dtype(at::kFloat));
}

at::Tensor RecurrentSnnTorchNeuron::recurrent(const at::Tensor& spikes) {
  if (recurrent_linear) return recurrent_linear(spikes);
  if (recurrent_conv) {
    TORCH_CHECK(spikes.dim() == 4, "snn::", layer_name(),
                ": a Conv2d connection expects input of shape [B, C, H, W] per step, got ",
                spikes.sizes());
    return recurrent_conv(spikes);
  }
  return spikes * V;
}

std::vector<at::Tensor> RecurrentSnnTorchNeuron::recurrent_step(
    const char* layer, bool init_hidden, const at::Tensor& input,
    const std::vector<at::Tensor>& states) {
  TORCH_CHECK(states.empty() || !init_hidden, "snn::", layer,
              ": states must not be passed to a step while init_hidden=true");
  TORCH_CHECK(input.dim() >= 1, "snn::", layer, ": expected input of shape [B, ...], got ",
              input.sizes());
  // states: the op's (without rec) and spk, in that order.
  const auto& names = state_names();  // op states..., rec, spk
  for (size_t k = 0; k < states.size(); ++k) {
    const auto& name = k + 1 == states.size() ? names.back() : names[k];
    if (states[k].defined()) set_state(name, states[k]);
  }
  ensure_state_shape(input.sizes(), input.options());
  const auto rec = recurrent(state("spk"));
  TORCH_CHECK(rec.sizes() == input.sizes(), "snn::", layer, ": the recurrent connection maps ",
              state("spk").sizes(), " to ", rec.sizes(), ", expected the input's shape ",
              input.sizes());
  set_state("rec", rec);
  auto out = run_op(layer, input.unsqueeze(1), recurrent_params(input));
  for (auto& o : out) o = o.squeeze(1);
  set_state("spk", out[0]);
  out.pop_back();  // rec
  return out;
}

at::Tensor RecurrentSnnTorchNeuron::run_sequence(const at::Tensor& input) {
  const char* layer = layer_name();
  TORCH_CHECK(input.dim() >= 2, "snn::", layer, ": expected input of shape [B, T, ...], got ",
              input.sizes());
  std::vector<std::vector<at::Tensor>> steps;
  for (int64_t t = 0; t < input.size(1); ++t) {
    steps.push_back(recurrent_step(layer, false, input.select(1, t), {}));
  }
  std::vector<at::Tensor> spikes;
  for (const auto& s : steps) spikes.push_back(s[0]);
  clear_recordings();
  if (record()) {
    const auto& names = state_names();
    std::map<std::string, at::Tensor> recs;
    for (size_t k = 1; k < steps[0].size(); ++k) {
      std::vector<at::Tensor> seq;
      for (const auto& s : steps) seq.push_back(s[k]);
      recs[names[k - 1]] = at::stack(seq, 1);
    }
    set_recordings(std::move(recs));
  }
  return at::stack(spikes, 1);
}

}  // namespace detail

using ops::NeuronFamily;

// ---- Leaky -------------------------------------------------------------------

void LeakyModel::reset_model(torch::nn::Module& self) {
  beta = register_value(self, "beta", options.beta(), options.learn_beta());
  threshold = register_value(self, "threshold", options.threshold(), options.learn_threshold());
  graded_spikes_factor = register_value(self, "graded_spikes_factor",
                                        options.graded_spikes_factor(),
                                        options.learn_graded_spikes_factor());
  set_spec(make_spec(kName, NeuronFamily::Leaky, false, true, options), options.shape());
  set_inhibition(kName, options.inhibition(), options.reset_delay(), false);
}

std::vector<at::Tensor> LeakyModel::op_params(const at::Tensor& /*input*/) const {
  return {beta.clamp(0, 1), threshold, graded_spikes_factor};
}

std::tuple<at::Tensor, at::Tensor> LeakyModel::step(const at::Tensor& input, const at::Tensor& mem) {
  const auto out = step_states(kName, options.init_hidden(), input, {mem}, op_params(input));
  return {out[0], out[1]};
}

at::Tensor LeakyModel::step(const at::Tensor& input) {
  return step_states(kName, false, input, {}, op_params(input))[0];
}

void LeakyModel::print_options(std::ostream& os) const {
  os << "beta=" << options.beta() << ", graded_spikes_factor=" << options.graded_spikes_factor()
     << ", learn_graded_spikes_factor=" << detail::boolean(options.learn_graded_spikes_factor());
  print_common(os, options);
}

// ---- Synaptic ----------------------------------------------------------------

void SynapticModel::reset_model(torch::nn::Module& self) {
  alpha = register_value(self, "alpha", options.alpha(), options.learn_alpha());
  beta = register_value(self, "beta", options.beta(), options.learn_beta());
  threshold = register_value(self, "threshold", options.threshold(), options.learn_threshold());
  // Synaptic's zero reset zeroes the whole new membrane (input included).
  set_spec(make_spec(kName, NeuronFamily::Leaky, true, false, options), options.shape());
  set_inhibition(kName, options.inhibition(), options.reset_delay(), false);
}

std::vector<at::Tensor> SynapticModel::op_params(const at::Tensor& input) const {
  return {beta.clamp(0, 1), threshold, at::ones({}, input.options()), alpha.clamp(0, 1)};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> SynapticModel::step(const at::Tensor& input,
                                                                   const at::Tensor& syn,
                                                                   const at::Tensor& mem) {
  const auto out = step_states(kName, options.init_hidden(), input, {mem, syn}, op_params(input));
  return {out[0], out[2], out[1]};
}

at::Tensor SynapticModel::step(const at::Tensor& input) {
  return step_states(kName, false, input, {}, op_params(input))[0];
}

void SynapticModel::print_options(std::ostream& os) const {
  os << "alpha=" << options.alpha() << ", beta=" << options.beta()
     << ", learn_alpha=" << detail::boolean(options.learn_alpha());
  print_common(os, options);
}

// ---- Lapicque ----------------------------------------------------------------

void LapicqueModel::reset_model(torch::nn::Module& self) {
  // snnTorch's rules, computed in float32 as snnTorch computes them.
  const auto f = at::TensorOptions().dtype(at::kFloat);
  const auto o = options;
  TORCH_CHECK(o.beta() || (o.R() && o.C()), "snn::", kName,
              ": give beta, or two of beta, R and C (got ", o.beta() ? "beta" : "",
              o.R() ? " R" : "", o.C() ? " C" : "", ")");
  TORCH_CHECK(!o.beta() || (*o.beta() > 0 && *o.beta() < 1), "snn::", kName,
              ": beta must be in (0, 1), got ", o.beta().value_or(0));
  TORCH_CHECK(!o.R() || *o.R() > 0, "snn::", kName, ": R must be > 0, got ", o.R().value_or(0));
  TORCH_CHECK(!o.C() || *o.C() > 0, "snn::", kName, ": C must be > 0, got ", o.C().value_or(0));
  TORCH_CHECK(o.time_step() > 0, "snn::", kName, ": time_step must be > 0, got ", o.time_step());
  const auto dt = at::scalar_tensor(o.time_step(), f);
  at::Tensor b, r, c;
  if (!o.beta()) {
    r = at::scalar_tensor(*o.R(), f);
    c = at::scalar_tensor(*o.C(), f);
    b = at::exp(at::ones({1}, f) * (-dt / (r * c)));
  } else {
    b = at::scalar_tensor(*o.beta(), f);
    const auto log_inv = at::log(1 / b);
    if (o.C() && !o.R()) {
      c = at::scalar_tensor(*o.C(), f);
      r = dt / (c * log_inv);
    } else {
      r = at::scalar_tensor(o.R().value_or(1.0), f);
      c = dt / (r * log_inv);
    }
  }
  beta = register_value(self, "beta", Value(b), options.learn_beta());
  R = self.register_buffer("R", r);
  C = self.register_buffer("C", c);
  time_step = self.register_buffer("time_step", dt);
  threshold = register_value(self, "threshold", options.threshold(), options.learn_threshold());
  TORCH_CHECK(options.reset_delay(), "snn::", kName,
              ": the reset is always delayed (snnTorch's Lapicque has no reset_delay)");
  set_spec(make_spec(kName, NeuronFamily::Leaky, false, false, options), options.shape());
  set_inhibition(kName, options.inhibition(), options.reset_delay(), false);
}

std::pair<at::Tensor, at::Tensor> LapicqueModel::constants() const {
  if (!options.beta()) return {R, C};
  const auto log_inv = at::log(1 / beta);
  if (options.C() && !options.R()) return {time_step / (C * log_inv), C};
  return {R, time_step / (R * log_inv)};
}

at::Tensor LapicqueModel::model_input(const at::Tensor& input) const {
  const auto [r, c] = constants();
  return input * r * (1 / (r * c)) * time_step;
}

std::vector<at::Tensor> LapicqueModel::op_params(const at::Tensor& input) const {
  const auto [r, c] = constants();
  return {1 - time_step / (r * c), threshold, at::ones({}, input.options())};
}

std::tuple<at::Tensor, at::Tensor> LapicqueModel::step(const at::Tensor& input,
                                                       const at::Tensor& mem) {
  const auto out = step_states(kName, options.init_hidden(), model_input(input), {mem},
                               op_params(input));
  return {out[0], out[1]};
}

at::Tensor LapicqueModel::step(const at::Tensor& input) {
  return step_states(kName, false, model_input(input), {}, op_params(input))[0];
}

void LapicqueModel::print_options(std::ostream& os) const {
  os << "beta=" << beta.item<double>() << ", R=" << R.item<double>() << ", C=" << C.item<double>()
     << ", time_step=" << options.time_step();
  print_common(os, options);
}

// ---- Alpha -------------------------------------------------------------------

void AlphaModel::reset_model(torch::nn::Module& self) {
  const auto& a = options.alpha().tensor();
  const auto& b = options.beta().tensor();
  TORCH_CHECK(!(a.clamp(0, 1) <= b.clamp(0, 1)).any().item<bool>(), "snn::", kName,
              ": alpha must be greater than beta (snnTorch's rule), got alpha ", options.alpha(),
              ", beta ", options.beta());
  TORCH_CHECK(!(b == 1).any().item<bool>(), "snn::", kName,
              ": beta must not be 1 (tau_alpha would divide by zero)");
  alpha = register_value(self, "alpha", Value(a.clamp(0, 1)), options.learn_alpha());
  beta = register_value(self, "beta", options.beta(), options.learn_beta());
  threshold = register_value(self, "threshold", options.threshold(), options.learn_threshold());
  TORCH_CHECK(options.reset_delay(), "snn::", kName,
              ": the reset is always delayed (snnTorch's Alpha has no reset_delay)");
  set_spec(make_spec(kName, NeuronFamily::Alpha, false, false, options), options.shape());
  set_inhibition(kName, options.inhibition(), options.reset_delay(), false);
}

std::vector<at::Tensor> AlphaModel::op_params(const at::Tensor& /*input*/) const {
  const auto a = alpha.clamp(0, 1), b = beta.clamp(0, 1);
  const auto tau_alpha = at::log(a) / (at::log(b) - at::log(a)) + 1;
  return {a, b, threshold, tau_alpha};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor, at::Tensor> AlphaModel::step(
    const at::Tensor& input, const at::Tensor& syn_exc, const at::Tensor& syn_inh,
    const at::Tensor& mem) {
  const auto out = step_states(kName, options.init_hidden(), input, {mem, syn_exc, syn_inh},
                               op_params(input));
  return {out[0], out[2], out[3], out[1]};
}

at::Tensor AlphaModel::step(const at::Tensor& input) {
  return step_states(kName, false, input, {}, op_params(input))[0];
}

void AlphaModel::print_options(std::ostream& os) const {
  os << "alpha=" << options.alpha() << ", beta=" << options.beta()
     << ", learn_alpha=" << detail::boolean(options.learn_alpha());
  print_common(os, options);
}

// ---- RLeaky / RSynaptic --------------------------------------------------------------

void RLeakyModel::reset_model(torch::nn::Module& self) {
  set_inhibition(kName, options.inhibition(), options.reset_delay(), true);
  beta = register_value(self, "beta", options.beta(), options.learn_beta());
  threshold = register_value(self, "threshold", options.threshold(), options.learn_threshold());
  reset_recurrent(self, options);
  auto spec = make_spec(kName, NeuronFamily::Leaky, false, false, options);
  spec.recurrent = true;
  set_recurrent_spec(spec, options.shape());
}

std::vector<at::Tensor> RLeakyModel::recurrent_params(const at::Tensor& input) const {
  return {beta.clamp(0, 1), threshold, at::ones({}, input.options())};
}

std::tuple<at::Tensor, at::Tensor> RLeakyModel::step(const at::Tensor& input,
                                                     const at::Tensor& spk,
                                                     const at::Tensor& mem) {
  const auto out = recurrent_step(kName, options.init_hidden(), input, {mem, spk});
  return {out[0], out[1]};
}

at::Tensor RLeakyModel::step(const at::Tensor& input) {
  return recurrent_step(kName, false, input, {})[0];
}

void RLeakyModel::print_options(std::ostream& os) const {
  os << "beta=" << options.beta() << ", all_to_all=" << detail::boolean(options.all_to_all());
  if (V.defined()) os << ", V=" << options.V();
  os << ", learn_recurrent=" << detail::boolean(options.learn_recurrent());
  print_common(os, options);
}

void RSynapticModel::reset_model(torch::nn::Module& self) {
  set_inhibition(kName, options.inhibition(), options.reset_delay(), true);
  alpha = register_value(self, "alpha", options.alpha(), options.learn_alpha());
  beta = register_value(self, "beta", options.beta(), options.learn_beta());
  threshold = register_value(self, "threshold", options.threshold(), options.learn_threshold());
  reset_recurrent(self, options);
  auto spec = make_spec(kName, NeuronFamily::Leaky, true, false, options);
  spec.recurrent = true;
  set_recurrent_spec(spec, options.shape());
}

std::vector<at::Tensor> RSynapticModel::recurrent_params(const at::Tensor& input) const {
  return {beta.clamp(0, 1), threshold, at::ones({}, input.options()), alpha.clamp(0, 1)};
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> RSynapticModel::step(const at::Tensor& input,
                                                                    const at::Tensor& spk,
                                                                    const at::Tensor& syn,
                                                                    const at::Tensor& mem) {
  const auto out = recurrent_step(kName, options.init_hidden(), input, {mem, syn, spk});
  return {out[0], out[2], out[1]};
}

at::Tensor RSynapticModel::step(const at::Tensor& input) {
  return recurrent_step(kName, false, input, {})[0];
}

void RSynapticModel::print_options(std::ostream& os) const {
  os << "alpha=" << options.alpha() << ", beta=" << options.beta()
     << ", learn_alpha=" << detail::boolean(options.learn_alpha())
     << ", all_to_all=" << detail::boolean(options.all_to_all());
  if (V.defined()) os << ", V=" << options.V();
  os << ", learn_recurrent=" << detail::boolean(options.learn_recurrent());
  print_common(os, options);
}

}  // namespace snn::snntorch

namespace snn {
template class NeuronLayer<snntorch::LeakyModel>;
template class NeuronLayer<snntorch::SynapticModel>;
template class NeuronLayer<snntorch::LapicqueModel>;
template class NeuronLayer<snntorch::AlphaModel>;
template class NeuronLayer<snntorch::RLeakyModel>;
template class NeuronLayer<snntorch::RSynapticModel>;
}  // namespace snn
