// libFuzzer harness of the event file readers: decodes the input as the format named by
// SNN_FUZZ_FORMAT (nmnist, evt2, evt3, dat, aedat3). A reader may throw c10::Error on bad
// input; it must not crash, hang, or leak, and every event it returns lies in its sensor.
// Built and run by scripts/fuzz.sh.
#include <c10/util/Exception.h>

#include <cstdio>
#include <cstdlib>

#include "events/io/decoder.h"

namespace {
snn::events::FileFormat format = snn::events::FileFormat::Auto;
}

// The library runs these chunks on LibTorch's threads; the harness has c10 only.
void snn::events::detail::parallel_chunks(int64_t n, int64_t,
                                          const std::function<void(int64_t, int64_t)>& fn) {
  if (n > 0) fn(0, n);
}
int64_t snn::events::detail::parallel_threads() {
  return 1;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  const char* name = std::getenv("SNN_FUZZ_FORMAT");
  if (name == nullptr) {
    std::fprintf(stderr, "fuzz_reader: set SNN_FUZZ_FORMAT (nmnist, evt2, evt3, dat, aedat3)\n");
    std::abort();
  }
  format = snn::events::parse_format(name);
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using snn::events::Events;
  using snn::events::SensorSize;
  namespace detail = snn::events::detail;
  try {
    auto decoder =
        detail::make_decoder(format, std::make_unique<detail::ByteSource>("fuzz-input", data, size),
                             snn::events::ReadOptions{});
    const Events e = detail::decode_all(*decoder);
    const SensorSize s = e.sensor();
    for (int64_t i = 0; i < e.size(); ++i) {
      if (e.x[i] < 0 || e.x[i] >= s.width || e.y[i] < 0 || e.y[i] >= s.height) __builtin_trap();
    }
  } catch (const c10::Error&) {
  }
  return 0;
}
