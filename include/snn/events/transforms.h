#pragma once
/// \file
/// Tonic's event transforms (Events -> Events) and dense representations (Events -> tensor),
/// with a canonical text form for each: `repr()` names every parameter, and
/// `parse_transform` / `parse_representation` build the object back from that text.
///
/// Text form: `Name(key=value, ...)`. Values: integers, reals (shortest round-trip form),
/// `true` / `false`, `none`, strings `"exp"` (or `'exp'`; written with double quotes), tuples
/// `(a, b)` and lists `[a, b, ...]`. A Compose holds a list
/// of transforms: `Compose([Denoise(filter_time=10000), Downsample(...)])`. The repr is
/// canonical — two different configurations never share one — so it can key a disk cache:
/// `parse_transform(t.repr())->repr() == t.repr()`.
///
/// Semantics are Tonic 1.7.0's (the parity suite tests/parity/test_events_transforms.py
/// holds each to Tonic), except where Tonic has a plain bug; each such difference is
/// documented next to its option. Differences that hold throughout:
///  - every transform sets the sensor size of its output (Tonic leaves it to the user):
///    crops and Downsample shrink it, MergePolarities makes it one polarity;
///  - coordinates and times computed in floating point are truncated toward zero, as
///    Tonic's assignment into integer arrays does;
///  - random transforms draw from the `Rng` they are given (std::mt19937_64), so a seed
///    reproduces them; they do not reproduce NumPy's random streams.
///
/// Audio-shaped events (no y, `has_y() == false`) work wherever the transform makes sense
/// for one spatial axis (x = channel); the others (RandomFlipUD, CenterCrop with a height,
/// ...) throw, naming the transform.
#include <ATen/core/Tensor.h>
#include <torch/arg.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <random>
#include <string>
#include <utility>
#include <vector>

#include "snn/events/events.h"

namespace snn::events {

/// The random number generator every random transform draws from.
using Rng = std::mt19937_64;
/// (x, y) factors or coordinates.
using RealPair = std::pair<double, double>;
using IntPair = std::pair<int64_t, int64_t>;

/// An event-to-event transform. Transforms are immutable once built (unlike some of Tonic's,
/// they keep no state between calls), so one object may serve several threads, each with
/// its own Rng.
class Transform {
 public:
  virtual ~Transform() = default;
  /// Applies the transform. Deterministic transforms ignore `rng`.
  virtual Events apply(const Events& events, Rng& rng) const = 0;
  /// Applies the transform with a generator seeded with `seed`.
  Events apply(const Events& events, uint64_t seed = 0) const;
  /// Canonical text, e.g. "Downsample(time_factor=1, spatial_factor=(0.5, 0.5))".
  virtual std::string repr() const = 0;
};
using TransformPtr = std::shared_ptr<const Transform>;

/// Builds a transform (or a Compose of several) from its text form. Throws with the
/// position and the problem (unknown name or parameter, missing or bad value).
TransformPtr parse_transform(const std::string& spec);

// ---- time ------------------------------------------------------------------------------

struct CropTimeOptions {
  /// Events with t < min are dropped (µs). Default: 0.
  TORCH_ARG(int64_t, min) = 0;
  /// Events with t > max are dropped (µs); none: no upper bound. Default: none.
  /// Tonic 1.7.0 replaces max=None with the largest timestamp of the *first* sample it
  /// sees and keeps it for every later sample (a plain bug); here none means no bound.
  TORCH_ARG(std::optional<int64_t>, max) = std::nullopt;
};
/// Keeps events with min <= t <= max. Example: `CropTime(CropTimeOptions().max(20000))`.
class CropTime final : public Transform {
 public:
  explicit CropTime(CropTimeOptions options = {});
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;
  const CropTimeOptions& options() const { return options_; }

 private:
  CropTimeOptions options_;
};

struct TimeSkewOptions {
  /// A fixed coefficient. Example: `TimeSkewOptions(1.3).offset(100)`.
  explicit TimeSkewOptions(double coefficient) : coefficient_(coefficient, coefficient) {}
  /// A coefficient drawn per sample, uniform in [first, second) (Tonic's coefficient=(lo, hi)).
  /// Example: `TimeSkewOptions(RealPair{0.8, 1.2}).offset(RealPair{0, 150})`.
  explicit TimeSkewOptions(RealPair coefficient_range) : coefficient_(coefficient_range) {}
  /// Multiplier of every timestamp: (lo, hi), lo <= hi, finite; lo == hi is a fixed value
  /// (and draws nothing). Required; e.g. 1.3 or (0.8, 1.2).
  TORCH_ARG(RealPair, coefficient);
  /// Added after the multiplication (µs): (lo, hi) as coefficient. Default: 0.
  TORCH_ARG(RealPair, offset) = RealPair{0, 0};

 public:
  /// A fixed coefficient / offset.
  TimeSkewOptions& coefficient(double v) {
    coefficient_ = RealPair{v, v};
    return *this;
  }
  TimeSkewOptions& offset(double v) {
    offset_ = RealPair{v, v};
    return *this;
  }
};
/// t' = trunc(t·coefficient + offset). A range is drawn per sample as Tonic does,
/// (hi - lo)·u + lo with u uniform in [0, 1): the coefficient first, then the offset. Text
/// form `TimeSkew(coefficient=(0.8, 1.2), offset=(0, 150))`; a fixed value prints as a number.
class TimeSkew final : public Transform {
 public:
  explicit TimeSkew(TimeSkewOptions options);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;
  const TimeSkewOptions& options() const { return options_; }

 private:
  TimeSkewOptions options_;
};

/// t' = t - min(t): the first event at time 0. No parameters.
class TimeAlignment final : public Transform {
 public:
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override { return "TimeAlignment()"; }
};

struct TimeJitterOptions {
  explicit TimeJitterOptions(double std) : std_(std) {}
  /// Standard deviation of the Gaussian added to each timestamp (µs), >= 0. Required.
  TORCH_ARG(double, std);
  /// Drop events whose jittered (truncated) timestamp is negative. Default: true.
  TORCH_ARG(bool, clip_negative) = true;
  /// Sort by the new timestamps (a stable sort; Tonic's argsort is not stable, so events
  /// with equal timestamps may come out in another order there). Default: false.
  TORCH_ARG(bool, sort_timestamps) = false;
};
/// t' = trunc(t + N(0, std²)) per event.
class TimeJitter final : public Transform {
 public:
  explicit TimeJitter(TimeJitterOptions options);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;
  const TimeJitterOptions& options() const { return options_; }

 private:
  TimeJitterOptions options_;
};

struct RandomTimeReversalOptions {
  /// Probability of reversing the sample. In [0, 1]. Default: 0.5.
  TORCH_ARG(double, p) = 0.5;
  /// When reversed, also flip polarities (p' = (p == 0)). Default: true.
  TORCH_ARG(bool, flip_polarities) = true;
};
/// With probability p: t' = max(t) - t, the event order reversed (and polarities flipped).
class RandomTimeReversal final : public Transform {
 public:
  explicit RandomTimeReversal(RandomTimeReversalOptions options = {});
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;
  const RandomTimeReversalOptions& options() const { return options_; }

 private:
  RandomTimeReversalOptions options_;
};

// ---- space ------------------------------------------------------------------------------

struct CropSpaceOptions {
  CropSpaceOptions(int64_t width, int64_t height) : width_(width), height_(height) {}
  /// Left edge of the kept box (pixels), >= 0. Default: 0.
  TORCH_ARG(int64_t, x) = 0;
  /// Top edge of the kept box (pixels), >= 0; 0 for audio. Default: 0.
  TORCH_ARG(int64_t, y) = 0;
  /// Width of the box (pixels), >= 1. Required.
  TORCH_ARG(int64_t, width);
  /// Height of the box (pixels), >= 1; 1 for audio. Required.
  TORCH_ARG(int64_t, height);
};
/// Keeps events in the box [x, x + width) × [y, y + height), moved to its origin; the new
/// sensor is (width, height, P). The deterministic form of Tonic's RandomCrop (which draws
/// the box's corner). Example: `CropSpace(CropSpaceOptions(16, 16).x(8).y(8))`.
class CropSpace final : public Transform {
 public:
  explicit CropSpace(CropSpaceOptions options);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;
  const CropSpaceOptions& options() const { return options_; }

 private:
  CropSpaceOptions options_;
};

/// Tonic's CenterCrop: a box of `size` (width, height) centred on the sensor; where the box
/// is larger than the sensor, events are shifted into it (padding). New sensor (w, h, P).
class CenterCrop final : public Transform {
 public:
  CenterCrop(int64_t width, int64_t height);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;
  int64_t width() const { return width_; }
  int64_t height() const { return height_; }

 private:
  int64_t width_, height_;
};

/// Tonic's RandomCrop: a box of (width, height) at a random corner
/// (x0 = trunc(u·(W - width)), u uniform in [0, 1), the same for y).
class RandomCrop final : public Transform {
 public:
  RandomCrop(int64_t width, int64_t height);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;

 private:
  int64_t width_, height_;
};

struct DownsampleOptions {
  /// Multiplier of timestamps. > 0. Default: 1.
  TORCH_ARG(double, time_factor) = 1;
  /// Multipliers of (x, y); x' = trunc(x·fx). > 0. Default: (1, 1).
  TORCH_ARG(std::optional<RealPair>, spatial_factor) = std::nullopt;
  /// Target (width, height): the factors become target / sensor (Tonic's sensor_size +
  /// target_size). At most one of spatial_factor and target_size. Default: none.
  TORCH_ARG(std::optional<IntPair>, target_size) = std::nullopt;
};
/// Scales timestamps and coordinates; drops no event. The new sensor width is the target's,
/// or floor((W - 1)·fx) + 1 (the width that holds every scaled x); the same for height.
/// Example: `Downsample(DownsampleOptions().spatial_factor(std::pair{0.5, 0.5}))`.
class Downsample final : public Transform {
 public:
  explicit Downsample(DownsampleOptions options = {});
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;
  const DownsampleOptions& options() const { return options_; }

 private:
  DownsampleOptions options_;
};

struct RandomFlipOptions {
  /// Probability of flipping the whole sample, in [0, 1]: flipped when u < p with u uniform
  /// in [0, 1) (so p = 0 never flips and p = 1 always does). Default: 0.5.
  TORCH_ARG(double, p) = 0.5;
};
/// With probability p: x' = W - 1 - x. Works on audio (reverses the channels).
class RandomFlipLR final : public Transform {
 public:
  explicit RandomFlipLR(RandomFlipOptions options = {});
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;

 private:
  RandomFlipOptions options_;
};
/// With probability p: y' = H - 1 - y. Needs a y column.
class RandomFlipUD final : public Transform {
 public:
  explicit RandomFlipUD(RandomFlipOptions options = {});
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;

 private:
  RandomFlipOptions options_;
};
/// With probability p, every polarity of the sample flips: p' = (p == 0). (As Tonic does:
/// one draw per sample, not per event, whatever Tonic's docstring says.)
class RandomFlipPolarity final : public Transform {
 public:
  explicit RandomFlipPolarity(RandomFlipOptions options = {});
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;

 private:
  RandomFlipOptions options_;
};

struct SpatialJitterOptions {
  /// Variance of the x shift (pixels²), >= 0. Default: 1.
  TORCH_ARG(double, var_x) = 1;
  /// Variance of the y shift (pixels²), >= 0 (unused for audio). Default: 1.
  TORCH_ARG(double, var_y) = 1;
  /// Covariance of the shifts; the covariance matrix must be positive semi-definite.
  /// Default: 0.
  TORCH_ARG(double, sigma_xy) = 0;
  /// Drop events shifted outside the sensor. Default: false (as Tonic; such events then
  /// lie outside the sensor, which ToFrame rejects).
  TORCH_ARG(bool, clip_outliers) = false;
};
/// (x, y)' = trunc((x, y) + N(0, [[var_x, sigma_xy], [sigma_xy, var_y]])) per event.
class SpatialJitter final : public Transform {
 public:
  explicit SpatialJitter(SpatialJitterOptions options = {});
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;
  const SpatialJitterOptions& options() const { return options_; }

 private:
  SpatialJitterOptions options_;
};

/// Sets every polarity to 0; the new sensor has one polarity (Tonic keeps the sensor's P).
class MergePolarities final : public Transform {
 public:
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override { return "MergePolarities()"; }
};

// ---- filters ------------------------------------------------------------------------------

/// Tonic's Denoise: keeps an event if one of its 4 neighbours (2 for audio) fired within
/// the last `filter_time` µs (strictly: t_neighbour + filter_time > t). Polarity is ignored.
/// Tonic starts every pixel's memory as if it had fired at t = 0, so it keeps events with
/// t < filter_time next to pixels that never fired (a plain bug); here a pixel that has not
/// fired counts as never having fired. Equal to Tonic when every t >= filter_time.
class Denoise final : public Transform {
 public:
  /// filter_time: µs, > 0. Example: `Denoise(10000)`.
  explicit Denoise(double filter_time);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;
  double filter_time() const { return filter_time_; }

 private:
  double filter_time_;
};

/// Tonic's RefractoryPeriod: per pixel (both polarities), keeps an event if
/// t - t_last > delta, t_last being the pixel's previous event, kept or not.
/// Tonic starts every pixel at t_last = -delta, so a pixel's first event is dropped when it
/// comes at t <= 0 (a plain bug); here a pixel's first event is always kept. Equal to Tonic
/// when every t > 0.
class RefractoryPeriod final : public Transform {
 public:
  /// delta: µs, >= 0. Example: `RefractoryPeriod(1000)`.
  explicit RefractoryPeriod(double delta);
  /// delta drawn per sample as trunc(uniform in [first, second)) µs (Tonic's delta=(lo, hi)).
  /// Text form `RefractoryPeriod(delta=(0, 1000))`.
  explicit RefractoryPeriod(RealPair delta_range);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;

 private:
  RealPair delta_;
};

/// Tonic's Decimation: per pixel, keeps every n-th event (the n-th, 2n-th, ...).
class Decimation final : public Transform {
 public:
  /// n >= 1. Example: `Decimation(5)`.
  explicit Decimation(int64_t n);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;

 private:
  int64_t n_;
};

/// Tonic's DropEvent: drops exactly round-half-up(p·N) = int(p·N + 0.5) events chosen
/// uniformly at random, keeping the order of the others.
class DropEvent final : public Transform {
 public:
  /// p: probability in [0, 1]. Example: `DropEvent(0.2)`.
  explicit DropEvent(double p);
  /// p drawn per sample, uniform in [p_range.first, p_range.second) (Tonic's p=(lo, hi)).
  /// Example: `DropEvent(RealPair{0, 0.5})`, text form `DropEvent(p=(0, 0.5))`.
  explicit DropEvent(RealPair p_range);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;

 private:
  RealPair p_;
};

struct DropPixelOptions {
  /// Pixels (x, y) whose events are all dropped (audio: (x, 0)). Default: none.
  TORCH_ARG(std::vector<IntPair>, coordinates) = {};
  /// Also drop *hot* pixels: those with more than hot_pixel_frequency · (t_last - t_first)
  /// · 1e-6 events (Hz; > 0). Default: none. (Tonic, given both, ignores coordinates;
  /// here both are dropped.)
  TORCH_ARG(std::optional<double>, hot_pixel_frequency) = std::nullopt;
};
/// Tonic's DropPixel.
class DropPixel final : public Transform {
 public:
  explicit DropPixel(DropPixelOptions options = {});
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;

 private:
  DropPixelOptions options_;
};

/// Tonic's DropEventByTime: drops the events in a random time interval of length
/// duration_ratio · max(t), its start uniform in [0, max(t) - length] (both ends kept in the
/// interval, as Tonic).
class DropEventByTime final : public Transform {
 public:
  /// duration_ratio in [0, 1). Example: `DropEventByTime(0.2)`.
  explicit DropEventByTime(double duration_ratio = 0.2);
  /// duration_ratio drawn per sample, uniform in [first, second) with 0 <= first <= second < 1
  /// (Tonic's duration_ratio=(lo, hi)), before the interval's start. Example:
  /// `DropEventByTime(RealPair{0.1, 0.3})`, text form `DropEventByTime(duration_ratio=(0.1, 0.3))`.
  explicit DropEventByTime(RealPair duration_ratio_range);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;

 private:
  RealPair duration_ratio_;
};

/// Tonic's DropEventByArea: drops the events in a random box of
/// (trunc(W·area_ratio), trunc(H·area_ratio)) pixels, its corner uniform over the sensor
/// positions where it fits. Needs a y column.
class DropEventByArea final : public Transform {
 public:
  /// area_ratio in [0, 1). Example: `DropEventByArea(0.2)`.
  explicit DropEventByArea(double area_ratio = 0.2);
  /// area_ratio drawn per sample, uniform in [first, second) with 0 <= first <= second < 1
  /// (Tonic's area_ratio=(lo, hi)), before the box's corner. Text form
  /// `DropEventByArea(area_ratio=(0.1, 0.3))`. Tonic 1.7.0 draws a range's ratio as
  /// `uniform(lo and hi)`, i.e. uniform in [hi, 1) (or [0, 1) when lo == 0) — a plain bug;
  /// here it is uniform in [lo, hi) as Tonic documents.
  explicit DropEventByArea(RealPair area_ratio_range);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;

 private:
  RealPair area_ratio_;
};

/// Tonic's EventDrop (Gu et al. 2021): one of four, chosen uniformly — no change;
/// DropEventByTime(k/10); DropEventByArea(k/20); DropEvent(k/10) — with k uniform in
/// [1, 9], [1, 5] and [1, 9] respectively. Needs a y column. No parameters.
class EventDrop final : public Transform {
 public:
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override { return "EventDrop()"; }
};

/// Tonic's UniformNoise: adds n events with t, x, y, p uniform over [min t, max t) and the
/// sensor (truncated to integers), then sorts by time (a stable sort: the added events come
/// after the original ones of equal time). Empty events stay empty, as in Tonic.
class UniformNoise final : public Transform {
 public:
  /// n >= 0. Example: `UniformNoise(1000)`.
  explicit UniformNoise(int64_t n);
  /// n drawn per sample as trunc(uniform in [first, second)) (Tonic's n=(lo, hi)).
  /// Text form `UniformNoise(n=(100, 1000))`.
  explicit UniformNoise(IntPair n_range);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;

 private:
  IntPair n_;
};

/// Applies transforms in order. Tonic's Compose stops at the first empty result and skips
/// the later transforms (a plain bug: e.g. a later sensor change or representation is
/// lost); here every transform runs, also on empty events.
class Compose final : public Transform {
 public:
  explicit Compose(std::vector<TransformPtr> transforms);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  /// "Compose([A(...), B(...)])".
  std::string repr() const override;
  const std::vector<TransformPtr>& transforms() const { return transforms_; }

 private:
  std::vector<TransformPtr> transforms_;
};

// ---- dense representations ----------------------------------------------------------------

/// A dense representation of events (Tonic's ToFrame, ToImage, ToVoxelGrid, ToTimesurface,
/// ToBinaRep, ToAveragedTimesurface).
class Representation {
 public:
  virtual ~Representation() = default;
  virtual at::Tensor apply(const Events& events) const = 0;
  /// Canonical text, e.g. "ToFrame(time_window=1000, event_count=none, ...)".
  virtual std::string repr() const = 0;
};
using RepresentationPtr = std::shared_ptr<const Representation>;

/// Builds a representation from its text form (see repr()).
RepresentationPtr parse_representation(const std::string& spec);

struct ToFrameOptions {
  /// Frames of this many µs each (windows [start, start + time_window)). Exactly one of
  /// time_window, event_count, n_time_bins, n_event_bins must be given.
  TORCH_ARG(std::optional<double>, time_window) = std::nullopt;
  /// Frames of this many events each.
  TORCH_ARG(std::optional<int64_t>, event_count) = std::nullopt;
  /// This many frames of equal duration ((t_last - t_first) // n µs, see SliceByTimeBins).
  TORCH_ARG(std::optional<int64_t>, n_time_bins) = std::nullopt;
  /// This many frames of equal event count (N // n events, see SliceByEventBins).
  TORCH_ARG(std::optional<int64_t>, n_event_bins) = std::nullopt;
  /// Overlap of consecutive frames: µs for time_window, events for event_count, a fraction
  /// of a bin in [0, 1) for the bin counts. Default: 0.
  TORCH_ARG(double, overlap) = 0;
  /// Keep the last, shorter frame (time_window and event_count only). Default: false.
  TORCH_ARG(bool, include_incomplete) = false;
  /// Start of the first window (µs; time_window only). Default: the first event's time.
  TORCH_ARG(std::optional<double>, start_time) = std::nullopt;
  /// End of the time range sliced (µs; time_window only). Default: the last event's time.
  TORCH_ARG(std::optional<double>, end_time) = std::nullopt;
};
/// Tonic's ToFrame: counts events per (frame, polarity, pixel). Output int32
/// [T, P, H, W] (audio: [T, P, W]); with one polarity every event counts in channel 0.
/// Counts are int32 and cannot overflow (Tonic counts in int16, which wraps past 32767
/// events per pixel and frame — a plain bug; more than 2^31 - 1 events are rejected).
/// Empty events give zero frames: one for time_window / event_count (as many as
/// start_time / end_time span, when both are given), n for the bin counts (Tonic returns
/// a [T, P, W, H]-shaped array there — W and H swapped — and 4-D for audio).
/// Polarities must lie in [0, P) (Tonic's indexing would wrap p = -1 into channel P - 1).
class ToFrame final : public Representation {
 public:
  explicit ToFrame(ToFrameOptions options);
  at::Tensor apply(const Events& events) const override;
  std::string repr() const override;
  const ToFrameOptions& options() const { return options_; }

 private:
  ToFrameOptions options_;
};

/// Tonic's ToImage: all events counted into one frame, int32 [P, H, W] (audio: [P, W]);
/// ToFrame's polarity rules. Empty events give zeros (Tonic fails).
class ToImage final : public Representation {
 public:
  at::Tensor apply(const Events& events) const override;
  std::string repr() const override { return "ToImage()"; }
};

/// Tonic's ToVoxelGrid (Zhu et al. 2019): polarity ±1 (p = 0 counts -1, others +1),
/// bilinear in time over n_time_bins bins spanning [t_first, t_last]. Output float32
/// [n_time_bins, 1, H, W] (audio: [n, 1, W]), computed in float64. Needs P = 2.
/// All events at one time (e.g. one event) put everything in bin 0 (Tonic divides by
/// zero there); empty events give zeros.
class ToVoxelGrid final : public Representation {
 public:
  /// n_time_bins >= 1.
  explicit ToVoxelGrid(int64_t n_time_bins);
  at::Tensor apply(const Events& events) const override;
  std::string repr() const override;

 private:
  int64_t n_time_bins_;
};

/// Tonic's ToTimesurface (current semantics: global surfaces every dt): slices by time
/// (SliceByTime(dt)) from the first event; after slice i, each pixel's surface is
/// exp(-(t_first + (i + 1)·dt - t_last(pixel)) / tau), 0 where it never fired. Output
/// float32 [T, P, H, W] (audio: [T, P, W]), computed in float64. Empty events give no
/// surfaces ([0, P, H, W]; Tonic fails).
class ToTimesurface final : public Representation {
 public:
  /// dt: µs, > 0; tau: µs, > 0.
  ToTimesurface(double dt, double tau);
  at::Tensor apply(const Events& events) const override;
  std::string repr() const override;

 private:
  double dt_, tau_;
};

struct ToBinaRepOptions {
  /// Number T of Bina-Rep frames. >= 1. Default: 1. Example: 4.
  TORCH_ARG(int64_t, n_frames) = 1;
  /// Number N of binary frames read as one N-bit number per pixel, first frame most
  /// significant. In [2, 63]. Default: 8. Example: 4.
  TORCH_ARG(int64_t, n_bits) = 8;
};
/// Tonic's ToBinaRep (Barchid et al. 2022) on the frames of its documented pipeline:
/// `Compose([ToFrame(n_time_bins=n_frames·n_bits), ToBinaRep(n_frames, n_bits)])`. The events
/// are counted into n_frames·n_bits frames (ToFrame with n_time_bins, its rules included), each
/// frame is made binary (count > 0), and each group of n_bits consecutive frames b_0 ... b_{N-1}
/// becomes one frame Σ b_k·2^(N-1-k) / (2^N - 1), in [0, 1]. Output float32 [T, P, H, W]
/// (audio: [T, P, W]; Tonic's ToBinaRep takes 4-D frames only), computed exactly in integers
/// and float64. Empty events give zeros. Example: `ToBinaRep(ToBinaRepOptions().n_frames(4))`.
class ToBinaRep final : public Representation {
 public:
  explicit ToBinaRep(ToBinaRepOptions options = {});
  at::Tensor apply(const Events& events) const override;
  std::string repr() const override;
  const ToBinaRepOptions& options() const { return options_; }

 private:
  ToBinaRepOptions options_;
};

/// How a past event's weight decays with its age Δt = t_i - t_j (µs) in ToAveragedTimesurface.
enum class TimesurfaceDecay {
  /// exp(-Δt / tau); text form "exp".
  Exponential,
  /// 1 - Δt / (3·tau) (negative past 3·tau, as Tonic); text form "lin".
  Linear,
};

struct ToAveragedTimesurfaceOptions {
  /// Side of the square time surfaces (pixels): odd, in [1, cell_size]. Default: 5. Example: 3.
  TORCH_ARG(int64_t, surface_size) = 5;
  /// Side of the square cells that tile the sensor (pixels), >= 1. Default: 10. Example: 8.
  TORCH_ARG(int64_t, cell_size) = 10;
  /// How far back past events count (µs), >= 0: those with t_j >= t_i - time_window.
  /// Default: 1000. Example: 20000.
  TORCH_ARG(double, time_window) = 1e3;
  /// Decay time constant (µs), > 0. Default: 100. Example: 5000.
  TORCH_ARG(double, tau) = 100;
  /// Exponential ("exp") or linear ("lin") decay. Default: Exponential.
  TORCH_ARG(TimesurfaceDecay, decay) = TimesurfaceDecay::Exponential;
};
/// Tonic's ToAveragedTimesurface (HATS, Sironi et al. 2018). The sensor is tiled by cells of
/// cell_size², numbered c = (y // cell_size)·ceil(W / cell_size) + x // cell_size. For each
/// event i of cell c and polarity channel p, its surface (surface_size², centred on the event,
/// r = surface_size // 2) holds 1 at the centre plus, for each earlier event j of the same cell
/// and channel with |x_j - x_i| <= r, |y_j - y_i| <= r and t_j >= t_i - time_window, the decay
/// of t_i - t_j at (y_j - y_i + r, x_j - x_i + r). Output [c, p] is the mean of those surfaces
/// (zeros without events): float32 [C, P, S, S] (audio: [C, P, S], the centre row, with
/// C = ceil(W / cell_size)), computed in float64 (Tonic: float32). Channels as ToFrame.
/// Tonic starts the window at max(0, t_i - time_window), so events at t < 0 never count as
/// past events (a plain bug); here the window is t_i - time_window whatever the sign. Equal
/// to Tonic when every t >= 0 (and below 2^24 µs, which Tonic's float32 holds exactly).
/// Example: `ToAveragedTimesurface(ToAveragedTimesurfaceOptions().time_window(20000))`.
class ToAveragedTimesurface final : public Representation {
 public:
  explicit ToAveragedTimesurface(ToAveragedTimesurfaceOptions options = {});
  at::Tensor apply(const Events& events) const override;
  std::string repr() const override;
  const ToAveragedTimesurfaceOptions& options() const { return options_; }

 private:
  ToAveragedTimesurfaceOptions options_;
};

// ---- event downsampling (Ghosh et al. 2023) -------------------------------------------------

/// How EventDownsampling turns the downsampled event counts into events.
enum class EventDownsamplingMethod {
  /// Integrate-and-fire per target pixel; text form "integrator".
  Integrator,
  /// The integrator's spikes, differentiated over frames of dt; text form "differentiator".
  Differentiator,
};

struct EventDownsamplingOptions {
  /// target_size: (width, height) of the new sensor, each >= 1. dt: the integration step in
  /// milliseconds (as Tonic; timestamps are µs), > 0. Example:
  /// `EventDownsamplingOptions(IntPair{20, 15}, 0.5)`.
  EventDownsamplingOptions(IntPair target_size, double dt) : target_size_(target_size), dt_(dt) {}
  TORCH_ARG(IntPair, target_size);
  TORCH_ARG(double, dt);
  /// Integrator or Differentiator. Default: Integrator.
  TORCH_ARG(EventDownsamplingMethod, downsampling_method) = EventDownsamplingMethod::Integrator;
  /// A target pixel fires when its integrated ON - OFF count v satisfies v >= noise_threshold
  /// (an ON event) or -v >= noise_threshold (an OFF event), >= 0. Default: 0 (Tonic's
  /// functional default; then every pixel fires in every step, a pixel at v = 0 both ON and
  /// OFF — Tonic's rule, kept). Example: 2.
  TORCH_ARG(int64_t, noise_threshold) = 0;
  /// Differentiator only: integrator steps per dt, >= 1. Default: 2.
  TORCH_ARG(int64_t, differentiator_time_bins) = 2;
};
/// Tonic's EventDownsampling (Ghosh et al. 2023, "Insect-inspired spatio-temporal
/// downsampling of event-based input"). The sensor size is the events' own (Tonic's
/// sensor_size); the new sensor is (target width, target height, 2). Needs a y column and
/// polarities in {0, 1}.
///
/// Integrator: x' = trunc(x·W'/W), y' = trunc(y·H'/H); the events are counted into frames as
/// `ToFrame(time_window = dt·1000 µs)` does (windows from the first event's time; the last,
/// incomplete window is dropped, as ToFrame's include_incomplete=false). Per frame k, each
/// target pixel's v += (ON count - OFF count); where v >= noise_threshold an event
/// (x', y', p=1, t=trunc(k·dt·1000)) is emitted, where -v >= noise_threshold an event with
/// p=0, and v is reset to 0 at those pixels. Events of one frame: all ON (by y, then x), then
/// all OFF (by y, then x). Output times count from 0 at the first window (as Tonic).
///
/// Differentiator: runs the integrator with steps of dt / differentiator_time_bins; frame
/// f = floor(step time / (dt·1000)) counts, per pixel and polarity, the steps of frame f where
/// the integrator fired. An event (x', y', p, t=trunc(f·dt·1000)) is emitted where the count
/// of frame f + 1 exceeds frame f's, for f over the frames up to the last one with a spike
/// (ordered by t, y, x, then p).
///
/// Differences from Tonic 1.7.0 (which fails in these cases): no spike at all, or empty
/// events, give empty events (Tonic raises); the differentiator's step need not be shorter
/// than the last timestamp (Tonic asserts it); counts and times are not wrapped to Tonic's
/// int16 frame counts and int32 output times. Example:
/// `EventDownsampling(EventDownsamplingOptions(IntPair{20, 15}, 0.5).noise_threshold(2))`,
/// text form `EventDownsampling(target_size=(20, 15), dt=0.5, downsampling_method="integrator",
/// noise_threshold=2, differentiator_time_bins=2)`.
class EventDownsampling final : public Transform {
 public:
  explicit EventDownsampling(EventDownsamplingOptions options);
  using Transform::apply;
  Events apply(const Events& events, Rng& rng) const override;
  std::string repr() const override;
  const EventDownsamplingOptions& options() const { return options_; }

 private:
  EventDownsamplingOptions options_;
};

// ---- sparse representation ----------------------------------------------------------------

/// Tonic's ToSparseTensor: ToFrame's frames (the same options, rules and shape, start_time /
/// end_time included, which Tonic's ToSparseTensor does not take) as a coalesced sparse COO
/// tensor, built from the events without a dense intermediate. `apply(e).to_dense()` equals
/// `ToFrame(options).apply(e)`. Values are int32 counts (Tonic: int16, from its int16
/// frames, see ToFrame). Text form: ToFrame's with the name ToSparseTensor, e.g.
/// `ToSparseTensor(time_window=1000, event_count=none, ...)`. Code that needs dense, strided
/// tensors (DiskCachedDataset, PadTensors) takes ToFrame instead, or `.to_dense()`.
class ToSparseTensor final : public Representation {
 public:
  explicit ToSparseTensor(ToFrameOptions options);
  at::Tensor apply(const Events& events) const override;
  std::string repr() const override;
  const ToFrameOptions& options() const { return options_; }

 private:
  ToFrameOptions options_;
};

}  // namespace snn::events
