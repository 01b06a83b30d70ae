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

/// The neuron models a preset network can have: Sinabs' IAF, LIF and ALIF (the tutorial's
/// comparison) and snnTorch's Leaky, Synaptic, Lapicque, Alpha, RLeaky and RSynaptic
/// (snn::snntorch, their constants from the same time constants, see PresetNeurons).
enum class NeuronKind { IAF, LIF, ALIF, Leaky, Synaptic, Lapicque, Alpha, RLeaky, RSynaptic };
/// "iaf", "lif", "alif", "leaky", "synaptic", "lapicque", "alpha", "rleaky" or "rsynaptic"
/// (any case); throws naming the allowed values otherwise.
NeuronKind parse_neuron_kind(const std::string& name);
/// The kind's name, e.g. "lif".
std::string neuron_kind_name(NeuronKind kind);
/// The kind as its library writes it, e.g. "LIF", "RLeaky".
std::string neuron_kind_title(NeuronKind kind);
/// Every kind's name, in the order of the enum.
std::vector<std::string> neuron_kind_names();
/// The kinds of the tutorial's comparison, snn compare's default: {"iaf", "lif", "alif"}.
std::vector<std::string> default_comparison();
/// Whether the kind is one of snnTorch's (snn::snntorch layers).
bool is_snntorch_kind(NeuronKind kind);

/// The neurons of a preset network: every neuron layer of it is of one kind, with these
/// constants. LIF and ALIF take tau_mem (ALIF also tau_adapt and adapt_scale), IAF neither.
/// snnTorch's kinds take their decays from the time constants, β = exp(-1/tau_mem):
///   leaky, rleaky: beta;  lapicque: beta (R = 1, time_step = 1: the input scaled by 1 - β);
///   synaptic, rsynaptic: beta and alpha = exp(-1/tau_syn);
///   alpha: alpha = exp(-1/tau_mem) and beta = exp(-1/tau_syn), tau_syn < tau_mem;
///   tau_syn none: tau_mem / 2 for those that have a synapse (leaky, rleaky, lapicque take
///   none: a tau_syn is an error). rleaky / rsynaptic: an all-to-all recurrent Linear (MLP)
///   or Conv2d 3×3 (convolutional presets) over the layer's own spikes.
/// Their spike is snnTorch's Heaviside (spike_fn must be unset or HeavisideSpike); reset
/// MembraneSubtract() (θ), MembraneReset() (reset_value 0) or NoReset; no min_v_mem;
/// norm_input is Sinabs' and does not apply.
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
  /// Surrogate gradient; none: the kind's own (Sinabs' kinds SingleExponential(grad_width=0.5,
  /// grad_scale=1), snnTorch's ATan(alpha=2)). Default: none.
  TORCH_ARG(std::optional<Surrogate>, surrogate) = std::nullopt;
  /// Every neuron layer keeps its states of every step (recordings()). Default: false.
  TORCH_ARG(bool, record_states) = false;
};

/// Throws naming the value when the constants do not fit the kind (a time constant <= 0;
/// for snnTorch's kinds a spike function, reset, min_v_mem or tau_syn they do not take).
/// The presets call it; a program that reads constants from a user can call it first.
void check_neurons(const PresetNeurons& neurons);

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

/// Audio events (700 cochlea channels, as snn::audio::encode_audio makes them) as frames,
/// the same way as hsd_frames: [N, time_bins, channels] and the labels [N].
Dataset audio_frames(const std::vector<events::Events>& samples,
                     const std::vector<int64_t>& labels, int64_t channels = 140,
                     int64_t time_bins = 70, int64_t bin_ms = 0);

}  // namespace snn::train
