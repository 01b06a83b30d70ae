#pragma once
/// \file
/// An embedded spoken-digits dataset in the shape of the Heidelberg spiking digits (SHD),
/// made on this machine: the digits 0–9 spoken in English and German (20 classes: label d
/// is English digit d, label 10 + d German digit d, as in SHD), synthesised with eSpeak NG
/// across its voice variants, speeds, pitches and pitch ranges, with a random gain and
/// background noise, and turned into spikes by snn::audio's cochlea (700 channels).
///
/// Written in SHD's HDF5 layout (spikes/times, spikes/units, labels, extra/speaker,
/// extra/keys), so snn::events::HSDFile, snn::data::SHD and Tonic's SHD reader read it as
/// they read SHD. Train and test are split by voice, as SHD splits by speaker: no test
/// voice is heard in training (extra/speaker is the voice's index in spoken_digit_voices()).
///
/// Deterministic: the same options give byte-identical files. Each utterance is
/// synthesised by the helper program snn-speak (beside libsnn.so in the build tree,
/// libexec/snn/ when installed; $SNN_SPEAK overrides) in a process forked from one where
/// eSpeak NG was initialised and never spoke (eSpeak carries state from one utterance to the
/// next), with its own seed.
#include <torch/arg.h>

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "snn/audio/cochlea.h"

namespace snn::data {

struct SpokenDigitsOptions {
  /// Seed of the speaking rates, pitches, gains and noise. Default: 0.
  TORCH_ARG(uint64_t, seed) = 0;
  /// Voice variants used (the first of spoken_digit_voices()); at most their number.
  /// Default: 64 (all).
  TORCH_ARG(int64_t, voices) = 64;
  /// Utterances per voice, digit and language. Default: 3.
  TORCH_ARG(int64_t, renditions) = 3;
  /// One voice in every test_every consecutive ones is held out for the test file, at a
  /// position that rotates from group to group (voice v when v % test_every ==
  /// (v / test_every) % test_every), so the test voices mix male, female and other voices as
  /// the whole list does. Default: 4.
  TORCH_ARG(int64_t, test_every) = 4;
  /// Background noise: signal-to-noise ratio drawn from [min_snr_db, max_snr_db]. Defaults:
  /// 10, 30 dB.
  TORCH_ARG(double, min_snr_db) = 10.0;
  TORCH_ARG(double, max_snr_db) = 30.0;
  /// Utterances per CMU Flite voice (kal, kal16, awb, rms, slt: voices made from recordings
  /// of people) and English digit, all in the training file (Flite speaks English only;
  /// extra/speaker 64 + the voice's index in spoken_digit_flite_voices()). 0: none.
  /// Default: 12.
  TORCH_ARG(int64_t, flite_renditions) = 12;
  /// Augmentation towards real recordings, drawn per utterance from its seed: speed and
  /// vocal-tract length (the samples played 0.88–1.12× as fast: pitch, formants and duration
  /// move together), microphone colouring (a high-pass and random peaking equalisers), room
  /// reverberation (half the utterances), background noises of several kinds (white, pink,
  /// brown, babble, mains hum) and 8-kHz recordings (half the utterances: nothing above
  /// 4 kHz, as in telephone and low-bandwidth recordings). Off: only the noise and gain
  /// above. Default: true.
  TORCH_ARG(bool, augment) = true;
  /// Parallel synthesis and encoding; 0: the hardware's threads. Default: 0.
  TORCH_ARG(int64_t, threads) = 0;
  TORCH_ARG(audio::CochleaOptions, cochlea) = audio::CochleaOptions();
};

/// The paths of the two files.
struct SpokenDigitsFiles {
  std::string train, test;
};

/// The voice variants in use, in order (eSpeak NG's variant names, e.g. "m3", "f2", "klatt").
std::vector<std::string> spoken_digit_voices();
/// CMU Flite's voices in use, in order ("kal", "kal16", "awb", "rms", "slt").
std::vector<std::string> spoken_digit_flite_voices();
/// The 20 class names, label order ("english zero" … "german neun").
std::vector<std::string> spoken_digit_keys();
/// A text that names everything deciding the files' content (the cache key).
std::string spoken_digits_key(const SpokenDigitsOptions& options);

/// Makes spoken_digits_train.h5 and spoken_digits_test.h5 in `directory` (created if
/// needed), or returns them as they are when a previous call with the same options made
/// them (spoken_digits.key beside them holds spoken_digits_key). Files are written
/// atomically. `progress(done, total)` is called as utterances are finished.
SpokenDigitsFiles make_spoken_digits(
    const std::string& directory, const SpokenDigitsOptions& options = {},
    const std::function<void(int64_t, int64_t)>& progress = {});

}  // namespace snn::data
