// The language beyond the core: checks, captures, retries, flow steps.
#include <gtest/gtest.h>

#include "common/scenario/compiler.h"
#include "common/scenario/template.h"

namespace herd::scenario {
namespace {

using namespace std::chrono_literals;

constexpr const char* kFlow = R"(name: flow
target: http://127.0.0.1:8080
defaults:
  retry: {on: [connect, 5xx], attempts: 3, backoff: {base: 50ms, max: 1s}}
users:
  - name: learner
    onStart:
      - post:
          url: /login
          json: {user: "u{{user.index}}"}
          check: {status: [200, 201], jsonPath: {"$.ok": "true", "$.id": ~}, header: {content-type: application/json}}
          capture: {token: {jsonPath: "$.token"}, sid: {cookie: SID}, etag: {header: ETag}, csrf: {regex: 'csrf=(\w+)'}}
          retry: none
    steps:
      - get: {url: "/me?t={{token}}", headers: {authorization: "Bearer {{token}}"}, check: {bodyContains: [welcome, "{{token}}"]}}
      - if: {chance: 25%}
        then: [{get: /extra}]
        else: [{think: 1s}]
      - loop: {over: [a, "b c"], as: item, steps: [{get: "/items/{{item}}"}]}
      - loop: {count: 2, steps: [{set: {n: "x{{n}}"}}, {think: 10ms}]}
      - loop: {while: {notEquals: ["{{n}}", done]}, steps: [{set: {n: done}}, {think: 10ms}]}
      - parallel:
          - [{loop: {forever: true, steps: [{get: /poll}]}}]
          - [{get: /publish}, {stopUser: true}]
    onStop:
      - post: /logout
load: {users: 1, duration: 1s}
)";

TEST(Flow, CompilesEveryConstruct) {
  auto compiled = compileString(kFlow, "flow.yaml");
  ASSERT_TRUE(compiled.ok()) << compiled.error().describe();
  const Plan& plan = *compiled;
  EXPECT_EQ(plan.variables, (std::vector<std::string>{"token", "sid", "etag", "csrf", "item", "n"}));
  const auto& cls = plan.classes[0];
  const auto& login = std::get<RequestStep>(cls.on_start[0]);
  ASSERT_EQ(login.checks.size(), 4u);
  EXPECT_EQ(login.checks[0].statuses, (std::vector<int>{200, 201}));
  EXPECT_EQ(login.checks[1].kind, Check::Kind::kHeader);
  EXPECT_EQ(login.checks[2].pointer, "/ok");
  EXPECT_FALSE(login.checks[3].expected.has_value());
  EXPECT_EQ(plan.checks[login.checks[3].id], "jsonPath $.id exists");
  ASSERT_EQ(login.captures.size(), 4u);
  EXPECT_EQ(login.captures[3].group, 1);
  EXPECT_EQ(plan.regexes, std::vector<std::string>{"csrf=(\\w+)"});
  EXPECT_TRUE(login.needs_body);
  EXPECT_TRUE(login.needs_headers);
  EXPECT_FALSE(login.retry.has_value());  // retry: none beats the default

  const auto& me = std::get<RequestStep>(cls.steps[0]);
  ASSERT_TRUE(me.retry.has_value());
  EXPECT_EQ(me.retry->attempts, 3);
  EXPECT_EQ(me.retry->on, RetryPolicy::kConnect | RetryPolicy::k5xx);
  EXPECT_EQ(me.retry->base, 50ms);
  Rng rng(1);
  const std::vector<std::string> vars{"a b#", "", "", "", "", ""};
  std::string out;
  renderTemplate(me.path, RenderContext{1, "learner", rng, &vars}, out);
  EXPECT_EQ(out, "/me?t=a%20b%23");
  out.clear();
  renderTemplate(me.headers[0].value, RenderContext{1, "learner", rng, &vars}, out);
  EXPECT_EQ(out, "Bearer a b#");

  const auto& branch = std::get<IfStep>(cls.steps[1]);
  EXPECT_DOUBLE_EQ(branch.condition.chance, 0.25);
  EXPECT_EQ(branch.then_steps->steps.size(), 1u);
  const auto& over = std::get<LoopStep>(cls.steps[2]);
  EXPECT_EQ(over.kind, LoopStep::Kind::kOver);
  EXPECT_EQ(over.items.size(), 2u);
  EXPECT_EQ(std::get<LoopStep>(cls.steps[3]).count, 2);
  EXPECT_EQ(std::get<LoopStep>(cls.steps[4]).condition.kind, Condition::Kind::kNotEquals);
  const auto& parallel = std::get<ParallelStep>(cls.steps[5]);
  ASSERT_EQ(parallel.branches.size(), 2u);
  EXPECT_TRUE(std::holds_alternative<StopUserStep>(parallel.branches[1]->steps[1]));
  EXPECT_EQ(cls.on_stop.size(), 1u);
}

std::string compileError(std::string_view yaml) {
  auto plan = compileString(yaml, "s.yaml");
  EXPECT_FALSE(plan.ok());
  return plan.ok() ? "" : plan.error().describe();
}

TEST(Flow, UnknownVariableNamesItsFirstRead) {
  const auto error = compileError(R"(name: x
target: http://127.0.0.1:8080
users:
  - name: a
    steps:
      - get: {url: /, capture: {token: {header: X-Token}}}
      - get: "/me?t={{tokn}}"
load: {users: 1, duration: 1s}
)");
  EXPECT_NE(error.find("s.yaml:7:14: users[0].steps[1].get: unknown variable \"tokn\""), std::string::npos) << error;
  EXPECT_NE(error.find("did you mean \"token\"?"), std::string::npos) << error;
}

}  // namespace
}  // namespace herd::scenario
