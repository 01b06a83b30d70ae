// snnTorch's LeakyParallel and SLSTM.
#include "snn/snntorch/cells.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <ostream>
#include <string>

#include "snn/snntorch/parallel.h"

namespace snn::snntorch {

using detail::boolean;
using detail::spike_surrogate;
using detail::value_or_parameter;

namespace {



void check_reset(const char* layer, const std::string& mechanism) {
  TORCH_CHECK(mechanism == "subtract" || mechanism == "zero" || mechanism == "none",
              "snn::snntorch::", layer, ": reset_mechanism must be \"subtract\", \"zero\" or "
              "\"none\", got \"", mechanism, "\"");
}

// The spiking LSTMs' membrane after the cell's h: snnTorch's subtract / zero / none resets.
at::Tensor reset_membrane(const at::Tensor& h, const at::Tensor& reset, const at::Tensor& threshold,
                          const std::string& mechanism) {
  if (mechanism == "subtract") return h - reset * threshold;
  if (mechanism == "zero") return h - h * reset;
  return h;
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
              spike_surrogate(options.spike_grad(), options.surrogate_disable()));
}

void LeakyParallelImpl::pretty_print(std::ostream& os) const {
  os << "snn::snntorch::LeakyParallel(input_size=" << options.input_size()
     << ", hidden_size=" << options.hidden_size() << ", threshold=" << options.threshold()
     << ", spike_grad=" << options.spike_grad() << ", learn_beta="
     << boolean(options.learn_beta()) << ")";
}

// ---- the spiking LSTMs ------------------------------------------------------------------

namespace detail {

std::tuple<at::Tensor, at::Tensor, at::Tensor> SpikingLSTMCore::lstm_step(
    const at::Tensor& input, const at::Tensor& syn, const at::Tensor& mem,
    at::IntArrayRef state_shape, const at::Tensor& threshold, const Surrogate& surrogate,
    const std::string& reset_mechanism, const Cell& cell,
    const std::function<at::Tensor(const at::Tensor&)>& spiking) {
  if (syn.defined()) set_state("syn", syn);
  if (mem.defined()) set_state("mem", mem);
  ensure_state_shape(state_shape, input.options());
  const auto prev_mem = state("mem");
  const auto one = at::ones({}, input.options());
  const auto reset = fire(prev_mem, threshold, one, surrogate).detach();
  const auto [h, c] = cell(prev_mem, state("syn"));
  const auto next = reset_membrane(h, reset, threshold, reset_mechanism);
  const auto spk = fire(spiking ? spiking(next) : next, threshold, one, surrogate);
  set_state("syn", c);
  set_state("mem", next);
  return {spk, c, next};
}

}  // namespace detail

// ---- SLSTM -----------------------------------------------------------------------------

SLSTMImpl::SLSTMImpl(SLSTMOptions options_) : options(std::move(options_)) { reset(); }

void SLSTMImpl::reset() {
  const auto& o = options;
  TORCH_CHECK(o.input_size() >= 1 && o.hidden_size() >= 1,
              "snn::snntorch::SLSTM: input_size and hidden_size must be >= 1, got ",
              o.input_size(), " and ", o.hidden_size());
  check_reset("SLSTM", o.reset_mechanism());
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
  return advance(input, syn, mem);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> SLSTMImpl::advance(const at::Tensor& input,
                                                                  const at::Tensor& syn,
                                                                  const at::Tensor& mem) {
  // States of [B, hidden_size] are kept (snnTorch compares them with the input's shape).
  return lstm_step(input, syn, mem, {input.size(0), options.hidden_size()}, threshold,
                   spike_surrogate(options.spike_grad(), options.surrogate_disable()),
                   options.reset_mechanism(), [&](const at::Tensor& m, const at::Tensor& c) {
                     return lstm_cell(input, std::make_tuple(m, c));
                   });
}

at::Tensor SLSTMImpl::step(const at::Tensor& input) {
  return std::get<0>(advance(input, {}, {}));
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

// ---- SConv2dLSTM ------------------------------------------------------------------------

SConv2dLSTMImpl::SConv2dLSTMImpl(SConv2dLSTMOptions options_) : options(std::move(options_)) {
  reset();
}

void SConv2dLSTMImpl::reset() {
  const auto& o = options;
  const auto k = *o.kernel_size();
  TORCH_CHECK(o.in_channels() >= 1 && o.out_channels() >= 1 && k[0] >= 1 && k[1] >= 1,
              "snn::snntorch::SConv2dLSTM: in_channels, out_channels and kernel_size must be "
              ">= 1, got ", o.in_channels(), ", ", o.out_channels(), ", ", at::IntArrayRef(k));
  TORCH_CHECK(k[0] % 2 == 1 && k[1] % 2 == 1, "snn::snntorch::SConv2dLSTM: kernel_size must be "
              "odd (padding size/2 keeps H and W), got ", at::IntArrayRef(k));
  TORCH_CHECK(!(o.max_pool() && o.avg_pool()), "snn::snntorch::SConv2dLSTM: only one of "
              "max_pool and avg_pool may be given, got ", o.max_pool(), " and ", o.avg_pool());
  TORCH_CHECK(o.max_pool() >= 0 && o.avg_pool() >= 0, "snn::snntorch::SConv2dLSTM: max_pool and "
              "avg_pool must be >= 0, got ", o.max_pool(), " and ", o.avg_pool());
  check_reset("SConv2dLSTM", o.reset_mechanism());
  conv = register_module(
      "conv", torch::nn::Conv2d(torch::nn::Conv2dOptions(o.in_channels() + o.out_channels(),
                                                         4 * o.out_channels(), o.kernel_size())
                                    .padding({k[0] / 2, k[1] / 2})
                                    .bias(o.bias())));
  threshold = value_or_parameter(*this, "threshold", o.threshold().tensor(), o.learn_threshold());
  define_states({"syn", "mem"});
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> SConv2dLSTMImpl::forward(const at::Tensor& input,
                                                                        const at::Tensor& syn,
                                                                        const at::Tensor& mem) {
  TORCH_CHECK(input.dim() == 4 && input.size(1) == options.in_channels(),
              "snn::snntorch::SConv2dLSTM: expected input [B, in_channels, H, W] = [B, ",
              options.in_channels(), ", H, W], got ", input.sizes());
  TORCH_CHECK(!options.init_hidden() || (!syn.defined() && !mem.defined()),
              "snn::snntorch::SConv2dLSTM: states must not be passed to a step while "
              "init_hidden=true");
  return advance(input, syn, mem);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> SConv2dLSTMImpl::advance(const at::Tensor& input,
                                                                        const at::Tensor& syn,
                                                                        const at::Tensor& mem) {
  const auto cell = [&](const at::Tensor& m, const at::Tensor& c) {
    // The four gates from one convolution over [x, mem] (snnTorch's order i, f, o, g).
    const auto gates = conv(at::cat({input, m}, 1)).split(options.out_channels(), 1);
    const auto i = at::sigmoid(gates[0]), f = at::sigmoid(gates[1]), o = at::sigmoid(gates[2]);
    const auto next_c = f * c + i * at::tanh(gates[3]);
    return std::make_tuple(o * at::tanh(next_c), next_c);
  };
  // The spikes of the pooled membrane (the reset still follows mem at full resolution).
  std::function<at::Tensor(const at::Tensor&)> pooled;
  if (options.max_pool()) {
    pooled = [k = options.max_pool()](const at::Tensor& m) { return at::max_pool2d(m, {k, k}); };
  }
  if (options.avg_pool()) {
    pooled = [k = options.avg_pool()](const at::Tensor& m) { return at::avg_pool2d(m, {k, k}); };
  }
  return lstm_step(input, syn, mem,
                   {input.size(0), options.out_channels(), input.size(2), input.size(3)},
                   threshold, spike_surrogate(options.spike_grad(), options.surrogate_disable()),
                   options.reset_mechanism(), cell, pooled);
}

at::Tensor SConv2dLSTMImpl::step(const at::Tensor& input) {
  return std::get<0>(advance(input, {}, {}));
}

at::Tensor SConv2dLSTMImpl::sequence(const at::Tensor& input) {
  TORCH_CHECK(input.dim() == 5, "snn::snntorch::SConv2dLSTM: expected a sequence "
              "[B, T, in_channels, H, W], got ", input.sizes());
  std::vector<at::Tensor> spikes;
  for (int64_t t = 0; t < input.size(1); ++t) spikes.push_back(step(input.select(1, t)));
  return at::stack(spikes, 1);
}

void SConv2dLSTMImpl::pretty_print(std::ostream& os) const {
  os << "snn::snntorch::SConv2dLSTM(in_channels=" << options.in_channels()
     << ", out_channels=" << options.out_channels()
     << ", kernel_size=" << at::IntArrayRef(*options.kernel_size())
     << ", max_pool=" << options.max_pool() << ", avg_pool=" << options.avg_pool()
     << ", reset_mechanism=\"" << options.reset_mechanism() << "\")";
}

// ---- BatchNormTT -------------------------------------------------------------------------

BatchNormTTStepImpl::BatchNormTTStepImpl(int64_t features, double eps,
                                         std::optional<double> momentum, bool affine, int64_t dims)
    : features(features), dims(dims), eps(eps), momentum(momentum), affine(affine) {
  reset();
}

void BatchNormTTStepImpl::reset() {
  TORCH_CHECK(features >= 1, "snn::snntorch::BatchNormTT: input_features must be >= 1, got ",
              features);
  if (affine) weight = register_parameter("weight", at::ones({features}));
  running_mean = register_buffer("running_mean", at::zeros({features}));
  running_var = register_buffer("running_var", at::ones({features}));
  num_batches_tracked = register_buffer("num_batches_tracked", at::zeros({}, at::kLong));
}

at::Tensor BatchNormTTStepImpl::forward(const at::Tensor& input) {
  const bool ok = dims == 1 ? (input.dim() == 2 || input.dim() == 3) : input.dim() == 4;
  TORCH_CHECK(ok && input.size(1) == features, "snn::snntorch::BatchNormTT", dims,
              "d: expected input ", dims == 1 ? "[B, C] or [B, C, L]" : "[B, C, H, W]",
              " with C = ", features, ", got ", input.sizes());
  double factor = momentum.value_or(0.0);
  if (is_training()) {
    num_batches_tracked.add_(1);
    if (!momentum) factor = 1.0 / static_cast<double>(num_batches_tracked.item<int64_t>());
  }
  return at::batch_norm(input, weight, at::Tensor(), running_mean, running_var, is_training(),
                        factor, eps, /*cudnn_enabled=*/true);
}

void BatchNormTTStepImpl::pretty_print(std::ostream& os) const {
  os << "snn::snntorch::BatchNormTT" << dims << "d(" << features << ", eps=" << eps
     << ", momentum=";
  if (momentum) os << *momentum; else os << "none";
  os << ", affine=" << boolean(affine) << ", bias=none)";
}

namespace {
torch::nn::ModuleList batch_norm_tt(int64_t features, int64_t steps, double eps,
                                    std::optional<double> momentum, bool affine, int64_t dims) {
  TORCH_CHECK(steps >= 1, "snn::snntorch::BatchNormTT", dims, "d: time_steps must be >= 1, got ",
              steps);
  torch::nn::ModuleList list;
  for (int64_t t = 0; t < steps; ++t) {
    list->push_back(BatchNormTTStep(features, eps, momentum, affine, dims));
  }
  return list;
}
}  // namespace

torch::nn::ModuleList BatchNormTT1d(int64_t input_features, int64_t time_steps, double eps,
                                    std::optional<double> momentum, bool affine) {
  return batch_norm_tt(input_features, time_steps, eps, momentum, affine, 1);
}

torch::nn::ModuleList BatchNormTT2d(int64_t input_features, int64_t time_steps, double eps,
                                    std::optional<double> momentum, bool affine) {
  return batch_norm_tt(input_features, time_steps, eps, momentum, affine, 2);
}

}  // namespace snn::snntorch
