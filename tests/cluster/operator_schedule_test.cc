// The LoadTest reconciler's schedules (cron, concurrency policies, suspend) and its
// regression rule, against the real control plane (fixture: operator_suite.h).
#include "operator_suite.h"

namespace herd::k8s::testing {
namespace {

// Moves the operator's clock just past status.nextScheduleTime and runs a pass.
void passNextScheduleTime(OperatorHarness& harness, const json& st, const std::string& key) {
  auto next = controller::parseRfc3339(getString(st, "nextScheduleTime"));
  ASSERT_TRUE(next) << st.dump();
  harness.advance(std::chrono::duration_cast<std::chrono::milliseconds>(*next - harness.now()) + seconds(1));
  harness.kick(key);
}

}  // namespace

// An operator and a scheduled LoadTest whose first run the test has made due: its id.
std::string Operator::firstScheduledRun(const std::string& name, const char* cron, const char* policy) {
  startOperator(coord);
  auto spec = basicSpec(1);
  spec["schedule"] = {{"cron", cron}, {"concurrencyPolicy", policy}};
  spec["timeouts"] = {{"agentsReady", "1h"}, {"run", "1h"}};  // the clock jumps by minutes
  create(name, spec);
  EXPECT_TRUE(waitStatus(name, [](const json& s) { return !getString(s, "nextScheduleTime").empty(); }));
  passNextScheduleTime(*harness_, status(name), ns() + "/" + name);
  EXPECT_TRUE(waitStatus(name, [](const json& s) { return !getString(s, "runId").empty(); }));
  return runId(name);
}

namespace {

TEST_F(Operator, CronScheduleRunsTwiceWithTwoHistoryEntriesAndForbidPreventsOverlap) {
  startOperator(coord);
  auto spec = basicSpec(1);
  spec["schedule"] = {{"cron", "* * * * *"}, {"timeZone", "Europe/Paris"}, {"concurrencyPolicy", "Forbid"}};
  create("cron", spec);
  const auto key = ns() + "/cron";
  ASSERT_TRUE(waitStatus("cron", [](const json& s) { return !getString(s, "nextScheduleTime").empty(); }));
  EXPECT_TRUE(runId("cron").empty());  // a scheduled LoadTest does not run on creation

  passNextScheduleTime(*harness_, status("cron"), key);
  ASSERT_TRUE(waitStatus("cron", [](const json& s) { return k8s::getInt(getObject(s, "agents"), "ready") == 1; }));
  const auto first = runId("cron");
  EXPECT_EQ(getString(status("cron"), "runReason").rfind("schedule ", 0), 0u);
  coord.script(first, running(1));
  ASSERT_TRUE(waitStatus("cron", [](const json& s) { return getString(s, "phase") == "Running"; }));

  // Due again while the first run goes on: Forbid skips it.
  passNextScheduleTime(*harness_, status("cron"), key);
  EXPECT_TRUE(eventually(seconds(10), [&] { return has(eventReasons("cron"), "RunSkipped"); }));
  EXPECT_EQ(runId("cron"), first);
  EXPECT_EQ(coord.requests().size(), 1u);

  auto done = running(1);
  done.state = RunProgress::State::kFinished;
  done.verdict = RunProgress::Verdict::kPassed;
  coord.script(first, done);
  ASSERT_TRUE(waitStatus("cron", [](const json& s) { return getString(s, "phase") == "Succeeded"; }));

  passNextScheduleTime(*harness_, status("cron"), key);
  ASSERT_TRUE(waitStatus("cron", [&](const json& s) {
    return getString(s, "runId") != first && k8s::getInt(getObject(s, "agents"), "ready") == 1;
  }));
  const auto second = runId("cron");
  coord.script(second, done);
  ASSERT_TRUE(waitStatus("cron", [](const json& s) { return s.contains("history") && s["history"].size() == 2; }));
  auto st = status("cron");
  EXPECT_EQ(st["history"][0]["runId"], second);
  EXPECT_EQ(st["history"][1]["runId"], first);
  EXPECT_EQ(getString(st["history"][1], "trigger").rfind("schedule ", 0), 0u);
  EXPECT_TRUE(coord.aborted().empty());  // nothing overlapped, nothing was cut short
  EXPECT_EQ(coord.requests().size(), 2u);
}

TEST_F(Operator, CronReplaceStopsTheLiveRunAndSuspendStopsScheduling) {
  const auto key = ns() + "/replace";
  const auto first = firstScheduledRun("replace", "*/5 * * * *", "Replace");
  ASSERT_FALSE(HasFailure());
  passNextScheduleTime(*harness_, status("replace"), key);
  ASSERT_TRUE(waitStatus(
      "replace", [&](const json& s) { return !getString(s, "runId").empty() && getString(s, "runId") != first; }));
  EXPECT_EQ(coord.aborted().count(first), 1u);
  auto st = status("replace");
  ASSERT_EQ(st["history"].size(), 1u);
  EXPECT_EQ(st["history"][0]["reason"], "Superseded");

  ASSERT_TRUE(client_->patch(kLoadTests, ns(), "replace", {{"spec", {{"schedule", {{"suspend", true}}}}}}).ok());
  ASSERT_TRUE(waitStatus("replace", [](const json& s) { return getString(s, "nextScheduleTime").empty(); }));
  const auto second = runId("replace");
  harness_->advance(std::chrono::minutes(30));
  harness_->kick(key);
  EXPECT_FALSE(eventually(std::chrono::milliseconds(1500), [&] { return runId("replace") != second; }));
}

TEST_F(Operator, CronAllowStartsTheDueRunWhenTheLiveOneEnds) {
  const auto key = ns() + "/allow";
  const auto first = firstScheduledRun("allow", "*/10 * * * *", "Allow");
  ASSERT_FALSE(HasFailure());
  passNextScheduleTime(*harness_, status("allow"), key);  // due while the first is live: waits
  EXPECT_FALSE(eventually(std::chrono::milliseconds(800), [&] { return runId("allow") != first; }));
  EXPECT_FALSE(has(eventReasons("allow"), "RunSkipped"));
  auto done = running(1);
  done.state = RunProgress::State::kFinished;
  done.verdict = RunProgress::Verdict::kPassed;
  coord.script(first, done);
  ASSERT_TRUE(waitStatus(
      "allow", [&](const json& s) { return !getString(s, "runId").empty() && getString(s, "runId") != first; }));
  auto st = status("allow");
  ASSERT_EQ(st["history"].size(), 1u);
  EXPECT_EQ(st["history"][0]["verdict"], "Passed");
  EXPECT_TRUE(coord.aborted().empty());
}

TEST_F(Operator, RegressionRuleFailsARunSlowerThanTheLastPassingOne) {
  startOperator(coord);
  auto spec = basicSpec(1);
  spec["regression"] = {{"maxP95IncreasePercent", 20}};
  create("gate", spec);
  auto finish = [&](const std::string& run, double p95) {
    auto done = running(1);
    done.state = RunProgress::State::kFinished;
    done.verdict = RunProgress::Verdict::kPassed;
    done.totals.p95_ms = p95;
    coord.script(run, done);
  };
  ASSERT_TRUE(waitStatus("gate", [](const json& s) { return !getString(s, "runId").empty(); }));
  const auto first = runId("gate");
  finish(first, 100);
  ASSERT_TRUE(waitStatus("gate", [](const json& s) { return getString(s, "phase") == "Succeeded"; }));
  ASSERT_TRUE(
      client_->patch(kLoadTests, ns(), "gate", {{"metadata", {{"annotations", {{"herd.dev/run", "2"}}}}}}).ok());
  ASSERT_TRUE(waitStatus("gate", [&](const json& s) { return getString(s, "runId") != first; }));
  finish(runId("gate"), 130);  // thresholds passed, but 30% slower than the baseline
  ASSERT_TRUE(waitStatus("gate", [](const json& s) { return getString(s, "phase") == "Failed"; }));
  auto st = status("gate");
  EXPECT_EQ(getString(st, "verdict"), "Failed");
  EXPECT_EQ(getString(st, "reason"), "Regression");
  EXPECT_NE(getString(st, "message").find("30.0% above run " + first), std::string::npos) << getString(st, "message");
  EXPECT_TRUE(condition(st, "ThresholdsPassed", false));
  EXPECT_EQ(st["history"][0]["reason"], "Regression");
}

}  // namespace
}  // namespace herd::k8s::testing
