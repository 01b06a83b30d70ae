#pragma once
/// \file
/// Building blocks of neuron options: spike functions, reset mechanisms, surrogate
/// gradients and time constants, named as in Sinabs.
#include <ATen/core/Tensor.h>

#include <iosfwd>
#include <optional>
#include <string>
#include <variant>
#include <vector>

namespace snn {

/// Spike count per step: (v > 0)·trunc(v / θ) — several spikes per step are possible.
struct MultiSpike {};
/// One spike per step at most: (v - θ ≥ 0).
struct SingleSpike {};
/// How the membrane potential v (before the reset) is turned into spikes.
/// Example: `LIFOptions(10).spike_fn(snn::SingleSpike{})`. Default: MultiSpike.
using SpikeFn = std::variant<MultiSpike, SingleSpike>;

/// After spiking, v ← v - s·c with c = subtract_value, or the threshold θ when unset.
/// The gradient flows through s (and so through the surrogate).
struct MembraneSubtract {
  std::optional<double> subtract_value = std::nullopt;
};
/// After spiking, v ← v·(s == 0) + reset_value. As in Sinabs, reset_value is added to
/// every neuron, spiking or not (it is 0 by default, where this makes no difference);
/// no gradient flows through the reset.
struct MembraneReset {
  double reset_value = 0.0;
};
/// Reset mechanism. Example: `.reset_fn(snn::MembraneReset{})`. Default: MembraneSubtract.
using ResetFn = std::variant<MembraneSubtract, MembraneReset>;

/// Surrogate for the spike's derivative: σ(v) = grad_scale/(θ·grad_width) ·
/// exp(-|v - θ| / (θ·grad_width)). grad_width is relative to the threshold.
struct SingleExponential {
  double grad_width = 0.5;
  double grad_scale = 1.0;
};
/// Surrogate gradient function. Default: SingleExponential{0.5, 1.0}.
using Surrogate = std::variant<SingleExponential>;

/// A time constant τ in time steps (α = exp(-1/τ)): one value for every neuron, or a
/// tensor broadcast (right-aligned, as in Sinabs) against a layer's feature shape,
/// e.g. shape [C, 1, 1] for input [B, T, C, H, W].
class TimeConstant {
 public:
  /* implicit */ TimeConstant(double tau);
  /* implicit */ TimeConstant(at::Tensor tau);
  const at::Tensor& tensor() const { return tau_; }

 private:
  at::Tensor tau_;
};

namespace detail {
// The op-level encoding of the variants above (as torch.ops.snn.lif takes them).
std::string spike_fn_name(const SpikeFn& fn);
std::string reset_fn_name(const ResetFn& fn);
std::optional<double> reset_fn_value(const ResetFn& fn);
std::string surrogate_name(const Surrogate& fn);
std::vector<double> surrogate_args(const Surrogate& fn);
}  // namespace detail

std::ostream& operator<<(std::ostream& os, const SpikeFn& fn);
std::ostream& operator<<(std::ostream& os, const ResetFn& fn);
std::ostream& operator<<(std::ostream& os, const Surrogate& fn);
std::ostream& operator<<(std::ostream& os, const TimeConstant& tau);

}  // namespace snn
