#pragma once
// The text form `Name(key=value, ...)` shared by neuron specifications and by event
// transforms, representations and slicers.
// Parsing into a Value tree, reading typed arguments from a call, and canonical printing.
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace snn::spec {

struct Kwarg;

struct Value {
  enum class Kind { Number, Bool, None, String, Tuple, List, Call };
  Kind kind = Kind::None;
  size_t pos = 0;    // offset in the text, for messages
  std::string text;  // the number's token, the string's contents, or the call's name
  bool integral = false;
  int64_t integer = 0;
  double number = 0;
  bool boolean = false;
  std::vector<Value> items;                           // tuple / list / positional args
  std::vector<Kwarg> kwargs;                          // call
};

// A keyword argument (a named struct rather than std::pair, whose member of the incomplete
// type Value clang's libstdc++ checks reject).
struct Kwarg {
  std::string first;
  Value second;
};

/// Parses one call `Name(...)` spanning the whole text; `what` names the caller in errors.
Value parse(const std::string& text, const char* what);

/// Typed access to a call's keyword arguments; finish() rejects any not read.
class Args {
 public:
  Args(const Value& call, const char* what);
  const std::string& name() const { return call_.text; }
  bool has(const std::string& key) const;
  double real(const std::string& key, std::optional<double> fallback = std::nullopt);
  int64_t integer(const std::string& key, std::optional<int64_t> fallback = std::nullopt);
  bool boolean(const std::string& key, std::optional<bool> fallback = std::nullopt);
  /// A quoted string that must be one of `allowed`.
  std::string choice(const std::string& key, const std::vector<std::string>& allowed,
                     std::optional<std::string> fallback = std::nullopt);
  std::optional<double> optional_real(const std::string& key);
  std::optional<int64_t> optional_integer(const std::string& key);
  std::optional<std::pair<double, double>> optional_real_pair(const std::string& key);
  std::optional<std::pair<int64_t, int64_t>> optional_integer_pair(const std::string& key);
  std::vector<std::pair<int64_t, int64_t>> integer_pairs(const std::string& key);
  std::vector<int64_t> integers(const std::string& key);
  std::vector<double> reals(const std::string& key);
  /// The call `key=Name(...)`; nullptr when `key` is absent.
  const Value* optional_call(const std::string& key);
  /// The list of calls of `key`, or the call's single positional argument.
  std::vector<Value> calls(const std::string& key);
  void finish();

 private:
  const Value* find(const std::string& key);
  const Value& require(const std::string& key);
  [[noreturn]] void fail(const Value& v, const std::string& key, const std::string& expected);

  const Value& call_;
  const char* what_;
  std::vector<std::string> used_;
};

// Canonical printing.
std::string format(double v);
std::string format(int64_t v);
std::string format(bool v);
/// A string, double-quoted (strings hold no quotes or backslashes).
std::string format(const std::string& v);
inline std::string format(int v) {
  return format(static_cast<int64_t>(v));
}
template <typename T>
std::string format(const std::optional<T>& v);
template <typename A, typename B>
std::string format(const std::pair<A, B>& v);
template <typename T>
std::string format(const std::vector<T>& v);
template <typename T>
std::string format(const std::optional<T>& v) {
  return v ? format(*v) : std::string("none");
}
template <typename A, typename B>
std::string format(const std::pair<A, B>& v) {
  return "(" + format(v.first) + ", " + format(v.second) + ")";
}
template <typename T>
std::string format(const std::vector<T>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) s += (i ? ", " : "") + format(v[i]);
  return s + "]";
}

/// Builds "Name(k1=v1, k2=v2)".
class Repr {
 public:
  explicit Repr(std::string name) : s_(std::move(name) + "(") {}
  template <typename T>
  Repr& arg(const char* key, const T& v) {
    s_ += (first_ ? "" : ", ") + std::string(key) + "=" + format(v);
    first_ = false;
    return *this;
  }
  std::string str() const { return s_ + ")"; }

 private:
  std::string s_;
  bool first_ = true;
};

}  // namespace snn::spec
