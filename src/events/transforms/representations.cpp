// Dense representations (Tonic's ToFrame, ToVoxelGrid, ToTimesurface), and parse_representation.
#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>

#include "events/transforms/spec.h"
#include "snn/events/slicers.h"
#include "snn/events/transforms.h"

namespace snn::events {
namespace {

using spec::Repr;

// The channel of each event: with one polarity every event counts in channel 0 (Tonic
// requires a single polarity value there); otherwise p itself, which must lie in [0, P).
std::vector<int16_t> channels(const char* name, const Events& e) {
  const int64_t P = e.sensor().polarities;
  TORCH_CHECK(P >= 1, "snn::events::", name, ": the sensor needs >= 1 polarity, got ", e.sensor());
  std::vector<int16_t> c(e.p.size(), 0);
  if (P == 1) {
    for (int64_t i = 1; i < e.size(); ++i) {
      TORCH_CHECK(e.p[i] == e.p[0], "snn::events::", name,
                  ": single-polarity sensor, but the events hold polarities ", e.p[0], " and ",
                  e.p[i], " (event ", i, ")");
    }
    return c;
  }
  for (int64_t i = 0; i < e.size(); ++i) {
    TORCH_CHECK(e.p[i] >= 0 && e.p[i] < P, "snn::events::", name, ": event ", i, " has polarity ",
                e.p[i], ", expected one in [0, ", P, ") for the sensor ", e.sensor());
    c[i] = e.p[i];
  }
  return c;
}


// Zeroed int32 memory from calloc: the system hands out zero pages lazily, so a frame
// stack costs only the pages that events touch (at::zeros would write every byte first).
at::Tensor zeros_int32(const std::vector<int64_t>& shape) {
  size_t n = 1;
  for (int64_t d : shape) n *= static_cast<size_t>(d);
  void* p = std::calloc(std::max<size_t>(n, 1), sizeof(int32_t));
  if (p == nullptr) throw std::bad_alloc();
  return at::from_blob(
      p, shape, [](void* q) { std::free(q); }, at::TensorOptions().dtype(at::kInt));
}

// [T, C, H, W] or, for audio, [T, C, W].
std::vector<int64_t> dense_shape(const Events& e, int64_t T, int64_t C) {
  if (e.has_y()) return {T, C, e.sensor().height, e.sensor().width};
  return {T, C, e.sensor().width};
}

}  // namespace

// ---- ToFrame ----------------------------------------------------------------------------------

ToFrame::ToFrame(ToFrameOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  const int given = int(o.time_window().has_value()) + int(o.event_count().has_value()) +
                    int(o.n_time_bins().has_value()) + int(o.n_event_bins().has_value());
  TORCH_CHECK(given == 1,
              "snn::events::ToFrame: give exactly one of time_window, event_count, n_time_bins, "
              "n_event_bins; got ",
              given);
  const bool by_bins = o.n_time_bins() || o.n_event_bins();
  if (o.time_window()) {
    TORCH_CHECK(
        *o.time_window() > 0 && std::isfinite(*o.time_window()),
        "snn::events::ToFrame: time_window must be > 0, got time_window=", *o.time_window());
    TORCH_CHECK(o.overlap() >= 0 && o.overlap() < *o.time_window(),
                "snn::events::ToFrame: overlap must lie in [0, time_window), got overlap=",
                o.overlap(), " with time_window=", *o.time_window());
  }
  if (o.event_count()) {
    TORCH_CHECK(
        *o.event_count() >= 1,
        "snn::events::ToFrame: event_count must be >= 1, got event_count=", *o.event_count());
    TORCH_CHECK(o.overlap() >= 0 && o.overlap() < static_cast<double>(*o.event_count()) &&
                    o.overlap() == std::trunc(o.overlap()),
                "snn::events::ToFrame: with event_count, overlap must be a whole number of events "
                "in [0, event_count), got overlap=",
                o.overlap(), " with event_count=", *o.event_count());
  }
  if (o.n_time_bins()) {
    TORCH_CHECK(
        *o.n_time_bins() >= 1,
        "snn::events::ToFrame: n_time_bins must be >= 1, got n_time_bins=", *o.n_time_bins());
  }
  if (o.n_event_bins()) {
    TORCH_CHECK(
        *o.n_event_bins() >= 1,
        "snn::events::ToFrame: n_event_bins must be >= 1, got n_event_bins=", *o.n_event_bins());
  }
  if (by_bins) {
    TORCH_CHECK(
        o.overlap() >= 0 && o.overlap() < 1,
        "snn::events::ToFrame: with n_time_bins or n_event_bins, overlap is a fraction of a "
        "bin in [0, 1), got overlap=",
        o.overlap());
    TORCH_CHECK(!o.include_incomplete(),
                "snn::events::ToFrame: include_incomplete applies to time_window and event_count "
                "only, got include_incomplete=true with a bin count");
  }
  TORCH_CHECK((!o.start_time() && !o.end_time()) || o.time_window(),
              "snn::events::ToFrame: start_time and end_time apply to time_window only");
}

at::Tensor ToFrame::apply(const Events& e) const {
  const auto& o = options_;
  e.check_within_sensor("ToFrame");
  TORCH_CHECK(e.size() <= std::numeric_limits<int32_t>::max(),
              "snn::events::ToFrame: counts are int32; got ", e.size(), " events");
  const auto ch = channels("ToFrame", e);
  std::vector<IndexRange> ranges;
  if (o.time_window()) {
    ranges = SliceByTime(SliceByTimeOptions(*o.time_window())
                             .overlap(o.overlap())
                             .include_incomplete(o.include_incomplete())
                             .start_time(o.start_time())
                             .end_time(o.end_time()))
                 .slice_indices(e);
    if (ranges.empty()) ranges.resize(1);  // empty events: one empty frame
  } else if (o.event_count()) {
    ranges = SliceByEventCount(*o.event_count(), static_cast<int64_t>(o.overlap()),
                               o.include_incomplete())
                 .slice_indices(e);
  } else if (o.n_time_bins()) {
    ranges = SliceByTimeBins(*o.n_time_bins(), o.overlap()).slice_indices(e);
  } else {
    ranges = SliceByEventBins(*o.n_event_bins(), o.overlap()).slice_indices(e);
  }
  const int64_t T = static_cast<int64_t>(ranges.size());
  const int64_t P = e.sensor().polarities;
  const int64_t W = e.sensor().width;
  const int64_t H = e.has_y() ? e.sensor().height : 1;
  auto frames = zeros_int32(dense_shape(e, T, P));
  int32_t* f = frames.data_ptr<int32_t>();
  const int64_t frame_size = P * H * W;
  // Frames are independent (an event of overlapping windows counts in each of its frames),
  // so large inputs count in parallel over frames; the grain keeps ~64k events per task.
  int64_t total = 0;
  for (const auto& r : ranges) total += r.stop - r.start;
  const int64_t grain = std::max<int64_t>(1, T * 65536 / std::max<int64_t>(total, 1));
  at::parallel_for(0, T, grain, [&](int64_t begin, int64_t end) {
    for (int64_t k = begin; k < end; ++k) {
      int32_t* fk = f + k * frame_size;
      for (int64_t i = ranges[k].start; i < ranges[k].stop; ++i) {
        ++fk[(ch[i] * H + (e.has_y() ? e.y[i] : 0)) * W + e.x[i]];
      }
    }
  });
  return frames;
}

std::string ToFrame::repr() const {
  const auto& o = options_;
  return Repr("ToFrame")
      .arg("time_window", o.time_window())
      .arg("event_count", o.event_count())
      .arg("n_time_bins", o.n_time_bins())
      .arg("n_event_bins", o.n_event_bins())
      .arg("overlap", o.overlap())
      .arg("include_incomplete", o.include_incomplete())
      .arg("start_time", o.start_time())
      .arg("end_time", o.end_time())
      .str();
}

// ---- ToImage

at::Tensor ToImage::apply(const Events& e) const {
  if (e.empty()) return ToFrame(ToFrameOptions().n_event_bins(1)).apply(e).squeeze(0);
  return ToFrame(ToFrameOptions().event_count(e.size())).apply(e).squeeze(0);
}

// ---- ToVoxelGrid ------------------------------------------------------------------------------

ToVoxelGrid::ToVoxelGrid(int64_t n_time_bins) : n_time_bins_(n_time_bins) {
  TORCH_CHECK(n_time_bins >= 1,
              "snn::events::ToVoxelGrid: n_time_bins must be >= 1, got n_time_bins=", n_time_bins);
}

at::Tensor ToVoxelGrid::apply(const Events& e) const {
  TORCH_CHECK(e.sensor().polarities == 2,
              "snn::events::ToVoxelGrid: needs a sensor with 2 polarities, got ", e.sensor());
  e.check_within_sensor("ToVoxelGrid");
  const int64_t W = e.sensor().width;
  const int64_t H = e.has_y() ? e.sensor().height : 1;
  const int64_t n = n_time_bins_;
  std::vector<double> grid(static_cast<size_t>(n * H * W), 0.0);
  if (!e.empty()) {
    const double t0 = static_cast<double>(e.t.front());
    const auto span = static_cast<double>(e.t.back() - e.t.front());
    for (int64_t i = 0; i < e.size(); ++i) {
      // As Tonic: ts = n·(t - t0) / (t_last - t0); all at one time -> bin 0.
      const double ts =
          span != 0 ? static_cast<double>(n) * (static_cast<double>(e.t[i]) - t0) / span : 0.0;
      const auto ti = static_cast<int64_t>(ts);
      const double dt = ts - static_cast<double>(ti);
      const double pol = e.p[i] == 0 ? -1.0 : static_cast<double>(e.p[i]);
      const int64_t pixel = (e.has_y() ? e.y[i] : 0) * W + e.x[i];
      if (ti >= 0 && ti < n) grid[ti * H * W + pixel] += pol * (1.0 - dt);
      if (ti + 1 >= 0 && ti + 1 < n) grid[(ti + 1) * H * W + pixel] += pol * dt;
    }
  }
  auto out = at::empty(dense_shape(e, n, 1), at::TensorOptions().dtype(at::kFloat));
  float* o = out.data_ptr<float>();
  for (size_t k = 0; k < grid.size(); ++k) o[k] = static_cast<float>(grid[k]);
  return out;
}

std::string ToVoxelGrid::repr() const {
  return Repr("ToVoxelGrid").arg("n_time_bins", n_time_bins_).str();
}

// ---- ToTimesurface ------------------------------------------------------------------------------

ToTimesurface::ToTimesurface(double dt, double tau) : dt_(dt), tau_(tau) {
  TORCH_CHECK(dt > 0 && std::isfinite(dt),
              "snn::events::ToTimesurface: dt must be > 0, got dt=", dt);
  TORCH_CHECK(tau > 0 && std::isfinite(tau),
              "snn::events::ToTimesurface: tau must be > 0, got tau=", tau);
}

at::Tensor ToTimesurface::apply(const Events& e) const {
  e.check_within_sensor("ToTimesurface");
  const auto ch = channels("ToTimesurface", e);
  const auto ranges = SliceByTime(SliceByTimeOptions(dt_)).slice_indices(e);
  const int64_t T = static_cast<int64_t>(ranges.size());
  const int64_t P = e.sensor().polarities;
  const int64_t W = e.sensor().width;
  const int64_t H = e.has_y() ? e.sensor().height : 1;
  const int64_t size = P * H * W;
  std::vector<double> memory(static_cast<size_t>(size), -std::numeric_limits<double>::infinity());
  auto out = at::empty(dense_shape(e, T, P), at::TensorOptions().dtype(at::kFloat));
  float* o = out.data_ptr<float>();
  const double t0 = e.empty() ? 0.0 : static_cast<double>(e.t.front());
  for (int64_t k = 0; k < T; ++k) {
    for (int64_t i = ranges[k].start; i < ranges[k].stop; ++i) {
      memory[(ch[i] * H + (e.has_y() ? e.y[i] : 0)) * W + e.x[i]] = static_cast<double>(e.t[i]);
    }
    const double now = static_cast<double>(k + 1) * dt_ + t0;
    for (int64_t j = 0; j < size; ++j) {
      o[k * size + j] = static_cast<float>(std::exp(-(now - memory[j]) / tau_));
    }
  }
  return out;
}

std::string ToTimesurface::repr() const {
  return Repr("ToTimesurface").arg("dt", dt_).arg("tau", tau_).str();
}

// ---- parse_representation -----------------------------------------------------------------------

RepresentationPtr parse_representation(const std::string& text) {
  constexpr const char* kWhat = "snn::events::parse_representation";
  const spec::Value call = spec::parse(text, kWhat);
  spec::Args a(call, kWhat);
  RepresentationPtr r;
  if (call.text == "ToFrame") {
    r = std::make_shared<ToFrame>(ToFrameOptions()
                                      .time_window(a.optional_real("time_window"))
                                      .event_count(a.optional_integer("event_count"))
                                      .n_time_bins(a.optional_integer("n_time_bins"))
                                      .n_event_bins(a.optional_integer("n_event_bins"))
                                      .overlap(a.real("overlap", 0.0))
                                      .include_incomplete(a.boolean("include_incomplete", false))
                                      .start_time(a.optional_real("start_time"))
                                      .end_time(a.optional_real("end_time")));
  } else if (call.text == "ToImage") {
    r = std::make_shared<ToImage>();
  } else if (call.text == "ToVoxelGrid") {
    r = std::make_shared<ToVoxelGrid>(a.integer("n_time_bins"));
  } else if (call.text == "ToTimesurface") {
    r = std::make_shared<ToTimesurface>(a.real("dt"), a.real("tau"));
  } else {
    TORCH_CHECK(false, kWhat, ": unknown representation '", call.text,
                "' (known: ToFrame, ToImage, ToTimesurface, ToVoxelGrid)");
  }
  a.finish();
  return r;
}

}  // namespace snn::events
