// `json:` bodies: any YAML value serialised to JSON once, at compile time, with
// templates allowed inside strings (their run-time values are JSON-escaped when
// rendered).
#include <algorithm>
#include <array>
#include <optional>

#include "common/scenario/builder.h"
#include "common/scenario/template.h"
#include "common/scenario/text.h"

namespace herd::scenario::detail {

namespace {

using Escape = TemplatePart::Escape;

constexpr std::string_view kStrTag = "tag:yaml.org,2002:str";

// -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? — exactly JSON's number grammar, so
// the text can be copied into the body unchanged.
bool isJsonNumber(std::string_view s) {
  size_t i = 0;
  const auto digits = [&] {
    const size_t start = i;
    while (i < s.size() && s[i] >= '0' && s[i] <= '9') ++i;
    return i > start;
  };
  if (i < s.size() && s[i] == '-') ++i;
  if (i < s.size() && s[i] == '0') {
    ++i;
  } else if (!digits()) {
    return false;
  }
  if (i < s.size() && s[i] == '.') {
    ++i;
    if (!digits()) return false;
  }
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    ++i;
    if (i < s.size() && (s[i] == '+' || s[i] == '-')) ++i;
    if (!digits()) return false;
  }
  return i == s.size();
}

// The JSON literal a plain (unquoted) YAML scalar stands for, if any.
std::optional<std::string> plainLiteral(std::string_view text) {
  static constexpr std::array<std::string_view, 4> kNull = {"null", "Null", "NULL", "~"};
  static constexpr std::array<std::string_view, 3> kTrue = {"true", "True", "TRUE"};
  static constexpr std::array<std::string_view, 3> kFalse = {"false", "False", "FALSE"};
  const auto in = [&](const auto& list) { return std::find(list.begin(), list.end(), text) != list.end(); };
  if (in(kNull)) return "null";
  if (in(kTrue)) return "true";
  if (in(kFalse)) return "false";
  if (isJsonNumber(text)) return std::string(text);
  return std::nullopt;
}

Status appendString(Context& context, const Field& field, TemplateBuilder& out) {
  SCENARIO_ASSIGN_OR_RETURN(const Template value, readTemplate(context, field));
  out.literal("\"");
  out.append(value, Escape::kJson);
  out.literal("\"");
  return Ok{};
}

Status appendValue(Context& context, const Field& field, TemplateBuilder& out);

Status appendObject(Context& context, const Field& field, TemplateBuilder& out) {
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readAnyMap(context, field));
  out.literal("{");
  bool first = true;
  for (const auto& [key, value] : map.entries()) {
    if (!first) out.literal(",");
    first = false;
    out.literal("\"");
    std::string escaped;
    appendEscaped(escaped, key, Escape::kJson);  // keys are literal: no templates
    out.literal(escaped);
    out.literal("\":");
    SCENARIO_RETURN_IF_ERROR(appendValue(context, value, out));
  }
  out.literal("}");
  return Ok{};
}

Status appendArray(Context& context, const Field& field, TemplateBuilder& out) {
  SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> items, readList(context, field));
  out.literal("[");
  for (size_t i = 0; i < items.size(); ++i) {
    if (i > 0) out.literal(",");
    SCENARIO_RETURN_IF_ERROR(appendValue(context, items[i], out));
  }
  out.literal("]");
  return Ok{};
}

Status appendScalar(Context& context, const Field& field, TemplateBuilder& out) {
  const std::string& tag = field.node.Tag();
  if (tag == "?") {
    if (const auto literal = plainLiteral(field.node.Scalar())) {
      out.literal(*literal);
      return Ok{};
    }
  } else if (tag != "!" && tag != kStrTag) {
    const std::string shown = tag.starts_with("tag:yaml.org,2002:") ? "!!" + tag.substr(18) : tag;
    return errorAt(context, field,
                   "unsupported YAML tag " + shown + " in a json body (only !!str; quote a value to make it a string)");
  }
  return appendString(context, field, out);
}

Status appendValue(Context& context, const Field& field, TemplateBuilder& out) {
  switch (field.node.Type()) {
    case YAML::NodeType::Map: return appendObject(context, field, out);
    case YAML::NodeType::Sequence: return appendArray(context, field, out);
    case YAML::NodeType::Scalar: return appendScalar(context, field, out);
    default: out.literal("null"); return Ok{};
  }
}

}  // namespace

Result<Template> parseJsonBody(Context& context, const Field& field) {
  TemplateBuilder out;
  SCENARIO_RETURN_IF_ERROR(appendValue(context, field, out));
  return std::move(out).build();
}

}  // namespace herd::scenario::detail
