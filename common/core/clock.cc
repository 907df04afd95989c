#include "common/core/clock.h"

#include <cstdio>
#include <cstdlib>
#include <ctime>

#include <fmt/format.h>

namespace herd {

std::string formatRfc3339(std::chrono::system_clock::time_point t) {
  const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
  const std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday,
                     tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
}

std::optional<std::chrono::system_clock::time_point> parseRfc3339(const std::string& text) {
  std::tm tm{};
  int consumed = 0;
  if (std::sscanf(text.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
                  &tm.tm_min, &tm.tm_sec, &consumed) != 6)
    return std::nullopt;
  tm.tm_year -= 1900;
  tm.tm_mon -= 1;
  auto t = std::chrono::system_clock::from_time_t(timegm(&tm));
  // Fractions of a second: Kubernetes timestamps are seconds; ours have ms.
  const char* rest = text.c_str() + consumed;
  if (*rest == '.') {
    double frac = std::atof(rest);
    t += std::chrono::duration_cast<std::chrono::system_clock::duration>(std::chrono::duration<double>(frac));
  }
  return t;
}

}  // namespace herd
