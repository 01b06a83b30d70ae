// snn: the command-line tool of snn.cpp. Thin: parses, calls the library, prints.
// Exit codes: 0 success, 2 usage error or bad input (with one line saying what was wrong).
#include <ATen/ATen.h>
#include <c10/util/Exception.h>
#include <CLI/CLI.hpp>

#include <algorithm>
#include <cstdio>
#include <exception>
#include <filesystem>
#include <iostream>
#include <optional>
#include <regex>
#include <sstream>

#include <unistd.h>

#include "snn/audio/cochlea.h"
#include "snn/data/spoken_digits.h"
#include "snn/events/io.h"
#include "snn/events/stats.h"
#include "snn/events/transforms.h"
#include "snn/io/image.h"
#include "snn/memory.h"
#include "snn/nir/graph.h"
#include "snn/version.h"
#include "train.h"

namespace {

namespace ev = snn::events;

struct Input {
  std::string path;
  std::string format = "auto";
  int64_t sample = -1;  // HDF5 files hold many samples
  std::string sensor;   // WxH or WxHxP; empty: the header's, else the format's default
};

void add_input(CLI::App* cmd, Input& in, const char* what) {
  cmd->add_option("file", in.path, what)->required()->check(CLI::ExistingFile);
  cmd->add_option("--format", in.format,
                  "File format: auto, nmnist, evt2, evt3, dat, aedat3, hdf5; inspect also nir "
                  "(default: auto; .nir files are NIR graphs)");
  cmd->add_option("--sample", in.sample, "Sample index, for HDF5 (SHD/SSC) files")
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--sensor", in.sensor,
                  "Sensor size WxH (or WxHxP, P polarities; default 2), for files whose header "
                  "gives none or a wrong one (default: the header's, else the format's)");
}

ev::ReadOptions read_options(const Input& in) {
  ev::ReadOptions options;
  if (in.sensor.empty()) return options;
  std::smatch m;
  const std::regex form("([0-9]{1,5})x([0-9]{1,5})(x([0-9]{1,3}))?");
  TORCH_CHECK(std::regex_match(in.sensor, m, form) && std::stoll(m[1]) > 0 && std::stoll(m[2]) > 0 &&
                  (!m[4].matched || std::stoll(m[4]) > 0),
              "--sensor expects WxH or WxHxP with positive numbers (e.g. 34x34), got '", in.sensor,
              "'");
  options.sensor = ev::SensorSize{std::stoll(m[1]), std::stoll(m[2]),
                                  m[4].matched ? std::stoll(m[4]) : 2};
  return options;
}

ev::FileFormat format_of(const Input& in) {
  const auto f = ev::parse_format(in.format);
  return f == ev::FileFormat::Auto ? ev::detect_format(in.path) : f;
}

ev::Events load(const Input& in) {
  if (format_of(in) == ev::FileFormat::HDF5) {
    ev::HSDFile file(in.path);
    TORCH_CHECK(in.sample >= 0, in.path, " holds ", file.size(),
                " samples: choose one with --sample N");
    TORCH_CHECK(in.sample < file.size(), "--sample ", in.sample, " out of range: ", in.path,
                " holds ", file.size(), " samples");
    return file.events(in.sample);
  }
  TORCH_CHECK(in.sample < 0, "--sample applies to HDF5 files only; ", in.path, " is ",
              ev::format_name(format_of(in)));
  return ev::read_events(in.path, format_of(in), read_options(in));
}

void print_stats(const ev::EventStats& s) {
  std::printf("events:    %lld\n", static_cast<long long>(s.count));
  if (s.count == 0) return;
  std::printf("time:      %lld .. %lld us (duration %.6f s)\n", static_cast<long long>(s.t_min),
              static_cast<long long>(s.t_max), s.duration_s());
  std::printf("rate:      %.1f events/s\n", s.rate_hz());
  std::printf("polarity: ");
  for (size_t p = 0; p < s.polarity_counts.size(); ++p) {
    std::printf(" p%zu %lld (%.1f%%)", p, static_cast<long long>(s.polarity_counts[p]),
                100.0 * s.polarity_counts[p] / s.count);
  }
  std::printf("\n");
}

bool is_nir(const Input& in) {
  if (in.format == "nir") return true;
  const auto ext = std::filesystem::path(in.path).extension().string();
  return in.format == "auto" && (ext == ".nir" || ext == ".NIR");
}

// A NIR graph: its version, nodes with their parameters' shapes, edges.
void inspect_nir(const Input& in) {
  TORCH_CHECK(in.sample < 0 && in.sensor.empty(), "--sample and --sensor apply to event files; ",
              in.path, " is a NIR graph");
  const auto file = snn::nir::read(in.path);
  std::printf("file:      %s\nformat:    NIR graph (version %s)\nnodes:     %zu\n",
              in.path.c_str(), file.version.empty() ? "not given" : file.version.c_str(),
              file.graph.nodes.size());
  std::printf("%s", snn::nir::describe(file.graph).c_str());
}

void inspect(const Input& in) {
  if (is_nir(in)) return inspect_nir(in);
  const auto format = format_of(in);
  std::printf("file:      %s\nformat:    %s\n", in.path.c_str(), ev::format_name(format).c_str());
  ev::EventStats stats;
  if (format == ev::FileFormat::HDF5) {
    ev::HSDFile file(in.path);
    std::printf("sensor:    %lld channels (audio)\nsamples:   %lld\n",
                static_cast<long long>(ev::HSDFile::kSensor.width),
                static_cast<long long>(file.size()));
    if (in.sample >= 0) {
      TORCH_CHECK(in.sample < file.size(), "--sample ", in.sample, " out of range: ", in.path,
                  " holds ", file.size(), " samples");
      std::printf("sample:    %lld (label %lld)\n", static_cast<long long>(in.sample),
                  static_cast<long long>(file.label(in.sample)));
      stats.add(file.events(in.sample));
    } else {
      for (int64_t i = 0; i < file.size(); ++i) stats.add(file.events(i));
    }
  } else {
    ev::EventFileReader reader(in.path, format, read_options(in));
    const auto& s = reader.sensor();
    std::printf("sensor:    %lld x %lld, %lld polarities (%s)\n", static_cast<long long>(s.width),
                static_cast<long long>(s.height), static_cast<long long>(s.polarities),
                reader.sensor_origin().c_str());
    int64_t x_max = -1, y_max = -1;
    while (!reader.done()) {
      const auto chunk = reader.next(1 << 20);
      stats.add(chunk);
      for (int64_t i = 0; i < chunk.size(); ++i) {
        x_max = std::max<int64_t>(x_max, chunk.x[i]);
        if (chunk.has_y()) y_max = std::max<int64_t>(y_max, chunk.y[i]);
      }
    }
    if (x_max >= 0) {
      // What the events themselves span, beside what the sensor is said to be.
      std::printf("extent:    x 0..%lld, y 0..%lld\n", static_cast<long long>(x_max),
                  static_cast<long long>(y_max));
    }
  }
  print_stats(stats);
}

void convert(const Input& in, const std::string& out, std::string out_format,
             const std::string& transform) {
  auto events = load(in);
  if (!transform.empty()) events = ev::parse_transform(transform)->apply(events, 0);
  const auto format = out_format == "auto" ? ev::format_from_extension(out)
                                           : ev::parse_format(out_format);
  out_format = ev::format_name(format);
  ev::write_events(events, out, format);
  std::printf("wrote %lld events to %s (%s)\n", static_cast<long long>(events.size()), out.c_str(),
              out_format.c_str());
}

// Scales an image [..., H, W, 3] up by `scale` (nearest neighbour).
at::Tensor upscale(const at::Tensor& rgb, int64_t scale) {
  if (scale == 1) return rgb;
  return rgb.repeat_interleave(scale, -3).repeat_interleave(scale, -2).contiguous();
}

void plot(const Input& in, const std::string& out, int64_t n_frames, int delay_cs,
          int64_t scale) {
  const auto events = load(in);
  TORCH_CHECK(!events.empty(), in.path, " holds no events: nothing to plot");
  const auto ext = std::filesystem::path(out).extension().string();
  TORCH_CHECK(ext == ".png" || ext == ".gif", "the plot must be a .png or .gif file, got '", out,
              "'");
  if (!events.has_y()) {
    // Audio: a raster, time to the right (n_frames columns), channels upwards.
    TORCH_CHECK(ext == ".png", "audio events are plotted as a raster: use a .png file");
    const auto frames = ev::ToFrame(ev::ToFrameOptions().n_time_bins(n_frames)).apply(events);
    // frames [T, P, W] -> image [W (channel, flipped so 0 is at the bottom), T]
    auto counts = frames.sum(1).transpose(0, 1).flip({0});
    auto on = ((counts > 0).to(at::kByte) * 255).unsqueeze(-1).expand({-1, -1, 3}).contiguous();
    snn::io::write_png(out, upscale(on, scale > 0 ? scale : 1));
  } else {
    const auto frames = ev::ToFrame(ev::ToFrameOptions().n_time_bins(n_frames)).apply(events);
    // Default: small sensors (N-MNIST's 34x34) scaled up to at least 256 pixels a side.
    const int64_t side = std::max(events.sensor().width, events.sensor().height);
    const int64_t k = scale > 0 ? scale : std::clamp<int64_t>((256 + side - 1) / side, 1, 16);
    if (ext == ".gif") {
      snn::io::write_gif(out, upscale(snn::io::frames_to_rgb(frames), k), delay_cs);
    } else {
      const auto sum = snn::io::frames_to_rgb(frames.sum(0, /*keepdim=*/true))[0];
      snn::io::write_png(out, upscale(sum, k));
    }
  }
  std::printf("wrote %s\n", out.c_str());
}

// The embedded spoken-digits dataset (snn/data/spoken_digits.h).
void synth_digits(const std::string& out, const snn::data::SpokenDigitsOptions& options) {
  const bool terminal = ::isatty(STDERR_FILENO) != 0;
  int64_t last = -1;
  const auto files = snn::data::make_spoken_digits(out, options, [&](int64_t done, int64_t total) {
    const int64_t percent = 100 * done / total;
    if (terminal && percent != last) {
      std::fprintf(stderr, "\rsynthesising and encoding: %3lld%% (%lld / %lld utterances)",
                   static_cast<long long>(percent), static_cast<long long>(done),
                   static_cast<long long>(total));
      if (done == total) std::fprintf(stderr, "\n");
      last = percent;
    }
  });
  snn::events::HSDFile train(files.train), test(files.test);
  std::printf("%s: %lld samples\n%s: %lld samples (held-out voices)\n", files.train.c_str(),
              static_cast<long long>(train.size()), files.test.c_str(),
              static_cast<long long>(test.size()));
}

// A user's sound files (a folder: every sound file in it, sorted) → one SHD-layout file of
// their spikes.
void encode_audio(const std::vector<std::string>& given, const std::string& out,
                  const std::vector<int64_t>& labels) {
  std::vector<std::string> inputs;
  for (const auto& g : given) {
    if (!std::filesystem::is_directory(g)) {
      inputs.push_back(g);
      continue;
    }
    for (const auto& f : snn::audio::list_sound_files(g)) {
      inputs.push_back((std::filesystem::path(g) / f).string());
    }
  }
  if (!labels.empty() && labels.size() != inputs.size()) {
    throw CLI::ValidationError("--labels", "give one label per sound file (folders expanded: " +
                                               std::to_string(inputs.size()) + "), got " +
                                               std::to_string(labels.size()));
  }
  std::vector<snn::events::Events> samples;
  for (const auto& path : inputs) {
    double rate = 0;
    const auto audio = snn::audio::read_audio(path, rate);
    samples.push_back(snn::audio::encode_audio(audio, rate));
    std::printf("%s: %.2f s at %.0f Hz -> %lld spikes\n", path.c_str(),
                static_cast<double>(audio.size()) / rate, rate,
                static_cast<long long>(samples.back().size()));
  }
  const std::vector<int64_t> l = labels.empty() ? std::vector<int64_t>(inputs.size(), 0) : labels;
  snn::events::write_hsd(out, samples, l);
  std::printf("wrote %s\n", out.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  // Tensors of the same sizes recur in every step: reuse their memory (snn/memory.h).
  snn::memory::set_caching_allocator(true);
  CLI::App app{"snn: train spiking networks; inspect, convert and plot event data (snn.cpp)",
               "snn"};
  app.set_version_flag("-V,--version", std::string("snn ") + snn::version());
  app.require_subcommand(0, 1);

  auto* data = app.add_subcommand(
      "data", "Event data: inspect, convert, plot; make the spoken-digits set; encode audio");
  data->require_subcommand(1);

  Input inspect_in;
  auto* inspect_cmd = data->add_subcommand(
      "inspect", "Format, sensor size, events, duration, rate and polarity balance of an event file; "
      "the nodes, parameters and edges of a NIR graph (.nir)");
  add_input(inspect_cmd, inspect_in, "Event file or NIR graph");

  Input convert_in;
  std::string convert_out, out_format = "auto", transform;
  auto* convert_cmd = data->add_subcommand("convert", "Convert an event file to another format");
  add_input(convert_cmd, convert_in, "Input event file");
  convert_cmd->add_option("out", convert_out, "Output file")->required();
  convert_cmd->add_option("--out-format", out_format,
                          "nmnist, evt2, evt3, dat, aedat3 (default: from the extension)");
  convert_cmd->add_option("--transform", transform,
                          "Transform to apply first, e.g. \"Downsample(spatial_factor=0.5)\"");

  Input plot_in;
  std::string plot_out;
  int64_t n_frames = 20;
  int delay_cs = 10;
  int64_t scale = 0;
  auto* plot_cmd = data->add_subcommand(
      "plot", "Plot events: a raster (audio), an image (.png) or an animation of frames (.gif)");
  add_input(plot_cmd, plot_in, "Event file");
  plot_cmd->add_option("-o,--out", plot_out, "Output .png or .gif")->required();
  plot_cmd->add_option("--frames", n_frames, "Number of time bins (default 20)")
      ->check(CLI::PositiveNumber);
  plot_cmd->add_option("--delay", delay_cs, "GIF frame delay, 1/100 s (default 10)")
      ->check(CLI::Range(0, 65535));
  plot_cmd->add_option("--scale", scale,
                       "Pixels per sensor pixel (nearest neighbour; default: enough for 256 "
                       "pixels a side, at most 16)")
      ->check(CLI::Range(1, 64));

  std::string synth_out;
  snn::data::SpokenDigitsOptions synth;
  uint64_t synth_seed = 0;
  int64_t synth_voices = synth.voices(), synth_renditions = synth.renditions(), synth_threads = 0;
  auto* synth_cmd = data->add_subcommand(
      "synth-digits",
      "Make the embedded spoken-digits dataset (English and German digits, eSpeak NG voices, "
      "a 700-channel cochlea) in SHD's HDF5 layout; cached by its options");
  synth_cmd->add_option("--out", synth_out, "Directory of the two files")->required();
  synth_cmd->add_option("--seed", synth_seed, "Seed (default 0)");
  synth_cmd->add_option("--voices", synth_voices,
                        "Voice variants (default " + std::to_string(synth.voices()) + ")")
      ->check(CLI::Range(int64_t{2}, static_cast<int64_t>(snn::data::spoken_digit_voices().size())));
  synth_cmd->add_option("--renditions", synth_renditions,
                        "Utterances per voice, digit and language (default " +
                            std::to_string(synth.renditions()) + ")")
      ->check(CLI::Range(int64_t{1}, int64_t{1000}));
  bool synth_augment = synth.augment();
  int64_t synth_flite = synth.flite_renditions();
  synth_cmd->add_option("--flite-renditions", synth_flite,
                        "Utterances per CMU Flite voice and English digit, training only (default " +
                            std::to_string(synth.flite_renditions()) + "; 0: none)")
      ->check(CLI::Range(int64_t{0}, int64_t{1000}));
  synth_cmd->add_option("--augment", synth_augment,
                        "Augment towards real recordings: speed, colouring, rooms, noises, 8 kHz "
                        "(default true)");
  synth_cmd->add_option("--threads", synth_threads, "Parallel workers (default: every core)")
      ->check(CLI::Range(int64_t{0}, int64_t{256}));

  std::vector<std::string> audio_in;
  std::string audio_out;
  std::vector<int64_t> audio_labels;
  auto* audio_cmd = data->add_subcommand(
      "encode-audio", "Turn sound files (WAV, FLAC, ...) into spikes with the cochlea, in SHD's layout");
  audio_cmd->add_option("inputs", audio_in, "Sound files, or folders of them (every sound file "
                        "inside, sorted by path)")->required()->check(CLI::ExistingPath);
  audio_cmd->add_option("-o,--out", audio_out, "Output .h5 file")->required();
  audio_cmd->add_option("--labels", audio_labels,
                        "One label per sound file, folders expanded (default: all 0)");

  snn_cli::TrainCommands training;
  snn_cli::add_train_commands(app, training);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 exits 0 for --help/--version; usage errors exit 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  training.argv.assign(argv, argv + argc);
  try {
    if (const int rc = snn_cli::run_train_commands(training); rc >= 0) return rc;
    if (*inspect_cmd) {
      inspect(inspect_in);
    } else if (*convert_cmd) {
      convert(convert_in, convert_out, out_format, transform);
    } else if (*plot_cmd) {
      plot(plot_in, plot_out, n_frames, delay_cs, scale);
    } else if (*synth_cmd) {
      synth_digits(synth_out, synth.seed(synth_seed)
                                  .voices(synth_voices)
                                  .renditions(synth_renditions)
                                  .augment(synth_augment)
                                  .flite_renditions(synth_flite)
                                  .threads(synth_threads));
    } else if (*audio_cmd) {
      encode_audio(audio_in, audio_out, audio_labels);
    } else {
      std::cout << app.help();
    }
  } catch (const ev::OutOfSensorError& e) {
    std::cerr << "snn: error: " << e.what_without_backtrace()
              << (e.sensor_assumed() ? " (give the sensor size with --sensor WxH)" : "") << "\n";
    return 2;
  } catch (const c10::Error& e) {
    std::cerr << "snn: error: " << e.what_without_backtrace() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "snn: error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
