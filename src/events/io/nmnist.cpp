// N-MNIST / N-Caltech101 binary: 5-byte records (x, y, p·2^7 | t[22:16], t[15:8], t[7:0]);
// a record with y == 240 is an overflow marker that adds 2^13 µs to every later timestamp
// (Tonic's read_mnist_file).
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <string>
#include <vector>

#if defined(__x86_64__)
#include <immintrin.h>
#endif

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

#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define SNN_NMNIST_VBMI 1

// Groups of 12 records (60 bytes, one 64-byte load) decoded with AVX-512 VBMI byte permutes:
// a group with an overflow marker goes through decode_record instead. Decodes the records
// [i, records) whose group has 64 readable bytes; returns the next record, and advances k.
__attribute__((target("avx512f,avx512bw,avx512vl,avx512vbmi"))) size_t decode_groups_vbmi(
    const uint8_t* data, size_t records, int64_t* t, int16_t* xs, int16_t* ys, int16_t* ps,
    size_t& k, uint32_t W, uint32_t H, int64_t& overflow, uint32_t& bad) {
  alignas(64) static constexpr auto tables = [] {
    struct Tables {
      uint8_t t_lo[64], t_hi[64], x[64], y[64], p[64];
    } tb{};
    for (int j = 0; j < 12; ++j) {
      uint8_t* tt = j < 8 ? tb.t_lo : tb.t_hi;
      const int q = (j % 8) * 8;
      tt[q] = static_cast<uint8_t>(5 * j + 4);  // t[7:0]
      tt[q + 1] = static_cast<uint8_t>(5 * j + 3);  // t[15:8]
      tt[q + 2] = static_cast<uint8_t>(5 * j + 2);  // p | t[22:16]
      tb.x[2 * j] = static_cast<uint8_t>(5 * j);
      tb.y[2 * j] = static_cast<uint8_t>(5 * j + 1);
      tb.p[2 * j] = static_cast<uint8_t>(5 * j + 2);
    }
    return tb;
  }();
  constexpr __mmask64 kTBytes = 0x0707070707070707ULL;  // bytes 0..2 of each qword
  constexpr __mmask64 kLowBytes = 0x0000000000555555ULL;  // low byte of words 0..11
  constexpr __mmask32 kWords = 0xFFF;
  const __m512i t_lo = _mm512_load_si512(tables.t_lo), t_hi = _mm512_load_si512(tables.t_hi);
  const __m512i ix = _mm512_load_si512(tables.x), iy = _mm512_load_si512(tables.y),
                ip = _mm512_load_si512(tables.p);
  const __m512i t_mask = _mm512_set1_epi64(0x7FFFFF);
  const __m512i marker = _mm512_set1_epi16(static_cast<int16_t>(kOverflowY));
  const __m512i w = _mm512_set1_epi16(static_cast<int16_t>(W)),
                h = _mm512_set1_epi16(static_cast<int16_t>(H));
  size_t i = 0;
  for (; (i + 12) * kRecord + 4 <= records * kRecord; i += 12) {
    const __m512i v = _mm512_loadu_si512(data + i * kRecord);
    const __m512i y = _mm512_maskz_permutexvar_epi8(kLowBytes, iy, v);
    if (_mm512_mask_cmpeq_epi16_mask(kWords, y, marker) != 0) {
      for (size_t j = i; j < i + 12; ++j) {
        k += decode_record(data + j * kRecord, t, xs, ys, ps, k, W, H, overflow, bad);
      }
      continue;
    }
    const __m512i x = _mm512_maskz_permutexvar_epi8(kLowBytes, ix, v);
    const __m512i p =
        _mm512_srli_epi16(_mm512_maskz_permutexvar_epi8(kLowBytes, ip, v), 7);
    const __m512i base = _mm512_set1_epi64(overflow);
    const __m512i t0 = _mm512_add_epi64(
        _mm512_and_si512(_mm512_maskz_permutexvar_epi8(kTBytes, t_lo, v), t_mask), base);
    const __m512i t1 = _mm512_add_epi64(
        _mm512_and_si512(_mm512_maskz_permutexvar_epi8(kTBytes, t_hi, v), t_mask), base);
    bad |= (_mm512_mask_cmpge_epu16_mask(kWords, x, w) | _mm512_mask_cmpge_epu16_mask(kWords, y, h))
               ? 1u
               : 0u;
    _mm512_storeu_si512(t + k, t0);
    _mm256_storeu_si256(reinterpret_cast<__m256i*>(t + k + 8), _mm512_castsi512_si256(t1));
    _mm512_mask_storeu_epi16(xs + k, kWords, x);
    _mm512_mask_storeu_epi16(ys + k, kWords, y);
    _mm512_mask_storeu_epi16(ps + k, kWords, p);
    k += 12;
  }
  return i;
}

bool use_vbmi() {
  static const bool yes = [] {
    const char* cap = std::getenv("SNN_CPU_CAPABILITY");
    if (cap != nullptr && std::string(cap) == "default") return false;
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx512bw") && __builtin_cpu_supports("avx512vl") &&
           __builtin_cpu_supports("avx512vbmi");
  }();
  return yes;
}
#endif

// Decodes `records` records at data into the columns from slot 0; returns the events.
size_t decode_records(const uint8_t* data, size_t records, int64_t* t, int16_t* xs, int16_t* ys,
                      int16_t* ps, uint32_t W, uint32_t H, int64_t& overflow, uint32_t& bad) {
  size_t k = 0, i = 0;
#ifdef SNN_NMNIST_VBMI
  if (use_vbmi()) i = decode_groups_vbmi(data, records, t, xs, ys, ps, k, W, H, overflow, bad);
#endif
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
    // (On one thread, one chunk: the markers need no counting ahead.)
    const size_t chunks =
        parallel_threads() > 1 ? (records + kChunkRecords - 1) / kChunkRecords : 1;
    std::vector<size_t> markers(chunks, 0), written(chunks, 0);
    std::vector<uint32_t> bad(chunks, 0);
    // Chunk c holds records [bound[c], bound[c + 1]). The decoder writes an overflow marker
    // into the slot after the events so far (the next event overwrites it), so no chunk but
    // the last may end with a marker: that slot would be the next chunk's first. A boundary
    // after a marker moves back to just after the last event before it.
    std::vector<size_t> bound(chunks + 1, records);
    bound[0] = 0;
    for (size_t c = 1; c < chunks; ++c) {
      size_t b = c * kChunkRecords;
      while (b > bound[c - 1] && data[(b - 1) * kRecord + 1] == kOverflowY) --b;
      bound[c] = b;
    }
    auto chunk_range = [&](size_t c) { return std::pair<size_t, size_t>{bound[c], bound[c + 1]}; };
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
    size_t k = 0;
    uint32_t any_bad = 0;
    for (size_t c = 0; c < chunks; ++c) {
      k += written[c];
      any_bad |= bad[c];
    }
    const size_t total_markers = records - k;  // (one chunk: not counted beforehand)
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
