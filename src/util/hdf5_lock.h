#pragma once
// Internal: one lock over every call snn.cpp makes into the HDF5 library. HDF5 serialises
// its own calls already (Debian's build is thread-safe); this lock exists so that a process
// can fork while no thread of snn.cpp is inside HDF5: HSDFile reads an untrusted file in a
// forked child first, and a child that inherited HDF5's own lock held would wait forever.
#include <mutex>

namespace snn::detail {

/// Holds the HDF5 lock until destroyed. In a child process forked by HSDFile (single
/// threaded; it inherited the lock held) it holds nothing.
std::unique_lock<std::mutex> hdf5_lock();

/// Called in a forked child at once: hdf5_lock() holds nothing from then on.
void hdf5_lock_in_child();

}  // namespace snn::detail
