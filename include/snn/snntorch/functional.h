#pragma once
/// \file
/// snnTorch's losses, metrics and regulariser (snntorch.functional) in C++, on time-first
/// network outputs as snnTorch takes them: outputs [T, B, C] (spikes or membrane), labels
/// [B] (int64 class indices). Each loss is a free function with an options struct:
///   namespace F = snn::snntorch::functional;
///   auto loss = F::ce_rate_loss(spk_rec, labels, F::CERateLossOptions().weight(w));
///   auto sum = F::ce_count_loss(spk_rec, labels,
///                               F::CECountLossOptions().reduction(F::Reduction::Sum));
///   auto mse = F::mse_count_loss(
///       spk_rec, labels, F::MSECountLossOptions().correct_rate(0.8).incorrect_rate(0.2));
///   double acc = F::accuracy_rate(spk_rec, labels);
///   // snn.cpp's layers are batch-first: pass output.transpose(0, 1).
/// Values and gradients with respect to the output equal snnTorch 1.0.0's, except where
/// snnTorch has a plain bug; each such difference is written next to its option ("snnTorch:").
///
/// Reductions and class weights (every loss that takes `weight`): the per-sample loss is
/// multiplied by weight[label]; "mean" then divides by the number of elements (not by the sum
/// of the weights, as snnTorch does it), except ce_temporal_loss, which is torch's
/// cross_entropy(weight, reduction) as in snnTorch (its "mean" divides by Σ weight[label]).
/// snnTorch: with a weight, reduction "sum" returns the unreduced loss (its intermediate
/// "none" is never summed); here "sum" sums. snnTorch: ce_rate_loss and mse_membrane_loss
/// return shape [1] for "mean" / "sum" without a weight; here every reduced loss is a scalar.
#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace snn::snntorch::functional {

/// How per-sample losses are combined: their mean, their sum, or none (kept per sample).
enum class Reduction { Mean, Sum, None };
/// "mean", "sum" or "none" (anything else is an error that names the value).
Reduction parse_reduction(const std::string& name);

struct CERateLossOptions {
  /// Outputs are num_classes groups of C / num_classes consecutive neurons; each step's
  /// group sums are the logits. Needs num_classes (a divisor of C). Default: false.
  /// snnTorch: population_code does not pool (the loss runs over the C ungrouped outputs
  /// with labels < num_classes), fails without a weight, and takes weight[0] for the first
  /// group and weight[1] for all others; here the groups are pooled and weight has
  /// num_classes entries, as for ce_count_loss.
  TORCH_ARG(bool, population_code) = false;
  /// The number of classes with population_code. Default: 0 (none).
  TORCH_ARG(int64_t, num_classes) = 0;
  TORCH_ARG(Reduction, reduction) = Reduction::Mean;
  /// Class weights [classes]; none: all 1. Default: none.
  TORCH_ARG(std::optional<at::Tensor>, weight) = std::nullopt;
};
/// ce_rate_loss: the cross entropy of every step's output, averaged over the steps:
/// l_b = (1/T) Σ_t w[y_b]·(−log softmax(out[t, b])[y_b]).
at::Tensor ce_rate_loss(const at::Tensor& output, const at::Tensor& labels,
                        const CERateLossOptions& options = {});

struct CECountLossOptions {
  /// The spike counts of num_classes groups of C / num_classes consecutive neurons are the
  /// logits. Needs num_classes (a divisor of C). Default: false.
  TORCH_ARG(bool, population_code) = false;
  TORCH_ARG(int64_t, num_classes) = 0;
  TORCH_ARG(Reduction, reduction) = Reduction::Mean;
  TORCH_ARG(std::optional<at::Tensor>, weight) = std::nullopt;
};
/// ce_count_loss: cross entropy of the spike counts Σ_t out[t] (or their group sums).
at::Tensor ce_count_loss(const at::Tensor& output, const at::Tensor& labels,
                         const CECountLossOptions& options = {});

struct CEMaxMembraneLossOptions {
  TORCH_ARG(Reduction, reduction) = Reduction::Mean;
  TORCH_ARG(std::optional<at::Tensor>, weight) = std::nullopt;
};
/// ce_max_membrane_loss: cross entropy of max_t out[t] (membrane read-outs).
at::Tensor ce_max_membrane_loss(const at::Tensor& output, const at::Tensor& labels,
                                const CEMaxMembraneLossOptions& options = {});

struct MSECountLossOptions {
  /// Target spikes per step of the label's neurons; the target count is
  /// trunc(T · correct_rate) (trunc(T · correct_rate · C / num_classes) per group with
  /// population_code), whole spikes as snnTorch's int(). Default: 1.
  TORCH_ARG(double, correct_rate) = 1.0;
  /// Target spikes per step of the other neurons. Default: 0.
  TORCH_ARG(double, incorrect_rate) = 0.0;
  TORCH_ARG(bool, population_code) = false;
  TORCH_ARG(int64_t, num_classes) = 0;
  TORCH_ARG(Reduction, reduction) = Reduction::Mean;
  /// Class weights: every element of sample b's loss row is multiplied by weight[y_b].
  /// snnTorch: it multiplies the [B, C] loss by weight[labels] ([B]) broadcast over the
  /// classes, which fails unless B = C and then weighs column c by weight[y_c].
  TORCH_ARG(std::optional<at::Tensor>, weight) = std::nullopt;
};
/// mse_count_loss: mean squared error of the spike counts [B, C] against their target
/// counts, divided by T.
at::Tensor mse_count_loss(const at::Tensor& output, const at::Tensor& labels,
                          const MSECountLossOptions& options = {});

struct MSEMembraneLossOptions {
  /// Labels are [T, B]: one label per step. snnTorch: time_var_targets fails (its one-hot
  /// conversion takes [B] only); here step t is held to the one-hot targets of labels[t].
  /// Default: false.
  TORCH_ARG(bool, time_var_targets) = false;
  /// The label's target and the others'. Defaults: 1, 0. snnTorch builds the targets as
  /// clamp(one_hot · on_target, min = off_target), so that an off_target < 0 < on_target
  /// becomes 0; here the targets are on_target and off_target as given.
  TORCH_ARG(double, on_target) = 1.0;
  TORCH_ARG(double, off_target) = 0.0;
  TORCH_ARG(Reduction, reduction) = Reduction::Mean;
  /// Class weights, per sample as in mse_count_loss (snnTorch: the same broadcast bug); not
  /// with time_var_targets.
  TORCH_ARG(std::optional<at::Tensor>, weight) = std::nullopt;
};
/// mse_membrane_loss: (1/T) Σ_t mse(out[t], targets), targets on_target for the label and
/// off_target elsewhere.
at::Tensor mse_membrane_loss(const at::Tensor& output, const at::Tensor& labels,
                             const MSEMembraneLossOptions& options = {});

/// The time step of each neuron's first spike, [B, N] from spikes [T, B, N]; T − 1 where a
/// neuron does not spike. Any nonzero value is a spike (snnTorch multiplies the step by a
/// graded spike's value; the two agree for 0/1 spikes). Gradient (snnTorch's
/// SpikeTime.FirstSpike sign estimator): ∂L/∂spk[t, b, n] = −∂L/∂time[b, n] at
/// t = time[b, n], 0 elsewhere.
at::Tensor first_spike_time(const at::Tensor& spikes);
/// The times of each neuron's first `count` spikes, [count, B, N]; T − 1 for missing ones.
/// Gradient: −∂L/∂time[i, b, n] at t = time[i, b, n] (where times repeat, the last i's).
/// snnTorch (SpikeTime.MultiSpike): after each spike time it zeroes that time step of every
/// neuron of the batch, so that a neuron loses its spikes at the times other neurons spiked;
/// here only the neuron's own spike is removed (the two agree for B = N = 1).
at::Tensor multi_spike_times(const at::Tensor& spikes, int64_t count);

struct CETemporalLossOptions {
  /// How spike times become logits: "negate" (−t) or "reciprocal" (1 / (t + 1)).
  TORCH_ARG(std::string, inverse) = "negate";
  TORCH_ARG(Reduction, reduction) = Reduction::Mean;
  TORCH_ARG(std::optional<at::Tensor>, weight) = std::nullopt;
};
/// ce_temporal_loss: cross entropy of the inverted first spike times [B, N].
at::Tensor ce_temporal_loss(const at::Tensor& output, const at::Tensor& labels,
                            const CETemporalLossOptions& options = {});

struct MSETemporalLossOptions {
  /// `labels` are the target spike times themselves, [B, N] ([F, B, N] with multi_spike),
  /// not class labels. Default: false.
  TORCH_ARG(bool, target_is_time) = false;
  /// Target times (steps; negative: from the end, −1 is T − 1) of the label's neuron and of
  /// the others, one entry per spike (one entry without multi_spike). Defaults: {0}, {−1}.
  /// snnTorch builds them as clamp(one_hot · on_target, min = off_target), so that the
  /// defaults (0, −1) give every neuron the target 0; here the label's neuron gets
  /// on_target and the others off_target.
  TORCH_ARG(std::vector<double>, on_target) = std::vector<double>{0.0};
  TORCH_ARG(std::vector<double>, off_target) = std::vector<double>{-1.0};
  /// Spike times within this many steps of their target count as the target (the
  /// gradient passes unchanged). Default: 0 (off).
  TORCH_ARG(double, tolerance) = 0.0;
  /// Hold the first on_target.size() spikes of each neuron (multi_spike_times) to their
  /// targets. Default: false.
  TORCH_ARG(bool, multi_spike) = false;
  TORCH_ARG(Reduction, reduction) = Reduction::Mean;
  /// Class weights, per sample (needs class labels, not target_is_time). snnTorch: the same
  /// broadcast bug as mse_count_loss's.
  TORCH_ARG(std::optional<at::Tensor>, weight) = std::nullopt;
};
/// mse_temporal_loss: mse(spike times / T, target times / T).
at::Tensor mse_temporal_loss(const at::Tensor& output, const at::Tensor& targets,
                             const MSETemporalLossOptions& options = {});

/// l1_rate_sparsity: lambda · Σ spikes (any shape). snnTorch's default lambda: 1e-5.
at::Tensor l1_rate_sparsity(const at::Tensor& spikes, double lambda = 1e-5);

struct AccuracyRateOptions {
  TORCH_ARG(bool, population_code) = false;
  TORCH_ARG(int64_t, num_classes) = 0;
};
/// accuracy_rate: the fraction of samples whose most-spiking class (or group) is the label
/// (ties: the first such class).
double accuracy_rate(const at::Tensor& output, const at::Tensor& labels,
                     const AccuracyRateOptions& options = {});
/// accuracy_temporal: the fraction of samples whose first-spiking neuron is the label
/// (non-spiking neurons count as spiking at T − 1; ties: the first).
double accuracy_temporal(const at::Tensor& output, const at::Tensor& labels);

}  // namespace snn::snntorch::functional
