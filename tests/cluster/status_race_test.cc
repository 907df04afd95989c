// Two writers race on one status; conflicts are retried and no write is lost.
#include <latch>
#include <thread>

#include "cluster_env.h"

namespace herd::k8s::testing {
namespace {

using json = Json;

TEST(StatusRace, ConcurrentIncrementsAreAllKept) {
  HERD_REQUIRE_CLUSTER();
  auto client = makeClient();
  TestNamespace ns(*client);
  ensureWidgetCrd(*client);
  json w{{"apiVersion", "test.herd.dev/v1"},
         {"kind", "Widget"},
         {"metadata", {{"name", "raced"}, {"namespace", ns.name()}}},
         {"spec", {{"size", 1}}}};
  ASSERT_TRUE(client->create(kWidgets, ns.name(), w).ok());

  constexpr int kPerWriter = 100;
  std::atomic<int> attempts{0};
  // Both writers read the same version before either writes on the first
  // round, so at least one conflict is certain rather than likely.
  std::latch first_round(2);
  auto writer = [&](const char* field) {
    auto own = makeClient();  // separate connections, like separate processes
    bool first = true;
    for (int i = 0; i < kPerWriter; ++i) {
      auto r = updateStatus(
          *own, kWidgets, ns.name(), "raced",
          [&](json& obj) {
            ++attempts;
            if (first) {
              first = false;
              first_round.arrive_and_wait();
            }
            json& st = obj["status"];
            if (!st.is_object()) st = json::object();  // no status yet on the first write
            st["count"] = getInt(st, "count") + 1;
            st[field] = getInt(st, field) + 1;
            return true;
          },
          /*attempts=*/1000);
      ASSERT_TRUE(r.ok()) << r.error().describe();
    }
  };
  std::thread a(writer, "a"), b(writer, "b");
  a.join();
  b.join();

  auto got = client->get(kWidgets, ns.name(), "raced");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ((*got)["status"]["count"], 2 * kPerWriter);
  EXPECT_EQ((*got)["status"]["a"], kPerWriter);
  EXPECT_EQ((*got)["status"]["b"], kPerWriter);
  std::cout << "status race: " << 2 * kPerWriter << " writes took " << attempts.load() << " attempts\n";
  EXPECT_GT(attempts.load(), 2 * kPerWriter) << "no conflict happened, so nothing was tested";
}

}  // namespace
}  // namespace herd::k8s::testing
