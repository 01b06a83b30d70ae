#pragma once
// Internals of the event file readers and writers: a buffered byte source that knows its
// offset, the per-format block decoders, and the atomic file writer. The parsing code
// depends on c10 (errors) and the inline parts of Events only, so the fuzz harnesses
// (fuzz/) compile it without LibTorch's operator libraries.
#include <snn/events/io.h>

#include "util/atomic_file.h"

#include <algorithm>
#include <cstdint>
#include <cstdio>
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

namespace snn::events::detail {

/// Bytes of a file (read in fixed-size blocks) or of a memory buffer, with the offset of
/// the next byte.
class ByteSource {
 public:
  /// Opens a file; throws naming the path when it cannot.
  explicit ByteSource(const std::string& path);
  /// Reads from memory (not owned); `name` stands for the path in error messages.
  ByteSource(std::string name, const uint8_t* data, size_t size);
  ~ByteSource();
  ByteSource(const ByteSource&) = delete;
  ByteSource& operator=(const ByteSource&) = delete;

  /// Opens a file to be read whole: a small one (under 1 MiB) is read into memory at once, a
  /// larger one mapped into memory when the system allows (a regular file), else read in
  /// blocks. A mapped file must not shrink while it is read (as for any mapped file, the
  /// system would end the process).
  ByteSource(const std::string& path, bool whole);

  /// Whether the bytes are in memory (view() then copies nothing).
  bool in_memory() const { return memory_ != nullptr; }
  /// The size of the data when in memory, else 0 (unknown).
  size_t memory_size() const { return memory_ != nullptr ? memory_size_ : 0; }
  /// Back to the first byte.
  void rewind();

  /// Reads up to n bytes into dst; fewer only at the end of the data.
  size_t read(uint8_t* dst, size_t n);
  /// The next up to n bytes, as {pointer, count} (fewer only at the end of the data): a view
  /// of the memory when the source is memory or a mapped file, else read into `scratch`
  /// (n bytes). The pointer stays valid until the next call on this source.
  std::pair<const uint8_t*, size_t> view(size_t n, uint8_t* scratch);
  /// Skips up to n bytes; returns how many were skipped.
  uint64_t skip(uint64_t n);
  /// The next byte, or -1 at the end.
  int peek();
  uint64_t offset() const { return offset_; }
  const std::string& path() const { return path_; }

 private:
  bool refill();

  std::string path_;
  std::FILE* file_ = nullptr;
  const uint8_t* memory_ = nullptr;
  size_t memory_size_ = 0;
  void* mapping_ = nullptr;     // owned mmap of the whole file (memory_ points into it)
  std::vector<uint8_t> owned_;  // or the whole (small) file, read at once
  std::vector<uint8_t> buffer_;
  size_t pos_ = 0, end_ = 0;
  uint64_t offset_ = 0;  // of buffer_[pos_]
};

/// Throws "snn::events: <path>: <what> at byte <offset>".
[[noreturn]] void fail_at(const std::string& path, uint64_t offset, const std::string& what);

/// Decodes one format, a block at a time.
class Decoder {
 public:
  virtual ~Decoder() = default;
  const SensorSize& sensor() const { return sensor_; }
  /// Where the sensor size came from: "from the file header", "given in the read options",
  /// or "assumed: the <format> default, as the file gives none".
  const std::string& sensor_origin() const { return sensor_origin_; }
  /// Appends the events of the next block of the file to `out` (a bounded number: at most
  /// a few hundred thousand); false once the data is exhausted (nothing appended).
  virtual bool decode_block(Events& out) = 0;

 protected:
  explicit Decoder(std::unique_ptr<ByteSource> source) : source_(std::move(source)) {}
  /// The next up to n bytes of the source (see ByteSource::view); a scratch buffer is kept
  /// only for sources that are not in memory.
  std::pair<const uint8_t*, size_t> view(size_t n) {
    if (!source_->in_memory() && scratch_.size() < n) scratch_.resize(n);
    return source_->view(n, scratch_.data());
  }
  /// Sets the sensor: the option's, else the header's, else `fallback` (remembering which,
  /// for error messages).
  void set_sensor(const ReadOptions& options, std::optional<SensorSize> from_header,
                  SensorSize fallback, const std::string& format);
  /// Throws unless (x, y) lies in the sensor; `offset` is the word's byte offset.
  void check_xy(int64_t x, int64_t y, uint64_t offset) const {
    if (x >= sensor_.width || y >= sensor_.height || x < 0 || y < 0) out_of_sensor(x, y, offset);
  }
  [[noreturn]] void out_of_sensor(int64_t x, int64_t y, uint64_t offset) const;
  [[noreturn]] void fail(uint64_t offset, const std::string& what) const {
    fail_at(source_->path(), offset, what);
  }

  std::unique_ptr<ByteSource> source_;
  std::vector<uint8_t> scratch_;
  SensorSize sensor_;
  std::string sensor_origin_;
  bool sensor_assumed_ = false;
};

/// A decoder of `format` (not Auto, not HDF5), having read the header.
std::unique_ptr<Decoder> make_decoder(FileFormat format, std::unique_ptr<ByteSource> source,
                                      const ReadOptions& options);
std::unique_ptr<Decoder> make_nmnist_decoder(std::unique_ptr<ByteSource>, const ReadOptions&);
std::unique_ptr<Decoder> make_evt2_decoder(std::unique_ptr<ByteSource>, const ReadOptions&);
std::unique_ptr<Decoder> make_evt3_decoder(std::unique_ptr<ByteSource>, const ReadOptions&);
std::unique_ptr<Decoder> make_dat_decoder(std::unique_ptr<ByteSource>, const ReadOptions&);
std::unique_ptr<Decoder> make_aedat3_decoder(std::unique_ptr<ByteSource>, const ReadOptions&);

/// What a Prophesee `%` header says: the sensor ("% geometry WxH", "% format
/// EVT3;height=H;width=W", DAT's "% Width W" / "% Height H", or the camera plugin name) and
/// the encoding ("% evt 2.0", "% evt 3.0", "% format EVT2...").
struct PercentHeader {
  std::optional<SensorSize> sensor;
  std::optional<FileFormat> encoding;
};
PercentHeader parse_percent_header(const std::vector<std::string>& lines);

/// Appends events to an Events through raw column pointers (no per-column capacity checks):
/// room is made for `expected` events first, then for max(expected, 256) more at a time; the destructor trims the columns to the events
/// written, so an exception thrown mid-block leaves only complete events.
class EventAppender {
 public:
  EventAppender(Events& out, size_t expected)
      : out_(out), step_(std::max<size_t>(expected, 256)), n_(static_cast<size_t>(out.size())) {
    reserve(n_ + expected);
  }
  ~EventAppender() { out_.resize(static_cast<int64_t>(n_)); }
  EventAppender(const EventAppender&) = delete;
  EventAppender& operator=(const EventAppender&) = delete;

  void add(int64_t t, int64_t x, int64_t y, int64_t p) {
    if (n_ == cap_) reserve(cap_ + step_);
    t_[n_] = t;
    x_[n_] = static_cast<int16_t>(x);
    y_[n_] = static_cast<int16_t>(y);
    p_[n_] = static_cast<int16_t>(p);
    ++n_;
  }

 private:
  void reserve(size_t cap) {
    out_.resize(static_cast<int64_t>(cap));
    cap_ = cap;
    t_ = out_.t.data();
    x_ = out_.x.data();
    y_ = out_.y.data();
    p_ = out_.p.data();
  }

  Events& out_;
  size_t step_, n_, cap_ = 0;
  int64_t* t_ = nullptr;
  int16_t *x_ = nullptr, *y_ = nullptr, *p_ = nullptr;
};

/// The format of the data of `source` (at its first byte; the source is left anywhere):
/// detect_format() for a source; `path` gives the extension.
FileFormat detect_format(ByteSource& source, const std::string& path);

/// Runs fn(begin, end) over [0, n) in chunks of at least `grain`, on LibTorch's intra-op
/// threads (at::parallel_for; src/events/io/parallel.cpp). The fuzz harness links a serial
/// version.
void parallel_chunks(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn);
/// The threads parallel_chunks would use here (1 inside a parallel region).
int64_t parallel_threads();

/// Every event of a decoder.
Events decode_all(Decoder& decoder, int64_t capacity_hint = 0);

/// The lines of a header whose lines start with `marker` ('%' or '#'), without the marker
/// line ending; stops before the first line that does not start with it, or after a line
/// equal to `end_line` (compared without trailing "\r"). Bounded: throws on a line longer
/// than 64 KiB or a header longer than 1 MiB.
std::vector<std::string> read_header_lines(ByteSource& source, char marker,
                                           const std::string& end_line);

// The atomic writer of every file snn.cpp writes (src/util/atomic_file.h).
using snn::detail::AtomicFile;

/// Little-endian loads and stores.
inline uint16_t load_u16(const uint8_t* p) {
  return uint16_t(p[0] | (p[1] << 8));
}
inline uint32_t load_u32(const uint8_t* p) {
  return uint32_t(p[0]) | (uint32_t(p[1]) << 8) | (uint32_t(p[2]) << 16) | (uint32_t(p[3]) << 24);
}
inline void store_u16(uint8_t* p, uint16_t v) {
  p[0] = uint8_t(v);
  p[1] = uint8_t(v >> 8);
}
inline void store_u32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = uint8_t(v >> (8 * i));
}

/// Format writers (events already checked for the format's limits by the writer itself).
void write_nmnist(const Events& events, const std::string& path);
void write_evt2(const Events& events, const std::string& path);
void write_evt3(const Events& events, const std::string& path);
void write_dat(const Events& events, const std::string& path);
void write_aedat3(const Events& events, const std::string& path);

}  // namespace snn::events::detail
