// libFuzzer harness of the NIR reader (snn::nir::read, on the HDF5 library): the input is
// written to a file and read as a NIR graph, then listed (snn::nir::describe). A malformed
// file must give a c10::Error that names the file; no crash, hang or leak. Built and run by
// scripts/fuzz.sh:
//   target "nir":        read as users read files (ReadOptions::isolate: HDF5 reads the file
//                        in a child process first; what breaks there must become an error)
//   target "nir-direct": the file read in this process (isolate = false), so that the
//                        sanitizers see inside every read.
// What the graph means (the node table, the executor) is checked by the import's own
// validation, which the unit tests hold to its messages.
#include <c10/util/Exception.h>
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <functional>
#include <string>

#include "fuzz_file.h"
#include "snn/nir/graph.h"

namespace {
std::string path;
bool isolate = true;
}

extern "C" int LLVMFuzzerInitialize(int*, char***) {
  path = snn_fuzz::input_path("nir", ".nir");
  isolate = snn_fuzz::isolated("nir-direct");
  return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  snn_fuzz::write_input(path, data, size);
  try {
    snn::nir::ReadOptions options;
    options.isolate = isolate;
    options.max_bytes = int64_t{1} << 28;
    const auto file = snn::nir::read(path, options);
    std::function<void(const snn::nir::Graph&)> check = [&](const snn::nir::Graph& g) {
      for (const auto& [name, node] : g.nodes) {
        if (name.empty()) __builtin_trap();
        if (node.type == "NIRGraph" && node.graph == nullptr) __builtin_trap();
        if (node.graph) check(*node.graph);
      }
    };
    check(file.graph);
    (void)snn::nir::describe(file.graph);
  } catch (const c10::Error& e) {
    // Every failure names the file.
    if (std::string(e.what_without_backtrace()).find(path) == std::string::npos) __builtin_trap();
  }
  return 0;
}
