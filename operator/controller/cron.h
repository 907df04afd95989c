#pragma once
// Cron schedules for LoadTests (spec.schedule): the five standard fields
// (minute hour day-of-month month day-of-week) with *, lists, ranges, steps,
// month and weekday names, 7 as Sunday, and the @hourly/@daily/@weekly/
// @monthly/@yearly shorthands; evaluated in an IANA time zone. As in
// Kubernetes CronJobs (and Vixie cron), when both day-of-month and
// day-of-week are restricted a day matching either one is due. Pure; the
// time-zone database is the system's (absl, which reads /usr/share/zoneinfo).
#include <bitset>
#include <chrono>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/result.h"

namespace herd::controller {

class CronSchedule {
 public:
  using Time = std::chrono::system_clock::time_point;

  // Errors name the field: "cron field 2 (hour): 24 is out of range 0-23".
  static Result<CronSchedule> parse(std::string_view expression, const std::string& time_zone);

  // The first due time strictly after `after` (whole minutes), or nullopt
  // when there is none within five years (e.g. "0 0 30 2 *").
  std::optional<Time> next(Time after) const;

  const std::string& expression() const { return expression_; }

 private:
  struct Zone;  // absl::time_zone, kept out of the header
  std::string expression_;
  std::string time_zone_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool days_restricted_ = false;
  bool weekdays_restricted_ = false;
};

}  // namespace herd::controller
