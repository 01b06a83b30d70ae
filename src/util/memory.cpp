// The caching CPU allocator (see snn/memory.h).
#include "snn/memory.h"

#include <c10/core/Allocator.h>
#include <c10/core/CPUAllocator.h>
#include <c10/core/impl/alloc_cpu.h>
#include <c10/util/Exception.h>
#include <torch/library.h>
#include <unistd.h>

#include <atomic>
#include <bit>
#include <cerrno>
#include <cstdlib>
#include <map>
#include <mutex>
#include <string>
#include <vector>

namespace snn::memory {
namespace {

// Blocks below this are not cached: glibc recycles small blocks without page faults.
constexpr size_t kMinCached = size_t(64) << 10;

// Rounds a size up to its class: a multiple of 1/8 of its power of two (at most 12.5%
// more), so that tensors of nearly the same size share blocks.
size_t size_class(size_t n) {
  const int top = std::bit_width(n) - 1;
  const size_t step = size_t(1) << std::max(top - 3, 12);
  return (n + step - 1) / step * step;
}

int64_t default_limit() {
  if (const char* env = std::getenv("SNN_CPU_CACHE_LIMIT"); env != nullptr && *env != '\0') {
    char* end = nullptr;
    errno = 0;
    const long long v = std::strtoll(env, &end, 10);
    TORCH_CHECK(errno == 0 && end != env && *end == '\0' && v >= 0,
                "snn: SNN_CPU_CACHE_LIMIT must be a number of bytes (>= 0), got \"", env, "\"");
    return v;
  }
  const long pages = sysconf(_SC_PHYS_PAGES), page = sysconf(_SC_PAGESIZE);
  return pages > 0 && page > 0 ? int64_t(pages) * page / 4 : int64_t(1) << 30;
}

// Every block carries its size in a header of kHeader bytes before the data (which keeps
// the 64-byte alignment), so that the context of a DataPtr is its data pointer and the one
// deleter serves every block: LibTorch's raw_allocate / raw_deallocate (used by oneDNN's
// convolutions, for one) require that.
constexpr size_t kHeader = 64;

class CachingAllocator final : public c10::Allocator {
 public:
  CachingAllocator() : limit_(default_limit()) {}

  c10::DataPtr allocate(size_t n) override {
    const bool cache = enabled_.load(std::memory_order_relaxed) && n >= kMinCached;
    const size_t bytes = cache ? size_class(n) : n;
    void* raw = nullptr;
    if (cache) {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = free_.find(bytes);
      if (it != free_.end() && !it->second.empty()) {
        raw = it->second.back();
        it->second.pop_back();
        cached_ -= static_cast<int64_t>(bytes);
        ++hits_;
      } else {
        ++misses_;
      }
    }
    if (raw == nullptr) {
      raw = c10::alloc_cpu(bytes + kHeader);
      *static_cast<size_t*>(raw) = bytes;
    }
    void* data = static_cast<char*>(raw) + kHeader;
    return {data, data, &release, c10::Device(c10::DeviceType::CPU)};
  }

  c10::DeleterFnPtr raw_deleter() const override { return &release; }

  void copy_data(void* dest, const void* src, size_t count) const override {
    default_copy_data(dest, src, count);
  }

  void set_enabled(bool on) {
    enabled_.store(on);
    if (!on) empty();
  }
  bool enabled() const { return enabled_.load(); }

  void empty() {
    std::map<size_t, std::vector<void*>> blocks;
    {
      std::lock_guard<std::mutex> lock(mutex_);
      blocks.swap(free_);
      cached_ = 0;
    }
    for (auto& [bytes, list] : blocks) {
      for (void* p : list) c10::free_cpu(p);
    }
  }

  CacheStats stats() {
    std::lock_guard<std::mutex> lock(mutex_);
    return {hits_, misses_, cached_, limit_};
  }

 private:
  static void release(void* data);

  void put(void* raw) {
    const size_t bytes = *static_cast<size_t*>(raw);
    if (bytes >= kMinCached && enabled_.load(std::memory_order_relaxed)) {
      std::lock_guard<std::mutex> lock(mutex_);
      if (cached_ + static_cast<int64_t>(bytes) <= limit_) {
        free_[bytes].push_back(raw);
        cached_ += static_cast<int64_t>(bytes);
        return;
      }
    }
    c10::free_cpu(raw);
  }

  std::atomic<bool> enabled_{false};
  std::mutex mutex_;
  std::map<size_t, std::vector<void*>> free_;  // size class -> blocks (header included)
  int64_t cached_ = 0, hits_ = 0, misses_ = 0;
  const int64_t limit_;
};

std::atomic<CachingAllocator*> g_installed{nullptr};

// Installs the allocator on first use. Never destroyed: blocks may be freed at exit, after
// static destructors have run.
CachingAllocator& instance() {
  static CachingAllocator* a = [] {
    auto* p = new CachingAllocator();
    // Priority above the default CPU allocator's (0) and the mobile one's.
    c10::SetCPUAllocator(p, /*priority=*/2);
    g_installed.store(p);
    return p;
  }();
  return *a;
}

void CachingAllocator::release(void* data) {
  if (data == nullptr) return;
  g_installed.load()->put(static_cast<char*>(data) - kHeader);
}

}  // namespace

void set_caching_allocator(bool enabled) {
  if (!enabled && g_installed.load() == nullptr) return;
  instance().set_enabled(enabled);
  TORCH_CHECK(!enabled || c10::GetCPUAllocator() == &instance(),
              "snn: another CPU allocator with a higher priority is installed; the caching "
              "allocator cannot replace it");
}

bool caching_allocator_enabled() {
  CachingAllocator* a = g_installed.load();
  return a != nullptr && c10::GetCPUAllocator() == a && a->enabled();
}

void empty_cache() {
  if (CachingAllocator* a = g_installed.load()) a->empty();
}

CacheStats cache_stats() {
  CachingAllocator* a = g_installed.load();
  return a != nullptr ? a->stats() : CacheStats{0, 0, 0, default_limit()};
}

}  // namespace snn::memory

namespace {

void set_caching_allocator_op(bool enabled) { snn::memory::set_caching_allocator(enabled); }
bool caching_allocator_enabled_op() { return snn::memory::caching_allocator_enabled(); }
void empty_cache_op() { snn::memory::empty_cache(); }
std::vector<int64_t> cache_stats_op() {
  const auto s = snn::memory::cache_stats();
  return {s.hits, s.misses, s.cached_bytes, s.limit_bytes};
}

}  // namespace

TORCH_LIBRARY_FRAGMENT(snn, m) {
  m.def("set_caching_allocator(bool enabled) -> ()", &set_caching_allocator_op);
  m.def("caching_allocator_enabled() -> bool", &caching_allocator_enabled_op);
  m.def("empty_cache() -> ()", &empty_cache_op);
  // [hits, misses, cached bytes, limit bytes]
  m.def("cache_stats() -> int[]", &cache_stats_op);
}
