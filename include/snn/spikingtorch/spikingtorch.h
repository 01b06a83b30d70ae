#pragma once
/// \file
/// spikingtorch (0.1.3) in C++: its neurons IF, LIF and McPitts on the neuron op, SpikingNet
/// (the per-step loop with its reset-on-first-step `init` flag), its encoders
/// (PoissonEncoder, PeriodicEncoder) and decoders (SumDecoder, RateDecoder); the same
/// spikes, membranes and gradients as spikingtorch (the parity suite holds them to it).
///
/// Per step t (θ = v0, step(v) = (sign(v) + 1)/2: 1 above 0, 1/2 at 0, 0 below):
///   IF:      v_t = (1 - s_{t-1})·v_{t-1} + x_t;        s_t = step(v_t - θ)
///   LIF:     v_t = (1 - s_{t-1})·a·v_{t-1} + b·x_t,    a = exp(-1/tau), b = tau·(1 - a)
///            (or a = decay, b = 1)
///   McPitts: s = step(x - thr), no state
/// The backward of step(v) is beta·σ(beta·v)·(1 - σ(beta·v)) (the surrogate
/// Sigmoid(slope=beta)), and it flows through s_{t-1} in the reset too: spikingtorch does
/// not detach the reset, unlike snnTorch. On the neuron op this is the Leaky family with
/// spike=SignSpike(), reset=MembraneReset() before the leak, reset_delay and reset_grad
/// (snn/ops/neuron.h).
///
/// Calls, as spikingtorch users write them:
///   auto s = if_layer->step(x_t, init);   one step, [B, *features]; init = true zeroes the
///                                          state first (spikingtorch's `forward(xi, init)`)
///   auto s = if_layer(x);                  a whole sequence [B, T, *features] in one fused
///                                          op on the layer's state (what a Sequential calls);
///                                          equal to looping step(x_t, t == 0) after a reset
///   auto net = SpikingNet(MyNet(), {10});  net->forward(x): x [B, T, ...] → [B, T, 10];
///                                          MyNet's forward(x_t, init) sees x_t [B, 1, ...]
///                                          (spikingtorch keeps the time axis, of size 1)
///   PoissonEncoder(8)(images)              [B, C, ...] → [B, 8·C, ...] spikes
///   SumDecoder(8, 1.0)(spikes)             [B, T, ...] → scale·(Σ_t - T/2)
///
/// Difference, by choice: spikingtorch's neurons take any v0; here v0 must be > 0 (a
/// threshold <= 0 makes a neuron at rest spike, which spikingtorch's first step hides by
/// starting s at 0 and the op cannot).
#include <ATen/core/Generator.h>
#include <torch/arg.h>
#include <torch/nn/module.h>
#include <torch/nn/pimpl.h>

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "snn/nn/neuron.h"

namespace snn::spikingtorch {

/// Options of snn::spikingtorch::IF. Example: `snn::spikingtorch::IF(IFOptions().v0(0.5))`.
struct IFOptions {
  /// Threshold v0 (> 0). Default: 1.
  TORCH_ARG(double, v0) = 1.0;
  /// Steepness of the surrogate σ'(beta·v)·beta. Default: 5.
  TORCH_ARG(double, beta) = 5.0;
  /// Create the state with this shape [B, *features] at construction. Default: none.
  TORCH_ARG(std::optional<std::vector<int64_t>>, shape) = std::nullopt;
  /// Keep the membrane of every step of a sequence forward in recordings(). Default: false.
  TORCH_ARG(bool, record_states) = false;
};

/// Options of snn::spikingtorch::LIF: a = exp(-1/tau), b = tau·(1 - a); with decay:
/// a = decay, b = 1. Example: `snn::spikingtorch::LIF(LIFOptions().tau(4))`.
struct LIFOptions {
  /// Time constant (> 0). Default: 8.
  TORCH_ARG(double, tau) = 8.0;
  /// Threshold v0 (> 0). Default: 1.
  TORCH_ARG(double, v0) = 1.0;
  /// Steepness of the surrogate. Default: 5.
  TORCH_ARG(double, beta) = 5.0;
  /// The decay a itself, in [0, 1] (then b = 1); none: from tau. Default: none.
  TORCH_ARG(std::optional<double>, decay) = std::nullopt;
  TORCH_ARG(std::optional<std::vector<int64_t>>, shape) = std::nullopt;
  TORCH_ARG(bool, record_states) = false;
};

namespace detail {

/// What IF and LIF share: the specification, the step with its init flag.
class SpikingTorchNeuron : public snn::detail::NeuronCore {
 public:
  /// The membrane v after the last step (undefined before the first call).
  const at::Tensor& v() const { return state("mem"); }
  /// a (decay) and b (input scale) as the layer applies them.
  double a = 1.0, b = 1.0;

 protected:
  void set_neuron(const char* layer, double v0, double beta,
                  const std::optional<std::vector<int64_t>>& shape);
  /// One step [B, *features]; init zeroes the state first.
  at::Tensor step_state(const char* layer, const at::Tensor& input, bool init);
  std::vector<at::Tensor> params(at::ScalarType dtype) const;
  double v0_ = 1.0;
};

}  // namespace detail

/// spikingtorch's IF neuron model (see the file comment). State: mem (v).
class IFModel : public detail::SpikingTorchNeuron {
 public:
  using Options = IFOptions;
  static constexpr const char* kName = "spikingtorch::IF";
  explicit IFModel(IFOptions options) : options(std::move(options)) {}
  /// One step x_t [B, *features] → s_t; init = true: from a zero state (spikingtorch's flag).
  at::Tensor step(const at::Tensor& input, bool init = false) {
    return step_state(kName, input, init);
  }
  IFOptions options;

 protected:
  void reset_model(torch::nn::Module& self);
  std::vector<at::Tensor> op_params(const at::Tensor& input) const {
    return params(input.scalar_type());
  }
  void print_options(std::ostream& os) const;
};

/// spikingtorch's LIF neuron model. State: mem (v, with b·x_t already in it).
class LIFModel : public detail::SpikingTorchNeuron {
 public:
  using Options = LIFOptions;
  static constexpr const char* kName = "spikingtorch::LIF";
  explicit LIFModel(LIFOptions options) : options(std::move(options)) {}
  at::Tensor step(const at::Tensor& input, bool init = false) {
    return step_state(kName, input, init);
  }
  /// The input as the op receives it: b·x.
  at::Tensor model_input(const at::Tensor& input) const;
  LIFOptions options;

 protected:
  void reset_model(torch::nn::Module& self);
  std::vector<at::Tensor> op_params(const at::Tensor& input) const {
    return params(input.scalar_type());
  }
  void print_options(std::ostream& os) const;
};

}  // namespace snn::spikingtorch

namespace snn {
extern template class NeuronLayer<spikingtorch::IFModel>;
extern template class NeuronLayer<spikingtorch::LIFModel>;
}  // namespace snn

namespace snn::spikingtorch {

/// `layer(x)` runs a sequence [B, T, *features]; `layer(x_t, init)` one step.
#define SNN_SPIKINGTORCH_MODULE(Name)                                                 \
  using Name##Impl = NeuronLayer<Name##Model>;                                        \
  class Name : public torch::nn::ModuleHolder<Name##Impl> {                           \
   public:                                                                            \
    using torch::nn::ModuleHolder<Name##Impl>::ModuleHolder;                          \
    at::Tensor operator()(const at::Tensor& input) { return get()->forward(input); }  \
    at::Tensor operator()(const at::Tensor& input, bool init) {                       \
      return get()->step(input, init);                                                \
    }                                                                                 \
  }

/// spikingtorch.IF: `if_layer(x_t, init)` (a step), `if_layer(x)` (a sequence).
SNN_SPIKINGTORCH_MODULE(IF);
/// spikingtorch.LIF: `lif(x_t, init)`, `lif(x)`.
SNN_SPIKINGTORCH_MODULE(LIF);

/// spikingtorch.McPitts: s = step(x - thr), stateless, the surrogate σ'(beta·v)·beta (the
/// neuron op with no leak and no reset, on a fresh state per call).
class McPittsImpl : public torch::nn::Cloneable<McPittsImpl> {
 public:
  explicit McPittsImpl(double thr, double beta = 3.0);
  void reset() override {}
  /// Any shape [B, ...] → spikes of the same shape.
  at::Tensor forward(const at::Tensor& input);
  void pretty_print(std::ostream& os) const override;
  double thr, beta;

 private:
  std::string spec_;
};
TORCH_MODULE(McPitts);

/// spikingtorch.SpikingNet: runs `net` once per time step of x [B, T, ...], handing it
/// x[:, t:t+1] (the time axis kept, of size 1) and init = (t == 0), and stacks its outputs
/// [B, *out_shape] into [B, T, *out_shape]. `net` is any module holder whose forward takes
/// (const at::Tensor&, bool); it is registered as "net" (its parameters are SpikingNet's).
class SpikingNetImpl : public torch::nn::Module {
 public:
  template <typename Holder>
  SpikingNetImpl(Holder net, std::vector<int64_t> out_shape)
      : SpikingNetImpl(net.ptr(),
                       [net](const at::Tensor& x, bool init) mutable {
                         return net->forward(x, init);
                       },
                       std::move(out_shape)) {}
  SpikingNetImpl(std::shared_ptr<torch::nn::Module> net,
                 std::function<at::Tensor(const at::Tensor&, bool)> single_pass,
                 std::vector<int64_t> out_shape);
  /// x [B, T, ...] → [B, T, *out_shape].
  at::Tensor forward(const at::Tensor& x);
  /// One pass of the network (spikingtorch's single_pass).
  at::Tensor single_pass(const at::Tensor& x, bool init) { return pass_(x, init); }
  void pretty_print(std::ostream& os) const override;
  const std::vector<int64_t>& out_shape() const { return out_shape_; }

 private:
  std::function<at::Tensor(const at::Tensor&, bool)> pass_;
  std::vector<int64_t> out_shape_;
};
/// `SpikingNet(MyNet(...), {10})`: the holder of a SpikingNetImpl.
class SpikingNet : public torch::nn::ModuleHolder<SpikingNetImpl> {
 public:
  using torch::nn::ModuleHolder<SpikingNetImpl>::ModuleHolder;
  template <typename Holder>
  SpikingNet(Holder net, std::vector<int64_t> out_shape)
      : torch::nn::ModuleHolder<SpikingNetImpl>(
            std::make_shared<SpikingNetImpl>(std::move(net), std::move(out_shape))) {}
};

/// spikingtorch.spikeio.PoissonEncoder: per step, a spike where u ≤ scale·x for a uniform
/// u in [0, 1) (u > 0): probability clamp(scale·x, 0, 1); the nsteps spike tensors are
/// concatenated along dim 1: [B, C, ...] → [B, nsteps·C, ...] (for C = 1, the time axis).
/// Draws from `generator` (default: torch's). No gradient.
struct PoissonEncoder {
  explicit PoissonEncoder(int64_t nsteps, double scale = 1.0);
  at::Tensor operator()(const at::Tensor& x,
                        std::optional<at::Generator> generator = std::nullopt) const;
  int64_t nsteps;
  double scale;
};

/// spikingtorch.spikeio.PeriodicEncoder: a memory m += scale·x per step; a spike where
/// m ≥ 1, which empties m; concatenated along dim 1 as PoissonEncoder. Deterministic.
struct PeriodicEncoder {
  explicit PeriodicEncoder(int64_t nsteps, double scale = 1.0);
  at::Tensor operator()(const at::Tensor& x) const;
  int64_t nsteps;
  double scale;
};

/// spikingtorch.spikeio.SumDecoder: scale·(Σ over dim 1 - nsteps/2) with offset, else
/// scale·Σ over dim 1.
struct SumDecoder {
  SumDecoder(int64_t nsteps, double scale, bool offset = true);
  at::Tensor operator()(const at::Tensor& x) const;
  int64_t nsteps;
  double scale;
  bool offset;
};

/// spikingtorch.spikeio.RateDecoder: the mean over dim 1.
struct RateDecoder {
  at::Tensor operator()(const at::Tensor& x) const;
};

}  // namespace snn::spikingtorch
