// torch.ops.snn_bench: times snn.cpp's C++ API in-process, for the benchmark scripts
// (bench/*.py), so that they can print what a C++ user gets (no tensor <-> events
// conversion) beside the Python-visible ops and the Python peers, all in the same run.
// Built as libsnn_bench.so; not part of the library.
#include <torch/library.h>

#include <algorithm>
#include <chrono>
#include <vector>

#include "snn/events/io.h"
#include "snn/events/transforms.h"

namespace {

namespace ev = snn::events;

template <typename F>
double median_seconds(int64_t repeats, F&& f) {
  TORCH_CHECK(repeats >= 1, "snn_bench: repeats must be >= 1, got ", repeats);
  f();  // warm-up
  std::vector<double> times;
  for (int64_t r = 0; r < repeats; ++r) {
    const auto t0 = std::chrono::steady_clock::now();
    f();
    times.push_back(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count());
  }
  std::nth_element(times.begin(), times.begin() + times.size() / 2, times.end());
  return times[times.size() / 2];
}

// Median time of one read_events of `path`.
double read_seconds(c10::string_view path, int64_t repeats) {
  const std::string p(path);
  return median_seconds(repeats, [&] { return ev::read_events(p).size(); });
}

// Median time of reading every sample of an SHD/SSC HDF5 file through one HSDFile (as the
// SHD and SSC datasets do).
double hsd_read_seconds(c10::string_view path, int64_t repeats) {
  const std::string p(path);
  return median_seconds(repeats, [&] {
    ev::HSDFile file(p);
    int64_t events = 0;
    for (int64_t i = 0; i < file.size(); ++i) events += file.events(i).size();
    return events;
  });
}

// Median time of applying `spec` (a transform, or a representation when `dense`) to the
// events, which are converted from the tensor once, outside the timing.
double apply_seconds(const at::Tensor& events, c10::IntArrayRef sensor, bool has_y,
                     c10::string_view spec, bool dense, int64_t repeats) {
  TORCH_CHECK(sensor.size() == 3, "snn_bench: expected sensor_size (W, H, P), got ", sensor);
  const auto e = ev::Events::from_tensor(events, {sensor[0], sensor[1], sensor[2]}, has_y);
  if (dense) {
    const auto r = ev::parse_representation(std::string(spec));
    return median_seconds(repeats, [&] { return r->apply(e).numel(); });
  }
  const auto t = ev::parse_transform(std::string(spec));
  return median_seconds(repeats, [&] { return t->apply(e, 0).size(); });
}

}  // namespace

TORCH_LIBRARY(snn_bench, m) {
  m.def("read_seconds(str path, int repeats) -> float", &read_seconds);
  m.def("hsd_read_seconds(str path, int repeats) -> float", &hsd_read_seconds);
  m.def("apply_seconds(Tensor events, int[] sensor_size, bool has_y, str spec, bool dense, "
        "int repeats) -> float",
        &apply_seconds);
}
