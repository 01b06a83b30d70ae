#pragma once
/// \file
/// snnTorch's spike generators (snntorch.spikegen) in C++: rate (Bernoulli) coding,
/// latency coding and delta modulation, and the one-hot targets. As in snnTorch, the
/// generated spike trains are time-first: [num_steps, *data.shape]. Example:
///   auto spikes = snn::snntorch::spikegen::rate(images, RateOptions().num_steps(25));
///   // spikes [25, B, 1, 28, 28]; .transpose(0, 1) for snn.cpp's batch-first layers
///   auto targets = snn::snntorch::spikegen::targets_rate(
///       labels, 10, TargetsRateOptions().num_steps(25).correct_rate(0.8).incorrect_rate(0.1));
///   // targets [25, B, 10]
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include <cstdint>
#include <optional>
#include <string>
#include <tuple>

namespace snn::snntorch::spikegen {

struct RateOptions {
  /// Time steps to generate; 0 with time_var_input (the data's first dimension is time).
  TORCH_ARG(int64_t, num_steps) = 0;
  /// The probability of a spike is clamp(data·gain + offset, 0, 1). Defaults: 1, 0.
  TORCH_ARG(double, gain) = 1.0;
  TORCH_ARG(double, offset) = 0.0;
  /// No spikes before this step (with time_var_input: this many empty steps prepended).
  /// Default: 0.
  TORCH_ARG(int64_t, first_spike_time) = 0;
  /// The data is already time-first [T, ...] (gain and offset are not applied, as in
  /// snnTorch). Default: false.
  TORCH_ARG(bool, time_var_input) = false;
  /// The random source; none: the default generator. Default: none.
  TORCH_ARG(std::optional<at::Generator>, generator) = std::nullopt;
};
/// spikegen.rate: Bernoulli spikes with probability clamp(data·gain + offset, 0, 1) per
/// step, [num_steps, *data.shape] (time_var_input: [first_spike_time + T, ...]).
at::Tensor rate(const at::Tensor& data, const RateOptions& options = {});
/// spikegen.rate_conv: one Bernoulli draw per element of clamp(data, 0, 1).
at::Tensor rate_conv(const at::Tensor& data, std::optional<at::Generator> generator = {});

struct LatencyOptions {
  /// Time steps; 0 needs bypass (then the last spike time + 1). Required otherwise.
  TORCH_ARG(int64_t, num_steps) = 0;
  /// Inputs below this fire last (or never, with clip); in (0, 1). Default: 0.01.
  TORCH_ARG(double, threshold) = 0.01;
  /// Time constant (steps) of the RC model (log) or the slope (linear); > 0. Default: 1.
  TORCH_ARG(double, tau) = 1.0;
  /// The earliest spike time. Default: 0.
  TORCH_ARG(int64_t, first_spike_time) = 0;
  /// The value of a spike and of no spike (the output is clamp(spikes·on, min = off)).
  /// Defaults: 1, 0.
  TORCH_ARG(double, on_target) = 1.0;
  TORCH_ARG(double, off_target) = 0.0;
  /// No spike for inputs below threshold. Default: false.
  TORCH_ARG(bool, clip) = false;
  /// Stretch the spike times over [first_spike_time, num_steps - 1]. Default: false.
  TORCH_ARG(bool, normalize) = false;
  /// Linear spike times -tau·(data - 1) in place of the RC model's
  /// tau·log(data / (data - threshold)). Default: false.
  TORCH_ARG(bool, linear) = false;
  /// Allow spike times beyond num_steps (those spikes are dropped), or num_steps 0.
  /// Default: false.
  TORCH_ARG(bool, bypass) = false;
  /// The RC model clamps the data to threshold + epsilon from below. Default: 1e-7.
  TORCH_ARG(double, epsilon) = 1e-7;
  /// In place of spikes, targets that rise linearly to on_target at each spike time
  /// (latency_interpolate of the spike times). Default: false.
  TORCH_ARG(bool, interpolate) = false;
};
/// spikegen.latency: one spike per element at its latency, [num_steps, *data.shape]; data in
/// [0, 1].
at::Tensor latency(const at::Tensor& data, const LatencyOptions& options = {});

struct DeltaOptions {
  /// A change of at least this between steps spikes. Default: 0.1.
  TORCH_ARG(double, threshold) = 0.1;
  /// The first step is compared with itself (no spike) rather than with zero. Default: false.
  TORCH_ARG(bool, padding) = false;
  /// A fall of at least threshold gives -1. Default: false.
  TORCH_ARG(bool, off_spike) = false;
};
/// spikegen.delta: spikes where the time-first data [T, ...] changes by threshold or more.
at::Tensor delta(const at::Tensor& data, const DeltaOptions& options = {});

/// spikegen.to_one_hot: integer targets [N] → float one-hot [N, num_classes].
at::Tensor to_one_hot(const at::Tensor& targets, int64_t num_classes);
/// spikegen.to_one_hot_inverse: 1 where the input is 0, 0 elsewhere (same shape and dtype).
at::Tensor to_one_hot_inverse(const at::Tensor& one_hot);
/// spikegen.from_one_hot: the class index of every 1 of a one-hot [C] or [N, C] (the last
/// dimension's index of each 1, in order). snnTorch returns the first dimension's index
/// (torch.where(x == 1)[0]): right for [C], but the row numbers 0..N−1 for [N, C].
at::Tensor from_one_hot(const at::Tensor& one_hot);

struct TargetRateCodeOptions {
  /// No spikes before this step. Default: 0.
  TORCH_ARG(int64_t, first_spike_time) = 0;
  /// Spikes per step, in [0, 1]. Default: 1.
  TORCH_ARG(double, rate) = 1.0;
  /// "regular": a spike every 1/rate steps from first_spike_time (torch.arange(first,
  /// num_steps, 1/rate)); "uniform": as many spike times drawn uniformly from
  /// [first_spike_time, num_steps) (those that fall on the same step merge); "poisson": a
  /// Bernoulli(rate) draw at every step from first_spike_time. Case-insensitive.
  /// Default: "regular".
  TORCH_ARG(std::string, firing_pattern) = "regular";
  /// The random source of "uniform" and "poisson"; none: the default generator.
  TORCH_ARG(std::optional<at::Generator>, generator) = std::nullopt;
};
/// spikegen.target_rate_code: the spike train of one neuron, [num_steps] (float), and its
/// spike times (int64; empty for rate 0).
std::tuple<at::Tensor, at::Tensor> target_rate_code(int64_t num_steps,
                                                    const TargetRateCodeOptions& options = {});

/// spikegen.rate_interpolate: targets [num_steps] that rise linearly from off_target after
/// each spike to on_target at the next spike time (on_target at once for consecutive
/// spikes), off_target after the last; all off_target without spikes. epsilon widens the
/// end of each torch.arange ramp against rounding.
at::Tensor rate_interpolate(const at::Tensor& spike_time, int64_t num_steps,
                            double on_target = 1.0, double off_target = 0.0,
                            double epsilon = 1e-7);
/// spikegen.latency_interpolate: for spike times s (any shape; one neuron each, rounded),
/// targets [num_steps, *s.shape] that rise as t / s from off_target to on_target at t = s and
/// are off_target after it (times beyond num_steps: off_target from step 1; time 0:
/// on_target at step 0 only). Needs on_target >= off_target.
at::Tensor latency_interpolate(const at::Tensor& spike_time, int64_t num_steps,
                               double on_target = 1.0, double off_target = 0.0);

struct TargetsRateOptions {
  /// Time steps; needed unless correct_rate = 1, incorrect_rate = 0 and first_spike_time = 0
  /// (then the targets are [B, num_classes], without time). Default: 0.
  TORCH_ARG(int64_t, num_steps) = 0;
  /// Every target is off_target before this step. Default: 0.
  TORCH_ARG(int64_t, first_spike_time) = 0;
  /// Spikes per step of the label's class and of the others, in [0, 1], correct_rate >=
  /// incorrect_rate. Defaults: 1, 0.
  TORCH_ARG(double, correct_rate) = 1.0;
  TORCH_ARG(double, incorrect_rate) = 0.0;
  /// The target at a spike and otherwise: the targets are clamp(spikes · on_target, min =
  /// off_target), as in snnTorch (without rates or first_spike_time and on_target <=
  /// off_target: on_target for the label, off_target elsewhere). Defaults: 1, 0.
  TORCH_ARG(double, on_target) = 1.0;
  TORCH_ARG(double, off_target) = 0.0;
  /// TargetRateCodeOptions::firing_pattern; one pattern for the label's class and one for
  /// the others, shared by the batch as in snnTorch. Default: "regular".
  TORCH_ARG(std::string, firing_pattern) = "regular";
  /// With rates: rate_interpolate's ramps in place of spikes. Default: false.
  TORCH_ARG(bool, interpolate) = false;
  /// rate_interpolate's epsilon. Default: 1e-7.
  TORCH_ARG(double, epsilon) = 1e-7;
  TORCH_ARG(std::optional<at::Generator>, generator) = std::nullopt;
};
/// spikegen.targets_rate: rate-coded targets of labels [B]: [B, num_classes] without time
/// (correct_rate 1, incorrect_rate 0, first_spike_time 0), else [num_steps, B, num_classes].
/// snnTorch: with rates (correct_rate != 1 or incorrect_rate != 0) it multiplies the
/// [T, B, C] complement of the one-hot by the incorrect pattern [T] along the classes and
/// adds a [T, B, C, 1, 1] to a [T, B, C] tensor: an error unless T = C, else a 5-D tensor
/// (with interpolate: an error unless T = C, else right); here the label's class follows the
/// correct pattern and the others the incorrect one.
at::Tensor targets_rate(const at::Tensor& targets, int64_t num_classes,
                        const TargetsRateOptions& options = {});

/// spikegen.targets_latency: latency(to_one_hot(targets, num_classes), options): the
/// label's class spikes first (at first_spike_time), the others at the latency of 0.
at::Tensor targets_latency(const at::Tensor& targets, int64_t num_classes,
                           const LatencyOptions& options = {});

struct TargetsConvertOptions {
  /// "rate" (targets_rate with `rate`) or "latency" (targets_latency with `latency`).
  /// Default: "rate".
  TORCH_ARG(std::string, code) = "rate";
  TORCH_ARG(TargetsRateOptions, rate) = TargetsRateOptions();
  /// snnTorch's targets_convert drops on_target, off_target, interpolate and epsilon for
  /// "latency" (its defaults apply); here every option is passed on.
  TORCH_ARG(LatencyOptions, latency) = LatencyOptions();
};
/// spikegen.targets_convert: targets_rate or targets_latency of labels [B].
at::Tensor targets_convert(const at::Tensor& targets, int64_t num_classes,
                           const TargetsConvertOptions& options = {});

}  // namespace snn::snntorch::spikegen
