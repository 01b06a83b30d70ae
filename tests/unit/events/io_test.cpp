// Event file readers and writers: round trips, the formats' bit layouts decoded by hand,
// time wraps, truncated and corrupt files, streaming.
#include <gtest/gtest.h>

#include <ATen/Parallel.h>
#include <c10/util/Exception.h>

#include <sys/stat.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>

#include "snn/events/io.h"
#include "test_util.h"

namespace {

namespace fs = std::filesystem;
using snn::events::EventFileReader;
using snn::events::Events;
using snn::events::FileFormat;
using snn::events::SensorSize;

class EventsIOTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("snn_io_test_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  std::string path(const std::string& name) const { return (dir_ / name).string(); }

  fs::path dir_;
};

// Random events: t non-decreasing from t0 with steps up to max_step.
Events random_events(SensorSize sensor, int64_t n, int64_t t0, int64_t max_step, int64_t max_p,
                     uint32_t seed) {
  std::mt19937_64 rng(seed);
  Events e(sensor);
  int64_t t = t0;
  for (int64_t i = 0; i < n; ++i) {
    t += static_cast<int64_t>(rng() % (max_step + 1));
    e.push_back(t, rng() % sensor.width, rng() % sensor.height, rng() % (max_p + 1));
  }
  return e;
}

void expect_same(const Events& a, const Events& b) {
  ASSERT_EQ(a.size(), b.size());
  EXPECT_EQ(a.t, b.t);
  EXPECT_EQ(a.x, b.x);
  EXPECT_EQ(a.y, b.y);
  EXPECT_EQ(a.p, b.p);
}

std::vector<uint8_t> read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

void write_bytes(const std::string& path, const std::vector<uint8_t>& bytes) {
  std::ofstream out(path, std::ios::binary);
  out.write(reinterpret_cast<const char*>(bytes.data()),
            static_cast<std::streamsize>(bytes.size()));
}

using snn::test::error_of;

// A file name with the format's usual extension.
std::string file_name(const std::string& stem, FileFormat f) {
  switch (f) {
    case FileFormat::NMNIST:
      return stem + ".bin";
    case FileFormat::DAT:
      return stem + ".dat";
    case FileFormat::AEDAT3:
      return stem + ".aedat";
    default:
      return stem + "." + snn::events::format_name(f) + ".raw";
  }
}

#define EXPECT_CONTAINS(text, part) \
  EXPECT_NE(std::string(text).find(part), std::string::npos) << "message: " << (text)

// ---- round trips --------------------------------------------------------------------------

struct RoundTripCase {
  FileFormat format;
  SensorSize sensor;
  int64_t t0, max_step, max_p;
};

TEST_F(EventsIOTest, RoundTripEveryFormat) {
  const std::vector<RoundTripCase> cases = {
      {FileFormat::NMNIST, {34, 34, 2}, 0, 3000, 1},  // passes 2^23 µs: overflow markers
      {FileFormat::EVT2, {640, 480, 2}, 1'317'888, 5000, 1},
      {FileFormat::EVT2, {1280, 720, 2}, (int64_t{1} << 33), 100000, 1},
      {FileFormat::EVT3, {1280, 720, 2}, 5, 10000, 1},  // passes several 2^24 µs wraps
      {FileFormat::EVT3, {640, 480, 2}, (int64_t{1} << 24) - 3000, 50, 1},
      {FileFormat::DAT, {304, 240, 2}, (int64_t{1} << 32) - 20'000'000, 20000, 1},  // wraps
      {FileFormat::DAT, {640, 480, 2}, 0, 3, 15},
      {FileFormat::AEDAT3, {128, 128, 2}, (int64_t{1} << 31) - 10'000'000, 3000, 1},
      {FileFormat::AEDAT3, {346, 260, 2}, 0, 20, 1},
  };
  uint32_t seed = 1;
  for (const auto& c : cases) {
    SCOPED_TRACE(snn::events::format_name(c.format) + " seed " + std::to_string(seed));
    const auto events = random_events(c.sensor, 10000, c.t0, c.max_step, c.max_p, seed++);
    const auto file = path(file_name("rt", c.format));
    snn::events::write_events(events, file, c.format);
    const auto back = snn::events::read_events(file);  // format detected
    EXPECT_EQ(back.sensor(), c.sensor);
    expect_same(back, events);
    EXPECT_EQ(snn::events::detect_format(file), c.format);
  }
}

TEST_F(EventsIOTest, RoundTripEmpty) {
  for (auto f : {FileFormat::NMNIST, FileFormat::EVT2, FileFormat::EVT3, FileFormat::DAT,
                 FileFormat::AEDAT3}) {
    const auto file = path(file_name("empty", f));
    snn::events::write_events(Events(SensorSize{34, 34, 2}), file, f);
    EXPECT_EQ(snn::events::read_events(file, f, {SensorSize{34, 34, 2}}).size(), 0);
  }
}

// ---- bit layouts, decoded by hand from the format descriptions ---------------------------

TEST_F(EventsIOTest, NMNISTRecordsAndOverflowMarkers) {
  // (x, y, p, ts): p = bit 7 of byte 2, ts = 23 bits; y == 240 adds 2^13 to later events.
  write_bytes(path("a.bin"), {3,  4,   0x80 | 0x01, 0x02, 0x03,    // x3 y4 p1 ts 0x010203
                              0,  240, 0,           0,    0,       // overflow marker
                              33, 0,   0x00,        0x00, 0x07,    // x33 y0 p0 ts 7
                              9,  240, 0x7F,        0xFF, 0xFF,    // overflow marker
                              1,  2,   0x7F,        0xFF, 0xFF});  // x1 y2 p0 ts 2^23-1
  const auto e = snn::events::read_events(path("a.bin"));
  ASSERT_EQ(e.size(), 3);
  EXPECT_EQ(e.t, (std::vector<int64_t>{0x010203, 8192 + 7, 2 * 8192 + (1 << 23) - 1}));
  EXPECT_EQ(e.x, (std::vector<int16_t>{3, 33, 1}));
  EXPECT_EQ(e.y, (std::vector<int16_t>{4, 0, 2}));
  EXPECT_EQ(e.p, (std::vector<int16_t>{1, 0, 0}));
  EXPECT_EQ(e.sensor(), (SensorSize{34, 34, 2}));
}

std::vector<uint8_t> with_header(const std::string& header, const std::vector<uint16_t>& words) {
  std::vector<uint8_t> bytes(header.begin(), header.end());
  for (auto w : words) {
    bytes.push_back(uint8_t(w));
    bytes.push_back(uint8_t(w >> 8));
  }
  return bytes;
}

TEST_F(EventsIOTest, EVT3VectorsAndTimeWrap) {
  const std::vector<uint16_t> words = {
      0x0005,          // y 5 before any time-high: state only
      0x2000 | 7,      // x 7: no time yet, dropped (as Metavision)
      0x8FFF,          // time high 0xFFF
      0x6010,          // time low 0x010 -> t = 0xFFF010
      0x2800 | 100,    // x 100, p 1, y 5
      0x3000 | 200,    // vector base x 200, p 0
      0x4000 | 0x805,  // 12-bit mask: x 200, 202, 211; base -> 212
      0x5000 | 0x81,   // 8-bit mask: x 212, 219; base -> 220
      0xA123,          // external trigger: ignored
      0x8000 | 0x002,  // time high 2 < 0xFFF by nearly the range: a 2^24 wrap
      0x6003,          // t = 2^24 + 2·4096 + 3
      0x0000 | 9,      // y 9
      0x2000 | 1,      // x 1, p 0
      0x8000 | 0x001,  // time high 1: a small step back, not a wrap
      0x2000 | 2,      // x 2 at t = 2^24 + 4096
  };
  write_bytes(path("a.raw"),
              with_header("% evt 3.0\n% format EVT3;height=720;width=1280\n% end\n", words));
  EXPECT_EQ(snn::events::detect_format(path("a.raw")), FileFormat::EVT3);
  const auto e = snn::events::read_events(path("a.raw"));
  EXPECT_EQ(e.sensor(), (SensorSize{1280, 720, 2}));
  const int64_t t1 = 0xFFF010, t2 = (1 << 24) + 2 * 4096 + 3, t3 = (1 << 24) + 4096;
  EXPECT_EQ(e.t, (std::vector<int64_t>{t1, t1, t1, t1, t1, t1, t2, t3}));
  EXPECT_EQ(e.x, (std::vector<int16_t>{100, 200, 202, 211, 212, 219, 1, 2}));
  EXPECT_EQ(e.y, (std::vector<int16_t>{5, 5, 5, 5, 5, 5, 9, 9}));
  EXPECT_EQ(e.p, (std::vector<int16_t>{1, 0, 0, 0, 0, 0, 0, 0}));
}

TEST_F(EventsIOTest, EVT2WordsAndTimeWrap) {
  std::vector<uint8_t> bytes;
  const std::string header = "% evt 2.0\n% geometry 640x480\n";
  bytes.assign(header.begin(), header.end());
  auto word = [&](uint32_t w) {
    for (int k = 0; k < 4; ++k) bytes.push_back(uint8_t(w >> (8 * k)));
  };
  word((1u << 28) | (5u << 22) | (10u << 11) | 20u);  // CD on before a time-high: dropped
  word((8u << 28) | 0x0FFFFFFF);                      // time high 2^28-1
  word((1u << 28) | (63u << 22) | (639u << 11) | 479u);
  word((0xEu << 28) | 12345);  // others: ignored
  word((8u << 28) | 3);        // wraps: + 2^34
  word((0u << 28) | (1u << 22) | (2u << 11) | 3u);
  write_bytes(path("b.raw"), bytes);
  const auto e = snn::events::read_events(path("b.raw"));
  const int64_t t1 = ((int64_t{1} << 28) - 1) * 64 + 63, t2 = (int64_t{1} << 34) + 3 * 64 + 1;
  EXPECT_EQ(e.t, (std::vector<int64_t>{t1, t2}));
  EXPECT_EQ(e.x, (std::vector<int16_t>{639, 2}));
  EXPECT_EQ(e.y, (std::vector<int16_t>{479, 3}));
  EXPECT_EQ(e.p, (std::vector<int16_t>{1, 0}));
}

TEST_F(EventsIOTest, DATHeaderSensorAndWrap) {
  std::string header =
      "% Data file containing CD events.\n% Version 2\n% Height 240\n% Width 304\n";
  std::vector<uint8_t> bytes(header.begin(), header.end());
  bytes.push_back(0x0C);
  bytes.push_back(8);
  auto event = [&](uint32_t t, uint32_t w) {
    for (int k = 0; k < 4; ++k) bytes.push_back(uint8_t(t >> (8 * k)));
    for (int k = 0; k < 4; ++k) bytes.push_back(uint8_t(w >> (8 * k)));
  };
  event(0xFFFFFFF0u, (1u << 28) | (239u << 14) | 303u);
  event(0xFFFFFFE0u, 0);       // a small step back: not a wrap
  event(5u, (2u << 14) | 1u);  // back by nearly 2^32: a wrap
  write_bytes(path("c.dat"), bytes);
  const auto e = snn::events::read_events(path("c.dat"));
  EXPECT_EQ(e.sensor(), (SensorSize{304, 240, 2}));
  EXPECT_EQ(e.t, (std::vector<int64_t>{0xFFFFFFF0, 0xFFFFFFE0, (int64_t{1} << 32) + 5}));
  EXPECT_EQ(e.x, (std::vector<int16_t>{303, 0, 1}));
  EXPECT_EQ(e.y, (std::vector<int16_t>{239, 0, 2}));
  EXPECT_EQ(e.p, (std::vector<int16_t>{1, 0, 0}));
}

std::vector<uint8_t> aedat_packet(int16_t type, int32_t overflow,
                                  const std::vector<std::pair<uint32_t, int32_t>>& events,
                                  int32_t number) {
  std::vector<uint8_t> p(28, 0);
  auto put = [&](size_t at, uint32_t v) {
    for (int k = 0; k < 4; ++k) p[at + k] = uint8_t(v >> (8 * k));
  };
  p[0] = uint8_t(type);
  put(4, 8);
  put(8, 4);
  put(12, uint32_t(overflow));
  put(16, uint32_t(events.size()));
  put(20, uint32_t(number));
  put(24, uint32_t(number));
  for (const auto& [data, ts] : events) {
    p.resize(p.size() + 8);
    put(p.size() - 8, data);
    put(p.size() - 4, uint32_t(ts));
  }
  return p;
}

TEST_F(EventsIOTest, AEDATPacketsOverflowAndValidBit) {
  const std::string header = "#!AER-DAT3.1\r\n#Source 1: DVS128\r\n#!END-HEADER\r\n";
  std::vector<uint8_t> bytes(header.begin(), header.end());
  auto append = [&](const std::vector<uint8_t>& p) {
    bytes.insert(bytes.end(), p.begin(), p.end());
  };
  auto data = [](uint32_t x, uint32_t y, uint32_t p, uint32_t valid) {
    return (x << 17) | (y << 2) | (p << 1) | valid;
  };
  append(aedat_packet(1, 0, {{data(5, 6, 1, 1), 100}, {data(7, 8, 0, 0), 101}}, 2));
  append(aedat_packet(2, 0, {{0xFFFFFFFF, 7}}, 1));  // a special-event packet: skipped
  append(aedat_packet(1, 3, {{data(127, 0, 0, 1), 9}, {data(1, 1, 1, 1), 10}}, 1));  // 1 used
  write_bytes(path("d.aedat"), bytes);
  const auto e = snn::events::read_events(path("d.aedat"));
  EXPECT_EQ(e.t, (std::vector<int64_t>{100, (int64_t{3} << 31) + 9}));
  EXPECT_EQ(e.x, (std::vector<int16_t>{5, 127}));
  EXPECT_EQ(e.y, (std::vector<int16_t>{6, 0}));
  EXPECT_EQ(e.p, (std::vector<int16_t>{1, 0}));
}

// ---- truncated and corrupt files ----------------------------------------------------------

TEST_F(EventsIOTest, TruncatedFilesNameThePathAndOffset) {
  struct Case {
    FileFormat format;
    size_t cut;
    std::string what;
    size_t back;  // the partial item starts this many bytes before the new end
  };
  const std::vector<Case> cases = {
      {FileFormat::NMNIST, 2, "truncated N-MNIST record (3 of 5 bytes)", 3},
      {FileFormat::EVT2, 2, "truncated EVT2 word (2 of 4 bytes)", 2},
      {FileFormat::EVT3, 1, "truncated EVT3 word (1 of 2 bytes)", 1},
      {FileFormat::DAT, 3, "truncated DAT event (5 of 8 bytes)", 5},
      {FileFormat::AEDAT3, 3, "truncated AEDAT polarity event", 5},
  };
  for (const auto& c : cases) {
    SCOPED_TRACE(snn::events::format_name(c.format));
    const auto file = path(file_name("t", c.format));
    snn::events::write_events(random_events({34, 34, 2}, 100, 0, 10, 1, 7), file, c.format);
    auto bytes = read_bytes(file);
    bytes.resize(bytes.size() - c.cut);
    write_bytes(file, bytes);
    const auto message = error_of([&] {
      snn::events::read_events(file, c.format, {SensorSize{34, 34, 2}});
    });
    EXPECT_CONTAINS(message, "snn::events: " + file + ": " + c.what);
    EXPECT_CONTAINS(message, " at byte " + std::to_string(bytes.size() - c.back));
    // Streaming reads report the same.
    EXPECT_CONTAINS(error_of([&] {
                      EventFileReader r(file, c.format, {SensorSize{34, 34, 2}});
                      while (!r.done()) r.next(7);
                    }),
                    c.what);
  }
}

TEST_F(EventsIOTest, CorruptFilesNameThePathAndOffset) {
  const std::string evt3_header = "% evt 3.0\n";
  write_bytes(path("bad.raw"), with_header(evt3_header, {0x8001, 0xC000}));
  EXPECT_CONTAINS(error_of([&] { snn::events::read_events(path("bad.raw")); }),
                  path("bad.raw") + ": unknown EVT3 word type 0xC at byte " +
                      std::to_string(evt3_header.size() + 2));

  write_bytes(path("bad2.raw"), with_header("% evt 2.0\n", {0x0000, 0x3000}));
  EXPECT_CONTAINS(error_of([&] { snn::events::read_events(path("bad2.raw")); }),
                  "unknown EVT2 word type 0x3 at byte 10");

  // x = 700 on a 640x480 sensor.
  const std::string geometry = "% evt 3.0\n% geometry 640x480\n";
  write_bytes(path("out.raw"), with_header(geometry, {0x8000, 0x0001, 0x2000 | 700}));
  EXPECT_CONTAINS(error_of([&] { snn::events::read_events(path("out.raw")); }),
                  "event x=700 y=1 outside the 640x480 sensor (from the file header) at byte " +
                      std::to_string(geometry.size() + 4));

  std::string dat = "% Version 2\n";
  std::vector<uint8_t> bytes(dat.begin(), dat.end());
  bytes.insert(bytes.end(), {0x0C, 9});
  write_bytes(path("bad.dat"), bytes);
  EXPECT_CONTAINS(error_of([&] { snn::events::read_events(path("bad.dat")); }),
                  "unsupported DAT event size 9 (expected 8) at byte 13");

  const std::string aedat = "#!AER-DAT3.1\r\n#!END-HEADER\r\n";
  bytes.assign(aedat.begin(), aedat.end());
  auto packet = aedat_packet(1, 0, {{1, 1}}, 5);  // number 5 > capacity 1
  bytes.insert(bytes.end(), packet.begin(), packet.end());
  write_bytes(path("bad.aedat"), bytes);
  EXPECT_CONTAINS(error_of([&] { snn::events::read_events(path("bad.aedat")); }),
                  "corrupt AEDAT packet header (type 1, event size 8, capacity 1, number 5, ts "
                  "overflow 0) at byte " +
                      std::to_string(aedat.size()));
  bytes.resize(aedat.size() + 10);
  write_bytes(path("bad.aedat"), bytes);
  EXPECT_CONTAINS(
      error_of([&] { snn::events::read_events(path("bad.aedat")); }),
      "truncated AEDAT packet header (10 of 28 bytes) at byte " + std::to_string(aedat.size()));

  // A huge capacity is never allocated: the packet is just truncated.
  bytes.assign(aedat.begin(), aedat.end());
  packet = aedat_packet(1, 0, {}, 0);
  packet[16] = packet[17] = packet[18] = 0xFF;
  packet[19] = 0x7F;
  bytes.insert(bytes.end(), packet.begin(), packet.end());
  write_bytes(path("huge.aedat"), bytes);
  EXPECT_CONTAINS(error_of([&] { snn::events::read_events(path("huge.aedat")); }),
                  "truncated AEDAT polarity event");
}

TEST_F(EventsIOTest, MissingFileAndUnknownFormat) {
  const auto missing = path("missing.raw");
  EXPECT_CONTAINS(error_of([&] { snn::events::read_events(missing); }),
                  "snn::events: cannot open " + missing);
  EXPECT_CONTAINS(error_of([&] { snn::events::read_events(missing, FileFormat::EVT3); }),
                  "cannot open " + missing);
  write_bytes(path("hash.bin"), {'#', 1, 0, 0, 5});  // N-MNIST: x = 35, no header
  EXPECT_EQ(snn::events::detect_format(path("hash.bin")), FileFormat::NMNIST);
  write_bytes(path("x.txt"), {1, 2, 3});
  EXPECT_CONTAINS(error_of([&] { snn::events::detect_format(path("x.txt")); }),
                  "cannot tell the event file format");
  write_bytes(path("noevt.raw"), with_header("% Date 2020\n", {}));
  EXPECT_CONTAINS(error_of([&] { snn::events::detect_format(path("noevt.raw")); }),
                  "names no encoding");
  EXPECT_CONTAINS(error_of([&] { snn::events::parse_format("evt4"); }),
                  "unknown file format 'evt4'");
}

TEST_F(EventsIOTest, WritersCheckWhatTheFormatHolds) {
  Events e({2048, 2048, 2});
  e.push_back(10, 2047, 5, 1);
  e.push_back(5, 1, 1, 0);  // falls back in time
  EXPECT_CONTAINS(error_of([&] { snn::events::write_events(e, path("w.raw"), FileFormat::EVT3); }),
                  "non-decreasing, got event 1 (t=5, x=1, y=1, p=0)");
  Events big({2048, 2048, 2});
  big.push_back(0, 300, 0, 0);
  EXPECT_CONTAINS(
      error_of([&] { snn::events::write_events(big, path("w.bin"), FileFormat::NMNIST); }),
      "expected 0 <= x < 256");
  Events dat({10, 10, 2});
  dat.push_back((int64_t{1} << 32) + 10, 0, 0, 0);
  dat.push_back(5, 0, 0, 0);
  EXPECT_CONTAINS(error_of([&] { snn::events::write_events(dat, path("w.dat"), FileFormat::DAT); }),
                  "cannot be told apart from a 32-bit timestamp wrap");
}

TEST_F(EventsIOTest, WritesAreAtomic) {
  const auto file = path("a.raw");
  const auto first = random_events({640, 480, 2}, 100, 0, 10, 1, 3);
  snn::events::write_events(first, file, FileFormat::EVT3);
  Events bad({640, 480, 2});
  bad.push_back(0, 0, 0, 0);
  bad.push_back(-1, 0, 0, 0);
  EXPECT_THROW(snn::events::write_events(bad, file, FileFormat::EVT3), c10::Error);
  expect_same(snn::events::read_events(file), first);  // the old file is intact
  EXPECT_EQ(std::distance(fs::directory_iterator(dir_), fs::directory_iterator()), 1)
      << "no temporary file is left";
}

// ---- streaming ----------------------------------------------------------------------------

TEST_F(EventsIOTest, StreamingChunksConcatenateToTheWholeFile) {
  for (auto f : {FileFormat::NMNIST, FileFormat::EVT2, FileFormat::EVT3, FileFormat::DAT,
                 FileFormat::AEDAT3}) {
    SCOPED_TRACE(snn::events::format_name(f));
    const auto file = path(file_name("s", f));
    // More events than one read block of any decoder; N-MNIST passes overflow markers.
    snn::events::write_events(random_events({34, 34, 2}, 150000, 0, 200, 1, 11), file, f);
    const auto whole = snn::events::read_events(file, f, {SensorSize{34, 34, 2}});
    ASSERT_EQ(whole.size(), 150000);
    for (int64_t n : {1, 999, 65536, 1000000}) {
      if (n == 1) {  // one event at a time, on a prefix only (slow otherwise)
        EventFileReader r(file, f, {SensorSize{34, 34, 2}});
        for (int i = 0; i < 3000; ++i) {
          const auto c = r.next(1);
          ASSERT_EQ(c.size(), 1);
          ASSERT_EQ(c.t[0], whole.t[i]);
          ASSERT_EQ(c.x[0], whole.x[i]);
        }
        continue;
      }
      EventFileReader r(file, f, {SensorSize{34, 34, 2}});
      Events joined({34, 34, 2});
      while (!r.done()) {
        const auto c = r.next(n);
        ASSERT_GE(c.size(), 1);
        ASSERT_LE(c.size(), n);
        for (int64_t i = 0; i < c.size(); ++i) joined.push_back(c.t[i], c.x[i], c.y[i], c.p[i]);
      }
      EXPECT_EQ(r.next(n).size(), 0);
      expect_same(joined, whole);
    }
    for (int64_t window : {50, 777, 100000}) {
      EventFileReader r(file, f, {SensorSize{34, 34, 2}});
      Events joined({34, 34, 2});
      int64_t start = whole.t[0];
      while (!r.done()) {
        const auto c = r.next_window(window);
        for (int64_t i = 0; i < c.size(); ++i) {
          ASSERT_GE(c.t[i], start);
          ASSERT_LT(c.t[i], start + window);
          joined.push_back(c.t[i], c.x[i], c.y[i], c.p[i]);
        }
        start += window;
      }
      expect_same(joined, whole);
    }
  }
}

// Whole-file reads take the file into memory at once (under 1 MiB) or map it (larger); the
// events and the errors must not depend on which, nor differ from block-wise streaming.
TEST_F(EventsIOTest, WholeFileReadsMatchStreamingAboveAndBelowTheMappingSize) {
  for (auto f : {FileFormat::NMNIST, FileFormat::EVT2, FileFormat::EVT3, FileFormat::DAT,
                 FileFormat::AEDAT3}) {
    for (int64_t n : {1000, 400000}) {  // well below and above 1 MiB in every format
      SCOPED_TRACE(snn::events::format_name(f) + " n=" + std::to_string(n));
      const auto file = path(file_name("m" + std::to_string(n), f));
      const auto events = random_events({34, 34, 2}, n, 5, 300, 1, 3);
      snn::events::write_events(events, file, f);
      ASSERT_EQ(fs::file_size(file) >= (size_t{1} << 20), n == 400000);
      const auto whole = snn::events::read_events(file, FileFormat::Auto, {SensorSize{34, 34, 2}});
      expect_same(whole, events);
      EventFileReader r(file, f, {SensorSize{34, 34, 2}});
      Events joined({34, 34, 2});
      while (!r.done()) {
        const auto c = r.next(70000);
        for (int64_t i = 0; i < c.size(); ++i) joined.push_back(c.t[i], c.x[i], c.y[i], c.p[i]);
      }
      expect_same(joined, whole);
    }
  }
}

TEST_F(EventsIOTest, ErrorsInLargeFilesNameTheOffset) {
  // A truncated mapped file.
  const auto big = path("big.bin");
  snn::events::write_events(random_events({34, 34, 2}, 300000, 0, 3, 1, 5), big,
                            FileFormat::NMNIST);
  auto bytes = read_bytes(big);
  ASSERT_GE(bytes.size(), size_t{1} << 20);
  bytes.resize(bytes.size() - 1);
  write_bytes(big, bytes);
  const auto message = error_of([&] { snn::events::read_events(big); });
  EXPECT_CONTAINS(message, big + ": truncated N-MNIST record (4 of 5 bytes) at byte " +
                               std::to_string(bytes.size() - 4));

  // An N-MNIST event outside the sensor deep in the file: found by the one-pass decoder,
  // named with its own offset (the events before it are fine).
  const size_t bad_record = 250001;
  bytes.resize(bytes.size() - bytes.size() % 5);
  bytes[bad_record * 5] = 40;  // x = 40 on a 34x34 sensor
  ASSERT_NE(bytes[bad_record * 5 + 1], 240);  // not an overflow marker
  write_bytes(big, bytes);
  EXPECT_CONTAINS(error_of([&] { snn::events::read_events(big); }),
                  "event x=40 y=" + std::to_string(bytes[bad_record * 5 + 1]) +
                      " outside the 34x34 sensor");
  EXPECT_CONTAINS(error_of([&] { snn::events::read_events(big); }),
                  " at byte " + std::to_string(bad_record * 5));

  // The same for an EVT2 CD word.
  const auto raw = path("big.evt2.raw");
  snn::events::write_events(random_events({640, 480, 2}, 300000, 0, 3, 1, 6), raw,
                            FileFormat::EVT2);
  auto words = read_bytes(raw);
  size_t at = words.size() - 4;
  while ((words[at + 3] >> 4) > 1) at -= 4;  // the last CD word
  words[at] = 0xFF;  // y = 0x7FF: far outside 640x480
  words[at + 1] = 0xFF;
  write_bytes(raw, words);
  const auto evt2_message = error_of([&] { snn::events::read_events(raw); });
  EXPECT_CONTAINS(evt2_message, "outside the 640x480 sensor");
  EXPECT_CONTAINS(evt2_message, " at byte " + std::to_string(at));
}

// N-MNIST records are decoded 12 at a time where the CPU allows (one 64-byte load per
// group, a group with a marker decoded record by record): every length and marker position
// around the group edges must give what a plain record-by-record decoding gives.
TEST_F(EventsIOTest, NMNISTGroupsMarkersAndTailsMatchARecordByRecordDecoding) {
  std::mt19937_64 rng(21);
  for (size_t n = 1; n <= 64; ++n) {
    for (int variant = 0; variant < 4; ++variant) {
      SCOPED_TRACE("records=" + std::to_string(n) + " variant=" + std::to_string(variant));
      std::vector<uint8_t> bytes;
      Events want({34, 34, 2});
      int64_t overflow = 0;
      for (size_t i = 0; i < n; ++i) {
        const bool marker = variant > 0 && rng() % (variant == 3 ? 2 : 9) == 0;
        const auto ts = static_cast<uint32_t>(rng() % (1u << 23));
        const uint8_t x = rng() % 34, y = marker ? 240 : rng() % 34, p = rng() % 2;
        bytes.insert(bytes.end(), {x, y, uint8_t((p << 7) | (ts >> 16)), uint8_t(ts >> 8),
                                   uint8_t(ts)});
        if (marker) {
          overflow += 8192;
        } else {
          want.push_back(overflow + ts, x, y, p);
        }
      }
      const auto file = path("g.bin");
      write_bytes(file, bytes);
      expect_same(snn::events::read_events(file), want);
      // An event outside the sensor, wherever it lies, is named with its offset.
      size_t at = rng() % n;
      while (bytes[at * 5 + 1] == 240 && at > 0) --at;
      if (bytes[at * 5 + 1] != 240) {
        bytes[at * 5] = 34;
        write_bytes(file, bytes);
        EXPECT_CONTAINS(error_of([&] { snn::events::read_events(file); }),
                        "outside the 34x34 sensor (assumed: the N-MNIST default, as the file "
                        "gives none) at byte " + std::to_string(at * 5));
      }
    }
  }
}

// A large N-MNIST file is decoded in chunks on several threads: markers at the ends of the
// chunks (131072 records each) must not spill into the next chunk's events.
TEST_F(EventsIOTest, NMNISTChunksOnSeveralThreadsWithMarkersAtTheirEnds) {
  const int threads = at::get_num_threads();
  at::set_num_threads(2);
  std::vector<uint8_t> bytes;
  Events want({34, 34, 2});
  int64_t overflow = 0;
  std::mt19937_64 rng(8);
  const size_t n = 400000;
  for (size_t i = 0; i < n; ++i) {
    const bool marker = i == 131071 || i == 262142 || i == 262143 || i == 393215 || rng() % 500 == 0;
    const auto ts = static_cast<uint32_t>(rng() % (1u << 23));
    const uint8_t x = rng() % 34, y = marker ? 240 : rng() % 34, p = rng() % 2;
    bytes.insert(bytes.end(), {x, y, uint8_t((p << 7) | (ts >> 16)), uint8_t(ts >> 8), uint8_t(ts)});
    if (marker) {
      overflow += 8192;
    } else {
      want.push_back(overflow + ts, x, y, p);
    }
  }
  const auto file = path("chunks.bin");
  write_bytes(file, bytes);
  for (int repeat = 0; repeat < 3; ++repeat) expect_same(snn::events::read_events(file), want);
  at::set_num_threads(threads);
}

// DAT events are decoded in vectorised runs: a time wrap or an event outside the sensor
// inside a run must come out as from the event-by-event decoder.
TEST_F(EventsIOTest, DATRunsWithAWrapOrABadEvent) {
  for (int64_t wrap_at : {1, 511, 512, 513, 2500, 4999}) {
    SCOPED_TRACE("wrap at " + std::to_string(wrap_at));
    Events e({640, 480, 2});
    for (int64_t i = 0; i < 5000; ++i) {
      e.push_back((int64_t{1} << 32) - wrap_at + i, i % 640, (7 * i) % 480, i % 2);
    }
    const auto file = path("w.dat");
    snn::events::write_events(e, file, FileFormat::DAT);
    expect_same(snn::events::read_events(file), e);
  }
  Events e({640, 480, 2});
  for (int64_t i = 0; i < 3000; ++i) e.push_back(10 * i, i % 640, i % 480, 1);
  const auto file = path("b.dat");
  snn::events::write_events(e, file, FileFormat::DAT);
  auto bytes = read_bytes(file);
  const size_t header = bytes.size() - 3000 * 8;
  const size_t bad = 1234;
  bytes[header + bad * 8 + 4] = 0xFF;  // x = 0x3FF.. beyond 640
  bytes[header + bad * 8 + 5] |= 0x3F;
  write_bytes(file, bytes);
  EXPECT_CONTAINS(error_of([&] { snn::events::read_events(file); }),
                  "outside the 640x480 sensor (from the file header) at byte " +
                      std::to_string(header + bad * 8));
}

// ---- DVS Gesture labels and trial lists ----------------------------------------------------

TEST_F(EventsIOTest, GestureLabelsCutTheRecording) {
  std::ofstream(path("user01_led_labels.csv"))
      << "class,startTime_usec,endTime_usec\r\n1,100,200\r\n11,150,400\r\n";
  const auto segments = snn::events::read_gesture_labels(path("user01_led_labels.csv"));
  ASSERT_EQ(segments.size(), 2u);
  EXPECT_EQ(segments[0], (snn::events::GestureSegment{1, 100, 200}));
  EXPECT_EQ(segments[1], (snn::events::GestureSegment{11, 150, 400}));
  snn::events::write_gesture_labels(segments, path("copy.csv"));
  EXPECT_EQ(snn::events::read_gesture_labels(path("copy.csv")), segments);

  const auto events = random_events({128, 128, 2}, 500, 0, 2, 1, 5);
  const auto cuts = snn::events::cut_gestures(events, segments);
  ASSERT_EQ(cuts.size(), 2u);
  for (size_t s = 0; s < 2; ++s) {
    std::vector<int64_t> expected;
    for (auto t : events.t) {
      if (t >= segments[s].start_us && t < segments[s].end_us) expected.push_back(t);
    }
    EXPECT_EQ(cuts[s].t, expected);
  }

  std::ofstream(path("bad.csv")) << "class,startTime_usec,endTime_usec\n3,10\n";
  EXPECT_CONTAINS(error_of([&] { snn::events::read_gesture_labels(path("bad.csv")); }),
                  path("bad.csv") + ": line 2: expected class,startTime_usec,endTime_usec");

  std::ofstream(path("trials_to_train.txt")) << "user01_fluorescent.aedat\r\n\nuser02_led.aedat\n";
  EXPECT_EQ(snn::events::read_trial_list(path("trials_to_train.txt")),
            (std::vector<std::string>{"user01_fluorescent.aedat", "user02_led.aedat"}));
}

// ---- SHD / SSC HDF5 ------------------------------------------------------------------------

TEST_F(EventsIOTest, HSDRoundTrip) {
  std::mt19937 rng(4);
  std::vector<Events> samples;
  for (int s = 0; s < 5; ++s) {
    Events e(snn::events::HSDFile::kSensor, /*has_y=*/false);
    for (int i = 0; i < s * 100; ++i) e.push_back(rng() % 1'400'000, rng() % 700, 0, 1);
    samples.push_back(e);
  }
  const std::vector<int64_t> labels = {3, 0, 19, 7, 7}, speakers = {1, 2, 3, 4, 5};
  const std::vector<std::string> keys = {"english-zero", "german-neun"};
  snn::events::write_hsd(path("shd.h5"), samples, labels, speakers, keys);
  EXPECT_EQ(snn::events::detect_format(path("shd.h5")), FileFormat::HDF5);
  snn::events::HSDFile file(path("shd.h5"));
  ASSERT_EQ(file.size(), 5);
  EXPECT_EQ(file.keys(), keys);
  for (int s = 0; s < 5; ++s) {
    const auto e = file.events(s);
    EXPECT_FALSE(e.has_y());
    EXPECT_EQ(e.sensor(), (SensorSize{700, 1, 1}));
    expect_same(e, samples[s]);
    EXPECT_EQ(file.label(s), labels[s]);
    EXPECT_EQ(file.speaker(s), speakers[s]);
  }
  EXPECT_CONTAINS(error_of([&] { file.events(5); }), "sample 5 out of range for 5 samples");
  EXPECT_CONTAINS(error_of([&] { snn::events::read_events(path("shd.h5")); }),
                  "read it with HSDFile");
  write_bytes(path("not.h5"), {1, 2, 3});
  EXPECT_CONTAINS(error_of([&] { snn::events::HSDFile bad(path("not.h5")); }),
                  "cannot open " + path("not.h5") + " as an HDF5 file");
}

// HDF5 follows global-heap references unchecked (a corrupt heap hung it or made it copy out
// of bounds: fuzz/findings); HSDFile checks them first. Each corruption of a heap collection
// written by write_hsd must be an error naming the sample's dataset, never a crash or hang.
TEST_F(EventsIOTest, HSDCorruptHeapsAreErrorsNotCrashes) {
  std::vector<Events> samples;
  for (int s = 0; s < 3; ++s) {
    Events e(snn::events::HSDFile::kSensor, /*has_y=*/false);
    for (int i = 0; i < 50; ++i) e.push_back(i * 1000, (i * 7 + s) % 700, 0, 1);
    samples.push_back(e);
  }
  snn::events::write_hsd(path("good.h5"), samples, {0, 1, 2});
  const auto good = read_bytes(path("good.h5"));
  const std::string text(good.begin(), good.end());
  const size_t gcol = text.find("GCOL");
  ASSERT_NE(gcol, std::string::npos) << "write_hsd stores the sequences in a global heap";
  struct Case {
    size_t at;
    std::vector<uint8_t> bytes;
    std::string message;
  };
  std::vector<Case> cases = {
      {gcol + 1, {'X'}, "names no heap collection"},
      {gcol + 8, {0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0, 0}, "collection's size does not fit"},
      {gcol + 16 + 8, {0xff, 0xff, 0xff, 0x7f, 0, 0, 0, 0}, "extends past the collection"},
      {gcol + 16, {0x77, 0x77}, "does not exist"},
  };
  // A size that pads to the same extent (the walk stays whole) but is not the sequence's.
  uint64_t size = 0;
  for (int k = 7; k >= 0; --k) size = (size << 8) | good[gcol + 16 + 8 + k];
  size += size % 8 == 1 ? 1 : -1;
  std::vector<uint8_t> wrong(8);
  for (int k = 0; k < 8; ++k) wrong[k] = static_cast<uint8_t>(size >> (8 * k));
  cases.push_back({gcol + 16 + 8, wrong, "does not match its length"});
  for (const auto& c : cases) {
    auto bytes = good;
    std::copy(c.bytes.begin(), c.bytes.end(), bytes.begin() + static_cast<std::ptrdiff_t>(c.at));
    write_bytes(path("bad.h5"), bytes);
    // The checks hold in this process (isolate = false) and come back from the child.
    for (const bool isolate : {false, true}) {
      std::string errors;
      try {
        snn::events::HSDFile file(path("bad.h5"), snn::events::HSDOptions{isolate});
        for (int64_t i = 0; i < file.size(); ++i) errors += error_of([&] { file.events(i); });
      } catch (const c10::Error& e) {
        errors += e.what_without_backtrace();
      }
      EXPECT_CONTAINS(errors, path("bad.h5") + ": spikes/");
      EXPECT_CONTAINS(errors, c.message);
    }
  }
}

// Every input that once broke the reader (fuzz/findings), inside HDF5 itself included, is an
// error naming the file when opened as users open files (HSDOptions::isolate).
TEST_F(EventsIOTest, HSDFuzzFindingsAreErrorsNamingTheFile) {
  int files = 0;
  for (const auto& entry : fs::directory_iterator(fs::path(SNN_SOURCE_DIR) / "fuzz" / "findings")) {
    if (entry.path().extension() != ".h5") continue;
    ++files;
    const std::string p = path(entry.path().filename().string());
    fs::copy_file(entry.path(), p);
    std::string error = "no error";
    try {
      snn::events::HSDFile file(p);
      for (int64_t i = 0; i < file.size(); ++i) file.events(i);
    } catch (const c10::Error& e) {
      error = e.what_without_backtrace();
    }
    EXPECT_CONTAINS(error, p);
  }
  EXPECT_GE(files, 5) << "fuzz/findings holds the inputs that broke the reader";
}

// A child that makes no progress is stopped and the file reported: here HDF5 waits for a
// writer on a named pipe, as it would spin on some corrupt files.
TEST_F(EventsIOTest, HSDStalledReadIsAnError) {
  const std::string p = path("stalls.h5");
  ASSERT_EQ(::mkfifo(p.c_str(), 0600), 0);
  snn::events::HSDOptions options;
  options.stall_seconds = 1;
  const auto start = std::chrono::steady_clock::now();
  const std::string error = error_of([&] { snn::events::HSDFile file(p, options); });
  EXPECT_CONTAINS(error, p + ": the HDF5 library made no progress reading the file for 1 s");
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(20));
  EXPECT_THROW_WITH(snn::events::HSDFile(path("x.h5"), snn::events::HSDOptions{true, 0}),
                    "HSDOptions::stall_seconds must be > 0, got 0");
}

// Files are opened (each in a forked child first) while other threads read samples: no
// deadlock, and every thread sees the same events.
TEST_F(EventsIOTest, HSDFilesOpenAndReadFromManyThreads) {
  std::vector<Events> samples;
  for (int s = 0; s < 8; ++s) {
    Events e(snn::events::HSDFile::kSensor, /*has_y=*/false);
    for (int i = 0; i < 100 + s; ++i) e.push_back(i * 997, (i * 13 + s) % 700, 0, 1);
    samples.push_back(e);
  }
  snn::events::write_hsd(path("a.h5"), samples, {0, 1, 2, 3, 4, 5, 6, 7});
  const snn::events::HSDFile a(path("a.h5"));
  std::atomic<int> wrong{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 5; ++round) {
        if (t % 2 == 0) {
          for (int64_t i = 0; i < a.size(); ++i) wrong += a.events(i).t != samples[i].t;
        } else {
          const snn::events::HSDFile b(path("a.h5"));
          wrong += b.size() != a.size() || b.events(round).x != samples[round].x;
        }
      }
    });
  }
  for (auto& thread : threads) thread.join();
  EXPECT_EQ(wrong.load(), 0);
}

}  // namespace
