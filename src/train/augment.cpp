// Audio-frame augmentation (see snn/train/augment.h).
#include "snn/train/augment.h"

#include <ATen/ATen.h>
#include <c10/util/Exception.h>

#include <sstream>

#include "util/text_spec.h"

namespace snn::train {
namespace {

constexpr const char* kWhat = "snn::train::FrameAugment";

// Integers uniform in [-k, k], [B].
at::Tensor symmetric(int64_t k, int64_t b, at::Generator& g) {
  return at::randint(-k, k + 1, {b}, g, at::TensorOptions(at::kLong));
}

// Masks of up to `width` along an axis of length n, `count` per sample: [B, n] booleans.
at::Tensor band_masks(int64_t count, int64_t width, int64_t b, int64_t n, at::Generator& g) {
  auto mask = at::zeros({b, n}, at::kBool);
  const auto pos = at::arange(n, at::kLong).unsqueeze(0);
  for (int64_t i = 0; i < count && width > 0; ++i) {
    const auto w = at::randint(0, width + 1, {b, 1}, g, at::TensorOptions(at::kLong));
    const auto start =
        (at::rand({b, 1}, g, at::TensorOptions(at::kDouble)) * (n - w + 1).clamp_min(1))
            .floor()
            .to(at::kLong);
    mask = mask | ((pos >= start) & (pos < start + w));
  }
  return mask;
}

}  // namespace

at::Tensor augment_frames(const at::Tensor& x, const FrameAugmentOptions& o, at::Generator& g) {
  TORCH_CHECK(x.dim() == 3, kWhat, ": expected audio frames [B, T, channels], got ", x.sizes(),
              " (camera frames are not augmented: set train.augment = \"none\")");
  const int64_t B = x.size(0), T = x.size(1), C = x.size(2);
  if (B == 0) return x.clone();
  // Source indices per sample: time [B, T], channel [B, C]; out of range -> zero.
  const auto t = at::arange(T, at::kDouble).unsqueeze(0);
  const auto stretch =
      1.0 + o.time_stretch() * (2.0 * at::rand({B, 1}, g, at::TensorOptions(at::kDouble)) - 1.0);
  const auto tshift = symmetric(o.time_shift(), B, g).unsqueeze(1).to(at::kDouble);
  const double centre = (static_cast<double>(T) - 1) / 2;
  const auto src_t = ((t - centre) * stretch + centre - tshift).round().to(at::kLong);
  const auto src_c =
      at::arange(C, at::kLong).unsqueeze(0) - symmetric(o.channel_shift(), B, g).unsqueeze(1);
  const auto t_ok = (src_t >= 0) & (src_t < T);
  const auto c_ok = (src_c >= 0) & (src_c < C);
  auto y = x.gather(1, src_t.clamp(0, T - 1).unsqueeze(2).expand({B, T, C}));
  y = y.gather(2, src_c.clamp(0, C - 1).unsqueeze(1).expand({B, T, C}));
  auto keep = t_ok.unsqueeze(2) & c_ok.unsqueeze(1);
  keep = keep & ~band_masks(o.frequency_masks(), o.frequency_mask(), B, C, g).unsqueeze(1);
  keep = keep & ~band_masks(o.time_masks(), o.time_mask(), B, T, g).unsqueeze(2);
  return y * keep.to(y.scalar_type());
}

std::optional<FrameAugmentOptions> parse_frame_augment(const std::string& text) {
  if (text == "none") return std::nullopt;
  const auto call = spec::parse(text, kWhat);
  spec::Args a(call, kWhat);
  TORCH_CHECK(a.name() == "FrameAugment", kWhat, ": expected FrameAugment(...) or none, got ",
              text);
  FrameAugmentOptions o;
  o.channel_shift(a.integer("channel_shift", o.channel_shift()))
      .time_stretch(a.real("time_stretch", o.time_stretch()))
      .time_shift(a.integer("time_shift", o.time_shift()))
      .frequency_masks(a.integer("frequency_masks", o.frequency_masks()))
      .frequency_mask(a.integer("frequency_mask", o.frequency_mask()))
      .time_masks(a.integer("time_masks", o.time_masks()))
      .time_mask(a.integer("time_mask", o.time_mask()));
  a.finish();
  TORCH_CHECK(o.channel_shift() >= 0 && o.time_shift() >= 0 && o.frequency_masks() >= 0 &&
                  o.frequency_mask() >= 0 && o.time_masks() >= 0 && o.time_mask() >= 0,
              kWhat, ": shifts, mask counts and widths must be >= 0, got ", text);
  TORCH_CHECK(o.time_stretch() >= 0 && o.time_stretch() < 1, kWhat,
              ": time_stretch must be in [0, 1), got ", o.time_stretch());
  return o;
}

std::string frame_augment_repr(const std::optional<FrameAugmentOptions>& o) {
  if (!o) return "none";
  std::ostringstream os;
  os << "FrameAugment(channel_shift=" << o->channel_shift() << ", time_stretch="
     << o->time_stretch() << ", time_shift=" << o->time_shift() << ", frequency_masks="
     << o->frequency_masks() << ", frequency_mask=" << o->frequency_mask()
     << ", time_masks=" << o->time_masks() << ", time_mask=" << o->time_mask() << ")";
  return os.str();
}

}  // namespace snn::train
