#include "snn/events/events.h"

#include <ATen/ops/empty.h>
#include <c10/util/Exception.h>

#include <ostream>

namespace snn::events {

std::ostream& operator<<(std::ostream& os, const SensorSize& s) {
  return os << "(" << s.width << ", " << s.height << ", " << s.polarities << ")";
}

Events Events::slice(int64_t begin, int64_t end) const {
  TORCH_CHECK(0 <= begin && begin <= end && end <= size(), "snn::events: slice [", begin, ", ", end,
              ") out of range for ", size(), " events");
  Events out(sensor_, has_y_);
  out.t.assign(t.begin() + begin, t.begin() + end);
  out.x.assign(x.begin() + begin, x.begin() + end);
  out.y.assign(y.begin() + begin, y.begin() + end);
  out.p.assign(p.begin() + begin, p.begin() + end);
  return out;
}

Events Events::select(const std::vector<bool>& keep) const {
  TORCH_CHECK(static_cast<int64_t>(keep.size()) == size(), "snn::events: select mask has ",
              keep.size(), " entries for ", size(), " events");
  Events out(sensor_, has_y_);
  for (int64_t i = 0; i < size(); ++i) {
    if (keep[i]) out.push_back(t[i], x[i], y[i], p[i]);
  }
  return out;
}

int64_t Events::duration() const {
  return size() < 2 ? 0 : t.back() - t.front();
}

at::Tensor Events::to_tensor() const {
  auto out = at::empty({size(), 4}, at::TensorOptions().dtype(at::kLong));
  int64_t* row = out.mutable_data_ptr<int64_t>();
  for (int64_t i = 0; i < size(); ++i, row += 4) {
    row[0] = t[i];
    row[1] = x[i];
    row[2] = y[i];
    row[3] = p[i];
  }
  return out;
}

Events Events::from_tensor(const at::Tensor& events, SensorSize sensor, bool has_y) {
  TORCH_CHECK(events.dim() == 2 && events.size(1) == 4,
              "snn::events: expected an events tensor of shape [N, 4] (t, x, y, p), got ",
              events.sizes());
  TORCH_CHECK(!at::isFloatingType(events.scalar_type()) && !at::isComplexType(events.scalar_type()),
              "snn::events: expected an integer events tensor, got ", events.scalar_type());
  const auto e = events.to(at::kLong).contiguous();
  const auto a = e.accessor<int64_t, 2>();
  Events out(sensor, has_y);
  out.reserve(e.size(0));
  for (int64_t i = 0; i < e.size(0); ++i) out.push_back(a[i][0], a[i][1], a[i][2], a[i][3]);
  out.check_within_sensor("events tensor");
  return out;
}

void Events::check_within_sensor(const std::string& what) const {
  for (int64_t i = 0; i < size(); ++i) {
    // Polarities are not checked here: Tonic's audio data carries p = 1 with one polarity,
    // and each consumer (e.g. ToFrame) says how it maps p.
    const bool ok =
        x[i] >= 0 && x[i] < sensor_.width && (!has_y_ || (y[i] >= 0 && y[i] < sensor_.height));
    TORCH_CHECK(ok, "snn::events: ", what, ": event ", i, " (x=", x[i], ", y=", y[i], ", p=", p[i],
                ") lies outside the sensor ", sensor_);
  }
}

}  // namespace snn::events
