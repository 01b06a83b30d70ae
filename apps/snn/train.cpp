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
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <toml++/toml.h>

#include "snn/data/spoken_digits.h"
#include "snn/events/io.h"
#include "snn/io/files.h"
#include "snn/train/checkpoint.h"
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

// The keys a configuration file may hold, by section, with their kinds.
const std::vector<std::pair<std::string, std::vector<std::string>>>& config_keys() {
  static const std::vector<std::pair<std::string, std::vector<std::string>>> keys = {
      {"data", {"source", "path", "channels", "time_bins", "spatial_factor", "voices", "renditions"}},
      {"model", {"preset", "neuron", "hidden", "delays", "hidden_delays", "tau_mem", "tau_adapt",
                 "adapt_scale"}},
      {"train", {"epochs", "batch_size", "lr", "lr_schedule", "seed", "threads"}},
  };
  return keys;
}

std::string join(const std::vector<std::string>& v) {
  std::string out;
  for (const auto& s : v) out += (out.empty() ? "" : ", ") + s;
  return out;
}

[[noreturn]] void bad_config(const std::string& message) { throw CLI::ValidationError(message); }

std::string default_data_dir() {
  const char* cache = std::getenv("SNN_CACHE_DIR");
  const char* home = std::getenv("HOME");
  const fs::path base = cache != nullptr && *cache != '\0' ? fs::path(cache)
                        : home != nullptr                 ? fs::path(home) / ".cache" / "snn.cpp"
                                                          : fs::path(".snn-cache");
  return (base / "data" / "spoken-digits").string();
}

// Reads a TOML file over `c`; an unknown key, a wrong type or a bad value is an error
// naming the key and what is allowed.
void read_config(const std::string& path, RunConfig& c) {
  toml::table t;
  try {
    t = toml::parse_file(path);
  } catch (const toml::parse_error& e) {
    std::ostringstream os;
    os << "config " << path << ": " << e.description() << " (line " << e.source().begin.line
       << ")";
    bad_config(os.str());
  }
  std::vector<std::string> sections;
  for (const auto& [name, keys] : config_keys()) sections.push_back(name);
  for (const auto& [section, node] : t) {
    const std::string s(section.str());
    const auto it = std::find_if(config_keys().begin(), config_keys().end(),
                                 [&](const auto& p) { return p.first == s; });
    if (it == config_keys().end() || !node.is_table()) {
      bad_config("config " + path + ": unknown section [" + s + "]; allowed: " + join(sections));
    }
    for (const auto& [key, value] : *node.as_table()) {
      const std::string k(key.str());
      if (std::find(it->second.begin(), it->second.end(), k) == it->second.end()) {
        bad_config("config " + path + ": unknown key " + s + "." + k + "; allowed in [" + s +
                   "]: " + join(it->second));
      }
      const std::string name = s + "." + k;
      auto integer = [&]() -> int64_t {
        if (!value.is_integer()) bad_config("config " + path + ": " + name + " must be an integer");
        return value.as_integer()->get();
      };
      auto real = [&]() -> double {
        if (value.is_integer()) return static_cast<double>(value.as_integer()->get());
        if (!value.is_floating_point()) bad_config("config " + path + ": " + name + " must be a number");
        return value.as_floating_point()->get();
      };
      auto text = [&]() -> std::string {
        if (!value.is_string()) bad_config("config " + path + ": " + name + " must be a string");
        return value.as_string()->get();
      };
      auto integers = [&]() -> std::vector<int64_t> {
        const auto* array = value.as_array();
        if (array == nullptr) bad_config("config " + path + ": " + name + " must be an array of integers");
        std::vector<int64_t> out;
        for (const auto& e : *array) {
          if (!e.is_integer()) bad_config("config " + path + ": " + name + " must be an array of integers");
          out.push_back(e.as_integer()->get());
        }
        return out;
      };
      if (name == "data.source") c.source = text();
      else if (name == "data.path") c.data_path = text();
      else if (name == "data.channels") c.channels = integer();
      else if (name == "data.time_bins") c.time_bins = integer();
      else if (name == "data.spatial_factor") c.spatial_factor = real();
      else if (name == "data.voices") c.voices = integer();
      else if (name == "data.renditions") c.renditions = integer();
      else if (name == "model.preset") c.preset = text();
      else if (name == "model.neuron") c.neuron = text();
      else if (name == "model.hidden") c.hidden = integer();
      else if (name == "model.delays") c.delays = integers();
      else if (name == "model.hidden_delays") c.hidden_delays = integers();
      else if (name == "model.tau_mem") c.tau_mem = real();
      else if (name == "model.tau_adapt") c.tau_adapt = real();
      else if (name == "model.adapt_scale") c.adapt_scale = real();
      else if (name == "train.epochs") c.epochs = integer();
      else if (name == "train.batch_size") c.batch_size = integer();
      else if (name == "train.lr") c.lr = real();
      else if (name == "train.lr_schedule") c.lr_schedule = text();
      else if (name == "train.seed") c.seed = integer();
      else if (name == "train.threads") c.threads = integer();
    }
  }
}

// The model.preset a configuration file names, or `otherwise` (no file, no such key, or a
// file read_config will refuse with its reason).
std::string preset_of(const std::string& path, const std::string& otherwise) {
  if (path.empty()) return otherwise;
  try {
    const auto t = toml::parse_file(path);
    if (const auto p = t["model"]["preset"].value<std::string>()) return *p;
  } catch (const toml::parse_error&) {
  }
  return otherwise;
}

// Event-camera sources (frames [P, H, W]) as opposed to audio (frames of channels).
bool camera_source(const std::string& source) {
  return source == "nmnist" || source == "dvs-gesture";
}

// DVS Gesture's 128×128 pixels become 32×32, as in Sinabs' and Tonic's tutorials.
double default_spatial_factor(const std::string& source) {
  return source == "dvs-gesture" ? 0.25 : 1.0;
}

// Values outside what is allowed: an error naming the key and the allowed values.
void validate(const RunConfig& c) {
  if (c.source != "spoken-digits" && c.source != "shd" && c.source != "ssc" &&
      !camera_source(c.source)) {
    bad_config("data.source must be one of spoken-digits, shd, ssc, nmnist, dvs-gesture; got \"" +
               c.source + "\"");
  }
  if (c.source != "spoken-digits" && c.data_path.empty()) {
    bad_config("data.path must name the directory of the " + c.source + " files (--data-path)");
  }
  if (c.preset != "delay-mlp" && c.preset != "shd-mlp" && c.preset != "dvs-conv") {
    bad_config("model.preset must be one of delay-mlp, shd-mlp, dvs-conv; got \"" + c.preset + "\"");
  }
  if (c.preset == "dvs-conv" && !camera_source(c.source)) {
    bad_config("model.preset dvs-conv needs camera events (data.source nmnist or dvs-gesture); "
               "got data.source " + c.source);
  }
  if (!(c.spatial_factor >= 0 && c.spatial_factor <= 1)) {
    bad_config("data.spatial_factor must be in (0, 1] (0: the source's default); got " +
               std::to_string(c.spatial_factor));
  }
  if (c.neuron != "iaf" && c.neuron != "lif" && c.neuron != "alif") {
    bad_config("model.neuron must be one of iaf, lif, alif; got \"" + c.neuron + "\"");
  }
  auto positive = [](const char* name, double v) {
    if (!(v > 0)) bad_config(std::string(name) + " must be > 0; got " + std::to_string(v));
  };
  positive("data.channels", c.channels);
  if (c.channels > 700) bad_config("data.channels must be <= 700; got " + std::to_string(c.channels));
  positive("data.time_bins", c.time_bins);
  const auto max_voices = static_cast<int64_t>(snn::data::spoken_digit_voices().size());
  if (c.voices < 2 || c.voices > max_voices) {
    bad_config("data.voices must be in [2, " + std::to_string(max_voices) + "]; got " +
               std::to_string(c.voices));
  }
  positive("data.renditions", c.renditions);
  positive("model.hidden", c.hidden);
  for (const auto* d : {&c.delays, &c.hidden_delays}) {
    const std::string name = d == &c.delays ? "model.delays" : "model.hidden_delays";
    if (d->size() > 64) bad_config(name + " may hold at most 64 delays; got " + std::to_string(d->size()));
    for (const int64_t k : *d) {
      if (k < 0 || k >= c.time_bins) {
        bad_config(name + " must be in [0, data.time_bins - 1] = [0, " +
                   std::to_string(c.time_bins - 1) + "]; got " + std::to_string(k));
      }
    }
  }
  positive("model.tau_mem", c.tau_mem);
  positive("model.tau_adapt", c.tau_adapt);
  positive("train.epochs", c.epochs);
  positive("train.batch_size", c.batch_size);
  positive("train.lr", c.lr);
  if (c.lr_schedule != "constant" && c.lr_schedule != "cosine") {
    bad_config("train.lr_schedule must be one of constant, cosine; got \"" + c.lr_schedule + "\"");
  }
  if (c.seed < 0) bad_config("train.seed must be >= 0; got " + std::to_string(c.seed));
  if (c.threads < 0) bad_config("train.threads must be >= 0; got " + std::to_string(c.threads));
}

std::string toml_array(const std::vector<int64_t>& v) {
  std::string out = "[";
  for (size_t i = 0; i < v.size(); ++i) out += (i ? ", " : "") + std::to_string(v[i]);
  return out + "]";
}

std::string to_toml(const RunConfig& c) {
  std::ostringstream os;
  os << std::setprecision(17);
  os << "# written by snn train: the configuration this run used\n\n[data]\nsource = \"" << c.source
     << "\"\npath = \"" << c.data_path << "\"\nchannels = " << c.channels
     << "\ntime_bins = " << c.time_bins << "\nspatial_factor = " << c.spatial_factor
     << "\nvoices = " << c.voices
     << "\nrenditions = " << c.renditions << "\n\n[model]\npreset = \"" << c.preset
     << "\"\nneuron = \"" << c.neuron << "\"\nhidden = " << c.hidden
     << "\ndelays = " << toml_array(c.delays) << "\nhidden_delays = " << toml_array(c.hidden_delays)
     << "\ntau_mem = " << c.tau_mem
     << "\ntau_adapt = " << c.tau_adapt << "\nadapt_scale = " << c.adapt_scale
     << "\n\n[train]\nepochs = " << c.epochs << "\nbatch_size = " << c.batch_size
     << "\nlr = " << c.lr << "\nlr_schedule = \"" << c.lr_schedule << "\"\nseed = " << c.seed << "\nthreads = " << c.threads << "\n";
  return os.str();
}

struct Data {
  snn::train::Dataset train, test;
  int64_t classes = 0;
  // One sample's frame shape: {channels} (audio) or {polarities, H, W} (camera).
  std::vector<int64_t> frame;
  // Test sample 0, for the report's input plot, and its name.
  snn::events::Events sample;
  std::string sample_name;
};

// Files or folders a source needs under data.path; missing ones are named, with what to
// place there.
void require(const RunConfig& c, const std::vector<std::string>& names, const std::string& what) {
  std::string missing;
  for (const auto& n : names) {
    if (!fs::exists(fs::path(c.data_path) / n)) missing += "\n  " + (fs::path(c.data_path) / n).string();
  }
  if (!missing.empty()) {
    throw CLI::ValidationError("data: missing " + c.source + " files:" + missing + "\n" + what);
  }
}

Data load_data(RunConfig& c) {
  Data d;
  if (camera_source(c.source)) {
    std::unique_ptr<snn::data::EventDataset> train, test;
    if (c.source == "nmnist") {
      require(c, {"Train", "Test"}, "place N-MNIST's Train and Test folders there (one folder "
              "of .bin recordings per digit, as Tonic unpacks them)");
      train = std::make_unique<snn::data::NMNIST>(c.data_path, true);
      test = std::make_unique<snn::data::NMNIST>(c.data_path, false);
    } else {
      require(c, {"trials_to_train.txt", "trials_to_test.txt"},
              "place DVS Gesture's recordings there (user*.aedat, their _labels.csv files and "
              "the two trial lists, as DvsGesture.tar.gz unpacks)");
      train = std::make_unique<snn::data::DVSGesture>(c.data_path, true);
      test = std::make_unique<snn::data::DVSGesture>(c.data_path, false);
    }
    std::fprintf(stderr, "data: %s and %s into frames\n", train->repr().c_str(), test->repr().c_str());
    const double factor = c.spatial_factor == 0 ? default_spatial_factor(c.source) : c.spatial_factor;
    d.train = snn::train::event_frames(*train, c.time_bins, factor);
    d.test = snn::train::event_frames(*test, c.time_bins, factor);
    d.frame = d.train.inputs.sizes().slice(2).vec();
    d.sample = test->events(0);
    d.sample_name = "label " + std::to_string(test->label(0));
    if (c.preset != "dvs-conv") {  // the MLPs see each frame as one vector
      d.train.inputs = d.train.inputs.flatten(2);
      d.test.inputs = d.test.inputs.flatten(2);
    }
  } else {
    std::string train_file, test_file;
    if (c.source == "spoken-digits") {
      if (c.data_path.empty()) c.data_path = default_data_dir();
      std::fprintf(stderr, "data: the embedded spoken digits in %s (made once, then reused)\n",
                   c.data_path.c_str());
      const auto files = snn::data::make_spoken_digits(
          c.data_path, snn::data::SpokenDigitsOptions().voices(c.voices).renditions(c.renditions));
      train_file = files.train;
      test_file = files.test;
    } else {
      train_file = (fs::path(c.data_path) / (c.source + "_train.h5")).string();
      test_file = (fs::path(c.data_path) / (c.source + "_test.h5")).string();
      require(c, {c.source + "_train.h5", c.source + "_test.h5"},
              std::string("place the ") + (c.source == "shd" ? "SHD" : "SSC") +
                  " HDF5 files (unpacked) there, named as above");
    }
    d.train = snn::train::hsd_frames(train_file, c.channels, c.time_bins);
    d.test = snn::train::hsd_frames(test_file, c.channels, c.time_bins);
    d.frame = {c.channels};
    const snn::events::HSDFile file(test_file);
    d.sample = file.events(0);
    const auto& keys = file.keys();
    const int64_t label = file.label(0);
    d.sample_name = label < static_cast<int64_t>(keys.size()) ? keys[label] : "label " + std::to_string(label);
  }
  d.classes = std::max(d.train.labels.max().item<int64_t>(), d.test.labels.max().item<int64_t>()) + 1;
  return d;
}

torch::nn::Sequential make_model(const RunConfig& c, const Data& data, bool record = false) {
  auto neurons = [&](snn::train::PresetNeurons n) {
    return n.kind(snn::train::parse_neuron_kind(c.neuron))
        .tau_mem(c.tau_mem)
        .tau_adapt(c.tau_adapt)
        .adapt_scale(c.adapt_scale)
        .record_states(record);
  };
  if (c.preset == "dvs-conv") {
    const snn::train::ConvOptions defaults;
    return snn::train::dvs_conv(snn::train::ConvOptions()
                                    .neurons(neurons(defaults.neurons()))
                                    .channels(data.frame.at(0))
                                    .height(data.frame.at(1))
                                    .width(data.frame.at(2))
                                    .outputs(data.classes));
  }
  int64_t inputs = 1;
  for (const int64_t n : data.frame) inputs *= n;
  return snn::train::shd_mlp(snn::train::MLPOptions()
                                 .neurons(neurons(snn::train::MLPOptions().neurons()))
                                 .inputs(inputs)
                                 .hidden(c.hidden)
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
                                                bool resume, const Data& data,
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
ReportRun report_run(const RunConfig& c, const fs::path& dir, const Data& data,
                     std::vector<snn::train::EpochMetrics> history) {
  ReportRun r{c.neuron, std::move(history), make_model(c, data, /*record=*/true)};
  snn::train::load_model((dir / "checkpoint.snn").string(), *r.model);
  return r;
}

void report(const fs::path& dir, const std::string& title, const std::vector<ReportRun>& runs,
            const Data& data) {
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
  RunConfig c = preset_defaults(preset_of(config.string(), RunConfig().preset));
  read_config(config.string(), c);
  validate(c);
  return c;
}

std::string stamp() {
  const auto now = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%d-%H%M%S", std::localtime(&now));
  return buf;
}

}  // namespace

void add_train_commands(CLI::App& app, TrainCommands& t) {
  auto add_common = [&](CLI::App* cmd) {
    cmd->add_option("--preset", t.flags.preset,
                    "delay-mlp (default: the MLP with synaptic delays), shd-mlp (the SHD "
                    "tutorial's MLP) or dvs-conv (a convolutional SNN for camera events)");
    cmd->add_option("--config", t.config_file, "TOML configuration ([data], [model], [train])")
        ->check(CLI::ExistingFile);
    cmd->add_option("--data", t.flags.source,
                    "spoken-digits (default), shd, ssc, nmnist or dvs-gesture");
    cmd->add_option("--data-path", t.flags.data_path,
                    "Directory of the data files (spoken-digits: where they are made)");
    cmd->add_option("--epochs", t.flags.epochs, "Epochs");
    cmd->add_option("--batch-size", t.flags.batch_size, "Batch size");
    cmd->add_option("--lr", t.flags.lr, "Learning rate (Adam)");
    cmd->add_option("--seed", t.flags.seed, "Seed");
    cmd->add_option("--threads", t.flags.threads, "Threads (0: every core)");
    cmd->add_option("--hidden", t.flags.hidden, "Hidden neurons per layer");
    cmd->add_option("--tau-mem", t.flags.tau_mem, "Membrane time constant, steps (LIF, ALIF)");
  };
  t.train = app.add_subcommand("train", "Train a spiking network (an MLP of the SHD tutorial, by default with synaptic delays)");
  add_common(t.train);
  t.train->add_option("--neuron", t.flags.neuron, "iaf (default), lif or alif");
  t.train->add_option("--run-dir", t.run_dir, "Run directory (default runs/NEURON-TIME)");
  t.train->add_option("--resume", t.resume, "Continue the run in this directory");

  t.eval = app.add_subcommand("eval", "Evaluate a run's checkpoint on its test data");
  t.eval->add_option("run_dir", t.run_dir,
                     "Run directory, or a checkpoint file in one (beside its config.toml)")
      ->required();

  t.compare = app.add_subcommand(
      "compare", "Train IAF, LIF and ALIF on the same data and seed; print a table");
  add_common(t.compare);
  t.compare->add_option("--run-dir", t.run_dir, "Directory of the three runs (default runs/compare-TIME)");
  t.compare->add_option("--resume", t.resume,
                        "Continue the comparison in this directory (finished runs are kept)");
}

RunConfig preset_defaults(const std::string& preset) {
  RunConfig c;
  c.preset = preset;
  if (preset == "shd-mlp") {
    c.time_bins = 70;
    c.hidden = 64;
    c.delays.clear();
    c.hidden_delays.clear();
    c.epochs = 30;
  } else if (preset == "dvs-conv") {
    c.time_bins = 20;
    c.delays.clear();
    c.hidden_delays.clear();
    c.epochs = 15;
    c.lr = 1e-3;
  }
  return c;  // delay-mlp, or a name validate() refuses
}

// Applies the command line over the file over the preset's defaults.
RunConfig resolve(const TrainCommands& t) {
  const auto& f = t.flags;
  RunConfig c = preset_defaults(
      !f.preset.empty() ? f.preset : preset_of(t.config_file, RunConfig().preset));
  if (!t.config_file.empty()) read_config(t.config_file, c);
  if (!f.preset.empty()) c.preset = f.preset;
  if (!f.source.empty()) c.source = f.source;
  if (!f.data_path.empty()) c.data_path = f.data_path;
  if (!f.neuron.empty()) c.neuron = f.neuron;
  if (f.epochs >= 0) c.epochs = f.epochs;
  if (f.batch_size >= 0) c.batch_size = f.batch_size;
  if (f.lr >= 0) c.lr = f.lr;
  if (f.seed >= 0) c.seed = f.seed;
  if (f.threads >= 0) c.threads = f.threads;
  if (f.hidden >= 0) c.hidden = f.hidden;
  if (f.tau_mem >= 0) c.tau_mem = f.tau_mem;
  if (c.spatial_factor == 0) c.spatial_factor = default_spatial_factor(c.source);
  validate(c);
  return c;
}

int run_train_commands(const TrainCommands& t) {
  try {
    if (*t.train) {
      const bool resume = !t.resume.empty();
      RunConfig c = resume ? config_of_run(t.resume) : resolve(t);
      const fs::path dir = resume            ? fs::path(t.resume)
                           : t.run_dir.empty() ? fs::path("runs") / (c.neuron + "-" + stamp())
                                               : fs::path(t.run_dir);
      const Data data = load_data(c);
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
      Data data = load_data(c);
      auto model = make_model(c, data);
      snn::train::load_model(checkpoint.string(), *model);
      auto adam = std::make_shared<torch::optim::Adam>(model->parameters());
      snn::train::Trainer trainer(model, adam, snn::train::TrainerOptions().batch_size(c.batch_size));
      const auto m = trainer.evaluate(data.test);
      std::printf("%s: test accuracy %.4f, loss %.4f, synops per sample %.4g, firing rate %.4f\n",
                  t.run_dir.c_str(), m.test_accuracy, m.test_loss, m.synops, m.firing_rate);
      return 0;
    }
    if (*t.compare) {
      // --resume: the runs that finished stay, the interrupted one continues, the rest start.
      const bool resume = !t.resume.empty();
      if (resume && !fs::exists(fs::path(t.resume) / "iaf" / "config.toml")) {
        throw CLI::ValidationError(t.resume + " is not a comparison directory (it needs "
                                   "iaf/config.toml, as snn compare writes it)");
      }
      RunConfig base = resume ? config_of_run(fs::path(t.resume) / "iaf") : resolve(t);
      const fs::path dir = resume             ? fs::path(t.resume)
                           : t.run_dir.empty() ? fs::path("runs") / ("compare-" + stamp())
                                               : fs::path(t.run_dir);
      Data data = load_data(base);
      struct Row {
        std::string neuron;
        snn::train::EpochMetrics m;
        double seconds = 0;
      };
      std::vector<Row> rows;
      std::vector<ReportRun> runs;
      for (const std::string neuron : {"iaf", "lif", "alif"}) {
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
      report(dir, "snn compare: IAF, LIF and ALIF on the same data", runs, data);
      std::ostringstream table;
      table << "| model | test accuracy | synops per sample | mean firing rate | training time |\n"
               "|---|---|---|---|---|\n";
      for (const auto& r : rows) {
        table << "| " << r.neuron << " | " << std::fixed << std::setprecision(3) << r.m.test_accuracy
              << " | " << std::setprecision(0) << r.m.synops << " | " << std::setprecision(4)
              << r.m.firing_rate << " | " << std::setprecision(1) << r.seconds << " s |\n";
      }
      snn::io::write_file_atomically((dir / "compare.md").string(), table.str());
      std::printf("\n%s\nruns: %s\n", table.str().c_str(), dir.c_str());
      return 0;
    }
  } catch (const Interrupted&) {
    return 130;
  }
  return -1;  // not a training command
}

}  // namespace snn_cli
