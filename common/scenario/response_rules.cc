// What a request does with its response: checks, captures and retries.
#include <algorithm>

#include "common/scenario/builder.h"
#include "common/scenario/compiler.h"
#include "common/scenario/extract.h"
#include "common/scenario/text.h"

namespace herd::scenario::detail {

namespace {

Result<int> readStatus(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const int64_t status, readInteger(context, field, 100));
  if (status > 599) return errorAt(context, field, "an HTTP status is 100-599, got " + std::to_string(status));
  return static_cast<int>(status);
}

Status parseStatusCheck(Builder& builder, const Field& field, std::vector<Check>& checks) {
  Check check;
  check.kind = Check::Kind::kStatus;
  std::vector<Field> items{field};
  if (field.node.IsSequence()) {
    SCENARIO_ASSIGN_OR_RETURN(items, readList(builder.context, field));
    if (items.empty()) return errorAt(builder.context, field, "needs at least one status");
  }
  std::string description = "status in";
  for (const Field& item : items) {
    SCENARIO_ASSIGN_OR_RETURN(const int status, readStatus(builder.context, item));
    check.statuses.push_back(status);
    description += " " + std::to_string(status);
  }
  check.id = builder.check(description);
  checks.push_back(std::move(check));
  return Ok{};
}

// `{name: expected}` maps of header and jsonPath checks; a null value only asks
// that the header or value exists.
Status parseEqualsChecks(Builder& builder, const Field& field, Check::Kind kind, std::vector<Check>& checks) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readAnyMap(context, field));
  if (map.entries().empty()) return errorAt(context, field, "needs at least one entry");
  for (const auto& entry : map.entries()) {
    Check check;
    check.kind = kind;
    check.name = entry.first;
    if (kind == Check::Kind::kHeader && !isToken(entry.first)) {
      return errorAt(context, entry.second.atKey(), "invalid header name " + quote(entry.first));
    }
    if (kind == Check::Kind::kJsonPath) {
      auto pointer = jsonPathToPointer(entry.first);
      if (!pointer) return errorAt(context, entry.second.atKey(), pointer.error().message);
      check.pointer = std::move(*pointer);
    }
    std::string description = (kind == Check::Kind::kHeader ? "header " : "jsonPath ") + entry.first;
    if (!entry.second.node.IsNull()) {
      SCENARIO_ASSIGN_OR_RETURN(check.expected, readTemplate(context, entry.second));
      description += " == " + entry.second.node.Scalar();
    } else {
      description += " exists";
    }
    check.id = builder.check(description);
    checks.push_back(std::move(check));
  }
  return Ok{};
}

Status parseBodyContains(Builder& builder, const Field& field, std::vector<Check>& checks) {
  std::vector<Field> items{field};
  if (field.node.IsSequence()) {
    SCENARIO_ASSIGN_OR_RETURN(items, readList(builder.context, field));
  }
  for (const Field& item : items) {
    Check check;
    check.kind = Check::Kind::kBodyContains;
    SCENARIO_ASSIGN_OR_RETURN(check.text, readTemplate(builder.context, item));
    if (check.text.parts.empty()) return errorAt(builder.context, item, "cannot be empty");
    check.id = builder.check("body contains " + quote(item.node.Scalar()));
    checks.push_back(std::move(check));
  }
  return Ok{};
}

Status parseCapture(Builder& builder, const std::string& name, const Field& field, std::vector<Capture>& captures) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const MapView map,
                            readMap(context, field, {"jsonPath", "regex", "group", "header", "cookie"}));
  Capture capture;
  SCENARIO_ASSIGN_OR_RETURN(capture.variable, writeVariable(context, field.atKey(), name));
  const Field* source = nullptr;
  for (const auto& entry : map.entries()) {
    if (entry.first == "group") continue;
    if (source != nullptr) {
      return errorAt(context, entry.second.atKey(),
                     "a capture reads one of jsonPath, regex, header or cookie, not several");
    }
    source = &entry.second;
    if (entry.first == "jsonPath") capture.kind = Capture::Kind::kJsonPath;
    if (entry.first == "regex") capture.kind = Capture::Kind::kRegex;
    if (entry.first == "header") capture.kind = Capture::Kind::kHeader;
    if (entry.first == "cookie") capture.kind = Capture::Kind::kCookie;
  }
  if (source == nullptr) return errorAt(context, field, "a capture needs one of jsonPath, regex, header or cookie");
  SCENARIO_ASSIGN_OR_RETURN(capture.source, readResolved(context, *source));
  const Field* group = map.find("group");
  if (group != nullptr && capture.kind != Capture::Kind::kRegex) {
    return errorAt(context, group->atKey(), "group only goes with regex");
  }
  switch (capture.kind) {
    case Capture::Kind::kJsonPath: {
      auto pointer = jsonPathToPointer(capture.source);
      if (!pointer) return errorAt(context, *source, pointer.error().message);
      capture.source = std::move(*pointer);
      break;
    }
    case Capture::Kind::kRegex: {
      int groups = 0;
      if (auto valid = checkRegex(capture.source, groups); !valid)
        return errorAt(context, *source, valid.error().message);
      capture.regex = builder.plan.regexes.size();
      builder.plan.regexes.push_back(capture.source);
      if (group != nullptr) {
        SCENARIO_ASSIGN_OR_RETURN(const int64_t n, readInteger(context, *group, 0));
        if (n > groups) {
          return errorAt(
              context, *group,
              "the pattern has " + std::to_string(groups) + " group(s), asked for group " + std::to_string(n));
        }
        capture.group = static_cast<int>(n);
      } else {
        capture.group = groups > 0 ? 1 : 0;  // the first group when there is one, like most tools
      }
      break;
    }
    case Capture::Kind::kHeader:
      if (!isToken(capture.source)) return errorAt(context, *source, "invalid header name " + quote(capture.source));
      break;
    case Capture::Kind::kCookie:
      if (capture.source.empty() || !isToken(capture.source))
        return errorAt(context, *source, "invalid cookie name " + quote(capture.source));
      break;
  }
  captures.push_back(std::move(capture));
  return Ok{};
}

Result<uint8_t> parseRetryOn(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> items, readList(context, field));
  if (items.empty()) return errorAt(context, field, "needs at least one of connect, timeout, 5xx, 429");
  uint8_t on = 0;
  for (const Field& item : items) {
    SCENARIO_ASSIGN_OR_RETURN(const std::string kind, readString(context, item));
    if (kind == "connect") on |= RetryPolicy::kConnect;
    else if (kind == "timeout") on |= RetryPolicy::kTimeout;
    else if (kind == "5xx") on |= RetryPolicy::k5xx;
    else if (kind == "429") on |= RetryPolicy::k429;
    else
      return errorAt(context, item, "unknown error kind " + quote(kind) + " (expected connect, timeout, 5xx or 429)");
  }
  return on;
}

}  // namespace

Result<RetryPolicy> parseRetry(Builder& builder, const Field& field) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, field, {"on", "attempts", "backoff"}));
  RetryPolicy policy;
  SCENARIO_ASSIGN_OR_RETURN(const Field on,
                            require(context, field, map, "on", "the errors to retry: connect, timeout, 5xx, 429"));
  SCENARIO_ASSIGN_OR_RETURN(policy.on, parseRetryOn(context, on));
  SCENARIO_ASSIGN_OR_RETURN(const Field attempts, require(context, field, map, "attempts", "how many attempts in all"));
  SCENARIO_ASSIGN_OR_RETURN(const int64_t n, readInteger(context, attempts, 1));
  if (n > 100) return errorAt(context, attempts, "at most 100 attempts, got " + std::to_string(n));
  policy.attempts = static_cast<int>(n);
  policy.base = std::chrono::milliseconds(100);
  policy.max = std::chrono::seconds(10);
  if (const Field* backoff = map.find("backoff")) {
    SCENARIO_ASSIGN_OR_RETURN(const MapView times, readMap(context, *backoff, {"base", "max"}));
    if (const Field* base = times.find("base")) {
      SCENARIO_ASSIGN_OR_RETURN(policy.base, readDuration(context, *base, false));
    }
    if (const Field* max = times.find("max")) {
      SCENARIO_ASSIGN_OR_RETURN(policy.max, readDuration(context, *max, false));
    }
    if (policy.base > policy.max) {
      return errorAt(
          context, *backoff,
          "backoff.base " + formatDuration(policy.base) + " is greater than backoff.max " + formatDuration(policy.max));
    }
  }
  return policy;
}

Status parseChecks(Builder& builder, const Field& field, RequestStep& step) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const MapView map,
                            readMap(context, field, {"status", "header", "bodyContains", "jsonPath"}));
  if (map.entries().empty())
    return errorAt(context, field, "needs at least one of status, header, bodyContains, jsonPath");
  if (const Field* status = map.find("status"))
    SCENARIO_RETURN_IF_ERROR(parseStatusCheck(builder, *status, step.checks));
  if (const Field* header = map.find("header")) {
    SCENARIO_RETURN_IF_ERROR(parseEqualsChecks(builder, *header, Check::Kind::kHeader, step.checks));
  }
  if (const Field* body = map.find("bodyContains"))
    SCENARIO_RETURN_IF_ERROR(parseBodyContains(builder, *body, step.checks));
  if (const Field* json = map.find("jsonPath")) {
    SCENARIO_RETURN_IF_ERROR(parseEqualsChecks(builder, *json, Check::Kind::kJsonPath, step.checks));
  }
  return Ok{};
}

Status parseCaptures(Builder& builder, const Field& field, RequestStep& step) {
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readAnyMap(builder.context, field));
  if (map.entries().empty()) return errorAt(builder.context, field, "needs at least one variable");
  for (const auto& entry : map.entries()) {
    SCENARIO_RETURN_IF_ERROR(parseCapture(builder, entry.first, entry.second, step.captures));
  }
  return Ok{};
}

// Which parts of the response the engine must keep for this step.
void markNeeds(RequestStep& step, bool cookies) {
  for (const auto& check : step.checks) {
    step.needs_body = step.needs_body || check.kind == Check::Kind::kBodyContains ||
                      check.kind == Check::Kind::kJsonPath;
    step.needs_headers = step.needs_headers || check.kind == Check::Kind::kHeader;
  }
  for (const auto& capture : step.captures) {
    step.needs_body = step.needs_body || capture.kind == Capture::Kind::kJsonPath ||
                      capture.kind == Capture::Kind::kRegex;
    step.needs_headers = step.needs_headers || capture.kind == Capture::Kind::kHeader ||
                         capture.kind == Capture::Kind::kCookie;
  }
  step.needs_headers = step.needs_headers || cookies;
}

}  // namespace herd::scenario::detail
