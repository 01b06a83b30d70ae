// Tonic's slicers, and parse_slicer.
#include "snn/events/slicers.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>

#include "util/text_spec.h"

namespace snn::events {
namespace {

using spec::Repr;

// First index with t >= value (NumPy's searchsorted, side left).
int64_t search_left(const Column<int64_t>& t, double value) {
  auto it = std::lower_bound(t.begin(), t.end(), value,
                             [](int64_t a, double v) { return static_cast<double>(a) < v; });
  return it - t.begin();
}

// Whole slice count from a real, as int(np.floor(q) + 1) with a guard against huge values.
int64_t count_from(double q, bool ceil) {
  const double n = (ceil ? std::ceil(q) : std::floor(q)) + 1;
  TORCH_CHECK(n < 1e12, "snn::events: slicing would make ", n, " slices");
  return static_cast<int64_t>(n);
}

}  // namespace

std::vector<Events> Slicer::slice(const Events& events) const {
  const auto ranges = slice_indices(events);
  std::vector<Events> out;
  out.reserve(ranges.size());
  for (size_t k = 0; k < ranges.size(); ++k) {
    out.push_back(piece(events, ranges[k], static_cast<int64_t>(k)));
  }
  return out;
}

Events Slicer::piece(const Events& events, const IndexRange& range, int64_t /*index*/) const {
  return events.slice(range.start, range.stop);
}

// ---- SliceByTime -----------------------------------------------------------------------------

SliceByTime::SliceByTime(SliceByTimeOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  TORCH_CHECK(
      o.time_window() > 0 && std::isfinite(o.time_window()),
      "snn::events::SliceByTime: time_window must be > 0, got time_window=", o.time_window());
  TORCH_CHECK(o.overlap() >= 0 && o.overlap() < o.time_window(),
              "snn::events::SliceByTime: overlap must lie in [0, time_window), got overlap=",
              o.overlap(), " with time_window=", o.time_window());
}

std::vector<IndexRange> SliceByTime::slice_indices(const Events& e) const {
  const auto& o = options_;
  if (e.empty() && !(o.start_time() && o.end_time())) return {};
  const double stride = o.time_window() - o.overlap();
  const double start = o.start_time() ? *o.start_time() : static_cast<double>(e.t.front());
  const double end = o.end_time() ? *o.end_time() : static_cast<double>(e.t.back());
  const int64_t n = std::max<int64_t>(
      count_from((end - start - o.time_window()) / stride, o.include_incomplete()), 1);
  std::vector<IndexRange> out(n);
  for (int64_t i = 0; i < n; ++i) {
    const double ws = static_cast<double>(i) * stride + start;
    out[i] = {search_left(e.t, ws), search_left(e.t, ws + o.time_window())};
  }
  return out;
}

Events SliceByTime::piece(const Events& events, const IndexRange& range, int64_t index) const {
  Events out = events.slice(range.start, range.stop);
  if (options_.reset_time() && index != 0) {
    const double shift = static_cast<double>(index) * (options_.time_window() - options_.overlap());
    for (auto& t : out.t) t = static_cast<int64_t>(static_cast<double>(t) - shift);
  }
  return out;
}

std::string SliceByTime::repr() const {
  return Repr("SliceByTime")
      .arg("time_window", options_.time_window())
      .arg("overlap", options_.overlap())
      .arg("include_incomplete", options_.include_incomplete())
      .arg("start_time", options_.start_time())
      .arg("end_time", options_.end_time())
      .arg("reset_time", options_.reset_time())
      .str();
}

// ---- SliceByTimeBins -------------------------------------------------------------------------

SliceByTimeBins::SliceByTimeBins(int64_t bin_count, double overlap)
    : bin_count_(bin_count), overlap_(overlap) {
  TORCH_CHECK(bin_count >= 1,
              "snn::events::SliceByTimeBins: bin_count must be >= 1, got bin_count=", bin_count);
  TORCH_CHECK(overlap >= 0 && overlap < 1,
              "snn::events::SliceByTimeBins: overlap must lie in [0, 1), got overlap=", overlap);
}

std::vector<IndexRange> SliceByTimeBins::slice_indices(const Events& e) const {
  if (e.empty()) return std::vector<IndexRange>(bin_count_);
  const int64_t d = e.t.back() - e.t.front();
  const int64_t q = d / bin_count_ - ((d % bin_count_ != 0) && (d < 0));  // floor division
  const double window = static_cast<double>(q) * (1 + overlap_);
  const double stride = window * (1 - overlap_);
  std::vector<IndexRange> out(bin_count_);
  for (int64_t i = 0; i < bin_count_; ++i) {
    const double ws = static_cast<double>(i) * stride + static_cast<double>(e.t.front());
    out[i] = {search_left(e.t, ws), search_left(e.t, ws + window)};
  }
  return out;
}

std::string SliceByTimeBins::repr() const {
  return Repr("SliceByTimeBins").arg("bin_count", bin_count_).arg("overlap", overlap_).str();
}

// ---- SliceByEventCount -----------------------------------------------------------------------

SliceByEventCount::SliceByEventCount(int64_t event_count, int64_t overlap, bool include_incomplete)
    : event_count_(event_count), overlap_(overlap), include_incomplete_(include_incomplete) {
  TORCH_CHECK(
      event_count >= 1,
      "snn::events::SliceByEventCount: event_count must be >= 1, got event_count=", event_count);
  TORCH_CHECK(overlap >= 0 && overlap < event_count,
              "snn::events::SliceByEventCount: overlap must lie in [0, event_count), got overlap=",
              overlap, " with event_count=", event_count);
}

std::vector<IndexRange> SliceByEventCount::slice_indices(const Events& e) const {
  const int64_t n_events = e.size();
  const int64_t count = std::min(event_count_, n_events);
  const int64_t stride = event_count_ - overlap_;
  const int64_t n = count_from(static_cast<double>(n_events - count) / static_cast<double>(stride),
                               include_incomplete_);
  std::vector<IndexRange> out(std::max<int64_t>(n, 0));
  for (int64_t i = 0; i < n; ++i) {
    const int64_t s = i * stride;
    out[i] = {std::min(s, n_events), std::min(s + count, n_events)};
  }
  return out;
}

std::string SliceByEventCount::repr() const {
  return Repr("SliceByEventCount")
      .arg("event_count", event_count_)
      .arg("overlap", overlap_)
      .arg("include_incomplete", include_incomplete_)
      .str();
}

// ---- SliceByEventBins ------------------------------------------------------------------------

SliceByEventBins::SliceByEventBins(int64_t bin_count, double overlap)
    : bin_count_(bin_count), overlap_(overlap) {
  TORCH_CHECK(bin_count >= 1,
              "snn::events::SliceByEventBins: bin_count must be >= 1, got bin_count=", bin_count);
  TORCH_CHECK(overlap >= 0 && overlap < 1,
              "snn::events::SliceByEventBins: overlap must lie in [0, 1), got overlap=", overlap);
}

std::vector<IndexRange> SliceByEventBins::slice_indices(const Events& e) const {
  const int64_t n_events = e.size();
  const auto count =
      static_cast<int64_t>(static_cast<double>(n_events / bin_count_) * (1 + overlap_));
  const auto stride = static_cast<int64_t>(static_cast<double>(count) * (1 - overlap_));
  std::vector<IndexRange> out(bin_count_);
  for (int64_t i = 0; i < bin_count_; ++i) {
    out[i] = {std::min(i * stride, n_events), std::min(i * stride + count, n_events)};
  }
  return out;
}

std::string SliceByEventBins::repr() const {
  return Repr("SliceByEventBins").arg("bin_count", bin_count_).arg("overlap", overlap_).str();
}

// ---- SliceAtIndices, SliceAtTimePoints -------------------------------------------------------

SliceAtIndices::SliceAtIndices(std::vector<int64_t> start_indices, std::vector<int64_t> end_indices)
    : start_indices_(std::move(start_indices)), end_indices_(std::move(end_indices)) {
  TORCH_CHECK(start_indices_.size() == end_indices_.size(),
              "snn::events::SliceAtIndices: start_indices and end_indices must have the same "
              "length, got ",
              start_indices_.size(), " and ", end_indices_.size());
  for (size_t i = 0; i < start_indices_.size(); ++i) {
    TORCH_CHECK(0 <= start_indices_[i] && start_indices_[i] <= end_indices_[i],
                "snn::events::SliceAtIndices: expected 0 <= start <= end, got slice ", i,
                ": start_indices[", i, "]=", start_indices_[i], ", end_indices[", i,
                "]=", end_indices_[i]);
  }
}

std::vector<IndexRange> SliceAtIndices::slice_indices(const Events& e) const {
  std::vector<IndexRange> out(start_indices_.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = {std::min(start_indices_[i], e.size()), std::min(end_indices_[i], e.size())};
  }
  return out;
}

std::string SliceAtIndices::repr() const {
  return Repr("SliceAtIndices")
      .arg("start_indices", start_indices_)
      .arg("end_indices", end_indices_)
      .str();
}

SliceAtTimePoints::SliceAtTimePoints(std::vector<double> start_times, std::vector<double> end_times)
    : start_times_(std::move(start_times)), end_times_(std::move(end_times)) {
  TORCH_CHECK(start_times_.size() == end_times_.size(),
              "snn::events::SliceAtTimePoints: start_times and end_times must have the same "
              "length, got ",
              start_times_.size(), " and ", end_times_.size());
  for (size_t i = 0; i < start_times_.size(); ++i) {
    TORCH_CHECK(std::isfinite(start_times_[i]) && start_times_[i] <= end_times_[i],
                "snn::events::SliceAtTimePoints: expected start <= end, got slice ", i,
                ": start_times[", i, "]=", start_times_[i], ", end_times[", i, "]=", end_times_[i]);
  }
}

std::vector<IndexRange> SliceAtTimePoints::slice_indices(const Events& e) const {
  std::vector<IndexRange> out(start_times_.size());
  for (size_t i = 0; i < out.size(); ++i) {
    out[i] = {search_left(e.t, start_times_[i]), search_left(e.t, end_times_[i])};
  }
  return out;
}

std::string SliceAtTimePoints::repr() const {
  return Repr("SliceAtTimePoints")
      .arg("start_times", start_times_)
      .arg("end_times", end_times_)
      .str();
}

// ---- parse_slicer ----------------------------------------------------------------------------

SlicerPtr parse_slicer(const std::string& text) {
  constexpr const char* kWhat = "snn::events::parse_slicer";
  const spec::Value call = spec::parse(text, kWhat);
  spec::Args a(call, kWhat);
  SlicerPtr s;
  const std::string& name = call.text;
  if (name == "SliceByTime") {
    s = std::make_shared<SliceByTime>(
        SliceByTimeOptions(a.real("time_window"))
            .overlap(a.real("overlap", 0.0))
            .include_incomplete(a.boolean("include_incomplete", false))
            .start_time(a.optional_real("start_time"))
            .end_time(a.optional_real("end_time"))
            .reset_time(a.boolean("reset_time", false)));
  } else if (name == "SliceByTimeBins") {
    s = std::make_shared<SliceByTimeBins>(a.integer("bin_count"), a.real("overlap", 0.0));
  } else if (name == "SliceByEventCount") {
    s = std::make_shared<SliceByEventCount>(a.integer("event_count"), a.integer("overlap", 0),
                                            a.boolean("include_incomplete", false));
  } else if (name == "SliceByEventBins") {
    s = std::make_shared<SliceByEventBins>(a.integer("bin_count"), a.real("overlap", 0.0));
  } else if (name == "SliceAtIndices") {
    s = std::make_shared<SliceAtIndices>(a.integers("start_indices"), a.integers("end_indices"));
  } else if (name == "SliceAtTimePoints") {
    s = std::make_shared<SliceAtTimePoints>(a.reals("start_times"), a.reals("end_times"));
  } else {
    TORCH_CHECK(false, kWhat, ": unknown slicer '", name,
                "' (known: SliceAtIndices, SliceAtTimePoints, SliceByEventBins, "
                "SliceByEventCount, SliceByTime, SliceByTimeBins)");
  }
  a.finish();
  return s;
}

}  // namespace snn::events
