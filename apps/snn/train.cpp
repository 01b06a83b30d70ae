// snn train / eval / compare: the tutorial's training job from the command line.
//
// A run directory holds the resolved configuration (config.toml), one JSON line of
// metrics per epoch (metrics.jsonl) and the checkpoint of the last finished epoch
// (checkpoint.snn), each written atomically. Ctrl-C stops at once; the checkpoint of the
// last finished epoch stays, and `snn train --resume RUN_DIR` continues from it.
#include "train.h"

#include "report.h"

#include <ATen/ATen.h>
#include <torch/optim/adam.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>

#include "snn/io/files.h"
#include "snn/nn/neuron_options.h"
#include "snn/train/checkpoint.h"
#include "snn/train/data_sources.h"
#include "snn/train/presets.h"
#include "snn/train/trainer.h"

namespace snn_cli {
namespace {

namespace fs = std::filesystem;

std::atomic<bool> g_interrupted{false};

void on_sigint(int) { g_interrupted = true; }

struct Interrupted : std::runtime_error {
  Interrupted() : std::runtime_error("interrupted") {}
};

snn::train::TrainingData load(RunConfig& c) {
  const auto start = std::chrono::steady_clock::now();
  auto d = snn::train::load_data(
      snn::train::DataOptions()
          .source(c.source)
          .path(c.data_path)
          .channels(c.channels)
          .time_bins(c.time_bins)
          .bin_ms(c.bin_ms)
          .spatial_factor(c.spatial_factor)
          .voices(c.voices)
          .renditions(c.renditions)
          .log([](const std::string& line) { std::fprintf(stderr, "data: %s\n", line.c_str()); }));
  std::fprintf(stderr, "data: %lld training and %lld test samples ready in %.1f s\n",
               static_cast<long long>(d.train.inputs.size(0)),
               static_cast<long long>(d.test.inputs.size(0)),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return d;
}

// The data as the preset's network takes it: the MLPs see each camera frame as one vector.
snn::train::TrainingData load_for_model(RunConfig& c) {
  auto d = load(c);
  if (c.preset != "dvs-conv" && d.frame.size() > 1) {
    d.train.inputs = d.train.inputs.flatten(2);
    d.test.inputs = d.test.inputs.flatten(2);
  }
  return d;
}

torch::nn::Sequential make_model(const RunConfig& c, const snn::train::TrainingData& data,
                                 bool record = false) {
  auto neurons = preset_neurons(c).record_states(record);
  if (c.preset == "dvs-conv") {
    return snn::train::dvs_conv(snn::train::ConvOptions()
                                    .neurons(neurons)
                                    .channels(data.frame.at(0))
                                    .height(data.frame.at(1))
                                    .width(data.frame.at(2))
                                    .outputs(data.classes));
  }
  int64_t inputs = 1;
  for (const int64_t n : data.frame) inputs *= n;
  return snn::train::shd_mlp(snn::train::MLPOptions()
                                 .neurons(neurons)
                                 .inputs(inputs)
                                 .hidden(c.hidden)
                                 .bias(c.bias)
                                 .delays(c.delays)
                                 .hidden_delays(c.hidden_delays)
                                 .outputs(data.classes));
}

std::string metrics_json(const snn::train::EpochMetrics& m) {
  std::ostringstream os;
  os << std::setprecision(10) << "{\"epoch\": " << m.epoch << ", \"lr\": " << m.lr
     << ", \"train_loss\": " << m.train_loss << ", \"train_accuracy\": " << m.train_accuracy
     << ", \"test_loss\": " << m.test_loss << ", \"test_accuracy\": " << m.test_accuracy
     << ", \"synops\": " << m.synops << ", \"firing_rate\": " << m.firing_rate
     << ", \"seconds\": " << m.seconds << "}";
  return os.str();
}

void write_metrics(const fs::path& dir, const std::vector<snn::train::EpochMetrics>& history) {
  std::string text;
  for (const auto& m : history) text += metrics_json(m) + "\n";
  snn::io::write_file_atomically((dir / "metrics.jsonl").string(), text);
}

// Trains (or resumes) one run; returns every epoch's metrics.
// `again`: the command that continues the run after Ctrl-C.
std::vector<snn::train::EpochMetrics> train_run(const RunConfig& c, const fs::path& dir,
                                                bool resume, const snn::train::TrainingData& data,
                                                const std::string& again) {
  if (c.threads > 0) at::set_num_threads(static_cast<int>(c.threads));
  fs::create_directories(dir);
  snn::io::write_file_atomically((dir / "config.toml").string(), to_toml(c));
  torch::manual_seed(c.seed);
  auto model = make_model(c, data);
  auto adam = std::make_shared<torch::optim::Adam>(model->parameters(),
                                                   torch::optim::AdamOptions(c.lr));
  const std::string checkpoint = (dir / "checkpoint.snn").string();
  snn::train::Trainer trainer(model, adam,
                              snn::train::TrainerOptions()
                                  .epochs(c.epochs)
                                  .batch_size(c.batch_size)
                                  .seed(static_cast<uint64_t>(c.seed))
                                  .lr_schedule(c.lr_schedule == "cosine"
                                                   ? snn::train::LrSchedule::cosine()
                                                   : snn::train::LrSchedule::constant())
                                  .checkpoint_path(checkpoint));
  if (resume) {
    trainer.load_checkpoint(checkpoint);
    std::fprintf(stderr, "resuming %s after epoch %lld of %lld\n", dir.c_str(),
                 static_cast<long long>(trainer.epoch()), static_cast<long long>(c.epochs));
  } else {
    trainer.save_checkpoint(checkpoint);  // epoch 0: resumable from the first step on
  }
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  const auto start = std::chrono::steady_clock::now();
  trainer.on_step = [&](const snn::train::StepInfo& s) {
    if (g_interrupted) throw Interrupted();
    if (!terminal) return;
    const int width = 24;
    const int filled = static_cast<int>(width * (s.batch + 1) / s.batches);
    const double elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    const double steps_done = static_cast<double>(s.step - trainer.history().size() * s.batches);
    const double rate = steps_done > 0 ? elapsed / steps_done : 0;
    const double left = rate * static_cast<double>((c.epochs - s.epoch) * s.batches - s.batch - 1);
    std::fprintf(stderr, "\r%s epoch %lld/%lld [%s%s] %lld/%lld  loss %.3f  acc %.3f  %.1f steps/s  ETA %.0fs ",
                 c.neuron.c_str(), static_cast<long long>(s.epoch + 1),
                 static_cast<long long>(c.epochs), std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), static_cast<long long>(s.batch + 1),
                 static_cast<long long>(s.batches), s.loss, s.accuracy,
                 rate > 0 ? 1.0 / rate : 0.0, left);
  };
  trainer.on_epoch = [&](const snn::train::EpochMetrics& m) {
    write_metrics(dir, trainer.history());
    if (terminal) std::fprintf(stderr, "\r\033[K");
    std::printf("%s epoch %lld/%lld  loss %.4f  train %.3f  test %.3f  synops %.4g  rate %.4f  %.1fs\n",
                c.neuron.c_str(), static_cast<long long>(m.epoch + 1),
                static_cast<long long>(c.epochs), m.train_loss, m.train_accuracy, m.test_accuracy,
                m.synops, m.firing_rate, m.seconds);
    std::fflush(stdout);
    return true;
  };
  std::signal(SIGINT, on_sigint);
  try {
    trainer.fit(data.train, data.test);
  } catch (const Interrupted&) {
    if (terminal) std::fprintf(stderr, "\r\033[K");
    std::fprintf(stderr, "interrupted: %s holds the checkpoint after epoch %lld; continue with\n  %s\n",
                 dir.c_str(), static_cast<long long>(trainer.epoch()), again.c_str());
    std::signal(SIGINT, SIG_DFL);
    throw;
  }
  std::signal(SIGINT, SIG_DFL);
  return trainer.history();
}

// The trained model of a run directory, recording its states (for the report).
ReportRun report_run(const RunConfig& c, const fs::path& dir, const snn::train::TrainingData& data,
                     std::vector<snn::train::EpochMetrics> history) {
  ReportRun r{c.neuron, std::move(history), make_model(c, data, /*record=*/true)};
  snn::train::load_model((dir / "checkpoint.snn").string(), *r.model);
  return r;
}

void report(const fs::path& dir, const std::string& title, const std::vector<ReportRun>& runs,
            const snn::train::TrainingData& data) {
  const auto html = dir / "report.html";
  write_report(html, title, runs, data.test, data.sample, data.sample_name);
  std::printf("report: %s\n", html.c_str());
}

RunConfig config_of_run(const fs::path& dir) {
  const auto config = dir / "config.toml";
  if (!fs::is_directory(dir) || !fs::exists(config) || !fs::exists(dir / "checkpoint.snn")) {
    throw CLI::ValidationError(dir.string() +
                               " is not a run directory (it needs config.toml and checkpoint.snn, "
                               "as snn train writes them)");
  }
  RunConfig c = defaults(preset_of(config.string(), default_preset()));
  read_config(config.string(), c);
  validate(c);
  return c;
}

// The neuron models of a comparison, one per line in DIR/neurons (written at its start, so
// that --resume continues with them); a comparison without the file compared the default.
const char* const kComparisonFile = "neurons";

void write_comparison(const fs::path& dir, const std::vector<std::string>& neurons) {
  std::string text;
  for (const auto& n : neurons) text += n + "\n";
  snn::io::write_file_atomically((dir / kComparisonFile).string(), text);
}

std::vector<std::string> read_comparison(const fs::path& dir) {
  std::ifstream in(dir / kComparisonFile);
  if (!in) return snn::train::default_comparison();
  std::vector<std::string> neurons;
  for (std::string line; std::getline(in, line);) {
    if (!line.empty()) neurons.push_back(line);
  }
  if (neurons.empty()) {
    throw CLI::ValidationError((dir / kComparisonFile).string() + " names no neuron model");
  }
  return neurons;
}

std::string stamp() {
  const auto now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::localtime(&now));
  return buf;
}

}  // namespace

void add_train_commands(CLI::App& app, TrainCommands& t) {
  auto add_common = [&](CLI::App* cmd, FlagValues& flags, bool with_neuron) {
    cmd->add_option("--config", t.config_file, "TOML configuration ([data], [model], [train]; "
                    "snn config keys lists the keys)")
        ->check(CLI::ExistingFile);
    add_flags(cmd, flags, with_neuron);
  };
  t.train = app.add_subcommand("train", "Train a spiking network (an MLP of the SHD tutorial, by default with synaptic delays)");
  add_common(t.train, t.train_flags, true);
  t.train->add_option("--run-dir", t.run_dir, "Run directory (default runs/NEURON-TIME)");
  t.train->add_option("--resume", t.resume, "Continue the run in this directory");

  t.eval = app.add_subcommand("eval", "Evaluate a run's checkpoint on its test data");
  t.eval->add_option("run_dir", t.run_dir,
                     "Run directory, or a checkpoint file in one (beside its config.toml)")
      ->required();

  t.compare = app.add_subcommand(
      "compare", "Train several neuron models (default IAF, LIF and ALIF) on the same data and "
                 "seed; print a table");
  add_common(t.compare, t.compare_flags, false);
  std::string kinds;
  for (const auto& k : snn::train::neuron_kind_names()) kinds += (kinds.empty() ? "" : ", ") + k;
  t.compare->add_option("--neurons", t.neurons,
                        "Neuron models to compare, comma-separated (default iaf,lif,alif); of " +
                            kinds)
      ->delimiter(',')
      ->check(CLI::IsMember(snn::train::neuron_kind_names(), CLI::ignore_case));
  t.compare->add_option("--run-dir", t.run_dir, "Directory of the runs (default runs/compare-TIME)");
  t.compare->add_option("--resume", t.resume,
                        "Continue the comparison in this directory (finished runs are kept)");

  auto* config = app.add_subcommand("config", "The configuration keys of snn train and compare");
  config->require_subcommand(1);
  t.config_keys = config->add_subcommand(
      "keys", "Every key of a configuration file: type, default, presets, flag, meaning (Markdown)");
  t.config_show = config->add_subcommand(
      "show", "The configuration that these flags and --config give, as TOML (nothing is run)");
  add_common(t.config_show, t.show_flags, true);
}

namespace {

// The command line over the file over the preset's defaults.
RunConfig resolve(const std::string& config_file, const FlagValues& flags) {
  const auto preset = preset_flag(flags);
  RunConfig c = defaults(preset ? *preset : preset_of(config_file, default_preset()));
  if (!config_file.empty()) read_config(config_file, c);
  apply_flags(flags, c);
  validate(c);
  // config.toml says what the run used: the source's own factor in place of "0".
  if (c.spatial_factor == 0) c.spatial_factor = snn::train::data_source(c.source).spatial_factor;
  return c;
}

}  // namespace

int run_train_commands(const TrainCommands& t) {
  try {
    if (*t.config_keys) {
      std::printf("%s", keys_markdown().c_str());
      return 0;
    }
    if (*t.config_show) {
      std::printf("%s", to_toml(resolve(t.config_file, t.show_flags)).c_str());
      return 0;
    }
    if (*t.train) {
      const bool resume = !t.resume.empty();
      RunConfig c = resume ? config_of_run(t.resume) : resolve(t.config_file, t.train_flags);
      const fs::path dir = resume            ? fs::path(t.resume)
                           : t.run_dir.empty() ? fs::path("runs") / (c.neuron + "-" + stamp())
                                               : fs::path(t.run_dir);
      const auto data = load_for_model(c);
      auto history = train_run(c, dir, resume, data, "snn train --resume " + dir.string());
      const auto last = history.back();
      report(dir, "snn train: " + c.neuron, {report_run(c, dir, data, std::move(history))},
             data);
      std::printf("test accuracy %.4f, synops per sample %.4g; run: %s\n", last.test_accuracy,
                  last.synops, dir.c_str());
      return 0;
    }
    if (*t.eval) {
      // A run directory, or a checkpoint file in one (its config.toml says what it is).
      const bool file = fs::is_regular_file(t.run_dir);
      const fs::path dir = file ? fs::path(t.run_dir).parent_path() : fs::path(t.run_dir);
      const fs::path checkpoint = file ? fs::path(t.run_dir) : dir / "checkpoint.snn";
      RunConfig c = config_of_run(dir.empty() ? fs::path(".") : dir);
      const auto data = load_for_model(c);
      auto model = make_model(c, data);
      snn::train::load_model(checkpoint.string(), *model);
      const auto m = snn::train::evaluate(model, data.test,
                                          snn::train::EvaluateOptions().batch_size(c.batch_size));
      std::printf("%s: test accuracy %.4f, loss %.4f, synops per sample %.4g, firing rate %.4f\n",
                  t.run_dir.c_str(), m.test_accuracy, m.test_loss, m.synops, m.firing_rate);
      return 0;
    }
    if (*t.compare) {
      // --resume: the runs that finished stay, the interrupted one continues, the rest start.
      const bool resume = !t.resume.empty();
      // The kinds compared: the command line's, or those the comparison being resumed wrote.
      const fs::path resumed = t.resume;
      std::vector<std::string> neurons = t.neurons;
      if (resume) {
        if (!t.neurons.empty()) {
          throw CLI::ValidationError("--neurons cannot be given with --resume (the comparison "
                                     "continues with the models it started with)");
        }
        neurons = read_comparison(resumed);
      } else if (neurons.empty()) {
        neurons = snn::train::default_comparison();
      }
      for (auto& n : neurons) n = snn::train::neuron_kind_name(snn::train::parse_neuron_kind(n));
      for (size_t i = 0; i < neurons.size(); ++i) {
        for (size_t j = 0; j < i; ++j) {
          if (neurons[i] == neurons[j]) {
            throw CLI::ValidationError("--neurons names " + neurons[i] + " twice");
          }
        }
      }
      const std::string first = neurons.front();
      if (resume && !fs::exists(resumed / first / "config.toml")) {
        throw CLI::ValidationError(t.resume + " is not a comparison directory (it needs " +
                                   first + "/config.toml, as snn compare writes it)");
      }
      RunConfig base = resume ? config_of_run(resumed / first)
                              : resolve(t.config_file, t.compare_flags);
      const fs::path dir = resume             ? resumed
                           : t.run_dir.empty() ? fs::path("runs") / ("compare-" + stamp())
                                               : fs::path(t.run_dir);
      if (!resume) {
        // Every model's constants are checked before the first one trains.
        for (const auto& neuron : neurons) {
          RunConfig c = base;
          c.neuron = neuron;
          validate(c);
        }
        fs::create_directories(dir);
        write_comparison(dir, neurons);
      }
      const auto data_start = std::chrono::steady_clock::now();
      const auto data = load_for_model(base);
      const auto training_start = std::chrono::steady_clock::now();
      struct Row {
        std::string neuron;
        snn::train::EpochMetrics m;
        double seconds = 0;
      };
      std::vector<Row> rows;
      std::vector<ReportRun> runs;
      for (const std::string& neuron : neurons) {
        const bool continued = resume && fs::exists(dir / neuron / "checkpoint.snn");
        RunConfig c = continued ? config_of_run(dir / neuron) : base;
        c.neuron = neuron;
        auto history = train_run(c, dir / neuron, continued, data,
                                 "snn compare --resume " + dir.string());
        // The epochs' times (of this process and of the one resumed), evaluations included.
        double seconds = 0;
        for (const auto& m : history) seconds += m.seconds;
        rows.push_back({neuron, history.back(), seconds});
        runs.push_back(report_run(c, dir / neuron, data, std::move(history)));
      }
      std::string title;
      for (size_t i = 0; i < neurons.size(); ++i) {
        title += (i == 0 ? "" : i + 1 == neurons.size() ? " and " : ", ") +
                 snn::train::neuron_kind_title(snn::train::parse_neuron_kind(neurons[i]));
      }
      report(dir, "snn compare: " + title + " on the same data", runs, data);
      std::ostringstream table;
      table << "| model | test accuracy | synops per sample | mean firing rate | training time |\n"
               "|---|---|---|---|---|\n";
      for (const auto& r : rows) {
        table << "| " << r.neuron << " | " << std::fixed << std::setprecision(3) << r.m.test_accuracy
              << " | " << std::setprecision(0) << r.m.synops << " | " << std::setprecision(4)
              << r.m.firing_rate << " | " << std::setprecision(1) << r.seconds << " s |\n";
      }
      snn::io::write_file_atomically((dir / "compare.md").string(), table.str());
      const auto end = std::chrono::steady_clock::now();
      std::printf("\n%s\nruns: %s\ntime: data %.1f s, training, tests and report %.1f s\n",
                  table.str().c_str(), dir.c_str(),
                  std::chrono::duration<double>(training_start - data_start).count(),
                  std::chrono::duration<double>(end - training_start).count());
      return 0;
    }
  } catch (const Interrupted&) {
    return 130;
  }
  return -1;  // not a training command
}

}  // namespace snn_cli
