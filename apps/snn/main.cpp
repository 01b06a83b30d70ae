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
#include <sstream>

#include "snn/events/io.h"
#include "snn/events/stats.h"
#include "snn/events/transforms.h"
#include "snn/io/image.h"
#include "snn/version.h"

namespace {

namespace ev = snn::events;

struct Input {
  std::string path;
  std::string format = "auto";
  int64_t sample = -1;  // HDF5 files hold many samples
};

void add_input(CLI::App* cmd, Input& in, const char* what) {
  cmd->add_option("file", in.path, what)->required()->check(CLI::ExistingFile);
  cmd->add_option("--format", in.format,
                  "File format: auto, nmnist, evt2, evt3, dat, aedat3, hdf5 (default: auto)");
  cmd->add_option("--sample", in.sample, "Sample index, for HDF5 (SHD/SSC) files")
      ->check(CLI::NonNegativeNumber);
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
  return ev::read_events(in.path, format_of(in));
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

void inspect(const Input& in) {
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
    ev::EventFileReader reader(in.path, format);
    const auto& s = reader.sensor();
    std::printf("sensor:    %lld x %lld, %lld polarities\n", static_cast<long long>(s.width),
                static_cast<long long>(s.height), static_cast<long long>(s.polarities));
    while (!reader.done()) stats.add(reader.next(1 << 20));
  }
  print_stats(stats);
}

void convert(const Input& in, const std::string& out, std::string out_format,
             const std::string& transform) {
  auto events = load(in);
  if (!transform.empty()) events = ev::parse_transform(transform)->apply(events, 0);
  if (out_format == "auto") {
    const auto ext = std::filesystem::path(out).extension().string();
    out_format = ext == ".bin"     ? "nmnist"
                 : ext == ".raw"   ? "evt2"
                 : ext == ".dat"   ? "dat"
                 : ext == ".aedat" ? "aedat3"
                                   : "";
    TORCH_CHECK(!out_format.empty(), "cannot tell the output format from '", out,
                "': use --out-format nmnist|evt2|evt3|dat|aedat3");
  }
  ev::write_events(events, out, ev::parse_format(out_format));
  std::printf("wrote %lld events to %s (%s)\n", static_cast<long long>(events.size()), out.c_str(),
              out_format.c_str());
}

void plot(const Input& in, const std::string& out, int64_t n_frames, int delay_cs) {
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
    snn::io::write_png(out, on);
  } else {
    const auto frames = ev::ToFrame(ev::ToFrameOptions().n_time_bins(n_frames)).apply(events);
    const auto rgb = snn::io::frames_to_rgb(frames);
    if (ext == ".gif") {
      snn::io::write_gif(out, rgb, delay_cs);
    } else {
      snn::io::write_png(out, snn::io::frames_to_rgb(frames.sum(0, /*keepdim=*/true))[0]);
    }
  }
  std::printf("wrote %s\n", out.c_str());
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "snn: train and evaluate spiking neural networks, and inspect event data "
      "(snn.cpp)",
      "snn"};
  app.set_version_flag("-V,--version", std::string("snn ") + snn::version());
  app.require_subcommand(0, 1);

  auto* data = app.add_subcommand("data", "Event data: inspect, convert, plot");
  data->require_subcommand(1);

  Input inspect_in;
  auto* inspect_cmd = data->add_subcommand(
      "inspect", "Format, sensor size, events, duration, rate and polarity balance of a file");
  add_input(inspect_cmd, inspect_in, "Event file");

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
  auto* plot_cmd = data->add_subcommand(
      "plot", "Plot events: a raster (audio), an image (.png) or an animation of frames (.gif)");
  add_input(plot_cmd, plot_in, "Event file");
  plot_cmd->add_option("-o,--out", plot_out, "Output .png or .gif")->required();
  plot_cmd->add_option("--frames", n_frames, "Number of time bins (default 20)")
      ->check(CLI::PositiveNumber);
  plot_cmd->add_option("--delay", delay_cs, "GIF frame delay, 1/100 s (default 10)")
      ->check(CLI::Range(0, 65535));

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 exits 0 for --help/--version; usage errors exit 2.
    return app.exit(e) == 0 ? 0 : 2;
  }
  try {
    if (*inspect_cmd) {
      inspect(inspect_in);
    } else if (*convert_cmd) {
      convert(convert_in, convert_out, out_format, transform);
    } else if (*plot_cmd) {
      plot(plot_in, plot_out, n_frames, delay_cs);
    } else {
      std::cout << app.help();
    }
  } catch (const c10::Error& e) {
    std::cerr << "snn: error: " << e.what_without_backtrace() << "\n";
    return 2;
  } catch (const std::exception& e) {
    std::cerr << "snn: error: " << e.what() << "\n";
    return 2;
  }
  return 0;
}
