#include "snn/nn/structural.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <ostream>

namespace snn {

at::Tensor FlattenTimeImpl::forward(const at::Tensor& input) {
  TORCH_CHECK(input.dim() >= 2, "snn::FlattenTime: expected input of shape [B, T, ...], got ",
              input.sizes());
  return input.flatten(0, 1);
}

void FlattenTimeImpl::pretty_print(std::ostream& os) const {
  os << "snn::FlattenTime()";
}

UnflattenTimeImpl::UnflattenTimeImpl(int64_t batch_size_) : batch_size(batch_size_) {
  reset();
}

void UnflattenTimeImpl::reset() {
  TORCH_CHECK(batch_size >= 1, "snn::UnflattenTime: batch_size must be >= 1, got ", batch_size);
}

at::Tensor UnflattenTimeImpl::forward(const at::Tensor& input) {
  TORCH_CHECK(input.dim() >= 1 && input.size(0) % batch_size == 0,
              "snn::UnflattenTime: the first dimension of input ", input.sizes(),
              " must be a multiple of batch_size ", batch_size);
  return input.unflatten(0, {batch_size, input.size(0) / batch_size});
}

void UnflattenTimeImpl::pretty_print(std::ostream& os) const {
  os << "snn::UnflattenTime(batch_size=" << batch_size << ")";
}

RepeatImpl::RepeatImpl(torch::nn::AnyModule module_) : module(std::move(module_)) {
  reset();
}

RepeatImpl::RepeatImpl(const RepeatImpl& other)
    : torch::nn::Cloneable<RepeatImpl>(other), module(other.module.clone()) {}

void RepeatImpl::reset() {
  TORCH_CHECK(!module.is_empty(), "snn::Repeat: needs a module");
  register_module("module", module.ptr());
}

at::Tensor RepeatImpl::forward(const at::Tensor& input) {
  TORCH_CHECK(input.dim() >= 2, "snn::Repeat: expected input of shape [B, T, ...], got ",
              input.sizes());
  const int64_t B = input.size(0), T = input.size(1);
  return module.forward<at::Tensor>(input.flatten(0, 1)).unflatten(0, {B, T});
}

void RepeatImpl::pretty_print(std::ostream& os) const {
  os << "snn::Repeat";
}

SumPool2dImpl::SumPool2dImpl(SumPool2dOptions options_) : options(std::move(options_)) {
  reset();
}

void SumPool2dImpl::reset() {
  for (int k = 0; k < 2; ++k) {
    TORCH_CHECK((*options.kernel_size())[k] >= 1, "snn::SumPool2d: kernel_size must be >= 1, got ",
                options.kernel_size());
    TORCH_CHECK((*options.stride())[k] >= 1, "snn::SumPool2d: stride must be >= 1, got ",
                options.stride());
  }
}

at::Tensor SumPool2dImpl::forward(const at::Tensor& input) {
  TORCH_CHECK(input.dim() == 3 || input.dim() == 4,
              "snn::SumPool2d: expected input of shape [N, C, H, W] or [C, H, W], got ",
              input.sizes());
  const auto k = *options.kernel_size();
  // torch's lp_pool2d with p = 1, as Sinabs computes it: the gradient is masked where a
  // window sums to exactly zero (d/dx of sign(x)·relu(|x|)).
  const auto out = at::avg_pool2d(input.pow(1), k, *options.stride(), {0, 0}, options.ceil_mode());
  return (at::sign(out) * at::relu(at::abs(out))).mul(k[0] * k[1]).pow(1.0);
}

void SumPool2dImpl::pretty_print(std::ostream& os) const {
  os << "snn::SumPool2d(kernel_size=" << options.kernel_size() << ", stride=" << options.stride()
     << ", ceil_mode=" << (options.ceil_mode() ? "true" : "false") << ")";
}

}  // namespace snn
