// Prophesee files: EVT 2.0 and EVT 3.0 `.raw` (Metavision's reference decoders are the
// model: time-high loops, words before the first time-high) and `.dat`.
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstring>
#include <cctype>
#include <sstream>

#include "events/io/decoder.h"
#include "util/target_clones.h"

namespace snn::events::detail {
namespace {

constexpr SensorSize kGen3{640, 480, 2};
// Bytes decoded per block (a multiple of every word and event size).
constexpr size_t kBlockBytes = size_t{1} << 18;
constexpr SensorSize kGen4{1280, 720, 2};

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

std::optional<int64_t> parse_int(const std::string& s) {
  if (s.empty() || s.size() > 9) return std::nullopt;
  int64_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + (c - '0');
  }
  return v;
}

std::string hex(int64_t v) {
  std::ostringstream s;
  s << "0x" << std::hex << std::uppercase << v;
  return s.str();
}

std::string truncated(const char* what, size_t have, size_t size) {
  return std::string("truncated ") + what + " (" + std::to_string(have) + " of " +
         std::to_string(size) + " bytes)";
}

// Metavision's time-high loop rule: a new time base below the last one by nearly the whole
// range (more than the range minus 10 steps) means the counter wrapped.
struct TimeHigh {
  int64_t step_bits;   // time-high unit: 2^step_bits µs
  int64_t value_bits;  // width of the time-high field
  int64_t base = 0;
  int64_t loops = 0;
  bool set = false;

  int64_t loop() const { return int64_t{1} << (step_bits + value_bits); }
  void update(int64_t value) {
    const int64_t max_base = ((int64_t{1} << value_bits) - 1) << step_bits;
    const int64_t threshold = int64_t{10} << step_bits;
    int64_t next = (value << step_bits) + loops * loop();
    if (set && base > next && base - next >= max_base - threshold) {
      next += loop();
      ++loops;
    }
    base = next;
    set = true;
  }
};

class EVT2Decoder final : public Decoder {
 public:
  EVT2Decoder(std::unique_ptr<ByteSource> source, const ReadOptions& options,
              std::optional<SensorSize> header_sensor)
      : Decoder(std::move(source)) {
    set_sensor(options, header_sensor, kGen3, "EVT2 (Gen3)");
  }

  bool decode_block(Events& out) override {
    const uint64_t start = source_->offset();
    const auto [data, got] = view(kBlockBytes);
    if (got % 4 != 0) fail(start + got - got % 4, truncated("EVT2 word", got % 4, 4));
    // Every word could be an event: room for all, written through raw pointers; a CD word is
    // written unconditionally and kept (k advances) only once a time base is set.
    const auto base = static_cast<size_t>(out.size());
    out.resize(static_cast<int64_t>(base + got / 4));
    int64_t* t = out.t.data() + base;
    int16_t *xs = out.x.data() + base, *ys = out.y.data() + base, *ps = out.p.data() + base;
    const auto W = static_cast<uint32_t>(sensor_.width), H = static_cast<uint32_t>(sensor_.height);
    TimeHigh th = time_high_;  // a local copy: the column stores cannot alias it
    const bool set_at_start = th.set;
    uint32_t bad = 0;
    size_t k = 0;
    for (size_t i = 0; i < got; i += 4) {
      const uint32_t w = load_u32(data + i);
      const uint32_t type = w >> 28;
      const uint32_t x = (w >> 11) & 0x7FF, y = w & 0x7FF;
      const uint32_t keep = static_cast<uint32_t>(type <= 1) & static_cast<uint32_t>(th.set);
      t[k] = th.base + ((w >> 22) & 0x3F);
      xs[k] = static_cast<int16_t>(x);
      ys[k] = static_cast<int16_t>(y);
      ps[k] = static_cast<int16_t>(type & 1);
      bad |= keep & (static_cast<uint32_t>(x >= W) | static_cast<uint32_t>(y >= H));
      k += keep;
      if (type > 1) [[unlikely]] {
        if (type == 0x8) {  // time high
          th.update(w & 0x0FFFFFFF);
        } else if (type != 0xA && type != 0xE && type != 0xF) {  // trigger, others, continued
          out.resize(static_cast<int64_t>(base + k));
          time_high_ = th;
          fail(start + i, "unknown EVT2 word type " + hex(type));
        }
      }
    }
    time_high_ = th;
    out.resize(static_cast<int64_t>(base + k));
    if (bad != 0) {  // find the first CD event outside the sensor again, to name its offset
      out.resize(static_cast<int64_t>(base));
      bool set = set_at_start;
      for (size_t i = 0; i < got; i += 4) {
        const uint32_t w = load_u32(data + i);
        if ((w >> 28) <= 1 && set) check_xy((w >> 11) & 0x7FF, w & 0x7FF, start + i);
        set |= (w >> 28) == 0x8;
      }
    }
    return got > 0;
  }

 private:
  TimeHigh time_high_{6, 28};
};

class EVT3Decoder final : public Decoder {
 public:
  EVT3Decoder(std::unique_ptr<ByteSource> source, const ReadOptions& options,
              std::optional<SensorSize> header_sensor)
      : Decoder(std::move(source)) {
    set_sensor(options, header_sensor, kGen4, "EVT3 (Gen4)");
  }

  bool decode_block(Events& out) override {
    const uint64_t start = source_->offset();
    const auto [data, got] = view(kBlockBytes);
    if (got % 2 != 0) fail(start + got - 1, truncated("EVT3 word", 1, 2));
    EventAppender sink(out, got / 2);
    for (size_t i = 0; i < got; i += 2) {
      const uint16_t w = load_u16(data + i);
      switch (w >> 12) {
        case 0x0:  // y address
          y_ = w & 0x7FF;
          break;
        case 0x2:  // x address and polarity: one event
          if (time_high_.set) {
            check_xy(w & 0x7FF, y_, start + i);
            sink.add(time_, w & 0x7FF, y_, (w >> 11) & 1);
          }
          break;
        case 0x3:  // vector base x and polarity
          x_base_ = w & 0x7FF;
          polarity_ = (w >> 11) & 1;
          break;
        case 0x4:  // 12-bit validity mask from the base x on
          vector(sink, w & 0xFFF, 12, start + i);
          break;
        case 0x5:  // 8-bit validity mask
          vector(sink, w & 0xFF, 8, start + i);
          break;
        case 0x6:  // time low
          time_ = time_high_.base + (w & 0xFFF);
          break;
        case 0x8:  // time high
          time_high_.update(w & 0xFFF);
          time_ = time_high_.base;
          break;
        case 0x7:  // continued 4
        case 0xA:  // external trigger
        case 0xE:  // others
        case 0xF:  // continued 12
          break;
        default:
          fail(start + i, "unknown EVT3 word type " + hex(w >> 12));
      }
    }
    return got > 0;
  }

 private:
  void vector(EventAppender& sink, uint32_t valid, int64_t bits, uint64_t offset) {
    if (time_high_.set) {
      for (int64_t k = 0; k < bits; ++k) {
        if ((valid >> k) & 1) {
          check_xy(x_base_ + k, y_, offset);
          sink.add(time_, x_base_ + k, y_, polarity_);
        }
      }
    }
    x_base_ += bits;
  }

  TimeHigh time_high_{12, 12};
  int64_t time_ = 0, y_ = 0, x_base_ = 0, polarity_ = 0;
};

// DAT events per vectorised run.
constexpr size_t kDatRun = 512;

// Decodes m DAT events (8 bytes each: t[31:0], then p << 28 | y << 14 | x) with the time
// base `high` (wraps << 32), if none of them wraps the 32-bit time (a drop of more than 2^31
// from the one before; `last` precedes the first) and all lie in the W x H sensor; false,
// with nothing to keep, otherwise.
SNN_TARGET_CLONES
bool dat_run(const uint8_t* data, size_t m, uint32_t last, int64_t high, uint32_t W, uint32_t H,
             int64_t* t, int16_t* xs, int16_t* ys, int16_t* ps) {
  // A wrap from `before` to `low`: a drop of more than 2^31 (no branches, so it vectorises).
  auto wraps = [](uint32_t before, uint32_t low) {
    return static_cast<uint32_t>(before > low) & static_cast<uint32_t>(before - low > (1u << 31));
  };
  auto decode = [&](size_t i, uint32_t low) {
    uint32_t w;
    std::memcpy(&w, data + 8 * i + 4, 4);
    const uint32_t x = w & 0x3FFF, y = (w >> 14) & 0x3FFF;
    t[i] = high | low;
    xs[i] = static_cast<int16_t>(x);
    ys[i] = static_cast<int16_t>(y);
    ps[i] = static_cast<int16_t>(w >> 28);
    return static_cast<uint32_t>(x >= W) | static_cast<uint32_t>(y >= H);
  };
  uint32_t first;
  std::memcpy(&first, data, 4);
  uint32_t bad = wraps(last, first);
  for (size_t i = 0; i + 1 < m; ++i) {
    uint32_t low, next;
    std::memcpy(&low, data + 8 * i, 4);
    std::memcpy(&next, data + 8 * i + 8, 4);
    bad |= wraps(low, next) | decode(i, low);
  }
  uint32_t low;
  std::memcpy(&low, data + 8 * (m - 1), 4);
  bad |= decode(m - 1, low);
  return bad == 0;
}

class DATDecoder final : public Decoder {
 public:
  DATDecoder(std::unique_ptr<ByteSource> source, const ReadOptions& options,
             std::optional<SensorSize> header_sensor)
      : Decoder(std::move(source)) {
    set_sensor(options, header_sensor, kGen3, "DAT (Gen3)");
    uint8_t type_size[2];
    const uint64_t at = source_->offset();
    const size_t got = source_->read(type_size, 2);
    if (got == 1) fail(at, truncated("DAT event type and size", 1, 2));
    if (got == 2 && type_size[1] != 8) {
      fail(at + 1, "unsupported DAT event size " + std::to_string(type_size[1]) + " (expected 8)");
    }
  }

  bool decode_block(Events& out) override {
    const uint64_t start = source_->offset();
    const auto [data, got] = view(kBlockBytes);
    if (got % 8 != 0) fail(start + got - got % 8, truncated("DAT event", got % 8, 8));
    // Runs of kDatRun events without a time wrap (nearly all) are decoded by a vectorised
    // loop; a run with a wrap, or an event outside the sensor, event by event below.
    const size_t n = got / 8;
    const auto base = static_cast<size_t>(out.size());
    size_t done = 0;
    if (!have_last_ && n > 0) {  // the first event has nothing to wrap from
      last_low_ = load_u32(data);
      have_last_ = true;
    }
    {
      out.resize(static_cast<int64_t>(base + n));
      const auto W = static_cast<uint32_t>(sensor_.width), H = static_cast<uint32_t>(sensor_.height);
      while (done + kDatRun <= n &&
             dat_run(data + done * 8, kDatRun, last_low_, wraps_ << 32, W, H,
                     out.t.data() + base + done, out.x.data() + base + done,
                     out.y.data() + base + done, out.p.data() + base + done)) {
        last_low_ = load_u32(data + (done + kDatRun - 1) * 8);
        done += kDatRun;
      }
      out.resize(static_cast<int64_t>(base + done));
    }
    EventAppender sink(out, n - done);
    for (size_t i = done * 8; i < got; i += 8) {
      const uint32_t low = load_u32(data + i);
      const uint32_t w = load_u32(data + i + 4);
      if (have_last_ && last_low_ > low && last_low_ - low > (uint32_t{1} << 31)) ++wraps_;
      last_low_ = low;
      have_last_ = true;
      const int64_t x = w & 0x3FFF, y = (w >> 14) & 0x3FFF;
      check_xy(x, y, start + i);
      sink.add((wraps_ << 32) | low, x, y, w >> 28);
    }
    return got > 0;
  }

 private:
  bool have_last_ = false;
  uint32_t last_low_ = 0;
  int64_t wraps_ = 0;
};

std::string header_text(const Events& events, const std::string& evt) {
  std::ostringstream h;
  const auto& s = events.sensor();
  h << "% evt " << evt << "\n% format EVT" << evt[0] << ";height=" << s.height
    << ";width=" << s.width << "\n% geometry " << s.width << "x" << s.height << "\n% end\n";
  return h.str();
}

void check_event(bool ok, const char* format, const std::string& path, const Events& e, int64_t i,
                 const char* expected) {
  TORCH_CHECK(ok, "snn::events: write ", format, " ", path, ": expected ", expected, ", got event ",
              i, " (t=", e.t[i], ", x=", e.x[i], ", y=", e.y[i], ", p=", e.p[i], ")");
}

// Buffered little-endian words.
class WordWriter {
 public:
  explicit WordWriter(AtomicFile& file) : file_(file) {}
  void u16(uint16_t v) { store_u16(grow(2), v); }
  void u32(uint32_t v) { store_u32(grow(4), v); }
  void flush() {
    file_.write(bytes_.data(), bytes_.size());
    bytes_.clear();
  }

 private:
  uint8_t* grow(size_t n) {
    if (bytes_.size() + n > (size_t{1} << 16)) flush();
    bytes_.resize(bytes_.size() + n);
    return bytes_.data() + bytes_.size() - n;
  }
  AtomicFile& file_;
  std::vector<uint8_t> bytes_;
};

}  // namespace

PercentHeader parse_percent_header(const std::vector<std::string>& lines) {
  PercentHeader header;
  std::optional<int64_t> width, height;
  std::optional<SensorSize> plugin;
  for (const auto& raw : lines) {
    std::string line = raw.substr(1);
    const auto first = line.find_first_not_of(' ');
    line = first == std::string::npos ? "" : line.substr(first);
    const std::string low = lower(line);
    if (low.rfind("evt 2", 0) == 0 || low.rfind("format evt2", 0) == 0) {
      header.encoding = FileFormat::EVT2;
    } else if (low.rfind("evt 3", 0) == 0 || low.rfind("format evt3", 0) == 0) {
      header.encoding = FileFormat::EVT3;
    }
    if (low.rfind("format ", 0) == 0) {  // format EVT3;height=720;width=1280
      std::istringstream fields(low.substr(7));
      std::string field;
      while (std::getline(fields, field, ';')) {
        const auto eq = field.find('=');
        if (eq == std::string::npos) continue;
        const auto key = field.substr(0, eq);
        if (key == "width") width = parse_int(field.substr(eq + 1));
        if (key == "height") height = parse_int(field.substr(eq + 1));
      }
    } else if (low.rfind("geometry ", 0) == 0) {  // geometry 1280x720
      const auto g = low.substr(9);
      const auto x = g.find('x');
      if (x != std::string::npos) {
        width = parse_int(g.substr(0, x));
        height = parse_int(g.substr(x + 1));
      }
    } else if (low.rfind("width ", 0) == 0) {  // DAT: Width 304
      width = parse_int(low.substr(6));
    } else if (low.rfind("height ", 0) == 0) {
      height = parse_int(low.substr(7));
    } else if (low.rfind("plugin_name ", 0) == 0) {
      if (low.find("gen4") != std::string::npos || low.find("imx636") != std::string::npos) {
        plugin = kGen4;
      } else if (low.find("gen3") != std::string::npos) {
        plugin = kGen3;
      }
    }
  }
  if (width && height) {
    header.sensor = SensorSize{*width, *height, 2};
  } else {
    header.sensor = plugin;
  }
  return header;
}

std::unique_ptr<Decoder> make_evt2_decoder(std::unique_ptr<ByteSource> source,
                                           const ReadOptions& options) {
  const auto header = parse_percent_header(read_header_lines(*source, '%', "% end"));
  return std::make_unique<EVT2Decoder>(std::move(source), options, header.sensor);
}

std::unique_ptr<Decoder> make_evt3_decoder(std::unique_ptr<ByteSource> source,
                                           const ReadOptions& options) {
  const auto header = parse_percent_header(read_header_lines(*source, '%', "% end"));
  return std::make_unique<EVT3Decoder>(std::move(source), options, header.sensor);
}

std::unique_ptr<Decoder> make_dat_decoder(std::unique_ptr<ByteSource> source,
                                          const ReadOptions& options) {
  const auto header = parse_percent_header(read_header_lines(*source, '%', "% end"));
  return std::make_unique<DATDecoder>(std::move(source), options, header.sensor);
}

void write_evt2(const Events& events, const std::string& path) {
  AtomicFile file(path);
  file.write(header_text(events, "2.0"));
  WordWriter out(file);
  TimeHigh decoded{6, 28};  // what a reader will make of the time-high words
  for (int64_t i = 0; i < events.size(); ++i) {
    const int64_t t = events.t[i], x = events.x[i], y = events.y[i], p = events.p[i];
    check_event(x >= 0 && x < 2048 && y >= 0 && y < 2048 && (p == 0 || p == 1) && t >= 0 &&
                    t < (int64_t{1} << 34),
                "EVT2", path, events, i, "0 <= x, y < 2048, p in {0, 1} and 0 <= t < 2^34");
    if (!decoded.set || (t >> 6) != decoded.base >> 6) {
      out.u32((uint32_t{0x8} << 28) | uint32_t(t >> 6));
      decoded.update(t >> 6);
    }
    TORCH_CHECK(decoded.base == ((t >> 6) << 6), "snn::events: write EVT2 ", path, ": event ", i,
                " (t=", t, ") jumps back by nearly 2^34 µs, which readers take for a time wrap");
    out.u32((uint32_t(p) << 28) | (uint32_t(t & 0x3F) << 22) | (uint32_t(x) << 11) | uint32_t(y));
  }
  out.flush();
  file.commit();
}

void write_evt3(const Events& events, const std::string& path) {
  AtomicFile file(path);
  file.write(header_text(events, "3.0"));
  WordWriter out(file);
  int64_t high = -1, low = -1, y_written = -1;
  for (int64_t i = 0; i < events.size(); ++i) {
    const int64_t t = events.t[i], x = events.x[i], y = events.y[i], p = events.p[i];
    check_event(x >= 0 && x < 2048 && y >= 0 && y < 2048 && (p == 0 || p == 1) && t >= 0 &&
                    t < (int64_t{1} << 44) && (i == 0 || t >= events.t[i - 1]),
                "EVT3", path, events, i,
                "0 <= x, y < 2048, p in {0, 1} and 0 <= t < 2^44, non-decreasing");
    if ((t >> 12) != high) {
      // Each 2^24 µs wrap is written as time-high 0xFFF then 0, which readers count as a loop.
      for (int64_t loop = high < 0 ? 0 : high >> 12; loop < (t >> 24); ++loop) {
        out.u16(0x8FFF);
        out.u16(0x8000);
      }
      high = t >> 12;
      out.u16(uint16_t(0x8000 | (high & 0xFFF)));
      low = -1;
    }
    if ((t & 0xFFF) != low) {
      low = t & 0xFFF;
      out.u16(uint16_t(0x6000 | low));
    }
    if (y != y_written) {
      y_written = y;
      out.u16(uint16_t(y));
    }
    out.u16(uint16_t(0x2000 | (p << 11) | x));
  }
  out.flush();
  file.commit();
}

void write_dat(const Events& events, const std::string& path) {
  AtomicFile file(path);
  const auto& s = events.sensor();
  file.write("% Data file containing CD events.\n% Version 2\n% Width " + std::to_string(s.width) +
             "\n% Height " + std::to_string(s.height) + "\n");
  const uint8_t type_size[2] = {0x0C, 8};
  file.write(type_size, 2);
  WordWriter out(file);
  uint32_t last_low = 0;
  int64_t wraps = 0;
  for (int64_t i = 0; i < events.size(); ++i) {
    const int64_t t = events.t[i], x = events.x[i], y = events.y[i], p = events.p[i];
    check_event(x >= 0 && x < (1 << 14) && y >= 0 && y < (1 << 14) && p >= 0 && p < 16 && t >= 0,
                "DAT", path, events, i, "0 <= x, y < 2^14, 0 <= p < 16 and t >= 0");
    const auto low = uint32_t(t);
    if (i > 0 && last_low > low && last_low - low > (uint32_t{1} << 31)) ++wraps;
    last_low = low;
    TORCH_CHECK(((wraps << 32) | low) == t, "snn::events: write DAT ", path, ": event ", i,
                " (t=", t,
                ") cannot be told apart from a 32-bit timestamp wrap (DAT stores t mod 2^32; ",
                "a jump of 2^31 µs or more)");
    out.u32(low);
    out.u32((uint32_t(p) << 28) | (uint32_t(y) << 14) | uint32_t(x));
  }
  out.flush();
  file.commit();
}

}  // namespace snn::events::detail
