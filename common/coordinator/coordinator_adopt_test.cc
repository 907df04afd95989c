// A coordinator taking over a running test (coordinator_adopt.cc), and reconnects.
#include "common/coordinator/coordinator_test_fixture.h"

namespace herd::coordinator::test {
namespace {

// The wall-clock time `ago` before now, as a Start message carries it.
int64_t unixNanosAgo(Nanos ago) {
  return std::chrono::duration_cast<Nanos>((std::chrono::system_clock::now() - ago).time_since_epoch()).count();
}

TEST_F(CoordinatorTest, ANewCoordinatorAdoptingAnAgentMidRunEndsWithExactlyItsTotals) {
  auto tick = [](v1::AgentMessage m, uint64_t t) {
    m.mutable_report()->set_tick(t);
    m.mutable_report()->set_users(10);
    return m;
  };
  const std::vector<v1::AgentMessage> history{tick(report(1, 10), 1), tick(report(2, 20), 2), tick(report(3, 30), 3)};
  CoordinatorOptions options;
  options.run_id = "run-1";
  options.token = "s3cret";
  options.start_delay = std::chrono::milliseconds(10);
  options.lost_after = std::chrono::milliseconds(300);
  options.ack_interval = std::chrono::milliseconds(50);  // the Ack below comes before the agent is lost
  auto first = std::make_unique<Coordinator>(plan_, std::vector<report::Threshold>{}, options);
  auto was = startOne(*first);
  ASSERT_TRUE(was->assignment && was->start);
  first->receive(was->stream, history[0]);
  first->receive(was->stream, history[1]);
  ASSERT_TRUE(next(*was->stream, v1::CoordinatorMessage::kAck));
  // Report 3 never reaches it: the coordinator hears nothing more and ends (the
  // agent is lost to it), and is destroyed while the agent runs on.
  was->runner.join();
  ASSERT_TRUE(was->result && was->result->ok());
  EXPECT_EQ((*was->result)->aggregate.total().requests(), 30u);
  first.reset();
  const int64_t start_unix = was->start->start().start_unix_nanos();

  auto second = make(1);
  auto a = second->connect("a-again");
  second->receive(a, resumeHello(*was, 2, 3));
  auto welcome = next(*a, v1::CoordinatorMessage::kWelcome);
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->welcome().applied_sequence(), 0u);  // a new instance: everything again
  EXPECT_EQ(second->status().phase, "running");          // learnt from the agent, no barrier
  for (const auto& m : history) second->receive(a, m);
  second->receive(a, history[1]);  // a repeat changes nothing
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(second->run()); });
  auto start = next(*a, v1::CoordinatorMessage::kStart);
  if (!start) runner.join();
  ASSERT_TRUE(start);
  EXPECT_EQ(start->start().start_unix_nanos(), start_unix);
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStop));  // the end of its 1 s duration
  second->receive(a, tick(report(4, 5, true), 4));
  runner.join();
  ASSERT_TRUE(result && result->ok());
  const auto& run = **result;
  EXPECT_EQ(run.aggregate.total().requests(), 65u);
  EXPECT_EQ(run.info.verdict, report::Verdict::kPassed);
  EXPECT_EQ(std::chrono::duration_cast<Nanos>(run.info.start.time_since_epoch()).count(), start_unix);
  EXPECT_DOUBLE_EQ(run.info.duration_seconds, 1.0);
  uint64_t in_series = 0;
  for (const auto& sample : run.aggregate.series()) in_series += sample.requests;
  EXPECT_EQ(in_series, 65u);
  ASSERT_GE(run.aggregate.series().size(), 3u);
  EXPECT_EQ(run.aggregate.series()[1].requests, 20u);  // second 2 is report 2's, as the agent measured it
  EXPECT_EQ(run.aggregate.series()[1].users, 10);
  EXPECT_EQ(run.info.extra["distributed"]["agents"][0]["reports"], 4);
  EXPECT_EQ(run.info.extra["distributed"]["agents"][0]["requests"], 65);
}

// Taking over with an agent missing: the run resumes once `lost_after` has
// passed, the missing agent's users go to the one that is back, and when the
// missing one comes later its users stop (a newer, empty assignment) while its
// history still counts.
TEST_F(CoordinatorTest, AnAgentBackAfterTheTakeoverKeepsItsCountsButNotItsUsers) {
  Coordinator coordinator(plan_, std::vector<report::Threshold>{}, takeoverOptions());
  // The run started 2 s ago: its 1 s duration is over, the agents are finishing.
  const int64_t start_unix = unixNanosAgo(std::chrono::seconds(2));
  auto resumed = [&](const std::string& id, int64_t first) {
    auto h = hello(id, "s3cret", 1, "run-1");
    auto& resume = *h.mutable_hello()->mutable_resume();
    resume.set_generation(1);
    auto& range = *resume.add_ranges();
    range.set_first(first);
    range.set_count(5);
    resume.set_start_unix_nanos(start_unix);
    resume.set_first_kept_sequence(1);
    resume.set_last_sequence(1);
    return h;
  };
  auto a = coordinator.connect("a");
  coordinator.receive(a, resumed("agent-a", 0));
  coordinator.receive(a, report(1, 10));
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator.run()); });
  auto taken = next(*a, v1::CoordinatorMessage::kAssignment);
  if (!taken) runner.join();
  ASSERT_TRUE(taken);
  int64_t users_of_a = 0;
  for (const auto& r : taken->assignment().ranges()) users_of_a += r.count();
  EXPECT_EQ(users_of_a, 10);  // its own 5 and agent-b's 5

  auto b = coordinator.connect("b");
  coordinator.receive(b, resumed("agent-b", 5));
  auto welcome = next(*b, v1::CoordinatorMessage::kWelcome);
  auto emptied = next(*b, v1::CoordinatorMessage::kAssignment);
  if (!welcome || !emptied) runner.join();
  ASSERT_TRUE(welcome && emptied);
  EXPECT_EQ(welcome->welcome().applied_sequence(), 0u);
  EXPECT_GT(emptied->assignment().generation(), taken->assignment().generation());
  EXPECT_EQ(emptied->assignment().ranges_size(), 0);
  coordinator.receive(b, report(1, 7));
  coordinator.receive(a, report(2, 5, true));
  coordinator.receive(b, report(2, 1, true));
  runner.join();
  ASSERT_TRUE(result && result->ok());
  EXPECT_EQ((*result)->aggregate.total().requests(), 23u);
  int late = 0;
  for (const auto& e : (*result)->info.extra["events"]) {
    late += e["message"].get<std::string>().find("agent-b mid-run") != std::string::npos &&
            e["message"].get<std::string>().find("its users now run on the others") != std::string::npos;
  }
  EXPECT_EQ(late, 1) << (*result)->info.extra["events"].dump();
  // agent-b's history came after all: nothing is missing.
  EXPECT_EQ((*result)->info.extra["totalsComplete"], true) << (*result)->info.extra.dump();
  EXPECT_FALSE((*result)->info.extra.contains("missingTotals"));
}

// Taking over with an agent that never comes back: its users run on the one
// that did, but what they did before the takeover is in no total, and the
// summary says which users and which seconds.
TEST_F(CoordinatorTest, UsersWhoseAgentNeverCameBackAreReportedMissing) {
  Coordinator coordinator(plan_, std::vector<report::Threshold>{}, takeoverOptions());
  const int64_t start_unix = unixNanosAgo(std::chrono::seconds(2));
  auto h = hello("agent-a", "s3cret", 1, "run-1");
  auto& resume = *h.mutable_hello()->mutable_resume();
  resume.set_generation(1);
  auto& range = *resume.add_ranges();
  range.set_first(0);
  range.set_count(5);
  resume.set_start_unix_nanos(start_unix);
  resume.set_first_kept_sequence(1);
  resume.set_last_sequence(1);
  auto a = coordinator.connect("a");
  coordinator.receive(a, h);
  coordinator.receive(a, report(1, 10));
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator.run()); });
  if (!next(*a, v1::CoordinatorMessage::kAssignment)) runner.join();
  coordinator.receive(a, report(2, 5, true));
  runner.join();
  ASSERT_TRUE(result && result->ok());
  const auto& extra = (*result)->info.extra;
  EXPECT_EQ(extra["totalsComplete"], false) << extra.dump();
  const auto& missing = extra["missingTotals"];
  ASSERT_EQ(missing["agents"].size(), 1u) << missing.dump();
  EXPECT_TRUE(missing["agents"][0]["agent"].is_null());
  EXPECT_EQ(missing["agents"][0]["users"], Json::parse("[[5, 5]]"));
  EXPECT_EQ(missing["agents"][0]["fromSecond"], 0.0);
  EXPECT_NEAR(missing["agents"][0]["toSecond"].get<double>(), 2.0, 1.0);
  EXPECT_FALSE(missing.contains("estimatedRequests"));  // nothing to measure it by
  EXPECT_NE(missing["thresholds"].get<std::string>().find("judged on the requests counted"), std::string::npos);
}

// The same coordinator after a broken stream asks only for what it lacks.
TEST_F(CoordinatorTest, AReconnectToTheSameCoordinatorResendsOnlyWhatItLacks) {
  auto coordinator = make(1);
  auto was = startOne(*coordinator);
  ASSERT_TRUE(was->assignment && was->start);
  coordinator->receive(was->stream, report(1, 10));
  coordinator->receive(was->stream, report(2, 20));
  coordinator->disconnected(was->stream, "the stream broke");
  auto again = coordinator->connect("a2");
  coordinator->receive(again, resumeHello(*was, 2, 2));
  auto welcome = next(*again, v1::CoordinatorMessage::kWelcome);
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->welcome().applied_sequence(), 2u);
  ASSERT_TRUE(next(*again, v1::CoordinatorMessage::kStop));
  coordinator->receive(again, report(3, 5, true));
  was->runner.join();
  ASSERT_TRUE(was->result && was->result->ok());
  EXPECT_EQ((*was->result)->aggregate.total().requests(), 35u);
  EXPECT_EQ((*was->result)->info.extra["distributed"]["agents"][0]["reconnects"], 1);
}

}  // namespace
}  // namespace herd::coordinator::test
