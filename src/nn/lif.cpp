#include "snn/nn/lif.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <c10/util/irange.h>

#include <ostream>
#include <sstream>

#include <torch/serialize/archive.h>

#include "snn/ops/lif.h"

namespace snn {
namespace {

// A per-neuron decay factor [N] from a parameter broadcast (right-aligned) against the
// feature shape, as Sinabs broadcasts τ against the state.
at::Tensor per_neuron(const at::Tensor& param, at::IntArrayRef features, const char* layer,
                      const char* name, at::ScalarType dtype) {
  bool ok = param.dim() <= static_cast<int64_t>(features.size());
  for (int64_t d = 1; ok && d <= param.dim(); ++d) {
    const auto p = param.size(-d), f = features[features.size() - d];
    ok = p == 1 || p == f;
  }
  TORCH_CHECK(ok, "snn::", layer, ": ", name, " of shape ", param.sizes(),
              " does not broadcast to the feature shape ", features);
  return param.to(dtype).expand(features).reshape({-1});
}

void print_common(std::ostream& os, const std::optional<TimeConstant>& tau_syn,
                  double spike_threshold, const SpikeFn& spike_fn, const ResetFn& reset_fn,
                  const Surrogate& surrogate, const std::optional<double>& min_v_mem) {
  if (tau_syn) os << ", tau_syn=" << *tau_syn;
  os << ", spike_threshold=" << spike_threshold << ", spike_fn=" << spike_fn
     << ", reset_fn=" << reset_fn << ", surrogate=" << surrogate;
  if (min_v_mem) os << ", min_v_mem=" << *min_v_mem;
}

void print_tail(std::ostream& os, const std::optional<std::vector<int64_t>>& shape,
                bool record_states) {
  if (shape) os << ", shape=" << at::IntArrayRef(*shape);
  os << ", record_states=" << (record_states ? "true" : "false") << ")";
}

at::Tensor make_param(const TimeConstant& tau, bool as_alpha) {
  auto t = tau.tensor().detach().to(at::kFloat).clone();
  return as_alpha ? at::exp(-1.0 / t) : t;
}

}  // namespace

namespace detail {

void LeakyNeuron::define_neuron_states(bool has_synapse,
                                       const std::optional<std::vector<int64_t>>& shape) {
  recordings_.clear();
  define_states(has_synapse ? std::vector<std::string>{"v_mem", "i_syn"}
                            : std::vector<std::string>{"v_mem"});
  if (shape && !is_state_initialised()) init_states(*shape, at::TensorOptions().dtype(at::kFloat));
}

at::Tensor LeakyNeuron::run(const char* layer, const at::Tensor& input, const at::Tensor& alpha_mem,
                            const std::optional<at::Tensor>& alpha_syn, const Config& c) {
  TORCH_CHECK(input.dim() >= 2, "snn::", layer, ": expected input of shape [B, T, ...], got ",
              input.sizes());
  TORCH_CHECK(input.size(1) >= 1, "snn::", layer, ": expected at least one time step, got input ",
              input.sizes());
  TORCH_CHECK(at::isFloatingType(input.scalar_type()), "snn::", layer,
              ": expected a floating-point input, got ", input.scalar_type());
  const int64_t B = input.size(0), T = input.size(1);
  const auto features = input.sizes().slice(2);
  std::vector<int64_t> state_shape{B};
  state_shape.insert(state_shape.end(), features.begin(), features.end());
  ensure_state_shape(state_shape, input.options());

  const auto dtype = input.scalar_type();
  const auto x = input.reshape({B, T, -1});
  const auto am = per_neuron(alpha_mem, features, layer, "alpha_mem", dtype);
  std::optional<at::Tensor> as, i0;
  if (alpha_syn) {
    as = per_neuron(*alpha_syn, features, layer, "alpha_syn", dtype);
    i0 = state("i_syn").reshape({B, -1});
  }
  const auto v0 = state("v_mem").reshape({B, -1});
  const auto call = input.is_cpu() ? &ops::lif : &ops::lif_reference;
  const auto out =
      call(x, v0, i0, am, as, c.norm_input, c.spike_threshold, detail::spike_fn_name(c.spike_fn),
           detail::reset_fn_name(c.reset_fn), detail::reset_fn_value(c.reset_fn), c.min_v_mem,
           detail::surrogate_name(c.surrogate), detail::surrogate_args(c.surrogate));
  set_state("v_mem", out[1].select(1, T - 1).reshape(state_shape));
  if (alpha_syn) set_state("i_syn", out[2].select(1, T - 1).reshape(state_shape));
  recordings_.clear();
  if (c.record_states) {
    recordings_["v_mem"] = out[1].reshape(input.sizes());
    if (alpha_syn) recordings_["i_syn"] = out[2].reshape(input.sizes());
  }
  return out[0].reshape(input.sizes());
}

}  // namespace detail

// ---- LIF ---------------------------------------------------------------------

LIFImpl::LIFImpl(LIFOptions options_) : options(std::move(options_)) {
  reset();
}

void LIFImpl::reset() {
  TORCH_CHECK(options.spike_threshold() > 0, "snn::LIF: spike_threshold must be > 0, got ",
              options.spike_threshold());
  TORCH_CHECK((options.tau_mem().tensor() > 0).all().item<bool>(),
              "snn::LIF: tau_mem must be > 0, got ", options.tau_mem());
  TORCH_CHECK(!options.tau_syn() || (options.tau_syn()->tensor() > 0).all().item<bool>(),
              "snn::LIF: tau_syn must be > 0, got ", *options.tau_syn());
  const bool alphas = options.train_alphas();
  const char* mem_name = alphas ? "alpha_mem" : "tau_mem";
  const char* syn_name = alphas ? "alpha_syn" : "tau_syn";
  (alphas ? alpha_mem : tau_mem) =
      register_parameter(mem_name, make_param(options.tau_mem(), alphas));
  if (options.tau_syn()) {
    (alphas ? alpha_syn : tau_syn) =
        register_parameter(syn_name, make_param(*options.tau_syn(), alphas));
  }
  define_neuron_states(options.tau_syn().has_value(), options.shape());
}

at::Tensor LIFImpl::alpha_mem_calculated() const {
  return options.train_alphas() ? alpha_mem : at::exp(-1.0 / tau_mem);
}

std::optional<at::Tensor> LIFImpl::alpha_syn_calculated() const {
  if (!options.tau_syn()) return std::nullopt;
  return options.train_alphas() ? alpha_syn : at::exp(-1.0 / tau_syn);
}

at::Tensor LIFImpl::forward(const at::Tensor& input) {
  return run("LIF", input, alpha_mem_calculated(), alpha_syn_calculated(),
             Config{options.norm_input(), options.spike_threshold(), options.spike_fn(),
                    options.reset_fn(), options.surrogate(), options.min_v_mem(),
                    options.record_states()});
}

void LIFImpl::zero_grad(bool set_to_none) {
  torch::nn::Module::zero_grad(set_to_none);
  detach_states();
}

void LIFImpl::save(torch::serialize::OutputArchive& archive) const {
  torch::nn::Module::save(archive);
  save_states(archive);
}

void LIFImpl::load(torch::serialize::InputArchive& archive) {
  torch::nn::Module::load(archive);
  load_states(archive);
}

void LIFImpl::pretty_print(std::ostream& os) const {
  os << "snn::LIF(tau_mem=" << options.tau_mem();
  print_common(os, options.tau_syn(), options.spike_threshold(), options.spike_fn(),
               options.reset_fn(), options.surrogate(), options.min_v_mem());
  os << ", train_alphas=" << (options.train_alphas() ? "true" : "false")
     << ", norm_input=" << (options.norm_input() ? "true" : "false");
  print_tail(os, options.shape(), options.record_states());
}

// ---- IAF ---------------------------------------------------------------------

IAFImpl::IAFImpl(IAFOptions options_) : options(std::move(options_)) {
  reset();
}

void IAFImpl::reset() {
  TORCH_CHECK(options.spike_threshold() > 0, "snn::IAF: spike_threshold must be > 0, got ",
              options.spike_threshold());
  TORCH_CHECK(!options.tau_syn() || (options.tau_syn()->tensor() > 0).all().item<bool>(),
              "snn::IAF: tau_syn must be > 0, got ", *options.tau_syn());
  if (options.tau_syn()) {
    tau_syn = register_parameter("tau_syn", make_param(*options.tau_syn(), false));
  }
  define_neuron_states(options.tau_syn().has_value(), options.shape());
}

std::optional<at::Tensor> IAFImpl::alpha_syn_calculated() const {
  if (!options.tau_syn()) return std::nullopt;
  return at::exp(-1.0 / tau_syn);
}

at::Tensor IAFImpl::forward(const at::Tensor& input) {
  return run("IAF", input, at::ones({}, input.options()), alpha_syn_calculated(),
             Config{false, options.spike_threshold(), options.spike_fn(), options.reset_fn(),
                    options.surrogate(), options.min_v_mem(), options.record_states()});
}

void IAFImpl::zero_grad(bool set_to_none) {
  torch::nn::Module::zero_grad(set_to_none);
  detach_states();
}

void IAFImpl::save(torch::serialize::OutputArchive& archive) const {
  torch::nn::Module::save(archive);
  save_states(archive);
}

void IAFImpl::load(torch::serialize::InputArchive& archive) {
  torch::nn::Module::load(archive);
  load_states(archive);
}

void IAFImpl::pretty_print(std::ostream& os) const {
  os << "snn::IAF(";
  std::ostringstream rest;
  print_common(rest, options.tau_syn(), options.spike_threshold(), options.spike_fn(),
               options.reset_fn(), options.surrogate(), options.min_v_mem());
  os << rest.str().substr(2);  // drop the leading ", "
  print_tail(os, options.shape(), options.record_states());
}

}  // namespace snn
