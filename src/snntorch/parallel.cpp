// snnTorch's StateLeaky, LinearLeaky, AssociativeLeaky, DeltaLeaky and GradedSpikes.
#include "snn/snntorch/parallel.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <ostream>
#include <string>

#include "snn/ops/neuron.h"

namespace snn::snntorch {

using detail::boolean;
using detail::spike_surrogate;
using detail::value_or_parameter;

at::Tensor fire(const at::Tensor& mem, const at::Tensor& threshold,
                const at::Tensor& graded_spikes_factor, const Surrogate& spike_grad) {
  TORCH_CHECK(mem.dim() >= 1, "snn::snntorch::fire: expected a membrane of at least one "
              "dimension, got ", mem.sizes());
  // One step of the Leaky family with no leak and no reset from a zero state:
  // H(mem - θ)·factor, its gradient the surrogate's (snnTorch's spike_grad(mem - θ)·factor).
  ops::NeuronSpec spec;
  spec.family = ops::NeuronFamily::Leaky;
  spec.spike = ops::SpikeKind::Heaviside;
  spec.reset = ops::ResetKind::None;
  spec.reset_delay = true;
  spec.norm_input = false;
  set_choice(spec, spike_grad);
  // The op takes [B, T, N]: every leading dimension in B, the last one the neurons (what a
  // per-neuron threshold or factor broadcasts against).
  const int64_t n = mem.size(-1);
  const auto x = mem.reshape({-1, 1, n});
  const auto o = x.options();
  const auto out = ops::neuron(x, {at::zeros({x.size(0), n}, o)},
                               {at::zeros({}, o), threshold.to(o.dtype()),
                                graded_spikes_factor.to(o.dtype())},
                               spec.str())[0];
  return out.reshape(mem.sizes());
}

// ---- StateLeaky ------------------------------------------------------------------------

StateLeakyImpl::StateLeakyImpl(StateLeakyOptions options_) : options(std::move(options_)) {
  reset();
}

namespace {

// mem_t = Σ_{k<K} exp(-k/τ)·x_{t-k} over input [T, B, C] (snnTorch's causal convolution).
at::Tensor state_leaky_membrane(const char* layer, const at::Tensor& input, const at::Tensor& tau,
                                int64_t C, std::optional<int64_t> truncation) {
  TORCH_CHECK(input.dim() == 3 && input.size(2) == C, "snn::snntorch::", layer,
              ": expected input [T, B, channels] = [T, B, ", C, "], got ", input.sizes());
  const int64_t T = input.size(0);
  const int64_t K = std::min(truncation.value_or(T), T);
  const auto x = input.permute({1, 2, 0});  // [B, C, T]
  const auto steps = at::arange(K, input.options().dtype(at::kLong)).view({1, 1, K});
  at::Tensor filter;  // [C, 1, K]: exp(-k/τ)
  if (tau.numel() == 1) {
    filter = at::exp(-steps / tau.reshape({})).expand({C, 1, K});
  } else {
    filter = at::exp(-steps / tau.view({C, 1, 1}));
  }
  // Causal: pad K - 1 steps in front, the kernel flipped (snnTorch's causal_conv1d).
  const auto padded = at::constant_pad_nd(x, {K - 1, 0});
  const auto mem = at::conv1d(padded, at::flip(filter.to(x.dtype()), {-1}), at::Tensor(),
                              at::IntArrayRef{1}, at::IntArrayRef{0}, at::IntArrayRef{1}, C);
  return mem.permute({2, 0, 1});  // [T, B, C]
}

// The parameters StateLeaky and LinearLeaky register: tau, threshold, graded_spikes_factor.
void register_state_leaky(torch::nn::Module& self, const char* layer, const Value& beta,
                          int64_t C, bool learn_beta, const Value& threshold, bool learn_threshold,
                          const Value& graded, bool learn_graded,
                          std::optional<int64_t> truncation, at::Tensor& tau,
                          at::Tensor& threshold_out, at::Tensor& graded_out) {
  const auto& b = beta.tensor();
  TORCH_CHECK(C >= 1, "snn::snntorch::", layer, ": channels must be >= 1, got ", C);
  TORCH_CHECK(b.dim() == 0 || (b.dim() == 1 && (b.size(0) == C || b.size(0) == 1)),
              "snn::snntorch::", layer, ": beta must have shape [], [1] or [channels] = [", C,
              "], got ", b.sizes());
  TORCH_CHECK(!truncation || *truncation >= 1, "snn::snntorch::", layer,
              ": kernel_truncation_steps must be >= 1, got ", truncation.value_or(0));
  tau = value_or_parameter(self, "tau", 1 / (1 - b + 1e-12), learn_beta);
  threshold_out = value_or_parameter(self, "threshold", threshold.tensor(), learn_threshold);
  graded_out = value_or_parameter(self, "graded_spikes_factor", graded.tensor(), learn_graded);
}

}  // namespace

void StateLeakyImpl::reset() {
  const auto& o = options;
  register_state_leaky(*this, "StateLeaky", o.beta(), o.channels(), o.learn_beta(), o.threshold(),
                       o.learn_threshold(), o.graded_spikes_factor(),
                       o.learn_graded_spikes_factor(), o.kernel_truncation_steps(), tau, threshold,
                       graded_spikes_factor);
}

at::Tensor StateLeakyImpl::membrane(const at::Tensor& input) const {
  return state_leaky_membrane("StateLeaky", input, tau, options.channels(),
                              options.kernel_truncation_steps());
}

std::tuple<at::Tensor, at::Tensor> StateLeakyImpl::forward(const at::Tensor& input) {
  const auto mem = membrane(input);
  if (!options.output()) return {at::Tensor(), mem};
  // H(mem - θ)·factor, the factor applied once (snnTorch's StateLeaky multiplies fire's
  // output, which already carries it, by the factor again: factor² — not copied).
  return {fire(mem, threshold, graded_spikes_factor,
               spike_surrogate(options.spike_grad(), options.surrogate_disable())),
          mem};
}

void StateLeakyImpl::pretty_print(std::ostream& os) const {
  os << "snn::snntorch::StateLeaky(beta=" << options.beta() << ", channels=" << options.channels()
     << ", threshold=" << options.threshold() << ", spike_grad=" << options.spike_grad()
     << ", learn_beta=" << boolean(options.learn_beta()) << ", output="
     << boolean(options.output()) << ")";
}

// ---- LinearLeaky -----------------------------------------------------------------------

LinearLeakyImpl::LinearLeakyImpl(LinearLeakyOptions options_) : options(std::move(options_)) {
  reset();
}

void LinearLeakyImpl::reset() {
  const auto& o = options;
  TORCH_CHECK(o.in_features() >= 1 && o.out_features() >= 1,
              "snn::snntorch::LinearLeaky: in_features and out_features must be >= 1, got ",
              o.in_features(), " and ", o.out_features());
  linear = register_module(
      "linear", torch::nn::Linear(
                    torch::nn::LinearOptions(o.in_features(), o.out_features()).bias(o.bias())));
  register_state_leaky(*this, "LinearLeaky", o.beta(), o.out_features(), o.learn_beta(),
                       o.threshold(), o.learn_threshold(), o.graded_spikes_factor(),
                       o.learn_graded_spikes_factor(), o.kernel_truncation_steps(), tau, threshold,
                       graded_spikes_factor);
}

std::tuple<at::Tensor, at::Tensor> LinearLeakyImpl::forward(const at::Tensor& input) {
  TORCH_CHECK(input.dim() == 3 && input.size(2) == options.in_features(),
              "snn::snntorch::LinearLeaky: expected input [T, B, in_features] = [T, B, ",
              options.in_features(), "], got ", input.sizes());
  const int64_t T = input.size(0), B = input.size(1);
  const auto current = linear(input.reshape({-1, options.in_features()}))
                           .reshape({T, B, options.out_features()});
  const auto mem = state_leaky_membrane("LinearLeaky", current, tau, options.out_features(),
                                        options.kernel_truncation_steps());
  if (!options.output()) return {at::Tensor(), mem};
  return {fire(mem, threshold, graded_spikes_factor,
               spike_surrogate(options.spike_grad(), options.surrogate_disable())),
          mem};
}

void LinearLeakyImpl::pretty_print(std::ostream& os) const {
  os << "snn::snntorch::LinearLeaky(beta=" << options.beta()
     << ", in_features=" << options.in_features() << ", out_features=" << options.out_features()
     << ", bias=" << boolean(options.bias()) << ")";
}

// ---- AssociativeLeaky --------------------------------------------------------------------

AssociativeLeakyImpl::AssociativeLeakyImpl(AssociativeLeakyOptions options_)
    : options(std::move(options_)) {
  reset();
}

void AssociativeLeakyImpl::reset() {
  const auto& o = options;
  TORCH_CHECK(o.in_dim() >= 1, "snn::snntorch::AssociativeLeaky: in_dim must be >= 1, got ",
              o.in_dim());
  TORCH_CHECK(o.d_value() >= 1 && o.d_key() >= 1,
              "snn::snntorch::AssociativeLeaky: d_value and d_key must be >= 1, got ", o.d_value(),
              " and ", o.d_key());
  to_v = register_module("to_v", torch::nn::Linear(o.in_dim(), o.d_value()));
  to_k = register_module("to_k", torch::nn::Linear(o.in_dim(), o.d_key()));
  to_alpha = register_module("to_alpha", torch::nn::Linear(o.in_dim(), o.d_key()));
  to_q = o.use_q_projection()
             ? register_module("to_q", torch::nn::Linear(o.in_dim(), o.d_value() * o.d_key()))
             : torch::nn::Linear(nullptr);
}

at::Tensor AssociativeLeakyImpl::forward(const at::Tensor& x) {
  TORCH_CHECK(x.dim() == 3 && x.size(2) == options.in_dim(),
              "snn::snntorch::AssociativeLeaky: expected x [T, B, in_dim] = [T, B, ",
              options.in_dim(), "], got ", x.sizes());
  const int64_t T = x.size(0), B = x.size(1), d = options.d_value(), n = options.d_key();
  const auto v = to_v(x), k = to_k(x);
  const auto alpha = at::sigmoid(to_alpha(x));                    // [T, B, n]
  const auto outer = v.unsqueeze(3) * k.unsqueeze(2);             // [T, B, d, n]
  // S_t = a_t ⊙ S_{t-1} + v_t k_tᵀ by scaled prefix sums (snnTorch's computation).
  const auto cumprod = at::cumsum(alpha.clamp_min(1e-8).log(), 0).exp();  // [T, B, n]
  const auto inv_prefix = (1.0 / (cumprod + 1e-8)).unsqueeze(2).expand({-1, -1, d, -1});
  const auto s_scaled = at::cumsum(outer * inv_prefix, 0);
  const auto s_local = s_scaled * cumprod.unsqueeze(2).expand({-1, -1, d, -1});
  const auto spikes = fire(s_local.reshape({T, B, d * n}), at::ones({}), at::ones({}), ATan{});
  if (!options.use_q_projection()) return spikes;
  const auto q = to_q(x).view({T * B, n, d});
  return at::bmm(spikes.reshape({T * B, d, n}), q).reshape({T, B, d * d});
}

void AssociativeLeakyImpl::pretty_print(std::ostream& os) const {
  os << "snn::snntorch::AssociativeLeaky(in_dim=" << options.in_dim()
     << ", d_value=" << options.d_value() << ", d_key=" << options.d_key()
     << ", use_q_projection=" << boolean(options.use_q_projection()) << ")";
}

// ---- DeltaLeaky ----------------------------------------------------------------------------

DeltaLeakyImpl::DeltaLeakyImpl(DeltaLeakyOptions options_) : options(std::move(options_)) {
  reset();
}

void DeltaLeakyImpl::reset() {
  beta = value_or_parameter(*this, "beta", options.beta().tensor(), options.learn_beta());
  reset_mem();
}

std::tuple<at::Tensor, std::pair<at::Tensor, at::Tensor>> DeltaLeakyImpl::forward(
    const at::Tensor& input, const std::pair<at::Tensor, at::Tensor>& state) {
  TORCH_CHECK(!options.init_hidden(), "snn::snntorch::DeltaLeaky: states must not be passed to "
              "a step while init_hidden=true (call step(x))");
  return advance(input, state);
}

std::tuple<at::Tensor, std::pair<at::Tensor, at::Tensor>> DeltaLeakyImpl::advance(
    const at::Tensor& input, const std::pair<at::Tensor, at::Tensor>& state) const {
  const auto mem = state.first.defined() ? state.first : at::zeros_like(input);
  const auto next = beta * mem + input;
  // snnTorch: spike_grad(|mem_t - mem_{t-1}| - delta_threshold), no graded factor, no reset.
  const auto o = input.options();
  const auto spk = fire((next - mem).abs(), at::scalar_tensor(options.delta_threshold(), o),
                        at::ones({}, o), options.spike_grad());
  return {spk, {next, mem}};
}

at::Tensor DeltaLeakyImpl::step(const at::Tensor& input) {
  TORCH_CHECK(options.init_hidden(),
              "snn::snntorch::DeltaLeaky: step(x) keeps the states in the layer: it needs "
              "init_hidden=true (else pass them: layer(x, {mem, mem_prev}))");
  if (!mem_.defined() || mem_.sizes() != input.sizes()) {
    mem_ = at::zeros_like(input);
    mem_prev_ = at::zeros_like(input);
  }
  auto [spk, st] = advance(input, {mem_, mem_prev_});
  mem_ = st.first;
  mem_prev_ = st.second;
  return spk;
}

at::Tensor DeltaLeakyImpl::sequence(const at::Tensor& input) {
  TORCH_CHECK(input.dim() >= 2, "snn::snntorch::DeltaLeaky: expected a sequence [B, T, ...], got ",
              input.sizes());
  // The same loop as the step, with the decay and the threshold's spike over every step.
  at::Tensor mem = at::zeros_like(input.select(1, 0));
  std::vector<at::Tensor> mems;
  for (int64_t t = 0; t < input.size(1); ++t) {
    mem = beta * mem + input.select(1, t);
    mems.push_back(mem);
  }
  const auto all = at::stack(mems, 1);
  const auto prev = at::cat({at::zeros_like(all.narrow(1, 0, 1)), all.narrow(1, 0, all.size(1) - 1)}, 1);
  const auto o = input.options();
  return fire((all - prev).abs(), at::scalar_tensor(options.delta_threshold(), o), at::ones({}, o),
              options.spike_grad());
}

void DeltaLeakyImpl::pretty_print(std::ostream& os) const {
  os << "snn::snntorch::DeltaLeaky(delta_threshold=" << options.delta_threshold()
     << ", beta=" << options.beta() << ", spike_grad=" << options.spike_grad()
     << ", init_hidden=" << boolean(options.init_hidden()) << ")";
}

// ---- GradedSpikes ------------------------------------------------------------------------

GradedSpikesImpl::GradedSpikesImpl(int64_t size, double constant_factor)
    : size(size), constant_factor(constant_factor) {
  reset();
}

void GradedSpikesImpl::reset() {
  TORCH_CHECK(size >= 1, "snn::snntorch::GradedSpikes: size must be >= 1, got ", size);
  // snnTorch: ones·constant_factor, or (constant_factor 0) uniform in [0.5, 1.5).
  auto w = constant_factor != 0 ? at::ones({size, 1}) * constant_factor
                                : at::rand({size, 1}) + 0.5;
  weights = register_parameter("weights", w);
}

void GradedSpikesImpl::pretty_print(std::ostream& os) const {
  os << "snn::snntorch::GradedSpikes(size=" << size << ", constant_factor=" << constant_factor
     << ")";
}

}  // namespace snn::snntorch
