// N-MNIST / N-Caltech101 binary: 5-byte records (x, y, p·2^7 | t[22:16], t[15:8], t[7:0]);
// a record with y == 240 is an overflow marker that adds 2^13 µs to every later timestamp
// (Tonic's read_mnist_file).
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstring>
#include <vector>

#include "events/io/decoder.h"

namespace snn::events::detail {
namespace {

constexpr size_t kRecord = 5;
constexpr size_t kBlockRecords = 65536;
// Records per chunk of a block decoded in parallel.
constexpr size_t kChunkRecords = size_t{1} << 17;
constexpr uint32_t kOverflowY = 240;
constexpr int64_t kOverflowStep = int64_t{1} << 13;  // µs per marker
constexpr int64_t kTimestampLimit = int64_t{1} << 23;
// Bounds the overflow markers a writer emits (2^23 of them at most).
constexpr int64_t kMaxTime = int64_t{1} << 36;

// Decodes one record (its first 8 bytes readable) into slot k of the columns; returns 1 for
// an event, 0 for an overflow marker (which is written too, and overwritten by the next
// event). No branches; `bad` collects events outside the W x H sensor.
inline uint32_t decode_record(const uint8_t* r, int64_t* t, int16_t* xs, int16_t* ys, int16_t* ps,
                              size_t k, uint32_t W, uint32_t H, int64_t& overflow, uint32_t& bad) {
  uint64_t v;
  std::memcpy(&v, r, sizeof v);
  const auto x = static_cast<uint32_t>(v & 0xFF), y = static_cast<uint32_t>((v >> 8) & 0xFF);
  const uint32_t marker = y == kOverflowY;
  overflow += int64_t{marker} << 13;
  bad |= (static_cast<uint32_t>(x >= W) | static_cast<uint32_t>(y >= H)) & (marker ^ 1);
  // Bytes 4, 3, 2 of the little-endian load, big-endian: the 23-bit timestamp.
  t[k] = static_cast<int64_t>((__builtin_bswap64(v) >> 24) & 0x7FFFFF) + overflow;
  xs[k] = static_cast<int16_t>(x);
  ys[k] = static_cast<int16_t>(y);
  ps[k] = static_cast<int16_t>((v >> 23) & 1);
  return marker ^ 1;
}

// Decodes `records` records at data into the columns from slot 0; returns the events.
size_t decode_records(const uint8_t* data, size_t records, int64_t* t, int16_t* xs, int16_t* ys,
                      int16_t* ps, uint32_t W, uint32_t H, int64_t& overflow, uint32_t& bad) {
  size_t k = 0, i = 0;
  // All but the last record can be loaded 8 bytes at a time within the data.
  for (; i + 1 < records; ++i) {
    k += decode_record(data + i * kRecord, t, xs, ys, ps, k, W, H, overflow, bad);
  }
  if (i < records) {
    uint8_t last[8] = {};
    std::memcpy(last, data + i * kRecord, kRecord);
    k += decode_record(last, t, xs, ys, ps, k, W, H, overflow, bad);
  }
  return k;
}

class NMNISTDecoder final : public Decoder {
 public:
  NMNISTDecoder(std::unique_ptr<ByteSource> source, const ReadOptions& options)
      : Decoder(std::move(source)) {
    set_sensor(options, std::nullopt, SensorSize{34, 34, 2}, "N-MNIST");
  }

  bool decode_block(Events& out) override {
    const uint64_t start = source_->offset();
    // A file in memory is decoded in one block, in chunks on several threads; a stream, a
    // block at a time.
    const size_t want =
        source_->in_memory() ? source_->memory_size() - start : kBlockRecords * kRecord;
    // (Not a structured binding: the chunk lambdas capture it, which clang 14 rejects.)
    const auto bytes = view(want);
    const uint8_t* const data = bytes.first;
    const size_t got = bytes.second;
    if (got % kRecord != 0) {
      fail(start + got - got % kRecord,
           "truncated N-MNIST record (" + std::to_string(got % kRecord) + " of 5 bytes)");
    }
    const size_t records = got / kRecord;
    const auto base = static_cast<size_t>(out.size());
    out.resize(static_cast<int64_t>(base + records));
    const auto W = static_cast<uint32_t>(sensor_.width), H = static_cast<uint32_t>(sensor_.height);
    // Chunk c starts after the markers of the chunks before it: count them first, then
    // decode every chunk into its own place with its own overflow base.
    const size_t chunks = (records + kChunkRecords - 1) / kChunkRecords;
    std::vector<size_t> markers(chunks, 0), written(chunks, 0);
    std::vector<uint32_t> bad(chunks, 0);
    auto chunk_range = [&](size_t c) {
      return std::pair<size_t, size_t>{c * kChunkRecords, std::min(records, (c + 1) * kChunkRecords)};
    };
    if (chunks > 1) {
      parallel_chunks(static_cast<int64_t>(chunks), 1, [&](int64_t b, int64_t e) {
        for (auto c = static_cast<size_t>(b); c < static_cast<size_t>(e); ++c) {
          const auto [lo, hi] = chunk_range(c);
          size_t m = 0;
          for (size_t i = lo; i < hi; ++i) m += data[i * kRecord + 1] == kOverflowY;
          markers[c] = m;
        }
      });
    }
    std::vector<size_t> first_marker(chunks + 1, 0);
    for (size_t c = 0; c < chunks; ++c) first_marker[c + 1] = first_marker[c] + markers[c];
    parallel_chunks(static_cast<int64_t>(chunks), 1, [&](int64_t b, int64_t e) {
      for (auto c = static_cast<size_t>(b); c < static_cast<size_t>(e); ++c) {
        const auto [lo, hi] = chunk_range(c);
        const size_t at = base + lo - first_marker[c];
        int64_t overflow = overflow_ + static_cast<int64_t>(first_marker[c]) * kOverflowStep;
        written[c] = decode_records(data + lo * kRecord, hi - lo, out.t.data() + at,
                                    out.x.data() + at, out.y.data() + at, out.p.data() + at, W, H,
                                    overflow, bad[c]);
      }
    });
    size_t k = 0, total_markers = 0;
    uint32_t any_bad = 0;
    for (size_t c = 0; c < chunks; ++c) {
      k += written[c];
      any_bad |= bad[c];
    }
    // (With one chunk the markers were not counted beforehand.)
    total_markers = records - k;
    out.resize(static_cast<int64_t>(base + k));
    if (any_bad != 0) {  // find the first event outside the sensor again, to name its offset
      out.resize(static_cast<int64_t>(base));
      for (size_t i = 0; i < records; ++i) {
        const uint8_t* r = data + i * kRecord;
        if (r[1] != kOverflowY) check_xy(r[0], r[1], start + i * kRecord);
      }
    }
    overflow_ += static_cast<int64_t>(total_markers) * kOverflowStep;
    return got > 0;
  }

 private:
  int64_t overflow_ = 0;
};

}  // namespace

std::unique_ptr<Decoder> make_nmnist_decoder(std::unique_ptr<ByteSource> source,
                                             const ReadOptions& options) {
  return std::make_unique<NMNISTDecoder>(std::move(source), options);
}

void write_nmnist(const Events& events, const std::string& path) {
  AtomicFile file(path);
  std::vector<uint8_t> bytes;
  int64_t overflow = 0;
  for (int64_t i = 0; i < events.size(); ++i) {
    const int64_t t = events.t[i], x = events.x[i], y = events.y[i], p = events.p[i];
    TORCH_CHECK(x >= 0 && x < 256 && y >= 0 && y < kOverflowY && (p == 0 || p == 1) && t >= 0 &&
                    t < kMaxTime,
                "snn::events: write N-MNIST ", path, ": expected 0 <= x < 256, 0 <= y < 240, ",
                "p in {0, 1} and 0 <= t < 2^36, got event ", i, " (t=", t, ", x=", x, ", y=", y,
                ", p=", p, ")");
    TORCH_CHECK(t >= overflow, "snn::events: write N-MNIST ", path, ": event ", i, " (t=", t,
                ") falls back before the overflow marker already written at t=", overflow);
    if (t - overflow >= kTimestampLimit) {
      const int64_t markers = (t - overflow - kTimestampLimit) / kOverflowStep + 1;
      for (int64_t k = 0; k < markers; ++k)
        bytes.insert(bytes.end(), {0, uint8_t(kOverflowY), 0, 0, 0});
      overflow += markers * kOverflowStep;
    }
    const int64_t ts = t - overflow;
    bytes.insert(bytes.end(), {uint8_t(x), uint8_t(y), uint8_t((p << 7) | (ts >> 16)),
                               uint8_t(ts >> 8), uint8_t(ts)});
    if (bytes.size() >= (size_t{1} << 16)) {
      file.write(bytes.data(), bytes.size());
      bytes.clear();
    }
  }
  file.write(bytes.data(), bytes.size());
  file.commit();
}

}  // namespace snn::events::detail
