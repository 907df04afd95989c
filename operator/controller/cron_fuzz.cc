// libFuzzer target for the cron parser and next-time search: any expression
// (and a time zone taken from the input's first line) parses or fails with an
// Error, and next() terminates, never crashing.
#include <cstddef>
#include <cstdint>
#include <string>

#include "operator/controller/cron.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  std::string zone = "Europe/Paris";
  if (auto nl = text.find('\n'); nl != std::string::npos && nl < 64) {
    zone = text.substr(0, nl);
    text.erase(0, nl + 1);
  }
  auto cron = herd::controller::CronSchedule::parse(text, zone);
  if (cron.ok()) (void)cron->next(std::chrono::system_clock::time_point{} + std::chrono::hours(24 * 365 * 56));
  return 0;
}
