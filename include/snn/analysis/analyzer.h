#pragma once
/// \file
/// Synaptic operations (synops) and firing rates of a spiking model, as Sinabs'
/// SNNAnalyzer computes them, and differentiable, so that they can be a loss term.
///
/// The analyzer runs the model (`forward`), and on the way it notes
///   - for every spiking layer (a neuron layer whose model emits spikes: IAF, LIF, ALIF and
///     their Squeeze and Recurrent forms; not ExpLeak) its output spikes, as [B, T, *features];
///   - for every torch::nn::Linear and torch::nn::Conv2d (a *parameter layer*) its input.
/// From these (Sinabs' definitions; B batch, T time steps):
///   n_neurons               neurons per time step: the product of the feature shape
///   firing_rate             spikes per neuron and time step: output.mean()
///   firing_rate_per_neuron  output.mean over (B, T): [*features]
///   synops (Linear)         Σ_features (input summed over T).mean over B · out_features
///   synops (Conv2d)         Σ (input summed over T · fan-out).mean over B, where the fan-out
///                           of an input pixel is the number of output values it reaches
///                           (kernel, stride, padding, dilation, groups and the image edges
///                           included; computed once per input shape)
///   synops after AvgPool2d  × kernel area of every AvgPool2d since the previous parameter
///                           layer (average pooling scales the activity down; sum pooling,
///                           snn::SumPool2d, does not)
///   synops_per_second       synops / T / dt · 1000 (dt in ms)
/// Synops count per sample over the whole sequence. In a model with Squeeze layers the
/// parameter layers' input [B·T, ...] is split by the last Squeeze layer's options, as
/// Sinabs does; otherwise a Linear's input of three or more dimensions has time in
/// dimension 1, and a 2-D input has none (T = 0).
///
/// Values of the last batch carry the autograd graph to the weights (a synops or firing-
/// rate loss); averages over the batches since construction or `reset()` (`average =
/// true`) are detached, so a loss of one batch never reaches into the graph of another.
///
/// Model statistics: firing_rate is the mean of every spiking neuron's rate (the
/// firing_rate_per_neuron of all layers together), synops the sum over the parameter
/// layers, n_spiking_neurons the sum of n_neurons. (Sinabs' get_model_statistics sums the
/// synops before the AvgPool2d correction; snn.cpp sums the corrected per-layer values.
/// The two agree for models without AvgPool2d.)
///
/// The model is a torch::nn::Sequential; Sequentials nested in it (snn::NestedSequential,
/// or any other subclass of torch::nn::SequentialImpl) are walked too, with names such as
/// "1.0" as named_modules() gives them. A module with a forward of its own cannot be looked
/// into (LibTorch has no forward hooks): if it holds parameter or spiking layers, the
/// analyzer refuses it by name. Linear layers inside a Recurrent layer's connection are not
/// counted. A Linear or Conv2d inside snn::Repeat (batch-first convolutions) is counted per
/// sample over the sequence, with time in dimension 1 of the Repeat's input; Sinabs' hook
/// sees the flattened [B·T, ...] input there and reports the per-step average instead.
///
/// Example:
///   snn::analysis::Analyzer analyzer(model);
///   auto out = analyzer.forward(input);           // as model->forward(input)
///   auto loss = torch::nn::functional::cross_entropy(out.sum(1), labels)
///               + 1e-6 * analyzer.model_statistics().synops;
#include <ATen/core/Tensor.h>
#include <torch/nn/modules/container/sequential.h>

#include <map>
#include <memory>
#include <string>
#include <vector>

namespace snn::analysis {

/// One spiking layer.
struct SpikingLayerStatistics {
  /// The layer's path in the model, as named_modules() gives it (e.g. "2", "block.1").
  std::string name;
  /// Neurons per time step (the product of the feature shape).
  int64_t n_neurons = 0;
  /// The output spikes of the last batch, [B, T, *features] (with graph).
  at::Tensor output;
  /// Spikes per neuron and time step (scalar).
  at::Tensor firing_rate;
  /// Spikes per time step of each neuron, [*features].
  at::Tensor firing_rate_per_neuron;
};

/// One parameter layer (Linear or Conv2d).
struct ParameterLayerStatistics {
  std::string name;
  /// Synaptic operations per sample over the sequence (scalar), AvgPool2d-corrected.
  at::Tensor synops;
  /// T (0: the input had no time dimension).
  int64_t num_timesteps = 0;
  /// T · dt, in ms.
  double time_window = 0.0;
  /// synops / T / dt · 1000.
  at::Tensor synops_per_second;
};

/// The model as a whole.
struct ModelStatistics {
  /// Mean firing rate over every spiking neuron.
  at::Tensor firing_rate;
  /// Sum of the parameter layers' synops.
  at::Tensor synops;
  /// Sum of the spiking layers' n_neurons.
  int64_t n_spiking_neurons = 0;
};

class Analyzer {
 public:
  /// `dt`: the duration of one time step in ms (for synops_per_second). Throws when the
  /// model has no spiking layer, or a module that hides parameter or spiking layers.
  explicit Analyzer(torch::nn::Sequential model, double dt = 1.0);
  ~Analyzer();
  Analyzer(Analyzer&&) noexcept;
  Analyzer& operator=(Analyzer&&) noexcept;

  /// Runs the model on `input` (as model->forward(input)) and notes every layer's
  /// activity: the values of this batch, and (detached) their running averages.
  at::Tensor forward(const at::Tensor& input);

  /// Per spiking layer, in model order: the last batch's values (average = false) or the
  /// means over the batches since the last reset (average = true; output is the last
  /// batch's). Throws before the first forward.
  std::vector<SpikingLayerStatistics> spiking_layers(bool average = false) const;
  /// Per parameter layer, in model order (as spiking_layers).
  std::vector<ParameterLayerStatistics> parameter_layers(bool average = false) const;
  /// The model totals (as spiking_layers).
  ModelStatistics model_statistics(bool average = false) const;

  /// Forgets every batch (the averages start again); the model is untouched.
  void reset();
  /// The batches noted since construction or the last reset.
  int64_t n_batches() const;
  double dt() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace snn::analysis
