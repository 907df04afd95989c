// Data-driven: every file in tests/scenarios/invalid/ starts with
// `# expect: LINE:COL: <message substring>` and must fail to compile with exactly
// that place and a message containing that text; every file in
// tests/scenarios/valid/ must compile.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "common/scenario/compiler.h"

namespace herd::scenario {
namespace {

namespace fs = std::filesystem;

std::vector<std::string> filesIn(const std::string& folder) {
  std::vector<std::string> files;
  for (const auto& entry : fs::directory_iterator(fs::path(HERD_SCENARIO_CORPUS) / folder)) {
    if (entry.path().extension() == ".yaml") files.push_back(entry.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

std::string testName(const testing::TestParamInfo<std::string>& info) {
  std::string name = fs::path(info.param).stem().string();
  for (char& c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c))) c = '_';
  }
  return name;
}

std::string expectation(const std::string& path) {
  std::ifstream in(path);
  std::string first;
  std::getline(in, first);
  constexpr std::string_view kPrefix = "# expect: ";
  return first.starts_with(kPrefix) ? first.substr(kPrefix.size()) : std::string();
}

class InvalidScenario : public testing::TestWithParam<std::string> {};

TEST_P(InvalidScenario, FailsWithTheExpectedPlaceAndMessage) {
  const std::string& path = GetParam();
  const std::string expected = expectation(path);
  ASSERT_FALSE(expected.empty()) << path << " must begin with `# expect: LINE:COL: message`";
  ASSERT_TRUE(std::isdigit(static_cast<unsigned char>(expected[0]))) << "expectation starts with LINE:COL";
  const auto plan = compileFile(path);
  ASSERT_FALSE(plan.ok()) << path << " compiled";
  const std::string described = plan.error().describe();
  // `path:` + expectation pins the file, line and column as well as the message.
  EXPECT_NE(described.find(path + ":" + expected), std::string::npos)
      << "expected: " << path << ":" << expected << "\n     got: " << described;
  EXPECT_TRUE(plan.error().where.starts_with(path + ":")) << plan.error().where;
}

INSTANTIATE_TEST_SUITE_P(Corpus, InvalidScenario, testing::ValuesIn(filesIn("invalid")), testName);

class ValidScenario : public testing::TestWithParam<std::string> {};

TEST_P(ValidScenario, Compiles) {
  const auto plan = compileFile(GetParam());
  EXPECT_TRUE(plan.ok()) << plan.error().describe();
}

INSTANTIATE_TEST_SUITE_P(Corpus, ValidScenario, testing::ValuesIn(filesIn("valid")), testName);

TEST(Corpus, HasAtLeastThirtyInvalidScenarios) { EXPECT_GE(filesIn("invalid").size(), 30u); }

}  // namespace
}  // namespace herd::scenario
