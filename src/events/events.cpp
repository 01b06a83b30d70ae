#include "snn/events/events.h"

#include <ATen/ops/empty.h>
#include <ATen/ops/from_blob.h>
#include <c10/util/Exception.h>

#include <cstring>
#include <ostream>
#include <utility>

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
  const std::vector<uint8_t> mask(keep.begin(), keep.end());
  return select(mask.data());
}

Events Events::select(const uint8_t* keep) const {
  const int64_t n = size();
  Events out(sensor_, has_y_);
  out.resize(n);
  const int64_t* it = t.data();
  const int16_t *ix = x.data(), *iy = y.data(), *ip = p.data();
  int64_t* ot = out.t.data();
  int16_t *ox = out.x.data(), *oy = out.y.data(), *op = out.p.data();
  int64_t k = 0;
  for (int64_t i = 0; i < n; ++i) {  // without branches: every row written, k advanced
    ot[k] = it[i];
    ox[k] = ix[i];
    oy[k] = iy[i];
    op[k] = ip[i];
    k += keep[i] != 0;
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

Events Events::from_columns(const at::Tensor& t, const at::Tensor& x, const at::Tensor& y,
                            const at::Tensor& p, SensorSize sensor, bool has_y,
                            const std::string& what) {
  const std::pair<const char*, const at::Tensor*> columns[] = {{"t", &t}, {"x", &x}, {"y", &y}, {"p", &p}};
  for (const auto& [name, c] : columns) {
    TORCH_CHECK(c->dim() == 1 && c->size(0) == t.size(0), "snn::events: ", what, ": expected ",
                "columns t, x, y, p of one length, got ", name, " of shape ", c->sizes(),
                " beside t of shape ", t.sizes());
    TORCH_CHECK(at::isIntegralType(c->scalar_type(), /*includeBool=*/false), "snn::events: ",
                what, ": expected integer columns, got ", name, " of dtype ", c->scalar_type());
  }
  const int64_t n = t.size(0);
  Events out(sensor, has_y);
  out.resize(n);
  auto copy = [n](const at::Tensor& c, auto* dst, at::ScalarType type) {
    const auto src = c.to(type).contiguous();
    std::memcpy(dst, src.const_data_ptr(), static_cast<size_t>(n) * src.element_size());
  };
  // Columns wider than int16 must fit it (an x of 65539 must not pass as 3).
  auto check_int16 = [&](const at::Tensor& c, const char* name) {
    const auto type = c.scalar_type();
    if (n == 0 || type == at::kShort || type == at::kChar || type == at::kByte) return;
    const int64_t lo = c.min().item<int64_t>(), hi = c.max().item<int64_t>();
    TORCH_CHECK(lo >= INT16_MIN && hi <= INT16_MAX, "snn::events: ", what, ": column ", name,
                " holds values in [", lo, ", ", hi, "], outside int16");
  };
  check_int16(x, "x");
  check_int16(p, "p");
  copy(t, out.t.data(), at::kLong);
  copy(x, out.x.data(), at::kShort);
  if (has_y) {
    check_int16(y, "y");
    copy(y, out.y.data(), at::kShort);
  } else {
    std::fill(out.y.begin(), out.y.end(), int16_t{0});
  }
  copy(p, out.p.data(), at::kShort);
  out.check_within_sensor(what);
  return out;
}

namespace {
template <typename T>
at::Tensor column_tensor(Column<T>&& column, at::ScalarType type) {
  if (column.empty()) return at::empty({0}, at::TensorOptions().dtype(type));
  auto* owner = new Column<T>(std::move(column));
  return at::from_blob(
      owner->data(), {static_cast<int64_t>(owner->size())}, [owner](void*) { delete owner; },
      at::TensorOptions().dtype(type));
}
}  // namespace

std::vector<at::Tensor> Events::release_columns() {
  std::vector<at::Tensor> out;
  out.push_back(column_tensor(std::move(t), at::kLong));
  out.push_back(column_tensor(std::move(x), at::kShort));
  out.push_back(column_tensor(std::move(y), at::kShort));
  out.push_back(column_tensor(std::move(p), at::kShort));
  t.clear();
  x.clear();
  y.clear();
  p.clear();
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
