#include "common/scenario/extract.h"

#include <re2/re2.h>
#include <simdjson.h>

#include <cctype>
#include <map>

#include "common/scenario/text.h"

namespace herd::scenario {

namespace {

using detail::fail;
using detail::quote;

void appendPointerToken(std::string& out, std::string_view token) {
  out += '/';
  for (const char c : token) {
    if (c == '~') {
      out += "~0";
    } else if (c == '/') {
      out += "~1";
    } else {
      out += c;
    }
  }
}

// A bracketed step at text[pos] == '[': an index or a quoted name.
Result<size_t> bracketStep(std::string_view path, size_t pos, std::string& out) {
  if (pos + 1 < path.size() && (path[pos + 1] == '\'' || path[pos + 1] == '"')) {
    // A quoted name may hold ']' itself: find the closing quote first.
    const char quote_char = path[pos + 1];
    const size_t end_quote = path.find(quote_char, pos + 2);
    if (end_quote == std::string_view::npos || end_quote + 1 >= path.size() || path[end_quote + 1] != ']') {
      return fail("JSONPath " + quote(path) + ": malformed ['name']");
    }
    appendPointerToken(out, path.substr(pos + 2, end_quote - pos - 2));
    return end_quote + 2;
  }
  const size_t close_index = path.find(']', pos);
  if (close_index == std::string_view::npos) return fail("JSONPath " + quote(path) + ": unclosed '['");
  const std::string_view inside = path.substr(pos + 1, close_index - pos - 1);
  if (inside.empty() ||
      !std::all_of(inside.begin(), inside.end(), [](char c) { return std::isdigit(static_cast<unsigned char>(c)); })) {
    return fail("JSONPath " + quote(path) + ": unsupported step [" + std::string(inside) +
                "] (herd supports .name, ['name'] and [index]; no wildcards, filters or slices)");
  }
  appendPointerToken(out, inside);
  return close_index + 1;
}

}  // namespace

Result<std::string> jsonPathToPointer(std::string_view path) {
  if (!path.starts_with('$')) return fail("JSONPath " + quote(path) + " must start with '$'");
  std::string pointer;
  size_t pos = 1;
  while (pos < path.size()) {
    const char c = path[pos];
    if (c == '.') {
      if (pos + 1 < path.size() && path[pos + 1] == '.') {
        return fail("JSONPath " + quote(path) + ": recursive descent (..) is not supported");
      }
      size_t end = pos + 1;
      while (end < path.size() && path[end] != '.' && path[end] != '[') ++end;
      const std::string_view name = path.substr(pos + 1, end - pos - 1);
      if (name.empty() || name == "*") {
        return fail("JSONPath " + quote(path) + ": expected a name after '.' (no wildcards)");
      }
      appendPointerToken(pointer, name);
      pos = end;
    } else if (c == '[') {
      auto next = bracketStep(path, pos, pointer);
      if (!next) return next.error();
      pos = *next;
    } else {
      return fail("JSONPath " + quote(path) + ": unexpected " + quote(path.substr(pos, 1)) +
                  " (steps are .name, ['name'] or [index])");
    }
  }
  return pointer;
}

Status checkRegex(std::string_view pattern, int& groups) {
  RE2 re(re2::StringPiece(pattern.data(), pattern.size()), RE2::Quiet);
  if (!re.ok()) return fail("invalid regular expression " + quote(pattern) + ": " + re.error());
  groups = re.NumberOfCapturingGroups();
  return Ok{};
}

bool headerNameIs(std::string_view line, std::string_view name, std::string_view& value) {
  const size_t colon = line.find(':');
  if (colon == std::string_view::npos || !detail::equalsIgnoreCase(line.substr(0, colon), name)) return false;
  value = detail::trim(line.substr(colon + 1));
  return true;
}

std::optional<std::string_view> headerValue(std::string_view headers, std::string_view name) {
  std::optional<std::string_view> found;
  forEachHeader(headers, name, [&](std::string_view value) {
    found = value;
    return false;
  });
  return found;
}

struct ResponseReader::Impl {
  simdjson::ondemand::parser parser;
  simdjson::ondemand::document document;
  std::string_view body;
  std::string padded;   // the body plus simdjson's padding
  bool parsed = false;  // document is iterating `padded`
  bool is_json = false;
  std::string value;  // the last value returned
  std::vector<std::unique_ptr<RE2>> regexes;
  std::map<std::string, size_t, std::less<>> by_pattern;  // index into regexes
  std::vector<re2::StringPiece> groups;
};

ResponseReader::ResponseReader(const Plan& plan) : impl_(std::make_unique<Impl>()) {
  for (const auto& pattern : plan.regexes) {
    impl_->by_pattern.emplace(pattern, impl_->regexes.size());
    impl_->regexes.push_back(std::make_unique<RE2>(pattern, RE2::Quiet));
  }
}

Result<size_t> ResponseReader::pattern(std::string_view pattern, int& groups) {
  Impl& impl = *impl_;
  auto it = impl.by_pattern.find(pattern);
  if (it == impl.by_pattern.end()) {
    auto re = std::make_unique<RE2>(re2::StringPiece(pattern.data(), pattern.size()), RE2::Quiet);
    if (!re->ok()) return fail("invalid regular expression " + quote(pattern) + ": " + re->error());
    impl.regexes.push_back(std::move(re));
    it = impl.by_pattern.emplace(std::string(pattern), impl.regexes.size() - 1).first;
  }
  groups = impl.regexes[it->second]->NumberOfCapturingGroups();
  return it->second;
}

ResponseReader::~ResponseReader() = default;

void ResponseReader::reset(std::string_view body) {
  impl_->body = body;
  impl_->parsed = false;
  impl_->is_json = false;
}

std::optional<std::string_view> ResponseReader::json(const std::string& pointer) {
  Impl& impl = *impl_;
  if (!impl.parsed) {
    impl.parsed = true;
    impl.padded.reserve(impl.body.size() + simdjson::SIMDJSON_PADDING);
    impl.padded.assign(impl.body);
    const simdjson::padded_string_view view(impl.padded.data(), impl.padded.size(), impl.padded.capacity());
    impl.is_json = impl.parser.iterate(view).get(impl.document) == simdjson::SUCCESS;
  }
  if (!impl.is_json) return std::nullopt;
  simdjson::ondemand::value value;
  if (impl.document.at_pointer(pointer).get(value) != simdjson::SUCCESS) return std::nullopt;
  simdjson::ondemand::json_type type;
  if (value.type().get(type) != simdjson::SUCCESS) return std::nullopt;
  switch (type) {
    case simdjson::ondemand::json_type::string: {
      std::string_view text;
      if (value.get_string().get(text) != simdjson::SUCCESS) return std::nullopt;
      impl.value.assign(text);
      return std::string_view(impl.value);
    }
    case simdjson::ondemand::json_type::object:
    case simdjson::ondemand::json_type::array: {
      std::string_view text;
      if (simdjson::to_json_string(value).get(text) != simdjson::SUCCESS) return std::nullopt;
      impl.value.assign(text);
      return std::string_view(impl.value);
    }
    default: impl.value.assign(detail::trim(value.raw_json_token())); return std::string_view(impl.value);
  }
}

std::optional<std::string_view> ResponseReader::regex(size_t regex, int group) {
  Impl& impl = *impl_;
  if (regex >= impl.regexes.size() || !impl.regexes[regex]->ok()) return std::nullopt;
  impl.groups.resize(static_cast<size_t>(group) + 1);
  const re2::StringPiece text(impl.body.data(), impl.body.size());
  if (!impl.regexes[regex]->Match(text, 0, text.size(), RE2::UNANCHORED, impl.groups.data(), group + 1)) {
    return std::nullopt;
  }
  const auto& piece = impl.groups[static_cast<size_t>(group)];
  return std::string_view(piece.data() == nullptr ? "" : piece.data(), piece.size());
}

}  // namespace herd::scenario
