#include "common/scenario/extract.h"

#include <gtest/gtest.h>

namespace herd::scenario {
namespace {

TEST(JsonPath, CompilesToJsonPointer) {
  EXPECT_EQ(*jsonPathToPointer("$"), "");
  EXPECT_EQ(*jsonPathToPointer("$.user.id"), "/user/id");
  EXPECT_EQ(*jsonPathToPointer("$.items[2].name"), "/items/2/name");
  EXPECT_EQ(*jsonPathToPointer("$['a/b']['c~d']"), "/a~1b/c~0d");
  EXPECT_EQ(*jsonPathToPointer("$[\"x]y\"]"), "/x]y");
}

TEST(JsonPath, RejectsWhatItCannotEvaluate) {
  EXPECT_NE(jsonPathToPointer("user.id").error().message.find("must start with '$'"), std::string::npos);
  EXPECT_NE(jsonPathToPointer("$..id").error().message.find("recursive descent"), std::string::npos);
  EXPECT_NE(jsonPathToPointer("$.items[*]").error().message.find("unsupported step [*]"), std::string::npos);
  EXPECT_NE(jsonPathToPointer("$.a.*").error().message.find("no wildcards"), std::string::npos);
  EXPECT_NE(jsonPathToPointer("$.items[0").error().message.find("unclosed"), std::string::npos);
}

Plan planWithRegexes(std::vector<std::string> patterns) {
  Plan plan;
  plan.regexes = std::move(patterns);
  return plan;
}

TEST(ResponseReader, ReadsJsonValuesAsText) {
  const Plan plan;
  ResponseReader reader(plan);
  reader.reset(R"({"user": {"id": 42, "name": "a\"b", "ok": true, "none": null},
                   "items": [{"n": 1.5}, {"n": [1, 2]}]})");
  EXPECT_EQ(reader.json("/user/id"), "42");
  EXPECT_EQ(reader.json("/user/name"), "a\"b");
  EXPECT_EQ(reader.json("/user/ok"), "true");
  EXPECT_EQ(reader.json("/user/none"), "null");
  EXPECT_EQ(reader.json("/items/0/n"), "1.5");
  EXPECT_EQ(reader.json("/items/1/n"), "[1, 2]");  // the JSON text as sent
  EXPECT_EQ(reader.json("/items/7"), std::nullopt);
  EXPECT_EQ(reader.json("/missing"), std::nullopt);
  // Asking again, in any order, rereads the same document.
  EXPECT_EQ(reader.json("/user/id"), "42");
}

TEST(ResponseReader, NotJsonHasNoValues) {
  const Plan plan;
  ResponseReader reader(plan);
  reader.reset("<html>nope</html>");
  EXPECT_EQ(reader.json("/a"), std::nullopt);
  reader.reset("");
  EXPECT_EQ(reader.json(""), std::nullopt);
  reader.reset(R"({"a": 1})");  // a new body is parsed afresh
  EXPECT_EQ(reader.json("/a"), "1");
}

TEST(ResponseReader, RegexGroups) {
  const Plan plan = planWithRegexes({R"re(csrf" value="([^"]+)")re", "id=(\\d+)-(\\d+)"});
  ResponseReader reader(plan);
  reader.reset(R"(<input name="csrf" value="t0k3n"> id=12-34)");
  EXPECT_EQ(reader.regex(0, 1), "t0k3n");
  EXPECT_EQ(reader.regex(1, 2), "34");
  EXPECT_EQ(reader.regex(1, 0), "id=12-34");
  reader.reset("nothing here");
  EXPECT_EQ(reader.regex(0, 1), std::nullopt);
}

TEST(Regex, ValidatesAndCountsGroups) {
  int groups = -1;
  ASSERT_TRUE(checkRegex("a(b)(c)", groups).ok());
  EXPECT_EQ(groups, 2);
  EXPECT_FALSE(checkRegex("a(b", groups).ok());
}

TEST(HeaderValue, FindsFirstCaseInsensitive) {
  const std::string headers = "Content-Type: application/json\nSet-Cookie: a=1\nset-cookie: b=2\nX-Empty:\n";
  EXPECT_EQ(headerValue(headers, "content-type"), "application/json");
  EXPECT_EQ(headerValue(headers, "SET-COOKIE"), "a=1");
  EXPECT_EQ(headerValue(headers, "x-empty"), "");
  EXPECT_EQ(headerValue(headers, "missing"), std::nullopt);
}

}  // namespace
}  // namespace herd::scenario
