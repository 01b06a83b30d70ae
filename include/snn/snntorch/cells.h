#pragma once
/// \file
/// snnTorch's neurons built on torch's recurrent cells (snntorch 1.0.0): LeakyParallel (an
/// RNN with a diagonal recurrence, time-first [T, B, input] → spikes [T, B, hidden]) and
/// SLSTM (a spiking LSTM cell: syn is the cell state, mem the hidden state). Their spikes
/// are snn::snntorch::fire (the neuron op), so every surrogate of snn::Surrogate serves them;
/// numerically snnTorch's (the parity suite holds them to it).
///
///   LeakyParallel: mem = relu-RNN(x) with weight_hh diagonal (beta on the diagonal when
///     given; learn_beta trains that diagonal only), spk = H(mem - θ)·graded_spikes_factor.
///   SLSTM: (h, c) = LSTMCell(x_t, (mem, syn)); r = H(mem_{t-1} - θ) (no gradient);
///     "subtract": mem = h - r·θ; "zero": mem = h·(1 - r); "none" (default): mem = h;
///     syn = c; spk = H(mem - θ). snnTorch re-zeroes the states at every step when
///     input_size != hidden_size (it compares them with the input's shape): here they are
///     kept whenever they are [B, hidden_size].
///   SConv2dLSTM: the convolutional LSTM of snnTorch (one Conv2d over [x, mem] giving the
///     four gates, padding kernel_size/2), the same resets, spk = H(pool(mem) - θ) with
///     max_pool or avg_pool (the reset still follows mem at full resolution).
///   BatchNormTT1d / BatchNormTT2d: one batch norm per time step, no bias (snnTorch's
///     BatchNormTT: bias=None); bntt[t](x_t).
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/modules/container/modulelist.h>
#include <torch/nn/modules/conv.h>
#include <torch/nn/modules/rnn.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <optional>
#include <string>
#include <tuple>

#include "snn/nn/neuron_options.h"
#include "snn/nn/stateful.h"
#include "snn/snntorch/neurons.h"

namespace snn::snntorch {

/// Options of LeakyParallel. Example: `LeakyParallel(LeakyParallelOptions(140, 64).beta(0.9))`.
struct LeakyParallelOptions {
  LeakyParallelOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  TORCH_ARG(int64_t, input_size);
  TORCH_ARG(int64_t, hidden_size);
  /// The recurrence's diagonal: one value or [hidden_size]; none: torch's initial weights
  /// (masked to the diagonal). Default: none.
  TORCH_ARG(std::optional<Value>, beta) = std::nullopt;
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(Value, threshold) = 1.0;
  TORCH_ARG(Surrogate, spike_grad) = ATan{};
  TORCH_ARG(bool, surrogate_disable) = false;
  /// Train the diagonal of weight_hh (its gradient masked to the diagonal). Default: false.
  TORCH_ARG(bool, learn_beta) = false;
  TORCH_ARG(bool, learn_threshold) = false;
  TORCH_ARG(Value, graded_spikes_factor) = 1.0;
  TORCH_ARG(bool, learn_graded_spikes_factor) = false;
  /// snnTorch's weight_hh_enable: false (its default) keeps the recurrence diagonal.
  TORCH_ARG(bool, weight_hh_enable) = false;
};

class LeakyParallelImpl : public torch::nn::Cloneable<LeakyParallelImpl> {
 public:
  explicit LeakyParallelImpl(LeakyParallelOptions options);
  void reset() override;
  /// input [T, B, input_size] → spikes [T, B, hidden_size].
  at::Tensor forward(const at::Tensor& input);
  void pretty_print(std::ostream& os) const override;
  LeakyParallelOptions options;
  /// snnTorch's names: rnn.weight_ih_l0, rnn.weight_hh_l0, rnn.bias_*, threshold,
  /// graded_spikes_factor, beta (a buffer).
  torch::nn::RNN rnn{nullptr};
  at::Tensor threshold, graded_spikes_factor, beta;
};
TORCH_MODULE(LeakyParallel);

namespace detail {

/// What SLSTM and SConv2dLSTM share: the states syn (cell) and mem (hidden), the reset
/// from the last mem, and the spike of the new mem.
class SpikingLSTMCore : public snn::StatefulModule {
 public:
  const at::Tensor& syn() const { return state("syn"); }
  const at::Tensor& mem() const { return state("mem"); }
  /// Zeroes the states (snnTorch's reset_mem).
  void reset_mem() { reset_states(); }

 protected:
  /// The cell: (mem, syn) of the last step → (h, c).
  using Cell = std::function<std::tuple<at::Tensor, at::Tensor>(const at::Tensor& mem,
                                                                 const at::Tensor& syn)>;
  /// One step from the given states (undefined: the layer's; states not of `state_shape`
  /// restart at zero): reset r = H(mem - θ) without gradient, (h, c) = cell, mem = h after
  /// the reset, spk = H(spiking(mem) - θ); returns (spk, syn, mem).
  std::tuple<at::Tensor, at::Tensor, at::Tensor> lstm_step(
      const at::Tensor& input, const at::Tensor& syn, const at::Tensor& mem,
      at::IntArrayRef state_shape, const at::Tensor& threshold, const Surrogate& surrogate,
      const std::string& reset_mechanism, const Cell& cell,
      const std::function<at::Tensor(const at::Tensor&)>& spiking = nullptr);
};

}  // namespace detail

/// Options of SLSTM. Example: `SLSTM(SLSTMOptions(16, 32).reset_mechanism("subtract"))`.
struct SLSTMOptions {
  SLSTMOptions(int64_t input_size, int64_t hidden_size)
      : input_size_(input_size), hidden_size_(hidden_size) {}
  TORCH_ARG(int64_t, input_size);
  TORCH_ARG(int64_t, hidden_size);
  TORCH_ARG(bool, bias) = true;
  TORCH_ARG(Value, threshold) = 1.0;
  TORCH_ARG(Surrogate, spike_grad) = ATan{};
  TORCH_ARG(bool, surrogate_disable) = false;
  /// The states live in the layer only (step(x)); passing them is an error. Default: false.
  TORCH_ARG(bool, init_hidden) = false;
  TORCH_ARG(bool, learn_threshold) = false;
  /// "subtract", "zero" or "none". Default: "none" (snnTorch's for SLSTM).
  TORCH_ARG(std::string, reset_mechanism) = "none";
};

class SLSTMImpl : public torch::nn::Cloneable<SLSTMImpl>, public detail::SpikingLSTMCore {
 public:
  explicit SLSTMImpl(SLSTMOptions options);
  void reset() override;
  /// One step: x [B, input_size] and the states (undefined: the layer's, zeros at first)
  /// → (spk, syn, mem), snnTorch's order.
  std::tuple<at::Tensor, at::Tensor, at::Tensor> forward(const at::Tensor& input,
                                                         const at::Tensor& syn = {},
                                                         const at::Tensor& mem = {});
  /// One step on the layer's states (snnTorch's init_hidden) → spk.
  at::Tensor step(const at::Tensor& input);
  /// A sequence [B, T, input_size], batch first, on the layer's states → spikes [B, T, hidden].
  at::Tensor sequence(const at::Tensor& input);
  void pretty_print(std::ostream& os) const override;
  SLSTMOptions options;
  torch::nn::LSTMCell lstm_cell{nullptr};
  at::Tensor threshold;

 private:
  /// One step from the given states (undefined: the layer's): forward without its
  /// init_hidden check.
  std::tuple<at::Tensor, at::Tensor, at::Tensor> advance(const at::Tensor& input,
                                                         const at::Tensor& syn,
                                                         const at::Tensor& mem);
};
TORCH_MODULE(SLSTM);

/// Options of SConv2dLSTM. Example: `SConv2dLSTM(SConv2dLSTMOptions(1, 8, 3).max_pool(2))`.
struct SConv2dLSTMOptions {
  SConv2dLSTMOptions(int64_t in_channels, int64_t out_channels,
                     torch::ExpandingArray<2> kernel_size)
      : in_channels_(in_channels), out_channels_(out_channels), kernel_size_(kernel_size) {}
  TORCH_ARG(int64_t, in_channels);
  TORCH_ARG(int64_t, out_channels);
  /// One size or (height, width); padding size/2 on each side.
  TORCH_ARG(torch::ExpandingArray<2>, kernel_size);
  TORCH_ARG(bool, bias) = true;
  /// Spikes of max_pool2d(mem, max_pool) / avg_pool2d(mem, avg_pool); 0: none (not both).
  TORCH_ARG(int64_t, max_pool) = 0;
  TORCH_ARG(int64_t, avg_pool) = 0;
  TORCH_ARG(Value, threshold) = 1.0;
  TORCH_ARG(Surrogate, spike_grad) = ATan{};
  TORCH_ARG(bool, surrogate_disable) = false;
  TORCH_ARG(bool, init_hidden) = false;
  TORCH_ARG(bool, learn_threshold) = false;
  TORCH_ARG(std::string, reset_mechanism) = "none";
};

class SConv2dLSTMImpl : public torch::nn::Cloneable<SConv2dLSTMImpl>, public detail::SpikingLSTMCore {
 public:
  explicit SConv2dLSTMImpl(SConv2dLSTMOptions options);
  void reset() override;
  /// One step: x [B, in_channels, H, W] and the states [B, out_channels, H, W] (undefined:
  /// the layer's) → (spk, syn, mem).
  std::tuple<at::Tensor, at::Tensor, at::Tensor> forward(const at::Tensor& input,
                                                         const at::Tensor& syn = {},
                                                         const at::Tensor& mem = {});
  at::Tensor step(const at::Tensor& input);
  /// A sequence [B, T, in_channels, H, W] on the layer's states → spikes [B, T, ...].
  at::Tensor sequence(const at::Tensor& input);
  void pretty_print(std::ostream& os) const override;
  SConv2dLSTMOptions options;
  torch::nn::Conv2d conv{nullptr};
  at::Tensor threshold;

 private:
  /// One step from the given states (undefined: the layer's): forward without its
  /// init_hidden check.
  std::tuple<at::Tensor, at::Tensor, at::Tensor> advance(const at::Tensor& input,
                                                         const at::Tensor& syn,
                                                         const at::Tensor& mem);
};
TORCH_MODULE(SConv2dLSTM);

/// One time step's batch norm of BatchNormTT: weight (affine), no bias; running statistics.
class BatchNormTTStepImpl : public torch::nn::Cloneable<BatchNormTTStepImpl> {
 public:
  BatchNormTTStepImpl(int64_t features, double eps, std::optional<double> momentum, bool affine,
                      int64_t dims);
  void reset() override;
  at::Tensor forward(const at::Tensor& input);
  void pretty_print(std::ostream& os) const override;
  int64_t features, dims;
  double eps;
  /// none: the cumulative average (factor 1/batches seen), as torch's BatchNorm.
  std::optional<double> momentum;
  bool affine;
  at::Tensor weight, running_mean, running_var, num_batches_tracked;
};
TORCH_MODULE(BatchNormTTStep);

/// snnTorch's BatchNormTT1d(input_features, time_steps): a ModuleList of time_steps batch
/// norms over [B, C] or [B, C, L], each without bias; names "0.weight", "0.running_mean", ...
torch::nn::ModuleList BatchNormTT1d(int64_t input_features, int64_t time_steps,
                                    double eps = 1e-5, std::optional<double> momentum = 0.1,
                                    bool affine = true);
/// The same over [B, C, H, W].
torch::nn::ModuleList BatchNormTT2d(int64_t input_features, int64_t time_steps,
                                    double eps = 1e-5, std::optional<double> momentum = 0.1,
                                    bool affine = true);

}  // namespace snn::snntorch
