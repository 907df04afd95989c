#pragma once
// Reading values out of responses for checks and captures: JSONPath (a subset,
// compiled to a JSON pointer when the scenario is compiled), regular expressions
// (RE2) and header fields. The compiler validates with the same code the engine
// runs, so a path or pattern that compiles is one the engine can evaluate.
//
// JSON is read with simdjson's on-demand API: it finds a value without building
// a tree of the whole document, several times faster than nlohmann-json's DOM
// parse on typical API responses (docs/scenario.md, "Why simdjson").
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"
#include "common/scenario/plan.h"

namespace herd::scenario {

// "$.user.id", "$.items[0].name", "$['odd key']" → "/user/id", "/items/0/name",
// "/odd key". Wildcards, filters, slices and recursive descent are errors.
Result<std::string> jsonPathToPointer(std::string_view path);

// Validates an RE2 pattern; `groups` receives its number of capture groups.
Status checkRegex(std::string_view pattern, int& groups);

// The value of header `name` (case-insensitive; the first field of that name) in
// `headers`, the header block as the engine keeps it: "Name: value\n" per field.
std::optional<std::string_view> headerValue(std::string_view headers, std::string_view name);

// Calls `fn(value)` for every field named `name` (case-insensitive) in `headers`,
// in order, until it returns false.
template <typename Fn>
void forEachHeader(std::string_view headers, std::string_view name, Fn&& fn);

bool headerNameIs(std::string_view line, std::string_view name, std::string_view& value);

template <typename Fn>
void forEachHeader(std::string_view headers, std::string_view name, Fn&& fn) {
  size_t pos = 0;
  while (pos < headers.size()) {
    size_t end = headers.find('\n', pos);
    if (end == std::string_view::npos) end = headers.size();
    std::string_view value;
    if (headerNameIs(headers.substr(pos, end - pos), name, value) && !fn(value)) return;
    pos = end + 1;
  }
}

// One per worker thread (not thread-safe): the JSON parser with its buffers and
// the plan's patterns, compiled once.
class ResponseReader {
 public:
  explicit ResponseReader(const Plan& plan);
  ~ResponseReader();
  ResponseReader(const ResponseReader&) = delete;
  ResponseReader& operator=(const ResponseReader&) = delete;

  // Starts reading a new response body (copied once into a padded buffer when
  // a JSON value is first asked for).
  void reset(std::string_view body);
  // The value at `pointer` as text: a string unescaped, a number, true, false or
  // null as written, an object or array as its JSON text. nullopt when the body
  // is not JSON or has no such value. Valid until the next call.
  std::optional<std::string_view> json(const std::string& pointer);
  // Group `group` of the first match of pattern `regex` in the body.
  std::optional<std::string_view> regex(size_t regex, int group);
  // The index regex() takes for `pattern`: a plan's pattern, or one compiled on
  // first use and kept (a C++ class's user.capture()). `groups` receives its
  // number of capture groups. An invalid pattern is an Error.
  Result<size_t> pattern(std::string_view pattern, int& groups);

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace herd::scenario
