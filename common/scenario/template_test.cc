#include "common/scenario/template.h"

#include <gtest/gtest.h>

#include <set>

namespace herd::scenario {
namespace {

using Kind = TemplatePart::Kind;

const std::map<std::string, std::string> kParams = {{"pageSize", "20"}, {"max", "7"}, {"word", "abc"}};

std::string render(const Template& tmpl, int64_t index = 0, std::string_view cls = "browser", uint64_t seed = 1) {
  Rng rng(seed);
  std::string out;
  renderTemplate(tmpl, RenderContext{index, cls, rng}, out);
  return out;
}

Template compiled(std::string_view text) {
  auto result = compileTemplate(text, kParams);
  EXPECT_TRUE(result.ok()) << text << ": " << (result.ok() ? "" : result.error().message);
  return result.ok() ? std::move(result).value() : Template{};
}

std::string errorOf(std::string_view text) {
  const auto result = compileTemplate(text, kParams);
  EXPECT_FALSE(result.ok()) << text;
  return result.ok() ? "" : result.error().message;
}

TEST(Template, LiteralTextIsOnePart) {
  const Template tmpl = compiled("/products/list");
  ASSERT_EQ(tmpl.parts.size(), 1u);
  EXPECT_TRUE(tmpl.isLiteral());
  EXPECT_EQ(render(tmpl), "/products/list");
  EXPECT_TRUE(compiled("").parts.empty());
  EXPECT_EQ(render(compiled("")), "");
}

TEST(Template, ParamsBecomeLiteralsMergedWithTheirNeighbours) {
  const Template tmpl = compiled("/p?size={{params.pageSize}}&w={{ params.word }}");
  ASSERT_EQ(tmpl.parts.size(), 1u);
  EXPECT_EQ(tmpl.parts[0].literal, "/p?size=20&w=abc");
}

TEST(Template, RendersUserIndexAndClass) {
  const Template tmpl = compiled("u{{user.index}}-{{ user.class }}!");
  ASSERT_EQ(tmpl.parts.size(), 5u);
  EXPECT_EQ(tmpl.parts[1].kind, Kind::kUserIndex);
  EXPECT_EQ(tmpl.parts[3].kind, Kind::kUserClass);
  EXPECT_EQ(render(tmpl, 42, "buyer"), "u42-buyer!");
  EXPECT_EQ(render(tmpl, -3, "x"), "u-3-x!");
}

TEST(Template, RenderAppendsToTheBuffer) {
  Rng rng(1);
  std::string out = "GET ";
  renderTemplate(compiled("/a/{{user.index}}"), RenderContext{9, "c", rng}, out);
  EXPECT_EQ(out, "GET /a/9");
}

TEST(Template, RandomStaysWithinInclusiveBoundsAndCoversThem) {
  const Template tmpl = compiled("{{random(1, 5)}}");
  ASSERT_EQ(tmpl.parts.size(), 1u);
  EXPECT_EQ(tmpl.parts[0].kind, Kind::kRandom);
  Rng rng(12345);
  std::set<std::string> seen;
  for (int i = 0; i < 2000; ++i) {
    std::string out;
    renderTemplate(tmpl, RenderContext{0, "c", rng}, out);
    const int value = std::stoi(out);
    ASSERT_GE(value, 1);
    ASSERT_LE(value, 5);
    seen.insert(out);
  }
  EXPECT_EQ(seen.size(), 5u);  // both bounds are reachable
}

TEST(Template, RandomAcceptsNegativeBoundsParamsAndASingleValue) {
  EXPECT_EQ(render(compiled("{{random(-4,-4)}}")), "-4");
  const Template tmpl = compiled("{{ random( 7 , params.max ) }}");
  EXPECT_EQ(tmpl.parts[0].low, 7);
  EXPECT_EQ(tmpl.parts[0].high, 7);
  const Template wide = compiled("{{random(-9223372036854775808, 9223372036854775807)}}");
  EXPECT_FALSE(render(wide).empty());
}

TEST(Template, SameSeedRendersTheSameSequence) {
  const Template tmpl = compiled("{{random(0, 1000000)}}");
  EXPECT_EQ(render(tmpl, 0, "c", 77), render(tmpl, 0, "c", 77));
}

TEST(Template, EscapesRunTimeValuesForTheirContext) {
  TemplateBuilder json;
  json.literal("{\"c\":\"");
  json.append(compiled("a\"{{user.class}}"), TemplatePart::Escape::kJson);
  json.literal("\"}");
  EXPECT_EQ(render(std::move(json).build(), 0, "x\"y\\z\n"), "{\"c\":\"a\\\"x\\\"y\\\\z\\u000A\"}");

  TemplateBuilder query;
  query.append(compiled("a b&{{user.class}}"), TemplatePart::Escape::kUrl);
  EXPECT_EQ(render(std::move(query).build(), 0, "c d/é"), "a%20b%26c%20d%2F%C3%A9");
}

TEST(Template, RejectsUnknownExpressions) {
  EXPECT_NE(errorOf("/x/{{user.name}}").find("unknown template expression \"{{user.name}}\""), std::string::npos);
  EXPECT_NE(errorOf("{{}}").find("unknown template expression"), std::string::npos);
  EXPECT_NE(errorOf("{{randomize(1,2)}}").find("unknown template expression"), std::string::npos);
  EXPECT_NE(errorOf("{{ {{user.index}} }}").find("unknown template expression"), std::string::npos);
}

TEST(Template, RejectsUnclosedBraces) {
  EXPECT_NE(errorOf("/x/{{user.index").find("unclosed \"{{\""), std::string::npos);
  EXPECT_NE(errorOf("{{user.index}} {{").find("unclosed"), std::string::npos);
}

TEST(Template, RejectsUnknownParamsNamingTheDeclaredOnes) {
  const std::string message = errorOf("{{params.nope}}");
  EXPECT_NE(message.find("unknown param \"nope\""), std::string::npos) << message;
  EXPECT_NE(message.find("declared: max, pageSize, word"), std::string::npos) << message;
  const auto none = compileTemplate("{{params.x}}", {});
  EXPECT_NE(none.error().message.find("no params are declared"), std::string::npos);
}

TEST(Template, RejectsMalformedRandom) {
  EXPECT_NE(errorOf("{{random(5, 1)}}").find("random(5, 1): the low bound is greater than the high bound"),
            std::string::npos);
  EXPECT_NE(errorOf("{{random(1)}}").find("two arguments"), std::string::npos);
  EXPECT_NE(errorOf("{{random(1,2,3)}}").find("two arguments"), std::string::npos);
  EXPECT_NE(errorOf("{{random 1, 2}}").find("expected random(a, b)"), std::string::npos);
  EXPECT_NE(errorOf("{{random(a, 2)}}").find("not an integer"), std::string::npos);
  EXPECT_NE(errorOf("{{random(1, 99999999999999999999)}}").find("not an integer"), std::string::npos);
  EXPECT_NE(errorOf("{{random(1, params.word)}}").find("params.word = \"abc\" is not an integer"), std::string::npos);
}

}  // namespace
}  // namespace herd::scenario
