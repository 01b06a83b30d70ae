#include "snn/nn/delay.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <torch/serialize/archive.h>

#include <algorithm>
#include <ostream>

namespace snn {

DelayLineImpl::DelayLineImpl(DelayLineOptions options_) : options(std::move(options_)) {
  reset();
}

void DelayLineImpl::reset() {
  const auto& d = options.delays();
  TORCH_CHECK(!d.empty(), "snn::DelayLine: needs at least one delay");
  for (const int64_t k : d) {
    TORCH_CHECK(k >= 0, "snn::DelayLine: delays must be >= 0 time steps, got ", d);
  }
  max_delay_ = *std::max_element(d.begin(), d.end());
  define_states(max_delay_ > 0 ? std::vector<std::string>{"history"}
                               : std::vector<std::string>{});
}

at::Tensor DelayLineImpl::forward(const at::Tensor& input) {
  TORCH_CHECK(input.dim() >= 3, "snn::DelayLine: expected input of shape [B, T, C, ...], got ",
              input.sizes());
  const int64_t T = input.size(1);
  std::vector<at::Tensor> taps;
  taps.reserve(options.delays().size());
  if (max_delay_ == 0) {
    taps.assign(options.delays().size(), input);
    return at::cat(taps, 2);
  }
  auto history_shape = input.sizes().vec();
  history_shape[1] = max_delay_;
  ensure_state_shape(history_shape, input.options());
  // [B, max_delay + T, ...]: the remembered steps, then this call's.
  const auto all = at::cat({state("history"), input}, 1);
  for (const int64_t k : options.delays()) taps.push_back(all.narrow(1, max_delay_ - k, T));
  set_state("history", all.narrow(1, T, max_delay_).contiguous());
  return at::cat(taps, 2);
}

void DelayLineImpl::pretty_print(std::ostream& os) const {
  os << "snn::DelayLine(delays=" << at::IntArrayRef(options.delays()) << ")";
}

void DelayLineImpl::save(torch::serialize::OutputArchive& archive) const {
  torch::nn::Module::save(archive);
  save_states(archive);
}

void DelayLineImpl::load(torch::serialize::InputArchive& archive) {
  torch::nn::Module::load(archive);
  load_states(archive);
}

DelayImpl::DelayImpl(DelayOptions options_) : options(std::move(options_)) { reset(); }

void DelayImpl::reset() {
  const auto& d = options.delays();
  TORCH_CHECK(d.defined() && !at::isFloatingType(d.scalar_type()) && d.scalar_type() != at::kBool,
              "snn::Delay: expected delays as an integer tensor of time steps, got ",
              d.defined() ? std::string(c10::toString(d.scalar_type())) : std::string("none"));
  TORCH_CHECK(d.numel() > 0 && d.min().item<int64_t>() >= 0, "snn::Delay: delays must be >= 0 "
              "time steps (and at least one), got ", d);
  max_delay_ = d.max().item<int64_t>();
  define_states(max_delay_ > 0 ? std::vector<std::string>{"history"}
                               : std::vector<std::string>{});
}

at::Tensor DelayImpl::forward(const at::Tensor& input) {
  TORCH_CHECK(input.dim() >= 2, "snn::Delay: expected input of shape [B, T, ...], got ",
              input.sizes());
  const auto features = input.sizes().slice(2);
  at::Tensor d;
  try {
    d = options.delays().to(at::kLong).to(input.device()).expand(features);
  } catch (const c10::Error&) {
    TORCH_CHECK(false, "snn::Delay: delays of shape ", options.delays().sizes(),
                " do not fit features of shape ", features);
  }
  if (max_delay_ == 0) return input;
  const int64_t B = input.size(0), T = input.size(1);
  auto history_shape = input.sizes().vec();
  history_shape[1] = max_delay_;
  ensure_state_shape(history_shape, input.options());
  // [B, max_delay + T, N]: the remembered steps, then this call's; y_t = all[D + t - d].
  const auto all = at::cat({state("history"), input}, 1);
  const auto flat = all.reshape({B, max_delay_ + T, -1});
  const auto steps = at::arange(T, d.options()).unsqueeze(1);
  const auto index = (steps + max_delay_ - d.reshape({1, -1})).unsqueeze(0).expand({B, T, -1});
  set_state("history", all.narrow(1, T, max_delay_).contiguous());
  return flat.gather(1, index).reshape(input.sizes());
}

void DelayImpl::pretty_print(std::ostream& os) const {
  os << "snn::Delay(delays=" << options.delays().sizes() << ", max=" << max_delay_ << ")";
}

void DelayImpl::save(torch::serialize::OutputArchive& archive) const {
  torch::nn::Module::save(archive);
  save_states(archive);
}

void DelayImpl::load(torch::serialize::InputArchive& archive) {
  torch::nn::Module::load(archive);
  load_states(archive);
}

}  // namespace snn
