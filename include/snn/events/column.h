#pragma once
// Column<T>: the storage of one event column (t, x, y or p) — a std::vector whose allocator
// (1) leaves elements uninitialised on resize(n), so that a reader or transform that writes
//     every element does not first pay for zeroing them, and
// (2) keeps a few recently freed large blocks per thread and hands them out again, so that
//     a pipeline that makes and drops event columns of similar sizes (transform after
//     transform, sample after sample) does not page-fault fresh memory in every step.
// Apart from resize(n) leaving new trivially-typed elements unset, a Column behaves as a
// std::vector; it compares equal to a std::vector with the same elements.

#include <algorithm>
#include <cstddef>
#include <new>
#include <type_traits>
#include <utility>
#include <vector>

namespace snn::events {
namespace detail {

/// Blocks of at least this many bytes go through the per-thread cache.
inline constexpr std::size_t kColumnCacheMinBytes = std::size_t{1} << 16;
/// At most this many bytes are held, per thread, in freed blocks.
inline constexpr std::size_t kColumnCacheMaxBytes = std::size_t{64} << 20;

/// 64-byte aligned storage for `bytes` bytes (bytes > 0); throws std::bad_alloc.
void* column_allocate(std::size_t bytes);
/// Gives back storage from column_allocate(bytes), with the same `bytes`.
void column_deallocate(void* p, std::size_t bytes) noexcept;
/// Frees the calling thread's cached blocks (they are also freed when the thread ends).
void column_cache_clear() noexcept;
/// Bytes held in the calling thread's cache.
std::size_t column_cache_bytes() noexcept;

}  // namespace detail

template <typename T>
struct ColumnAllocator {
  using value_type = T;
  ColumnAllocator() noexcept = default;
  template <typename U>
  ColumnAllocator(const ColumnAllocator<U>&) noexcept {}  // NOLINT(google-explicit-constructor)

  T* allocate(std::size_t n) {
    if (n > std::size_t(-1) / sizeof(T)) throw std::bad_array_new_length();
    return static_cast<T*>(detail::column_allocate(std::max<std::size_t>(n, 1) * sizeof(T)));
  }
  void deallocate(T* p, std::size_t n) noexcept {
    detail::column_deallocate(p, std::max<std::size_t>(n, 1) * sizeof(T));
  }
  /// Value-less construction default-initialises: no zeroing for arithmetic types.
  template <typename U>
  void construct(U* p) noexcept(std::is_nothrow_default_constructible_v<U>) {
    ::new (static_cast<void*>(p)) U;
  }
  template <typename U, typename... Args>
  void construct(U* p, Args&&... args) {
    ::new (static_cast<void*>(p)) U(std::forward<Args>(args)...);
  }
  template <typename U>
  bool operator==(const ColumnAllocator<U>&) const noexcept {
    return true;
  }
};

/// One event column. resize(n) leaves new elements unset; write them before reading.
template <typename T>
using Column = std::vector<T, ColumnAllocator<T>>;

template <typename T>
bool operator==(const Column<T>& a, const std::vector<T>& b) {
  return std::equal(a.begin(), a.end(), b.begin(), b.end());
}
template <typename T>
bool operator==(const std::vector<T>& a, const Column<T>& b) {
  return b == a;
}

}  // namespace snn::events
