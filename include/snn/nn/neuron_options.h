#pragma once
/// \file
/// Building blocks of neuron options: spike functions, reset mechanisms, surrogate
/// gradients and time constants, named as in Sinabs. Each prints as its text in a neuron
/// specification (see snn/ops/neuron.h), e.g. `MaxSpike(max_num_spikes_per_bin=3)`.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <functional>
#include <vector>
#include <iosfwd>
#include <optional>
#include <string>
#include <variant>

namespace snn::ops {
struct NeuronSpec;
}  // namespace snn::ops

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
/// One spike per step at most, strictly above the threshold: (v - θ > 0), snnTorch's spike.
struct HeavisideSpike {};
using SpikeFn = std::variant<MultiSpike, SingleSpike, MaxSpike, HeavisideSpike>;

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
/// No reset: the membrane keeps integrating (snnTorch's reset_mechanism="none").
struct NoReset {};
using ResetFn = std::variant<MembraneSubtract, MembraneReset, NoReset>;

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
/// σ(v) = alpha/2 / (1 + (π/2·alpha·(v - θ))²): snnTorch's surrogate.atan (its default).
struct ATan {
  double alpha = 2.0;
};
/// σ(v) = 1 / (slope·|v - θ| + 1)²: snnTorch's surrogate.fast_sigmoid.
struct FastSigmoid {
  double slope = 25.0;
};
/// σ(v) = slope·e / (1 + e)², e = exp(-slope·|v - θ|): snnTorch's surrogate.sigmoid
/// (without the NaN its exp(-slope·x) gives below x = -88.7/slope in float32).
struct Sigmoid {
  double slope = 25.0;
};
/// σ(v) = slope·exp(-beta·|v - θ - 1|): snnTorch's surrogate.spike_rate_escape.
struct SpikeRateEscape {
  double beta = 1.0;
  double slope = 25.0;
};
/// σ(v) = threshold for v < θ, -threshold from θ up: snnTorch's surrogate.triangular as it
/// computes it.
struct Triangular {
  double threshold = 1.0;
};
/// σ(v) = 1: snnTorch's surrogate.straight_through_estimator.
struct StraightThroughEstimator {};
/// σ(v) = (v - θ > 0), the spike itself: snnTorch's surrogate.heaviside.
struct HeavisideMask {};
/// σ(v) = (x > B) / (slope·|x| + 1)², x = v - θ: snnTorch's surrogate.SFS.
struct SparseFastSigmoid {
  double slope = 25.0;
  double B = 1.0;
};
/// σ(v) = (x > 0) + slope·(x ≤ 0), x = v - θ: the leaky spike operator snnTorch's
/// surrogate.LSO describes (its LSO() calls a function of two arguments with one and cannot
/// run; this is the operator its LeakySpikeOperator class computes).
struct LeakySpikeOperator {
  double slope = 0.1;
};
/// σ = 0: no gradient through the spike (snnTorch's surrogate_disable=True).
struct NoGradient {};
/// σ(v) = 1 for x > 0, else (u - 1/2 + mean)·variance with u uniform in [0, 1) drawn at
/// every call, x = v - θ: snnTorch's surrogate.SSO (stochastic spike operator). Runs on
/// the op's reference (random draws), not the fused kernel.
struct SSO {
  double mean = 0.0;
  double variance = 0.2;
};
/// A surrogate of one's own: σ as a function of x = v - θ (elementwise), snnTorch's
/// surrogate.custom_surrogate. Make one with snn::custom_surrogate(fn); it runs on the op's
/// reference (plain ATen, autograd), not the fused kernel. Example:
/// `.surrogate(snn::custom_surrogate([](const at::Tensor& x) { return 1 / (1 + x * x); }))`.
struct CustomSurrogate {
  int64_t id = 0;  // snn::ops::register_surrogate's
};
CustomSurrogate custom_surrogate(std::function<at::Tensor(const at::Tensor& x)> sigma);
/// Surrogate gradient function. Default: SingleExponential{0.5, 1.0}.
using Surrogate =
    std::variant<SingleExponential, Heaviside, Gaussian, MultiGaussian, PeriodicExponential, ATan,
                 FastSigmoid, Sigmoid, SpikeRateEscape, Triangular, StraightThroughEstimator,
                 HeavisideMask, SparseFastSigmoid, LeakySpikeOperator, NoGradient, SSO,
                 CustomSurrogate>;

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

/// A neuron parameter (a threshold, a decay, a leak potential ...): one value for every
/// neuron, or a floating-point tensor broadcast right-aligned against the feature shape
/// (e.g. [N]: one per neuron).
class Value {
 public:
  /* implicit */ Value(double value);
  /* implicit */ Value(at::Tensor value);
  const at::Tensor& tensor() const { return value_; }

 private:
  at::Tensor value_;
};
std::ostream& operator<<(std::ostream& os, const Value& value);

/// An option of an options base that several layers share (CRTP over the layer's options
/// type): like TORCH_ARG, but the setter returns the layer's options type, so that calls
/// chain: `snn::LIFOptions(10.0).spike_threshold(2.0).norm_input(false)`.
#define SNN_OPTION(T, name)                                   \
 public:                                                      \
  Derived& name(const T& new_##name) {                        \
    this->name##_ = new_##name;                               \
    return static_cast<Derived&>(*this);                      \
  }                                                           \
  Derived& name(T&& new_##name) {                             \
    this->name##_ = std::move(new_##name);                    \
    return static_cast<Derived&>(*this);                      \
  }                                                           \
  const T& name() const noexcept { return this->name##_; }    \
  T& name() noexcept { return this->name##_; }                \
                                                              \
 protected:                                                   \
  T name##_ /* NOLINT */

/// The options every neuron layer has.
template <typename Derived>
struct NeuronOptions {
  /// Lower bound of the membrane potential, applied after the reset; none: unbounded.
  /// Default: none. Example: -1.0.
  SNN_OPTION(std::optional<double>, min_v_mem) = std::nullopt;
  /// Initialise the state with this shape [B, *features] at construction. Default: none
  /// (states are created on the first forward).
  SNN_OPTION(std::optional<std::vector<int64_t>>, shape) = std::nullopt;
  /// Keep every state of every time step in recordings(). Default: false.
  SNN_OPTION(bool, record_states) = false;
};

/// The options every spiking layer (IAF, LIF, ALIF) has, besides NeuronOptions'.
template <typename Derived>
struct SpikingOptions : NeuronOptions<Derived> {
  /// Synaptic time constant τ_syn in time steps (α_syn = exp(-1/τ_syn)), a trainable
  /// parameter; none: the input goes straight to the membrane. Default: none. Example: 5.0.
  SNN_OPTION(std::optional<TimeConstant>, tau_syn) = std::nullopt;
  /// Spike threshold θ (membrane units; for ALIF the base threshold b0). Must be > 0.
  /// Default: 1.0.
  SNN_OPTION(double, spike_threshold) = 1.0;
  /// Spike function. Default: MultiSpike (ALIF: SingleSpike).
  SNN_OPTION(SpikeFn, spike_fn) = MultiSpike{};
  /// Reset mechanism. Default: MembraneSubtract (subtracts θ).
  SNN_OPTION(ResetFn, reset_fn) = MembraneSubtract{};
  /// Surrogate gradient of the spike function. Default: SingleExponential{0.5, 1.0}.
  SNN_OPTION(Surrogate, surrogate) = SingleExponential{};
};

/// The text of each choice in a neuron specification, e.g. "MembraneReset(reset_value=0)".
std::string to_string(const SpikeFn& fn);
std::string to_string(const ResetFn& fn);
std::string to_string(const Surrogate& fn);

/// Sets the choice's fields of a neuron specification (spike / max_spikes, reset /
/// reset_value, surrogate and its arguments): how layers build their specification.
void set_choice(ops::NeuronSpec& spec, const SpikeFn& fn);
void set_choice(ops::NeuronSpec& spec, const ResetFn& fn);
void set_choice(ops::NeuronSpec& spec, const Surrogate& fn);

/// The inverse of to_string: a choice from its text, e.g. "SingleSpike()",
/// "MaxSpike(max_num_spikes_per_bin=2)", "MembraneReset(reset_value=0)",
/// "Gaussian(sigma=0.3)" (arguments left out take their defaults). Throws naming what is
/// wrong and the allowed choices (the neuron op's own parser reads the text).
SpikeFn parse_spike_fn(const std::string& text);
ResetFn parse_reset_fn(const std::string& text);
Surrogate parse_surrogate(const std::string& text);

std::ostream& operator<<(std::ostream& os, const SpikeFn& fn);
std::ostream& operator<<(std::ostream& os, const ResetFn& fn);
std::ostream& operator<<(std::ostream& os, const Surrogate& fn);
std::ostream& operator<<(std::ostream& os, const TimeConstant& tau);

}  // namespace snn
