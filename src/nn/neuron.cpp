#include "snn/nn/neuron.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>


#include "snn/ops/neuron.h"

namespace snn::detail {
namespace {

// A parameter as the op takes it: one value stays a scalar; anything else is broadcast
// (right-aligned, as Sinabs broadcasts τ against the state) to the features and flattened.
at::Tensor op_param(const at::Tensor& param, at::IntArrayRef features, const char* layer,
                    const std::string& name, at::ScalarType dtype) {
  if (param.numel() == 1) return param.to(dtype).reshape({});
  bool ok = param.dim() <= static_cast<int64_t>(features.size());
  for (int64_t d = 1; ok && d <= param.dim(); ++d) {
    const auto p = param.size(-d), f = features[features.size() - d];
    ok = p == 1 || p == f;
  }
  TORCH_CHECK(ok, "snn::", layer, ": ", name, " of shape ", param.sizes(),
              " does not broadcast to the feature shape ", features);
  return param.to(dtype).expand(features).reshape({-1});
}

}  // namespace

void NeuronCore::set_spec(const ops::NeuronSpec& spec,
                          const std::optional<std::vector<int64_t>>& shape) {
  // The canonical text (what the op receives), validated and parsed once, held for every call.
  spec_ = spec.str();
  parsed_ = &ops::neuron_spec(spec_);
  recordings_.clear();
  define_states(parsed_->state_names());
  if (shape && !is_state_initialised()) init_states(*shape, at::TensorOptions().dtype(at::kFloat));
}

std::vector<at::Tensor> NeuronCore::run_op(const char* layer, const at::Tensor& input,
                                           const std::vector<at::Tensor>& params) {
  TORCH_CHECK(input.dim() >= 2, "snn::", layer, ": expected input of shape [B, T, ...], got ",
              input.sizes());
  TORCH_CHECK(input.size(1) >= 1, "snn::", layer, ": expected at least one time step, got input ",
              input.sizes());
  TORCH_CHECK(at::isFloatingType(input.scalar_type()), "snn::", layer,
              ": expected a floating-point input, got ", input.scalar_type());
  const ops::NeuronSpec& spec = *parsed_;
  const int64_t B = input.size(0), T = input.size(1);
  const auto features = input.sizes().slice(2);
  std::vector<int64_t> state_shape{B};
  state_shape.insert(state_shape.end(), features.begin(), features.end());
  ensure_state_shape(state_shape, input.options());

  const auto& names = spec.param_names();
  TORCH_INTERNAL_ASSERT(names.size() == params.size());
  std::vector<at::Tensor> p;
  for (size_t k = 0; k < params.size(); ++k) {
    p.push_back(op_param(params[k], features, layer, names[k], input.scalar_type()));
  }
  const auto& state_names = spec.state_names();
  std::vector<at::Tensor> s;
  for (const auto& name : state_names) s.push_back(state(name).reshape({B, -1}));
  auto out = ops::neuron(input.reshape({B, T, -1}), s, p, spec_);
  for (auto& o : out) o = o.reshape(input.sizes());
  for (size_t k = 0; k < state_names.size(); ++k) {
    set_state(state_names[k], out[1 + k].select(1, T - 1));
  }
  return out;
}

at::Tensor NeuronCore::run(const char* layer, const at::Tensor& input,
                           const std::vector<at::Tensor>& params, bool record) {
  const auto out = run_op(layer, input, params);
  recordings_.clear();
  if (record) {
    const auto names = state_names();
    std::map<std::string, at::Tensor> rec;
    for (size_t k = 0; k < names.size(); ++k) rec[names[k]] = out[1 + k];
    set_recordings(std::move(rec));
  }
  return model_output(out);
}

at::Tensor NeuronCore::run_recurrent(const char* layer, const at::Tensor& input,
                                     const std::vector<at::Tensor>& params, bool record,
                                     const std::function<at::Tensor(const at::Tensor&)>& rec) {
  TORCH_CHECK(input.dim() >= 2, "snn::", layer, "Recurrent: expected input of shape [B, T, ...], got ",
              input.sizes());
  const int64_t T = input.size(1);
  std::vector<int64_t> step_shape(input.sizes().begin(), input.sizes().end());
  step_shape.erase(step_shape.begin() + 1);  // [B, *features]
  const auto names = state_names();
  std::vector<at::Tensor> outputs;
  std::vector<std::vector<at::Tensor>> records(names.size());
  at::Tensor rec_input = at::zeros(step_shape, input.options());
  for (int64_t t = 0; t < T; ++t) {
    const auto out = run_op(layer, (input.select(1, t) + rec_input).unsqueeze(1), params);
    outputs.push_back(out[0]);
    if (record) {
      for (size_t k = 0; k < names.size(); ++k) records[k].push_back(out[1 + k]);
    }
    if (t + 1 < T) {
      const auto r = rec(out[0].squeeze(1));
      TORCH_CHECK(r.numel() == rec_input.numel(), "snn::", layer,
                  "Recurrent: rec_connect must map spikes ", at::IntArrayRef(step_shape),
                  " to the same number of values, got ", r.sizes());
      rec_input = r.reshape(step_shape);
    }
  }
  recordings_.clear();
  if (record) {
    std::map<std::string, at::Tensor> rec_map;
    for (size_t k = 0; k < names.size(); ++k) rec_map[names[k]] = at::cat(records[k], 1);
    set_recordings(std::move(rec_map));
  }
  return at::cat(outputs, 1);
}

void NeuronCore::set_recordings(std::map<std::string, at::Tensor> recordings) {
  recordings_ = std::move(recordings);
  if (!recordings_.empty()) add_derived_recordings(recordings_);
}

ops::NeuronSpec NeuronCore::spiking_spec(ops::NeuronFamily family, bool synapse,
                                         bool norm_input, const SpikeFn& spike_fn,
                                         const ResetFn& reset_fn, const Surrogate& surrogate,
                                         std::optional<double> min_v_mem) {
  ops::NeuronSpec s;
  s.family = family;
  s.synapse = synapse;
  s.norm_input = norm_input;
  set_choice(s, spike_fn);
  set_choice(s, reset_fn);
  set_choice(s, surrogate);
  s.min_v_mem = min_v_mem;
  return s;
}

void NeuronCore::print_spiking(std::ostream& os, double spike_threshold, const SpikeFn& spike_fn,
                               const ResetFn& reset_fn, const Surrogate& surrogate,
                               std::optional<double> min_v_mem) {
  os << ", spike_threshold=" << spike_threshold << ", spike_fn=" << spike_fn
     << ", reset_fn=" << reset_fn << ", surrogate=" << surrogate;
  if (min_v_mem) os << ", min_v_mem=" << *min_v_mem;
}

void NeuronCore::print_tail(std::ostream& os, const std::optional<std::vector<int64_t>>& shape,
                            bool record_states) {
  if (shape) os << ", shape=" << at::IntArrayRef(*shape);
  os << ", record_states=" << (record_states ? "true" : "false");
}

void NeuronCore::check_positive(const char* layer, const char* name, double value) {
  TORCH_CHECK(value > 0, "snn::", layer, ": ", name, " must be > 0, got ", value);
}

void NeuronCore::check_tau(const char* layer, const char* name,
                           const std::optional<TimeConstant>& tau) {
  TORCH_CHECK(!tau || (tau->tensor() > 0).all().item<bool>(), "snn::", layer, ": ", name,
              " must be > 0, got ", *tau);
}

at::Tensor NeuronCore::register_decay(torch::nn::Module& self, const std::string& name,
                                      const TimeConstant& tau, bool as_alpha) {
  auto t = tau.tensor().detach().to(at::kFloat).clone();
  return self.register_parameter((as_alpha ? "alpha_" : "tau_") + name,
                                 as_alpha ? at::exp(-1.0 / t) : t);
}

at::Tensor NeuronCore::decay(const at::Tensor& tau, const at::Tensor& alpha, bool as_alpha) {
  return as_alpha ? alpha : at::exp(-1.0 / tau);
}

void NeuronCore::copy_states_from(const NeuronCore& other, const std::optional<at::Device>& device) {
  for (const auto& name : other.state_names()) {
    const auto& value = other.state(name);
    if (!value.defined()) continue;
    auto copy = value.detach().clone();
    set_state(name, device ? copy.to(*device) : copy);
  }
}

}  // namespace snn::detail

namespace snn {

RecurrentConnection::RecurrentConnection(torch::nn::AnyModule module) : any_(std::move(module)) {
  TORCH_CHECK(!any_.is_empty(), "snn: rec_connect must be a module");
}

RecurrentConnection::RecurrentConnection(torch::nn::Sequential sequential)
    : sequential_(std::move(sequential)) {
  TORCH_CHECK(!sequential_.is_empty(), "snn: rec_connect must be a module");
}

at::Tensor RecurrentConnection::operator()(const at::Tensor& spikes) {
  if (sequential_) return sequential_->forward(spikes);
  return any_.forward<at::Tensor>(spikes);
}

std::shared_ptr<torch::nn::Module> RecurrentConnection::ptr() const {
  if (sequential_) return sequential_.ptr();
  return any_.is_empty() ? nullptr : any_.ptr();
}

RecurrentConnection RecurrentConnection::clone() const {
  if (sequential_) {
    return RecurrentConnection(torch::nn::Sequential(
        std::dynamic_pointer_cast<torch::nn::SequentialImpl>(sequential_->clone())));
  }
  return RecurrentConnection(any_.clone());
}

const std::map<std::string, at::Tensor>* recordings(const torch::nn::Module& module) {
  const auto* core = dynamic_cast<const detail::NeuronCore*>(&module);
  return core != nullptr ? &core->recordings() : nullptr;
}

std::vector<LayerRecordings> recorded_states(const torch::nn::Module& model) {
  std::vector<LayerRecordings> out;
  if (const auto* r = recordings(model)) out.push_back({"", *r});
  for (const auto& item : model.named_modules("", /*include_self=*/false)) {
    if (const auto* r = recordings(*item.value())) out.push_back({item.key(), *r});
  }
  return out;
}

}  // namespace snn

namespace snn::detail {

void check_squeeze(const char* layer, const SqueezeOptions& squeeze) {
  TORCH_CHECK(squeeze.batch_size() || squeeze.num_timesteps(), "snn::", layer,
              "Squeeze: give batch_size or num_timesteps (SqueezeOptions)");
  TORCH_CHECK(!squeeze.batch_size() || *squeeze.batch_size() >= 1, "snn::", layer,
              "Squeeze: batch_size must be >= 1, got ", *squeeze.batch_size());
  TORCH_CHECK(!squeeze.num_timesteps() || *squeeze.num_timesteps() >= 1, "snn::", layer,
              "Squeeze: num_timesteps must be >= 1, got ", *squeeze.num_timesteps());
}

at::Tensor unsqueeze_time(const char* layer, const at::Tensor& input, const SqueezeOptions& squeeze) {
  TORCH_CHECK(input.dim() >= 1, "snn::", layer, "Squeeze: expected input of shape [B*T, ...], got ",
              input.sizes());
  const int64_t BT = input.size(0);
  const int64_t B = squeeze.batch_size().value_or(-1);
  const int64_t T = squeeze.num_timesteps().value_or(-1);
  const int64_t known = B > 0 ? B : T;
  TORCH_CHECK(BT % known == 0 && (B < 0 || T < 0 || B * T == BT), "snn::", layer,
              "Squeeze: the first dimension ", BT, " of input ", input.sizes(),
              " does not split into batch_size ", B > 0 ? std::to_string(B) : "?",
              " x num_timesteps ", T > 0 ? std::to_string(T) : "?");
  std::vector<int64_t> shape{B, T};
  const auto rest = input.sizes().slice(1);
  shape.insert(shape.end(), rest.begin(), rest.end());
  return input.reshape(shape);
}

void print_squeeze(std::ostream& os, const SqueezeOptions& squeeze) {
  if (squeeze.batch_size()) os << ", batch_size=" << *squeeze.batch_size();
  if (squeeze.num_timesteps()) os << ", num_timesteps=" << *squeeze.num_timesteps();
}

}  // namespace snn::detail
