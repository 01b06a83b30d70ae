// The caching CPU allocator: freed large blocks come back, small ones are not cached,
// disabling frees the cache, and tensors stay correct across reuse.
#include <ATen/ops/empty.h>
#include <c10/core/CPUAllocator.h>
#include <ATen/ops/full.h>
#include <gtest/gtest.h>

#include "snn/memory.h"

namespace {

TEST(CachingAllocatorTest, ReusesFreedLargeBlocks) {
  snn::memory::set_caching_allocator(true);
  ASSERT_TRUE(snn::memory::caching_allocator_enabled());
  const auto before = snn::memory::cache_stats();
  const void* first = nullptr;
  {
    auto a = at::empty({1 << 20});  // 4 MiB
    first = a.data_ptr();
  }
  EXPECT_GE(snn::memory::cache_stats().cached_bytes, int64_t(4) << 20);
  auto b = at::empty({1 << 20});
  EXPECT_EQ(b.data_ptr(), first);  // the same block, handed out again
  EXPECT_EQ(snn::memory::cache_stats().hits, before.hits + 1);
  // A reused block holds what is written into it, like fresh memory.
  b.fill_(3.0f);
  EXPECT_EQ(b.sum().item<float>(), 3.0f * (1 << 20));
  snn::memory::set_caching_allocator(false);
}

TEST(CachingAllocatorTest, SmallBlocksAreNotCached) {
  snn::memory::set_caching_allocator(true);
  const auto before = snn::memory::cache_stats();
  { auto a = at::empty({16}); }
  const auto after = snn::memory::cache_stats();
  EXPECT_EQ(after.cached_bytes, before.cached_bytes);
  EXPECT_EQ(after.misses, before.misses);
  snn::memory::set_caching_allocator(false);
}

TEST(CachingAllocatorTest, DisablingFreesTheCacheAndBlocksOutliveIt) {
  snn::memory::set_caching_allocator(true);
  auto kept = at::full({1 << 18}, 2.0f);  // allocated while caching
  { auto a = at::empty({1 << 19}); }
  EXPECT_GT(snn::memory::cache_stats().cached_bytes, 0);
  snn::memory::set_caching_allocator(false);
  EXPECT_FALSE(snn::memory::caching_allocator_enabled());
  EXPECT_EQ(snn::memory::cache_stats().cached_bytes, 0);
  EXPECT_EQ(kept.sum().item<float>(), 2.0f * (1 << 18));
  kept = at::Tensor();  // freed through the allocator, not cached now
  EXPECT_EQ(snn::memory::cache_stats().cached_bytes, 0);
  snn::memory::empty_cache();
}

TEST(CachingAllocatorTest, RawAllocationsRoundTrip) {
  // LibTorch's raw_allocate / raw_deallocate (oneDNN convolutions use them) need one deleter
  // whose context is the data pointer.
  snn::memory::set_caching_allocator(true);
  c10::Allocator* a = c10::GetCPUAllocator();
  ASSERT_NE(a->raw_deleter(), nullptr);
  for (size_t n : {size_t(100), size_t(1) << 20}) {
    void* p = a->raw_allocate(n);
    ASSERT_NE(p, nullptr);
    static_cast<char*>(p)[n - 1] = 1;
    a->raw_deallocate(p);
  }
  snn::memory::set_caching_allocator(false);
}

}  // namespace
