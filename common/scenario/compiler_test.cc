#include "common/scenario/compiler.h"

#include <gtest/gtest.h>

#include "common/scenario/template.h"

namespace herd::scenario {
namespace {

using namespace std::chrono_literals;

constexpr const char* kShop = R"(name: shop
target: http://127.0.0.1:8080
params: {pageSize: 20, tenant: acme}
defaults:
  timeout: 5s
  headers: {accept: application/json, X-Tenant: "{{params.tenant}}"}
users:
  - name: browser
    weight: 3
    onStart:
      - post: {url: /login, json: {user: "u{{user.index}}", remember: true, n: 3}, name: login}
    steps:
      - get: /products?page={{random(1, 50)}}&size={{params.pageSize}}
        name: /products?page=[n]
      - get: /products?page={{random(1, 50)}}&size={{params.pageSize}}
        name: /products?page=[n]
      - think: {between: [1s, 3s]}
      - get: {url: "http://cdn.local:9000/img/{{user.index}}.png", headers: {ACCEPT: image/png}, timeout: 2s}
  - name: buyer
    count: 2
    tasks:
      - {weight: 5, steps: [{get: /cart}, {think: 2s}]}
      - {steps: [{post: {url: /checkout, form: {qty: 1, note: "a b&c"}}}, {think: {pacing: 5s}}]}
      - {weight: 0.5, steps: [{get: "http://cdn.local:9000/x"}, {request: {method: purge, url: /cache}}]}
load: {users: 100, spawnRate: 10, duration: 1m}
thresholds:
  - "http.latency p95 < 500ms"
  - http.failures rate < 1%
)";

std::string render(const Template& tmpl, int64_t index = 7, std::string_view cls = "browser") {
  Rng rng(3);
  std::string out;
  renderTemplate(tmpl, RenderContext{index, cls, rng}, out);
  return out;
}

Plan compileOk(std::string_view yaml, const CompileOptions& options = {}) {
  auto plan = compileString(yaml, "shop.yaml", options);
  EXPECT_TRUE(plan.ok()) << (plan.ok() ? "" : plan.error().describe());
  return plan.ok() ? std::move(plan).value() : Plan{};
}

std::string compileError(std::string_view yaml, const CompileOptions& options = {}) {
  auto plan = compileString(yaml, "s.yaml", options);
  EXPECT_FALSE(plan.ok());
  return plan.ok() ? "" : plan.error().describe();
}

const RequestStep& request(const Step& step) { return std::get<RequestStep>(step); }

std::string header(const RequestStep& step, std::string_view name) {
  for (const auto& h : step.headers) {
    if (h.name == name) return render(h.value);
  }
  return "<none>";
}

TEST(Compiler, CompilesTheShopScenario) {
  const Plan plan = compileOk(kShop);
  EXPECT_EQ(plan.name, "shop");
  EXPECT_EQ(plan.source_file, "shop.yaml");
  ASSERT_EQ(plan.origins.size(), 2u);
  EXPECT_EQ(plan.origins[0].toString(), "http://127.0.0.1:8080");
  EXPECT_EQ(plan.origins[1].toString(), "http://cdn.local:9000");
  EXPECT_EQ(plan.params.at("pageSize"), "20");
  EXPECT_EQ(plan.load.users, 100);
  EXPECT_EQ(plan.load.spawn_rate, 10);
  EXPECT_EQ(plan.load.duration, 1min);
  EXPECT_EQ(plan.thresholds, (std::vector<ThresholdSpec>{{"http.latency p95 < 500ms"}, {"http.failures rate < 1%"}}));
}

TEST(Compiler, DeduplicatesEndpointsByNameAndMethod) {
  const Plan plan = compileOk(kShop);
  std::vector<std::pair<std::string, std::string>> endpoints;
  for (const auto& e : plan.endpoints) endpoints.emplace_back(e.name, e.method);
  const std::vector<std::pair<std::string, std::string>> expected = {
      {"login", "POST"},  {"/products?page=[n]", "GET"}, {"http://cdn.local:9000/img/{{user.index}}.png", "GET"},
      {"/cart", "GET"},   {"/checkout", "POST"},         {"http://cdn.local:9000/x", "GET"},
      {"/cache", "PURGE"}};
  EXPECT_EQ(endpoints, expected);
  const auto& steps = plan.classes[0].steps;
  EXPECT_EQ(request(steps[0]).endpoint, 1u);
  EXPECT_EQ(request(steps[1]).endpoint, 1u);
  EXPECT_EQ(request(steps[3]).endpoint, 2u);
}

TEST(Compiler, BuildsUserClasses) {
  const Plan plan = compileOk(kShop);
  ASSERT_EQ(plan.classes.size(), 2u);
  const UserClass& browser = plan.classes[0];
  EXPECT_EQ(browser.name, "browser");
  EXPECT_EQ(browser.weight, 3);
  EXPECT_FALSE(browser.count);
  EXPECT_EQ(browser.on_start.size(), 1u);
  EXPECT_EQ(browser.steps.size(), 4u);
  EXPECT_TRUE(browser.tasks.empty());
  const UserClass& buyer = plan.classes[1];
  EXPECT_EQ(buyer.count, 2);
  EXPECT_EQ(buyer.weight, 0);
  ASSERT_EQ(buyer.tasks.size(), 3u);
  EXPECT_EQ(buyer.tasks[0].weight, 5);
  EXPECT_EQ(buyer.tasks[1].weight, 1);
  EXPECT_EQ(buyer.tasks[2].weight, 0.5);
  EXPECT_TRUE(buyer.steps.empty());
}

TEST(Compiler, SplitsTemplatesAndSubstitutesParams) {
  const Plan plan = compileOk(kShop);
  const RequestStep& products = request(plan.classes[0].steps[0]);
  EXPECT_EQ(products.method, "GET");
  EXPECT_EQ(products.origin, 0u);
  ASSERT_EQ(products.path.parts.size(), 3u);
  EXPECT_EQ(products.path.parts[0].literal, "/products?page=");
  EXPECT_EQ(products.path.parts[1].kind, TemplatePart::Kind::kRandom);
  EXPECT_EQ(products.path.parts[2].literal, "&size=20");
  const RequestStep& image = request(plan.classes[0].steps[3]);
  EXPECT_EQ(image.origin, 1u);
  EXPECT_EQ(render(image.path, 12), "/img/12.png");
}

TEST(Compiler, MergesHeadersCaseInsensitivelyWithTheStepWinning) {
  const Plan plan = compileOk(kShop);
  const RequestStep& products = request(plan.classes[0].steps[0]);
  ASSERT_EQ(products.headers.size(), 2u);
  EXPECT_EQ(header(products, "accept"), "application/json");
  EXPECT_EQ(header(products, "X-Tenant"), "acme");
  const RequestStep& image = request(plan.classes[0].steps[3]);
  ASSERT_EQ(image.headers.size(), 2u);
  EXPECT_EQ(header(image, "X-Tenant"), "acme");
  EXPECT_EQ(header(image, "ACCEPT"), "image/png");
  EXPECT_EQ(header(image, "accept"), "<none>");
}

TEST(Compiler, AppliesTimeouts) {
  const Plan plan = compileOk(kShop);
  EXPECT_EQ(request(plan.classes[0].steps[0]).timeout, 5s);
  EXPECT_EQ(request(plan.classes[0].steps[3]).timeout, 2s);
  const Plan bare = compileOk(
      "name: x\ntarget: http://h\nusers: [{name: a, steps: [{get: /}]}]\nload: {users: 1, duration: 1s}\n");
  EXPECT_EQ(request(bare.classes[0].steps[0]).timeout, 10s);
  EXPECT_EQ(bare.classes[0].weight, 1);
  EXPECT_EQ(bare.load.spawn_rate, 1);
}

TEST(Compiler, SerialisesBodies) {
  const Plan plan = compileOk(kShop);
  const RequestStep& login = request(plan.classes[0].on_start[0]);
  EXPECT_EQ(login.content_type, "application/json");
  ASSERT_TRUE(login.body);
  EXPECT_EQ(render(*login.body, 42), R"({"user":"u42","remember":true,"n":3})");
  const RequestStep& checkout = request(plan.classes[1].tasks[1].steps[0]);
  EXPECT_EQ(checkout.content_type, "application/x-www-form-urlencoded");
  EXPECT_EQ(render(*checkout.body), "qty=1&note=a%20b%26c");
  EXPECT_FALSE(request(plan.classes[0].steps[0]).body);
}

TEST(Compiler, CompilesThinkSteps) {
  const Plan plan = compileOk(kShop);
  const auto& between = std::get<ThinkStep>(plan.classes[0].steps[2]);
  EXPECT_EQ(between.kind, ThinkStep::Kind::kBetween);
  EXPECT_EQ(between.min, 1s);
  EXPECT_EQ(between.max, 3s);
  const auto& fixed = std::get<ThinkStep>(plan.classes[1].tasks[0].steps[1]);
  EXPECT_EQ(fixed.kind, ThinkStep::Kind::kFixed);
  EXPECT_EQ(fixed.min, 2s);
  const auto& pacing = std::get<ThinkStep>(plan.classes[1].tasks[1].steps[1]);
  EXPECT_EQ(pacing.kind, ThinkStep::Kind::kPacing);
  EXPECT_EQ(pacing.min, 5s);
}

TEST(Compiler, OptionsOverrideParamsTargetAndLoad) {
  CompileOptions options;
  options.params = {{"pageSize", "50"}, {"extra", "1"}};
  options.target = "https://shop.perf.svc";
  options.users = 2000;
  options.duration = 10min;
  const Plan plan = compileOk(kShop, options);
  EXPECT_EQ(plan.params.at("pageSize"), "50");
  EXPECT_EQ(plan.params.at("extra"), "1");
  EXPECT_EQ(plan.origins[0].toString(), "https://shop.perf.svc:443");
  EXPECT_EQ(request(plan.classes[0].steps[0]).path.parts[2].literal, "&size=50");
  EXPECT_EQ(plan.load.users, 2000);
  EXPECT_EQ(plan.load.spawn_rate, 10);  // the file's, since no flag replaced it
  EXPECT_EQ(plan.load.duration, 10min);
}

TEST(Compiler, FlagsSupplyWhatTheLoadBlockOmits) {
  const std::string yaml = "name: x\nusers: [{name: a, steps: [{get: /}]}]\n";
  CompileOptions options;
  options.target = "http://127.0.0.1:1";
  options.users = 40;
  options.duration = 30s;
  const Plan plan = compileOk(yaml, options);
  EXPECT_EQ(plan.load.users, 40);
  EXPECT_EQ(plan.load.spawn_rate, 40);  // default: everyone within a second
  options.duration.reset();
  EXPECT_EQ(compileError(yaml, options), "s.yaml:1:1: load.duration: required (e.g. 1m, or --duration)");
}

TEST(Compiler, ReportsBadFlagsByTheirName) {
  CompileOptions options;
  options.users = 0;
  EXPECT_EQ(compileError(kShop, options), "--users: must be at least 1, got 0");
  options = {};
  options.spawn_rate = 0;
  EXPECT_EQ(compileError(kShop, options), "--spawn-rate: must be greater than 0");
  options = {};
  options.duration = -1s;
  EXPECT_EQ(compileError(kShop, options), "--duration: must be greater than 0");
  options = {};
  options.target = "ftp://x";
  EXPECT_NE(compileError(kShop, options).find("--target: unsupported scheme"), std::string::npos);
  options = {};
  options.params = {{"bad-name", "1"}};
  EXPECT_NE(compileError(kShop, options).find("-p bad-name: "), std::string::npos);
}

TEST(Compiler, ChecksParamOverridesWhereTheyAreUsedAsNumbers) {
  const std::string yaml =
      "name: x\ntarget: http://h\nparams: {n: 5}\nusers: [{name: a, steps: [{get: /}]}]\n"
      "load: {users: \"{{params.n}}\", duration: 1s}\n";
  EXPECT_EQ(compileOk(yaml).load.users, 5);
  CompileOptions options;
  options.params = {{"n", "many"}};
  EXPECT_EQ(compileError(yaml, options),
            "s.yaml:5:15: load.users: expected an integer, got \"many\" (written as \"{{params.n}}\")");
}

TEST(Compiler, QueryMapsAreEncodedAndAppended) {
  const Plan plan = compileOk(
      "name: x\ntarget: http://h\nusers:\n  - name: a\n    steps:\n"
      "      - get: {url: \"/s?x=1\", query: {q: \"a b\", id: \"{{user.index}}\", tag: [p, \"q&r\"]}}\n"
      "      - get: {url: /t, query: {k: v}}\nload: {users: 1, duration: 1s}\n");
  EXPECT_EQ(render(request(plan.classes[0].steps[0]).path, 5), "/s?x=1&q=a%20b&id=5&tag=p&tag=q%26r");
  EXPECT_EQ(render(request(plan.classes[0].steps[1]).path), "/t?k=v");
  EXPECT_EQ(plan.endpoints[0].name, "/s?x=1");  // the URL as written, without the query map
}

TEST(Compiler, ExplicitContentTypeHeaderWins) {
  const Plan plan = compileOk(
      "name: x\ntarget: http://h\nusers:\n  - name: a\n    steps:\n"
      "      - post: {url: /j, json: [1, \"s\", null, {}], headers: {Content-Type: application/vnd.api+json}}\n"
      "      - put: {url: /b, body: \"raw {{user.class}}\"}\nload: {users: 1, duration: 1s}\n");
  const RequestStep& json = request(plan.classes[0].steps[0]);
  EXPECT_EQ(json.content_type, "");
  EXPECT_EQ(render(*json.body), R"([1,"s",null,{}])");
  const RequestStep& raw = request(plan.classes[0].steps[1]);
  EXPECT_EQ(raw.content_type, "");
  EXPECT_EQ(render(*raw.body, 0, "a"), "raw a");
}

TEST(Compiler, JsonKeepsQuotedScalarsAsStrings) {
  const Plan plan = compileOk(
      "name: x\ntarget: http://h\nusers:\n  - name: a\n    steps:\n"
      "      - post: {url: /j, json: {a: \"1\", b: 1.5e3, c: 007, d: yes, e: !!str true, f: ~, g: \"q\\\"\", h: }}\n"
      "load: {users: 1, duration: 1s}\n");
  EXPECT_EQ(render(*request(plan.classes[0].steps[0]).body),
            R"({"a":"1","b":1.5e3,"c":"007","d":"yes","e":"true","f":null,"g":"q\"","h":null})");
}

TEST(Compiler, AbsoluteUrlsReuseOrigins) {
  const Plan plan = compileOk(
      "name: x\ntarget: http://h:80\nusers:\n  - name: a\n    steps:\n"
      "      - get: http://H/a\n      - get: \"http://other:81?x={{user.index}}\"\n      - get: http://other:81\n"
      "load: {users: 1, duration: 1s}\n");
  ASSERT_EQ(plan.origins.size(), 2u);
  EXPECT_EQ(request(plan.classes[0].steps[0]).origin, 0u);
  EXPECT_EQ(render(request(plan.classes[0].steps[0]).path), "/a");
  EXPECT_EQ(request(plan.classes[0].steps[1]).origin, 1u);
  EXPECT_EQ(render(request(plan.classes[0].steps[1]).path, 3), "/?x=3");
  EXPECT_EQ(render(request(plan.classes[0].steps[2]).path), "/");
}

TEST(Compiler, ErrorsNameFileLineColumnAndFieldPath) {
  const auto plan = compileString(
      "name: x\ntarget: http://h\nusers:\n  - name: a\n    steps:\n      - get: /\n      - get: /\n      - think: 2 "
      "sec\n"
      "load: {users: 1, duration: 1s}\n",
      "shop.yaml");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().where, "shop.yaml:8:16");
  EXPECT_EQ(plan.error().message,
            "users[0].steps[2].think: unparsable duration \"2 sec\" (expected a number with a unit: ms, s, m, h)");
}

TEST(Compiler, UnknownKeysSuggestAndListTheAllowedOnes) {
  const std::string message = compileError(
      "name: x\ntarget: http://h\nusers:\n  - name: a\n    stpes: []\nload: {users: 1, duration: 1s}\n");
  EXPECT_EQ(message,
            "s.yaml:5:5: users[0].stpes: unknown key (did you mean \"steps\"? allowed keys: name, weight, count, "
            "onStart, onStop, steps, tasks, code)");
}

TEST(Compiler, AliasBombsAndCyclesAreBounded) {
  std::string bomb = "name: x\ntarget: http://h\na0: &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    bomb += "a" + std::to_string(i) + ": &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) bomb += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    bomb += "]\n";
  }
  // Unknown keys stop this one early; inside a json body it must stop by budget.
  EXPECT_NE(compileError(bomb).find("unknown key"), std::string::npos);
  std::string json =
      "name: x\ntarget: http://h\nusers:\n  - name: a\n    steps:\n      - post:\n          url: /\n          json:\n";
  json += "            - &a0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 9; ++i) {
    json += "            - &a" + std::to_string(i) + " [";
    for (int j = 0; j < 10; ++j) json += std::string(j ? ", " : "") + "*a" + std::to_string(i - 1);
    json += "]\n";
  }
  EXPECT_NE(compileError(json).find("scenario too large"), std::string::npos);
  const std::string cycle =
      "name: x\ntarget: http://h\nusers:\n  - name: a\n    steps:\n      - post: {url: /, json: &c [*c]}\n";
  EXPECT_NE(compileError(cycle).find("nested more than"), std::string::npos);
}

TEST(Compiler, RejectsASecondDocument) {
  EXPECT_NE(compileError("name: x\n---\nname: y\n").find("one YAML document"), std::string::npos);
}

TEST(Compiler, StrayFlowCommaIsAnErrorNotAHang) {
  // YAML::LoadAll loops forever on this (yaml-cpp 0.7); found by scenario_fuzz.
  EXPECT_NE(compileError(",}").find("s.yaml:"), std::string::npos);
  EXPECT_NE(compileError(",# x").find("s.yaml:"), std::string::npos);
}

TEST(Compiler, CompileFileReportsMissingFiles) {
  const auto plan = compileFile("/nonexistent/scenario.yaml");
  ASSERT_FALSE(plan.ok());
  EXPECT_EQ(plan.error().describe(), "/nonexistent/scenario.yaml: cannot open the scenario file");
}

TEST(Compiler, CodeOriginsAreAddedToThePlanAndTakeTheDefaultHttpVersion) {
  auto plan = compileString(
      "name: x\ntarget: http://h\nparams: {m: \"http://m:81\"}\ndefaults: {http: \"2\"}\nusers:\n"
      "  - name: a\n    code: {library: a.so, class: A, origins: [\"https://api.example:8443\", \"{{params.m}}\"]}\n"
      "  - name: b\n    steps: [{get: \"http://m:81/x\"}]\n"
      "load: {users: 1, duration: 1s}\n",
      "s.yaml");
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  ASSERT_EQ(plan->origins.size(), 3u);
  const auto& code = *plan->classes[0].code;
  EXPECT_EQ(code.http, HttpVersion::kHttp2);
  ASSERT_EQ(code.origins.size(), 2u);
  EXPECT_EQ(code.origins[0].url, "https://api.example:8443");
  EXPECT_EQ(plan->origins[code.origins[0].origin].toString(), "https://api.example:8443");
  EXPECT_EQ(code.origins[1].url, "http://m:81");
  // The YAML class's request to the same origin shares its index.
  EXPECT_EQ(std::get<RequestStep>(plan->classes[1].steps[0]).origin, code.origins[1].origin);
}

TEST(Compiler, ACodeOriginThatIsNotAnOriginIsAnErrorAtItsPlace) {
  const std::string message = compileError(
      "name: x\ntarget: http://h\nusers:\n  - name: a\n    code: {library: a.so, class: A, origins: [ftp://x]}\n"
      "load: {users: 1, duration: 1s}\n");
  EXPECT_EQ(message,
            "s.yaml:5:47: users[0].code.origins[0]: unsupported scheme \"ftp\" in \"ftp://x\" (herd speaks http and "
            "https)");
}

}  // namespace
}  // namespace herd::scenario
