#include <gtest/gtest.h>

#include "common/scenario/compiler.h"

namespace herd::scenario {
namespace {

using namespace std::chrono_literals;

TEST(ParseDuration, ReadsEveryUnitAndCombinations) {
  EXPECT_EQ(*parseDuration("250ms"), 250ms);
  EXPECT_EQ(*parseDuration("2s"), 2s);
  EXPECT_EQ(*parseDuration("1m"), 1min);
  EXPECT_EQ(*parseDuration("1h"), 1h);
  EXPECT_EQ(*parseDuration("1m30s"), 90s);
  EXPECT_EQ(*parseDuration("1h2m3s4ms"), 1h + 2min + 3s + 4ms);
  EXPECT_EQ(*parseDuration("0s"), 0s);
}

TEST(ParseDuration, ReadsFractions) {
  EXPECT_EQ(*parseDuration("1.5s"), 1500ms);
  EXPECT_EQ(*parseDuration("0.25m"), 15s);
  EXPECT_EQ(*parseDuration(".5s"), 500ms);
  EXPECT_EQ(*parseDuration("0.0005ms"), 500ns);
}

TEST(ParseDuration, RejectsBareNumbersAndUnknownUnits) {
  for (const char* bad :
       {"", "10", "1.5", "s", "2 sec", "2sec", "1d", "1us", "1m 30s", " 1s", "1s ", ".s", "1,5s", "abc"}) {
    const auto result = parseDuration(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_NE(result.error().message.find("unparsable duration"), std::string::npos) << bad;
    EXPECT_NE(result.error().message.find("expected a number with a unit: ms, s, m, h"), std::string::npos);
  }
}

TEST(ParseDuration, RejectsNegatives) {
  const auto result = parseDuration("-1s");
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error().message, "negative duration \"-1s\" (durations are never negative)");
}

TEST(ParseDuration, RejectsOverflow) {
  EXPECT_TRUE(parseDuration("2562047h").ok());  // just below 2^63 ns
  for (const char* bad : {"2562048h", "99999999999999999999s", "9223372036854775807ms", "2562047h2562047h"}) {
    const auto result = parseDuration(bad);
    ASSERT_FALSE(result.ok()) << bad;
    EXPECT_NE(result.error().message.find("is too long"), std::string::npos) << result.error().message;
  }
}

TEST(FormatDuration, IsReadBackAsTheSameValue) {
  for (const Duration d : {Duration(0s), Duration(250ms), Duration(90s), Duration(1h + 1ms), Duration(1500us),
                           Duration(7ns), Duration::max()}) {
    const std::string text = formatDuration(d);
    const auto back = parseDuration(text);
    ASSERT_TRUE(back.ok()) << text;
    EXPECT_EQ(*back, d) << text;
  }
  EXPECT_EQ(formatDuration(90s), "1m30s");
  EXPECT_EQ(formatDuration(250ms), "250ms");
  EXPECT_EQ(formatDuration(1500us), "1.5ms");
}

}  // namespace
}  // namespace herd::scenario
