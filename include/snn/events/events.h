#pragma once
/// \file
/// Event-based (neuromorphic) data: the Events type every reader, transform and dataset
/// of snn::events works on.
///
/// Events are held in columns: t (int64 microseconds), x, y (pixel or channel index) and
/// p (polarity), with the sensor size (width, height, polarities) they come from — Tonic's
/// `sensor_size = (W, H, P)`. Audio-shaped data (e.g. SHD: 700 channels) has no y column
/// (`has_y() == false`) and height 1, as Tonic's (t, x, p) events.
#include <ATen/core/Tensor.h>

#include <cstdint>
#include <iosfwd>
#include <string>
#include <vector>

#include "snn/events/column.h"

namespace snn::events {

/// Sensor geometry, Tonic's (W, H, P). Audio data: height 1.
struct SensorSize {
  int64_t width = 0;
  int64_t height = 0;
  int64_t polarities = 0;
  bool operator==(const SensorSize&) const = default;
};
std::ostream& operator<<(std::ostream& os, const SensorSize& s);

/// A sequence of events in columns. Readers keep the order of the file; transforms keep
/// the order they are given (Tonic does the same).
class Events {
 public:
  Events() = default;
  /// Empty events of a sensor; `has_y = false` for audio-shaped (t, x, p) data.
  explicit Events(SensorSize sensor, bool has_y = true) : sensor_(sensor), has_y_(has_y) {}

  int64_t size() const { return static_cast<int64_t>(t.size()); }
  bool empty() const { return t.empty(); }
  const SensorSize& sensor() const { return sensor_; }
  void set_sensor(SensorSize s) { sensor_ = s; }
  bool has_y() const { return has_y_; }

  void reserve(int64_t n) {
    t.reserve(n);
    x.reserve(n);
    y.reserve(n);
    p.reserve(n);
  }
  /// Sets the number of events to n; events added by growing are left unset (write every
  /// column of them before reading), so a reader or transform that fills the columns by
  /// index pays no zeroing.
  void resize(int64_t n) {
    t.resize(n);
    x.resize(n);
    y.resize(n);
    p.resize(n);
  }

  /// Appends one event (y is ignored, and kept 0, without a y column).
  void push_back(int64_t t_us, int64_t x_, int64_t y_, int64_t p_) {
    t.push_back(t_us);
    x.push_back(static_cast<int16_t>(x_));
    y.push_back(has_y_ ? static_cast<int16_t>(y_) : int16_t{0});
    p.push_back(static_cast<int16_t>(p_));
  }
  /// Events [begin, end) as a new Events (a copy of those rows).
  Events slice(int64_t begin, int64_t end) const;
  /// Keeps the rows where keep[i] is true, in order.
  Events select(const std::vector<bool>& keep) const;
  /// Keeps the rows where keep[i] != 0, in order (keep has size() entries).
  Events select(const uint8_t* keep) const;
  /// Duration t.back() - t.front() in µs (0 when fewer than 2 events).
  int64_t duration() const;

  /// The events as an int64 tensor [N, 4], columns (t, x, y, p); y is 0 for audio data.
  at::Tensor to_tensor() const;
  /// Events from an integer tensor [N, 4] (t, x, y, p) — the inverse of to_tensor(). Throws,
  /// naming `what` and the first bad event, if an x or y lies outside the sensor or a p
  /// outside int16.
  static Events from_tensor(const at::Tensor& events, SensorSize sensor, bool has_y = true,
                            const std::string& what = "events tensor");

  /// Events from four 1-D tensors of equal length — t (integer µs), x, y, p (integer; y is
  /// ignored without a y column) — copied into the columns. Throws, naming `what`, on other
  /// shapes or dtypes, on an x or y outside the sensor or a p outside int16.
  static Events from_columns(const at::Tensor& t, const at::Tensor& x, const at::Tensor& y,
                             const at::Tensor& p, SensorSize sensor, bool has_y = true,
                             const std::string& what = "event columns");
  /// The columns as tensors t (int64), x, y, p (int16), without copying: the events are left
  /// empty and the tensors own the memory.
  std::vector<at::Tensor> release_columns();

  /// Throws (naming `what`) if an x or y lies outside the sensor.
  void check_within_sensor(const std::string& what) const;

  Column<int64_t> t;
  Column<int16_t> x, y, p;

 private:
  SensorSize sensor_;
  bool has_y_ = true;
};

}  // namespace snn::events
