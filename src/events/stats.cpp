#include "snn/events/stats.h"

#include <algorithm>

namespace snn::events {

void EventStats::add(const Events& events) {
  if (events.empty()) return;
  if (count == 0) {
    t_first = t_min = t_max = events.t.front();
  }
  t_last = events.t.back();
  for (int64_t i = 0; i < events.size(); ++i) {
    t_min = std::min(t_min, events.t[i]);
    t_max = std::max(t_max, events.t[i]);
    const int64_t p = std::max<int64_t>(events.p[i], 0);
    if (p >= static_cast<int64_t>(polarity_counts.size())) polarity_counts.resize(p + 1, 0);
    ++polarity_counts[p];
  }
  count += events.size();
}

EventStats summarize(const Events& events) {
  EventStats s;
  s.add(events);
  return s;
}

}  // namespace snn::events
