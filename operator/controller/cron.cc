#include "operator/controller/cron.h"

#include <absl/time/civil_time.h>
#include <absl/time/time.h>

#include <algorithm>
#include <cctype>
#include <vector>

namespace herd::controller {

namespace {

struct Field {
  const char* name;
  int low;
  int high;
  const char* const* names;  // for months (from 1) and weekdays (from 0)
};

const char* const kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",  "jul",
                                   "aug", "sep", "oct", "nov", "dec", nullptr};
const char* const kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat", nullptr};

const Field kFields[] = {{"minute", 0, 59, nullptr},
                         {"hour", 0, 23, nullptr},
                         {"day of month", 1, 31, nullptr},
                         {"month", 1, 12, kMonthNames},
                         {"day of week", 0, 7, kDayNames}};

std::vector<std::string> split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    out.emplace_back(s.substr(start, pos - start));
    if (pos == std::string_view::npos) return out;
    start = pos + 1;
  }
}

Result<int> value(const std::string& text, const Field& f, int index) {
  std::string where = "cron field " + std::to_string(index + 1) + " (" + f.name + ")";
  if (text.empty()) return Error{"empty value", where};
  if (f.names && std::isalpha(static_cast<unsigned char>(text[0]))) {
    std::string lower;
    for (char c : text) lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
    for (int i = 0; f.names[i]; ++i)
      if (lower == f.names[i]) return f.low == 1 ? i + 1 : i;
    return Error{"unknown name \"" + text + "\"", where};
  }
  if (text.size() > 4 || text.find_first_not_of("0123456789") != std::string::npos)
    return Error{"\"" + text + "\" is not a number", where};
  int v = std::stoi(text);
  if (v < f.low || v > f.high)
    return Error{std::to_string(v) + " is out of range " + std::to_string(f.low) + "-" + std::to_string(f.high), where};
  return v;
}

// One field into the set of values it allows; `star` tells whether it was "*"
// (possibly with a step), which matters for the day-of-month/day-of-week rule.
Result<std::vector<bool>> parseField(const std::string& text, const Field& f, int index, bool& star) {
  std::vector<bool> allowed(static_cast<size_t>(f.high + 1), false);
  std::string where = "cron field " + std::to_string(index + 1) + " (" + f.name + ")";
  star = text == "*" || text.rfind("*/", 0) == 0;
  for (const auto& part : split(text, ',')) {
    auto slash = part.find('/');
    std::string range = part.substr(0, slash);
    int step = 1;
    if (slash != std::string::npos) {
      auto s = part.substr(slash + 1);
      if (s.empty() || s.size() > 4 || s.find_first_not_of("0123456789") != std::string::npos || std::stoi(s) == 0)
        return Error{"bad step \"" + s + "\"", where};
      step = std::stoi(s);
    }
    int low = f.low, high = f.high;
    if (range != "*") {
      auto dash = range.find('-');
      auto a = value(range.substr(0, dash), f, index);
      if (!a.ok()) return a.error();
      low = high = *a;
      if (dash != std::string::npos) {
        auto b = value(range.substr(dash + 1), f, index);
        if (!b.ok()) return b.error();
        high = *b;
      } else if (slash != std::string::npos) {
        high = f.high;  // "5/15" means 5-max/15
      }
      if (low > high) return Error{"range " + range + " runs backwards", where};
    }
    for (int v = low; v <= high; v += step) allowed[static_cast<size_t>(v)] = true;
  }
  return allowed;
}

std::string_view shorthand(std::string_view e) {
  if (e == "@yearly" || e == "@annually") return "0 0 1 1 *";
  if (e == "@monthly") return "0 0 1 * *";
  if (e == "@weekly") return "0 0 * * 0";
  if (e == "@daily" || e == "@midnight") return "0 0 * * *";
  if (e == "@hourly") return "0 * * * *";
  return e;
}

}  // namespace

struct CronSchedule::Zone {
  absl::TimeZone tz;
};

Result<CronSchedule> CronSchedule::parse(std::string_view expression, const std::string& time_zone) {
  CronSchedule out;
  out.expression_ = std::string(expression);
  out.time_zone_ = time_zone.empty() ? "Etc/UTC" : time_zone;
  absl::TimeZone tz;
  if (!absl::LoadTimeZone(out.time_zone_, &tz))
    return Error{"unknown time zone \"" + out.time_zone_ + "\"", "spec.schedule.timeZone"};
  std::vector<std::string> fields;
  for (const auto& f : split(shorthand(expression), ' '))
    if (!f.empty()) fields.push_back(f);
  if (fields.size() != 5)
    return Error{"expected 5 fields (minute hour day-of-month month day-of-week), got " + std::to_string(fields.size()),
                 "spec.schedule.cron"};
  bool star[5];
  std::vector<bool> sets[5];
  for (int i = 0; i < 5; ++i) {
    auto s = parseField(fields[static_cast<size_t>(i)], kFields[i], i, star[i]);
    if (!s.ok()) return Error{s.error().where + ": " + s.error().message, "spec.schedule.cron"};
    sets[i] = std::move(*s);
  }
  for (size_t m = 0; m < 60; ++m) out.minutes_[m] = sets[0][m];
  for (size_t h = 0; h < 24; ++h) out.hours_[h] = sets[1][h];
  for (size_t d = 1; d <= 31; ++d) out.days_[d] = sets[2][d];
  for (size_t m = 1; m <= 12; ++m) out.months_[m] = sets[3][m];
  for (size_t d = 0; d <= 7; ++d)
    if (sets[4][d]) out.weekdays_[d % 7] = true;  // 7 is Sunday too
  out.days_restricted_ = !star[2];
  out.weekdays_restricted_ = !star[4];
  return out;
}

std::optional<CronSchedule::Time> CronSchedule::next(Time after) const {
  absl::TimeZone tz;
  absl::LoadTimeZone(time_zone_, &tz);  // parse() proved it loads
  const absl::Time t = absl::FromChrono(after);
  absl::CivilMinute cm = absl::ToCivilMinute(t, tz) + 1;
  const absl::CivilMinute limit = cm + 5 * 366 * 24 * 60;
  auto day_matches = [&](absl::CivilDay d) {
    int wd = static_cast<int>(absl::GetWeekday(d));  // absl: Monday = 0 ... Sunday = 6
    bool dom = days_[static_cast<size_t>(d.day())];
    bool dow = weekdays_[static_cast<size_t>((wd + 1) % 7)];
    if (days_restricted_ && weekdays_restricted_) return dom || dow;
    return dom && dow;
  };
  while (cm < limit) {
    if (!months_[static_cast<size_t>(cm.month())]) {
      cm = absl::CivilMinute(absl::CivilMonth(cm) + 1);
      continue;
    }
    if (!day_matches(absl::CivilDay(cm))) {
      cm = absl::CivilMinute(absl::CivilDay(cm) + 1);
      continue;
    }
    if (!hours_[static_cast<size_t>(cm.hour())]) {
      cm = absl::CivilMinute(absl::CivilHour(cm) + 1);
      continue;
    }
    if (!minutes_[static_cast<size_t>(cm.minute())]) {
      cm += 1;
      continue;
    }
    // A civil time skipped by a DST jump maps to the instant after the jump;
    // one repeated by a fall-back maps to its first occurrence.
    absl::Time when = absl::FromCivil(cm, tz);
    if (when > t) return absl::ToChronoTime(when);
    cm += 1;
  }
  return std::nullopt;
}

}  // namespace herd::controller
