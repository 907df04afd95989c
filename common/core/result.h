#pragma once
// herd's one error strategy for control-plane code: functions return
// Result<T>, a value or an Error with context. (std::expected would do, but the
// clang 14 that builds our fuzzers cannot compile libstdc++'s <expected>, so this
// is the small subset we use.) The engine's hot path never builds Errors: it counts
// ErrorKind values into stats instead (agent/engine).
#include <cassert>
#include <string>
#include <utility>
#include <variant>

namespace herd {

// What went wrong, for a person: `where` names the place (file:line:col and the
// field path, a flag, a URL), `message` says what is wrong there.
struct Error {
  std::string message;
  std::string where;

  std::string describe() const { return where.empty() ? message : where + ": " + message; }
};

// E is Error for nearly everything; the Kubernetes client carries its own error
// type (with the HTTP status) through the same class.
template <typename T, typename E = Error>
class [[nodiscard]] Result {
 public:
  Result(T value) : v_(std::in_place_index<0>, std::move(value)) {}  // NOLINT: implicit by design
  Result(E error) : v_(std::in_place_index<1>, std::move(error)) {}  // NOLINT

  bool ok() const { return v_.index() == 0; }
  explicit operator bool() const { return ok(); }

  T& value() & {
    assert(ok());
    return std::get<0>(v_);
  }
  const T& value() const& {
    assert(ok());
    return std::get<0>(v_);
  }
  T&& value() && {
    assert(ok());
    return std::get<0>(std::move(v_));
  }
  T& operator*() & { return value(); }
  const T& operator*() const& { return value(); }
  T* operator->() { return &value(); }
  const T* operator->() const { return &value(); }

  const E& error() const {
    assert(!ok());
    return std::get<1>(v_);
  }

 private:
  std::variant<T, E> v_;
};

// Result<void>: success or an Error.
struct Ok {};
using Status = Result<Ok>;

}  // namespace herd
