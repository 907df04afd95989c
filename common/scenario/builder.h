#pragma once
// Internal to the scenario compiler: the state shared while one Plan is built, and
// the parsers each file of the compiler contributes.
#include <map>
#include <string>
#include <utility>
#include <vector>

#include "common/scenario/plan.h"
#include "common/scenario/yaml_field.h"

namespace herd::scenario::detail {

constexpr Duration kDefaultTimeout = std::chrono::seconds(10);
constexpr size_t kMaxClasses = 1000;  // the engine numbers classes with uint16_t

struct Builder {
  Context context;
  Plan plan;
  // From `defaults:`, merged into every request.
  Duration default_timeout = kDefaultTimeout;
  std::vector<Header> default_headers;

  // Index of the endpoint (name, method), numbered in order of first use.
  size_t endpoint(const std::string& name, const std::string& method);
  // Index of `origin` in plan.origins, added on first use.
  size_t origin(const Origin& origin);

 private:
  std::map<std::pair<std::string, std::string>, size_t> endpoint_index_;
};

// users.cc: the `users:` list.
Result<std::vector<UserClass>> parseUsers(Builder& builder, const Field& field);

// steps.cc: a list of steps; `allow_empty` for onStart, which may do nothing.
Result<std::vector<Step>> parseSteps(Builder& builder, const Field& field, bool allow_empty);

// request.cc: one request; `method` is upper case, or empty for `request:` (which
// names it inside); `name` is the step's sibling `name:` if any.
Result<RequestStep> parseRequest(Builder& builder, std::string method, const Field& value,
                                 const Field* name);
// request.cc: a headers map (`defaults.headers` or a request's).
Result<std::vector<Header>> parseHeaders(Builder& builder, const Field& field);

// json_body.cc: any YAML value as a JSON text template.
Result<Template> parseJsonBody(Context& context, const Field& field);

// thresholds.cc: the `thresholds:` list.
Result<std::vector<ThresholdSpec>> parseThresholds(Context& context, const Field& field);

}  // namespace herd::scenario::detail
