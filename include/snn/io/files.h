#pragma once
/// \file
/// Writing files so that nothing is lost: the bytes go to a temporary file beside the
/// target, which is renamed over it once complete (a crash leaves the previous file whole).
#include <string>

namespace snn::io {

/// Writes `bytes` to `path` atomically (temporary file + rename). Throws, naming the file.
void write_file_atomically(const std::string& path, const std::string& bytes);

}  // namespace snn::io
