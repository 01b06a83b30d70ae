#pragma once
/// \file
/// Building blocks of neuron options: spike functions, reset mechanisms, surrogate
/// gradients and time constants, named as in Sinabs. Each prints as its text in a neuron
/// specification (see snn/ops/neuron.h), e.g. `MaxSpike(max_num_spikes_per_bin=3)`.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <iosfwd>
#include <optional>
#include <string>
#include <variant>

namespace snn {

/// Spike count per step: (v > 0)·trunc(v / θ) — several spikes per step are possible.
struct MultiSpike {};
/// One spike per step at most: (v - θ ≥ 0).
struct SingleSpike {};
/// MultiSpike limited to `max_num_spikes_per_bin` spikes per step (none: no limit, ≥ 1).
struct MaxSpike {
  std::optional<int64_t> max_num_spikes_per_bin = std::nullopt;
};
/// How the membrane potential v (before the reset) is turned into spikes.
/// Example: `LIFOptions(10).spike_fn(snn::SingleSpike{})`. Default: MultiSpike
/// (SingleSpike for ALIF).
using SpikeFn = std::variant<MultiSpike, SingleSpike, MaxSpike>;

/// After spiking, v ← v - s·c with c = subtract_value, or the threshold θ when unset.
/// The gradient flows through s (and so through the surrogate).
struct MembraneSubtract {
  std::optional<double> subtract_value = std::nullopt;
};
/// After spiking, v ← v·(s == 0) + reset_value. As in Sinabs, reset_value is added to
/// every neuron, spiking or not (it is 0 by default, where this makes no difference);
/// no gradient flows through s.
struct MembraneReset {
  double reset_value = 0.0;
};
/// Reset mechanism. Example: `.reset_fn(snn::MembraneReset{})`. Default: MembraneSubtract.
using ResetFn = std::variant<MembraneSubtract, MembraneReset>;

/// σ(v) = grad_scale/(θ·grad_width) · exp(-|v - θ| / (θ·grad_width)); grad_width is
/// relative to the threshold (> 0).
struct SingleExponential {
  double grad_width = 0.5;
  double grad_scale = 1.0;
};
/// σ(v) = (v ≥ θ - window) / θ.
struct Heaviside {
  double window = 1.0;
};
/// σ(v) = grad_scale · N(v - θ; mu, sigma), the normal density (sigma > 0).
struct Gaussian {
  double mu = 0.0;
  double sigma = 0.5;
  double grad_scale = 1.0;
};
/// σ(v) = grad_scale · [(1+h)·N(x; mu, sigma) - h·N(x; sigma, s·sigma) - h·N(x; -sigma, s·sigma)],
/// x = v - θ (Yin et al., 2021).
struct MultiGaussian {
  double mu = 0.0;
  double sigma = 0.5;
  double h = 0.15;
  double s = 6.0;
  double grad_scale = 1.0;
};
/// σ(v) = grad_scale · exp(-|y| / grad_width), y = v - θ below θ, else the distance to the
/// nearest multiple of θ (Weidel and Sheik, 2021); grad_width is absolute (> 0).
struct PeriodicExponential {
  double grad_width = 0.5;
  double grad_scale = 1.0;
};
/// Surrogate gradient function. Default: SingleExponential{0.5, 1.0}.
using Surrogate =
    std::variant<SingleExponential, Heaviside, Gaussian, MultiGaussian, PeriodicExponential>;

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

/// The text of each choice in a neuron specification, e.g. "MembraneReset(reset_value=0)".
std::string to_string(const SpikeFn& fn);
std::string to_string(const ResetFn& fn);
std::string to_string(const Surrogate& fn);

std::ostream& operator<<(std::ostream& os, const SpikeFn& fn);
std::ostream& operator<<(std::ostream& os, const ResetFn& fn);
std::ostream& operator<<(std::ostream& os, const Surrogate& fn);
std::ostream& operator<<(std::ostream& os, const TimeConstant& tau);

}  // namespace snn
