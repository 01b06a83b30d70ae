// Event-to-event transforms (Tonic's), and parse_transform.
#include "snn/events/transforms.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <limits>
#include <map>
#include <numeric>

#include "util/text_spec.h"
#include "util/target_clones.h"

namespace snn::events {
namespace {

using spec::Repr;

void check_probability(const char* name, double p) {
  TORCH_CHECK(p >= 0 && p <= 1, "snn::events::", name, ": p must lie in [0, 1], got p=", p);
}

void check_has_y(const char* name, const Events& e) {
  TORCH_CHECK(e.has_y(), "snn::events::", name,
              ": needs events with a y column, got audio-shaped (t, x, p) events of sensor ",
              e.sensor());
}

double uniform01(Rng& rng) {
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng);
}

// Uniform in [0, bound), bound >= 1, without bias (Lemire's multiply-and-reject): a fraction
// of the cost of std::uniform_int_distribution, which matters in per-event loops.
template <typename Engine>
uint64_t uniform_below(Engine& rng, uint64_t bound) {
  unsigned __int128 m = static_cast<unsigned __int128>(rng()) * bound;
  auto low = static_cast<uint64_t>(m);
  if (low < bound) {
    const uint64_t threshold = (0 - bound) % bound;
    while (low < threshold) {
      m = static_cast<unsigned __int128>(rng()) * bound;
      low = static_cast<uint64_t>(m);
    }
  }
  return static_cast<uint64_t>(m >> 64);
}

// xoshiro256** (Blackman & Vigna), seeded by SplitMix64 from one draw of the transform's Rng:
// for loops that draw once per event, several times cheaper than std::mt19937_64.
class FastRng {
 public:
  using result_type = uint64_t;
  explicit FastRng(uint64_t seed) {
    for (auto& w : s_) {
      seed += 0x9E3779B97F4A7C15ULL;
      uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      w = z ^ (z >> 31);
    }
  }
  static constexpr uint64_t min() { return 0; }
  static constexpr uint64_t max() { return ~uint64_t{0}; }
  uint64_t operator()() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// Standard normal draws by Marsaglia & Tsang's ziggurat (128 layers): one 64-bit draw per
// sample in ~99% of cases (the layer from the top 7 bits, the value from the low 32), the
// exact density elsewhere. Several times cheaper per event than std::normal_distribution.
class Ziggurat {
 public:
  static const Ziggurat& instance() {
    static const Ziggurat z;
    return z;
  }
  template <typename Engine>
  double operator()(Engine& rng) const {
    for (;;) {
      const uint64_t u = rng();
      const auto layer = static_cast<int>(u >> 57);
      const auto hz = static_cast<int32_t>(static_cast<uint32_t>(u));
      const double x = static_cast<double>(hz) * w_[layer];
      if (static_cast<uint32_t>(hz < 0 ? -static_cast<int64_t>(hz) : hz) < k_[layer]) return x;
      if (layer == 0) {  // the tail beyond r
        double a, b;
        do {
          a = -std::log(uniform_open(rng)) / kR;
          b = -std::log(uniform_open(rng));
        } while (b + b < a * a);
        return hz > 0 ? kR + a : -kR - a;
      }
      if (f_[layer] + uniform_open(rng) * (f_[layer - 1] - f_[layer]) < std::exp(-0.5 * x * x)) {
        return x;
      }
    }
  }

 private:
  static constexpr double kR = 3.442619855899;  // start of the tail
  static constexpr double kV = 9.91256303526217e-3;  // area of each layer
  Ziggurat() {
    const double m = 2147483648.0;  // 2^31
    double d = kR, t = kR;
    const double q = kV / std::exp(-0.5 * d * d);
    k_[0] = static_cast<uint32_t>((d / q) * m);
    k_[1] = 0;
    w_[0] = q / m;
    w_[127] = d / m;
    f_[0] = 1.0;
    f_[127] = std::exp(-0.5 * d * d);
    for (int i = 126; i >= 1; --i) {
      d = std::sqrt(-2.0 * std::log(kV / d + std::exp(-0.5 * d * d)));
      k_[i + 1] = static_cast<uint32_t>((d / t) * m);
      t = d;
      f_[i] = std::exp(-0.5 * d * d);
      w_[i] = d / m;
    }
  }
  template <typename Engine>
  static double uniform_open(Engine& rng) {  // in (0, 1)
    return (static_cast<double>(rng() >> 11) + 0.5) * 0x1.0p-53;
  }
  uint32_t k_[128];
  double w_[128], f_[128];
};

// A parameter given as a value or as a range [lo, hi) drawn from per sample (Tonic's
// tuples): (hi - lo)·u + lo; no draw for a single value.
double draw(const RealPair& range, Rng& rng) {
  if (range.first == range.second) return range.first;
  return (range.second - range.first) * uniform01(rng) + range.first;
}
template <typename T>
std::string format_range(const std::pair<T, T>& range) {
  return range.first == range.second ? spec::format(range.first) : spec::format(range);
}

// The events at the given indices, in that order.
Events gather(const Events& e, const std::vector<int64_t>& idx) {
  Events out(e.sensor(), e.has_y());
  const size_t n = idx.size();
  out.t.resize(n);
  out.x.resize(n);
  out.y.resize(n);
  out.p.resize(n);
  for (size_t k = 0; k < n; ++k) {
    const int64_t i = idx[k];
    out.t[k] = e.t[i];
    out.x[k] = e.x[i];
    out.y[k] = e.y[i];
    out.p[k] = e.p[i];
  }
  return out;
}

// Keeps the events where keep(i) holds, in order.
template <typename Pred>
Events filter(const Events& e, Pred keep) {
  std::vector<uint8_t> mask(static_cast<size_t>(e.size()));
  for (int64_t i = 0; i < e.size(); ++i) mask[i] = keep(i) ? 1 : 0;
  return e.select(mask.data());
}

// Downsample's arithmetic: Tonic's t·ft + 0 and x·fx, y·fy in float64, truncated back.
SNN_TARGET_CLONES
void scale_columns(const int64_t* t, const int16_t* x, const int16_t* y, int64_t n, double ft,
                   double fx, double fy, int64_t* ot, int16_t* ox, int16_t* oy) {
  for (int64_t i = 0; i < n; ++i) {
    ot[i] = static_cast<int64_t>(static_cast<double>(t[i]) * ft + 0.0);
    ox[i] = static_cast<int16_t>(static_cast<double>(x[i]) * fx);
    oy[i] = static_cast<int16_t>(static_cast<double>(y[i]) * fy);
  }
}

// TimeJitter's arithmetic: t' = trunc(t + std·z).
SNN_TARGET_CLONES
void jitter_column(const int64_t* t, const double* z, int64_t n, double std, int64_t* out) {
  for (int64_t i = 0; i < n; ++i) out[i] = static_cast<int64_t>(static_cast<double>(t[i]) + std * z[i]);
}

// Row-major pixel index (x + W·y) and the number of pixels; audio: x.
int64_t n_pixels(const Events& e) {
  return e.sensor().width * (e.has_y() ? std::max<int64_t>(e.sensor().height, 1) : 1);
}

}  // namespace

Events Transform::apply(const Events& events, uint64_t seed) const {
  Rng rng(seed);
  return apply(events, rng);
}

// ---- CropTime ------------------------------------------------------------------------------

CropTime::CropTime(CropTimeOptions options) : options_(std::move(options)) {
  TORCH_CHECK(!options_.max() || *options_.max() >= options_.min(),
              "snn::events::CropTime: max must be >= min, got min=", options_.min(),
              ", max=", *options_.max());
}
Events CropTime::apply(const Events& e, Rng&) const {
  const int64_t lo = options_.min();
  const int64_t hi = options_.max().value_or(std::numeric_limits<int64_t>::max());
  // Events in time order (as files and Tonic's datasets hold them): the kept events are one
  // run, found by binary search and copied as a block.
  if (std::is_sorted(e.t.begin(), e.t.end())) {
    const auto first = std::lower_bound(e.t.begin(), e.t.end(), lo) - e.t.begin();
    const auto last = std::upper_bound(e.t.begin() + first, e.t.end(), hi) - e.t.begin();
    return e.slice(first, std::max(first, last));
  }
  return filter(e, [&](int64_t i) { return e.t[i] >= lo && e.t[i] <= hi; });
}
std::string CropTime::repr() const {
  return Repr("CropTime").arg("min", options_.min()).arg("max", options_.max()).str();
}

// ---- TimeSkew, TimeAlignment -----------------------------------------------------------------

TimeSkew::TimeSkew(TimeSkewOptions options) : options_(std::move(options)) {
  const auto ok = [](const RealPair& r) {
    return std::isfinite(r.first) && std::isfinite(r.second) && r.first <= r.second;
  };
  TORCH_CHECK(ok(options_.coefficient()),
              "snn::events::TimeSkew: coefficient must be finite (a range: lo <= hi), got "
              "coefficient=",
              format_range(options_.coefficient()));
  TORCH_CHECK(ok(options_.offset()),
              "snn::events::TimeSkew: offset must be finite (a range: lo <= hi), got offset=",
              format_range(options_.offset()));
}
Events TimeSkew::apply(const Events& e, Rng& rng) const {
  // Tonic draws the coefficient, then the offset (each only when given as a range).
  const double coefficient = draw(options_.coefficient(), rng);
  const double offset = draw(options_.offset(), rng);
  Events out = e;
  for (auto& t : out.t) {
    t = static_cast<int64_t>(static_cast<double>(t) * coefficient + offset);
  }
  return out;
}
std::string TimeSkew::repr() const {
  return "TimeSkew(coefficient=" + format_range(options_.coefficient()) +
         ", offset=" + format_range(options_.offset()) + ")";
}

Events TimeAlignment::apply(const Events& e, Rng&) const {
  Events out = e;
  if (e.empty()) return out;
  const int64_t t0 = *std::min_element(e.t.begin(), e.t.end());
  for (auto& t : out.t) t -= t0;
  return out;
}

// ---- TimeJitter ------------------------------------------------------------------------------

TimeJitter::TimeJitter(TimeJitterOptions options) : options_(std::move(options)) {
  TORCH_CHECK(options_.std() >= 0 && std::isfinite(options_.std()),
              "snn::events::TimeJitter: std must be >= 0, got std=", options_.std());
}
Events TimeJitter::apply(const Events& e, Rng& rng) const {
  Events out;
  if (options_.std() > 0 && !e.empty()) {
    // Ziggurat draws on xoshiro256** (seeded from rng): much cheaper per event than
    // std::normal_distribution on the Mersenne twister.
    Column<double> noise(static_cast<size_t>(e.size()));  // (a cached block: no fresh pages)
    FastRng fast(rng());
    const Ziggurat& normal = Ziggurat::instance();
    for (auto& z : noise) z = normal(fast);
    const double* z = noise.data();
    const double std = options_.std();
    out = Events(e.sensor(), e.has_y());
    out.resize(e.size());
    std::copy(e.x.begin(), e.x.end(), out.x.begin());
    std::copy(e.y.begin(), e.y.end(), out.y.begin());
    std::copy(e.p.begin(), e.p.end(), out.p.begin());
    jitter_column(e.t.data(), z, e.size(), std, out.t.data());
    if (options_.clip_negative() &&
        std::any_of(out.t.begin(), out.t.end(), [](int64_t t) { return t < 0; })) {
      // Drop the events that went below 0, in place and without branches.
      int64_t* t = out.t.data();
      int16_t *x = out.x.data(), *y = out.y.data(), *p = out.p.data();
      int64_t k = 0;
      for (int64_t i = 0; i < out.size(); ++i) {
        t[k] = t[i];
        x[k] = x[i];
        y[k] = y[i];
        p[k] = p[i];
        k += t[i] >= 0;
      }
      out.resize(k);
    }
  } else {
    out = e;
    if (options_.clip_negative() &&
        std::any_of(out.t.begin(), out.t.end(), [](int64_t t) { return t < 0; })) {
      out = filter(out, [&](int64_t i) { return out.t[i] >= 0; });
    }
  }
  if (options_.sort_timestamps()) {
    std::vector<int64_t> order(out.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(),
                     [&](int64_t a, int64_t b) { return out.t[a] < out.t[b]; });
    out = gather(out, order);
  }
  return out;
}
std::string TimeJitter::repr() const {
  return Repr("TimeJitter")
      .arg("std", options_.std())
      .arg("clip_negative", options_.clip_negative())
      .arg("sort_timestamps", options_.sort_timestamps())
      .str();
}

// ---- RandomTimeReversal ------------------------------------------------------------------------

RandomTimeReversal::RandomTimeReversal(RandomTimeReversalOptions options)
    : options_(std::move(options)) {
  check_probability("RandomTimeReversal", options_.p());
}
Events RandomTimeReversal::apply(const Events& e, Rng& rng) const {
  if (!(uniform01(rng) < options_.p()) || e.empty()) return e;
  const int64_t t_max = *std::max_element(e.t.begin(), e.t.end());
  Events out(e.sensor(), e.has_y());
  out.reserve(e.size());
  for (int64_t i = e.size() - 1; i >= 0; --i) {
    const int64_t p = options_.flip_polarities() ? (e.p[i] == 0 ? 1 : 0) : e.p[i];
    out.push_back(t_max - e.t[i], e.x[i], e.y[i], p);
  }
  return out;
}
std::string RandomTimeReversal::repr() const {
  return Repr("RandomTimeReversal")
      .arg("p", options_.p())
      .arg("flip_polarities", options_.flip_polarities())
      .str();
}

// ---- crops
// ---------------------------------------------------------------------------------------

namespace {
// Keeps x0 <= x < x0 + w (and y likewise), moved by (-x0, -y0); new sensor (w, h, P).
Events crop_box(const Events& e, int64_t x0, int64_t y0, int64_t w, int64_t h) {
  SensorSize s = e.sensor();
  s.width = w;
  if (e.has_y()) s.height = h;
  Events out(s, e.has_y());
  out.reserve(e.size());
  for (int64_t i = 0; i < e.size(); ++i) {
    if (e.x[i] < x0 || e.x[i] >= x0 + w) continue;
    if (e.has_y() && (e.y[i] < y0 || e.y[i] >= y0 + h)) continue;
    out.push_back(e.t[i], e.x[i] - x0, e.has_y() ? e.y[i] - y0 : 0, e.p[i]);
  }
  return out;
}
}  // namespace

CropSpace::CropSpace(CropSpaceOptions options) : options_(std::move(options)) {
  TORCH_CHECK(options_.width() >= 1,
              "snn::events::CropSpace: width must be >= 1, got width=", options_.width());
  TORCH_CHECK(options_.height() >= 1,
              "snn::events::CropSpace: height must be >= 1, got height=", options_.height());
  TORCH_CHECK(options_.x() >= 0, "snn::events::CropSpace: x must be >= 0, got x=", options_.x());
  TORCH_CHECK(options_.y() >= 0, "snn::events::CropSpace: y must be >= 0, got y=", options_.y());
}
Events CropSpace::apply(const Events& e, Rng&) const {
  const auto& o = options_;
  TORCH_CHECK(o.x() + o.width() <= e.sensor().width, "snn::events::CropSpace: the box x=", o.x(),
              ", width=", o.width(), " reaches past the sensor width ", e.sensor().width);
  if (e.has_y()) {
    TORCH_CHECK(o.y() + o.height() <= e.sensor().height,
                "snn::events::CropSpace: the box y=", o.y(), ", height=", o.height(),
                " reaches past the sensor height ", e.sensor().height);
  } else {
    TORCH_CHECK(o.y() == 0 && o.height() == 1,
                "snn::events::CropSpace: audio-shaped events have no y: expected y=0, height=1, "
                "got y=",
                o.y(), ", height=", o.height());
  }
  return crop_box(e, o.x(), o.y(), o.width(), o.height());
}
std::string CropSpace::repr() const {
  return Repr("CropSpace")
      .arg("x", options_.x())
      .arg("y", options_.y())
      .arg("width", options_.width())
      .arg("height", options_.height())
      .str();
}

CenterCrop::CenterCrop(int64_t width, int64_t height) : width_(width), height_(height) {
  TORCH_CHECK(width >= 1 && height >= 1,
              "snn::events::CenterCrop: size must be >= 1 in both axes, got size=(", width, ", ",
              height, ")");
}
Events CenterCrop::apply(const Events& e, Rng&) const {
  check_has_y("CenterCrop", e);
  // Tonic: offsets may be negative (padding); the kept range starts at max(offset, 0).
  const auto floordiv = [](int64_t a, int64_t b) { return a / b - ((a % b != 0) && (a < 0)); };
  const int64_t ox = floordiv(e.sensor().width - width_, 2);
  const int64_t oy = floordiv(e.sensor().height - height_, 2);
  const int64_t kx = std::max<int64_t>(ox, 0), ky = std::max<int64_t>(oy, 0);
  SensorSize s{width_, height_, e.sensor().polarities};
  Events out(s, true);
  for (int64_t i = 0; i < e.size(); ++i) {
    if (e.x[i] < kx || e.x[i] >= kx + width_ || e.y[i] < ky || e.y[i] >= ky + height_) continue;
    out.push_back(e.t[i], e.x[i] - ox, e.y[i] - oy, e.p[i]);
  }
  return out;
}
std::string CenterCrop::repr() const {
  return Repr("CenterCrop").arg("size", std::pair{width_, height_}).str();
}

RandomCrop::RandomCrop(int64_t width, int64_t height) : width_(width), height_(height) {
  TORCH_CHECK(width >= 1 && height >= 1,
              "snn::events::RandomCrop: target_size must be >= 1 in both axes, got target_size=(",
              width, ", ", height, ")");
}
Events RandomCrop::apply(const Events& e, Rng& rng) const {
  check_has_y("RandomCrop", e);
  TORCH_CHECK(width_ <= e.sensor().width && height_ <= e.sensor().height,
              "snn::events::RandomCrop: target_size=(", width_, ", ", height_,
              ") is larger than the sensor ", e.sensor());
  const auto x0 =
      static_cast<int64_t>(uniform01(rng) * static_cast<double>(e.sensor().width - width_));
  const auto y0 =
      static_cast<int64_t>(uniform01(rng) * static_cast<double>(e.sensor().height - height_));
  return crop_box(e, x0, y0, width_, height_);
}
std::string RandomCrop::repr() const {
  return Repr("RandomCrop").arg("target_size", std::pair{width_, height_}).str();
}

// ---- Downsample ------------------------------------------------------------------------------

Downsample::Downsample(DownsampleOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  TORCH_CHECK(
      o.time_factor() > 0 && std::isfinite(o.time_factor()),
      "snn::events::Downsample: time_factor must be > 0, got time_factor=", o.time_factor());
  TORCH_CHECK(!(o.spatial_factor() && o.target_size()),
              "snn::events::Downsample: give spatial_factor or target_size, not both");
  if (o.spatial_factor()) {
    const auto [fx, fy] = *o.spatial_factor();
    TORCH_CHECK(fx > 0 && fy > 0 && std::isfinite(fx) && std::isfinite(fy),
                "snn::events::Downsample: spatial_factor must be > 0, got spatial_factor=(", fx,
                ", ", fy, ")");
  }
  if (o.target_size()) {
    const auto [w, h] = *o.target_size();
    TORCH_CHECK(w >= 1 && h >= 1,
                "snn::events::Downsample: target_size must be >= 1, got target_size=(", w, ", ", h,
                ")");
  }
}
Events Downsample::apply(const Events& e, Rng&) const {
  const auto& o = options_;
  SensorSize s = e.sensor();
  double fx = 1, fy = 1;
  if (o.target_size()) {
    TORCH_CHECK(e.sensor().width > 0 && (!e.has_y() || e.sensor().height > 0),
                "snn::events::Downsample: target_size needs a sensor size, got ", e.sensor());
    fx = static_cast<double>(o.target_size()->first) / static_cast<double>(s.width);
    fy = e.has_y() ? static_cast<double>(o.target_size()->second) / static_cast<double>(s.height)
                   : 1.0;
    s.width = o.target_size()->first;
    if (e.has_y()) s.height = o.target_size()->second;
  } else if (o.spatial_factor()) {
    fx = o.spatial_factor()->first;
    fy = e.has_y() ? o.spatial_factor()->second : 1.0;
    // The width that holds every scaled x: x' <= trunc((W - 1)·fx).
    s.width = static_cast<int64_t>(static_cast<double>(s.width - 1) * fx) + 1;
    if (e.has_y()) s.height = static_cast<int64_t>(static_cast<double>(s.height - 1) * fy) + 1;
  }
  // Coordinates are int16.
  TORCH_CHECK(s.width <= 32768 && s.height <= 32768, "snn::events::Downsample: the scaled sensor ",
              s, " has coordinates beyond the int16 range of events");
  Events out(s, e.has_y());
  out.resize(e.size());
  std::copy(e.p.begin(), e.p.end(), out.p.begin());
  scale_columns(e.t.data(), e.x.data(), e.y.data(), e.size(), o.time_factor(), fx, fy,
                out.t.data(), out.x.data(), out.y.data());
  return out;
}
std::string Downsample::repr() const {
  return Repr("Downsample")
      .arg("time_factor", options_.time_factor())
      .arg("spatial_factor", options_.spatial_factor())
      .arg("target_size", options_.target_size())
      .str();
}

// ---- flips
// ---------------------------------------------------------------------------------------

RandomFlipLR::RandomFlipLR(RandomFlipOptions options) : options_(std::move(options)) {
  check_probability("RandomFlipLR", options_.p());
}
Events RandomFlipLR::apply(const Events& e, Rng& rng) const {
  Events out = e;
  if (uniform01(rng) < options_.p()) {
    for (auto& x : out.x) x = static_cast<int16_t>(e.sensor().width - 1 - x);
  }
  return out;
}
std::string RandomFlipLR::repr() const {
  return Repr("RandomFlipLR").arg("p", options_.p()).str();
}

RandomFlipUD::RandomFlipUD(RandomFlipOptions options) : options_(std::move(options)) {
  check_probability("RandomFlipUD", options_.p());
}
Events RandomFlipUD::apply(const Events& e, Rng& rng) const {
  check_has_y("RandomFlipUD", e);
  Events out = e;
  if (uniform01(rng) < options_.p()) {
    for (auto& y : out.y) y = static_cast<int16_t>(e.sensor().height - 1 - y);
  }
  return out;
}
std::string RandomFlipUD::repr() const {
  return Repr("RandomFlipUD").arg("p", options_.p()).str();
}

RandomFlipPolarity::RandomFlipPolarity(RandomFlipOptions options) : options_(std::move(options)) {
  check_probability("RandomFlipPolarity", options_.p());
}
Events RandomFlipPolarity::apply(const Events& e, Rng& rng) const {
  Events out = e;
  if (uniform01(rng) < options_.p()) {
    for (auto& p : out.p) p = static_cast<int16_t>(p == 0 ? 1 : 0);
  }
  return out;
}
std::string RandomFlipPolarity::repr() const {
  return Repr("RandomFlipPolarity").arg("p", options_.p()).str();
}

// ---- SpatialJitter
// -------------------------------------------------------------------------------

SpatialJitter::SpatialJitter(SpatialJitterOptions options) : options_(std::move(options)) {
  const auto& o = options_;
  TORCH_CHECK(o.var_x() >= 0,
              "snn::events::SpatialJitter: var_x must be >= 0, got var_x=", o.var_x());
  TORCH_CHECK(o.var_y() >= 0,
              "snn::events::SpatialJitter: var_y must be >= 0, got var_y=", o.var_y());
  TORCH_CHECK(o.sigma_xy() * o.sigma_xy() <= o.var_x() * o.var_y(),
              "snn::events::SpatialJitter: the covariance [[var_x, sigma_xy], [sigma_xy, var_y]] "
              "must be positive semi-definite (sigma_xy² <= var_x·var_y), got sigma_xy=",
              o.sigma_xy(), ", var_x=", o.var_x(), ", var_y=", o.var_y());
}
Events SpatialJitter::apply(const Events& e, Rng& rng) const {
  const auto& o = options_;
  // Cholesky factor of the covariance: (dx, dy) = L·(z1, z2).
  const double l11 = std::sqrt(o.var_x());
  const double l21 = l11 > 0 ? o.sigma_xy() / l11 : 0.0;
  const double l22 = std::sqrt(std::max(0.0, o.var_y() - l21 * l21));
  std::normal_distribution<double> normal(0.0, 1.0);
  Events out(e.sensor(), e.has_y());
  out.reserve(e.size());
  const int64_t W = e.sensor().width, H = e.sensor().height;
  for (int64_t i = 0; i < e.size(); ++i) {
    const double z1 = normal(rng);
    const double z2 = e.has_y() ? normal(rng) : 0.0;
    const auto x = static_cast<int64_t>(e.x[i] + l11 * z1);
    const auto y = e.has_y() ? static_cast<int64_t>(e.y[i] + l21 * z1 + l22 * z2) : 0;
    if (o.clip_outliers() && (x < 0 || x >= W || (e.has_y() && (y < 0 || y >= H)))) continue;
    out.push_back(e.t[i], x, y, e.p[i]);
  }
  return out;
}
std::string SpatialJitter::repr() const {
  return Repr("SpatialJitter")
      .arg("var_x", options_.var_x())
      .arg("var_y", options_.var_y())
      .arg("sigma_xy", options_.sigma_xy())
      .arg("clip_outliers", options_.clip_outliers())
      .str();
}

// ---- MergePolarities
// -----------------------------------------------------------------------------

Events MergePolarities::apply(const Events& e, Rng&) const {
  Events out = e;
  std::fill(out.p.begin(), out.p.end(), int16_t{0});
  SensorSize s = e.sensor();
  s.polarities = 1;
  out.set_sensor(s);
  return out;
}

// ---- Denoise, RefractoryPeriod, Decimation
// -------------------------------------------------------

Denoise::Denoise(double filter_time) : filter_time_(filter_time) {
  TORCH_CHECK(filter_time > 0 && std::isfinite(filter_time),
              "snn::events::Denoise: filter_time must be > 0, got filter_time=", filter_time);
}
Events Denoise::apply(const Events& e, Rng&) const {
  e.check_within_sensor("Denoise");
  const int64_t W = e.sensor().width;
  const int64_t H = e.has_y() ? e.sensor().height : 1;
  // Per pixel: the time until which it makes its neighbours' events pass (t + filter_time).
  std::vector<double> until(static_cast<size_t>(W * H), -std::numeric_limits<double>::infinity());
  std::vector<uint8_t> keep(e.size(), 0);
  for (int64_t i = 0; i < e.size(); ++i) {
    const int64_t x = e.x[i], y = e.has_y() ? e.y[i] : 0;
    const auto t = static_cast<double>(e.t[i]);
    until[x + W * y] = t + filter_time_;
    keep[i] = (x > 0 && until[x - 1 + W * y] > t) || (x < W - 1 && until[x + 1 + W * y] > t) ||
              (y > 0 && until[x + W * (y - 1)] > t) || (y < H - 1 && until[x + W * (y + 1)] > t);
  }
  return filter(e, [&](int64_t i) { return static_cast<bool>(keep[i]); });
}
std::string Denoise::repr() const {
  return Repr("Denoise").arg("filter_time", filter_time_).str();
}

RefractoryPeriod::RefractoryPeriod(double delta) : RefractoryPeriod(RealPair{delta, delta}) {}
RefractoryPeriod::RefractoryPeriod(RealPair delta_range) : delta_(delta_range) {
  TORCH_CHECK(delta_.first >= 0 && delta_.first <= delta_.second && std::isfinite(delta_.second),
              "snn::events::RefractoryPeriod: delta must be >= 0 (a range: 0 <= lo <= hi), got "
              "delta=",
              format_range(delta_));
}
Events RefractoryPeriod::apply(const Events& e, Rng& rng) const {
  e.check_within_sensor("RefractoryPeriod");
  // Tonic draws int((hi - lo)·u + lo) for a range.
  const double delta = delta_.first == delta_.second ? delta_.first : std::trunc(draw(delta_, rng));
  const int64_t W = e.sensor().width;
  std::vector<double> last(static_cast<size_t>(n_pixels(e)),
                           -std::numeric_limits<double>::infinity());
  std::vector<uint8_t> keep(e.size(), 0);
  for (int64_t i = 0; i < e.size(); ++i) {
    const int64_t k = e.x[i] + (e.has_y() ? W * e.y[i] : 0);
    const auto t = static_cast<double>(e.t[i]);
    keep[i] = t - last[k] > delta;
    last[k] = t;
  }
  return filter(e, [&](int64_t i) { return static_cast<bool>(keep[i]); });
}
std::string RefractoryPeriod::repr() const {
  return "RefractoryPeriod(delta=" + format_range(delta_) + ")";
}

Decimation::Decimation(int64_t n) : n_(n) {
  TORCH_CHECK(n >= 1, "snn::events::Decimation: n must be >= 1, got n=", n);
}
Events Decimation::apply(const Events& e, Rng&) const {
  e.check_within_sensor("Decimation");
  const int64_t W = e.sensor().width;
  std::vector<int64_t> count(static_cast<size_t>(n_pixels(e)), 0);
  std::vector<uint8_t> keep(e.size(), 0);
  for (int64_t i = 0; i < e.size(); ++i) {
    auto& c = count[e.x[i] + (e.has_y() ? W * e.y[i] : 0)];
    if (++c >= n_) {
      c = 0;
      keep[i] = 1;
    }
  }
  return filter(e, [&](int64_t i) { return static_cast<bool>(keep[i]); });
}
std::string Decimation::repr() const {
  return Repr("Decimation").arg("n", n_).str();
}

// ---- DropEvent, DropPixel
// ------------------------------------------------------------------------

DropEvent::DropEvent(double p) : DropEvent(RealPair{p, p}) {}
DropEvent::DropEvent(RealPair p_range) : p_(p_range) {
  TORCH_CHECK(p_.first >= 0 && p_.second <= 1 && p_.first <= p_.second,
              "snn::events::DropEvent: p must lie in [0, 1] (a range: 0 <= lo <= hi <= 1), got p=",
              format_range(p_));
}
Events DropEvent::apply(const Events& e, Rng& rng) const {
  const double p = draw(p_, rng);
  const int64_t n = e.size();
  const auto n_drop = std::min<int64_t>(n, static_cast<int64_t>(p * static_cast<double>(n) + 0.5));
  // n_drop distinct indices, uniformly: draw indices at random and skip repeats (at most
  // twice as many draws as picks, since the smaller of the dropped and kept sets is drawn).
  const bool pick_dropped = 2 * n_drop <= n;
  const int64_t picks = pick_dropped ? n_drop : n - n_drop;
  std::vector<uint8_t> keep(static_cast<size_t>(n), pick_dropped ? 1 : 0);
  const uint8_t picked = pick_dropped ? 0 : 1;
  FastRng fast(picks > 0 ? rng() : 0);
  for (int64_t k = 0; k < picks;) {
    const auto j = static_cast<size_t>(uniform_below(fast, static_cast<uint64_t>(n)));
    if (keep[j] != picked) {
      keep[j] = picked;
      ++k;
    }
  }
  return e.select(keep.data());
}
std::string DropEvent::repr() const {
  return "DropEvent(p=" + format_range(p_) + ")";
}

DropPixel::DropPixel(DropPixelOptions options) : options_(std::move(options)) {
  if (options_.hot_pixel_frequency()) {
    TORCH_CHECK(*options_.hot_pixel_frequency() > 0,
                "snn::events::DropPixel: hot_pixel_frequency must be > 0, got "
                "hot_pixel_frequency=",
                *options_.hot_pixel_frequency());
  }
}
Events DropPixel::apply(const Events& e, Rng&) const {
  e.check_within_sensor("DropPixel");
  const int64_t W = e.sensor().width, H = e.has_y() ? e.sensor().height : 1;
  std::vector<bool> dropped(static_cast<size_t>(W * H), false);
  for (const auto& [x, y] : options_.coordinates()) {
    if (x >= 0 && x < W && y >= 0 && y < H) dropped[x + W * y] = true;
  }
  if (options_.hot_pixel_frequency() && !e.empty()) {
    std::vector<int64_t> count(static_cast<size_t>(W * H), 0);
    for (int64_t i = 0; i < e.size(); ++i) ++count[e.x[i] + (e.has_y() ? W * e.y[i] : 0)];
    const double max_occur =
        *options_.hot_pixel_frequency() * static_cast<double>(e.t.back() - e.t.front()) * 1e-6;
    for (size_t k = 0; k < count.size(); ++k) {
      if (static_cast<double>(count[k]) > max_occur) dropped[k] = true;
    }
  }
  return filter(e, [&](int64_t i) { return !dropped[e.x[i] + (e.has_y() ? W * e.y[i] : 0)]; });
}
std::string DropPixel::repr() const {
  return Repr("DropPixel")
      .arg("coordinates", options_.coordinates())
      .arg("hot_pixel_frequency", options_.hot_pixel_frequency())
      .str();
}

// ---- DropEventByTime, DropEventByArea, UniformNoise

DropEventByTime::DropEventByTime(double duration_ratio)
    : DropEventByTime(RealPair{duration_ratio, duration_ratio}) {}
DropEventByTime::DropEventByTime(RealPair duration_ratio_range)
    : duration_ratio_(duration_ratio_range) {
  const auto& r = duration_ratio_;
  TORCH_CHECK(r.first >= 0 && r.second < 1 && r.first <= r.second,
              "snn::events::DropEventByTime: duration_ratio must lie in [0, 1), got "
              "duration_ratio=",
              format_range(r), r.first == r.second ? "" : " (a range needs 0 <= lo <= hi < 1)");
}
Events DropEventByTime::apply(const Events& e, Rng& rng) const {
  if (e.empty()) return e;
  const double ratio = draw(duration_ratio_, rng);
  const auto t_end = static_cast<double>(*std::max_element(e.t.begin(), e.t.end()));
  const double length = t_end * ratio;
  const double start = std::uniform_real_distribution<double>(0.0, t_end - length)(rng);
  return filter(e, [&](int64_t i) {
    const auto t = static_cast<double>(e.t[i]);
    return !(t >= start && t <= start + length);
  });
}
std::string DropEventByTime::repr() const {
  return "DropEventByTime(duration_ratio=" + format_range(duration_ratio_) + ")";
}

DropEventByArea::DropEventByArea(double area_ratio)
    : DropEventByArea(RealPair{area_ratio, area_ratio}) {}
DropEventByArea::DropEventByArea(RealPair area_ratio_range) : area_ratio_(area_ratio_range) {
  const auto& r = area_ratio_;
  TORCH_CHECK(r.first >= 0 && r.second < 1 && r.first <= r.second,
              "snn::events::DropEventByArea: area_ratio must lie in [0, 1), got area_ratio=",
              format_range(r), r.first == r.second ? "" : " (a range needs 0 <= lo <= hi < 1)");
}
Events DropEventByArea::apply(const Events& e, Rng& rng) const {
  check_has_y("DropEventByArea", e);
  const double ratio = draw(area_ratio_, rng);
  const int64_t W = e.sensor().width, H = e.sensor().height;
  const auto cut_w = static_cast<int64_t>(static_cast<double>(W) * ratio);
  const auto cut_h = static_cast<int64_t>(static_cast<double>(H) * ratio);
  const int64_t x1 = std::uniform_int_distribution<int64_t>(0, W - cut_w - 1)(rng);
  const int64_t y1 = std::uniform_int_distribution<int64_t>(0, H - cut_h - 1)(rng);
  return filter(e, [&](int64_t i) {
    return !(e.x[i] >= x1 && e.x[i] < x1 + cut_w && e.y[i] >= y1 && e.y[i] < y1 + cut_h);
  });
}
std::string DropEventByArea::repr() const {
  return "DropEventByArea(area_ratio=" + format_range(area_ratio_) + ")";
}

Events EventDrop::apply(const Events& e, Rng& rng) const {
  check_has_y("EventDrop", e);
  const auto pick = [&](int64_t lo, int64_t hi) {
    return std::uniform_int_distribution<int64_t>(lo, hi)(rng);
  };
  switch (pick(0, 3)) {
    case 1:
      return DropEventByTime(static_cast<double>(pick(1, 9)) / 10.0).apply(e, rng);
    case 2:
      return DropEventByArea(static_cast<double>(pick(1, 5)) / 20.0).apply(e, rng);
    case 3:
      return DropEvent(static_cast<double>(pick(1, 9)) / 10.0).apply(e, rng);
    default:
      return e;
  }
}

UniformNoise::UniformNoise(int64_t n) : UniformNoise(IntPair{n, n}) {}
UniformNoise::UniformNoise(IntPair n_range) : n_(n_range) {
  TORCH_CHECK(n_.first >= 0 && n_.first <= n_.second,
              "snn::events::UniformNoise: n must be >= 0 (a range: 0 <= lo <= hi), got n=",
              format_range(n_));
}
Events UniformNoise::apply(const Events& e, Rng& rng) const {
  if (e.empty()) return e;
  // Tonic draws int((hi - lo)·u + lo) for a range.
  const auto n = static_cast<int64_t>(
      draw(RealPair{static_cast<double>(n_.first), static_cast<double>(n_.second)}, rng));
  if (n == 0) return e;
  const auto [lo, hi] = std::minmax_element(e.t.begin(), e.t.end());
  const auto& s = e.sensor();
  Events all = e;
  all.reserve(e.size() + n);
  std::uniform_real_distribution<double> u(0.0, 1.0);
  const auto in = [&](double a, double b) { return static_cast<int64_t>(a + (b - a) * u(rng)); };
  for (int64_t k = 0; k < n; ++k) {
    const int64_t x = in(0, static_cast<double>(s.width));
    const int64_t y = e.has_y() ? in(0, static_cast<double>(s.height)) : 0;
    const int64_t p = in(0, static_cast<double>(s.polarities));
    all.push_back(in(static_cast<double>(*lo), static_cast<double>(*hi)), x, y, p);
  }
  std::vector<int64_t> order(all.size());
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(),
                   [&](int64_t a, int64_t b) { return all.t[a] < all.t[b]; });
  return gather(all, order);
}
std::string UniformNoise::repr() const {
  return "UniformNoise(n=" + format_range(n_) + ")";
}

// ---- Compose
// --------------------------------------------------------------------------------------

Compose::Compose(std::vector<TransformPtr> transforms) : transforms_(std::move(transforms)) {
  for (size_t i = 0; i < transforms_.size(); ++i) {
    TORCH_CHECK(transforms_[i] != nullptr, "snn::events::Compose: transform ", i, " is null");
  }
}
Events Compose::apply(const Events& e, Rng& rng) const {
  Events out = e;
  for (const auto& t : transforms_) out = t->apply(out, rng);
  return out;
}
std::string Compose::repr() const {
  std::string s = "Compose([";
  for (size_t i = 0; i < transforms_.size(); ++i) s += (i ? ", " : "") + transforms_[i]->repr();
  return s + "])";
}

// ---- parse_transform
// -------------------------------------------------------------------------------

namespace {

constexpr const char* kWhat = "snn::events::parse_transform";

TransformPtr build(const spec::Value& call);

using Builder = std::function<TransformPtr(spec::Args&)>;

template <typename T>
T required(const std::optional<T>& v, const spec::Args& a, const char* key) {
  TORCH_CHECK(v.has_value(), kWhat, ": ", a.name(), " needs the parameter '", key, "'");
  return *v;
}

const std::map<std::string, Builder>& builders() {
  static const std::map<std::string, Builder> m = {
      {"CropTime",
       [](spec::Args& a) {
         return std::make_shared<CropTime>(
             CropTimeOptions().min(a.integer("min", 0)).max(a.optional_integer("max")));
       }},
      {"TimeSkew",
       [](spec::Args& a) {
         return std::make_shared<TimeSkew>(
             TimeSkewOptions(required(a.optional_real_pair("coefficient"), a, "coefficient"))
                 .offset(a.optional_real_pair("offset").value_or(RealPair{0, 0})));
       }},
      {"TimeAlignment", [](spec::Args&) { return std::make_shared<TimeAlignment>(); }},
      {"TimeJitter",
       [](spec::Args& a) {
         return std::make_shared<TimeJitter>(
             TimeJitterOptions(a.real("std"))
                 .clip_negative(a.boolean("clip_negative", true))
                 .sort_timestamps(a.boolean("sort_timestamps", false)));
       }},
      {"RandomTimeReversal",
       [](spec::Args& a) {
         return std::make_shared<RandomTimeReversal>(
             RandomTimeReversalOptions()
                 .p(a.real("p", 0.5))
                 .flip_polarities(a.boolean("flip_polarities", true)));
       }},
      {"CropSpace",
       [](spec::Args& a) {
         return std::make_shared<CropSpace>(
             CropSpaceOptions(a.integer("width"), a.integer("height"))
                 .x(a.integer("x", 0))
                 .y(a.integer("y", 0)));
       }},
      {"CenterCrop",
       [](spec::Args& a) {
         auto size = a.optional_integer_pair("size");
         TORCH_CHECK(size, kWhat, ": CenterCrop needs the parameter 'size'");
         return std::make_shared<CenterCrop>(size->first, size->second);
       }},
      {"RandomCrop",
       [](spec::Args& a) {
         auto size = a.optional_integer_pair("target_size");
         TORCH_CHECK(size, kWhat, ": RandomCrop needs the parameter 'target_size'");
         return std::make_shared<RandomCrop>(size->first, size->second);
       }},
      {"Downsample",
       [](spec::Args& a) {
         return std::make_shared<Downsample>(
             DownsampleOptions()
                 .time_factor(a.real("time_factor", 1.0))
                 .spatial_factor(a.optional_real_pair("spatial_factor"))
                 .target_size(a.optional_integer_pair("target_size")));
       }},
      {"RandomFlipLR",
       [](spec::Args& a) {
         return std::make_shared<RandomFlipLR>(RandomFlipOptions().p(a.real("p", 0.5)));
       }},
      {"RandomFlipUD",
       [](spec::Args& a) {
         return std::make_shared<RandomFlipUD>(RandomFlipOptions().p(a.real("p", 0.5)));
       }},
      {"RandomFlipPolarity",
       [](spec::Args& a) {
         return std::make_shared<RandomFlipPolarity>(RandomFlipOptions().p(a.real("p", 0.5)));
       }},
      {"SpatialJitter",
       [](spec::Args& a) {
         return std::make_shared<SpatialJitter>(
             SpatialJitterOptions()
                 .var_x(a.real("var_x", 1.0))
                 .var_y(a.real("var_y", 1.0))
                 .sigma_xy(a.real("sigma_xy", 0.0))
                 .clip_outliers(a.boolean("clip_outliers", false)));
       }},
      {"MergePolarities", [](spec::Args&) { return std::make_shared<MergePolarities>(); }},
      {"Denoise", [](spec::Args& a) { return std::make_shared<Denoise>(a.real("filter_time")); }},
      {"RefractoryPeriod",
       [](spec::Args& a) {
         return std::make_shared<RefractoryPeriod>(
             required(a.optional_real_pair("delta"), a, "delta"));
       }},
      {"Decimation", [](spec::Args& a) { return std::make_shared<Decimation>(a.integer("n")); }},
      {"DropEvent",
       [](spec::Args& a) {
         return std::make_shared<DropEvent>(required(a.optional_real_pair("p"), a, "p"));
       }},
      {"DropPixel",
       [](spec::Args& a) {
         return std::make_shared<DropPixel>(
             DropPixelOptions()
                 .coordinates(a.integer_pairs("coordinates"))
                 .hot_pixel_frequency(a.optional_real("hot_pixel_frequency")));
       }},
      {"DropEventByTime",
       [](spec::Args& a) {
         return std::make_shared<DropEventByTime>(
             a.optional_real_pair("duration_ratio").value_or(RealPair{0.2, 0.2}));
       }},
      {"DropEventByArea",
       [](spec::Args& a) {
         return std::make_shared<DropEventByArea>(
             a.optional_real_pair("area_ratio").value_or(RealPair{0.2, 0.2}));
       }},
      {"EventDownsampling",
       [](spec::Args& a) {
         const EventDownsamplingOptions d(IntPair{1, 1}, 1);
         return std::make_shared<EventDownsampling>(
             EventDownsamplingOptions(
                 required(a.optional_integer_pair("target_size"), a, "target_size"), a.real("dt"))
                 .downsampling_method(a.choice("downsampling_method",
                                               {"integrator", "differentiator"},
                                               "integrator") == "differentiator"
                                          ? EventDownsamplingMethod::Differentiator
                                          : EventDownsamplingMethod::Integrator)
                 .noise_threshold(a.integer("noise_threshold", d.noise_threshold()))
                 .differentiator_time_bins(
                     a.integer("differentiator_time_bins", d.differentiator_time_bins())));
       }},
      {"EventDrop", [](spec::Args&) { return std::make_shared<EventDrop>(); }},
      {"UniformNoise",
       [](spec::Args& a) {
         return std::make_shared<UniformNoise>(required(a.optional_integer_pair("n"), a, "n"));
       }},
      {"Compose",
       [](spec::Args& a) {
         std::vector<TransformPtr> ts;
         for (const auto& c : a.calls("transforms")) ts.push_back(build(c));
         return std::make_shared<Compose>(std::move(ts));
       }},
  };
  return m;
}

TransformPtr build(const spec::Value& call) {
  const auto& m = builders();
  auto it = m.find(call.text);
  if (it == m.end()) {
    std::string names;
    for (const auto& kv : m) names += (names.empty() ? "" : ", ") + kv.first;
    TORCH_CHECK(false, kWhat, ": unknown transform '", call.text, "' at position ", call.pos,
                " (known: ", names, ")");
  }
  spec::Args args(call, kWhat);
  TransformPtr t = it->second(args);
  args.finish();
  return t;
}

}  // namespace

TransformPtr parse_transform(const std::string& text) {
  return build(spec::parse(text, kWhat));
}

}  // namespace snn::events
