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
  auto plan = scenario::compileString(fmt::format(R"(
name: session
target: {}
users:
  - name: u
    steps: [{{get: /a}}, {{think: 20ms}}]
load: {{users: 8, spawnRate: 1000, duration: 30s}}
)", (*nginx)->url()), "session.yaml");
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
  ASSERT_TRUE(drive(session, [&] { return sent.reports().size() >= 1; }, 3s));
  EXPECT_EQ(sent.reports().back().users(), 5);

  session.onMessage(assignment(3, {{0, 5}, {5, 3}}));  // users 5..7 added
  const size_t before = sent.reports().size();
  ASSERT_TRUE(drive(session, [&] { return sent.reports().size() >= before + 1; }, 3s));
  EXPECT_EQ(sent.reports().back().users(), 8);

  session.onMessage(assignment(4, {{5, 3}}));  // users 0..4 leave
  const size_t before_shrink = sent.reports().size();
  ASSERT_TRUE(drive(session, [&] { return sent.reports().size() >= before_shrink + 1; }, 3s));
  EXPECT_EQ(sent.reports().back().users(), 3);

  // The run grew (kubectl scale): this agent's block is cut to 5..6; the block
  // 5..7 stops and 5..6 starts again.
  session.onMessage(assignment(5, {{5, 2}}));
  ASSERT_TRUE(drive(session, [&] { return sent.reports().back().users() == 2; }, 3s));

  v1::CoordinatorMessage stop;
  stop.mutable_stop()->set_mode(v1::Stop::STOP);
  stop.mutable_stop()->set_grace_nanos(Nanos(1s).count());
  session.onMessage(stop);
  ASSERT_TRUE(drive(session, [&] { return !sent.reports().empty() && sent.reports().back().final(); }, 5s));

  uint64_t requests = 0;
  uint64_t sequence = 0;
  for (const auto& report : sent.reports()) {
    EXPECT_EQ(report.sequence(), ++sequence);  // 1, 2, 3, ... without gaps
    auto stats = wire::decodeStats(report.stats(), plan->endpoints.size());
    ASSERT_TRUE(stats.ok());
    requests += stats->requests();
  }
  EXPECT_GT(requests, 100u);
  EXPECT_EQ(static_cast<int64_t>(requests), (*nginx)->waitForAccessLogCount(static_cast<int64_t>(requests), "/a"));
  EXPECT_EQ(session.unacked(), sequence);  // nothing was acknowledged in this test
}

}  // namespace
}  // namespace herd::runtime
