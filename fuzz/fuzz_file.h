#pragma once
// Shared by the harnesses of file readers that need a path (HDF5 opens files, not bytes):
// each input is written to a file of this process's own, and SNN_FUZZ_FORMAT tells the
// isolated target (as users read files) from the -direct one (read in this process).
#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

namespace snn_fuzz {

/// /tmp/snn_fuzz_<stem>_<pid><ext>
inline std::string input_path(const std::string& stem, const std::string& ext) {
  return "/tmp/snn_fuzz_" + stem + "_" + std::to_string(getpid()) + ext;
}

/// Whether this run reads files isolated (every target but `direct`, e.g. "hsd-direct").
inline bool isolated(const std::string& direct) {
  const char* format = std::getenv("SNN_FUZZ_FORMAT");
  return format == nullptr || std::string(format) != direct;
}

/// Writes the input to `path` (traps when it cannot: the harness itself is broken).
inline void write_input(const std::string& path, const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) __builtin_trap();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
}

}  // namespace snn_fuzz
