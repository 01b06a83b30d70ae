#pragma once
/// \file
/// The tutorial models and their data, ready to train: the SHD tutorial's MLP with IAF,
/// LIF or ALIF neurons, and SHD-layout files binned into frames as the tutorial bins them
/// (Tonic's Downsample to 140 channels, then ToFrame with 70 time bins per sample).
#include <torch/arg.h>
#include <torch/nn/modules/container/sequential.h>

#include <optional>
#include <string>
#include <vector>

#include "snn/data/event_datasets.h"
#include "snn/nn/neuron_options.h"
#include "snn/train/trainer.h"

namespace snn::train {

/// The neuron models of the tutorial's comparison.
enum class NeuronKind { IAF, LIF, ALIF };
/// "iaf", "lif" or "alif" (any case); throws naming the allowed values otherwise.
NeuronKind parse_neuron_kind(const std::string& name);
/// "iaf", "lif", "alif".
std::string neuron_kind_name(NeuronKind kind);
/// Every kind's name, in the order of the enum: {"iaf", "lif", "alif"}.
std::vector<std::string> neuron_kind_names();

/// The neurons of a preset network: every neuron layer of it is of one kind, with these
/// constants. LIF and ALIF take tau_mem (ALIF also tau_adapt and adapt_scale), IAF neither.
struct PresetNeurons {
  TORCH_ARG(NeuronKind, kind) = NeuronKind::IAF;
  /// Membrane time constant, in time steps (LIF, ALIF). Default: 20.
  TORCH_ARG(double, tau_mem) = 20.0;
  /// Adaptation time constant, in time steps (ALIF). Default: 100.
  TORCH_ARG(double, tau_adapt) = 100.0;
  /// Threshold adaptation per spike (ALIF). Default: 1.8.
  TORCH_ARG(double, adapt_scale) = 1.8;
  /// LIF / ALIF scale their input by (1 - α) (Sinabs' default). Default: true.
  TORCH_ARG(bool, norm_input) = true;
  /// Synaptic time constant in time steps (every kind); none: no synapse. Default: none.
  TORCH_ARG(std::optional<double>, tau_syn) = std::nullopt;
  /// Spike threshold (ALIF: its base b0). Default: 1.
  TORCH_ARG(double, spike_threshold) = 1.0;
  /// Lower bound of the membrane; none: unbounded. Default: none.
  TORCH_ARG(std::optional<double>, min_v_mem) = std::nullopt;
  /// Spike function; none: the kind's own (MultiSpike; ALIF SingleSpike). Default: none.
  TORCH_ARG(std::optional<SpikeFn>, spike_fn) = std::nullopt;
  /// Reset mechanism. Default: MembraneSubtract.
  TORCH_ARG(ResetFn, reset_fn) = MembraneSubtract{};
  /// Surrogate gradient. Default: SingleExponential(grad_width=0.5, grad_scale=1).
  TORCH_ARG(Surrogate, surrogate) = SingleExponential{};
  /// Every neuron layer keeps its states of every step (recordings()). Default: false.
  TORCH_ARG(bool, record_states) = false;
};

/// The SHD tutorial's MLP: Linear(inputs → hidden) → neuron → Linear(hidden → hidden) →
/// neuron → Linear(hidden → outputs) → neuron, batch-first [B, T, inputs] → spikes
/// [B, T, outputs], its neurons as `neurons` says. With `delays` / `hidden_delays`, a
/// snn::DelayLine before the first / second Linear gives each of its synapses those delays
/// (the Linear then has K times the inputs). Example:
/// `snn::train::shd_mlp(snn::train::MLPOptions().neurons(PresetNeurons().kind(NeuronKind::LIF)))`.
struct MLPOptions {
  TORCH_ARG(PresetNeurons, neurons);
  TORCH_ARG(int64_t, inputs) = 140;
  TORCH_ARG(int64_t, hidden) = 64;
  TORCH_ARG(int64_t, outputs) = 20;
  /// The Linear layers have biases (the SHD tutorial's have none). Default: true.
  TORCH_ARG(bool, bias) = true;
  /// Synaptic delays (time steps) of the input → hidden synapses; empty: none. Default: none.
  TORCH_ARG(std::vector<int64_t>, delays);
  /// Synaptic delays of the hidden → hidden synapses; empty: none. Default: none.
  TORCH_ARG(std::vector<int64_t>, hidden_delays);
};
torch::nn::Sequential shd_mlp(const MLPOptions& options);

/// The convolutional SNN of Sinabs' tutorials (the synops tutorial's network): frames
/// [B, T, 1, 28, 28] → spikes [B, T, 10] through
///   FlattenTime → Conv2d(1→16, k5) → IAFSqueeze → SumPool2d(2) → Conv2d(16→32, k5)
///   → IAFSqueeze → SumPool2d(2) → Conv2d(32→120, k4) → IAFSqueeze → Flatten
///   → Linear(120→10) → IAFSqueeze → UnflattenTime,
/// no biases, every IAF bounded below at min_v_mem = -1, the Squeeze layers split by
/// `batch_size`. `average_pool`: AvgPool2d(2) in place of SumPool2d(2).
torch::nn::Sequential tutorial_conv_snn(int64_t batch_size, bool average_pool = false);

/// A convolutional SNN for event-camera frames [B, T, C, H, W] → spikes [B, T, outputs]:
/// three blocks of Repeat(Conv2d 3×3, padding 1, no bias) → neuron → Repeat(SumPool2d(2)),
/// with 16, 32 and 64 channels, then Flatten → Linear(64·(H/8)·(W/8) → outputs) → neuron.
/// Batch-first throughout (no Squeeze layers), so any batch size runs. Example:
/// `dvs_conv(ConvOptions().channels(2).height(32).width(32).outputs(11))`.
struct ConvOptions {
  /// Default: IAF; norm_input false here: camera frames hold a few events per pixel and
  /// step, which a normalised LIF / ALIF neuron never integrates up to its threshold.
  TORCH_ARG(PresetNeurons, neurons) = PresetNeurons().norm_input(false);
  /// Input channels (polarities), height and width. Defaults: 2, 32, 32.
  TORCH_ARG(int64_t, channels) = 2;
  TORCH_ARG(int64_t, height) = 32;
  TORCH_ARG(int64_t, width) = 32;
  TORCH_ARG(int64_t, outputs) = 11;
};
torch::nn::Sequential dvs_conv(const ConvOptions& options);

/// Every sample of an event dataset (N-MNIST, DVS Gesture, ...) as frames: Downsample by
/// `spatial_factor` (when not 1) and ToFrame(n_time_bins = time_bins), event counts
/// [N, time_bins, polarities, H, W] stored as uint8 (a count above 255 saturates; the
/// Trainer converts each batch to float), and the labels [N].
Dataset event_frames(const data::EventDataset& dataset, int64_t time_bins,
                     double spatial_factor = 1.0);

/// Every sample of an SHD-layout file (SHD, SSC, the embedded spoken digits) as frames,
/// float counts [N, time_bins, channels], and the labels [N]. The channels are summed by
/// Downsample(spatial_factor = channels / 700) (channels dividing 700: neighbours summed).
///   bin_ms = 0: ToFrame(n_time_bins = time_bins), the bins stretched over each sample.
///   bin_ms > 0: the SHD tutorial's (AMLD) pipeline: CropTime(max = time_bins·bin_ms ms),
///     ToFrame(time_window = 1 ms) from the sample's first event (Tonic drops the last,
///     incomplete millisecond, and so does this), zero-padded to time_bins·bin_ms frames,
///     then summed in groups of bin_ms frames. Example: bin_ms 10, time_bins 70: 700 ms in
///     10-ms bins.
Dataset hsd_frames(const std::string& path, int64_t channels = 140, int64_t time_bins = 70,
                   int64_t bin_ms = 0);

}  // namespace snn::train
