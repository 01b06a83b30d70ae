// snn: the command-line tool of snn.cpp. Thin: parses, calls the library, prints.
#include <CLI/CLI.hpp>

#include <exception>
#include <iostream>

#include "snn/version.h"

int main(int argc, char** argv) {
  CLI::App app{"snn: train and evaluate spiking neural networks (snn.cpp)", "snn"};
  app.set_version_flag("-V,--version", std::string("snn ") + snn::version());
  app.require_subcommand(0);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    // CLI11 exits 0 for --help/--version and 106+ for usage errors; usage errors exit 2.
    const int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  try {
    if (argc == 1) {
      std::cout << app.help();
    }
  } catch (const std::exception& e) {
    std::cerr << "snn: error: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
