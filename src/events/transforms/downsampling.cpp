// Tonic's EventDownsampling (Ghosh et al. 2023): integrator and differentiator downsampling.
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <utility>
#include <vector>

#include "util/text_spec.h"
#include "snn/events/transforms.h"

namespace snn::events {
namespace {

constexpr const char* kName = "snn::events::EventDownsampling";

// Python's float floor division a // b (its algorithm, so that times which Tonic computes
// in floating point land in the same frame here).
double py_floordiv(double a, double b) {
  double mod = std::fmod(a, b);
  double div = (a - mod) / b;
  if (mod != 0 && ((b < 0) != (mod < 0))) div -= 1.0;
  if (div == 0) return std::copysign(0.0, a / b);
  double floordiv = std::floor(div);
  if (div - floordiv > 0.5) floordiv += 1.0;
  return floordiv;
}

// One integrator step that fired: its index and every target pixel's integrated value
// before the reset (row-major, y then x).
struct Step {
  int64_t index;
  std::vector<int64_t> v;
};

// The integrator: events scaled into the target sensor, counted per window of dt_us (as
// ToFrame(time_window=dt_us)), ON - OFF integrated per pixel. Calls emit(step) for each step
// in which a pixel fired, with v before the reset.
template <typename Emit>
void integrate(const Events& e, int64_t W2, int64_t H2, double dt_us, int64_t threshold,
               Emit emit) {
  const double fx = static_cast<double>(W2) / static_cast<double>(e.sensor().width);
  const double fy = static_cast<double>(H2) / static_cast<double>(e.sensor().height);
  Events scaled(SensorSize{W2, H2, 2}, true);
  scaled.reserve(e.size());
  for (int64_t i = 0; i < e.size(); ++i) {
    TORCH_CHECK(e.p[i] == 0 || e.p[i] == 1, kName, ": event ", i, " has polarity ", e.p[i],
                ", expected 0 (OFF) or 1 (ON)");
    scaled.push_back(e.t[i], static_cast<int64_t>(static_cast<double>(e.x[i]) * fx),
                     static_cast<int64_t>(static_cast<double>(e.y[i]) * fy), e.p[i]);
  }
  const at::Tensor frames = ToFrame(ToFrameOptions().time_window(dt_us)).apply(scaled).contiguous();
  const int64_t T = frames.size(0), n = W2 * H2;
  const int32_t* f = frames.const_data_ptr<int32_t>();
  Step step{0, std::vector<int64_t>(static_cast<size_t>(n), 0)};
  auto& v = step.v;
  for (int64_t k = 0; k < T; ++k) {
    const int32_t* off = f + k * 2 * n;
    const int32_t* on = off + n;
    bool fired = false;
    for (int64_t j = 0; j < n; ++j) {
      v[j] += on[j] - off[j];
      fired = fired || v[j] >= threshold || -v[j] >= threshold;
    }
    if (!fired) continue;
    step.index = k;
    emit(static_cast<const Step&>(step));
    for (int64_t j = 0; j < n; ++j) {
      if (v[j] >= threshold || -v[j] >= threshold) v[j] = 0;
    }
  }
}

}  // namespace

EventDownsampling::EventDownsampling(EventDownsamplingOptions options)
    : options_(std::move(options)) {
  const auto& o = options_;
  TORCH_CHECK(o.target_size().first >= 1 && o.target_size().second >= 1 &&
                  o.target_size().first <= 32768 && o.target_size().second <= 32768,
              kName, ": target_size must lie in [1, 32768] in both axes, got target_size=(",
              o.target_size().first, ", ", o.target_size().second, ")");
  TORCH_CHECK(o.dt() > 0 && std::isfinite(o.dt()), kName,
              ": dt must be > 0 (milliseconds), got dt=", o.dt());
  TORCH_CHECK(o.noise_threshold() >= 0, kName,
              ": noise_threshold must be >= 0, got noise_threshold=", o.noise_threshold());
  TORCH_CHECK(o.differentiator_time_bins() >= 1, kName,
              ": differentiator_time_bins must be >= 1, got differentiator_time_bins=",
              o.differentiator_time_bins());
  TORCH_CHECK(o.downsampling_method() == EventDownsamplingMethod::Integrator ||
                  o.downsampling_method() == EventDownsamplingMethod::Differentiator,
              kName, ": unknown downsampling_method ", static_cast<int>(o.downsampling_method()));
}

Events EventDownsampling::apply(const Events& e, Rng&) const {
  const auto& o = options_;
  TORCH_CHECK(e.has_y(), kName,
              ": needs events with a y column, got audio-shaped (t, x, p) events of sensor ",
              e.sensor());
  e.check_within_sensor("EventDownsampling");
  const int64_t W2 = o.target_size().first, H2 = o.target_size().second;
  Events out(SensorSize{W2, H2, 2}, true);
  if (e.empty()) return out;
  const int64_t threshold = o.noise_threshold();
  const int64_t n = W2 * H2;

  if (o.downsampling_method() == EventDownsamplingMethod::Integrator) {
    // Tonic: dt (ms) *= 1000 for integer timestamps; t = trunc(k·dt) into int32.
    const double dt_us = o.dt() * 1000.0;
    integrate(e, W2, H2, dt_us, threshold, [&](const Step& s) {
      const auto t = static_cast<int64_t>(static_cast<double>(s.index) * dt_us);
      for (int64_t j = 0; j < n; ++j) {
        if (s.v[j] >= threshold) out.push_back(t, j % W2, j / W2, 1);
      }
      for (int64_t j = 0; j < n; ++j) {
        if (-s.v[j] >= threshold) out.push_back(t, j % W2, j / W2, 0);
      }
    });
    return out;
  }

  // Differentiator: integrator steps of dt / bins (Tonic: (dt / bins)·1000 µs), each step
  // that fired counted into frame floor(step time // (dt·1000)).
  const double step_us = (o.dt() / static_cast<double>(o.differentiator_time_bins())) * 1000.0;
  const double dt_us = o.dt() * 1000.0;
  // counts[f][j][c]: steps of frame f in which pixel j fired with polarity c (0 OFF, 1 ON).
  std::vector<int64_t> counts;
  int64_t n_frames = 0;
  integrate(e, W2, H2, step_us, threshold, [&](const Step& s) {
    const auto f = static_cast<int64_t>(py_floordiv(static_cast<double>(s.index) * step_us, dt_us));
    if (f + 1 > n_frames) {
      n_frames = f + 1;
      counts.resize(static_cast<size_t>(n_frames * n * 2), 0);
    }
    int64_t* c = counts.data() + f * n * 2;
    for (int64_t j = 0; j < n; ++j) {
      c[2 * j + 1] += s.v[j] >= threshold;
      c[2 * j] += -s.v[j] >= threshold;
    }
  });
  // Tonic: diff over frames, clipped at 0; an event where frame f + 1 counts more than f,
  // stamped trunc(f·dt), in (f, y, x, p) order.
  for (int64_t f = 0; f + 1 < n_frames; ++f) {
    const int64_t* a = counts.data() + f * n * 2;
    const int64_t* b = a + n * 2;
    const auto t = static_cast<int64_t>(static_cast<double>(f) * dt_us);
    for (int64_t j = 0; j < n; ++j) {
      for (int64_t c = 0; c < 2; ++c) {
        if (b[2 * j + c] > a[2 * j + c]) out.push_back(t, j % W2, j / W2, c);
      }
    }
  }
  return out;
}

std::string EventDownsampling::repr() const {
  const auto& o = options_;
  // (target_size written by hand: GCC 12 warns falsely on format(std::pair) inlined here.)
  std::string size = "(";
  size += spec::format(o.target_size().first);
  size += ", ";
  size += spec::format(o.target_size().second);
  size += ")";
  std::string s = "EventDownsampling(target_size=";
  s += size;
  s += ", ";
  return s + spec::Repr("")
                 .arg("dt", o.dt())
                 .arg("downsampling_method",
                      std::string(o.downsampling_method() == EventDownsamplingMethod::Differentiator
                                      ? "differentiator"
                                      : "integrator"))
                 .arg("noise_threshold", o.noise_threshold())
                 .arg("differentiator_time_bins", o.differentiator_time_bins())
                 .str()
                 .substr(1);
}

}  // namespace snn::events
