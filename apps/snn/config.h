#pragma once
// The configuration of a run (config.toml of a run directory): one table of fields
// (config.cpp) drives the defaults, the presets, reading TOML files, the command-line
// flags, validation, the TOML written into a run directory, --help and `snn config keys`
// (the README's list of keys is that command's output). Adding a key is one row there
// and one member here.
#include <CLI/CLI.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "snn/train/presets.h"

namespace snn_cli {

// Every value of a run; config.cpp's table gives each its key, default and checks.
// Build one with defaults(preset), never by hand.
struct RunConfig {
  // [data]
  std::string source, data_path;
  int64_t channels, time_bins, bin_ms;
  double spatial_factor;
  int64_t voices, renditions, flite_renditions;
  bool augment;
  std::string label_regex, speaker_regex;
  std::vector<std::string> test_speakers;
  std::string test_list;
  double test_fraction;
  // [model]
  std::string preset, neuron;
  int64_t hidden;
  std::vector<int64_t> delays, hidden_delays;
  double tau_mem, tau_adapt, adapt_scale;
  bool bias;
  std::optional<double> tau_syn;
  double threshold;
  std::optional<double> min_v_mem;
  std::string spike_fn, reset_fn, surrogate;
  bool norm_input;
  // [train]
  int64_t epochs, batch_size;
  double lr;
  std::string lr_schedule, frame_augment;
  int64_t seed, threads;
};

// The configuration of a preset: every field's default, then the preset's values.
// Throws, naming the presets, for an unknown one.
RunConfig defaults(const std::string& preset);
// The preset that a run uses when nothing names one.
const std::string& default_preset();

// Reads a TOML file over `c`; an unknown key, a wrong type or a bad value is an error
// naming the key and what is allowed.
void read_config(const std::string& path, RunConfig& c);
// The model.preset a file names, or `otherwise`.
std::string preset_of(const std::string& path, const std::string& otherwise);
// Values outside what is allowed: an error naming the key and the allowed values.
void validate(const RunConfig& c);
// The neurons the run's model has (model.neuron and its constants).
snn::train::PresetNeurons preset_neurons(const RunConfig& c);
// `s` quoted, with backslash, quote and control characters escaped: a TOML basic string
// and a JSON string alike.
std::string quoted(const std::string& s);
// Every key, by section, as TOML (strings escaped): what config.toml holds.
std::string to_toml(const RunConfig& c);
// The keys as a Markdown table (key, type, default, presets, flag, meaning): the README's list.
std::string keys_markdown();

// Command-line flags of the table: add_flags registers them on a command; apply_flags
// writes the given ones over `c`. `train_only` fields (model.neuron) are left out of
// commands that set them themselves (compare).
struct FlagValues {
  std::vector<std::string> text;       // per field of the table
  std::vector<CLI::Option*> options;   // per field; null where the command has no flag
};
// `only`: the keys ("data.source", ...) that get flags; empty: every key.
void add_flags(CLI::App* command, FlagValues& values, bool with_train_only,
               const std::vector<std::string>& only = {});
// Whether any flag of the table was given.
bool any_flag(const FlagValues& values);
// Whether the flag of `key` ("data.test_fraction") was given.
bool flag_given(const FlagValues& values, const std::string& key);
void apply_flags(const FlagValues& values, RunConfig& c);
// The text of the flag that names the preset (read before the others: it picks the defaults).
std::optional<std::string> preset_flag(const FlagValues& values);

}  // namespace snn_cli
