// The split of an agent's users over its worker processes: every user in
// exactly one process, the same pieces for an unchanged range, and the open
// model's arrivals dealt so the processes together take exactly the agent's.
#include "agent/runtime/process_split.h"

#include "agent/runtime/generator_health.h"
#include "common/scenario/compiler.h"

#include <gtest/gtest.h>

#include <sys/resource.h>

#include <map>
#include <set>

namespace herd::runtime {
namespace {

v1::Assignment assignment(uint64_t generation, std::vector<std::pair<int64_t, int64_t>> ranges, uint32_t shard = 0,
                          uint32_t shards = 1) {
  v1::Assignment a;
  a.set_generation(generation);
  a.set_total_users(100000);
  a.set_shard_index(shard);
  a.set_shard_count(shards);
  for (auto [first, count] : ranges) {
    auto& r = *a.add_ranges();
    r.set_first(first);
    r.set_count(count);
  }
  return a;
}

// Which process holds each user; fails on a user held twice.
std::map<int64_t, size_t> owners(const std::vector<v1::Assignment>& parts) {
  std::map<int64_t, size_t> out;
  for (size_t c = 0; c < parts.size(); ++c) {
    for (const auto& r : parts[c].ranges()) {
      for (int64_t u = r.first(); u < r.first() + r.count(); ++u) {
        EXPECT_TRUE(out.emplace(u, c).second) << "user " << u << " in two processes";
      }
    }
  }
  return out;
}

TEST(ProcessSplit, EveryUserOnceAndSharesDifferByAtMostOne) {
  const auto parts = splitAssignment(assignment(3, {{0, 100001}}), 6);
  ASSERT_EQ(parts.size(), 6u);
  const auto held = owners(parts);
  EXPECT_EQ(held.size(), 100001u);
  EXPECT_EQ(held.begin()->first, 0);
  EXPECT_EQ(held.rbegin()->first, 100000);
  std::vector<int64_t> counts(6, 0);
  for (auto [user, c] : held) ++counts[c];
  // 100001 = 6 x 16666 + 5: the first five processes hold one user more.
  EXPECT_EQ(counts, (std::vector<int64_t>{16667, 16667, 16667, 16667, 16667, 16666}));
  for (const auto& p : parts) {
    EXPECT_EQ(p.generation(), 3u);
    EXPECT_EQ(p.total_users(), 100000);
  }
}

TEST(ProcessSplit, EachRangeIsSplitOnItsOwnSoAnUnchangedRangeKeepsItsPieces) {
  const auto before = splitAssignment(assignment(1, {{0, 10}}), 3);
  const auto after = splitAssignment(assignment(2, {{0, 10}, {50, 4}}), 3);
  for (size_t c = 0; c < 3; ++c) {
    ASSERT_GE(after[c].ranges_size(), 1);
    EXPECT_EQ(after[c].ranges(0).first(), before[c].ranges(0).first());
    EXPECT_EQ(after[c].ranges(0).count(), before[c].ranges(0).count());
  }
  // 0..9 as 4 + 3 + 3, then 50..53 as 2 + 1 + 1.
  EXPECT_EQ(after[0].ranges(1).first(), 50);
  EXPECT_EQ(after[0].ranges(1).count(), 2);
  EXPECT_EQ(after[2].ranges(1).first(), 53);
  EXPECT_EQ(owners(after).size(), 14u);
}

TEST(ProcessSplit, MoreProcessesThanUsersLeavesSomeEmpty) {
  const auto parts = splitAssignment(assignment(1, {{7, 2}}), 4);
  EXPECT_EQ(parts[0].ranges_size(), 1);
  EXPECT_EQ(parts[1].ranges_size(), 1);
  EXPECT_EQ(parts[2].ranges_size(), 0);
  EXPECT_EQ(parts[3].ranges_size(), 0);
  EXPECT_EQ(owners(parts).size(), 2u);
}

// Arrival k goes to the shard k mod count (agent_session.cc, startGroup): agent
// 1 of 3 with 4 processes must take exactly the arrivals k ≡ 1 (mod 3), each
// once, and each process a quarter of them (the open-model rate split 4 ways).
TEST(ProcessSplit, OpenModelArrivalsOfTheAgentAreDealtToItsProcesses) {
  const auto parts = splitAssignment(assignment(1, {{0, 40}}, 1, 3), 4);
  std::set<uint32_t> shards;
  for (const auto& p : parts) {
    EXPECT_EQ(p.shard_count(), 12u);
    shards.insert(p.shard_index());
  }
  EXPECT_EQ(shards.size(), 4u);
  std::vector<int> per_process(4, 0);
  for (int k = 0; k < 1200; ++k) {
    int takers = 0;
    for (size_t c = 0; c < 4; ++c) {
      if (k % 12 == static_cast<int>(parts[c].shard_index())) {
        ++takers;
        ++per_process[c];
      }
    }
    EXPECT_EQ(takers, k % 3 == 1 ? 1 : 0) << "arrival " << k;
  }
  EXPECT_EQ(per_process, (std::vector<int>{100, 100, 100, 100}));
}

TEST(ProcessSplit, OneProcessIsTheAssignmentItself) {
  const auto a = assignment(5, {{0, 3}, {9, 1}}, 0, 2);
  const auto parts = splitAssignment(a, 1);
  ASSERT_EQ(parts.size(), 1u);
  EXPECT_EQ(parts[0].SerializeAsString(), a.SerializeAsString());
}

// How many processes a run needs (the rule without --processes): each holds its
// share of the users' sockets plus kReservedFds within the open-files limit.
TEST(ProcessCount, FewestProcessesWhoseSharesFitTheLimit) {
  EXPECT_EQ(processesFor(10000, 1, 20000), 1u);
  EXPECT_EQ(processesFor(19936, 1, 20000), 1u);  // 19936 + 64 reserved = 20000
  EXPECT_EQ(processesFor(19937, 1, 20000), 2u);
  // 100,000 users under the 20,000 hard limit: 6 processes of at most 16,667 users.
  EXPECT_EQ(processesFor(100000, 1, 20000), 6u);
  EXPECT_LE(socketsPerProcess(100000, 1, 6), 20000u);
  EXPECT_GT(socketsPerProcess(100000, 1, 5), 20000u);
  EXPECT_EQ(processesFor(100000, 2, 20000), 11u);  // two origins per user
  EXPECT_EQ(processesFor(5, 1, 10), 1u);           // a limit below the reserve: one process, refused later
}

// Users of eight classes that each talk to one of eight origins hold one
// socket each; a class that talks to two origins holds two.
TEST(ProcessCount, SocketsPerUserIsTheMostOriginsOneClassUses) {
  std::string yaml = "name: spread\ntarget: http://127.0.0.1:1\nusers:\n";
  for (int i = 1; i <= 8; ++i) {
    yaml += "  - name: c" + std::to_string(i) + "\n    steps:\n      - get: http://127.0.0." + std::to_string(i) +
            ":8080/\n      - think: 10s\n";
  }
  yaml += "load: {users: 100000, spawnRate: 5000, duration: 1m}\n";
  auto plan = scenario::compileString(yaml, "spread.yaml");
  ASSERT_TRUE(plan) << plan.error().describe();
  EXPECT_GE(plan->origins.size(), 8u);
  EXPECT_EQ(socketsPerUser(*plan), 1u);
  EXPECT_EQ(socketsNeeded(*plan), 100000u + kReservedFds);

  auto two = scenario::compileString(
      "name: two\ntarget: http://127.0.0.1:1\nusers:\n  - name: a\n    steps:\n      - get: /\n"
      "      - if: {chance: 50%}\n        then: [{get: http://127.0.0.2:1/}]\n"
      "load: {users: 10, spawnRate: 10, duration: 1s}\n",
      "two.yaml");
  ASSERT_TRUE(two) << two.error().describe();
  EXPECT_EQ(socketsPerUser(*two), 2u);
}

// The soft limit always ends at the hard limit; the hard limit goes up only
// where the kernel lets this process raise it, and then as far as asked (or
// fs.nr_open). Both outcomes are legal on a test machine, so the test checks
// that what it returns is what the kernel now says, and never less than before.
TEST(FdLimit, SoftReachesHardAndHardRisesOnlyWherePermitted) {
  rlimit before{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &before), 0);
  const auto plain = raiseFdLimit();
  EXPECT_EQ(plain.soft, plain.hard);
  EXPECT_EQ(plain.hard, static_cast<uint64_t>(before.rlim_max));

  const uint64_t wanted = plain.hard + 1024;
  const auto raised = raiseFdLimit(wanted);
  rlimit after{};
  ASSERT_EQ(getrlimit(RLIMIT_NOFILE, &after), 0);
  EXPECT_EQ(raised.soft, static_cast<uint64_t>(after.rlim_cur));
  EXPECT_EQ(raised.hard, static_cast<uint64_t>(after.rlim_max));
  EXPECT_EQ(raised.soft, raised.hard);
  EXPECT_TRUE(raised.hard == plain.hard || raised.hard <= wanted) << raised.hard;
  EXPECT_GE(raised.hard, plain.hard);
  // Asking for less than the hard limit never lowers it.
  EXPECT_EQ(raiseFdLimit(16).hard, raised.hard);
}

}  // namespace
}  // namespace herd::runtime
