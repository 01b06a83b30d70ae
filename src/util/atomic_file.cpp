#include "util/atomic_file.h"

#include <c10/util/Exception.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iterator>

namespace snn::detail {

AtomicFile::AtomicFile(const std::string& path, bool open) : path_(path) {
  static std::atomic<uint64_t> counter{0};
  temp_path_ = path + ".tmp." + std::to_string(::getpid()) + "." + std::to_string(counter++);
  if (!open) return;
  file_ = std::fopen(temp_path_.c_str(), "wb");
  TORCH_CHECK(file_ != nullptr, "snn: cannot write ", temp_path_, ": ", std::strerror(errno));
}

AtomicFile::~AtomicFile() {
  if (file_ != nullptr) std::fclose(file_);
  if (!committed_) std::remove(temp_path_.c_str());
}

void AtomicFile::write(const void* data, size_t n) {
  if (n == 0) return;  // data may be null then (an empty column), which fwrite must not get
  TORCH_CHECK(std::fwrite(data, 1, n, file_) == n, "snn: cannot write ", temp_path_, ": ",
              std::strerror(errno));
}

void AtomicFile::commit() {
  const bool ok = file_ == nullptr || std::fflush(file_) == 0;
  const int closed = file_ == nullptr ? 0 : std::fclose(file_);
  file_ = nullptr;
  TORCH_CHECK(ok && closed == 0, "snn: cannot write ", temp_path_, ": ", std::strerror(errno));
  std::error_code ec;
  std::filesystem::rename(temp_path_, path_, ec);
  TORCH_CHECK(!ec, "snn: cannot rename ", temp_path_, " to ", path_, ": ", ec.message());
  committed_ = true;
}

void write_file_atomically(const std::string& path, const std::string& bytes) {
  AtomicFile file(path);
  file.write(bytes);
  file.commit();
}

}  // namespace snn::detail

namespace snn::io {

void write_file_atomically(const std::string& path, const std::string& bytes) {
  snn::detail::write_file_atomically(path, bytes);
}

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  TORCH_CHECK(in.is_open(), "snn: cannot open ", path, " for reading");
  std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  TORCH_CHECK(!in.bad(), "snn: cannot read ", path);
  return bytes;
}

}  // namespace snn::io
