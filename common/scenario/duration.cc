// parseDuration/formatDuration (declared in compiler.h).
#include <cctype>
#include <cmath>
#include <limits>

#include "common/scenario/compiler.h"
#include "common/scenario/text.h"

namespace herd::scenario {

namespace {

constexpr std::string_view kExpected = "expected a number with a unit: ms, s, m, h";

struct Unit {
  std::string_view suffix;
  int64_t nanos;
};
// "ms" before "m" so the longer suffix wins.
constexpr Unit kUnits[] = {{"ms", 1'000'000}, {"s", 1'000'000'000}, {"m", 60'000'000'000}, {"h", 3'600'000'000'000}};

Error unparsable(std::string_view text) {
  return detail::fail("unparsable duration " + detail::quote(text) + " (" + std::string(kExpected) + ")");
}

// Reads "123" or "1.5" from the front of `text`: whole part and fraction (< 1).
bool readNumber(std::string_view& text, int64_t& whole, double& fraction) {
  size_t i = 0;
  whole = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    const int digit = text[i] - '0';
    if (__builtin_mul_overflow(whole, 10, &whole) || __builtin_add_overflow(whole, digit, &whole)) {
      whole = std::numeric_limits<int64_t>::max();  // reported as too long by the caller
    }
    ++i;
  }
  const size_t whole_digits = i;
  fraction = 0;
  if (i < text.size() && text[i] == '.') {
    double scale = 0.1;
    for (++i; i < text.size() && std::isdigit(static_cast<unsigned char>(text[i])); ++i) {
      fraction += (text[i] - '0') * scale;
      scale /= 10;
    }
    if (i == whole_digits + 1 && whole_digits == 0) return false;  // a lone "."
  }
  if (i == 0) return false;
  text.remove_prefix(i);
  return true;
}

const Unit* readUnit(std::string_view& text) {
  for (const auto& unit : kUnits) {
    if (text.starts_with(unit.suffix)) {
      text.remove_prefix(unit.suffix.size());
      return &unit;
    }
  }
  return nullptr;
}

}  // namespace

Result<Duration> parseDuration(std::string_view text) {
  const std::string_view original = text;
  if (text.starts_with('-')) {
    return detail::fail("negative duration " + detail::quote(original) + " (durations are never negative)");
  }
  if (text.empty()) return unparsable(original);
  int64_t total = 0;
  while (!text.empty()) {
    int64_t whole = 0;
    double fraction = 0;
    if (!readNumber(text, whole, fraction)) return unparsable(original);
    const Unit* unit = readUnit(text);
    if (unit == nullptr) return unparsable(original);
    int64_t nanos = 0;
    const auto fraction_nanos = static_cast<int64_t>(std::llround(fraction * static_cast<double>(unit->nanos)));
    if (__builtin_mul_overflow(whole, unit->nanos, &nanos) || __builtin_add_overflow(nanos, fraction_nanos, &nanos) ||
        __builtin_add_overflow(total, nanos, &total)) {
      return detail::fail("duration " + detail::quote(original) + " is too long (at most 2562047h, about 292 years)");
    }
  }
  return Duration(total);
}

std::string formatDuration(Duration duration) {
  const int64_t count = duration.count();
  if (count == 0) return "0s";
  std::string out = count < 0 ? "-" : "";
  // Through uint64_t so that Duration::min() negates without overflow.
  uint64_t left = count < 0 ? 0 - static_cast<uint64_t>(count) : static_cast<uint64_t>(count);
  for (const auto& unit : {kUnits[3], kUnits[2], kUnits[1]}) {
    const auto nanos = static_cast<uint64_t>(unit.nanos);
    if (left >= nanos) {
      out += std::to_string(left / nanos) + std::string(unit.suffix);
      left %= nanos;
    }
  }
  if (left == 0) return out;
  out += std::to_string(left / 1'000'000);
  if (const uint64_t below_ms = left % 1'000'000; below_ms != 0) {
    std::string digits = std::to_string(below_ms);
    digits.insert(0, 6 - digits.size(), '0');
    while (digits.back() == '0') digits.pop_back();
    out += "." + digits;  // a fraction of a millisecond, which parseDuration reads back
  }
  return out + "ms";
}

}  // namespace herd::scenario
