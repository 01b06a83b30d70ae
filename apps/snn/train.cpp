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

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <memory>
#include <sstream>
#include <thread>

#include "snn/audio/cochlea.h"
#include "snn/io/files.h"
#include "snn/nir/convert.h"
#include "snn/nir/graph.h"
#include "snn/nn/stateful.h"
#include "snn/nn/neuron_options.h"
#include "snn/train/augment.h"
#include "snn/train/checkpoint.h"
#include "snn/train/data_sources.h"
#include "snn/train/distributed.h"
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

// `all_test`: every file of an audio folder is a test file (snn eval --data audio).
snn::train::TrainingData load(const RunConfig& c, bool all_test = false) {
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
          .flite_renditions(c.flite_renditions)
          .augment(c.augment)
          .label_regex(c.label_regex)
          .speaker_regex(c.speaker_regex)
          .test_speakers(c.test_speakers)
          .test_list(c.test_list)
          .test_fraction(c.test_fraction)
          .all_test(all_test)
          .log([](const std::string& line) { std::fprintf(stderr, "data: %s\n", line.c_str()); }));
  std::fprintf(stderr, "data: %lld training and %lld test samples ready in %.1f s\n",
               static_cast<long long>(d.train.inputs.size(0)),
               static_cast<long long>(d.test.inputs.size(0)),
               std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
  return d;
}

// The data as the preset's network takes it: the MLPs see each camera frame as one vector.
snn::train::TrainingData load_for_model(const RunConfig& c, bool all_test = false) {
  auto d = load(c, all_test);
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

// The names of the model's classes, one per line in DIR/classes.txt (label order), so that
// snn predict and snn eval --data need not load the training data.
const char* const kClassesFile = "classes.txt";

void write_classes(const fs::path& dir, const std::vector<std::string>& names) {
  std::string text;
  for (const auto& n : names) text += n + "\n";
  snn::io::write_file_atomically((dir / kClassesFile).string(), text);
}

void write_metrics(const fs::path& dir, const std::vector<snn::train::EpochMetrics>& history) {
  std::string text;
  for (const auto& m : history) text += metrics_json(m) + "\n";
  snn::io::write_file_atomically((dir / "metrics.jsonl").string(), text);
}

// train.augment as the Trainer's hook (empty for "none").
std::function<at::Tensor(const at::Tensor&, at::Generator&)> frame_augmenter(const RunConfig& c) {
  const bool camera = snn::train::data_source(c.source).camera;
  const auto o = c.frame_augment == "auto"
                     ? (camera ? std::nullopt : std::optional(snn::train::FrameAugmentOptions()))
                     : snn::train::parse_frame_augment(c.frame_augment);
  if (!o) return {};
  return [o = *o](const at::Tensor& x, at::Generator& g) {
    return snn::train::augment_frames(x, o, g);
  };
}

// train.threads, or (0) every core shared among the processes of this machine.
void set_threads(const RunConfig& c, const snn::train::Distributed* dist) {
  if (c.threads > 0) {
    at::set_num_threads(static_cast<int>(c.threads));
  } else if (dist != nullptr) {
    const int64_t cores = std::max<int64_t>(1, std::thread::hardware_concurrency());
    at::set_num_threads(static_cast<int>(std::max<int64_t>(1, cores / dist->local_world_size())));
  }
}

// The data of a run; data-parallel, rank 0 loads (and makes or caches) it first, the others
// then read what it cached.
snn::train::TrainingData load_on_every_rank(const RunConfig& c,
                                            const snn::train::Distributed* dist) {
  if (dist != nullptr && !dist->is_main()) dist->barrier();
  auto data = load_for_model(c);
  if (dist != nullptr && dist->is_main()) dist->barrier();
  return data;
}

// snn train / compare --nproc N: this command line again, under torchrun with N processes
// on this machine (an argument vector, no shell). torchrun is SNN_TORCHRUN, else the one
// beside the Python whose torch the library was built with, else torchrun on PATH.
[[noreturn]] void exec_torchrun(const TrainCommands& t) {
  if (std::getenv("WORLD_SIZE") != nullptr) {
    throw CLI::ValidationError("--nproc: this process was started by torchrun already "
                               "(WORLD_SIZE is set); give --nproc-per-node to torchrun instead");
  }
  std::string torchrun = "torchrun";
  if (const char* v = std::getenv("SNN_TORCHRUN"); v != nullptr && *v != '\0') {
    torchrun = v;
  } else if (const fs::path beside = fs::path(SNN_TORCH_DIR).parent_path().parent_path()
                                         .parent_path().parent_path() / "bin" / "torchrun";
             fs::exists(beside)) {
    torchrun = beside.string();
  }
  const std::string self = fs::canonical("/proc/self/exe").string();
  std::vector<std::string> args{torchrun, "--standalone", "--nproc-per-node",
                                std::to_string(t.nproc), "--no-python", self};
  for (size_t i = 1; i < t.argv.size(); ++i) {
    const std::string& a = t.argv[i];
    if (a == "--nproc") {
      ++i;  // and its value
      continue;
    }
    if (a.rfind("--nproc=", 0) == 0) continue;
    args.push_back(a);
  }
  std::vector<char*> cargs;
  for (auto& a : args) cargs.push_back(a.data());
  cargs.push_back(nullptr);
  std::fflush(stdout);
  std::fflush(stderr);
  ::execvp(cargs[0], cargs.data());
  throw std::runtime_error("snn: --nproc: cannot start " + torchrun + " (" +
                           std::strerror(errno) + "): install torch's torchrun, or set "
                           "SNN_TORCHRUN to it");
}

// Trains (or resumes) one run; returns every epoch's metrics.
// `again`: the command that continues the run after Ctrl-C.
// `dist`: the data-parallel group (null: one process); rank 0 alone writes and prints.
std::vector<snn::train::EpochMetrics> train_run(const RunConfig& c, const fs::path& dir,
                                                bool resume, const snn::train::TrainingData& data,
                                                const std::string& again,
                                                const std::shared_ptr<snn::train::Distributed>& dist) {
  set_threads(c, dist.get());
  const bool main_rank = dist == nullptr || dist->is_main();
  if (main_rank) {
    fs::create_directories(dir);
    snn::io::write_file_atomically((dir / "config.toml").string(), to_toml(c));
    write_classes(dir, data.class_names);
  }
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
                                  .checkpoint_path(checkpoint)
                                  .augment(frame_augmenter(c))
                                  .distributed(dist));
  if (resume) {
    trainer.load_checkpoint(checkpoint);
    if (main_rank) {
      std::fprintf(stderr, "resuming %s after epoch %lld of %lld\n", dir.c_str(),
                   static_cast<long long>(trainer.epoch()), static_cast<long long>(c.epochs));
    }
  } else if (main_rank) {
    trainer.save_checkpoint(checkpoint);  // epoch 0: resumable from the first step on
  }
  const bool terminal = main_rank && ::isatty(STDERR_FILENO) != 0;
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
    if (!main_rank) return true;
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
    if (main_rank) std::fprintf(stderr, "interrupted: %s holds the checkpoint after epoch %lld; continue with\n  %s\n",
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
  write_report(html, title, runs, data.test, data.sample, data.sample_name, data.class_names);
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

// The model's class names: DIR/classes.txt, else (runs written before it) the run's data's.
std::vector<std::string> classes_of_run(const fs::path& dir, const RunConfig& c) {
  std::ifstream in(dir / kClassesFile);
  if (!in) return load_for_model(c).class_names;
  std::vector<std::string> names;
  for (std::string line; std::getline(in, line);) names.push_back(line);
  if (names.empty()) {
    throw CLI::ValidationError((dir / kClassesFile).string() + " names no class");
  }
  return names;
}

// A run directory, or a checkpoint file in one (its config.toml says what it is).
struct RunPaths {
  fs::path dir, checkpoint;
};

RunPaths run_paths(const std::string& given) {
  const bool file = fs::is_regular_file(given);
  fs::path dir = file ? fs::path(given).parent_path() : fs::path(given);
  if (dir.empty()) dir = ".";
  return {dir, file ? fs::path(given) : dir / "checkpoint.snn"};
}

bool same_name(const std::string& a, const std::string& b) {
  return a.size() == b.size() &&
         std::equal(a.begin(), a.end(), b.begin(), [](unsigned char x, unsigned char y) {
           return std::tolower(x) == std::tolower(y);
         });
}

// The labels of data whose classes are `names` as the model's classes: the class of the same
// name (case ignored), or, for a number k, the model's class k (FSDD's "7" is the spoken
// digits' class 7, "english seven"). A label the model does not know is an error naming it.
at::Tensor to_model_labels(const at::Tensor& labels, const std::vector<std::string>& names,
                           const std::vector<std::string>& model) {
  std::vector<int64_t> map(names.size(), -1);
  for (size_t i = 0; i < names.size(); ++i) {
    for (size_t j = 0; j < model.size() && map[i] < 0; ++j) {
      if (same_name(names[i], model[j])) map[i] = static_cast<int64_t>(j);
    }
    const auto& n = names[i];
    if (map[i] < 0 && !n.empty() && n.size() < 10 &&
        std::all_of(n.begin(), n.end(), [](unsigned char ch) { return std::isdigit(ch) != 0; }) &&
        std::stoll(n) < static_cast<int64_t>(model.size())) {
      map[i] = std::stoll(n);
    }
    if (map[i] < 0) {
      std::string known;
      for (size_t j = 0; j < model.size(); ++j) {
        known += (j ? ", " : "") + model[j];
      }
      throw CLI::ValidationError("the data's label \"" + n + "\" is not a class of the model "
                                 "(by name, or by number below " + std::to_string(model.size()) +
                                 "); its classes: " + known);
    }
  }
  const auto index = at::tensor(map, at::kLong);
  return labels.numel() == 0 ? labels : index.index_select(0, labels);
}

// snn eval --per-class: one line per class that has test samples.
void print_per_class(const snn::train::Model& model, const snn::train::Dataset& test,
                     const std::vector<std::string>& names, int64_t batch_size) {
  const auto classes = static_cast<int64_t>(names.size());
  const auto predicted = snn::train::predictions(
      model, test, snn::train::EvaluateOptions().batch_size(batch_size));
  const auto counts = snn::train::confusion_matrix(test.labels, predicted, classes);
  size_t width = 5;
  for (const auto& n : names) width = std::max(width, n.size());
  std::printf("%-*s  samples  accuracy  most often predicted instead\n", static_cast<int>(width),
              "class");
  for (int64_t c = 0; c < classes; ++c) {
    const auto row = counts[c];
    const int64_t n = row.sum().item<int64_t>();
    if (n == 0) continue;
    const int64_t right = row[c].item<int64_t>();
    auto wrong = row.clone();
    wrong[c] = 0;
    const int64_t other = wrong.argmax().item<int64_t>(), k = wrong[other].item<int64_t>();
    std::printf("%-*s  %7lld  %8.3f  %s\n", static_cast<int>(width), names[c].c_str(),
                static_cast<long long>(n), static_cast<double>(right) / static_cast<double>(n),
                k > 0 ? (names[other] + " (" + std::to_string(k) + ")").c_str() : "-");
  }
}

// snn predict: each sound file through the cochlea and the run's model; the top classes.
void predict_files(const TrainCommands& t) {
  const auto paths = run_paths(t.run_dir);
  const RunConfig c = config_of_run(paths.dir);
  if (snn::train::data_source(c.source).camera) {
    throw CLI::ValidationError(t.run_dir + " was trained on camera events (data.source " +
                               c.source + "); snn predict takes sound files");
  }
  const auto names = classes_of_run(paths.dir, c);
  snn::train::TrainingData shape;
  shape.classes = static_cast<int64_t>(names.size());
  shape.frame = {c.channels};
  auto model = make_model(c, shape);
  snn::train::load_model(paths.checkpoint.string(), *model);
  model->eval();
  torch::NoGradGuard no_grad;
  const int64_t k = std::min<int64_t>(t.top, shape.classes);
  std::ostringstream json;
  json << "[";
  for (size_t f = 0; f < t.predict_files.size(); ++f) {
    const auto& file = t.predict_files[f];
    double rate = 0;
    const auto audio = snn::audio::read_audio(file, rate);
    const auto events = snn::audio::encode_audio(audio, rate);
    const auto x = snn::train::audio_frames({events}, {0}, c.channels, c.time_bins, c.bin_ms).inputs;
    snn::reset_states(*model);
    const auto p = at::softmax(model->forward(x).sum(1)[0], 0);
    const auto best = std::get<1>(p.topk(k));
    if (t.json) {
      json << (f ? ",\n " : "") << "{\"file\": " << quoted(file)
           << ", \"seconds\": " << static_cast<double>(audio.size()) / rate << ", \"top\": [";
    } else {
      std::printf("%s:", file.c_str());
    }
    for (int64_t i = 0; i < k; ++i) {
      const int64_t label = best[i].item<int64_t>();
      const double prob = p[label].item<double>();
      if (t.json) {
        json << (i ? ", " : "") << "{\"class\": " << quoted(names[label])
             << ", \"label\": " << label << ", \"probability\": " << std::setprecision(6) << prob
             << "}";
      } else {
        std::printf("%s %s %.3f", i ? "," : "", names[label].c_str(), prob);
      }
    }
    if (t.json) json << "]}";
    else std::printf("\n");
  }
  if (t.json) std::printf("%s]\n", json.str().c_str());
}

// snn eval --data audio without a test split given: every file of the folder is evaluated.
bool every_file_is_test(const RunConfig& c, const FlagValues& flags) {
  return c.source == "audio" && c.test_speakers.empty() && c.test_list.empty() &&
         !flag_given(flags, "data.test_fraction");
}

// The shapes a run's model is made for, without its data where they are known (audio:
// {channels}; camera data is read for its frame shape). Returns the sample input a trace
// of the model takes: [1, T, *frame as the model sees it].
at::Tensor model_shape(const RunConfig& c, const std::vector<std::string>& names,
                       snn::train::TrainingData& shape) {
  shape.classes = static_cast<int64_t>(names.size());
  std::vector<int64_t> sample{1, std::max<int64_t>(c.time_bins, 1)};
  if (snn::train::data_source(c.source).camera) {
    const auto data = load_for_model(c);
    shape.frame = data.frame;
    const auto dims = data.test.inputs.sizes().slice(2);
    sample.insert(sample.end(), dims.begin(), dims.end());
  } else {
    shape.frame = {c.channels};
    sample.push_back(c.channels);
  }
  return at::zeros(sample);
}

// snn export RUN --format nir -o FILE: the trained model as a NIR graph, with the run's
// class names (metadata snn_classes) for snn eval.
void export_run(const TrainCommands& t) {
  const auto paths = run_paths(t.run_dir);
  const RunConfig c = config_of_run(paths.dir);
  const auto names = classes_of_run(paths.dir, c);
  snn::train::TrainingData shape;
  const auto sample = model_shape(c, names, shape);
  auto model = make_model(c, shape);
  snn::train::load_model(paths.checkpoint.string(), *model);
  snn::nir::ExportOptions options;
  if (t.dt > 0) options.dt(t.dt);
  auto graph = snn::nir::export_module(*model, sample, options);
  snn::nir::Value classes;
  classes.strings = names;
  classes.string_shape = {static_cast<int64_t>(names.size())};
  graph.metadata["snn_classes"] = classes;
  snn::nir::write(t.out, graph);
  std::printf("%s: %zu nodes, %zu edges (convention %s, dt %g); from %s\n", t.out.c_str(),
              graph.nodes.size(), graph.edges.size(),
              graph.metadata.at("snn_convention").strings.at(0).c_str(),
              graph.metadata.at("snn_dt").tensor.item<double>(), paths.checkpoint.c_str());
}

bool is_nir_file(const std::string& path) {
  const auto ext = fs::path(path).extension().string();
  return fs::is_regular_file(path) && (ext == ".nir" || ext == ".NIR");
}

// snn eval MODEL.nir: a NIR graph as the model, on the data of a run (--run) or the data
// the flags give; its classes from the file (snn export writes them) or the data's.
void eval_nir(const TrainCommands& t) {
  const auto file = snn::nir::read(t.run_dir);
  const auto& meta = file.graph.metadata;
  auto text_meta = [&](const char* key) -> std::string {
    const auto it = meta.find(key);
    return it != meta.end() && it->second.is_text() && it->second.strings.size() == 1
               ? it->second.strings[0]
               : std::string();
  };
  snn::nir::ImportOptions options;
  const std::string convention =
      !t.convention.empty() ? t.convention
      : !text_meta("snn_convention").empty() ? text_meta("snn_convention") : "norse";
  options.convention(snn::nir::parse_convention(convention));
  if (t.dt > 0) {
    options.dt(t.dt);
  } else if (t.convention.empty() && meta.count("snn_dt") != 0 && !meta.at("snn_dt").is_text()) {
    options.dt(meta.at("snn_dt").tensor.item<double>());
  }
  const bool other_data = any_flag(t.eval_flags);
  if (t.eval_run.empty() && !other_data) {
    throw CLI::ValidationError("a NIR model needs data to be evaluated on: --run RUN (its test "
                               "data) or --data SOURCE --data-path PATH");
  }
  RunConfig c = t.eval_run.empty() ? defaults(default_preset()) : config_of_run(t.eval_run);
  apply_flags(t.eval_flags, c);
  validate(c);
  const bool all_test = other_data && every_file_is_test(c, t.eval_flags);
  // The frames as the graph's Input node takes them (a camera frame flattened or not).
  auto data = load(c, all_test);
  for (const auto& [name, node] : file.graph.nodes) {
    if (node.type != "Input" || !node.has("shape")) continue;
    const auto shape = node.tensor(name, "shape").to(at::kLong);
    std::vector<int64_t> want{data.test.inputs.size(0), data.test.inputs.size(1)};
    for (int64_t i = 0; i < shape.numel(); ++i) want.push_back(shape[i].item<int64_t>());
    if (at::IntArrayRef(want) != data.test.inputs.sizes() &&
        c10::multiply_integers(want) == data.test.inputs.numel()) {
      data.test.inputs = data.test.inputs.reshape(want);
    }
  }
  std::vector<std::string> names = data.class_names;
  const auto classes = meta.find("snn_classes");
  if (classes != meta.end() && classes->second.is_text() && !classes->second.strings.empty()) {
    names = classes->second.strings;
    data.test.labels = to_model_labels(data.test.labels, data.class_names, names);
  }
  snn::nir::GraphModule model(file.graph, options);
  // (Synops and firing rates are counted on Sequential models; a graph has none here.)
  const auto m = snn::train::evaluate(
      model, data.test,
      snn::train::EvaluateOptions().batch_size(c.batch_size).activity_metrics(false));
  std::printf("%s: test accuracy %.4f (%lld samples), loss %.4f (NIR graph, convention %s)\n",
              t.run_dir.c_str(), m.test_accuracy, static_cast<long long>(data.test.labels.size(0)),
              m.test_loss, convention.c_str());
  if (t.per_class) print_per_class(model, data.test, names, c.batch_size);
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
  const char* nproc_help =
      "Train data-parallel in N processes on this machine: starts torchrun (c10d + Gloo) with "
      "this command line (threads per process: cores / N)";
  t.train->add_option("--nproc", t.nproc, nproc_help)->check(CLI::Range(1, 1024));

  t.eval = app.add_subcommand(
      "eval", "Evaluate a run's checkpoint on its test data, or on other data (--data, "
              "--data-path: its labels mapped onto the model's classes by name or number)");
  t.eval->add_option("run_dir", t.run_dir,
                     "Run directory, a checkpoint file in one (beside its config.toml), or a NIR "
                     "graph (.nir) as the model")
      ->required();
  t.eval->add_option("--run", t.eval_run,
                     "With a NIR model: evaluate on this run's test data (its configuration)");
  t.eval->add_option("--convention", t.convention,
                     "With a NIR model: whose discretisation its neurons follow: norse, snntorch, "
                     "sinabs (default: what snn export wrote, else norse)")
      ->check(CLI::IsMember({"norse", "snntorch", "sinabs"}));
  t.eval->add_option("--dt", t.dt,
                     "With a NIR model: the time step, in the unit of its time constants "
                     "(default: what snn export wrote, else the convention's)")
      ->check(CLI::PositiveNumber);
  t.eval->add_flag("--per-class", t.per_class,
                   "Also per class: samples, accuracy and the class most often predicted instead");
  add_flags(t.eval, t.eval_flags, false,
            {"data.source", "data.path", "data.label_regex", "data.speaker_regex",
             "data.test_speakers", "data.test_list", "data.test_fraction"});

  t.predict = app.add_subcommand(
      "predict", "Classify sound files with a trained run: the top classes, by name, with their "
                 "probabilities");
  t.predict->add_option("run_dir", t.run_dir,
                        "Run directory, or a checkpoint file in one (beside its config.toml)")
      ->required();
  t.predict->add_option("files", t.predict_files, "Sound files (WAV, FLAC, ...)")
      ->required()
      ->check(CLI::ExistingFile);
  t.predict->add_option("--top", t.top, "Classes shown per file (default 3)")
      ->check(CLI::PositiveNumber);
  t.predict->add_flag("--json", t.json, "One JSON array: per file its top classes");

  t.export_model = app.add_subcommand(
      "export", "Write a trained run's model as a NIR graph, for Sinabs, snnTorch, Norse and the "
                "chips' toolchains (snn eval and snn data inspect read it)");
  t.export_model->add_option("run_dir", t.run_dir,
                             "Run directory, or a checkpoint file in one (beside its config.toml)")
      ->required();
  t.export_model->add_option("--format", t.format, "Output format (default nir)")
      ->check(CLI::IsMember({"nir"}));
  t.export_model->add_option("-o,--out", t.out, "Output file (.nir)")->required();
  t.export_model->add_option("--dt", t.dt,
                             "Time step the file's time constants and delays are written with "
                             "(default: the layers' own: 1 for Sinabs' family, 1e-4 for snnTorch's)")
      ->check(CLI::PositiveNumber);

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
  t.compare->add_option("--nproc", t.nproc, nproc_help)->check(CLI::Range(1, 1024));

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
    if ((*t.train || *t.compare) && t.nproc > 1) exec_torchrun(t);
    if (*t.train) {
      const bool resume = !t.resume.empty();
      RunConfig c = resume ? config_of_run(t.resume) : resolve(t.config_file, t.train_flags);
      const auto dist = snn::train::Distributed::from_environment();
      const fs::path dir = resume            ? fs::path(t.resume)
                           : t.run_dir.empty() ? fs::path("runs") / (c.neuron + "-" + stamp())
                                               : fs::path(t.run_dir);
      const auto data = load_on_every_rank(c, dist.get());
      auto history = train_run(c, dir, resume, data, "snn train --resume " + dir.string(), dist);
      if (dist != nullptr && !dist->is_main()) return 0;
      const auto last = history.back();
      report(dir, "snn train: " + c.neuron, {report_run(c, dir, data, std::move(history))},
             data);
      std::printf("test accuracy %.4f, synops per sample %.4g; run: %s\n", last.test_accuracy,
                  last.synops, dir.c_str());
      return 0;
    }
    if (*t.export_model) {
      export_run(t);
      return 0;
    }
    if (*t.eval && is_nir_file(t.run_dir)) {
      eval_nir(t);
      return 0;
    }
    if (*t.eval) {
      if (!t.eval_run.empty() || !t.convention.empty() || t.dt > 0) {
        throw CLI::ValidationError("--run, --convention and --dt apply to a NIR model (.nir); " +
                                   t.run_dir + " is a run");
      }
      const auto paths = run_paths(t.run_dir);
      RunConfig c = config_of_run(paths.dir);
      const RunConfig trained = c;
      // --data and its keys: other data than the run's, mapped onto the model's classes.
      const bool other_data = any_flag(t.eval_flags);
      if (other_data) {
        // How the run's own files were labelled and split does not carry over to other data:
        // the flags say it for the data given.
        const RunConfig fresh = defaults(c.preset);
        c.label_regex = fresh.label_regex;
        c.speaker_regex = fresh.speaker_regex;
        c.test_speakers = fresh.test_speakers;
        c.test_list = fresh.test_list;
        c.test_fraction = fresh.test_fraction;
        apply_flags(t.eval_flags, c);
        validate(c);
        if (snn::train::data_source(c.source).camera != snn::train::data_source(trained.source).camera) {
          throw CLI::ValidationError("--data " + c.source + " is not the kind of data the run was "
                                     "trained on (data.source " + trained.source + ")");
        }
      }
      const bool all_test = other_data && every_file_is_test(c, t.eval_flags);
      auto data = load_for_model(c, all_test);
      const auto model_names = other_data ? classes_of_run(paths.dir, trained) : data.class_names;
      if (other_data) {
        data.test.labels = to_model_labels(data.test.labels, data.class_names, model_names);
      }
      data.classes = static_cast<int64_t>(model_names.size());
      auto model = make_model(c, data);
      snn::train::load_model(paths.checkpoint.string(), *model);
      const auto m = snn::train::evaluate(model, data.test,
                                          snn::train::EvaluateOptions().batch_size(c.batch_size));
      std::printf("%s: test accuracy %.4f (%lld samples), loss %.4f, synops per sample %.4g, "
                  "firing rate %.4f\n",
                  t.run_dir.c_str(), m.test_accuracy,
                  static_cast<long long>(data.test.labels.size(0)), m.test_loss, m.synops,
                  m.firing_rate);
      if (t.per_class) print_per_class(model, data.test, model_names, c.batch_size);
      return 0;
    }
    if (*t.predict) {
      predict_files(t);
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
      const auto dist = snn::train::Distributed::from_environment();
      const bool main_rank = dist == nullptr || dist->is_main();
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
        if (main_rank) {
          fs::create_directories(dir);
          write_comparison(dir, neurons);
        }
      }
      const auto data_start = std::chrono::steady_clock::now();
      const auto data = load_on_every_rank(base, dist.get());
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
                                 "snn compare --resume " + dir.string(), dist);
        if (!main_rank) continue;
        // The epochs' times (of this process and of the one resumed), evaluations included.
        double seconds = 0;
        for (const auto& m : history) seconds += m.seconds;
        rows.push_back({neuron, history.back(), seconds});
        runs.push_back(report_run(c, dir / neuron, data, std::move(history)));
      }
      if (!main_rank) return 0;
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
