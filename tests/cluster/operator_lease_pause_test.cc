// Leader election when the apiserver hangs: two `herd-operator --leader-elect`
// processes, and the test cluster's kube-apiserver paused (SIGSTOP) for longer
// than the lease, then resumed (SIGCONT). The leader cannot renew; its Lease
// calls time out within the renew deadline and it stops leading (the process
// ends, and its controller and coordinator listener with it) before the lease
// can expire. After the resume the standby takes the Lease. From both
// processes' logs (UTC timestamps of "... is leading" and "lost leadership")
// and the moment the test saw the old leader exit, the test asserts that the
// two leading intervals do not overlap.
//
// The apiserver is the cluster fixture's own; RESOURCE_LOCK k8s_cluster keeps
// every other test of that cluster from running meanwhile.
#include <signal.h>

#include <array>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <optional>
#include <regex>
#include <thread>

#include "operator_fixture.h"
#include "operator_process.h"

namespace herd::k8s::testing {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using SysTime = std::chrono::system_clock::time_point;

// The operator's Lease timing (leader_election.h): a 15 s lease, a 10 s renew
// deadline. The pause outlasts the lease, so the standby may take over at once
// when the apiserver answers again.
constexpr auto kLease = seconds(15);
constexpr auto kPause = seconds(20);

// The time of the first log line matching `pattern` ("2026-12-02T04:05:06.789Z ...").
std::optional<SysTime> logTime(const std::string& log, const std::string& pattern) {
  std::smatch m;
  const std::regex line("(\\d{4})-(\\d\\d)-(\\d\\d)T(\\d\\d):(\\d\\d):(\\d\\d)\\.(\\d{3})Z [^\\n]*" + pattern);
  if (!std::regex_search(log, m, line)) return std::nullopt;
  std::tm tm{};
  tm.tm_year = std::stoi(m[1]) - 1900;
  tm.tm_mon = std::stoi(m[2]) - 1;
  tm.tm_mday = std::stoi(m[3]);
  tm.tm_hour = std::stoi(m[4]);
  tm.tm_min = std::stoi(m[5]);
  tm.tm_sec = std::stoi(m[6]);
  return std::chrono::system_clock::from_time_t(timegm(&tm)) + milliseconds(std::stoi(m[7]));
}

std::string show(SysTime t) {
  auto ms = std::chrono::duration_cast<milliseconds>(t.time_since_epoch()).count();
  std::time_t s = ms / 1000;
  std::tm tm{};
  gmtime_r(&s, &tm);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%02d:%02d:%02d.%03lld", tm.tm_hour, tm.tm_min, tm.tm_sec,
                static_cast<long long>(ms % 1000));
  return buf;
}

double secondsBetween(SysTime a, SysTime b) { return std::chrono::duration<double>(b - a).count(); }

pid_t apiserverPid() {
  const auto dir = std::filesystem::path(kubeconfigPath()).parent_path();
  std::ifstream f(dir / "run" / "kube-apiserver.pid");
  pid_t pid = -1;
  f >> pid;
  return pid;
}

// SIGCONT on the way out, whatever the test did meanwhile.
class Paused {
 public:
  explicit Paused(pid_t pid) : pid_(pid) { ::kill(pid_, SIGSTOP); }
  ~Paused() { resume(); }
  void resume() {
    if (pid_ > 0) ::kill(pid_, SIGCONT);
    pid_ = -1;
  }

 private:
  pid_t pid_;
};

TEST(OperatorLeasePause, ALeaderThatCannotRenewStopsBeforeItsLeaseExpires) {
  HERD_REQUIRE_CLUSTER();
  const pid_t apiserver = apiserverPid();
  ASSERT_GT(apiserver, 0) << "no kube-apiserver.pid beside " << kubeconfigPath();
  auto client = makeClient();
  TestNamespace ns(*client);

  std::array<std::unique_ptr<OperatorProcess>, 2> replicas;
  std::array<int, 2> metrics{};
  for (size_t i = 0; i < 2; ++i) {
    replicas[i] = std::make_unique<OperatorProcess>(
        std::vector<std::string>{"--kubeconfig", kubeconfigPath(), "--namespace", ns.name(), "--leader-elect",
                                 "--metrics-listen", "127.0.0.1:0", "--coordinator-listen", "127.0.0.1:0"});
    metrics[i] = replicas[i]->port("metrics");
    ASSERT_GT(metrics[i], 0) << replicas[i]->log();
  }
  auto leading = [&](size_t i) {
    return httpGet(metrics[i], "/metrics").find("herd_operator_leader 1") != std::string::npos;
  };
  ASSERT_TRUE(eventually(seconds(60), [&] { return leading(0) || leading(1); })) << replicas[0]->log();
  const size_t leader = leading(0) ? 0 : 1, standby = 1 - leader;
  // A renewal or two after taking the Lease, so the pause starts from a lease
  // renewed at most one retry period ago.
  ASSERT_TRUE(eventually(seconds(10), [&] { return leading(leader); }));
  std::this_thread::sleep_for(seconds(3));

  const SysTime paused_at = std::chrono::system_clock::now();
  int leader_exit = -1;
  SysTime exit_seen{};
  {
    Paused pause(apiserver);
    // Waiting for the old leader to end is the synchronisation; the pause
    // itself is the point of the test and lasts kPause whatever happens.
    leader_exit = replicas[leader]->waitExit(kPause - seconds(1));
    exit_seen = std::chrono::system_clock::now();
    std::this_thread::sleep_until(paused_at + kPause);
    EXPECT_FALSE(leading(standby)) << "the standby led while the apiserver was paused";
  }
  const SysTime resumed_at = std::chrono::system_clock::now();
  if (leader_exit < 0) {  // still running: when it ends is what the checks below judge
    leader_exit = replicas[leader]->waitExit(seconds(40));
    exit_seen = std::chrono::system_clock::now();
  }
  ASSERT_TRUE(eventually(seconds(40), [&] { return leading(standby); })) << replicas[standby]->log();

  const auto old_log = replicas[leader]->log(), new_log = replicas[standby]->log();
  EXPECT_EQ(leader_exit, 3) << old_log;
  const auto old_start = logTime(old_log, "is leading"), old_lost = logTime(old_log, "lost leadership");
  const auto new_start = logTime(new_log, "is leading");
  ASSERT_TRUE(old_start && old_lost) << old_log;
  ASSERT_TRUE(new_start) << new_log;
  // The old leader's interval ends when it exited (seen by this test, so no
  // earlier than the truth); the new one's begins at its "is leading" line,
  // logged before it starts its controller or takes agents.
  const SysTime old_end = std::max(*old_lost, exit_seen);
  std::cout << "apiserver paused " << show(paused_at) << " to " << show(resumed_at) << "; old leader led "
            << show(*old_start) << " to " << show(*old_lost) << " (exit seen " << show(exit_seen) << ", "
            << secondsBetween(paused_at, exit_seen) << " s into the pause); new leader from " << show(*new_start)
            << " (" << secondsBetween(old_end, *new_start) << " s later)\n";
  EXPECT_LT(old_end, *new_start) << "two leaders at once\n" << old_log << new_log;
  // Its last renewal was before the pause: stopping within the lease duration
  // of the pause's start is stopping before anyone could take the lease.
  EXPECT_LT(exit_seen, paused_at + kLease) << old_log;
  EXPECT_GT(*new_start, resumed_at - seconds(1)) << "the standby led while the apiserver was paused";
  EXPECT_EQ(replicas[standby]->stop(), 0) << new_log;
}

}  // namespace
}  // namespace herd::k8s::testing
