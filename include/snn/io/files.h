#pragma once
/// \file
/// Whole files: written so that nothing is lost (the bytes go to a temporary file beside the
/// target, which is renamed over it once complete: a crash leaves the previous file whole),
/// and read at once.
#include <string>

namespace snn::io {

/// Writes `bytes` to `path` atomically (temporary file + rename). Throws, naming the file.
void write_file_atomically(const std::string& path, const std::string& bytes);

/// The bytes of the file at `path`. Throws, naming the file, when it cannot be opened or read.
std::string read_file(const std::string& path);

}  // namespace snn::io
