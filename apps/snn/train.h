#pragma once
// snn train / eval / compare (train.cpp).
#include <CLI/CLI.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace snn_cli {

// Everything a run is decided by (config.toml of a run directory). The defaults are those
// of the preset "delay-mlp"; preset_defaults() gives each preset's.
struct RunConfig {
  std::string source = "spoken-digits";
  std::string data_path;
  int64_t channels = 140, time_bins = 35;  // channels: audio sources only
  double spatial_factor = 0;  // camera sources: Downsample factor; 0: the source's own default
  int64_t voices = 64, renditions = 3;  // spoken-digits only
  std::string preset = "delay-mlp";
  std::string neuron = "iaf";
  int64_t hidden = 256;
  std::vector<int64_t> delays = {0, 4, 8, 12, 16, 20, 24}, hidden_delays = {0, 4, 8, 12};
  double tau_mem = 5.0, tau_adapt = 100.0, adapt_scale = 1.8;
  int64_t epochs = 20, batch_size = 64;
  double lr = 2e-3;
  std::string lr_schedule = "cosine";
  int64_t seed = 0, threads = 0;
};

// The configuration a preset starts from: "delay-mlp" (the default: the tutorial's MLP with
// synaptic delays, 256 hidden neurons, 35 time bins), "shd-mlp" (the SHD tutorial's MLP
// 140 → 64 → 64 → 20 on 70 time bins, without delays) or "dvs-conv" (the convolutional
// network for camera events, snn::train::dvs_conv, on 20 time bins).
RunConfig preset_defaults(const std::string& preset);

// Values given on the command line (negative / empty: not given).
struct Flags {
  std::string source, data_path, neuron, preset;
  int64_t epochs = -1, batch_size = -1, seed = -1, threads = -1, hidden = -1;
  double lr = -1, tau_mem = -1;
};

struct TrainCommands {
  CLI::App* train = nullptr;
  CLI::App* eval = nullptr;
  CLI::App* compare = nullptr;
  std::string config_file, run_dir, resume;
  Flags flags;
};

void add_train_commands(CLI::App& app, TrainCommands& commands);
// Runs the parsed training command; returns its exit code, or -1 when none was given.
int run_train_commands(const TrainCommands& commands);

}  // namespace snn_cli
