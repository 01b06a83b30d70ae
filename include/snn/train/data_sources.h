#pragma once
/// \file
/// Named data sources for training: each turns a folder of files (or the embedded
/// spoken digits) into frames ready for the Trainer. The CLI (`snn train --data NAME`)
/// and C++ programs choose a source by name; a program adds its own with
/// register_data_source. Built in:
///   spoken-digits  the embedded spoken digits (made once into `path`, by default the
///                  cache folder default_spoken_digits_dir()), SHD's layout
///   shd, ssc       SHD / SSC: `path` holds shd_train.h5 and shd_test.h5 (ssc_...)
///   nmnist         N-MNIST: `path` holds Train/ and Test/, as Tonic unpacks them
///   dvs-gesture    DVS Gesture: `path` holds user*.aedat, the _labels.csv files and
///                  trials_to_train.txt / trials_to_test.txt
///   audio          a folder of sound files (WAV, FLAC, OGG, AIFF, ...): labels from the
///                  subfolder names (one folder per class) or label_regex over the file
///                  names; the test split by speaker (speaker_regex, test_speakers), by a
///                  list (test_list) or by a fraction of each class (test_fraction); encoded
///                  by the cochlea once and cached by content (audio_cache_dir())
/// Audio sources give frames [N, T, channels]; camera sources [N, T, P, H, W] (uint8
/// counts, made float per batch by the Trainer).
#include <torch/arg.h>

#include <functional>
#include <string>
#include <vector>

#include "snn/events/events.h"
#include "snn/train/trainer.h"

namespace snn::train {

/// What a source is asked for. Fields a source does not use are ignored.
struct DataOptions {
  /// The source's name (data_source_names()). Default: "spoken-digits".
  TORCH_ARG(std::string, source) = "spoken-digits";
  /// The folder of the files; spoken-digits: where they are made (empty: the cache folder).
  TORCH_ARG(std::string, path) = "";
  /// Audio: channels after Downsample (700 / channels neighbours summed). Default: 140.
  TORCH_ARG(int64_t, channels) = 140;
  /// Time bins per sample. Default: 35.
  TORCH_ARG(int64_t, time_bins) = 35;
  /// Audio: 0 stretches time_bins bins over each sample (Tonic's ToFrame(n_time_bins));
  /// > 0: bins of this many ms from the sample's first event over time_bins·bin_ms ms,
  /// the SHD tutorial's pipeline (see snn::train::hsd_frames). Default: 0.
  TORCH_ARG(int64_t, bin_ms) = 0;
  /// Camera: Downsample factor in (0, 1]; 0: the source's own (DVS Gesture 0.25, else 1).
  TORCH_ARG(double, spatial_factor) = 0.0;
  /// spoken-digits: voices (2 .. 64) and renditions per voice, digit and language.
  TORCH_ARG(int64_t, voices) = 64;
  TORCH_ARG(int64_t, renditions) = 3;
  /// spoken-digits: utterances per Flite voice and English digit (training only), and the
  /// augmentation towards real recordings (see snn::data::SpokenDigitsOptions).
  TORCH_ARG(int64_t, flite_renditions) = 12;
  TORCH_ARG(bool, augment) = true;
  /// audio: a regular expression searched in each file's name (not its folder); its first
  /// group (else the whole match) is the label. Empty: the label is the file's subfolder
  /// (one per class). Example, FSDD's 7_jackson_32.wav: "^([0-9]+)_".
  TORCH_ARG(std::string, label_regex) = "";
  /// audio: a regular expression whose first group (else whole match) in the file name is
  /// the speaker, for test_speakers. Example, FSDD: "^[0-9]+_([a-z]+)_".
  TORCH_ARG(std::string, speaker_regex) = "";
  /// audio: the speakers whose files are the test split (needs speaker_regex).
  TORCH_ARG(std::vector<std::string>, test_speakers) = {};
  /// audio: a text file listing the test files (paths relative to `path`, one per line;
  /// '#' starts a comment). Takes precedence over test_speakers.
  TORCH_ARG(std::string, test_list) = "";
  /// audio: with neither test_list nor test_speakers, this fraction of each class (at least
  /// one file) is the test split, chosen by a hash of the file's path (stable when files
  /// are added). Default: 0.2.
  TORCH_ARG(double, test_fraction) = 0.2;
  /// audio: every file is a test file and the training split is empty (evaluating a trained
  /// model on a folder: snn eval --data audio). Default: false.
  TORCH_ARG(bool, all_test) = false;
  /// Told what is being read or made (e.g. for a progress line); may be empty.
  TORCH_ARG(std::function<void(const std::string&)>, log);
};

/// A source's data, ready for the Trainer.
struct TrainingData {
  Dataset train, test;
  /// 1 + the largest label of either split.
  int64_t classes = 0;
  /// One sample's frame shape: {channels} (audio) or {polarities, H, W} (camera).
  std::vector<int64_t> frame;
  /// The classes' names, label order (the files' keys; "0", "1", ... where they have none).
  std::vector<std::string> class_names;
  /// Test sample 0 as events, and a name for it (its class), for reports.
  events::Events sample;
  std::string sample_name;
};

/// A named source.
struct DataSource {
  std::string name;
  /// One line: what it reads and where the files must be.
  std::string description;
  /// Camera events (frames [P, H, W]) rather than audio (frames [channels]).
  bool camera = false;
  std::function<TrainingData(const DataOptions&)> load;
  /// Camera: the Downsample factor used when DataOptions::spatial_factor is 0.
  double spatial_factor = 1.0;
};

/// Adds a source (its name must be new); later lookups find it. Thread-safe.
void register_data_source(DataSource source);
/// The names of every source, built-in ones first.
std::vector<std::string> data_source_names();
/// The source of that name; throws naming the known ones.
DataSource data_source(const std::string& name);
/// data_source(options.source()).load(options), with the options checked first.
TrainingData load_data(const DataOptions& options);

/// Where the audio source caches encoded folders: $SNN_CACHE_DIR/data/audio, else
/// ~/.cache/snn.cpp/data/audio.
std::string audio_cache_dir();

/// Where the CLI makes the embedded spoken digits: $SNN_CACHE_DIR/data/spoken-digits, else
/// ~/.cache/snn.cpp/data/spoken-digits.
std::string default_spoken_digits_dir();

}  // namespace snn::train
