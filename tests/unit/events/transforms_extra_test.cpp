// EventDownsampling, ToSparseTensor and the random ranges of TimeSkew, DropEventByTime and
// DropEventByArea: text forms, parameter checks, edge cases. Parity with Tonic lives in
// tests/parity/test_events_transforms_extra.py.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <vector>

#include "snn/events/transforms.h"
#include "test_util.h"

namespace {

using namespace snn::events;

using snn::test::error_of;

// Random events of a sensor, sorted by time.
Events random_events(uint64_t seed, SensorSize s, int64_t n, bool has_y = true,
                     int64_t duration = 100000) {
  Rng rng(seed);
  std::vector<int64_t> t(n);
  for (auto& v : t) v = static_cast<int64_t>(rng() % static_cast<uint64_t>(duration));
  std::sort(t.begin(), t.end());
  Events e(s, has_y);
  for (int64_t i = 0; i < n; ++i) {
    e.push_back(t[i], static_cast<int64_t>(rng() % s.width),
                has_y ? static_cast<int64_t>(rng() % s.height) : 0,
                s.polarities == 1 ? 0 : static_cast<int64_t>(rng() % s.polarities));
  }
  return e;
}

bool same(const Events& a, const Events& b) {
  if (a.size() != b.size() || !(a.sensor() == b.sensor())) return false;
  for (int64_t i = 0; i < a.size(); ++i) {
    if (a.t[i] != b.t[i] || a.x[i] != b.x[i] || a.y[i] != b.y[i] || a.p[i] != b.p[i]) return false;
  }
  return true;
}

// ---- text forms ----------------------------------------------------------------------------

TEST(TransformExtraSpecTest, ReprsRoundTrip) {
  for (const std::string s : {
           "TimeSkew(coefficient=(0.8, 1.2), offset=(0, 150))",
           "TimeSkew(coefficient=1.3, offset=(-5, 5))",
           "TimeSkew(coefficient=(0.5, 2), offset=100)",
           "DropEventByTime(duration_ratio=(0.1, 0.3))",
           "DropEventByArea(area_ratio=(0, 0.5))",
           "EventDownsampling(target_size=(20, 15), dt=0.5, downsampling_method=\"integrator\", "
           "noise_threshold=2, differentiator_time_bins=2)",
           "EventDownsampling(target_size=(8, 8), dt=1.25, "
           "downsampling_method=\"differentiator\", noise_threshold=0, "
           "differentiator_time_bins=3)",
       }) {
    EXPECT_EQ(parse_transform(s)->repr(), s);
  }
  const std::string sparse =
      "ToSparseTensor(time_window=1000, event_count=none, n_time_bins=none, n_event_bins=none, "
      "overlap=100, include_incomplete=true, start_time=none, end_time=none)";
  EXPECT_EQ(parse_representation(sparse)->repr(), sparse);
}

TEST(TransformExtraSpecTest, DefaultsAndFixedRangesPrintAsValues) {
  EXPECT_EQ(parse_transform("TimeSkew(coefficient=(1.3, 1.3))")->repr(),
            "TimeSkew(coefficient=1.3, offset=0)");
  EXPECT_EQ(parse_transform("DropEventByTime(duration_ratio=(0.25, 0.25))")->repr(),
            "DropEventByTime(duration_ratio=0.25)");
  EXPECT_EQ(parse_transform("DropEventByArea()")->repr(), "DropEventByArea(area_ratio=0.2)");
  EXPECT_EQ(parse_transform("EventDownsampling(target_size=(4, 3), dt=2)")->repr(),
            "EventDownsampling(target_size=(4, 3), dt=2, downsampling_method=\"integrator\", "
            "noise_threshold=0, differentiator_time_bins=2)");
  EXPECT_EQ(parse_representation("ToSparseTensor(n_time_bins=3)")->repr(),
            "ToSparseTensor(time_window=none, event_count=none, n_time_bins=3, "
            "n_event_bins=none, overlap=0, include_incomplete=false, start_time=none, "
            "end_time=none)");
  // The C++ forms: a single value as before, a range as a RealPair.
  EXPECT_EQ(TimeSkew(TimeSkewOptions(1.5).offset(7)).repr(), "TimeSkew(coefficient=1.5, offset=7)");
  EXPECT_EQ(TimeSkew(TimeSkewOptions(RealPair{1, 2}).offset(RealPair{0, 150})).repr(),
            "TimeSkew(coefficient=(1, 2), offset=(0, 150))");
  EXPECT_EQ(DropEventByTime(RealPair{0.1, 0.3}).repr(),
            "DropEventByTime(duration_ratio=(0.1, 0.3))");
  EXPECT_EQ(DropEventByArea(RealPair{0.1, 0.3}).repr(), "DropEventByArea(area_ratio=(0.1, 0.3))");
}

TEST(TransformExtraSpecTest, BadParametersAreRejectedByName) {
  EXPECT_THROW_WITH(TimeSkew(TimeSkewOptions(RealPair{2, 1})),
                    "coefficient must be finite (a range: lo <= hi), got coefficient=(2, 1)");
  EXPECT_THROW_WITH(TimeSkew(TimeSkewOptions(1).offset(RealPair{5, -5})), "got offset=(5, -5)");
  EXPECT_THROW_WITH(parse_transform("TimeSkew(offset=3)"),
                    "TimeSkew needs the parameter 'coefficient'");
  EXPECT_THROW_WITH(parse_transform("TimeSkew(coefficient=(1, 2, 3))"),
                    "TimeSkew(coefficient=...) expects a pair of numbers (a, b)");
  EXPECT_THROW_WITH(DropEventByTime(RealPair{0.3, 0.1}),
                    "duration_ratio must lie in [0, 1), got duration_ratio=(0.3, 0.1) (a range "
                    "needs 0 <= lo <= hi < 1)");
  EXPECT_THROW_WITH(parse_transform("DropEventByTime(duration_ratio=(0.5, 1))"),
                    "got duration_ratio=(0.5, 1)");
  EXPECT_THROW_WITH(DropEventByArea(RealPair{-0.1, 0.5}), "got area_ratio=(-0.1, 0.5)");
  EXPECT_THROW_WITH(
      parse_transform("DropEventByArea(area_ratio=\"big\")"),
      "DropEventByArea(area_ratio=...) expects a pair of numbers (a, b), got a string");
  EXPECT_THROW_WITH(EventDownsampling(EventDownsamplingOptions(IntPair{0, 3}, 1)),
                    "target_size must lie in [1, 32768] in both axes, got target_size=(0, 3)");
  EXPECT_THROW_WITH(EventDownsampling(EventDownsamplingOptions(IntPair{2, 3}, 0)),
                    "dt must be > 0 (milliseconds), got dt=0");
  EXPECT_THROW_WITH(
      EventDownsampling(EventDownsamplingOptions(IntPair{2, 3}, 1).noise_threshold(-1)),
      "noise_threshold must be >= 0, got noise_threshold=-1");
  EXPECT_THROW_WITH(
      EventDownsampling(EventDownsamplingOptions(IntPair{2, 3}, 1).differentiator_time_bins(0)),
      "differentiator_time_bins must be >= 1, got differentiator_time_bins=0");
  EXPECT_THROW_WITH(parse_transform("EventDownsampling(target_size=(2, 2), dt=1, "
                                    "downsampling_method=\"naive\")"),
                    "expects one of \"integrator\", \"differentiator\", got \"naive\"");
  EXPECT_THROW_WITH(parse_transform("EventDownsampling(dt=1)"),
                    "EventDownsampling needs the parameter 'target_size'");
  EXPECT_THROW_WITH(parse_transform("EventDownsampling(target_size=(2, 2), dt=1, "
                                    "noise_threshold=0.5)"),
                    "expects an integer, got '0.5'");
  EXPECT_THROW_WITH(ToSparseTensor(ToFrameOptions()),
                    "ToSparseTensor: snn::events::ToFrame: give exactly one of");
  EXPECT_THROW_WITH(parse_representation("ToSparseTensor(n_time_bins=0)"),
                    "n_time_bins must be >= 1, got n_time_bins=0");
}

// ---- random ranges ---------------------------------------------------------------------------

TEST(TransformExtraTest, TimeSkewRangeDrawsPerSampleWithinTheRange) {
  Events e(SensorSize{4, 4, 2});
  e.push_back(0, 0, 0, 0);
  e.push_back(1000000, 1, 1, 1);
  const TimeSkew skew(TimeSkewOptions(RealPair{0.8, 1.2}).offset(RealPair{0, 150}));
  std::set<int64_t> seen;
  for (uint64_t seed = 0; seed < 50; ++seed) {
    const auto out = skew.apply(e, seed);
    // t=0 gives the offset; t=1e6 gives 1e6·coefficient + offset.
    EXPECT_GE(out.t[0], 0);
    EXPECT_LT(out.t[0], 150);
    const double c = static_cast<double>(out.t[1] - out.t[0]) / 1e6;
    EXPECT_GE(c, 0.8 - 1e-5);
    EXPECT_LT(c, 1.2 + 1e-5);
    EXPECT_TRUE(same(out, skew.apply(e, seed))) << "a seed reproduces";
    seen.insert(out.t[1]);
  }
  EXPECT_GT(seen.size(), 40U) << "drawn per sample";
  // lo == hi is the fixed value, with no draw.
  EXPECT_TRUE(same(TimeSkew(TimeSkewOptions(RealPair{1.3, 1.3}).offset(RealPair{5, 5})).apply(e, 3),
                   TimeSkew(TimeSkewOptions(1.3).offset(5)).apply(e, 9)));
}

TEST(TransformExtraTest, DropRangesWithEqualEndsAreTheFixedTransform) {
  const auto e = random_events(1, SensorSize{20, 10, 2}, 2000);
  for (uint64_t seed = 0; seed < 5; ++seed) {
    EXPECT_TRUE(same(DropEventByTime(RealPair{0.3, 0.3}).apply(e, seed),
                     DropEventByTime(0.3).apply(e, seed)));
    EXPECT_TRUE(same(DropEventByArea(RealPair{0.3, 0.3}).apply(e, seed),
                     DropEventByArea(0.3).apply(e, seed)));
  }
  // Ranges: reproducible per seed, different across seeds.
  const DropEventByTime by_time(RealPair{0.1, 0.5});
  const DropEventByArea by_area(RealPair{0.1, 0.5});
  std::set<int64_t> n_time, n_area;
  for (uint64_t seed = 0; seed < 20; ++seed) {
    const auto a = by_time.apply(e, seed);
    EXPECT_TRUE(same(a, by_time.apply(e, seed)));
    n_time.insert(a.size());
    const auto b = by_area.apply(e, seed);
    EXPECT_TRUE(same(b, by_area.apply(e, seed)));
    n_area.insert(b.size());
  }
  EXPECT_GT(n_time.size(), 10U);
  EXPECT_GT(n_area.size(), 10U);
  EXPECT_TRUE(by_time.apply(Events(SensorSize{4, 3, 2}), 0).empty());
  EXPECT_TRUE(by_area.apply(Events(SensorSize{4, 3, 2}), 0).empty());
}

// ---- EventDownsampling -----------------------------------------------------------------------

TEST(EventDownsamplingTest, EdgeCases) {
  const EventDownsampling integ(EventDownsamplingOptions(IntPair{4, 3}, 1).noise_threshold(1));
  const EventDownsampling diff(EventDownsamplingOptions(IntPair{4, 3}, 1)
                                   .noise_threshold(1)
                                   .downsampling_method(EventDownsamplingMethod::Differentiator));
  for (const auto* t : {&integ, &diff}) {
    const auto out = t->apply(Events(SensorSize{8, 6, 2}), 0);
    EXPECT_TRUE(out.empty());
    EXPECT_EQ(out.sensor(), (SensorSize{4, 3, 2}));
  }
  EXPECT_THROW_WITH(integ.apply(Events(SensorSize{8, 1, 2}, false), 0),
                    "EventDownsampling: needs events with a y column");
  Events bad(SensorSize{8, 6, 3});
  bad.push_back(0, 1, 1, 2);
  EXPECT_THROW_WITH(integ.apply(bad, 0), "event 0 has polarity 2, expected 0 (OFF) or 1 (ON)");
  Events outside(SensorSize{8, 6, 2});
  outside.push_back(0, 8, 1, 1);
  EXPECT_THROW_WITH(integ.apply(outside, 0), "lies outside the sensor");
}

TEST(EventDownsamplingTest, IntegratorFiresAtTheThresholdAndResets) {
  // Two ON events of one 2x2 block in the first ms, one more in the second, then a far
  // event that closes the third window (the last, incomplete window is dropped).
  Events e(SensorSize{4, 4, 2});
  e.push_back(0, 0, 0, 1);
  e.push_back(100, 1, 1, 1);
  e.push_back(1500, 0, 1, 1);
  e.push_back(2500, 3, 3, 0);
  e.push_back(3100, 3, 3, 0);
  const auto out =
      EventDownsampling(EventDownsamplingOptions(IntPair{2, 2}, 1).noise_threshold(2)).apply(e, 0);
  // Window 0: v(0,0) = 2 fires ON at t=0 and resets; window 1: v = 1; window 2: v(1,1) = -1.
  ASSERT_EQ(out.size(), 1);
  EXPECT_EQ(out.t[0], 0);
  EXPECT_EQ(out.x[0], 0);
  EXPECT_EQ(out.y[0], 0);
  EXPECT_EQ(out.p[0], 1);
  EXPECT_EQ(out.sensor(), (SensorSize{2, 2, 2}));
  // Threshold 0: every pixel, ON and OFF where v = 0, in every window.
  const auto all = EventDownsampling(EventDownsamplingOptions(IntPair{2, 2}, 1)).apply(e, 0);
  EXPECT_GE(all.size(), 3 * 4);
}

// ---- ToSparseTensor --------------------------------------------------------------------------

TEST(ToSparseTensorTest, ToDenseIsToFrame) {
  const std::vector<ToFrameOptions> options = {
      ToFrameOptions().time_window(5000),
      ToFrameOptions().time_window(3000).overlap(1000).include_incomplete(true),
      ToFrameOptions().time_window(2000).start_time(-1000).end_time(30000),
      ToFrameOptions().event_count(100).overlap(20),
      ToFrameOptions().n_time_bins(7).overlap(0.5),
      ToFrameOptions().n_event_bins(4),
  };
  const std::vector<Events> inputs = {
      random_events(2, SensorSize{17, 5, 2}, 800, true, 40000),
      random_events(3, SensorSize{9, 7, 1}, 500, true, 40000),
      random_events(4, SensorSize{30, 1, 2}, 600, false, 40000),
      Events(SensorSize{6, 5, 2}),
  };
  for (const auto& o : options) {
    for (const auto& e : inputs) {
      const auto s = ToSparseTensor(o).apply(e);
      const auto d = ToFrame(o).apply(e);
      ASSERT_TRUE(s.is_sparse());
      EXPECT_TRUE(s.is_coalesced());
      EXPECT_EQ(s.scalar_type(), at::kInt);
      EXPECT_EQ(s.sizes(), d.sizes()) << ToFrame(o).repr();
      EXPECT_TRUE(at::equal(s.to_dense(), d)) << ToFrame(o).repr();
      EXPECT_TRUE(at::equal(s.coalesce().indices(), s.indices())) << "already coalesced";
    }
  }
  Events bad(SensorSize{4, 4, 2});
  bad.push_back(0, 1, 1, 5);
  EXPECT_THROW_WITH(ToSparseTensor(ToFrameOptions().n_time_bins(1)).apply(bad),
                    "ToSparseTensor: event 0 has polarity 5, expected one in [0, 2)");
}

}  // namespace
