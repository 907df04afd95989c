#pragma once
// What the k8s-labelled tests share: the cluster the CTest fixture started
// (HERD_KUBECONFIG), a client for it, fault injection through tests/cluster/ctl,
// and a namespace per test that is deleted afterwards.
#include <chrono>
#include <functional>
#include <memory>
#include <string>

#include <gtest/gtest.h>

#include "common/k8s/client.h"

namespace herd::k8s::testing {

// The kubeconfig path, or "" when the tests run outside the fixture.
std::string kubeconfigPath();
// Skips the current test (with a message saying how to run it) without a cluster.
#define HERD_REQUIRE_CLUSTER()                                                       \
  do {                                                                               \
    if (::herd::k8s::testing::kubeconfigPath().empty())                              \
      GTEST_SKIP() << "HERD_KUBECONFIG unset: run with `ctest -L k8s` (fixture) or " \
                      "tests/cluster/up DIR and HERD_KUBECONFIG=DIR/kubeconfig";     \
  } while (0)

Config clusterConfig();
std::unique_ptr<Client> makeClient();
std::unique_ptr<Client> makeClient(const Config& config);

// Runs `tests/cluster/ctl CLUSTER_DIR command`; returns its exit status.
int clusterCtl(const std::string& command);

// Polls `done` every 20 ms until it returns true or `limit` passes.
bool eventually(std::chrono::milliseconds limit, const std::function<bool()>& done);

// Creates the test CRD (widgets.test.herd.dev) once and waits until it serves.
void ensureWidgetCrd(Client& client);
extern const Resource kWidgets;

// A fresh namespace for one test, deleted (with everything in it) afterwards.
class TestNamespace {
 public:
  explicit TestNamespace(Client& client);
  ~TestNamespace();
  const std::string& name() const { return name_; }

 private:
  Client& client_;
  std::string name_;
};

}  // namespace herd::k8s::testing
