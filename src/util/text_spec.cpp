#include "util/text_spec.h"

#include <c10/util/Exception.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>

namespace snn::spec {
namespace {

class Parser {
 public:
  Parser(const std::string& text, const char* what) : s_(text), what_(what) {}

  Value parse_all() {
    skip();
    Value v = value();
    skip();
    if (i_ != s_.size()) error("unexpected '" + s_.substr(i_, 10) + "' after the end");
    TORCH_CHECK(v.kind == Value::Kind::Call, what_, ": expected Name(...), got '", s_, "'");
    return v;
  }

 private:
  [[noreturn]] void error(const std::string& msg) const {
    TORCH_CHECK(false, what_, ": cannot parse '", s_, "' at position ", i_, ": ", msg);
    std::abort();  // unreachable
  }
  void skip() {
    while (i_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[i_]))) ++i_;
  }
  bool eat(char c) {
    skip();
    if (i_ < s_.size() && s_[i_] == c) {
      ++i_;
      return true;
    }
    return false;
  }
  void expect(char c) {
    if (!eat(c)) {
      error(std::string("expected '") + c + "'" +
            (i_ < s_.size() ? ", found '" + std::string(1, s_[i_]) + "'" : ", found the end"));
    }
  }
  std::string identifier() {
    const size_t b = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '_')) {
      ++i_;
    }
    return s_.substr(b, i_ - b);
  }

  Value value() {
    // Nesting is bounded: a text of many '(' must be an error, not a stack overflow.
    struct Depth {
      int& d;
      explicit Depth(int& depth) : d(++depth) {}
      ~Depth() { --d; }
    } depth(depth_);
    if (depth_ > kMaxDepth) error("nested deeper than " + std::to_string(kMaxDepth) + " levels");
    skip();
    Value v;
    v.pos = i_;
    if (i_ >= s_.size()) error("expected a value, found the end");
    const char c = s_[i_];
    if (c == '(' || c == '[') {
      ++i_;
      v.kind = c == '(' ? Value::Kind::Tuple : Value::Kind::List;
      const char close = c == '(' ? ')' : ']';
      if (!eat(close)) {
        do {
          v.items.push_back(value());
        } while (eat(','));
        expect(close);
      }
      return v;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '+' || c == '.') {
      return number();
    }
    if (c == '"' || c == '\'') {
      const size_t close = s_.find(c, i_ + 1);
      if (close == std::string::npos) error(std::string("unterminated string, expected ") + c);
      v.kind = Value::Kind::String;
      v.text = s_.substr(i_ + 1, close - i_ - 1);
      if (v.text.find('\\') != std::string::npos) error("backslashes are not allowed in strings");
      i_ = close + 1;
      return v;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_') {
      const std::string id = identifier();
      if (id == "true" || id == "True" || id == "false" || id == "False") {
        v.kind = Value::Kind::Bool;
        v.boolean = id[0] == 't' || id[0] == 'T';
        return v;
      }
      if (id == "none" || id == "None") return v;
      if (id == "inf" || id == "nan") error("non-finite numbers are not allowed");
      if (!eat('('))
        error("expected '(' after '" + id +
              "' (a value is a number, true, false, none, (...), [...] or Name(...))");
      v.kind = Value::Kind::Call;
      v.text = id;
      if (eat(')')) return v;
      do {
        skip();
        const size_t save = i_;
        const std::string key = identifier();
        if (!key.empty() && eat('=')) {
          for (const auto& kv : v.kwargs) {
            if (kv.first == key) error("parameter '" + key + "' given twice");
          }
          v.kwargs.push_back(Kwarg{key, value()});
        } else {
          i_ = save;
          if (!v.kwargs.empty()) error("positional argument after keyword arguments");
          v.items.push_back(value());
        }
      } while (eat(','));
      expect(')');
      return v;
    }
    error(std::string("unexpected '") + c + "'");
  }

  Value number() {
    Value v;
    v.kind = Value::Kind::Number;
    v.pos = i_;
    const size_t b = i_;
    while (i_ < s_.size() && (std::isalnum(static_cast<unsigned char>(s_[i_])) || s_[i_] == '.' ||
                              s_[i_] == '-' || s_[i_] == '+')) {
      // A sign only at the start or after an exponent.
      if ((s_[i_] == '-' || s_[i_] == '+') && i_ > b && s_[i_ - 1] != 'e' && s_[i_ - 1] != 'E') {
        break;
      }
      ++i_;
    }
    v.text = s_.substr(b, i_ - b);
    const char* first = v.text.data() + (v.text[0] == '+' ? 1 : 0);
    const char* last = v.text.data() + v.text.size();
    int64_t n = 0;
    auto r = std::from_chars(first, last, n);
    if (r.ec == std::errc() && r.ptr == last) {
      v.integral = true;
      v.integer = n;
      v.number = static_cast<double>(n);
      return v;
    }
    double d = 0;
    auto rd = std::from_chars(first, last, d);
    if (rd.ec != std::errc() || rd.ptr != last || !std::isfinite(d)) {
      i_ = b;
      error("bad number '" + v.text + "'");
    }
    v.number = d;
    // An integer written as a real (e.g. 1e3) still counts as an integer if exact.
    if (d == std::trunc(d) && std::fabs(d) < 9.0e15) {
      v.integral = true;
      v.integer = static_cast<int64_t>(d);
    }
    return v;
  }

  const std::string& s_;
  const char* what_;
  size_t i_ = 0;
  static constexpr int kMaxDepth = 64;
  int depth_ = 0;
};

const char* kind_name(Value::Kind k) {
  switch (k) {
    case Value::Kind::Number:
      return "a number";
    case Value::Kind::Bool:
      return "a boolean";
    case Value::Kind::None:
      return "none";
    case Value::Kind::String:
      return "a string";
    case Value::Kind::Tuple:
      return "a tuple";
    case Value::Kind::List:
      return "a list";
    case Value::Kind::Call:
      return "a call";
  }
  return "?";
}

}  // namespace

Value parse(const std::string& text, const char* what) {
  return Parser(text, what).parse_all();
}

Args::Args(const Value& call, const char* what) : call_(call), what_(what) {
  if (call_.text != "Compose") {
    TORCH_CHECK(call_.items.empty(), what_, ": ", call_.text,
                " takes keyword arguments only (key=value), got a positional one at position ",
                call_.items.empty() ? 0 : call_.items[0].pos);
  }
}

bool Args::has(const std::string& key) const {
  return std::any_of(call_.kwargs.begin(), call_.kwargs.end(),
                     [&](const auto& kv) { return kv.first == key; });
}

const Value* Args::find(const std::string& key) {
  for (const auto& kv : call_.kwargs) {
    if (kv.first == key) {
      used_.push_back(key);
      return &kv.second;
    }
  }
  return nullptr;
}

const Value& Args::require(const std::string& key) {
  const Value* v = find(key);
  TORCH_CHECK(v != nullptr, what_, ": ", call_.text, " needs the parameter '", key, "'");
  return *v;
}

void Args::fail(const Value& v, const std::string& key, const std::string& expected) {
  TORCH_CHECK(false, what_, ": ", call_.text, "(", key, "=...) expects ", expected, ", got ",
              v.kind == Value::Kind::Number ? "'" + v.text + "'" : std::string(kind_name(v.kind)),
              " at position ", v.pos);
  std::abort();
}

namespace {
bool is_number(const Value& v) {
  return v.kind == Value::Kind::Number;
}
bool is_int(const Value& v) {
  return v.kind == Value::Kind::Number && v.integral;
}
bool is_seq(const Value& v) {
  return v.kind == Value::Kind::Tuple || v.kind == Value::Kind::List;
}
}  // namespace

double Args::real(const std::string& key, std::optional<double> fallback) {
  if (fallback && !has(key)) return *fallback;
  const Value& v = require(key);
  if (!is_number(v)) fail(v, key, "a number");
  return v.number;
}

int64_t Args::integer(const std::string& key, std::optional<int64_t> fallback) {
  if (fallback && !has(key)) return *fallback;
  const Value& v = require(key);
  if (!is_int(v)) fail(v, key, "an integer");
  return v.integer;
}

bool Args::boolean(const std::string& key, std::optional<bool> fallback) {
  if (fallback && !has(key)) return *fallback;
  const Value& v = require(key);
  if (v.kind != Value::Kind::Bool) fail(v, key, "true or false");
  return v.boolean;
}

std::string Args::choice(const std::string& key, const std::vector<std::string>& allowed,
                         std::optional<std::string> fallback) {
  std::string expected = "one of";
  for (size_t i = 0; i < allowed.size(); ++i) expected += (i ? ", \"" : " \"") + allowed[i] + "\"";
  if (fallback && !has(key)) return *fallback;
  const Value& v = require(key);
  if (v.kind != Value::Kind::String) fail(v, key, expected);
  if (std::find(allowed.begin(), allowed.end(), v.text) == allowed.end()) {
    TORCH_CHECK(false, what_, ": ", call_.text, "(", key, "=...) expects ", expected, ", got \"",
                v.text, "\" at position ", v.pos);
  }
  return v.text;
}

std::optional<double> Args::optional_real(const std::string& key) {
  const Value* v = find(key);
  if (v == nullptr || v->kind == Value::Kind::None) return std::nullopt;
  if (!is_number(*v)) fail(*v, key, "a number or none");
  return v->number;
}

std::optional<int64_t> Args::optional_integer(const std::string& key) {
  const Value* v = find(key);
  if (v == nullptr || v->kind == Value::Kind::None) return std::nullopt;
  if (!is_int(*v)) fail(*v, key, "an integer or none");
  return v->integer;
}

std::optional<std::pair<double, double>> Args::optional_real_pair(const std::string& key) {
  const Value* v = find(key);
  if (v == nullptr || v->kind == Value::Kind::None) return std::nullopt;
  if (is_number(*v)) return std::pair{v->number, v->number};  // one factor for both axes
  if (!is_seq(*v) || v->items.size() != 2 || !is_number(v->items[0]) || !is_number(v->items[1])) {
    fail(*v, key, "a pair of numbers (a, b)");
  }
  return std::pair{v->items[0].number, v->items[1].number};
}

std::optional<std::pair<int64_t, int64_t>> Args::optional_integer_pair(const std::string& key) {
  const Value* v = find(key);
  if (v == nullptr || v->kind == Value::Kind::None) return std::nullopt;
  if (is_int(*v)) return std::pair{v->integer, v->integer};  // one value for both
  if (!is_seq(*v) || v->items.size() != 2 || !is_int(v->items[0]) || !is_int(v->items[1])) {
    fail(*v, key, "a pair of integers (a, b)");
  }
  return std::pair{v->items[0].integer, v->items[1].integer};
}

std::vector<std::pair<int64_t, int64_t>> Args::integer_pairs(const std::string& key) {
  const Value* v = find(key);
  std::vector<std::pair<int64_t, int64_t>> out;
  if (v == nullptr) return out;
  if (!is_seq(*v)) fail(*v, key, "a list of pairs of integers [(x, y), ...]");
  for (const auto& item : v->items) {
    if (!is_seq(item) || item.items.size() != 2 || !is_int(item.items[0]) ||
        !is_int(item.items[1])) {
      fail(item, key, "a list of pairs of integers [(x, y), ...]");
    }
    out.emplace_back(item.items[0].integer, item.items[1].integer);
  }
  return out;
}

std::vector<int64_t> Args::integers(const std::string& key) {
  const Value& v = require(key);
  if (!is_seq(v)) fail(v, key, "a list of integers");
  std::vector<int64_t> out;
  for (const auto& item : v.items) {
    if (!is_int(item)) fail(item, key, "a list of integers");
    out.push_back(item.integer);
  }
  return out;
}

std::vector<double> Args::reals(const std::string& key) {
  const Value& v = require(key);
  if (!is_seq(v)) fail(v, key, "a list of numbers");
  std::vector<double> out;
  for (const auto& item : v.items) {
    if (!is_number(item)) fail(item, key, "a list of numbers");
    out.push_back(item.number);
  }
  return out;
}

const Value* Args::optional_call(const std::string& key) {
  const Value* v = find(key);
  if (v != nullptr && v->kind != Value::Kind::Call) fail(*v, key, "Name(...)");
  return v;
}

std::vector<Value> Args::calls(const std::string& key) {
  const Value* v = find(key);
  if (v == nullptr) {
    TORCH_CHECK(call_.items.size() <= 1, what_, ": ", call_.text,
                " takes one list of transforms, got ", call_.items.size(), " arguments");
    TORCH_CHECK(call_.items.size() == 1, what_, ": ", call_.text, " needs a list of transforms");
    v = &call_.items[0];
  } else {
    TORCH_CHECK(call_.items.empty(), what_, ": ", call_.text,
                " got both positional and keyword transforms");
  }
  if (!is_seq(*v)) fail(*v, key, "a list of transforms [A(...), B(...)]");
  for (const auto& item : v->items) {
    if (item.kind != Value::Kind::Call) fail(item, key, "a list of transforms [A(...), B(...)]");
  }
  return v->items;
}

void Args::finish() {
  for (const auto& kv : call_.kwargs) {
    TORCH_CHECK(std::find(used_.begin(), used_.end(), kv.first) != used_.end(), what_, ": ",
                call_.text, " has no parameter '", kv.first, "'");
  }
}

std::string format(double v) {
  TORCH_CHECK(std::isfinite(v), "snn: cannot write the non-finite number ", v);
  char buf[64];
  auto r = std::to_chars(buf, buf + sizeof buf, v);  // shortest form that reads back exactly
  std::string s(buf, r.ptr);
  if (s == "-0") s = "0";
  return s;
}
std::string format(int64_t v) {
  return std::to_string(v);
}
std::string format(bool v) {
  return v ? "true" : "false";
}
std::string format(const std::string& v) {
  TORCH_CHECK(v.find('"') == std::string::npos && v.find('\\') == std::string::npos,
              "snn: cannot write a string holding a quote or backslash: ", v);
  return "\"" + v + "\"";
}

}  // namespace snn::spec
