// N-MNIST / N-Caltech101 binary: 5-byte records (x, y, p·2^7 | t[22:16], t[15:8], t[7:0]);
// a record with y == 240 is an overflow marker that adds 2^13 µs to every later timestamp
// (Tonic's read_mnist_file).
#include <c10/util/Exception.h>

#include "events/io/decoder.h"

namespace snn::events::detail {
namespace {

constexpr int64_t kRecord = 5;
constexpr int64_t kOverflowY = 240;
constexpr int64_t kOverflowStep = int64_t{1} << 13;
constexpr int64_t kTimestampLimit = int64_t{1} << 23;
// Bounds the overflow markers a writer emits (2^23 of them at most).
constexpr int64_t kMaxTime = int64_t{1} << 36;

class NMNISTDecoder final : public Decoder {
 public:
  NMNISTDecoder(std::unique_ptr<ByteSource> source, const ReadOptions& options)
      : Decoder(std::move(source)), buffer_(kRecord * 4096) {
    set_sensor(options, std::nullopt, SensorSize{34, 34, 2}, "N-MNIST");
  }

  bool decode_block(Events& out) override {
    const uint64_t start = source_->offset();
    const size_t got = source_->read(buffer_.data(), buffer_.size());
    if (got % kRecord != 0) {
      fail(start + got - got % kRecord,
           "truncated N-MNIST record (" + std::to_string(got % kRecord) + " of 5 bytes)");
    }
    for (size_t i = 0; i < got; i += kRecord) {
      const uint8_t* r = buffer_.data() + i;
      const int64_t x = r[0], y = r[1];
      if (y == kOverflowY) {
        overflow_ += kOverflowStep;
        continue;
      }
      check_xy(x, y, start + i);
      const int64_t ts = (int64_t{r[2] & 0x7F} << 16) | (int64_t{r[3]} << 8) | r[4];
      out.push_back(ts + overflow_, x, y, r[2] >> 7);
    }
    return got > 0;
  }

 private:
  std::vector<uint8_t> buffer_;
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
