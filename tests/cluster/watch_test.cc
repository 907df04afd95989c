// Watches and the informer against the real apiserver, including the issue's
// continuity test: 1,000 updates while the apiserver restarts and etcd is
// compacted underneath it (forcing 410 Gone), after which the informer's cache
// must equal the server's state exactly.
#include <atomic>
#include <future>
#include <thread>

#include "cluster_env.h"
#include "operator/k8s/informer.h"

namespace herd::k8s::testing {
namespace {

using json = Json;
using namespace std::chrono_literals;

json configMap(const std::string& ns, const std::string& name, int v) {
  return {{"apiVersion", "v1"},
          {"kind", "ConfigMap"},
          {"metadata", {{"name", name}, {"namespace", ns}}},
          {"data", {{"v", std::to_string(v)}}}};
}

class Watch : public ::testing::Test {
 protected:
  void SetUp() override {
    HERD_REQUIRE_CLUSTER();
    client_ = makeClient();
    ns_ = std::make_unique<TestNamespace>(*client_);
  }
  void TearDown() override { ns_.reset(); }
  std::unique_ptr<Client> client_;
  std::unique_ptr<TestNamespace> ns_;
};

// Events arrive while the response is still open (the body is read as it
// streams), and a stop request ends a blocked read promptly.
TEST_F(Watch, StreamsIncrementallyAndStopsPromptly) {
  const auto& ns = ns_->name();
  auto listed = client_->list(resources::kConfigMaps, ns);
  ASSERT_TRUE(listed.ok());
  std::string rv = (*listed)["metadata"]["resourceVersion"];
  std::promise<std::string> first;
  std::stop_source stop;
  std::atomic<bool> got_one{false};
  auto watcher = std::async(std::launch::async, [&] {
    return client_->watch(
        resources::kConfigMaps, ns, WatchOptions{rv, "", "", true, 240},
        [&](WatchEvent&& ev) {
          if (!got_one.exchange(true)) first.set_value(toString(ev.type) + (" " + nameOf(ev.object)));
        },
        stop.get_token());
  });
  ASSERT_TRUE(client_->create(resources::kConfigMaps, ns, configMap(ns, "a", 1)).ok());
  auto fut = first.get_future();
  ASSERT_EQ(fut.wait_for(5s), std::future_status::ready) << "event not delivered while the watch is open";
  EXPECT_EQ(fut.get(), "ADDED a");
  auto t0 = std::chrono::steady_clock::now();
  stop.request_stop();
  ASSERT_EQ(watcher.wait_for(5s), std::future_status::ready) << "stop did not interrupt the watch";
  EXPECT_TRUE(watcher.get().ok());
  EXPECT_LT(std::chrono::steady_clock::now() - t0, 2s);
}

TEST_F(Watch, InformerSeesAddsUpdatesDeletes) {
  const auto& ns = ns_->name();
  ASSERT_TRUE(client_->create(resources::kConfigMaps, ns, configMap(ns, "pre", 0)).ok());
  InformerOptions opts;
  opts.ns = ns;
  Informer informer(*client_, resources::kConfigMaps, opts);
  std::mutex mu;
  std::vector<std::string> seen;
  // kube-controller-manager puts kube-root-ca.crt into every namespace; it
  // races with the test's own objects, so it is left out of the sequence.
  informer.addHandlers({[&](const json& o) {
                          std::lock_guard l(mu);
                          if (nameOf(o) != "kube-root-ca.crt") seen.push_back("add " + nameOf(o));
                        },
                        [&](const json&, const json& n) {
                          std::lock_guard l(mu);
                          seen.push_back("update " + nameOf(n));
                        },
                        [&](const json& o) {
                          std::lock_guard l(mu);
                          seen.push_back("delete " + nameOf(o));
                        }});
  informer.start();
  ASSERT_TRUE(informer.waitForSync(10s));
  EXPECT_TRUE(informer.get(ns + "/pre").has_value());
  ASSERT_TRUE(client_->create(resources::kConfigMaps, ns, configMap(ns, "x", 1)).ok());
  ASSERT_TRUE(client_->patch(resources::kConfigMaps, ns, "x", {{"data", {{"v", "2"}}}}).ok());
  ASSERT_TRUE(client_->remove(resources::kConfigMaps, ns, "x").ok());
  const std::vector<std::string> want{"add pre", "add x", "update x", "delete x"};
  EXPECT_TRUE(eventually(10s, [&] {
    std::lock_guard l(mu);
    return seen == want;
  }));
  std::lock_guard l(mu);
  EXPECT_EQ(seen, want);
}

// Bookmarks move the informer's resume point forward even when nothing in its
// namespace changes, so a resumed watch does not start from a version etcd
// may already have compacted.
TEST_F(Watch, BookmarksAdvanceTheResumeVersion) {
  const auto& ns = ns_->name();
  InformerOptions opts;
  opts.ns = ns;
  // The apiserver sends a bookmark shortly before a watch times out (and about
  // once a minute); with timeouts below ~3 s it sends none.
  opts.watch_timeout_seconds = 5;
  Informer informer(*client_, resources::kConfigMaps, opts);
  informer.start();
  ASSERT_TRUE(informer.waitForSync(10s));
  const auto start = std::stoll(informer.lastResourceVersion());
  const auto cached = informer.list().size();
  // Writes elsewhere advance the configmaps' resourceVersion; only a bookmark
  // can tell this namespace's informer about them. (The apiserver sends a
  // watcher a bookmark only for progress made while that watch is open, so the
  // writes go on, as they would in a busy cluster.)
  TestNamespace other(*client_);
  std::atomic<bool> done{false};
  std::thread writer([&] {
    for (int i = 0; !done; ++i) {
      (void)client_->create(resources::kConfigMaps, other.name(), configMap(other.name(), "w" + std::to_string(i), i));
      std::this_thread::sleep_for(300ms);
    }
  });
  bool advanced = eventually(20s, [&] { return std::stoll(informer.lastResourceVersion()) > start; });
  done = true;
  writer.join();
  EXPECT_TRUE(advanced) << "no bookmark advanced the resourceVersion past " << start << " (now "
                        << informer.lastResourceVersion() << ", watches " << informer.stats().watches << ")";
  EXPECT_EQ(informer.list().size(), cached);
  EXPECT_EQ(informer.stats().lists, 1u) << "bookmarks and timeouts must not cause relists";
}

// Writes with retries: while the apiserver restarts, writes fail and are
// repeated, as any client would. Returns false only after 2 minutes of failure.
bool write(const std::function<ApiStatus()>& op) {
  auto deadline = std::chrono::steady_clock::now() + 120s;
  while (std::chrono::steady_clock::now() < deadline) {
    auto r = op();
    if (r.ok()) return true;
    if (!r.error().isTransient()) {
      ADD_FAILURE() << r.error().describe();
      return false;
    }
    std::this_thread::sleep_for(50ms);
  }
  return false;
}

// The final state the server holds: name -> (resourceVersion, data).
std::map<std::string, json> serverState(Client& client, const std::string& ns) {
  std::map<std::string, json> out;
  auto all = client.listAll(resources::kConfigMaps, ns);
  if (!all.ok()) return out;
  for (const auto& item : (*all)["items"]) {
    if (nameOf(item) == "kube-root-ca.crt") continue;
    out[nameOf(item)] = json{resourceVersionOf(item), item["data"]};
  }
  return out;
}

std::map<std::string, json> cacheState(const Informer& informer) {
  std::map<std::string, json> out;
  for (const auto& item : informer.list()) {
    if (nameOf(item) == "kube-root-ca.crt") continue;
    out[nameOf(item)] = json{resourceVersionOf(item), item["data"]};
  }
  return out;
}

TEST_F(Watch, ContinuityAcrossApiserverRestartAndCompaction) {
  const auto& ns = ns_->name();
  constexpr int kObjects = 20, kUpdates = 1000;
  std::vector<std::string> names;
  for (int i = 0; i < kObjects; ++i) {
    names.push_back("cm-" + std::to_string(i));
    ASSERT_TRUE(client_->create(resources::kConfigMaps, ns, configMap(ns, names.back(), 0)).ok());
  }
  InformerOptions opts;
  opts.ns = ns;
  Informer informer(*client_, resources::kConfigMaps, opts);
  informer.start();
  ASSERT_TRUE(informer.waitForSync(10s));

  std::thread fault;
  for (int i = 1; i <= kUpdates; ++i) {
    // Faults run beside the writes, so writes fail and retry while the
    // apiserver is away, like a controller's would.
    if (i == 300) fault = std::thread([] { EXPECT_EQ(clusterCtl("restart-apiserver"), 0); });
    if (i == 600) {
      fault.join();
      fault = std::thread([] {
        EXPECT_EQ(clusterCtl("stop-apiserver"), 0);
        EXPECT_EQ(clusterCtl("compact-etcd > /dev/null"), 0);
        EXPECT_EQ(clusterCtl("start-apiserver"), 0);
      });
    }
    std::string& name = names[i % kObjects];
    if (i % 97 == 0) {
      // Replace the object by a new one: the informer must also converge on
      // deletions it may only learn about from a relist.
      std::string old = name;
      ASSERT_TRUE(write([&] {
        auto r = client_->remove(resources::kConfigMaps, ns, old);
        return r.ok() || r.error().isNotFound() ? ApiStatus(Ok{}) : r;
      }));
      name = "cm-new-" + std::to_string(i);
      ASSERT_TRUE(write([&]() -> ApiStatus {
        auto r = client_->create(resources::kConfigMaps, ns, configMap(ns, name, i));
        if (r.ok() || r.error().isAlreadyExists()) return Ok{};
        return r.error();
      }));
      continue;
    }
    ASSERT_TRUE(write([&]() -> ApiStatus {
      auto r = client_->patch(resources::kConfigMaps, ns, name, {{"data", {{"v", std::to_string(i)}}}});
      if (!r.ok()) return r.error();
      return Ok{};
    }));
  }
  fault.join();

  auto want = serverState(*client_, ns);
  ASSERT_EQ(want.size(), static_cast<size_t>(kObjects));
  EXPECT_TRUE(eventually(60s, [&] { return cacheState(informer) == want; }))
      << "cache never converged; informer at rv " << informer.lastResourceVersion();
  EXPECT_EQ(cacheState(informer), want);
  auto stats = informer.stats();
  std::cout << "informer: lists=" << stats.lists << " watches=" << stats.watches << " gone=" << stats.gone
            << " errors=" << stats.errors << "\n";
  EXPECT_GE(stats.gone, 1u) << "compaction should have forced a 410 and a relist";
  EXPECT_GE(stats.lists, 2u);
  EXPECT_GE(stats.errors, 1u) << "the restarts should have broken the watch";
}

}  // namespace
}  // namespace herd::k8s::testing
