#pragma once
/// \file
/// Tonic's slicers: cut one recording into several pieces. `slice_indices` returns what
/// Tonic's get_slice_metadata returns — index ranges [start, stop) into the events — clamped
/// to [0, N] as NumPy's slicing clamps them; `slice` returns the pieces.
///
/// Text form as for transforms (see transforms.h): `SliceByTime(time_window=1000,
/// overlap=0, include_incomplete=false, start_time=none, end_time=none, reset_time=false)`.
/// Time windows are [start, end): an event at t belongs to it when start <= t < end
/// (NumPy's searchsorted, side left).
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <torch/arg.h>

#include "snn/events/events.h"

namespace snn::events {

/// One slice: events [start, stop).
struct IndexRange {
  int64_t start = 0;
  int64_t stop = 0;
  bool operator==(const IndexRange&) const = default;
};

class Slicer {
 public:
  virtual ~Slicer() = default;
  /// The slices' index ranges, in order (events must be sorted by time for the time-based
  /// slicers).
  virtual std::vector<IndexRange> slice_indices(const Events& events) const = 0;
  /// The slices themselves: piece(events, range k, k) for each range.
  std::vector<Events> slice(const Events& events) const;
  /// Slice number `index` (its range from slice_indices) as events. Default: the events of
  /// the range, unchanged (SliceByTime's reset_time shifts their times).
  virtual Events piece(const Events& events, const IndexRange& range, int64_t index) const;
  /// Canonical text.
  virtual std::string repr() const = 0;
};
using SlicerPtr = std::shared_ptr<const Slicer>;

/// Builds a slicer from its text form (see repr()).
SlicerPtr parse_slicer(const std::string& spec);

struct SliceByTimeOptions {
  explicit SliceByTimeOptions(double time_window) : time_window_(time_window) {}
  /// Window length (µs), > 0. Required.
  TORCH_ARG(double, time_window);
  /// Overlap of consecutive windows (µs), in [0, time_window). Default: 0.
  TORCH_ARG(double, overlap) = 0;
  /// Keep the last window that reaches past the end time. Default: false.
  TORCH_ARG(bool, include_incomplete) = false;
  /// Start of the first window (µs). Default: the first event's time.
  TORCH_ARG(std::optional<double>, start_time) = std::nullopt;
  /// End of the range sliced (µs). Default: the last event's time.
  TORCH_ARG(std::optional<double>, end_time) = std::nullopt;
  /// Shift slice k's times back by k·(time_window - overlap): t' = trunc(t - k·stride), so
  /// every slice lies in the first window's time range (as Tonic's reset_time, which
  /// subtracts k·time_window: with overlap its slices drift below that range, a plain bug;
  /// equal when overlap = 0). Applies to slice() / piece(), not to slice_indices.
  /// Default: false. Example: time_window=100 slices t = [0, 150, 299, 300] into [0], [50],
  /// [99], [0].
  TORCH_ARG(bool, reset_time) = false;
};
/// Windows of fixed duration: stride = time_window - overlap,
/// n = floor((end - start - time_window) / stride) + 1 (ceil with include_incomplete), at
/// least 1; window i = [start + i·stride, start + i·stride + time_window).
/// Empty events give no slices unless start_time and end_time are both given (Tonic fails).
class SliceByTime final : public Slicer {
 public:
  explicit SliceByTime(SliceByTimeOptions options);
  std::vector<IndexRange> slice_indices(const Events& events) const override;
  Events piece(const Events& events, const IndexRange& range, int64_t index) const override;
  std::string repr() const override;
  const SliceByTimeOptions& options() const { return options_; }

 private:
  SliceByTimeOptions options_;
};

/// bin_count windows of (t_last - t_first) // bin_count · (1 + overlap) µs, stride
/// window·(1 - overlap), from t_first. overlap in [0, 1). (An event at t_last falls in no
/// window when the windows end there, as in Tonic.) Empty events: bin_count empty slices.
class SliceByTimeBins final : public Slicer {
 public:
  explicit SliceByTimeBins(int64_t bin_count, double overlap = 0);
  std::vector<IndexRange> slice_indices(const Events& events) const override;
  std::string repr() const override;

 private:
  int64_t bin_count_;
  double overlap_;
};

/// Slices of event_count events, stride event_count - overlap;
/// n = floor((N - min(event_count, N)) / stride) + 1 (ceil with include_incomplete).
class SliceByEventCount final : public Slicer {
 public:
  /// event_count >= 1; overlap in [0, event_count).
  explicit SliceByEventCount(int64_t event_count, int64_t overlap = 0,
                             bool include_incomplete = false);
  std::vector<IndexRange> slice_indices(const Events& events) const override;
  std::string repr() const override;

 private:
  int64_t event_count_, overlap_;
  bool include_incomplete_;
};

/// bin_count slices of int(N // bin_count · (1 + overlap)) events, stride
/// int(count · (1 - overlap)). overlap in [0, 1).
class SliceByEventBins final : public Slicer {
 public:
  explicit SliceByEventBins(int64_t bin_count, double overlap = 0);
  std::vector<IndexRange> slice_indices(const Events& events) const override;
  std::string repr() const override;

 private:
  int64_t bin_count_;
  double overlap_;
};

/// Slices [start_indices[i], end_indices[i]), indices >= 0 (clamped to N).
class SliceAtIndices final : public Slicer {
 public:
  SliceAtIndices(std::vector<int64_t> start_indices, std::vector<int64_t> end_indices);
  std::vector<IndexRange> slice_indices(const Events& events) const override;
  std::string repr() const override;

 private:
  std::vector<int64_t> start_indices_, end_indices_;
};

/// Slices of the time windows [start_times[i], end_times[i]) (µs).
class SliceAtTimePoints final : public Slicer {
 public:
  SliceAtTimePoints(std::vector<double> start_times, std::vector<double> end_times);
  std::vector<IndexRange> slice_indices(const Events& events) const override;
  std::string repr() const override;

 private:
  std::vector<double> start_times_, end_times_;
};

}  // namespace snn::events
