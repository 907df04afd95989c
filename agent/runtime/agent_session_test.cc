// The agent's side of the protocol against a real nginx: assignments are
// absolute (newest generation wins, repeats and older ones change nothing), and
// every request the workers made arrives in exactly one report.
#include "agent/runtime/agent_session.h"

#include <gtest/gtest.h>

#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "common/scenario/compiler.h"
#include "common/wire/stats_codec.h"
#include "tests/support/nginx_server.h"

namespace herd::runtime {
namespace {

using namespace std::chrono_literals;

v1::CoordinatorMessage assignment(uint64_t generation, std::vector<std::pair<int64_t, int64_t>> ranges) {
  v1::CoordinatorMessage m;
  m.mutable_assignment()->set_generation(generation);
  for (auto [first, count] : ranges) {
    auto& r = *m.mutable_assignment()->add_ranges();
    r.set_first(first);
    r.set_count(count);
  }
  return m;
}

class Sent {
 public:
  void add(v1::AgentMessage&& m) {
    std::lock_guard lock(mutex_);
    messages_.push_back(std::move(m));
  }
  std::vector<v1::Report> reports() const {
    std::lock_guard lock(mutex_);
    std::vector<v1::Report> out;
    for (const auto& m : messages_) {
      if (m.has_report()) out.push_back(m.report());
    }
    return out;
  }

 private:
  mutable std::mutex mutex_;
  std::vector<v1::AgentMessage> messages_;
};

v1::CoordinatorMessage stopMessage(v1::Stop::Mode mode, Nanos grace) {
  v1::CoordinatorMessage m;
  m.mutable_stop()->set_mode(mode);
  m.mutable_stop()->set_grace_nanos(grace.count());
  return m;
}

// The requests in `reports`, which must be numbered 1, 2, 3, ... without gaps.
uint64_t requestsIn(const std::vector<v1::Report>& reports, size_t endpoints) {
  uint64_t requests = 0;
  uint64_t sequence = 0;
  for (const auto& report : reports) {
    EXPECT_EQ(report.sequence(), ++sequence);
    auto stats = wire::decodeStats(report.stats(), endpoints);
    EXPECT_TRUE(stats.ok());
    if (stats) requests += stats->requests();
  }
  return requests;
}

// A closed-model run of 30 s: `users` users that GET `path` and think `think`.
Result<scenario::Plan> planFor(const std::string& url, const std::string& path, int users, const std::string& think) {
  return scenario::compileString(fmt::format(R"(
name: session
target: {}
users:
  - name: u
    steps: [{{get: {}}}, {{think: {}}}]
load: {{users: {}, spawnRate: 1000, duration: 30s}}
)",
                                             url, path, think, users),
                                 "session.yaml");
}

// Polls the session until `until` holds or `limit` passes.
template <typename Pred>
bool drive(AgentSession& session, Pred until, Nanos limit) {
  const auto deadline = MonoClock::now() + limit;
  while (MonoClock::now() < deadline) {
    session.poll();
    if (until()) return true;
    std::this_thread::sleep_for(10ms);
  }
  return false;
}

TEST(AgentSession, NewestAssignmentWinsAndEveryRequestIsReportedOnce) {
  auto nginx = test_support::NginxServer::start();
  ASSERT_TRUE(nginx.ok()) << nginx.error().describe();
  auto plan = planFor((*nginx)->url(), "/a", 8, "20ms");
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  AgentSession session(SessionOptions{"t", "", 1, false, "", 3s, 7});
  ASSERT_TRUE(session.prepare(*plan, 1s).ok());
  Sent sent;
  session.attach([&](v1::AgentMessage&& m) { sent.add(std::move(m)); });
  v1::CoordinatorMessage welcome;
  welcome.mutable_welcome()->set_run_id("r");
  session.onMessage(welcome);

  session.onMessage(assignment(2, {{0, 5}}));
  v1::CoordinatorMessage start;
  start.mutable_start()->set_start_unix_nanos(
      std::chrono::duration_cast<Nanos>(std::chrono::system_clock::now().time_since_epoch()).count());
  session.onMessage(start);
  session.onMessage(assignment(1, {{0, 8}}));  // older: ignored
  session.onMessage(assignment(2, {{0, 8}}));  // the same generation again: ignored
  session.onMessage(start);                    // a repeated start: harmless
  ASSERT_TRUE(drive(
      session, [&] { return sent.reports().size() >= 1; }, 3s));
  EXPECT_EQ(sent.reports().back().users(), 5);

  session.onMessage(assignment(3, {{0, 5}, {5, 3}}));  // users 5..7 added
  const size_t before = sent.reports().size();
  ASSERT_TRUE(drive(
      session, [&] { return sent.reports().size() >= before + 1; }, 3s));
  EXPECT_EQ(sent.reports().back().users(), 8);

  session.onMessage(assignment(4, {{5, 3}}));  // users 0..4 leave
  const size_t before_shrink = sent.reports().size();
  ASSERT_TRUE(drive(
      session, [&] { return sent.reports().size() >= before_shrink + 1; }, 3s));
  EXPECT_EQ(sent.reports().back().users(), 3);

  // The run grew (kubectl scale): this agent's block is cut to 5..6; the block
  // 5..7 stops and 5..6 starts again.
  session.onMessage(assignment(5, {{5, 2}}));
  ASSERT_TRUE(drive(
      session, [&] { return sent.reports().back().users() == 2; }, 3s));

  session.onMessage(stopMessage(v1::Stop::STOP, 1s));
  ASSERT_TRUE(drive(
      session, [&] { return !sent.reports().empty() && sent.reports().back().final(); }, 5s));

  const uint64_t requests = requestsIn(sent.reports(), plan->endpoints.size());
  const uint64_t sequence = sent.reports().size();
  EXPECT_GT(requests, 100u);
  EXPECT_EQ(static_cast<int64_t>(requests), (*nginx)->waitForAccessLogCount(static_cast<int64_t>(requests), "/a"));
  EXPECT_EQ(session.unacked(), sequence);  // nothing was acknowledged in this test
}

v1::CoordinatorMessage welcomeAt(uint64_t applied) {
  v1::CoordinatorMessage m;
  m.mutable_welcome()->set_run_id("r");
  m.mutable_welcome()->set_applied_sequence(applied);
  return m;
}

v1::CoordinatorMessage ackOf(uint64_t sequence) {
  v1::CoordinatorMessage m;
  m.mutable_ack()->set_sequence(sequence);
  return m;
}

v1::CoordinatorMessage startNow() {
  v1::CoordinatorMessage m;
  m.mutable_start()->set_start_unix_nanos(
      std::chrono::duration_cast<Nanos>(std::chrono::system_clock::now().time_since_epoch()).count());
  return m;
}

// The agent keeps every report of the run: the same coordinator after a broken
// stream gets only what it has not acknowledged, a new coordinator (Welcome
// with less than was acknowledged) gets the whole run again from sequence 1,
// and what it then holds is exactly what nginx served.
TEST(AgentSession, KeepsEveryReportAndResendsWhatTheCoordinatorLacks) {
  auto nginx = test_support::NginxServer::start();
  ASSERT_TRUE(nginx.ok()) << nginx.error().describe();
  auto plan = planFor((*nginx)->url(), "/k", 2, "50ms");
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  AgentSession session(SessionOptions{"t", "", 1, false, "", 3s, 7});
  ASSERT_TRUE(session.prepare(*plan, 1s).ok());
  Sent before;
  session.attach([&](v1::AgentMessage&& m) { before.add(std::move(m)); });
  session.onMessage(welcomeAt(0));
  session.onMessage(assignment(1, {{0, 2}}));
  session.onMessage(startNow());
  ASSERT_TRUE(drive(
      session, [&] { return before.reports().size() >= 3; }, 6s));
  session.onMessage(ackOf(2));
  const uint64_t sent = session.hello("x").resume().last_sequence();
  ASSERT_GE(sent, 3u);
  EXPECT_EQ(session.unacked(), sent - 2);
  EXPECT_EQ(session.keptReports(), sent);  // acknowledged ones stay too

  // The stream breaks; the same coordinator welcomes the agent back.
  session.detach();
  auto hello = session.hello("x");
  ASSERT_TRUE(hello.has_resume());
  EXPECT_EQ(hello.resume().generation(), 1u);
  EXPECT_EQ(hello.resume().acked_sequence(), 2u);
  EXPECT_EQ(hello.resume().first_kept_sequence(), 1u);
  Sent same;
  session.attach([&](v1::AgentMessage&& m) { same.add(std::move(m)); });
  session.onMessage(welcomeAt(2));
  auto resent = same.reports();
  ASSERT_FALSE(resent.empty());
  EXPECT_EQ(resent.front().sequence(), 3u);  // nothing it acknowledged comes again
  session.onMessage(ackOf(resent.back().sequence()));

  // Again, but a new coordinator instance answers: it holds nothing of ours.
  session.detach();
  Sent fresh;
  session.attach([&](v1::AgentMessage&& m) { fresh.add(std::move(m)); });
  session.onMessage(welcomeAt(0));
  EXPECT_EQ(session.unacked(), session.hello("x").resume().last_sequence());
  session.onMessage(stopMessage(v1::Stop::STOP, 1s));
  ASSERT_TRUE(drive(
      session, [&] { return !fresh.reports().empty() && fresh.reports().back().final(); }, 5s));
  const uint64_t requests = requestsIn(fresh.reports(), plan->endpoints.size());  // the whole run from 1, in order
  EXPECT_GT(requests, 20u);
  EXPECT_EQ(static_cast<int64_t>(requests), (*nginx)->waitForAccessLogCount(static_cast<int64_t>(requests), "/k"));
}

// Over its memory cap the agent drops the oldest acknowledged reports, never
// an unacknowledged one, and its Hello says where its history now begins.
TEST(AgentSession, OverItsCapDropsOnlyAcknowledgedReports) {
  auto nginx = test_support::NginxServer::start();
  ASSERT_TRUE(nginx.ok()) << nginx.error().describe();
  auto plan = planFor((*nginx)->url(), "/k", 2, "50ms");
  ASSERT_TRUE(plan.ok()) << plan.error().describe();
  SessionOptions options{"t", "", 1, false, "", 3s, 7};
  options.keep_bytes = 1;
  AgentSession session(options);
  ASSERT_TRUE(session.prepare(*plan, 1s).ok());
  Sent sent;
  session.attach([&](v1::AgentMessage&& m) { sent.add(std::move(m)); });
  session.onMessage(welcomeAt(0));
  session.onMessage(assignment(1, {{0, 2}}));
  session.onMessage(startNow());
  ASSERT_TRUE(drive(
      session, [&] { return sent.reports().size() >= 2; }, 5s));
  EXPECT_EQ(session.keptReports(), sent.reports().size());  // none acknowledged: all kept
  const uint64_t acked = sent.reports().back().sequence();
  session.onMessage(ackOf(acked));
  ASSERT_TRUE(drive(
      session, [&] { return sent.reports().back().sequence() > acked; }, 3s));
  EXPECT_EQ(session.keptReports(), 1u);
  EXPECT_EQ(session.hello("x").resume().first_kept_sequence(), acked + 1);
  session.onMessage(stopMessage(v1::Stop::ABORT, Nanos(0)));
  ASSERT_TRUE(drive(
      session, [&] { return sent.reports().back().final(); }, 5s));
}

v1::CoordinatorMessage refusal(v1::Refused::Reason reason, const std::string& why) {
  v1::CoordinatorMessage m;
  m.mutable_refused()->set_reason(reason);
  m.mutable_refused()->set_message(why);
  return m;
}

// An agent that names its run and hears UNKNOWN_RUN keeps going (an operator
// that has just become leader takes the run over a moment later); any other
// refusal, or UNKNOWN_RUN for an agent that named no run, ends the session.
TEST(AgentSession, UnknownRunIsNotTheEndForAnAgentThatNamesItsRun) {
  auto options = [](std::string id, std::string run) {
    SessionOptions o;
    o.agent_id = std::move(id);
    o.run_id = std::move(run);
    o.workers = 1;
    return o;
  };
  AgentSession named(options("a", "r"));
  named.onMessage(refusal(v1::Refused::UNKNOWN_RUN, "unknown run \"r\""));
  EXPECT_FALSE(named.done());
  EXPECT_FALSE(named.refused());
  EXPECT_EQ(named.hello("t").run_id(), "r");  // the next stream asks for the same run

  named.onMessage(refusal(v1::Refused::BAD_TOKEN, "bad token"));
  EXPECT_TRUE(named.done());
  EXPECT_EQ(named.refused(), std::optional<std::string>("bad token"));

  AgentSession unnamed(options("b", ""));
  unnamed.onMessage(refusal(v1::Refused::UNKNOWN_RUN, "no run id, and this coordinator serves 2 runs"));
  EXPECT_TRUE(unnamed.done());
  EXPECT_TRUE(unnamed.refused());
}

}  // namespace
}  // namespace herd::runtime
