#pragma once
// Small text helpers shared by the compiler's files (internal to this folder).
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"

namespace herd::scenario::detail {

// An Error without a place; the caller that knows the place adds it.
inline Error fail(std::string message) { return Error{std::move(message), {}}; }

// `text` in double quotes for an error message: control characters escaped and long
// text cut, so a message stays one readable line whatever the input was.
std::string quote(std::string_view text);

std::string_view trim(std::string_view text);
std::string toLower(std::string_view text);
bool equalsIgnoreCase(std::string_view a, std::string_view b);

// [A-Za-z_][A-Za-z0-9_]*: param names (a dot would be ambiguous in params.NAME).
bool isIdentifier(std::string_view text);

// An RFC 9110 token: header names and method names.
bool isToken(std::string_view text);

// Whole-string integer, no sign other than a leading '-', no spaces; nullopt when
// the text is not one or does not fit.
std::optional<int64_t> parseInt(std::string_view text);

// Whole-string finite decimal number ("2", "0.5", "1e3").
std::optional<double> parseNumber(std::string_view text);

std::string join(const std::vector<std::string_view>& items, std::string_view separator);

// The candidate closest to `word` when it is a likely typo of it, for "did you mean".
std::optional<std::string_view> closest(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace herd::scenario::detail
