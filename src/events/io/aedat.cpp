// AEDAT 3.1 (DVS Gesture): `#` header lines up to `#!END-HEADER`, then packets of a 28-byte
// header (int16 type, int16 source, int32 event size, ts offset, ts overflow, capacity,
// number, valid) and `capacity × size` bytes of events. Polarity packets (type 1) hold
// 8-byte events: uint32 data (bit 0 valid, bit 1 polarity, y = bits 2.., x = bits 17..),
// int32 ts; t = tsOverflow·2^31 + ts. Other packets are skipped.
#include <c10/util/Exception.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "events/io/decoder.h"

namespace snn::events::detail {
namespace {

constexpr int64_t kPacketHeader = 28;
constexpr int64_t kPolarityType = 1;
constexpr int64_t kPolaritySize = 8;
constexpr int64_t kEventsPerBlock = 8192;

int32_t load_i32(const uint8_t* p) {
  return static_cast<int32_t>(load_u32(p));
}

class AEDAT3Decoder final : public Decoder {
 public:
  AEDAT3Decoder(std::unique_ptr<ByteSource> source, const ReadOptions& options)
      : Decoder(std::move(source)) {
    if (source_->peek() != '#') fail(0, "not an AEDAT file (no '#' header)");
    const auto lines = read_header_lines(*source_, '#', "#!END-HEADER");
    if (lines.empty() || lines[0].rfind("#!AER-DAT3", 0) != 0) {
      fail(0, "unsupported AEDAT version '" + (lines.empty() ? "" : lines[0]) +
                  "' (expected #!AER-DAT3.x)");
    }
    std::optional<SensorSize> sensor;
    for (const auto& line : lines) {
      if (line.rfind("#Sensor: ", 0) == 0) {  // written by write_events: "#Sensor: WxH"
        int w = 0, h = 0;
        if (std::sscanf(line.c_str(), "#Sensor: %5dx%5d", &w, &h) == 2)
          sensor = SensorSize{w, h, 2};
      }
      if (line.rfind("#Source ", 0) != 0) continue;
      if (line.find("DVS128") != std::string::npos) sensor = SensorSize{128, 128, 2};
      if (line.find("DAVIS240") != std::string::npos) sensor = SensorSize{240, 180, 2};
      if (line.find("DAVIS346") != std::string::npos) sensor = SensorSize{346, 260, 2};
    }
    set_sensor(options, sensor, SensorSize{128, 128, 2}, "AEDAT 3.1 (DVS128)");
  }

  bool decode_block(Events& out) override {
    // Reads packet headers until a polarity packet's events or the end of the file.
    while (remaining_ == 0) {
      const uint64_t at = source_->offset();
      uint8_t h[kPacketHeader];
      const size_t got = source_->read(h, kPacketHeader);
      if (got == 0) return false;
      if (got < kPacketHeader) {
        fail(at, "truncated AEDAT packet header (" + std::to_string(got) + " of 28 bytes)");
      }
      const int64_t type = static_cast<int16_t>(load_u16(h));
      const int64_t size = load_i32(h + 4), overflow = load_i32(h + 12);
      const int64_t capacity = load_i32(h + 16), number = load_i32(h + 20);
      if (size <= 0 || capacity < 0 || number < 0 || number > capacity || overflow < 0) {
        fail(at, "corrupt AEDAT packet header (type " + std::to_string(type) + ", event size " +
                     std::to_string(size) + ", capacity " + std::to_string(capacity) + ", number " +
                     std::to_string(number) + ", ts overflow " + std::to_string(overflow) + ")");
      }
      if (type != kPolarityType) {
        const uint64_t bytes = uint64_t(size) * uint64_t(capacity);
        if (source_->skip(bytes) < bytes) fail(at, "truncated AEDAT packet");
        continue;
      }
      if (size != kPolaritySize) {
        fail(at, "AEDAT polarity packet with event size " + std::to_string(size) + " (expected 8)");
      }
      packet_at_ = at;
      remaining_ = capacity;
      valid_left_ = number;  // events past `number` are unused capacity
      overflow_ = overflow;
    }
    const int64_t n = std::min(remaining_, kEventsPerBlock);
    const uint64_t start = source_->offset();
    const auto [data, got] = view(size_t(n * kPolaritySize));
    if (got < size_t(n * kPolaritySize)) {
      fail(start + got - got % kPolaritySize,
           "truncated AEDAT polarity event (packet at byte " + std::to_string(packet_at_) + ")");
    }
    EventAppender sink(out, static_cast<size_t>(n));
    for (int64_t k = 0; k < n; ++k, --valid_left_) {
      const uint32_t word = load_u32(data + k * kPolaritySize);
      const int64_t ts = load_i32(data + k * kPolaritySize + 4);
      if (valid_left_ <= 0 || (word & 1) == 0) continue;
      const uint64_t offset = start + k * kPolaritySize;
      if (ts < 0) fail(offset, "negative AEDAT timestamp " + std::to_string(ts));
      const int64_t x = (word >> 17) & 0x7FFF, y = (word >> 2) & 0x7FFF;
      check_xy(x, y, offset);
      sink.add((overflow_ << 31) | ts, x, y, (word >> 1) & 1);
    }
    remaining_ -= n;
    return true;
  }

 private:
  int64_t remaining_ = 0, valid_left_ = 0, overflow_ = 0;
  uint64_t packet_at_ = 0;
};

}  // namespace

std::unique_ptr<Decoder> make_aedat3_decoder(std::unique_ptr<ByteSource> source,
                                             const ReadOptions& options) {
  return std::make_unique<AEDAT3Decoder>(std::move(source), options);
}

void write_aedat3(const Events& events, const std::string& path) {
  AtomicFile file(path);
  const auto& s = events.sensor();
  const bool dvs128 = s.width == 128 && s.height == 128;
  file.write(std::string("#!AER-DAT3.1\r\n#Format: RAW\r\n#Source 1: ") +
             (dvs128 ? "DVS128" : "snn.cpp") + "\r\n#Sensor: " + std::to_string(s.width) + "x" +
             std::to_string(s.height) +
             "\r\n#Start-Time: 1970-01-01 00:00:00 (TZ+0000)\r\n#!END-HEADER\r\n");
  constexpr int64_t kMaxPacket = 4096;
  std::vector<uint8_t> packet;
  int64_t begin = 0;
  while (begin < events.size()) {
    // A packet holds events of one timestamp overflow.
    const int64_t overflow = events.t[begin] >> 31;
    int64_t end = begin;
    for (; end < events.size() && end - begin < kMaxPacket; ++end) {
      const int64_t t = events.t[end], x = events.x[end], y = events.y[end], p = events.p[end];
      TORCH_CHECK(x >= 0 && y >= 0 && (p == 0 || p == 1) && t >= 0 && t < (int64_t{1} << 62),
                  "snn::events: write AEDAT 3.1 ", path, ": expected 0 <= x, y < 2^15, ",
                  "p in {0, 1} and 0 <= t < 2^62, got event ", end, " (t=", t, ", x=", x, ", y=", y,
                  ", p=", p, ")");
      if ((t >> 31) != overflow) break;
    }
    const int64_t n = end - begin;
    packet.assign(kPacketHeader + n * kPolaritySize, 0);
    store_u16(packet.data(), kPolarityType);
    store_u16(packet.data() + 2, 1);  // source
    store_u32(packet.data() + 4, kPolaritySize);
    store_u32(packet.data() + 8, 4);  // timestamp offset within an event
    store_u32(packet.data() + 12, uint32_t(overflow));
    for (int k : {16, 20, 24})
      store_u32(packet.data() + k, uint32_t(n));  // capacity, number, valid
    for (int64_t i = begin; i < end; ++i) {
      uint8_t* e = packet.data() + kPacketHeader + (i - begin) * kPolaritySize;
      store_u32(e, (uint32_t(events.x[i]) << 17) | (uint32_t(events.y[i]) << 2) |
                       (uint32_t(events.p[i]) << 1) | 1U);
      store_u32(e + 4, uint32_t(events.t[i] & 0x7FFFFFFF));
    }
    file.write(packet.data(), packet.size());
    begin = end;
  }
  file.commit();
}

}  // namespace snn::events::detail

namespace snn::events {

std::vector<GestureSegment> read_gesture_labels(const std::string& path) {
  std::ifstream in(path);
  TORCH_CHECK(in.good(), "snn::events: cannot open ", path);
  std::vector<GestureSegment> segments;
  std::string line;
  for (int64_t number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || (number == 1 && line.rfind("class", 0) == 0)) continue;
    std::istringstream row(line);
    GestureSegment s;
    char c1 = 0, c2 = 0;
    row >> s.label >> c1 >> s.start_us >> c2 >> s.end_us;
    TORCH_CHECK(row && c1 == ',' && c2 == ',' && (row >> std::ws).eof() && s.start_us <= s.end_us,
                "snn::events: ", path, ": line ", number,
                ": expected class,startTime_usec,endTime_usec with start <= end, got '", line, "'");
    segments.push_back(s);
  }
  return segments;
}

void write_gesture_labels(const std::vector<GestureSegment>& segments, const std::string& path) {
  std::ostringstream text;
  text << "class,startTime_usec,endTime_usec\n";
  for (const auto& s : segments) text << s.label << "," << s.start_us << "," << s.end_us << "\n";
  detail::AtomicFile file(path);
  file.write(text.str());
  file.commit();
}

std::vector<Events> cut_gestures(const Events& events,
                                 const std::vector<GestureSegment>& segments) {
  std::vector<Events> out;
  out.reserve(segments.size());
  for (const auto& s : segments) {
    Events cut(events.sensor(), events.has_y());
    for (int64_t i = 0; i < events.size(); ++i) {
      if (events.t[i] >= s.start_us && events.t[i] < s.end_us) {
        cut.push_back(events.t[i], events.x[i], events.y[i], events.p[i]);
      }
    }
    out.push_back(std::move(cut));
  }
  return out;
}

std::vector<std::string> read_trial_list(const std::string& path) {
  std::ifstream in(path);
  TORCH_CHECK(in.good(), "snn::events: cannot open ", path);
  std::vector<std::string> names;
  std::string line;
  while (std::getline(in, line)) {
    const auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos) continue;
    const auto last = line.find_last_not_of(" \t\r");
    names.push_back(line.substr(first, last - first + 1));
  }
  return names;
}

}  // namespace snn::events
