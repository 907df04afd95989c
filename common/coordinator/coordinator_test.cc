#include "common/coordinator/coordinator.h"

#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <thread>

#include "common/scenario/compiler.h"
#include "common/wire/stats_codec.h"

namespace herd::coordinator {
namespace {

constexpr auto kWait = std::chrono::seconds(5);

const char* kScenario = R"(
name: unit
target: http://127.0.0.1:1
users:
  - name: u
    steps: [{get: /a}, {get: /b}]
load: {users: 10, spawnRate: 100, duration: 1s}
)";

class CoordinatorTest : public ::testing::Test {
 protected:
  CoordinatorTest() : plan_(*scenario::compileString(kScenario, "unit.yaml")) {}

  std::unique_ptr<Coordinator> make(size_t agents = 1) {
    CoordinatorOptions options;
    options.run_id = "run-1";
    options.token = "s3cret";
    options.expect_agents = agents;
    options.start_delay = std::chrono::milliseconds(10);
    options.grace = std::chrono::milliseconds(100);
    return std::make_unique<Coordinator>(plan_, std::vector<report::Threshold>{}, options);
  }

  static v1::AgentMessage hello(const std::string& id, const std::string& token = "s3cret", uint32_t version = 1,
                                const std::string& run = "") {
    v1::AgentMessage m;
    auto& h = *m.mutable_hello();
    h.set_protocol_version(version);
    h.set_agent_id(id);
    h.set_token(token);
    h.set_run_id(run);
    return m;
  }

  static v1::AgentMessage ready() {
    v1::AgentMessage m;
    m.mutable_ready();
    return m;
  }

  static v1::AgentMessage report(uint64_t sequence, uint64_t requests, bool final = false) {
    stats::Recorder r(2);
    for (uint64_t i = 0; i < requests; ++i) r.recordRequest(0, 1000 + i, 10, 10, stats::ErrorKind::kNone);
    v1::AgentMessage m;
    m.mutable_report()->set_sequence(sequence);
    m.mutable_report()->set_final(final);
    wire::encodeStats(r, *m.mutable_report()->mutable_stats());
    return m;
  }

  // Agents that said Hello and Ready, one connection each.
  static std::vector<std::shared_ptr<Connection>> joinReady(Coordinator& coordinator,
                                                            const std::vector<std::string>& ids) {
    std::vector<std::shared_ptr<Connection>> out;
    for (const auto& id : ids) {
      out.push_back(coordinator.connect(id));
      coordinator.receive(out.back(), hello(id));
      coordinator.receive(out.back(), ready());
    }
    return out;
  }

  // The next message of a given kind, skipping others (heartbeats, acks).
  static std::optional<v1::CoordinatorMessage> next(Connection& c, v1::CoordinatorMessage::BodyCase kind) {
    const auto deadline = MonoClock::now() + kWait;
    while (MonoClock::now() < deadline) {
      auto m = c.pop(std::chrono::milliseconds(50));
      if (m && m->body_case() == kind) return m;
      if (!m && c.closed()) return std::nullopt;
    }
    return std::nullopt;
  }

  // One agent joined and ready, run() on a thread of its own, its Assignment and Start read.
  struct Started {
    std::shared_ptr<Connection> stream;
    std::optional<v1::CoordinatorMessage> assignment, start;
    std::optional<Result<RunResult>> result;
    std::thread runner;
    ~Started() {
      if (runner.joinable()) runner.join();
    }
  };
  static std::unique_ptr<Started> startOne(Coordinator& coordinator) {
    auto s = std::make_unique<Started>();
    s->stream = coordinator.connect("a");
    coordinator.receive(s->stream, hello("agent-a"));
    coordinator.receive(s->stream, ready());
    s->runner = std::thread([&coordinator, raw = s.get()] { raw->result.emplace(coordinator.run()); });
    s->assignment = next(*s->stream, v1::CoordinatorMessage::kAssignment);
    s->start = next(*s->stream, v1::CoordinatorMessage::kStart);
    return s;
  }

  // agent-a's Hello after a broken stream: it runs `assignment` since `start`.
  static v1::AgentMessage resumeHello(const Started& was, uint64_t acked, uint64_t last) {
    auto h = hello("agent-a", "s3cret", 1, "run-1");
    auto& resume = *h.mutable_hello()->mutable_resume();
    resume.set_generation(was.assignment->assignment().generation());
    *resume.mutable_ranges() = was.assignment->assignment().ranges();
    resume.set_start_unix_nanos(was.start->start().start_unix_nanos());
    resume.set_acked_sequence(acked);  // what the coordinator it talked to acknowledged
    resume.set_first_kept_sequence(1);  // it kept everything
    resume.set_last_sequence(last);
    return h;
  }

  scenario::Plan plan_;
};

TEST_F(CoordinatorTest, RefusesBadHellosWithAReason) {
  auto coordinator = make();
  struct Case {
    v1::AgentMessage message;
    v1::Refused::Reason reason;
    std::string text;
  };
  std::vector<Case> cases{
      {hello("a", "wrong"), v1::Refused::BAD_TOKEN, "token"},
      {hello("a", ""), v1::Refused::BAD_TOKEN, "token"},
      {hello("a", "s3cret", 7), v1::Refused::VERSION_MISMATCH, "version 7"},
      {hello("a", "s3cret", 1, "other-run"), v1::Refused::UNKNOWN_RUN, "other-run"},
      {hello(""), v1::Refused::MALFORMED, "agent_id"},
      {report(1, 1), v1::Refused::MALFORMED, "must be Hello"},
      {v1::AgentMessage{}, v1::Refused::MALFORMED, "must be Hello"},
  };
  for (const auto& c : cases) {
    auto connection = coordinator->connect("test");
    coordinator->receive(connection, c.message);
    auto refused = next(*connection, v1::CoordinatorMessage::kRefused);
    ASSERT_TRUE(refused) << c.text;
    EXPECT_EQ(refused->refused().reason(), c.reason);
    EXPECT_NE(refused->refused().message().find(c.text), std::string::npos) << refused->refused().message();
    EXPECT_TRUE(connection->closed());
  }
  EXPECT_EQ(coordinator->connectedAgents(), 0u);
}

TEST_F(CoordinatorTest, SplitsUsersAndDeduplicatesReports) {
  auto coordinator = make(2);
  auto a = coordinator->connect("a");
  auto b = coordinator->connect("b");
  coordinator->receive(a, hello("agent-a"));
  coordinator->receive(b, hello("agent-b"));
  coordinator->receive(a, ready());
  coordinator->receive(b, ready());
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator->run()); });

  auto assignment_a = next(*a, v1::CoordinatorMessage::kAssignment);
  auto assignment_b = next(*b, v1::CoordinatorMessage::kAssignment);
  ASSERT_TRUE(assignment_a && assignment_b);
  ASSERT_EQ(assignment_a->assignment().ranges_size(), 1);
  EXPECT_EQ(assignment_a->assignment().ranges(0).first(), 0);
  EXPECT_EQ(assignment_a->assignment().ranges(0).count(), 5);
  EXPECT_EQ(assignment_b->assignment().ranges(0).first(), 5);
  EXPECT_EQ(assignment_b->assignment().ranges(0).count(), 5);
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStart));

  coordinator->receive(a, report(1, 10));
  coordinator->receive(a, report(1, 10));  // a resend: acknowledged, not counted
  const auto live = coordinator->status();
  EXPECT_EQ(live.phase, "running");
  EXPECT_EQ(live.expected_agents, 2u);
  EXPECT_EQ(live.connected_agents, 2u);
  EXPECT_EQ(live.ready_agents, 2u);
  EXPECT_EQ(live.requests, 10u);
  // The run's 1 s duration ends: the agents stop and send their last reports.
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStop));
  ASSERT_TRUE(next(*b, v1::CoordinatorMessage::kStop));
  coordinator->receive(a, report(2, 5, true));
  coordinator->receive(b, report(1, 7, true));
  // A repeat after a reconnect: Welcome says what was applied.
  auto again = coordinator->connect("a2");
  coordinator->receive(again, hello("agent-a"));
  auto welcome = next(*again, v1::CoordinatorMessage::kWelcome);
  ASSERT_TRUE(welcome);
  EXPECT_EQ(welcome->welcome().applied_sequence(), 2u);
  coordinator->receive(again, report(2, 5, true));

  runner.join();
  ASSERT_TRUE(result && result->ok());
  EXPECT_EQ((*result)->aggregate.total().requests(), 22u);
  EXPECT_EQ((*result)->info.agents, 2);
  EXPECT_EQ((*result)->info.verdict, report::Verdict::kPassed);
}

// An operator restart: the coordinator that counted the agent's first reports
// is gone; a new instance adopts the agent, which sends its whole history again
// (it keeps every report), and the run ends with exactly the agent's totals, on
// the run's real start, with the per-second series rebuilt from the reports' ticks.
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
  CoordinatorOptions options;
  options.run_id = "run-1";
  options.token = "s3cret";
  options.expect_agents = 2;
  options.lost_after = std::chrono::milliseconds(300);
  options.grace = std::chrono::milliseconds(100);
  Coordinator coordinator(plan_, std::vector<report::Threshold>{}, options);
  // The run started 2 s ago: its 1 s duration is over, the agents are finishing.
  const int64_t start_unix =
      std::chrono::duration_cast<Nanos>((std::chrono::system_clock::now() - std::chrono::seconds(2)).time_since_epoch())
          .count();
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

TEST_F(CoordinatorTest, RefusesAGapAndABadReport) {
  auto coordinator = make(1);
  auto a = coordinator->connect("a");
  coordinator->receive(a, hello("agent-a"));
  coordinator->receive(a, ready());
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator->run()); });
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStart));
  coordinator->receive(a, report(2, 3));  // 1 is missing
  auto refused = next(*a, v1::CoordinatorMessage::kRefused);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->refused().message().find("after 0"), std::string::npos);

  auto b = coordinator->connect("a-again");
  coordinator->receive(b, hello("agent-a"));
  auto bad = report(1, 3);
  bad.mutable_report()->mutable_stats()->mutable_endpoints(0)->set_index(99);
  coordinator->receive(b, bad);
  refused = next(*b, v1::CoordinatorMessage::kRefused);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->refused().message().find("endpoint index 99"), std::string::npos);

  auto c = coordinator->connect("a-third");
  coordinator->receive(c, hello("agent-a"));
  ASSERT_TRUE(next(*c, v1::CoordinatorMessage::kStop));
  coordinator->receive(c, report(1, 3, true));
  runner.join();
  ASSERT_TRUE(result && result->ok());
  EXPECT_EQ((*result)->aggregate.total().requests(), 3u);
  EXPECT_EQ((*result)->info.verdict, report::Verdict::kPassed);
}

TEST_F(CoordinatorTest, BarrierTimesOutNamingTheCount) {
  CoordinatorOptions options;
  options.run_id = "r";
  options.expect_agents = 2;
  options.ready_timeout = std::chrono::milliseconds(100);
  Coordinator coordinator(plan_, {}, options);
  auto a = coordinator.connect("a");
  coordinator.receive(a, hello("only-one", ""));
  auto result = coordinator.run();
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error().describe().find("only 1 of 2 expected agent(s) connected (0 ready)"), std::string::npos)
      << result.error().describe();
  EXPECT_TRUE(next(*a, v1::CoordinatorMessage::kFinished));
}

const char* kPubSub = R"(
name: pubsub
target: http://127.0.0.1:1
users:
  - name: listener
    count: 1
    steps:
      - subscribe: {url: /lp/room, stream: chat, topics: [room], mode: longpoll}
  - name: talker
    steps:
      - publish: {url: /pub/room, stream: chat, topic: room, body: hi}
load: {users: 4, spawnRate: 100, duration: 1s}
)";

TEST_F(CoordinatorTest, JudgesDeliveryOverEveryAgentsRecords) {
  auto compiled = scenario::compileString(kPubSub, "pubsub.yaml");
  ASSERT_TRUE(compiled) << compiled.error().describe();
  const scenario::Plan plan = std::move(*compiled);
  CoordinatorOptions options;
  options.run_id = "run-1";
  options.expect_agents = 2;
  options.start_delay = std::chrono::milliseconds(10);
  options.grace = std::chrono::milliseconds(100);
  Coordinator coordinator(plan, {}, options);
  auto a = coordinator.connect("a");
  auto b = coordinator.connect("b");
  coordinator.receive(a, hello("agent-a", ""));
  coordinator.receive(b, hello("agent-b", ""));
  coordinator.receive(a, ready());
  coordinator.receive(b, ready());
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator.run()); });
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStart));
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStop));
  ASSERT_TRUE(next(*b, v1::CoordinatorMessage::kStop));

  // Agent a's subscriber hears two of the three messages agent b's publishers sent.
  const int64_t sent = std::chrono::duration_cast<std::chrono::microseconds>(
                           std::chrono::system_clock::now().time_since_epoch()).count() - 60'000'000;
  stats::DeliveryLog on_a;
  on_a.subscriptions.push_back({0, 0, {"room"}, sent - 1000});
  on_a.receipts.push_back({0, 0, 2, 1, sent, sent + 2000});
  on_a.receipts.push_back({0, 0, 3, 1, sent + 10, sent + 3000});
  stats::DeliveryLog on_b;
  for (int64_t publisher = 2; publisher <= 4; ++publisher) on_b.published.push_back({0, "room", publisher, 1, sent + (publisher - 2) * 10});
  // Agent b's records arrive in two pieces, the second with its final report.
  auto pieces = wire::encodeDelivery(on_b, 40);
  ASSERT_EQ(pieces.size(), 3u);
  auto b1 = report(1, 0);
  *b1.mutable_report()->mutable_delivery() = pieces[0];
  coordinator.receive(b, b1);
  auto b2 = report(2, 0);
  *b2.mutable_report()->mutable_delivery() = pieces[1];
  coordinator.receive(b, b2);
  auto b3 = report(3, 1, true);
  *b3.mutable_report()->mutable_delivery() = pieces[2];
  coordinator.receive(b, b3);
  // A record for a stream the scenario does not have ends the stream, counting nothing.
  auto bad = report(1, 1, true);
  stats::DeliveryLog wrong;
  wrong.receipts.push_back({5, 0, 4, 1, sent, sent + 1});
  *bad.mutable_report()->mutable_delivery() = wire::encodeDelivery(wrong, 1 << 20)[0];
  coordinator.receive(a, bad);
  auto refused = next(*a, v1::CoordinatorMessage::kRefused);
  ASSERT_TRUE(refused);
  EXPECT_NE(refused->refused().message().find("stream index 5"), std::string::npos) << refused->refused().message();
  auto again = coordinator.connect("a2");
  coordinator.receive(again, hello("agent-a", ""));
  auto final_a = report(1, 1, true);
  *final_a.mutable_report()->mutable_delivery() = wire::encodeDelivery(on_a, 1 << 20)[0];
  coordinator.receive(again, final_a);

  runner.join();
  ASSERT_TRUE(result && result->ok());
  const auto& delivery = (*result)->info.delivery;
  ASSERT_EQ(delivery.size(), 1u);
  EXPECT_EQ(delivery[0].published, 3u);
  EXPECT_EQ(delivery[0].delivered, 2u);
  EXPECT_EQ(delivery[0].lost, 1u);
  EXPECT_EQ(delivery[0].expected, 3u);
  EXPECT_EQ(delivery[0].duplicates, 0u);
  EXPECT_EQ((*result)->aggregate.total().requests(), 2u);
}

// Scaling a running test (`kubectl scale`): the unit scenario made long enough
// to be resized mid-way; the tests end it with requestStop().
class CoordinatorScaleTest : public CoordinatorTest {
 protected:
  CoordinatorScaleTest() {
    scenario::CompileOptions longer;
    longer.duration = std::chrono::seconds(60);
    plan_ = *scenario::compileString(kScenario, "scale.yaml", longer);
  }

  // The next Assignment on `c` with a generation above `after`.
  static std::optional<v1::Assignment> assignmentAfter(Connection& c, uint64_t after) {
    for (;;) {
      auto m = next(c, v1::CoordinatorMessage::kAssignment);
      if (!m) return std::nullopt;
      if (m->assignment().generation() > after) return m->assignment();
    }
  }

  // Every user of the run exactly once over the assignments; their sizes.
  static std::vector<int64_t> tiles(int64_t total, const std::vector<v1::Assignment>& assignments) {
    std::vector<int> seen(static_cast<size_t>(total), 0);
    std::vector<int64_t> sizes;
    for (const auto& a : assignments) {
      int64_t n = 0;
      for (const auto& r : a.ranges()) {
        n += r.count();
        for (int64_t i = r.first(); i < r.first() + r.count(); ++i) ++seen.at(static_cast<size_t>(i));
      }
      sizes.push_back(n);
      EXPECT_EQ(a.total_users(), total);
    }
    for (int64_t i = 0; i < total; ++i) EXPECT_EQ(seen[static_cast<size_t>(i)], 1) << "user " << i;
    return sizes;
  }
};

TEST_F(CoordinatorScaleTest, GrowingTwoToThreeAdmitsTheNewAgentAndSplitsTheUsersOverThree) {
  auto coordinator = make(2);
  const auto conns = joinReady(*coordinator, {"agent-a", "agent-b"});
  const auto& a = conns[0];
  const auto& b = conns[1];
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator->run()); });
  auto first_a = assignmentAfter(*a, 0);
  auto first_b = assignmentAfter(*b, 0);
  ASSERT_TRUE(first_a && first_b);
  EXPECT_EQ(tiles(10, {*first_a, *first_b}), (std::vector<int64_t>{5, 5}));
  ASSERT_TRUE(next(*a, v1::CoordinatorMessage::kStart));
  coordinator->receive(a, report(1, 10));
  coordinator->receive(b, report(1, 4));

  // Before the resize a third agent is one too many.
  auto early = coordinator->connect("early");
  coordinator->receive(early, hello("agent-early"));
  auto refused = next(*early, v1::CoordinatorMessage::kRefused);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->refused().reason(), v1::Refused::RUN_FULL);

  ASSERT_TRUE(coordinator->resize(3).ok());
  ASSERT_TRUE(coordinator->resize(3).ok());  // repeats change nothing
  EXPECT_EQ(coordinator->status().expected_agents, 3u);
  auto c = coordinator->connect("c");
  coordinator->receive(c, hello("agent-c"));
  ASSERT_TRUE(next(*c, v1::CoordinatorMessage::kWelcome));
  ASSERT_TRUE(next(*c, v1::CoordinatorMessage::kStart));  // the run's start, already past: "now"
  coordinator->receive(c, ready());
  // A new generation for everyone: 4 + 3 + 3, each keeping what it can.
  auto second_a = assignmentAfter(*a, first_a->generation());
  auto second_b = assignmentAfter(*b, first_b->generation());
  auto second_c = assignmentAfter(*c, 0);
  ASSERT_TRUE(second_a && second_b && second_c);
  EXPECT_EQ(second_a->generation(), second_c->generation());
  EXPECT_EQ(second_b->generation(), second_c->generation());
  EXPECT_EQ(tiles(10, {*second_a, *second_b, *second_c}), (std::vector<int64_t>{4, 3, 3}));
  EXPECT_EQ(second_a->ranges(0).first(), 0);
  EXPECT_EQ(second_b->ranges(0).first(), 5);
  EXPECT_EQ(coordinator->status().connected_agents, 3u);
  // The fourth is refused again: the run has its three.
  auto extra = coordinator->connect("extra");
  coordinator->receive(extra, hello("agent-d"));
  refused = next(*extra, v1::CoordinatorMessage::kRefused);
  ASSERT_TRUE(refused);
  EXPECT_EQ(refused->refused().reason(), v1::Refused::RUN_FULL);

  coordinator->receive(c, report(1, 3));
  coordinator->requestStop("enough");
  for (auto* conn : {a.get(), b.get(), c.get()}) ASSERT_TRUE(next(*conn, v1::CoordinatorMessage::kStop));
  coordinator->receive(a, report(2, 5, true));
  coordinator->receive(b, report(2, 1, true));
  coordinator->receive(c, report(2, 2, true));
  runner.join();
  ASSERT_TRUE(result && result->ok()) << (result ? result->error().describe() : "");
  // Conservation: every report counted once, nothing lost.
  EXPECT_EQ((*result)->aggregate.total().requests(), 10u + 4 + 3 + 5 + 1 + 2);
  EXPECT_EQ((*result)->info.agents, 3);
  EXPECT_EQ((*result)->exit_code, 0);
  const auto& agents = (*result)->info.extra["distributed"]["agents"];
  ASSERT_EQ(agents.size(), 3u);
  std::vector<int64_t> users;
  for (const auto& agent : agents) {
    EXPECT_EQ(agent["state"], "finished") << agent.dump();
    users.push_back(agent["users"].get<int64_t>());
  }
  EXPECT_EQ(users, (std::vector<int64_t>{4, 3, 3}));
}

TEST_F(CoordinatorScaleTest, ShrinkingThreeToTwoRetiresTheNamedAgentWithoutLosingIt) {
  auto coordinator = make(3);
  const auto conns = joinReady(*coordinator, {"agent-a", "agent-b", "agent-c"});
  const auto& a = conns[0];
  const auto& b = conns[1];
  const auto& c = conns[2];
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator->run()); });
  std::vector<v1::Assignment> first;
  for (auto& conn : conns) {
    auto got = assignmentAfter(*conn, 0);
    ASSERT_TRUE(got);
    first.push_back(*got);
  }
  EXPECT_EQ(tiles(10, first), (std::vector<int64_t>{4, 3, 3}));
  coordinator->receive(a, report(1, 6));
  coordinator->receive(b, report(1, 5));
  coordinator->receive(c, report(1, 4));

  // The operator deletes agent-b's pod (it names it), not the newest.
  ASSERT_TRUE(coordinator->resize(2, {"agent-b"}).ok());
  auto stop = next(*b, v1::CoordinatorMessage::kStop);
  ASSERT_TRUE(stop);
  EXPECT_EQ(stop->stop().mode(), v1::Stop::STOP);
  auto second_a = assignmentAfter(*a, first[0].generation());
  auto second_c = assignmentAfter(*c, first[2].generation());
  auto second_b = assignmentAfter(*b, first[1].generation());
  ASSERT_TRUE(second_a && second_b && second_c);
  EXPECT_EQ(second_b->ranges_size(), 0);  // its users are the others' now
  EXPECT_EQ(tiles(10, {*second_a, *second_c}), (std::vector<int64_t>{5, 5}));
  EXPECT_EQ(second_a->ranges(0).first(), first[0].ranges(0).first());  // kept what it ran
  EXPECT_EQ(second_c->ranges(0).first(), first[2].ranges(0).first());
  // It delivers its last counts and is let go.
  coordinator->receive(b, report(2, 3, true));
  ASSERT_TRUE(next(*b, v1::CoordinatorMessage::kFinished));
  auto live = coordinator->status();
  EXPECT_EQ(live.expected_agents, 2u);
  EXPECT_EQ(live.connected_agents, 2u);
  EXPECT_EQ(live.lost_agents, 0u);
  EXPECT_EQ(live.requests, 6u + 5 + 4 + 3);
  coordinator->disconnected(b, "pod deleted");
  EXPECT_EQ(coordinator->status().lost_agents, 0u);
  // Should it dial again, it is told to stop: it was scaled away.
  auto back = coordinator->connect("b2");
  coordinator->receive(back, hello("agent-b"));
  ASSERT_TRUE(next(*back, v1::CoordinatorMessage::kStop));

  coordinator->requestStop("enough");
  coordinator->receive(a, report(2, 2, true));
  coordinator->receive(c, report(2, 1, true));
  runner.join();
  ASSERT_TRUE(result && result->ok()) << (result ? result->error().describe() : "");
  EXPECT_EQ((*result)->aggregate.total().requests(), 6u + 5 + 4 + 3 + 2 + 1);
  EXPECT_EQ((*result)->exit_code, 0);
  EXPECT_EQ((*result)->info.verdict, report::Verdict::kPassed);
  const auto& agents = (*result)->info.extra["distributed"]["agents"];
  ASSERT_EQ(agents.size(), 3u);
  EXPECT_EQ(agents[1]["id"], "agent-b");
  EXPECT_EQ(agents[1]["state"], "retired");
  EXPECT_EQ(agents[1]["requests"], 5 + 3);
  EXPECT_EQ(agents[0]["users"].get<int64_t>() + agents[2]["users"].get<int64_t>(), 10);
  for (const auto& e : (*result)->info.extra["events"]) {
    EXPECT_EQ(e["message"].get<std::string>().find("lost"), std::string::npos) << e.dump();
  }
}

TEST_F(CoordinatorScaleTest, UniqueDataRefusesToGrowMidRunButMayShrink) {
  const auto dir = std::filesystem::temp_directory_path() / ("herd-scale-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  std::ofstream(dir / "accounts.csv") << "name\na\nb\nc\n";
  scenario::CompileOptions longer;
  longer.duration = std::chrono::seconds(60);
  const std::string text = std::string(kScenario) + "data:\n  accounts: {file: accounts.csv, pick: unique}\n";
  auto compiled = scenario::compileString(text, (dir / "unique.yaml").string(), longer);
  std::filesystem::remove_all(dir);
  ASSERT_TRUE(compiled.ok()) << compiled.error().describe();
  plan_ = std::move(*compiled);
  auto coordinator = make(2);
  ASSERT_TRUE(coordinator->resize(3).ok());  // before the start only the barrier moves
  ASSERT_TRUE(coordinator->resize(2).ok());
  const auto conns = joinReady(*coordinator, {"agent-a", "agent-b"});
  std::optional<Result<RunResult>> result;
  std::thread runner([&] { result.emplace(coordinator->run()); });
  ASSERT_TRUE(next(*conns[0], v1::CoordinatorMessage::kStart));
  auto refused = coordinator->resize(3);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("data source \"accounts\" hands out unique rows"), std::string::npos)
      << refused.error().message;
  EXPECT_EQ(coordinator->status().expected_agents, 2u);
  ASSERT_TRUE(coordinator->resize(1).ok());  // the newest (agent-b) goes
  ASSERT_TRUE(next(*conns[1], v1::CoordinatorMessage::kStop));
  coordinator->receive(conns[1], report(1, 2, true));
  auto all = assignmentAfter(*conns[0], 1);
  ASSERT_TRUE(all);
  EXPECT_EQ(tiles(10, {*all}), (std::vector<int64_t>{10}));
  coordinator->requestStop("enough");
  coordinator->receive(conns[0], report(1, 3, true));
  runner.join();
  ASSERT_TRUE(result && result->ok());
  EXPECT_EQ((*result)->aggregate.total().requests(), 5u);
  EXPECT_EQ((*result)->info.extra["distributed"]["agents"][1]["state"], "retired");
}

}  // namespace
}  // namespace herd::coordinator
