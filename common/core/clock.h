#pragma once
// Time in herd: a monotonic clock for measuring (latency, deadlines) and the wall
// clock only for reporting (RFC 3339 times in summaries). Durations are
// std::chrono::nanoseconds everywhere inside; units appear only at the edges.
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

namespace herd {

using MonoClock = std::chrono::steady_clock;
using MonoTime = MonoClock::time_point;
using Nanos = std::chrono::nanoseconds;

// The seam tests use to control time in code that waits (backoff, deadlines).
class Clock {
 public:
  virtual ~Clock() = default;
  virtual MonoTime now() const = 0;
};

class SystemClock final : public Clock {
 public:
  MonoTime now() const override { return MonoClock::now(); }
};

// RFC 3339 with millisecond precision in UTC, e.g. 2026-11-23T09:34:46.123Z.
std::string formatRfc3339(std::chrono::system_clock::time_point t);
// RFC 3339 as Kubernetes writes it ("2026-11-23T09:34:46Z", fractions allowed).
std::optional<std::chrono::system_clock::time_point> parseRfc3339(const std::string& text);

}  // namespace herd
