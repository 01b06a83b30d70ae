#pragma once
// Helpers shared by the unit tests.
#include <c10/util/Exception.h>
#include <unistd.h>

#include <filesystem>
#include <functional>
#include <string>

namespace snn::test {

/// The message (without backtrace) of the c10::Error that f throws, or "no error".
inline std::string error_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const c10::Error& e) {
    return e.what_without_backtrace();
  }
  return "no error";
}

/// A directory of its own under the system's temporary directory (prefix and process id),
/// made empty when created and removed with its contents when the object goes.
class TempDir {
 public:
  explicit TempDir(const std::string& prefix)
      : path_(std::filesystem::temp_directory_path() /
              (prefix + "_" + std::to_string(::getpid()))) {
    std::filesystem::remove_all(path_);
    std::filesystem::create_directories(path_);
  }
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const std::filesystem::path& path() const { return path_; }
  std::string str() const { return path_.string(); }
  /// `name` inside the directory.
  std::filesystem::path operator/(const std::string& name) const { return path_ / name; }

 private:
  std::filesystem::path path_;
};

}  // namespace snn::test

/// Expects `stmt` to throw a c10::Error whose message contains `text`.
#define EXPECT_THROW_WITH(stmt, text)                                                \
  do {                                                                               \
    const std::string msg_ = ::snn::test::error_of([&] { (void)(stmt); });           \
    EXPECT_NE(msg_.find(text), std::string::npos)                                    \
        << "expected a message containing '" << (text) << "', got '" << msg_ << "'"; \
  } while (0)
