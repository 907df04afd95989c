#include "operator/controller/cron.h"

#include <gtest/gtest.h>

#include "common/core/clock.h"
#include "operator/controller/reconciler.h"  // parseRfc3339

namespace herd::controller {
namespace {

CronSchedule::Time at(const char* rfc3339) { return *parseRfc3339(rfc3339); }

std::string nextAfter(const char* expr, const char* tz, const char* after) {
  auto c = CronSchedule::parse(expr, tz);
  EXPECT_TRUE(c.ok()) << c.error().describe();
  if (!c.ok()) return "";
  auto n = c->next(at(after));
  return n ? formatRfc3339(*n) : "none";
}

TEST(Cron, EveryMinuteIsStrictlyAfter) {
  EXPECT_EQ(nextAfter("* * * * *", "Etc/UTC", "2026-11-23T10:00:00Z"), "2026-11-23T10:01:00.000Z");
  EXPECT_EQ(nextAfter("* * * * *", "Etc/UTC", "2026-11-23T10:00:59Z"), "2026-11-23T10:01:00.000Z");
}

struct Case {
  const char* expr;
  const char* tz;
  const char* after;
  const char* expected;
  const char* why;
};

TEST(Cron, NextTimes) {
  const Case cases[] = {
      {"*/15 9-17 * * mon-fri", "Etc/UTC", "2026-11-21T12:00:00Z", "2026-11-23T09:00:00.000Z", "Saturday → Monday"},
      {"30 3 1 jan,jul *", "Etc/UTC", "2026-02-01T00:00:00Z", "2026-07-01T03:30:00.000Z", "month names"},
      {"5/20 * * * *", "Etc/UTC", "2026-11-23T10:06:00Z", "2026-11-23T10:25:00.000Z", "start/step"},
      {"0 0 * * 7", "Etc/UTC", "2026-11-23T00:00:00Z", "2026-11-29T00:00:00.000Z", "7 is Sunday"},
      {"@hourly", "Etc/UTC", "2026-11-23T10:00:00Z", "2026-11-23T11:00:00.000Z", "shorthand"},
      {"@daily", "Etc/UTC", "2026-11-23T10:00:00Z", "2026-11-24T00:00:00.000Z", "shorthand"},
      // Day of month or day of week when both are restricted: the 1st or a Monday.
      {"0 12 1 * mon", "Etc/UTC", "2026-11-24T00:00:00Z", "2026-11-30T12:00:00.000Z", "a Monday first"},
      {"0 12 1 * mon", "Etc/UTC", "2026-11-30T13:00:00Z", "2026-12-01T12:00:00.000Z", "the 1st first"},
      // 03:00 in Paris is 02:00 UTC in winter and 01:00 UTC in summer.
      {"0 3 * * *", "Europe/Paris", "2026-11-23T10:00:00Z", "2026-11-24T02:00:00.000Z", "winter time"},
      {"0 3 * * *", "Europe/Paris", "2026-07-01T10:00:00Z", "2026-07-02T01:00:00.000Z", "summer time"},
      // 02:30 does not exist on 2026-03-29 in Paris (02:00 → 03:00): it runs at the jump.
      {"30 2 * * *", "Europe/Paris", "2026-03-28T12:00:00Z", "2026-03-29T01:00:00.000Z", "DST gap"},
  };
  for (const auto& c : cases) EXPECT_EQ(nextAfter(c.expr, c.tz, c.after), c.expected) << c.expr << ": " << c.why;
}

TEST(Cron, ImpossibleDatesHaveNoNextTime) {
  EXPECT_EQ(nextAfter("0 0 30 2 *", "Etc/UTC", "2026-01-01T00:00:00Z"), "none");
  EXPECT_EQ(nextAfter("0 0 29 2 *", "Etc/UTC", "2026-01-01T00:00:00Z"), "2028-02-29T00:00:00.000Z");
}

TEST(Cron, ErrorsNameTheField) {
  auto bad = [](const char* expr, const char* tz = "Etc/UTC") {
    auto c = CronSchedule::parse(expr, tz);
    return c.ok() ? std::string("ok") : c.error().describe();
  };
  EXPECT_EQ(bad("0 24 * * *"), "spec.schedule.cron: cron field 2 (hour): 24 is out of range 0-23");
  EXPECT_EQ(bad("0 0 * foo *"), "spec.schedule.cron: cron field 4 (month): unknown name \"foo\"");
  EXPECT_EQ(bad("*/0 * * * *"), "spec.schedule.cron: cron field 1 (minute): bad step \"0\"");
  EXPECT_EQ(bad("0 5-2 * * *"), "spec.schedule.cron: cron field 2 (hour): range 5-2 runs backwards");
  EXPECT_EQ(bad("0 0 * *"),
            "spec.schedule.cron: expected 5 fields (minute hour day-of-month month day-of-week), got 4");
  EXPECT_EQ(bad("0 0 * * *", "Mars/Olympus"), "spec.schedule.timeZone: unknown time zone \"Mars/Olympus\"");
  EXPECT_EQ(bad("@every 5m"),
            "spec.schedule.cron: expected 5 fields (minute hour day-of-month month day-of-week), got 2");
}

}  // namespace
}  // namespace herd::controller
