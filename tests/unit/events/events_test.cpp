// The Events container.
#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include "snn/events/events.h"

#include <cstdint>
#include <thread>
#include <vector>

namespace {

using snn::events::Events;
using snn::events::SensorSize;

TEST(EventsTest, TensorRoundTrip) {
  Events e(SensorSize{34, 34, 2});
  e.push_back(10, 1, 2, 0);
  e.push_back(20, 33, 33, 1);
  const auto t = e.to_tensor();
  EXPECT_EQ(t.sizes(), (at::IntArrayRef{2, 4}));
  EXPECT_EQ(t[1][0].item<int64_t>(), 20);
  EXPECT_EQ(t[1][1].item<int64_t>(), 33);
  const auto back = Events::from_tensor(t, e.sensor());
  EXPECT_EQ(back.t, e.t);
  EXPECT_EQ(back.x, e.x);
  EXPECT_EQ(back.y, e.y);
  EXPECT_EQ(back.p, e.p);
}

TEST(EventsTest, SliceSelectAndDuration) {
  Events e(SensorSize{700, 1, 1}, /*has_y=*/false);
  for (int i = 0; i < 5; ++i) e.push_back(100 * i, i, 7, 1);
  EXPECT_EQ(e.y[3], 0) << "audio data keeps no y";
  EXPECT_EQ(e.duration(), 400);
  const auto s = e.slice(1, 3);
  EXPECT_EQ(s.t, (std::vector<int64_t>{100, 200}));
  const auto k = e.select({true, false, true, false, true});
  EXPECT_EQ(k.x, (std::vector<int16_t>{0, 2, 4}));
  EXPECT_FALSE(k.has_y());
}

TEST(EventsTest, RejectsEventsOutsideTheSensor) {
  auto t = at::tensor({0, 40, 1, 0}, at::kLong).reshape({1, 4});
  try {
    Events::from_tensor(t, SensorSize{34, 34, 2});
    FAIL() << "no error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what_without_backtrace())
                  .find("event 0 (x=40, y=1, p=0) lies outside the sensor (34, 34, 2)"),
              std::string::npos);
  }
}

}  // namespace

namespace {

using snn::events::Column;

TEST(ColumnTest, ResizeKeepsValuesAndComparesWithVectors) {
  Column<int64_t> c = {1, 2, 3};
  c.resize(2);
  EXPECT_EQ(c, (std::vector<int64_t>{1, 2}));
  EXPECT_EQ((std::vector<int64_t>{1, 2}), c);
  EXPECT_FALSE(c == (std::vector<int64_t>{1, 2, 3}));
  c.resize(5);  // new elements are unset; the old ones stay
  EXPECT_EQ(c[0], 1);
  EXPECT_EQ(c[1], 2);
  ASSERT_EQ(c.size(), 5u);
  EXPECT_EQ(reinterpret_cast<uintptr_t>(c.data()) % 64, 0u) << "64-byte aligned";
}

TEST(ColumnTest, LargeBlocksAreCachedPerThreadAndBounded) {
  namespace d = snn::events::detail;
  d::column_cache_clear();
  EXPECT_EQ(d::column_cache_bytes(), 0u);
  const int16_t* first = nullptr;
  {
    Column<int16_t> a(1 << 20);
    first = a.data();
  }
  EXPECT_GE(d::column_cache_bytes(), size_t{2} << 20) << "a freed 2 MiB block is kept";
  {
    Column<int16_t> b(1 << 20);
    EXPECT_EQ(b.data(), first) << "the next column of that size reuses it";
    EXPECT_EQ(d::column_cache_bytes(), 0u);
  }
  // Small blocks are not cached; the cache never holds more than its bound.
  { Column<int64_t> small(100); }
  EXPECT_EQ(d::column_cache_bytes(), size_t{2} << 20);
  {
    std::vector<Column<int64_t>> many;
    for (int i = 0; i < 40; ++i) many.emplace_back(size_t{1} << 18);  // 2 MiB each
  }
  EXPECT_LE(d::column_cache_bytes(), d::kColumnCacheMaxBytes);
  EXPECT_GT(d::column_cache_bytes(), 0u);
  // Another thread has its own cache.
  size_t other = 1;
  std::thread([&] { other = d::column_cache_bytes(); }).join();
  EXPECT_EQ(other, 0u);
  d::column_cache_clear();
  EXPECT_EQ(d::column_cache_bytes(), 0u);
}

}  // namespace
