#pragma once
/// \file
/// snnTorch's spike generators (snntorch.spikegen) in C++: rate (Bernoulli) coding,
/// latency coding and delta modulation, and the one-hot targets. As in snnTorch, the
/// generated spike trains are time-first: [num_steps, *data.shape]. Example:
///   auto spikes = snn::snntorch::spikegen::rate(images, RateOptions().num_steps(25));
///   // spikes [25, B, 1, 28, 28]; .transpose(0, 1) for snn.cpp's batch-first layers
#include <ATen/core/Generator.h>
#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include <cstdint>
#include <optional>

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
};
/// spikegen.latency: one spike per element at its latency, [num_steps, *data.shape]; data in
/// [0, 1]. (snnTorch's interpolate option is not offered.)
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

}  // namespace snn::snntorch::spikegen
