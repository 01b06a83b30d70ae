// libFuzzer harness of the SHD / SSC reader (snn::events::HSDFile, on the HDF5 library): the
// input is written to a file and opened, and every sample, label, speaker and key read. A
// malformed file must give a c10::Error that names the file; no crash, hang or leak, and
// every event lies in the sensor. Built and run by scripts/fuzz.sh:
//   target "hsd":        HSDFile as users open it (HSDOptions::isolate: HDF5 reads the file
//                        in a child process first; what breaks there must become an error)
//   target "hsd-direct": the file opened in this process (isolate = false), so that the
//                        sanitizers see inside every read: what it finds in HDF5 itself is
//                        what isolation must contain (scripts/fuzz.sh replays it on "hsd").
#include <c10/util/Exception.h>
#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "fuzz_file.h"
#include "snn/events/io.h"

namespace {
std::string path;
bool isolate = true;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  path = snn_fuzz::input_path("hsd", ".h5");
  isolate = snn_fuzz::isolated("hsd-direct");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  snn_fuzz::write_input(path, data, size);
  try {
    snn::events::HSDFile file(path, snn::events::HSDOptions{isolate});
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
