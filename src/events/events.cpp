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
  out.resize(size());
  int64_t k = 0;
  for (int64_t i = 0; i < size(); ++i) {
    out.t[k] = t[i];
    out.x[k] = x[i];
    out.y[k] = y[i];
    out.p[k] = p[i];
    k += keep[i] ? 1 : 0;
  }
  out.resize(k);
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

Events Events::from_tensor(const at::Tensor& events, SensorSize sensor, bool has_y,
                           const std::string& what) {
  TORCH_CHECK(events.dim() == 2 && events.size(1) == 4, "snn::events: ", what,
              ": expected an events tensor of shape [N, 4] (t, x, y, p), got ", events.sizes());
  TORCH_CHECK(at::isIntegralType(events.scalar_type(), /*includeBool=*/false),
              "snn::events: ", what, ": expected an integer events tensor, got ",
              events.scalar_type());
  const auto e = events.to(at::kLong).contiguous();
  const int64_t* a = e.const_data_ptr<int64_t>();
  const int64_t n = e.size(0);
  Events out(sensor, has_y);
  out.resize(n);
  // One pass without branches; the slow pass below only names a bad event.
  bool ok = true;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t* r = a + 4 * i;
    out.t[i] = r[0];
    out.x[i] = static_cast<int16_t>(r[1]);
    out.y[i] = has_y ? static_cast<int16_t>(r[2]) : int16_t{0};
    out.p[i] = static_cast<int16_t>(r[3]);
    ok &= r[1] >= 0 && r[1] < sensor.width && (!has_y || (r[2] >= 0 && r[2] < sensor.height)) &&
          r[3] >= INT16_MIN && r[3] <= INT16_MAX;
  }
  if (!ok) {
    for (int64_t i = 0; i < n; ++i) {
      const int64_t* r = a + 4 * i;
      TORCH_CHECK(r[1] >= 0 && r[1] < sensor.width &&
                      (!has_y || (r[2] >= 0 && r[2] < sensor.height)) && r[3] >= INT16_MIN &&
                      r[3] <= INT16_MAX,
                  "snn::events: ", what, ": event ", i, " (x=", r[1], ", y=", r[2], ", p=", r[3],
                  ") lies outside the sensor ", sensor, " or p outside int16");
    }
  }
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
