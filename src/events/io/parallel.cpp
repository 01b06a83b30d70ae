// parallel_chunks for the readers, on LibTorch's intra-op thread pool (kept apart from the
// decoders so that the fuzz harness can build them with c10 alone).
#include <ATen/Parallel.h>

#include "events/io/decoder.h"

namespace snn::events::detail {

void parallel_chunks(int64_t n, int64_t grain, const std::function<void(int64_t, int64_t)>& fn) {
  at::parallel_for(0, n, grain, fn);
}

int64_t parallel_threads() {
  return at::in_parallel_region() ? 1 : at::get_num_threads();
}

}  // namespace snn::events::detail
