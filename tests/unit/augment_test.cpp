// snn::train::augment_frames: shapes, the identity without perturbations, the same draws from
// the same seed, shifts that move the frames, and named errors.
#include <ATen/ATen.h>
#include <ATen/CPUGeneratorImpl.h>
#include <gtest/gtest.h>

#include "snn/train/augment.h"
#include "test_util.h"

namespace {

using snn::train::FrameAugmentOptions;

at::Generator generator(uint64_t seed) { return at::make_generator<at::CPUGeneratorImpl>(seed); }

FrameAugmentOptions nothing() {
  return FrameAugmentOptions().channel_shift(0).time_stretch(0).time_shift(0).frequency_masks(0)
      .time_masks(0);
}

TEST(FrameAugmentTest, NoPerturbationIsTheIdentity) {
  const auto x = at::rand({4, 10, 12});
  auto g = generator(1);
  EXPECT_TRUE(at::equal(snn::train::augment_frames(x, nothing(), g), x));
}

TEST(FrameAugmentTest, TheSameSeedDrawsTheSame) {
  const auto x = at::rand({8, 35, 140});
  auto a = generator(7), b = generator(7), c = generator(8);
  const auto ya = snn::train::augment_frames(x, FrameAugmentOptions(), a);
  EXPECT_EQ(ya.sizes(), x.sizes());
  EXPECT_TRUE(at::equal(ya, snn::train::augment_frames(x, FrameAugmentOptions(), b)));
  EXPECT_FALSE(at::equal(ya, snn::train::augment_frames(x, FrameAugmentOptions(), c)));
  EXPECT_FALSE(at::equal(ya, x));
}

TEST(FrameAugmentTest, AChannelShiftMovesEveryChannelAlike) {
  // One sample, one lit channel: after a shift it is lit elsewhere, by at most the shift.
  auto x = at::zeros({64, 5, 20});
  x.select(2, 10).fill_(1);
  auto g = generator(3);
  const auto y = snn::train::augment_frames(x, nothing().channel_shift(3), g);
  const auto lit = y.sum(1).argmax(1);  // [B]
  EXPECT_TRUE(((lit - 10).abs() <= 3).all().item<bool>());
  EXPECT_GT(std::get<0>(at::_unique(lit)).size(0), 3) << "shifts of several sizes were drawn";
  EXPECT_TRUE(at::equal(y.sum({1, 2}), x.sum({1, 2}))) << "nothing shifted out at the centre";
}

TEST(FrameAugmentTest, BadInputIsNamed) {
  auto g = generator(0);
  EXPECT_NE(snn::test::error_of([&] {
              snn::train::augment_frames(at::zeros({2, 3, 4, 5}), FrameAugmentOptions(), g);
            }).find("expected audio frames [B, T, channels]"),
            std::string::npos);
  EXPECT_FALSE(snn::train::parse_frame_augment("none").has_value());
  EXPECT_EQ(snn::train::parse_frame_augment("FrameAugment(channel_shift=5)")->channel_shift(), 5);
  EXPECT_NE(snn::test::error_of([] { snn::train::parse_frame_augment("FrameAugment(shift=1)"); })
                .find("shift"),
            std::string::npos);
  EXPECT_NE(snn::test::error_of([] {
              snn::train::parse_frame_augment("FrameAugment(time_stretch=1.5)");
            }).find("time_stretch must be in [0, 1)"),
            std::string::npos);
}

}  // namespace
