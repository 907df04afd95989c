#include "common/scenario/template.h"

#include <cctype>
#include <charconv>

#include "common/scenario/text.h"

namespace herd::scenario {

namespace {

using detail::fail;
using detail::quote;
using Kind = TemplatePart::Kind;

constexpr std::string_view kExpected =
    "expected user.index, user.class, user.classIndex, random(a, b), params.NAME or a variable name";

std::string declared(const std::map<std::string, std::string>& params) {
  if (params.empty()) return "no params are declared";
  std::string names;
  for (const auto& [name, value] : params) names += (names.empty() ? "" : ", ") + name;
  return "declared: " + names;
}

Result<std::string> lookupParam(std::string_view name, const std::map<std::string, std::string>& params) {
  const auto it = params.find(std::string(name));
  if (it != params.end()) return it->second;
  return fail("unknown param " + quote(name) + " (" + declared(params) + "; declare it under params: or pass -p " +
              std::string(name) + "=VALUE)");
}

// Reads one argument of random(): an integer or params.NAME holding one.
Result<int64_t> randomArgument(std::string_view text, const std::map<std::string, std::string>& params) {
  text = detail::trim(text);
  if (text.starts_with("params.")) {
    auto value = lookupParam(text.substr(7), params);
    if (!value) return value.error();
    if (const auto n = detail::parseInt(detail::trim(*value))) return *n;
    return fail("random(): " + std::string(text) + " = " + quote(*value) + " is not an integer");
  }
  if (const auto n = detail::parseInt(text)) return *n;
  return fail("random(): argument " + quote(text) + " is not an integer or params.NAME");
}

Result<TemplatePart> parseRandom(std::string_view expr, const std::map<std::string, std::string>& params) {
  auto args = detail::trim(expr.substr(6));  // after "random"
  if (!args.starts_with('(') || !args.ends_with(')')) {
    return fail("malformed " + quote(expr) + " (expected random(a, b))");
  }
  args = args.substr(1, args.size() - 2);
  const size_t comma = args.find(',');
  if (comma == std::string_view::npos || args.find(',', comma + 1) != std::string_view::npos) {
    return fail("random() takes two arguments, got " + quote(expr));
  }
  auto low = randomArgument(args.substr(0, comma), params);
  if (!low) return low.error();
  auto high = randomArgument(args.substr(comma + 1), params);
  if (!high) return high.error();
  if (*low > *high) {
    return fail("random(" + std::to_string(*low) + ", " + std::to_string(*high) +
                "): the low bound is greater than the high bound");
  }
  TemplatePart part;
  part.kind = Kind::kRandom;
  part.low = *low;
  part.high = *high;
  return part;
}

// NAME.COLUMN of a data source (a variable its feed steps write).
bool isDataColumn(std::string_view expr) {
  const size_t dot = expr.find('.');
  return dot != std::string_view::npos && !expr.starts_with("user.") && detail::isIdentifier(expr.substr(0, dot)) &&
         detail::isIdentifier(expr.substr(dot + 1));
}

// One {{...}} expression, appended to `out` (params become literal text).
Status appendExpression(std::string_view expr, const std::map<std::string, std::string>& params,
                        const VariableIndex& variable, TemplateBuilder& out) {
  TemplatePart part;
  if (expr == "user.index") {
    part.kind = Kind::kUserIndex;
  } else if (expr == "user.class") {
    part.kind = Kind::kUserClass;
  } else if (expr == "user.classIndex") {
    part.kind = Kind::kClassIndex;
  } else if (expr.starts_with("params.")) {
    auto value = lookupParam(expr.substr(7), params);
    if (!value) return value.error();
    out.literal(*value);
    return Ok{};
  } else if (expr.starts_with("random") && (expr.size() == 6 || expr[6] == '(' || expr[6] == ' ' || expr[6] == '\t')) {
    auto random = parseRandom(expr, params);
    if (!random) return random.error();
    part = std::move(*random);
  } else if (variable && (detail::isIdentifier(expr) || isDataColumn(expr))) {
    const auto index = variable(expr);
    if (!index) return fail("variables cannot be used here: " + quote("{{" + std::string(expr) + "}}"));
    part.kind = Kind::kVariable;
    part.variable = *index;
  } else {
    return fail("unknown template expression " + quote("{{" + std::string(expr) + "}}") + " (" +
                std::string(kExpected) + ")");
  }
  out.part(std::move(part));
  return Ok{};
}

void appendInt(std::string& out, int64_t value) {
  char buffer[24];
  const auto result = std::to_chars(buffer, buffer + sizeof buffer, value);
  out.append(buffer, result.ptr);
}

}  // namespace

Result<Template> compileTemplate(std::string_view text, const std::map<std::string, std::string>& params,
                                 const VariableIndex& variable) {
  TemplateBuilder builder;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    if (open == std::string_view::npos) {
      builder.literal(text.substr(pos));
      break;
    }
    builder.literal(text.substr(pos, open - pos));
    const size_t close = text.find("}}", open + 2);
    if (close == std::string_view::npos) {
      return fail("unclosed \"{{\" in " + quote(text) + " (" + std::string(kExpected) + ")");
    }
    const auto status = appendExpression(detail::trim(text.substr(open + 2, close - open - 2)), params, variable,
                                         builder);
    if (!status) return status.error();
    pos = close + 2;
  }
  return std::move(builder).build();
}

void renderTemplate(const Template& tmpl, const RenderContext& context, std::string& out) {
  for (const auto& part : tmpl.parts) {
    switch (part.kind) {
      case Kind::kLiteral: out += part.literal; break;
      case Kind::kUserIndex:  // digits and '-' need no escaping anywhere
        appendInt(out, context.user_index);
        break;
      case Kind::kClassIndex: appendInt(out, context.class_index); break;
      case Kind::kUserClass: appendEscaped(out, context.user_class, part.escape); break;
      case Kind::kRandom: appendInt(out, context.rng.between(part.low, part.high)); break;
      case Kind::kVariable:
        if (context.variables != nullptr && part.variable < context.variables->size()) {
          appendEscaped(out, (*context.variables)[part.variable], part.escape);
        }
        break;
    }
  }
}

void appendEscaped(std::string& out, std::string_view text, TemplatePart::Escape escape) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  auto hex = [&](std::string_view prefix, unsigned char u) {
    out += prefix;
    out += kHex[u >> 4];
    out += kHex[u & 0xf];
  };
  for (const char c : text) {
    const auto u = static_cast<unsigned char>(c);
    switch (escape) {
      case TemplatePart::Escape::kJson:
        if (c == '"' || c == '\\') {
          out += '\\';
          out += c;
        } else if (u < 0x20) {
          hex("\\u00", u);
        } else {
          out += c;
        }
        break;
      case TemplatePart::Escape::kUrl:  // everything but RFC 3986 unreserved
        if ((std::isalnum(u) && u < 0x80) || c == '-' || c == '.' || c == '_' || c == '~') {
          out += c;
        } else {
          hex("%", u);
        }
        break;
      case TemplatePart::Escape::kPath:
        if (u <= 0x20 || u >= 0x7f || c == '#') {
          hex("%", u);
        } else {
          out += c;
        }
        break;
      case TemplatePart::Escape::kHeader:
        if (u >= 0x20 && u != 0x7f) out += c;
        break;
      case TemplatePart::Escape::kNone: out += c; break;
    }
  }
}

void TemplateBuilder::literal(std::string_view text) {
  if (text.empty()) return;
  auto& parts = template_.parts;
  if (parts.empty() || parts.back().kind != Kind::kLiteral) parts.emplace_back();
  parts.back().literal += text;
}

void TemplateBuilder::append(const Template& tmpl, TemplatePart::Escape escape) {
  for (const auto& p : tmpl.parts) {
    if (p.kind == Kind::kLiteral) {
      std::string escaped;
      appendEscaped(escaped, p.literal, escape);
      literal(escaped);
    } else {
      TemplatePart copy = p;
      copy.escape = escape;
      part(std::move(copy));
    }
  }
}

void TemplateBuilder::part(TemplatePart p) {
  if (p.kind == Kind::kLiteral) {
    literal(p.literal);
    return;
  }
  template_.parts.push_back(std::move(p));
}

}  // namespace herd::scenario
