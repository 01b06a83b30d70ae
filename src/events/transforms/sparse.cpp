// Tonic's ToSparseTensor: ToFrame's counts as a coalesced sparse COO tensor.
#include <ATen/ops/empty.h>
#include <ATen/ops/sparse_coo_tensor.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdint>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "events/transforms/frames.h"
#include "snn/events/slicers.h"
#include "snn/events/transforms.h"

namespace snn::events {

ToSparseTensor::ToSparseTensor(ToFrameOptions options) : options_(std::move(options)) {
  try {
    ToFrame check(options_);  // the same options, the same rules
  } catch (const c10::Error& err) {
    TORCH_CHECK(false, "snn::events::ToSparseTensor: ", err.what_without_backtrace());
  }
}

at::Tensor ToSparseTensor::apply(const Events& e) const {
  const auto& o = options_;
  e.check_within_sensor("ToSparseTensor");
  TORCH_CHECK(e.size() <= std::numeric_limits<int32_t>::max(),
              "snn::events::ToSparseTensor: counts are int32; got ", e.size(), " events");
  // Channels as ToFrame: one polarity counts every event in channel 0 (all events must carry
  // the same p); otherwise p, which must lie in [0, P).
  const int64_t P = e.sensor().polarities;
  TORCH_CHECK(P >= 1, "snn::events::ToSparseTensor: the sensor needs >= 1 polarity, got ",
              e.sensor());
  for (int64_t i = 0; i < e.size(); ++i) {
    if (P == 1) {
      TORCH_CHECK(e.p[i] == e.p[0],
                  "snn::events::ToSparseTensor: single-polarity sensor, but the events hold "
                  "polarities ",
                  e.p[0], " and ", e.p[i], " (event ", i, ")");
    } else {
      TORCH_CHECK(e.p[i] >= 0 && e.p[i] < P, "snn::events::ToSparseTensor: event ", i,
                  " has polarity ", e.p[i], ", expected one in [0, ", P, ") for the sensor ",
                  e.sensor());
    }
  }
  // The frames' event ranges, exactly as ToFrame slices.
  const auto ranges = detail::frame_ranges(o, e);
  const auto T = static_cast<int64_t>(ranges.size());
  const int64_t W = e.sensor().width;
  const int64_t H = e.has_y() ? e.sensor().height : 1;

  // Row-major linear index of each count, sorted and run-length counted: the coalesced
  // entries in the order coalesce() gives.
  int64_t total = 0;
  for (const auto& r : ranges) total += r.stop - r.start;
  std::vector<int64_t> keys;
  keys.reserve(static_cast<size_t>(total));
  for (int64_t k = 0; k < T; ++k) {
    for (int64_t i = ranges[k].start; i < ranges[k].stop; ++i) {
      const int64_t c = P == 1 ? 0 : e.p[i];
      const int64_t y = e.has_y() ? e.y[i] : 0;
      keys.push_back(((k * P + c) * H + y) * W + e.x[i]);
    }
  }
  std::sort(keys.begin(), keys.end());
  int64_t nnz = 0;
  for (size_t j = 0; j < keys.size(); ++j) nnz += (j == 0 || keys[j] != keys[j - 1]);

  const int64_t ndim = e.has_y() ? 4 : 3;
  auto indices = at::empty({ndim, nnz}, at::TensorOptions().dtype(at::kLong));
  auto values = at::empty({nnz}, at::TensorOptions().dtype(at::kInt));
  int64_t* ix = indices.data_ptr<int64_t>();
  int32_t* v = values.data_ptr<int32_t>();
  int64_t out = -1;
  for (size_t j = 0; j < keys.size(); ++j) {
    if (j > 0 && keys[j] == keys[j - 1]) {
      ++v[out];
      continue;
    }
    ++out;
    v[out] = 1;
    int64_t key = keys[j];
    const int64_t x = key % W;
    key /= W;
    const int64_t y = key % H;
    key /= H;
    const int64_t c = key % P;
    const int64_t k = key / P;
    ix[out] = k;
    ix[nnz + out] = c;
    if (e.has_y()) {
      ix[2 * nnz + out] = y;
      ix[3 * nnz + out] = x;
    } else {
      ix[2 * nnz + out] = x;
    }
  }
  const std::vector<int64_t> shape =
      e.has_y() ? std::vector<int64_t>{T, P, H, W} : std::vector<int64_t>{T, P, W};
  return at::sparse_coo_tensor(indices, values, shape, at::TensorOptions().dtype(at::kInt),
                               /*is_coalesced=*/true);
}

std::string ToSparseTensor::repr() const {
  // ToFrame's canonical text under this name.
  const std::string frame = ToFrame(options_).repr();
  return "ToSparseTensor" + frame.substr(frame.find('('));
}

}  // namespace snn::events
