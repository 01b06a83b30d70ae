#pragma once
/// \file
/// Summary statistics of event data (what `snn data inspect` prints), accumulated a chunk
/// at a time so that files larger than memory can be summarised.
#include <cstdint>
#include <vector>

#include "snn/events/events.h"

namespace snn::events {

struct EventStats {
  int64_t count = 0;
  int64_t t_first = 0;  ///< t of the first event (µs), 0 when there is none
  int64_t t_last = 0;   ///< t of the last event (µs)
  int64_t t_min = 0, t_max = 0;
  /// Number of events per polarity value (index = p; sized to the largest p seen + 1).
  std::vector<int64_t> polarity_counts;
  /// t_max - t_min in seconds.
  double duration_s() const { return count ? (t_max - t_min) * 1e-6 : 0.0; }
  /// Events per second over the duration (0 when the duration is 0).
  double rate_hz() const { return duration_s() > 0 ? count / duration_s() : 0.0; }
  /// Adds the events of a chunk (in order: chunks of one file, one after another).
  void add(const Events& events);
};

/// The statistics of all of `events`.
EventStats summarize(const Events& events);

}  // namespace snn::events
