// libFuzzer harness of the text parsers the CLI and the ops feed from user input:
// parse_transform, parse_representation, parse_slicer (snn::events) and NeuronSpec::parse
// (the neuron op's specification). Each may throw c10::Error on bad text; none may crash,
// hang or leak, and whatever parses must print a canonical text that parses back to the
// same text. Built and run by scripts/fuzz.sh (target "text").
#include <c10/util/Exception.h>

#include <string>

#include "snn/events/slicers.h"
#include "snn/events/transforms.h"
#include "snn/ops/neuron.h"

namespace {

template <typename Parse>
void round_trip(const std::string& text, Parse parse) {
  std::string canonical;
  try {
    canonical = parse(text);
  } catch (const c10::Error&) {
    return;
  }
  // Canonical text must parse, and to itself.
  if (parse(canonical) != canonical) __builtin_trap();
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  namespace ev = snn::events;
  round_trip(text, [](const std::string& s) { return ev::parse_transform(s)->repr(); });
  round_trip(text, [](const std::string& s) { return ev::parse_representation(s)->repr(); });
  round_trip(text, [](const std::string& s) { return ev::parse_slicer(s)->repr(); });
  round_trip(text, [](const std::string& s) { return snn::ops::NeuronSpec::parse(s).str(); });
  return 0;
}
