#include "snn/events/events.h"

#include <ATen/ops/empty.h>
#include <c10/util/Exception.h>

#include <ostream>

#include "util/target_clones.h"

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

namespace {

// Columns -> rows (t, x, y, p) of int64.
SNN_TARGET_CLONES
void interleave(const int64_t* t, const int16_t* x, const int16_t* y, const int16_t* p, int64_t n,
                int64_t* rows) {
  for (int64_t i = 0; i < n; ++i) {
    rows[4 * i] = t[i];
    rows[4 * i + 1] = x[i];
    rows[4 * i + 2] = y[i];
    rows[4 * i + 3] = p[i];
  }
}

// Rows (t, x, y, p) of int64 -> columns (y = 0 without a y column); false if an x or y lies
// outside [0, W) x [0, H) or a p outside int16.
SNN_TARGET_CLONES
bool deinterleave(const int64_t* rows, int64_t n, int64_t W, int64_t H, bool has_y, int64_t* t,
                  int16_t* x, int16_t* y, int16_t* p) {
  bool ok = true;
  const int64_t y_keep = has_y ? -1 : 0;  // mask: y itself, or 0
  const int64_t h = has_y ? H : 1;
  for (int64_t i = 0; i < n; ++i) {
    const int64_t* r = rows + 4 * i;
    const int64_t yi = r[2] & y_keep;
    t[i] = r[0];
    x[i] = static_cast<int16_t>(r[1]);
    y[i] = static_cast<int16_t>(yi);
    p[i] = static_cast<int16_t>(r[3]);
    ok &= (r[1] >= 0) & (r[1] < W) & (yi >= 0) & (yi < h) & (r[3] >= INT16_MIN) &
          (r[3] <= INT16_MAX);
  }
  return ok;
}

// Whether every x lies in [0, W) and every y in [0, H) (audio: y is 0 and H is 1).
SNN_TARGET_CLONES
bool all_within(const int16_t* x, const int16_t* y, int64_t n, int64_t W, int64_t H) {
  int bad = 0;
  for (int64_t i = 0; i < n; ++i) {
    bad |= (x[i] < 0) | (x[i] >= W) | (y[i] < 0) | (y[i] >= H);
  }
  return bad == 0;
}

}  // namespace

at::Tensor Events::to_tensor() const {
  auto out = at::empty({size(), 4}, at::TensorOptions().dtype(at::kLong));
  interleave(t.data(), x.data(), y.data(), p.data(), size(), out.mutable_data_ptr<int64_t>());
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
  const bool ok = deinterleave(a, n, sensor.width, sensor.height, has_y, out.t.data(),
                               out.x.data(), out.y.data(), out.p.data());
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
  if (all_within(x.data(), y.data(), size(), sensor_.width, has_y_ ? sensor_.height : 1)) return;
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
