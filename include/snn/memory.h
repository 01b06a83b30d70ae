#pragma once
// A caching CPU allocator for LibTorch.
//
// LibTorch's CPU allocator hands every tensor fresh memory from the system allocator, and
// glibc serves large blocks with mmap and unmaps them on free: each new [B, T, N] tensor
// then pays a page fault per 4 KiB page on first touch, which costs more than the neuron
// kernels themselves at large shapes. The caching allocator keeps freed large blocks
// (by size class) and hands them out again, so that a training loop, whose tensors have
// the same sizes every step, touches fresh pages only in its first step.
//
// It is installed once, as LibTorch's CPU allocator for the whole process
// (c10::SetCPUAllocator), by set_caching_allocator(true); set_caching_allocator(false)
// stops caching and frees what is cached (blocks handed out before are still freed
// correctly). The `snn` CLI enables it at start-up. Small blocks (below 64 KiB) go to the
// system allocator, which already recycles them. Cached memory is bounded (a quarter of
// the machine's memory, or SNN_CPU_CACHE_LIMIT bytes); a block that would exceed the bound
// is returned to the system. Thread-safe. Blocks from this allocator are not reported to
// the torch profiler's memory view.
#include <cstdint>

namespace snn::memory {

struct CacheStats {
  int64_t hits = 0;           // allocations served from the cache
  int64_t misses = 0;         // large allocations that went to the system
  int64_t cached_bytes = 0;   // bytes now held in the cache, free
  int64_t limit_bytes = 0;    // the bound on cached_bytes
};

// Enables or disables the caching allocator (installing it on first use).
void set_caching_allocator(bool enabled);
bool caching_allocator_enabled();
// Frees every cached block.
void empty_cache();
CacheStats cache_stats();

}  // namespace snn::memory
