#pragma once
// snn train / eval / compare / config (train.cpp). The configuration: config.h.
#include <CLI/CLI.hpp>

#include <string>
#include <vector>

#include "config.h"

namespace snn_cli {

struct TrainCommands {
  CLI::App* train = nullptr;
  CLI::App* eval = nullptr;
  CLI::App* compare = nullptr;
  CLI::App* predict = nullptr;
  CLI::App* export_model = nullptr;
  CLI::App* config_keys = nullptr;
  CLI::App* config_show = nullptr;
  std::string config_file, run_dir, resume;
  // snn compare --neurons: the kinds compared (empty: snn::train::default_comparison()).
  std::vector<std::string> neurons;
  FlagValues train_flags, compare_flags, show_flags, eval_flags;
  // snn predict RUN FILES...: the sound files, the classes shown, JSON output.
  std::vector<std::string> predict_files;
  int64_t top = 3;
  bool json = false;
  // snn eval --per-class: accuracy per class and its most frequent confusion.
  bool per_class = false;
  // snn export RUN --format nir -o FILE [--dt DT]; snn eval MODEL.nir [--run RUN]
  // [--convention C] [--dt DT].
  std::string format = "nir", out, eval_run, convention;
  double dt = 0;  // 0: the default (the layers' / the file's / the convention's)
  // snn train / compare --nproc N: start torchrun with N processes of this command line.
  int64_t nproc = 0;
  // This process's command line (for --nproc).
  std::vector<std::string> argv;
};

void add_train_commands(CLI::App& app, TrainCommands& commands);
// Runs the parsed training command; returns its exit code, or -1 when none was given.
int run_train_commands(const TrainCommands& commands);

}  // namespace snn_cli
