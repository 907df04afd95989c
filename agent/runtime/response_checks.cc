#include "agent/runtime/response_checks.h"

#include <algorithm>

namespace herd::runtime {

namespace {

using scenario::Capture;
using scenario::Check;

bool holds(const Check& check, const engine::HttpResponse& response, ResponseContext& context) {
  auto equalsExpected = [&](std::string_view actual) {
    if (!check.expected) return true;
    context.scratch.clear();
    scenario::renderTemplate(*check.expected, context.render, context.scratch);
    return actual == context.scratch;
  };
  switch (check.kind) {
    case Check::Kind::kStatus:
      return std::find(check.statuses.begin(), check.statuses.end(), response.status) != check.statuses.end();
    case Check::Kind::kHeader: {
      const auto value = scenario::headerValue(response.headers, check.name);
      return value && equalsExpected(*value);
    }
    case Check::Kind::kBodyContains:
      context.scratch.clear();
      scenario::renderTemplate(check.text, context.render, context.scratch);
      return response.body.find(context.scratch) != std::string_view::npos;
    case Check::Kind::kJsonPath: {
      const auto value = context.reader.json(check.pointer);
      if (!value) return false;
      return equalsExpected(*value);  // valid until the reader's next call
    }
  }
  return false;
}

std::optional<std::string_view> captured(const Capture& capture, const engine::HttpResponse& response,
                                         ResponseContext& context) {
  switch (capture.kind) {
    case Capture::Kind::kJsonPath: return context.reader.json(capture.source);
    case Capture::Kind::kRegex: return context.reader.regex(capture.regex, capture.group);
    case Capture::Kind::kHeader: return scenario::headerValue(response.headers, capture.source);
    case Capture::Kind::kCookie: {
      if (context.cookies == nullptr) {
        return scenario::headerValue(response.headers, "set-cookie");  // no jar: the raw field
      }
      const std::string* value = context.cookies->find(context.host, capture.source);
      if (value == nullptr) return std::nullopt;
      return std::string_view(*value);
    }
  }
  return std::nullopt;
}

}  // namespace

Outcome inspectResponse(const scenario::RequestStep& step, const engine::HttpResponse& response,
                        ResponseContext& context) {
  Outcome outcome{response.error, response.code};
  if (response.error != stats::ErrorKind::kNone) return outcome;
  if (context.cookies != nullptr) context.cookies->storeFrom(context.host, response.headers);
  if (step.needs_body) context.reader.reset(response.body);
  const bool status_checked = std::any_of(step.checks.begin(), step.checks.end(),
                                          [](const Check& c) { return c.kind == Check::Kind::kStatus; });
  if (!status_checked && response.status >= 400) outcome = {stats::ErrorKind::kStatus, response.status};
  if (outcome.error == stats::ErrorKind::kNone) {
    for (const auto& check : step.checks) {
      if (!holds(check, response, context)) {
        outcome = {stats::ErrorKind::kCheck, static_cast<int32_t>(check.id)};
        break;
      }
    }
  }
  for (const auto& capture : step.captures) {
    const auto value = captured(capture, response, context);
    context.variables[capture.variable].assign(value ? *value : std::string_view());
  }
  return outcome;
}

}  // namespace herd::runtime
