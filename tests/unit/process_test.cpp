// snn::io::run_program: arguments, directories and files with any characters reach the
// program as data; nothing is interpreted by a shell.
#include <gtest/gtest.h>

#include <c10/util/Exception.h>

#include <filesystem>
#include <fstream>
#include <iterator>
#include <string>

#include "snn/io/files.h"
#include "snn/io/process.h"
#include "test_util.h"

namespace fs = std::filesystem;
using snn::io::ProgramOptions;
using snn::io::run_program;

namespace {

std::string read(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  return {std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
}

// Names a shell would act on: quotes, substitutions, separators, a newline, a leading '-'.
const char* const kHostileNames[] = {"a b", "it's", "say \"hi\"", "$(touch pwned)",
                                     "`touch pwned`", "x; touch pwned", "line\nbreak",
                                     "-rf", "über∑"};

}  // namespace

TEST(ProcessTest, ArgumentsArriveVerbatimAndNothingIsExecuted) {
  snn::test::TempDir tmp("process");
  for (const std::string name : kHostileNames) {
    const fs::path dir = tmp.path() / name;
    fs::create_directories(dir);
    // printf prints its arguments as given: %s of each.
    const int rc = run_program(ProgramOptions({"printf", "[%s]", name, "--", "'"})
                                   .cwd(dir.string())
                                   .output_file("out.txt"));
    EXPECT_EQ(rc, 0) << name;
    EXPECT_EQ(read(dir / "out.txt"), "[" + name + "][--][']") << name;
    EXPECT_FALSE(fs::exists(dir / "pwned")) << name;
    EXPECT_FALSE(fs::exists("pwned")) << name;
  }
}

TEST(ProcessTest, StandardInputEnvironmentAndExitStatus) {
  snn::test::TempDir tmp("process");
  const fs::path dir = tmp.path() / "it's $(here)";
  fs::create_directories(dir);
  std::ofstream(dir / "in.txt") << "from the file\n";
  EXPECT_EQ(run_program(ProgramOptions({"cat"}).cwd(dir.string()).input_file("in.txt")
                            .output_file("copy.txt")),
            0);
  EXPECT_EQ(read(dir / "copy.txt"), "from the file\n");
  EXPECT_EQ(run_program(ProgramOptions({"printenv", "SNN_PROCESS_TEST"})
                            .env("SNN_PROCESS_TEST", "a'b $(c)")
                            .output_file((dir / "env.txt").string())),
            0);
  EXPECT_EQ(read(dir / "env.txt"), "a'b $(c)\n");
  EXPECT_EQ(run_program(ProgramOptions({"false"})), 1);
}

TEST(ProcessTest, FailuresToStartAreNamed) {
  try {
    run_program(ProgramOptions({"snn-no-such-program"}));
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot start snn-no-such-program"), std::string::npos)
        << e.what();
  }
  try {
    run_program(ProgramOptions({"true"}).cwd("/no/such/dir"));
    FAIL() << "expected an error";
  } catch (const c10::Error& e) {
    EXPECT_NE(std::string(e.what()).find("cannot start true"), std::string::npos) << e.what();
  }
  EXPECT_THROW(run_program(ProgramOptions({})), c10::Error);
}

TEST(FilesTest, WholeFilesWrittenAtomicallyAndReadBack) {
  snn::test::TempDir dir("snn_files");
  const auto path = (dir / "a b.bin").string();
  const std::string bytes("one\0two\nthree", 13);
  snn::io::write_file_atomically(path, bytes);
  EXPECT_EQ(snn::io::read_file(path), bytes);
  snn::io::write_file_atomically(path, "");
  EXPECT_EQ(snn::io::read_file(path), "");
  EXPECT_THROW_WITH(snn::io::read_file((dir / "missing").string()), "cannot open");
  EXPECT_THROW_WITH(snn::io::read_file((dir / "missing").string()), "missing");
}
