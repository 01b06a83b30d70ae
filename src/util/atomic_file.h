#pragma once
// Internal: the one way snn.cpp writes a file — to a temporary file beside the target,
// renamed over it once complete, so that a crash or an error never leaves a half-written
// file at the target path. Depends on c10 only (the fuzz harnesses compile it).
#include <cstdio>
#include <string>

namespace snn::detail {

/// Writes a file through a temporary file next to it, renamed over it by commit(); the
/// temporary file is removed if commit() is never reached.
class AtomicFile {
 public:
  /// `open = false`: only names the temporary file, for another library to create it.
  explicit AtomicFile(const std::string& path, bool open = true);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  void write(const void* data, size_t n);
  void write(const std::string& s) { write(s.data(), s.size()); }
  void commit();
  /// The temporary file's path (for writers through other libraries, e.g. HDF5).
  const std::string& temp_path() const { return temp_path_; }

 private:
  std::string path_, temp_path_;
  std::FILE* file_ = nullptr;
  bool committed_ = false;
};

/// Writes `bytes` to `path` through an AtomicFile.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace snn::detail
