// The allocator behind event columns: 64-byte aligned blocks; blocks of 64 KiB and more are
// rounded up to a size class (four per power of two) and, when freed, kept in a small
// per-thread cache (at most 16 blocks, 64 MiB) for the next column of the same class.
#include "snn/events/column.h"

#include <cstdlib>
#include <new>

namespace snn::events::detail {
namespace {

constexpr std::size_t kAlign = 64;
constexpr std::size_t kMaxBlocks = 16;

// Rounds up to a multiple of a quarter of the largest power of two not above `bytes`.
std::size_t size_class(std::size_t bytes) {
  if (bytes < kColumnCacheMinBytes) return (bytes + kAlign - 1) / kAlign * kAlign;
  std::size_t top = std::size_t{1} << (63 - __builtin_clzll(bytes));
  const std::size_t step = top / 4;
  return (bytes + step - 1) / step * step;
}

struct Block {
  void* p;
  std::size_t bytes;
};

struct Cache {
  Block blocks[kMaxBlocks];
  std::size_t count = 0;
  std::size_t bytes = 0;

  void* take(std::size_t size) {
    for (std::size_t i = count; i-- > 0;) {  // most recently freed first
      if (blocks[i].bytes == size) {
        void* p = blocks[i].p;
        bytes -= size;
        for (std::size_t j = i + 1; j < count; ++j) blocks[j - 1] = blocks[j];
        --count;
        return p;
      }
    }
    return nullptr;
  }
  void drop_oldest() {
    std::free(blocks[0].p);
    bytes -= blocks[0].bytes;
    for (std::size_t j = 1; j < count; ++j) blocks[j - 1] = blocks[j];
    --count;
  }
  void put(void* p, std::size_t size) {
    while (count > 0 && (count == kMaxBlocks || bytes + size > kColumnCacheMaxBytes)) drop_oldest();
    blocks[count++] = {p, size};
    bytes += size;
  }
  void clear() {
    while (count > 0) drop_oldest();
  }
  ~Cache();
};

// Set once the thread's cache is destroyed: columns freed later in thread teardown go
// straight back to the system.
thread_local bool cache_gone = false;
thread_local Cache cache;

Cache::~Cache() {
  clear();
  cache_gone = true;
}

}  // namespace

void* column_allocate(std::size_t bytes) {
  const std::size_t size = size_class(bytes);
  if (size >= kColumnCacheMinBytes && !cache_gone) {
    if (void* p = cache.take(size)) return p;
  }
  void* p = std::aligned_alloc(kAlign, size);
  if (p == nullptr) throw std::bad_alloc();
  return p;
}

void column_deallocate(void* p, std::size_t bytes) noexcept {
  if (p == nullptr) return;
  const std::size_t size = size_class(bytes);
  if (size >= kColumnCacheMinBytes && size <= kColumnCacheMaxBytes && !cache_gone) {
    cache.put(p, size);
  } else {
    std::free(p);
  }
}

void column_cache_clear() noexcept {
  if (!cache_gone) cache.clear();
}

std::size_t column_cache_bytes() noexcept {
  return cache_gone ? 0 : cache.bytes;
}

}  // namespace snn::events::detail
