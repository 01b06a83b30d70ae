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

}  // namespace snn
