// Dense representations (Tonic's ToFrame, ToImage, ToVoxelGrid, ToTimesurface, ToBinaRep,
// ToAveragedTimesurface), and parse_representation.
#include <ATen/Parallel.h>
#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <limits>
#include <new>

#include "events/transforms/frames.h"
#include "util/text_spec.h"
#include "util/target_clones.h"
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

std::vector<IndexRange> detail::frame_ranges(const ToFrameOptions& o, const Events& e) {
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
  return ranges;
}

at::Tensor ToFrame::apply(const Events& e) const {
  const auto& o = options_;
  e.check_within_sensor("ToFrame");
  TORCH_CHECK(e.size() <= std::numeric_limits<int32_t>::max(),
              "snn::events::ToFrame: counts are int32; got ", e.size(), " events");
  const auto ch = channels("ToFrame", e);
  const auto ranges = detail::frame_ranges(o, e);
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

// ToVoxelGrid's per-event arithmetic, for events [0, m) of a chunk: ts = n·(t - t0) / span
// (0 when span == 0), ti = trunc(ts), dt = ts - ti, pol = p, or -1 for p = 0; the event's
// cell in bin ti, and its weights pol·(1 - dt) for bin ti and pol·dt for bin ti + 1. Plain
// arithmetic without branches or selects, so that it vectorises (one pass per chunk; the
// scatter that follows is then cheap).
SNN_TARGET_CLONES
static void voxel_weights(const int64_t* t, const int16_t* x, const int16_t* y, const int16_t* p,
                          int64_t m, double t0, double span, double n, int64_t W, int64_t plane,
                          int64_t* bin, int64_t* cell, double* left, double* right) {
  const double zero_span = span == 0 ? 1.0 : 0.0;  // ts = 0 / 1 when span == 0
  const double denominator = span + zero_span;
  const double numerator_scale = 1.0 - zero_span;
  for (int64_t i = 0; i < m; ++i) {
    const double ts = numerator_scale * (n * (static_cast<double>(t[i]) - t0)) / denominator;
    const auto ti = static_cast<int64_t>(ts);
    const double dt = ts - static_cast<double>(ti);
    const double pol = static_cast<double>(p[i] - (p[i] == 0));
    bin[i] = ti;
    cell[i] = ti * plane + y[i] * W + x[i];
    left[i] = pol * (1.0 - dt);
    right[i] = pol * dt;
  }
}

ToVoxelGrid::ToVoxelGrid(int64_t n_time_bins) : n_time_bins_(n_time_bins) {
  TORCH_CHECK(n_time_bins >= 1,
              "snn::events::ToVoxelGrid: n_time_bins must be >= 1, got n_time_bins=", n_time_bins);
}

at::Tensor ToVoxelGrid::apply(const Events& e) const {
  TORCH_CHECK(e.sensor().polarities == 2,
              "snn::events::ToVoxelGrid: needs a sensor with 2 polarities, got ", e.sensor());
  const int64_t W = e.sensor().width;
  const int64_t H = e.has_y() ? e.sensor().height : 1;
  const int64_t n = n_time_bins_;
  const int64_t plane = H * W;
  if (!e.empty()) e.check_within_sensor("ToVoxelGrid");
  std::vector<double> grid(static_cast<size_t>(n * plane), 0.0);
  if (!e.empty()) {
    const int64_t* t = e.t.data();
    const double t0 = static_cast<double>(t[0]);
    const auto span = static_cast<double>(t[e.size() - 1] - t[0]);
    constexpr int64_t kChunk = 1024;
    std::vector<int64_t> bin(kChunk), cell(kChunk);
    std::vector<double> left(kChunk), right(kChunk);
    double* g = grid.data();
    for (int64_t begin = 0; begin < e.size(); begin += kChunk) {
      const int64_t m = std::min(kChunk, e.size() - begin);
      voxel_weights(t + begin, e.x.data() + begin, e.y.data() + begin, e.p.data() + begin, m, t0,
                    span, static_cast<double>(n), W, plane, bin.data(), cell.data(), left.data(),
                    right.data());
      for (int64_t i = 0; i < m; ++i) {
        // Sorted events: ts in [0, n]; bin ti < n gets the left weight, bin ti + 1 < n the
        // right one (unsorted events may fall outside; those parts are dropped).
        const int64_t ti = bin[i];
        if (ti >= 0 && ti < n) g[cell[i]] += left[i];
        if (ti + 1 >= 0 && ti + 1 < n) g[cell[i] + plane] += right[i];
      }
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

// ---- ToBinaRep ----------------------------------------------------------------------------------

ToBinaRep::ToBinaRep(ToBinaRepOptions options) : options_(std::move(options)) {
  TORCH_CHECK(options_.n_frames() >= 1,
              "snn::events::ToBinaRep: n_frames must be >= 1, got n_frames=", options_.n_frames());
  TORCH_CHECK(options_.n_bits() >= 2 && options_.n_bits() <= 63,
              "snn::events::ToBinaRep: n_bits must lie in [2, 63], got n_bits=", options_.n_bits());
  TORCH_CHECK(options_.n_frames() <= std::numeric_limits<int64_t>::max() / options_.n_bits(),
              "snn::events::ToBinaRep: n_frames·n_bits overflows, got n_frames=",
              options_.n_frames(), ", n_bits=", options_.n_bits());
}

at::Tensor ToBinaRep::apply(const Events& e) const {
  const int64_t T = options_.n_frames();
  const int64_t N = options_.n_bits();
  const auto frames = ToFrame(ToFrameOptions().n_time_bins(T * N)).apply(e);
  const int32_t* f = frames.data_ptr<int32_t>();
  const int64_t size = frames.numel() / (T * N);
  std::vector<int64_t> shape = frames.sizes().vec();
  shape[0] = T;
  auto out = at::empty(shape, at::TensorOptions().dtype(at::kFloat));
  float* o = out.data_ptr<float>();
  const auto scale = static_cast<double>((uint64_t{1} << N) - 1);
  for (int64_t k = 0; k < T; ++k) {
    const int32_t* group = f + k * N * size;
    for (int64_t j = 0; j < size; ++j) {
      uint64_t code = 0;
      for (int64_t b = 0; b < N; ++b) code = (code << 1) | uint64_t(group[b * size + j] > 0);
      o[k * size + j] = static_cast<float>(static_cast<double>(code) / scale);
    }
  }
  return out;
}

std::string ToBinaRep::repr() const {
  return Repr("ToBinaRep")
      .arg("n_frames", options_.n_frames())
      .arg("n_bits", options_.n_bits())
      .str();
}

// ---- ToAveragedTimesurface ----------------------------------------------------------------------

ToAveragedTimesurface::ToAveragedTimesurface(ToAveragedTimesurfaceOptions options)
    : options_(std::move(options)) {
  const auto& o = options_;
  TORCH_CHECK(
      o.cell_size() >= 1,
      "snn::events::ToAveragedTimesurface: cell_size must be >= 1, got cell_size=", o.cell_size());
  TORCH_CHECK(
      o.surface_size() >= 1 && o.surface_size() % 2 == 1 && o.surface_size() <= o.cell_size(),
      "snn::events::ToAveragedTimesurface: surface_size must be odd and in [1, "
      "cell_size], got surface_size=",
      o.surface_size(), " with cell_size=", o.cell_size());
  TORCH_CHECK(o.time_window() >= 0 && std::isfinite(o.time_window()),
              "snn::events::ToAveragedTimesurface: time_window must be >= 0, got time_window=",
              o.time_window());
  TORCH_CHECK(o.tau() > 0 && std::isfinite(o.tau()),
              "snn::events::ToAveragedTimesurface: tau must be > 0, got tau=", o.tau());
}

at::Tensor ToAveragedTimesurface::apply(const Events& e) const {
  const auto& o = options_;
  e.check_within_sensor("ToAveragedTimesurface");
  const auto ch = channels("ToAveragedTimesurface", e);
  const int64_t P = e.sensor().polarities;
  const int64_t cell = o.cell_size();
  const int64_t S = o.surface_size();
  const int64_t r = S / 2;
  const int64_t grid_w = (e.sensor().width + cell - 1) / cell;
  const int64_t grid_h = e.has_y() ? (e.sensor().height + cell - 1) / cell : 1;
  const int64_t buckets = grid_w * grid_h * P;
  // Counting sort of the events by (cell, channel), keeping their order within each.
  std::vector<int64_t> bucket(e.p.size()), start(buckets + 1, 0), order(e.p.size());
  for (int64_t i = 0; i < e.size(); ++i) {
    const int64_t y = e.has_y() ? e.y[i] : 0;
    bucket[i] = ((y / cell) * grid_w + e.x[i] / cell) * P + ch[i];
    ++start[bucket[i] + 1];
  }
  for (int64_t b = 0; b < buckets; ++b) start[b + 1] += start[b];
  {
    std::vector<int64_t> next(start.begin(), start.end() - 1);
    for (int64_t i = 0; i < e.size(); ++i) order[next[bucket[i]]++] = i;
  }
  // Sorted times let the scan of past events stop at the window's start; otherwise every
  // earlier event of the bucket is looked at, as Tonic does.
  const bool sorted = std::is_sorted(e.t.begin(), e.t.end());
  const bool linear = o.decay() == TimesurfaceDecay::Linear;
  auto out = e.has_y()
                 ? at::empty({grid_w * grid_h, P, S, S}, at::TensorOptions().dtype(at::kFloat))
                 : at::empty({grid_w, P, S}, at::TensorOptions().dtype(at::kFloat));
  float* dst = out.data_ptr<float>();
  const int64_t rows = e.has_y() ? S : 1;
  at::parallel_for(0, buckets, 1, [&](int64_t begin, int64_t end) {
    std::vector<double> acc(static_cast<size_t>(S * S));
    for (int64_t b = begin; b < end; ++b) {
      std::fill(acc.begin(), acc.end(), 0.0);
      for (int64_t k = start[b]; k < start[b + 1]; ++k) {
        const int64_t i = order[k];
        const auto ti = static_cast<double>(e.t[i]);
        const double window_start = ti - o.time_window();
        acc[r * S + r] += 1;
        for (int64_t q = k - 1; q >= start[b]; --q) {
          const int64_t j = order[q];
          const auto tj = static_cast<double>(e.t[j]);
          if (tj < window_start) {
            if (sorted) break;
            continue;
          }
          const int64_t dx = e.x[j] - e.x[i];
          const int64_t dy = e.has_y() ? e.y[j] - e.y[i] : 0;
          if (dx < -r || dx > r || dy < -r || dy > r) continue;
          const double age = ti - tj;
          acc[(dy + r) * S + dx + r] += linear ? 1 - age / (3 * o.tau()) : std::exp(-age / o.tau());
        }
      }
      const auto n = static_cast<double>(std::max<int64_t>(1, start[b + 1] - start[b]));
      // Audio keeps the centre row only (no neighbour lies off it).
      const double* src = e.has_y() ? acc.data() : acc.data() + r * S;
      for (int64_t j = 0; j < rows * S; ++j) dst[b * rows * S + j] = static_cast<float>(src[j] / n);
    }
  });
  return out;
}

std::string ToAveragedTimesurface::repr() const {
  const auto& o = options_;
  return Repr("ToAveragedTimesurface")
      .arg("surface_size", o.surface_size())
      .arg("cell_size", o.cell_size())
      .arg("time_window", o.time_window())
      .arg("tau", o.tau())
      .arg("decay", std::string(o.decay() == TimesurfaceDecay::Linear ? "lin" : "exp"))
      .str();
}

// ---- parse_representation -----------------------------------------------------------------------

RepresentationPtr parse_representation(const std::string& text) {
  constexpr const char* kWhat = "snn::events::parse_representation";
  const spec::Value call = spec::parse(text, kWhat);
  spec::Args a(call, kWhat);
  RepresentationPtr r;
  if (call.text == "ToFrame" || call.text == "ToSparseTensor") {
    const auto o = ToFrameOptions()
                       .time_window(a.optional_real("time_window"))
                       .event_count(a.optional_integer("event_count"))
                       .n_time_bins(a.optional_integer("n_time_bins"))
                       .n_event_bins(a.optional_integer("n_event_bins"))
                       .overlap(a.real("overlap", 0.0))
                       .include_incomplete(a.boolean("include_incomplete", false))
                       .start_time(a.optional_real("start_time"))
                       .end_time(a.optional_real("end_time"));
    if (call.text == "ToFrame") {
      r = std::make_shared<ToFrame>(o);
    } else {
      r = std::make_shared<ToSparseTensor>(o);
    }
  } else if (call.text == "ToBinaRep") {
    r = std::make_shared<ToBinaRep>(
        ToBinaRepOptions().n_frames(a.integer("n_frames", 1)).n_bits(a.integer("n_bits", 8)));
  } else if (call.text == "ToAveragedTimesurface") {
    const ToAveragedTimesurfaceOptions d;
    r = std::make_shared<ToAveragedTimesurface>(
        ToAveragedTimesurfaceOptions()
            .surface_size(a.integer("surface_size", d.surface_size()))
            .cell_size(a.integer("cell_size", d.cell_size()))
            .time_window(a.real("time_window", d.time_window()))
            .tau(a.real("tau", d.tau()))
            .decay(a.choice("decay", {"exp", "lin"}, "exp") == "lin"
                       ? TimesurfaceDecay::Linear
                       : TimesurfaceDecay::Exponential));
  } else if (call.text == "ToImage") {
    r = std::make_shared<ToImage>();
  } else if (call.text == "ToVoxelGrid") {
    r = std::make_shared<ToVoxelGrid>(a.integer("n_time_bins"));
  } else if (call.text == "ToTimesurface") {
    r = std::make_shared<ToTimesurface>(a.real("dt"), a.real("tau"));
  } else {
    TORCH_CHECK(false, kWhat, ": unknown representation '", call.text,
                "' (known: ToAveragedTimesurface, ToBinaRep, ToFrame, ToImage, ToSparseTensor, "
                "ToTimesurface, ToVoxelGrid)");
  }
  a.finish();
  return r;
}

}  // namespace snn::events
