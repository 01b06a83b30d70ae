// snnTorch's LeakyParallel and SLSTM.
#include "snn/snntorch/cells.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <ostream>
#include <string>

#include "snn/snntorch/parallel.h"

namespace snn::snntorch {

namespace {

const char* boolean(bool b) { return b ? "true" : "false"; }

at::Tensor value_or_parameter(torch::nn::Module& self, const std::string& name,
                              const at::Tensor& value, bool learn) {
  auto t = value.detach().clone();
  if (learn) return self.register_parameter(name, t);
  return self.register_buffer(name, t);
}

}  // namespace

// ---- LeakyParallel ---------------------------------------------------------------------

LeakyParallelImpl::LeakyParallelImpl(LeakyParallelOptions options_) : options(std::move(options_)) {
  reset();
}

void LeakyParallelImpl::reset() {
  const auto& o = options;
  const int64_t H = o.hidden_size();
  TORCH_CHECK(o.input_size() >= 1 && H >= 1,
              "snn::snntorch::LeakyParallel: input_size and hidden_size must be >= 1, got ",
              o.input_size(), " and ", H);
  rnn = register_module("rnn", torch::nn::RNN(torch::nn::RNNOptions(o.input_size(), H)
                                                  .nonlinearity(torch::kReLU)
                                                  .bias(o.bias())));
  auto& w_hh = rnn->named_parameters()["weight_hh_l0"];
  if (o.beta()) {
    const auto b = o.beta()->tensor().reshape({-1}).clamp(0, 1);
    TORCH_CHECK(b.numel() == 1 || b.numel() == H,
                "snn::snntorch::LeakyParallel: beta must be one value or hidden_size = ", H,
                " values, got ", b.numel());
    beta = register_buffer("beta", b.clone());
    // The diagonal carries beta (per neuron too: snnTorch's own filling skips a per-neuron
    // tensor and leaves torch's random weights there, see the parity suite).
    torch::NoGradGuard no_grad;
    w_hh.copy_(b.numel() == 1 ? at::full({H, H}, b.item<double>(), w_hh.options())
                              : b.to(w_hh.dtype()).view({H, 1}).expand({H, H}));
  }
  if (!o.weight_hh_enable()) {
    torch::NoGradGuard no_grad;
    w_hh.mul_(at::eye(H, w_hh.options()));
    if (o.learn_beta()) {
      w_hh.register_hook([H](const at::Tensor& g) { return g * at::eye(H, g.options()); });
    }
  }
  if (!o.learn_beta()) w_hh.set_requires_grad(false);
  threshold = value_or_parameter(*this, "threshold", o.threshold().tensor(), o.learn_threshold());
  graded_spikes_factor = value_or_parameter(*this, "graded_spikes_factor",
                                            o.graded_spikes_factor().tensor(),
                                            o.learn_graded_spikes_factor());
}

at::Tensor LeakyParallelImpl::forward(const at::Tensor& input) {
  TORCH_CHECK(input.dim() == 3 && input.size(2) == options.input_size(),
              "snn::snntorch::LeakyParallel: expected input [T, B, input_size] = [T, B, ",
              options.input_size(), "], got ", input.sizes());
  const auto mem = std::get<0>(rnn(input));
  return fire(mem, threshold, graded_spikes_factor,
              options.surrogate_disable() ? Surrogate(NoGradient{}) : options.spike_grad());
}

void LeakyParallelImpl::pretty_print(std::ostream& os) const {
  os << "snn::snntorch::LeakyParallel(input_size=" << options.input_size()
     << ", hidden_size=" << options.hidden_size() << ", threshold=" << options.threshold()
     << ", spike_grad=" << options.spike_grad() << ", learn_beta="
     << boolean(options.learn_beta()) << ")";
}

// ---- SLSTM -----------------------------------------------------------------------------

SLSTMImpl::SLSTMImpl(SLSTMOptions options_) : options(std::move(options_)) { reset(); }

void SLSTMImpl::reset() {
  const auto& o = options;
  TORCH_CHECK(o.input_size() >= 1 && o.hidden_size() >= 1,
              "snn::snntorch::SLSTM: input_size and hidden_size must be >= 1, got ",
              o.input_size(), " and ", o.hidden_size());
  TORCH_CHECK(o.reset_mechanism() == "subtract" || o.reset_mechanism() == "zero" ||
                  o.reset_mechanism() == "none",
              "snn::snntorch::SLSTM: reset_mechanism must be \"subtract\", \"zero\" or "
              "\"none\", got \"", o.reset_mechanism(), "\"");
  lstm_cell = register_module(
      "lstm_cell",
      torch::nn::LSTMCell(torch::nn::LSTMCellOptions(o.input_size(), o.hidden_size()).bias(o.bias())));
  threshold = value_or_parameter(*this, "threshold", o.threshold().tensor(), o.learn_threshold());
  define_states({"syn", "mem"});
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> SLSTMImpl::forward(const at::Tensor& input,
                                                                  const at::Tensor& syn,
                                                                  const at::Tensor& mem) {
  TORCH_CHECK(input.dim() == 2 && input.size(1) == options.input_size(),
              "snn::snntorch::SLSTM: expected input [B, input_size] = [B, ",
              options.input_size(), "], got ", input.sizes());
  TORCH_CHECK(!options.init_hidden() || (!syn.defined() && !mem.defined()),
              "snn::snntorch::SLSTM: states must not be passed to a step while init_hidden=true");
  if (syn.defined()) set_state("syn", syn);
  if (mem.defined()) set_state("mem", mem);
  // States of [B, hidden_size] are kept (snnTorch compares them with the input's shape).
  ensure_state_shape({input.size(0), options.hidden_size()}, input.options());
  const auto prev_mem = state("mem");
  const auto one = at::ones({}, input.options());
  const auto surrogate =
      options.surrogate_disable() ? Surrogate(NoGradient{}) : options.spike_grad();
  const auto reset = fire(prev_mem, threshold, one, surrogate).detach();
  const auto [h, c] = lstm_cell(input, std::make_tuple(prev_mem, state("syn")));
  at::Tensor next = h;
  if (options.reset_mechanism() == "subtract") next = h - reset * threshold;
  if (options.reset_mechanism() == "zero") next = h - h * reset;
  const auto spk = fire(next, threshold, one, surrogate);
  set_state("syn", c);
  set_state("mem", next);
  return {spk, c, next};
}

at::Tensor SLSTMImpl::step(const at::Tensor& input) {
  const bool hidden = options.init_hidden();
  options.init_hidden(false);
  const auto spk = std::get<0>(forward(input));
  options.init_hidden(hidden);
  return spk;
}

at::Tensor SLSTMImpl::sequence(const at::Tensor& input) {
  TORCH_CHECK(input.dim() == 3, "snn::snntorch::SLSTM: expected a sequence [B, T, input_size], "
              "got ", input.sizes());
  std::vector<at::Tensor> spikes;
  for (int64_t t = 0; t < input.size(1); ++t) spikes.push_back(step(input.select(1, t)));
  return at::stack(spikes, 1);
}

void SLSTMImpl::pretty_print(std::ostream& os) const {
  os << "snn::snntorch::SLSTM(input_size=" << options.input_size()
     << ", hidden_size=" << options.hidden_size() << ", threshold=" << options.threshold()
     << ", spike_grad=" << options.spike_grad() << ", reset_mechanism=\""
     << options.reset_mechanism() << "\")";
}

}  // namespace snn::snntorch
