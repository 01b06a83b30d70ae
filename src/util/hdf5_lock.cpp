#include "util/hdf5_lock.h"

namespace snn::detail {
namespace {
std::mutex& hdf5_mutex() {
  static std::mutex m;
  return m;
}
bool in_child = false;
}  // namespace

std::unique_lock<std::mutex> hdf5_lock() {
  if (in_child) return {};
  return std::unique_lock<std::mutex>(hdf5_mutex());
}

void hdf5_lock_in_child() {
  in_child = true;
}

}  // namespace snn::detail
