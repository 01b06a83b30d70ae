// Programs started with posix_spawn: an argument vector, file actions for the working
// directory and the standard streams; no shell anywhere.
#include "snn/io/process.h"

#include <c10/util/Exception.h>
#include <fcntl.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <map>

extern char** environ;

namespace snn::io {
namespace {

// posix_spawn's file actions, freed on every path.
struct FileActions {
  posix_spawn_file_actions_t a;
  FileActions() { posix_spawn_file_actions_init(&a); }
  ~FileActions() { posix_spawn_file_actions_destroy(&a); }
};

}  // namespace

int run_program(const ProgramOptions& o) {
  TORCH_CHECK(!o.argv_.empty() && !o.argv_[0].empty(),
              "snn::io::run_program: expected a program name, got an empty argument vector");
  const std::string& program = o.argv_[0];
  FileActions fa;
  // The order matters: the directory first, so that relative names below are inside it.
  if (!o.cwd_.empty()) {
    TORCH_CHECK(posix_spawn_file_actions_addchdir_np(&fa.a, o.cwd_.c_str()) == 0,
                "snn::io::run_program: cannot set the working directory of ", program);
  }
  const std::string in = o.input_file_.empty() ? "/dev/null" : o.input_file_;
  const std::string out = o.output_file_.empty() ? "/dev/null" : o.output_file_;
  posix_spawn_file_actions_addopen(&fa.a, STDIN_FILENO, in.c_str(), O_RDONLY, 0);
  posix_spawn_file_actions_addopen(&fa.a, STDOUT_FILENO, out.c_str(),
                                   O_WRONLY | O_CREAT | O_TRUNC, 0644);
  posix_spawn_file_actions_adddup2(&fa.a, STDOUT_FILENO, STDERR_FILENO);

  std::vector<char*> argv;
  for (const auto& a : o.argv_) argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  // The environment: this process's, with the given variables set.
  std::map<std::string, std::string> vars;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) {
    const std::string kv(*e);
    const auto eq = kv.find('=');
    if (eq != std::string::npos) vars[kv.substr(0, eq)] = kv.substr(eq + 1);
  }
  for (const auto& [k, v] : o.env_) {
    TORCH_CHECK(!k.empty() && k.find('=') == std::string::npos,
                "snn::io::run_program: bad environment variable name '", k, "'");
    vars[k] = v;
  }
  std::vector<std::string> env_text;
  for (const auto& [k, v] : vars) env_text.push_back(k + "=" + v);
  std::vector<char*> envp;
  for (auto& s : env_text) envp.push_back(s.data());
  envp.push_back(nullptr);

  pid_t pid = 0;
  const int rc = posix_spawnp(&pid, program.c_str(), &fa.a, nullptr, argv.data(), envp.data());
  TORCH_CHECK(rc == 0, "snn::io::run_program: cannot start ", program, ": ", std::strerror(rc),
              rc == ENOENT ? " (not found on PATH, or the working directory, input or output "
                             "file does not exist)"
                           : "");
  int status = 0;
  while (waitpid(pid, &status, 0) < 0) {
    TORCH_CHECK(errno == EINTR, "snn::io::run_program: waiting for ", program, " failed: ",
                std::strerror(errno));
  }
  if (WIFEXITED(status)) return WEXITSTATUS(status);
  return 128 + (WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

}  // namespace snn::io
