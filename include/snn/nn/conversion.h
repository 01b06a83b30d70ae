#pragma once
/// \file
/// ANN → SNN conversion, as Sinabs' `from_model` does it: every ReLU of a trained ANN
/// becomes an integrate-and-fire layer (snn::IAFSqueeze) with the weights kept, and the
/// weight normalisation Sinabs documents for it (`sinabs.utils.normalize_weights`, after
/// Rueckauer et al., 2017). The converted network takes squeezed input [B·T, ...] (e.g. a
/// sequence of frames, batch-major), as Sinabs' converted networks do.
#include <torch/arg.h>
#include <torch/nn/modules/container/sequential.h>

#include <optional>
#include <string>
#include <vector>

#include "snn/nn/neuron_options.h"

namespace snn {

/// Options of snn::from_model (Sinabs' names and defaults). Example:
/// `snn::from_model(ann, snn::FromModelOptions().batch_size(4).spike_threshold(2.0))`.
struct FromModelOptions {
  /// Spike threshold of every IAF layer. Must be > 0. Default: 1.0.
  TORCH_ARG(double, spike_threshold) = 1.0;
  /// Spike function. Default: MultiSpike.
  TORCH_ARG(SpikeFn, spike_fn) = MultiSpike{};
  /// Reset mechanism. Default: MembraneSubtract.
  TORCH_ARG(ResetFn, reset_fn) = MembraneSubtract{};
  /// Surrogate gradient. Default: SingleExponential{0.5, 1.0}.
  TORCH_ARG(Surrogate, surrogate) = SingleExponential{};
  /// Lower bound of the membrane potential; none: unbounded. Default: -1.0 (as Sinabs).
  TORCH_ARG(std::optional<double>, min_v_mem) = -1.0;
  /// Biases of every Linear and Conv2d are divided by this value. Default: 1.0.
  TORCH_ARG(double, bias_rescaling) = 1.0;
  /// Batch size B of the squeezed input; one of batch_size and num_timesteps is required.
  TORCH_ARG(std::optional<int64_t>, batch_size) = std::nullopt;
  /// Number of time steps T of the squeezed input. Default: none.
  TORCH_ARG(std::optional<int64_t>, num_timesteps) = std::nullopt;
  /// Append a spiking layer "spike_output" when the model does not end in a ReLU.
  /// Default: false.
  TORCH_ARG(bool, add_spiking_output) = false;
};

/// A deep copy of `ann` in which every torch::nn::ReLU of the Sequential is an
/// snn::IAFSqueeze with the given options, under the same name; every other module is
/// cloned with its weights. (LibTorch's Sequential cannot hold a Sequential, so the
/// children are the whole model.) A ReLU inside another module cannot be replaced from
/// outside and is an error naming it.
torch::nn::Sequential from_model(const torch::nn::Sequential& ann,
                                 const FromModelOptions& options = {});

/// Scales the parameters of each `param_layers[i]` (children of `ann`, by name) so that the
/// `percentile` of the activity of `output_layers[i]` on `sample_data` becomes 1, layer
/// after layer, as sinabs.utils.normalize_weights does. percentile in (0, 100]; the
/// percentile is numpy's default (linear interpolation).
void normalize_weights(torch::nn::Sequential& ann, const at::Tensor& sample_data,
                       const std::vector<std::string>& output_layers,
                       const std::vector<std::string>& param_layers, double percentile = 99.0);

}  // namespace snn
