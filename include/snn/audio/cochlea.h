#pragma once
/// \file
/// A cochlear front end: audio → spike events per frequency channel, as the Heidelberg
/// spiking datasets (SHD) were made from speech (there by a model of the inner ear; here a
/// simpler one, with the same output: 700 channels of spikes).
///
/// Per channel c (centre frequencies fc on a log scale from min_frequency to
/// max_frequency):
///   1. a gammatone-like band-pass: four complex one-pole stages with pole
///      a·e^{iω}, ω = 2π·fc/fs and a = exp(-2π·b/fs), b = bandwidth_scale·ERB(fc),
///      ERB(f) = 24.7·(4.37·f/1000 + 1) Hz; unit gain at fc; its real part is the output;
///   2. half-wave rectification and compression: r = max(y, 0)^(1/4);
///   3. a spiking unit: integrate-and-fire with a leak, v ← leak·v + gain·max(r - floor, 0),
///      a spike when v ≥ 1 (v ← v - 1), at most one per sample.
/// The input is resampled to sample_rate first (windowed sinc) and scaled to unit RMS
/// (silent input gives no spikes), so that loudness does not decide the spike counts.
/// Arithmetic is float32 in a fixed order: the same samples give the same spikes, bit for
/// bit, on every x86-64 CPU (the library builds with -ffp-contract=off).
#include <torch/arg.h>

#include <cstdint>
#include <vector>

#include "snn/events/events.h"

namespace snn::audio {

struct CochleaOptions {
  /// Frequency channels (event x, 0 … channels-1, low to high). Default: 700 (SHD's).
  TORCH_ARG(int64_t, channels) = 700;
  /// Lowest and highest centre frequency, Hz. Defaults: 100, 5000.
  TORCH_ARG(double, min_frequency) = 100.0;
  TORCH_ARG(double, max_frequency) = 5000.0;
  /// Bandwidth of each channel in ERBs. Default: 1.019 (the gammatone's).
  TORCH_ARG(double, bandwidth_scale) = 1.019;
  /// The filterbank's sample rate, Hz; must exceed 2·max_frequency. Default: 11025.
  TORCH_ARG(double, sample_rate) = 11025.0;
  /// Input gain of the spiking units (per sample). Default: 0.08.
  TORCH_ARG(double, spike_gain) = 0.08;
  /// Compressed level below which a unit receives nothing. Default: 0.35.
  TORCH_ARG(double, floor) = 0.35;
  /// Leak of the spiking units per sample. Default: 0.995.
  TORCH_ARG(double, leak) = 0.995;
};

/// The centre frequencies of the channels, Hz, low to high.
std::vector<double> centre_frequencies(const CochleaOptions& options);

/// `samples` (mono, any scale) at `sample_rate` Hz → events t (µs from the first sample),
/// x (channel), p = 1; no y column; sensor (channels, 1, 1). Ordered by time, then channel.
events::Events encode_audio(const std::vector<float>& samples, double sample_rate,
                            const CochleaOptions& options = {});

/// Band-limited resampling (Kaiser-windowed sinc, cut-off at the lower Nyquist frequency).
std::vector<float> resample(const std::vector<float>& samples, double from_rate, double to_rate);

/// Reads a sound file (WAV, FLAC, ... through libsndfile), mixed down to mono; returns the
/// samples and sets `sample_rate`. Throws, naming the file, when it cannot be read.
std::vector<float> read_audio(const std::string& path, double& sample_rate);

/// Whether the file name has the extension of a sound file read_audio can read (.wav, .flac,
/// .ogg, .aiff, .au, .caf, .w64, .mp3, .opus, ...; case ignored).
bool is_sound_file(const std::string& path);
/// Every sound file under `folder` (recursively; hidden files and folders skipped), as
/// paths relative to it ('/'-separated), sorted. Throws, naming the folder, when it is not
/// one or holds no sound file.
std::vector<std::string> list_sound_files(const std::string& folder);

}  // namespace snn::audio
