// Request steps: URL (joined to an origin), query, headers, body, timeout, endpoint.
#include <algorithm>

#include "common/scenario/builder.h"
#include "common/scenario/compiler.h"
#include "common/scenario/template.h"
#include "common/scenario/text.h"

namespace herd::scenario::detail {

namespace {

using Escape = TemplatePart::Escape;
using Kind = TemplatePart::Kind;

// Header names herd computes itself; a user value would corrupt the framing.
constexpr std::string_view kComputedHeaders[] = {"content-length", "transfer-encoding"};

bool literalHas(const Template& tmpl, std::string_view chars) {
  return std::any_of(tmpl.parts.begin(), tmpl.parts.end(), [&](const TemplatePart& part) {
    return part.kind == Kind::kLiteral && part.literal.find_first_of(chars) != std::string::npos;
  });
}

bool hasControl(const Template& tmpl) {
  return std::any_of(tmpl.parts.begin(), tmpl.parts.end(), [](const TemplatePart& part) {
    return std::any_of(part.literal.begin(), part.literal.end(), [](char c) {
      const auto u = static_cast<unsigned char>(c);
      return u < 0x20 || u == 0x7f;
    });
  });
}

// The template with its first `n` literal characters removed (the origin part).
Template dropPrefix(Template tmpl, size_t n) {
  tmpl.parts[0].literal.erase(0, n);
  if (tmpl.parts[0].literal.empty()) tmpl.parts.erase(tmpl.parts.begin());
  return tmpl;
}

// Splits a URL template into the origin it goes to and its path template: relative
// URLs go to the target; absolute ones add (or reuse) an origin, which must be
// literal because connections are opened per origin before the run.
Status resolveUrl(Builder& builder, const Field& field, Template url, RequestStep& step) {
  if (url.parts.empty()) return errorAt(builder.context, field, "empty URL");
  if (url.parts[0].kind != Kind::kLiteral) {
    return errorAt(builder.context, field, "a URL starts with '/' or http(s)://, not with an expression");
  }
  const std::string& head = url.parts[0].literal;
  if (head.starts_with("//")) {
    return errorAt(builder.context, field, "scheme-relative URL " + quote(head) + " (write http:// or https://)");
  }
  if (head.starts_with('/')) {
    step.origin = 0;
    step.path = std::move(url);
    return Ok{};
  }
  const size_t separator = head.find("://");
  if (separator == std::string::npos) {
    return errorAt(builder.context, field,
                   "URL " + quote(head) + " is neither absolute (http://...) nor starts with '/'");
  }
  const size_t path_start = head.find_first_of("/?#", separator + 3);
  if (path_start == std::string::npos && url.parts.size() > 1) {
    return errorAt(
        builder.context, field,
        "the origin (scheme://host:port) of a URL must be literal; expressions may only follow the first '/'");
  }
  const size_t origin_end = std::min(path_start, head.size());
  auto split = splitUrl(std::string_view(head).substr(0, origin_end));
  if (!split) return errorAt(builder.context, field, split.error().message);
  step.origin = builder.origin(split->origin);
  url = dropPrefix(std::move(url), origin_end);
  TemplateBuilder path;
  if (url.parts.empty() || url.parts[0].kind != Kind::kLiteral || url.parts[0].literal[0] != '/') path.literal("/");
  path.append(url);
  step.path = std::move(path).build();
  return Ok{};
}

// Run-time values (variables, the class name) escaped for where they land.
void escapeRuntimeParts(Template& tmpl, Escape escape) {
  for (auto& part : tmpl.parts) {
    if (part.kind != Kind::kLiteral && part.escape == Escape::kNone) part.escape = escape;
  }
}

Status checkPath(Context& context, const Field& field, const Template& path) {
  if (literalHas(path, "#")) {
    return errorAt(context, field, "URL has a fragment (#...), which is never sent");
  }
  if (literalHas(path, " ") || hasControl(path)) {
    return errorAt(context, field, "URL contains spaces or control characters (percent-encode them, e.g. %20)");
  }
  return Ok{};
}

// Appends `key=value` pairs of a query or form map, percent-encoded. A list value
// repeats the key (ids: [1, 2] → ids=1&ids=2).
Status appendPairs(Context& context, const Field& field, TemplateBuilder& out, bool first) {
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readAnyMap(context, field));
  for (const auto& [key, value] : map.entries()) {
    std::vector<Field> values{value};
    if (value.node.IsSequence()) {
      SCENARIO_ASSIGN_OR_RETURN(values, readList(context, value));
    }
    for (const Field& item : values) {
      SCENARIO_ASSIGN_OR_RETURN(const Template rendered, readTemplate(context, item));
      out.literal(first ? "" : "&");
      first = false;
      std::string encoded_key;
      appendEscaped(encoded_key, key, Escape::kUrl);
      out.literal(encoded_key + "=");
      out.append(rendered, Escape::kUrl);
    }
  }
  return Ok{};
}

Status applyQuery(Context& context, const Field& field, RequestStep& step) {
  TemplateBuilder path;
  path.append(step.path);
  path.literal(literalHas(step.path, "?") ? "&" : "?");
  SCENARIO_RETURN_IF_ERROR(appendPairs(context, field, path, true));
  step.path = std::move(path).build();
  return Ok{};
}

Status applyBody(Context& context, const MapView& map, const Field& request, RequestStep& step) {
  const Field* json = map.find("json");
  const Field* body = map.find("body");
  const Field* form = map.find("form");
  if ((json != nullptr) + (body != nullptr) + (form != nullptr) > 1) {
    return errorAt(context, request, "json, body and form are alternatives; give at most one");
  }
  if (json != nullptr) {
    SCENARIO_ASSIGN_OR_RETURN(step.body, parseJsonBody(context, *json));
    step.content_type = "application/json";
  } else if (body != nullptr) {
    SCENARIO_ASSIGN_OR_RETURN(step.body, readTemplate(context, *body));
  } else if (form != nullptr) {
    TemplateBuilder out;
    SCENARIO_RETURN_IF_ERROR(appendPairs(context, *form, out, true));
    step.body = std::move(out).build();
    step.content_type = "application/x-www-form-urlencoded";
  }
  return Ok{};
}

// Defaults first, then the step's own; a step header replaces a default of the same
// name (names compare case-insensitively, as in HTTP).
std::vector<Header> mergeHeaders(const std::vector<Header>& defaults, std::vector<Header> own) {
  std::vector<Header> merged;
  for (const auto& header : defaults) {
    const bool replaced = std::any_of(own.begin(), own.end(),
                                      [&](const Header& h) { return equalsIgnoreCase(h.name, header.name); });
    if (!replaced) merged.push_back(header);
  }
  for (auto& header : own) merged.push_back(std::move(header));
  return merged;
}

Result<std::string> readMethod(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const std::string method, readString(context, field));
  if (!isToken(method)) return errorAt(context, field, "invalid HTTP method " + quote(method));
  std::string upper = method;
  for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  return upper;
}

Result<std::string> readName(Context& context, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const std::string name, readString(context, field));
  if (trim(name).empty()) return errorAt(context, field, "an endpoint name cannot be empty");
  return name;
}

struct RequestFields {
  const Field* url = nullptr;
  const Field* name = nullptr;
  MapView map;  // empty for the short form
};

// Short form (`get: /path`) or long form (`get: {url: ..., ...}`), and the name
// from either place (both at once is ambiguous).
Result<RequestFields> readRequestFields(Builder& builder, std::string& method, const Field& value,
                                        const Field* sibling_name) {
  Context& context = builder.context;
  RequestFields fields;
  fields.name = sibling_name;
  if (!method.empty() && value.node.IsScalar()) {
    fields.url = &value;
    return fields;
  }
  if (!method.empty() && !value.node.IsMap()) {
    return errorAt(
        context, value,
        "expected a URL or a map with url, name, headers, query, json, body, form, timeout, check, capture, retry, "
        "http");
  }
  if (method.empty()) {
    SCENARIO_ASSIGN_OR_RETURN(fields.map, readMap(context, value,
                                                  {"method", "url", "name", "headers", "query", "json", "body", "form",
                                                   "timeout", "check", "capture", "retry", "http"}));
    SCENARIO_ASSIGN_OR_RETURN(const Field method_field, require(context, value, fields.map, "method"));
    SCENARIO_ASSIGN_OR_RETURN(method, readMethod(context, method_field));
  } else {
    SCENARIO_ASSIGN_OR_RETURN(fields.map, readMap(context, value,
                                                  {"url", "name", "headers", "query", "json", "body", "form", "timeout",
                                                   "check", "capture", "retry", "http"}));
  }
  if (const Field* name = fields.map.find("name")) {
    if (sibling_name != nullptr)
      return errorAt(context, name->atKey(), "name is given twice (here and beside the method)");
    fields.name = name;
  }
  return fields;
}

Status applyOptions(Builder& builder, const RequestFields& fields, const Field& value, RequestStep& step) {
  Context& context = builder.context;
  std::vector<Header> own;
  if (const Field* headers = fields.map.find("headers")) {
    SCENARIO_ASSIGN_OR_RETURN(own, parseHeaders(builder, *headers));
  }
  step.headers = mergeHeaders(builder.default_headers, std::move(own));
  if (const Field* query = fields.map.find("query")) SCENARIO_RETURN_IF_ERROR(applyQuery(context, *query, step));
  SCENARIO_RETURN_IF_ERROR(applyBody(context, fields.map, value, step));
  const bool explicit_type = std::any_of(step.headers.begin(), step.headers.end(),
                                         [](const Header& h) { return equalsIgnoreCase(h.name, "content-type"); });
  if (explicit_type) step.content_type.clear();  // the user's header wins; never send two
  step.timeout = builder.default_timeout;
  if (const Field* timeout = fields.map.find("timeout")) {
    SCENARIO_ASSIGN_OR_RETURN(step.timeout, readDuration(context, *timeout, false));
  }
  if (const Field* check = fields.map.find("check")) SCENARIO_RETURN_IF_ERROR(parseChecks(builder, *check, step));
  if (const Field* capture = fields.map.find("capture"))
    SCENARIO_RETURN_IF_ERROR(parseCaptures(builder, *capture, step));
  step.retry = builder.default_retry;
  if (const Field* retry = fields.map.find("retry")) {
    if (retry->node.IsScalar() && retry->node.Scalar() == "none") {
      step.retry.reset();
    } else {
      SCENARIO_ASSIGN_OR_RETURN(step.retry, parseRetry(builder, *retry));
    }
  }
  step.http = builder.default_http;
  if (const Field* http = fields.map.find("http")) {
    SCENARIO_ASSIGN_OR_RETURN(step.http, parseHttpVersion(builder, *http));
  }
  markNeeds(step, builder.plan.cookies);
  return Ok{};
}

}  // namespace

Result<HttpVersion> parseHttpVersion(Builder& builder, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(const std::string text, readString(builder.context, field));
  if (text == "1.1") return HttpVersion::kHttp1;
  if (text == "2") return HttpVersion::kHttp2;
  return errorAt(builder.context, field, "expected \"1.1\" or \"2\", got \"" + text + "\"");
}

Result<RequestStep> parseRequest(Builder& builder, std::string method, const Field& value, const Field* name) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const RequestFields fields, readRequestFields(builder, method, value, name));
  SCENARIO_ASSIGN_OR_RETURN(const Field url_field, fields.url != nullptr ? Result<Field>(*fields.url)
                                                                         : require(context, value, fields.map, "url"));
  RequestStep step;
  step.method = method;
  SCENARIO_ASSIGN_OR_RETURN(Template url, readTemplate(context, url_field));
  SCENARIO_RETURN_IF_ERROR(resolveUrl(builder, url_field, std::move(url), step));
  SCENARIO_RETURN_IF_ERROR(checkPath(context, url_field, step.path));
  SCENARIO_RETURN_IF_ERROR(applyOptions(builder, fields, value, step));
  escapeRuntimeParts(step.path, Escape::kPath);         // after the query, whose values are kUrl
  std::string endpoint_name = url_field.node.Scalar();  // the URL as written groups by default
  if (fields.name != nullptr) {
    SCENARIO_ASSIGN_OR_RETURN(endpoint_name, readName(context, *fields.name));
  }
  step.endpoint = builder.endpoint(endpoint_name, step.method);
  return step;
}

Result<std::vector<Header>> parseHeaders(Builder& builder, const Field& field) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readAnyMap(context, field));
  std::vector<Header> headers;
  for (const auto& entry : map.entries()) {
    // Named references rather than a structured binding: clang 14 cannot capture one.
    const std::string& name = entry.first;
    const Field& value = entry.second;
    if (!isToken(name)) return errorAt(context, value.atKey(), "invalid header name " + quote(name));
    const std::string lower = toLower(name);
    if (std::find(std::begin(kComputedHeaders), std::end(kComputedHeaders), lower) != std::end(kComputedHeaders)) {
      return errorAt(context, value.atKey(), name + " is computed by herd and cannot be set");
    }
    const bool duplicate = std::any_of(headers.begin(), headers.end(),
                                       [&](const Header& h) { return equalsIgnoreCase(h.name, name); });
    if (duplicate)
      return errorAt(context, value.atKey(), "header " + quote(name) + " is given twice (names ignore case)");
    SCENARIO_ASSIGN_OR_RETURN(Template tmpl, readTemplate(context, value));
    if (hasControl(tmpl))
      return errorAt(context, value, "header values cannot contain control characters or line breaks");
    escapeRuntimeParts(tmpl, Escape::kHeader);
    headers.push_back(Header{name, std::move(tmpl)});
  }
  return headers;
}

}  // namespace herd::scenario::detail
