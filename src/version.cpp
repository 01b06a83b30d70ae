#include "snn/version.h"

namespace snn {
const char* version() {
  return SNN_VERSION_STRING;
}
}  // namespace snn
