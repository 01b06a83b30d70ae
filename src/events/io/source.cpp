#include <c10/util/Exception.h>

#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <sstream>

#include "events/io/decoder.h"

namespace snn::events {

std::string format_name(FileFormat format) {
  switch (format) {
    case FileFormat::Auto:
      return "auto";
    case FileFormat::NMNIST:
      return "nmnist";
    case FileFormat::EVT2:
      return "evt2";
    case FileFormat::EVT3:
      return "evt3";
    case FileFormat::DAT:
      return "dat";
    case FileFormat::AEDAT3:
      return "aedat3";
    case FileFormat::HDF5:
      return "hdf5";
  }
  TORCH_INTERNAL_ASSERT(false, "unknown FileFormat");
}

FileFormat parse_format(const std::string& name) {
  std::string n = name;
  std::transform(n.begin(), n.end(), n.begin(), [](unsigned char c) { return std::tolower(c); });
  for (auto f : {FileFormat::Auto, FileFormat::NMNIST, FileFormat::EVT2, FileFormat::EVT3,
                 FileFormat::DAT, FileFormat::AEDAT3, FileFormat::HDF5}) {
    if (format_name(f) == n) return f;
  }
  TORCH_CHECK(false, "snn::events: unknown file format '", name,
              "' (expected auto, nmnist, evt2, evt3, dat, aedat3 or hdf5)");
}

}  // namespace snn::events

namespace snn::events::detail {
namespace {
constexpr size_t kBlockBytes = size_t{1} << 16;
constexpr size_t kMaxLine = size_t{1} << 16;
constexpr size_t kMaxHeader = size_t{1} << 20;
// Files below this size are read at once rather than mapped.
constexpr size_t kWholeReadBytes = size_t{1} << 20;
}  // namespace

ByteSource::ByteSource(const std::string& path) : path_(path) {
  file_ = std::fopen(path.c_str(), "rb");
  TORCH_CHECK(file_ != nullptr, "snn::events: cannot open ", path, ": ", std::strerror(errno));
}

ByteSource::ByteSource(std::string name, const uint8_t* data, size_t size)
    : path_(std::move(name)), memory_(data), memory_size_(size) {}

ByteSource::ByteSource(const std::string& path, bool whole) : ByteSource(path) {
  if (!whole) return;
  struct stat st {};
  if (::fstat(::fileno(file_), &st) != 0 || !S_ISREG(st.st_mode) || st.st_size <= 0) return;
  const auto size = static_cast<size_t>(st.st_size);
  if (size < kWholeReadBytes) {
    owned_.resize(size);
    const size_t got = std::fread(owned_.data(), 1, size, file_);
    TORCH_CHECK(!std::ferror(file_), "snn::events: ", path_, ": read error at byte 0");
    owned_.resize(got);
    std::fclose(file_);
    file_ = nullptr;
    memory_ = owned_.data();
    memory_size_ = owned_.size();
    if (owned_.empty()) memory_ = reinterpret_cast<const uint8_t*>("");
    return;
  }
  void* p = ::mmap(nullptr, size, PROT_READ, MAP_PRIVATE, ::fileno(file_), 0);
  if (p == MAP_FAILED) return;  // read in blocks instead
  ::madvise(p, size, MADV_SEQUENTIAL);
  mapping_ = p;
  memory_ = static_cast<const uint8_t*>(p);
  memory_size_ = size;
}

void ByteSource::rewind() {
  offset_ = 0;
  if (memory_ != nullptr) return;
  pos_ = end_ = 0;
  TORCH_CHECK(std::fseek(file_, 0, SEEK_SET) == 0, "snn::events: cannot seek in ", path_);
}

ByteSource::~ByteSource() {
  if (mapping_ != nullptr) ::munmap(mapping_, memory_size_);
  if (file_ != nullptr) std::fclose(file_);
}

std::pair<const uint8_t*, size_t> ByteSource::view(size_t n, uint8_t* scratch) {
  if (memory_ != nullptr) {
    const size_t k = std::min<uint64_t>(n, memory_size_ - offset_);
    const uint8_t* p = memory_ + offset_;
    offset_ += k;
    return {p, k};
  }
  return {scratch, read(scratch, n)};
}

bool ByteSource::refill() {
  if (pos_ < end_) return true;
  if (file_ == nullptr) return false;
  pos_ = 0;
  if (buffer_.empty()) buffer_.resize(kBlockBytes);  // only sources read in blocks need it
  end_ = std::fread(buffer_.data(), 1, buffer_.size(), file_);
  TORCH_CHECK(!std::ferror(file_), "snn::events: ", path_, ": read error at byte ", offset_);
  return end_ > 0;
}

size_t ByteSource::read(uint8_t* dst, size_t n) {
  if (memory_ != nullptr) {
    const size_t k = std::min<uint64_t>(n, memory_size_ - offset_);
    std::memcpy(dst, memory_ + offset_, k);
    offset_ += k;
    return k;
  }
  size_t done = 0;
  while (done < n) {
    if (pos_ == end_ && n - done >= kBlockBytes) {
      // A large read with nothing buffered goes straight into dst.
      const size_t k = std::fread(dst + done, 1, n - done, file_);
      TORCH_CHECK(!std::ferror(file_), "snn::events: ", path_, ": read error at byte ", offset_);
      done += k;
      offset_ += k;
      if (k == 0) break;
      continue;
    }
    if (!refill()) break;
    const size_t k = std::min(n - done, end_ - pos_);
    std::memcpy(dst + done, buffer_.data() + pos_, k);
    pos_ += k;
    done += k;
    offset_ += k;
  }
  return done;
}

uint64_t ByteSource::skip(uint64_t n) {
  if (memory_ != nullptr) {
    const uint64_t k = std::min<uint64_t>(n, memory_size_ - offset_);
    offset_ += k;
    return k;
  }
  uint64_t done = 0;
  while (done < n && refill()) {
    const size_t k = static_cast<size_t>(std::min<uint64_t>(n - done, end_ - pos_));
    pos_ += k;
    done += k;
    offset_ += k;
  }
  return done;
}

int ByteSource::peek() {
  if (memory_ != nullptr) return offset_ < memory_size_ ? memory_[offset_] : -1;
  return refill() ? buffer_[pos_] : -1;
}

void fail_at(const std::string& path, uint64_t offset, const std::string& what) {
  TORCH_CHECK(false, "snn::events: ", path, ": ", what, " at byte ", offset);
}

void Decoder::set_sensor(const ReadOptions& options, std::optional<SensorSize> from_header,
                         SensorSize fallback, const std::string& format) {
  if (options.sensor) {
    sensor_ = *options.sensor;
    sensor_origin_ = "given in the read options";
  } else if (from_header) {
    sensor_ = *from_header;
    sensor_origin_ = "from the file header";
  } else {
    sensor_ = fallback;
    sensor_origin_ = "assumed: the " + format + " default, as the file gives none";
    sensor_assumed_ = true;
  }
  TORCH_CHECK(
      sensor_.width > 0 && sensor_.height > 0 && sensor_.width <= 32768 && sensor_.height <= 32768,
      "snn::events: ", source_->path(), ": expected a sensor of 1..32768 × 1..32768 ",
      "pixels, got ", sensor_.width, "x", sensor_.height, " (", sensor_origin_, ")");
}

void Decoder::out_of_sensor(int64_t x, int64_t y, uint64_t offset) const {
  std::ostringstream what;
  what << "event x=" << x << " y=" << y << " outside the " << sensor_.width << "x" << sensor_.height
       << " sensor (" << sensor_origin_ << ")";
  throw OutOfSensorError("snn::events: " + source_->path() + ": " + what.str() + " at byte " +
                             std::to_string(offset),
                         sensor_assumed_);
}

Events decode_all(Decoder& decoder, int64_t capacity_hint) {
  Events out(decoder.sensor());
  out.reserve(capacity_hint);
  while (decoder.decode_block(out)) {
  }
  return out;
}

std::unique_ptr<Decoder> make_decoder(FileFormat format, std::unique_ptr<ByteSource> source,
                                      const ReadOptions& options) {
  switch (format) {
    case FileFormat::NMNIST:
      return make_nmnist_decoder(std::move(source), options);
    case FileFormat::EVT2:
      return make_evt2_decoder(std::move(source), options);
    case FileFormat::EVT3:
      return make_evt3_decoder(std::move(source), options);
    case FileFormat::DAT:
      return make_dat_decoder(std::move(source), options);
    case FileFormat::AEDAT3:
      return make_aedat3_decoder(std::move(source), options);
    default:
      TORCH_CHECK(false, "snn::events: ", source->path(), ": no stream decoder for format ",
                  format_name(format));
  }
}

std::vector<std::string> read_header_lines(ByteSource& source, char marker,
                                           const std::string& end_line) {
  std::vector<std::string> lines;
  const uint64_t start = source.offset();
  while (source.peek() == static_cast<uint8_t>(marker)) {
    const uint64_t line_start = source.offset();
    std::string line;
    for (;;) {
      uint8_t c;
      if (source.read(&c, 1) == 0) fail_at(source.path(), source.offset(), "truncated header line");
      if (c == '\n') break;
      line.push_back(static_cast<char>(c));
      if (line.size() > kMaxLine) fail_at(source.path(), line_start, "header line over 64 KiB");
    }
    if (source.offset() - start > kMaxHeader)
      fail_at(source.path(), line_start, "header over 1 MiB");
    if (!line.empty() && line.back() == '\r') line.pop_back();
    lines.push_back(line);
    if (line == end_line) break;
  }
  return lines;
}

}  // namespace snn::events::detail
