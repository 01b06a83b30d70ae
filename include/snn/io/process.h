#pragma once
/// \file
/// Starting an external program (e.g. gnuplot for the reports) without a shell: the
/// program and its arguments are an argument vector, files are opened by the library, and
/// nothing in a path or an argument is ever interpreted as shell syntax.
#include <string>
#include <utility>
#include <vector>

namespace snn::io {

/// How to run a program. Example:
///   snn::io::run_program(snn::io::ProgramOptions({"gnuplot", "plots.gp"})
///                            .cwd(dir).output_file("gnuplot.log"));
struct ProgramOptions {
  /// argv[0] is looked up on PATH when it holds no '/'. Must not be empty.
  explicit ProgramOptions(std::vector<std::string> argv) : argv_(std::move(argv)) {}
  std::vector<std::string> argv_;
  /// Working directory of the program; empty: this process's. Relative file names below
  /// are taken relative to it.
  std::string cwd_;
  /// File read as the program's standard input; empty: /dev/null.
  std::string input_file_;
  /// File that receives the program's standard output and error (created or truncated);
  /// empty: /dev/null.
  std::string output_file_;
  /// Variables added to (or replacing those of) this process's environment.
  std::vector<std::pair<std::string, std::string>> env_;

  ProgramOptions& cwd(std::string v) { cwd_ = std::move(v); return *this; }
  ProgramOptions& input_file(std::string v) { input_file_ = std::move(v); return *this; }
  ProgramOptions& output_file(std::string v) { output_file_ = std::move(v); return *this; }
  ProgramOptions& env(std::string name, std::string value) {
    env_.emplace_back(std::move(name), std::move(value));
    return *this;
  }
};

/// Runs the program to its end and returns its exit status (0..255), or 128 + the signal
/// number when a signal ended it. Throws, naming the program and the reason, when it
/// cannot be started (not found, not executable, a directory or file that cannot be opened).
int run_program(const ProgramOptions& options);

}  // namespace snn::io
