#pragma once
/// \file
/// Structural layers of Sinabs' networks: moving between batch-first [B, T, ...] and
/// squeezed [B·T, ...] tensors, and sum pooling.
///   snn::FlattenTime     [B, T, ...] → [B·T, ...]                (sinabs.layers.FlattenTime)
///   snn::UnflattenTime   [B·T, ...] → [B, T, ...], B given       (sinabs.layers.UnflattenTime)
///   snn::Repeat          a module applied to every time step      (sinabs.layers.Repeat)
///   snn::SumPool2d       sum over each window                     (sinabs.layers.SumPool2d)
///   snn::NestedSequential a Sequential that can sit inside another  (nn.Sequential nesting)
#include <torch/arg.h>
#include <torch/expanding_array.h>
#include <torch/nn/cloneable.h>
#include <torch/nn/modules/container/any.h>
#include <torch/nn/modules/container/sequential.h>
#include <torch/nn/pimpl.h>

#include <optional>

namespace snn {

/// [B, T, *rest] → [B·T, *rest] (batch-major). No parameters.
class FlattenTimeImpl : public torch::nn::Cloneable<FlattenTimeImpl> {
 public:
  void reset() override {}
  at::Tensor forward(const at::Tensor& input);
  void pretty_print(std::ostream& os) const override;
};
TORCH_MODULE(FlattenTime);

/// [B·T, *rest] → [B, T, *rest] with T = (B·T) / batch_size.
class UnflattenTimeImpl : public torch::nn::Cloneable<UnflattenTimeImpl> {
 public:
  /// batch_size: B (≥ 1). Example: `snn::UnflattenTime(8)`.
  explicit UnflattenTimeImpl(int64_t batch_size);
  void reset() override;
  at::Tensor forward(const at::Tensor& input);
  void pretty_print(std::ostream& os) const override;

  int64_t batch_size;
};
TORCH_MODULE(UnflattenTime);

/// Applies a module made for [N, ...] inputs to every time step of [B, T, ...]:
/// flatten(0, 1) → module → unflatten(0, (B, T)). The module is registered as "module".
/// Example: `snn::Repeat(torch::nn::AnyModule(torch::nn::Conv2d(2, 8, 3)))`.
class RepeatImpl : public torch::nn::Cloneable<RepeatImpl> {
 public:
  explicit RepeatImpl(torch::nn::AnyModule module);
  /// A copy owns a copy of the module (so that clone() never touches the original's).
  RepeatImpl(const RepeatImpl& other);
  RepeatImpl& operator=(const RepeatImpl&) = default;
  void reset() override;
  at::Tensor forward(const at::Tensor& input);
  void pretty_print(std::ostream& os) const override;

  torch::nn::AnyModule module;
};
TORCH_MODULE(Repeat);

/// Options of snn::SumPool2d. Example: `snn::SumPool2d(snn::SumPool2dOptions(2))`.
struct SumPool2dOptions {
  /* implicit */ SumPool2dOptions(torch::ExpandingArray<2> kernel_size)
      : kernel_size_(kernel_size), stride_(kernel_size) {}
  /// Window size (height, width). Required.
  TORCH_ARG(torch::ExpandingArray<2>, kernel_size);
  /// Window stride. Default: the kernel size.
  TORCH_ARG(torch::ExpandingArray<2>, stride);
  /// Output size rounded up instead of down. Default: false.
  TORCH_ARG(bool, ceil_mode) = false;
};

/// Sum pooling over [N, C, H, W] (or [C, H, W]): Sinabs' SumPool2d, which is torch's
/// LPPool2d with p = 1, computed the same way (average pooling times the window size) and
/// with the same gradient: zero where a window's sum is exactly zero.
class SumPool2dImpl : public torch::nn::Cloneable<SumPool2dImpl> {
 public:
  explicit SumPool2dImpl(SumPool2dOptions options);
  /// Example: `snn::SumPool2d(2)`.
  explicit SumPool2dImpl(torch::ExpandingArray<2> kernel_size)
      : SumPool2dImpl(SumPool2dOptions(kernel_size)) {}
  void reset() override;
  at::Tensor forward(const at::Tensor& input);
  void pretty_print(std::ostream& os) const override;

  SumPool2dOptions options;
};
TORCH_MODULE(SumPool2d);

/// A torch::nn::Sequential that can sit inside another Sequential. LibTorch's containers
/// hold modules through AnyModule, which cannot hold a Sequential (its forward is a
/// template); this is the same container with a forward(Tensor). snn::analysis walks it as
/// it walks the outer Sequential. Example:
/// `torch::nn::Sequential(snn::NestedSequential(torch::nn::Linear(140, 64), snn::IAF()), ...)`.
class NestedSequentialImpl : public torch::nn::SequentialImpl {
 public:
  using torch::nn::SequentialImpl::SequentialImpl;
  at::Tensor forward(const at::Tensor& input) { return torch::nn::SequentialImpl::forward(input); }
};
TORCH_MODULE(NestedSequential);

}  // namespace snn
