// libFuzzer harness of the SHD / SSC reader (snn::events::HSDFile, on the HDF5 library): the
// input is written to a file and opened, and every sample, label, speaker and key read. A
// malformed file must give a c10::Error that names the file; no crash, hang or leak, and
// every event lies in the sensor. Built and run by scripts/fuzz.sh (target "hsd").
#include <c10/util/Exception.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <string>

#include "snn/events/io.h"

namespace {
std::string path;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  path = "/tmp/snn_fuzz_hsd_" + std::to_string(getpid()) + ".h5";
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FILE* f = std::fopen(path.c_str(), "wb");
  if (f == nullptr) __builtin_trap();
  if (size > 0 && std::fwrite(data, 1, size, f) != size) __builtin_trap();
  std::fclose(f);
  try {
    snn::events::HSDFile file(path);
    const auto s = snn::events::HSDFile::kSensor;
    for (int64_t i = 0; i < std::min<int64_t>(file.size(), 64); ++i) {
      const auto e = file.events(i);
      for (int64_t k = 0; k < e.size(); ++k) {
        if (e.x[k] < 0 || e.x[k] >= s.width) __builtin_trap();
      }
      file.label(i);
      if (file.has_speakers()) file.speaker(i);
    }
    file.keys();
  } catch (const c10::Error& e) {
    // Every failure names the file.
    if (std::string(e.what_without_backtrace()).find(path) == std::string::npos) __builtin_trap();
  }
  return 0;
}
