#pragma once
// Helpers shared by the unit tests.
#include <c10/util/Exception.h>

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

}  // namespace snn::test

/// Expects `stmt` to throw a c10::Error whose message contains `text`.
#define EXPECT_THROW_WITH(stmt, text)                                                \
  do {                                                                               \
    const std::string msg_ = ::snn::test::error_of([&] { (void)(stmt); });           \
    EXPECT_NE(msg_.find(text), std::string::npos)                                    \
        << "expected a message containing '" << (text) << "', got '" << msg_ << "'"; \
  } while (0)
