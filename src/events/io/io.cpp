#include <c10/util/Exception.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <optional>
#include <utility>
#include <vector>

#include "events/io/decoder.h"

namespace snn::events {
namespace {

std::string extension(const std::string& path) {
  std::string ext = std::filesystem::path(path).extension().string();
  std::transform(ext.begin(), ext.end(), ext.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  return ext;
}

constexpr char kHDF5Signature[] = "\x89HDF\r\n\x1a\n";

// The extensions that name a format (.raw names EVT2 for writing; reading needs its header).
const std::vector<std::pair<std::string, FileFormat>>& extensions() {
  static const std::vector<std::pair<std::string, FileFormat>> table = {
      {".bin", FileFormat::NMNIST}, {".raw", FileFormat::EVT2},   {".dat", FileFormat::DAT},
      {".aedat", FileFormat::AEDAT3}, {".h5", FileFormat::HDF5}, {".hdf5", FileFormat::HDF5}};
  return table;
}

std::optional<FileFormat> by_extension(const std::string& ext) {
  for (const auto& [e, f] : extensions()) {
    if (e == ext) return f;
  }
  return std::nullopt;
}

}  // namespace

FileFormat format_from_extension(const std::string& path) {
  const auto f = by_extension(extension(path));
  if (f) return *f;
  std::string known;
  for (const auto& [e, format] : extensions()) {
    known += (known.empty() ? "" : ", ") + e + " (" + format_name(format) + ")";
  }
  TORCH_CHECK(false, "snn::events: cannot tell the format from the name '", path,
              "': expected one of the extensions ", known, ", or give the format");
}

FileFormat detect_format(const std::string& path) {
  detail::ByteSource source(path);
  return detail::detect_format(source, path);
}

FileFormat detail::detect_format(ByteSource& source, const std::string& path) {
  const std::string ext = extension(path);
  // N-MNIST has no header: its first byte (an x address) may be anything.
  if (ext == ".bin") return FileFormat::NMNIST;
  uint8_t head[8] = {};
  if (source.peek() == 0x89) {
    const size_t got = source.read(head, 8);
    if (got == 8 && std::equal(head, head + 8, reinterpret_cast<const uint8_t*>(kHDF5Signature))) {
      return FileFormat::HDF5;
    }
  } else if (source.peek() == '#') {
    const auto lines = detail::read_header_lines(source, '#', "#!END-HEADER");
    if (!lines.empty() && lines[0].rfind("#!AER-DAT3", 0) == 0) return FileFormat::AEDAT3;
    TORCH_CHECK(false, "snn::events: ", path, ": unsupported AEDAT version '", lines[0],
                "' (expected #!AER-DAT3.x)");
  } else if (source.peek() == '%') {
    const auto header =
        detail::parse_percent_header(detail::read_header_lines(source, '%', "% end"));
    if (header.encoding) return *header.encoding;
    if (ext != ".raw") return FileFormat::DAT;
    TORCH_CHECK(false, "snn::events: ", path, ": the '%' header names no encoding ",
                "(no '% evt 2.0' or '% evt 3.0' line): read it with format evt2 or evt3");
  }
  if (const auto f = by_extension(ext); f && ext != ".raw") return *f;
  TORCH_CHECK(false, "snn::events: ", path, ": cannot tell the event file format (from the ",
              "header or the extension '", ext, "'): pass one of nmnist, evt2, evt3, dat, aedat3");
}

Events read_events(const std::string& path, FileFormat format, const ReadOptions& options) {
  // The whole file is read: in memory at once, or mapped (no copy through a read buffer).
  auto source = std::make_unique<detail::ByteSource>(path, /*whole=*/true);
  if (format == FileFormat::Auto) {
    format = detail::detect_format(*source, path);
    source->rewind();
  }
  TORCH_CHECK(format != FileFormat::HDF5, "snn::events: ", path,
              ": an HDF5 file holds many samples; read it with HSDFile");
  // Capacity for the events the file can hold at its format's usual size per event: a hint
  // from the real file size (never from a field of the file), which saves the regrowth.
  const auto bytes = static_cast<int64_t>(source->memory_size());
  const int64_t per_event = format == FileFormat::NMNIST ? 5
                            : format == FileFormat::EVT3 ? 2
                            : format == FileFormat::EVT2 ? 4
                                                         : 8;
  auto decoder = detail::make_decoder(format, std::move(source), options);
  return detail::decode_all(*decoder, bytes / per_event);
}

void write_events(const Events& events, const std::string& path, FileFormat format) {
  switch (format) {
    case FileFormat::NMNIST:
      return detail::write_nmnist(events, path);
    case FileFormat::EVT2:
      return detail::write_evt2(events, path);
    case FileFormat::EVT3:
      return detail::write_evt3(events, path);
    case FileFormat::DAT:
      return detail::write_dat(events, path);
    case FileFormat::AEDAT3:
      return detail::write_aedat3(events, path);
    default:
      TORCH_CHECK(false, "snn::events: write ", path, ": expected format nmnist, evt2, evt3, ",
                  "dat or aedat3 (HDF5: write_hsd), got ", format_name(format));
  }
}

EventFileReader::EventFileReader(const std::string& path, FileFormat format,
                                 const ReadOptions& options)
    : format_(format == FileFormat::Auto ? detect_format(path) : format) {
  TORCH_CHECK(format_ != FileFormat::HDF5, "snn::events: ", path,
              ": an HDF5 file holds many samples; read it with HSDFile");
  decoder_ = detail::make_decoder(format_, std::make_unique<detail::ByteSource>(path), options);
  pending_ = Events(decoder_->sensor());
}

EventFileReader::~EventFileReader() = default;
EventFileReader::EventFileReader(EventFileReader&&) noexcept = default;
EventFileReader& EventFileReader::operator=(EventFileReader&&) noexcept = default;

const std::string& EventFileReader::sensor_origin() const {
  return decoder_->sensor_origin();
}

const SensorSize& EventFileReader::sensor() const {
  return decoder_->sensor();
}

bool EventFileReader::fill(int64_t min_pending) {
  while (pending_.size() - head_ < min_pending && !exhausted_) {
    if (head_ > 0) {  // drop what was returned, so that memory stays bounded
      pending_ = pending_.slice(head_, pending_.size());
      head_ = 0;
    }
    exhausted_ = !decoder_->decode_block(pending_);
  }
  return pending_.size() - head_ >= min_pending;
}

Events EventFileReader::take(int64_t n) {
  Events out = pending_.slice(head_, head_ + n);
  head_ += n;
  return out;
}

Events EventFileReader::next(int64_t max_events) {
  TORCH_CHECK(max_events >= 1, "snn::events: EventFileReader::next: expected max_events >= 1, got ",
              max_events);
  fill(max_events);
  return take(std::min(max_events, pending_.size() - head_));
}

Events EventFileReader::next_window(int64_t window_us) {
  TORCH_CHECK(window_us >= 1,
              "snn::events: EventFileReader::next_window: expected window_us >= 1, got ",
              window_us);
  if (!fill(1)) return take(0);
  if (!window_start_) window_start_ = pending_.t[head_];
  const int64_t end = *window_start_ + window_us;
  int64_t n = 0;  // events of this window found so far, from head_
  for (;;) {
    while (head_ + n < pending_.size() && pending_.t[head_ + n] < end) ++n;
    if (head_ + n < pending_.size() || !fill(n + 1)) break;
  }
  window_start_ = end;
  return take(n);
}

bool EventFileReader::done() {
  return !fill(1);
}

}  // namespace snn::events
