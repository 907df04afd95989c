#pragma once
// What the operator's cluster tests share: the LoadTest CRD installed with
// kubectl, a scripted coordinator (the coordinator seen from the reconciler,
// driven by the test until the distributed coordinator lands), and a
// reconciler + controller scoped to the test's namespace.
#include <atomic>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <vector>

#include <gtest/gtest.h>

#include "cluster_env.h"
#include "operator/controller/controller.h"

namespace herd::k8s::testing {

// kubectl from the fixture's cluster.env; returns its exit status, output in `out`.
int kubectl(const std::string& args, std::string* out = nullptr);
// kubectl apply -f crds/loadtest.yaml, waits until LoadTests are served.
void ensureLoadTestCrd(Client& client);

// A test with the LoadTest CRD installed and a namespace of its own (deleted,
// with everything in it, at the end); skipped without a cluster. A subclass's
// SetUp calls this one first and returns when IsSkipped().
class LoadTestNamespaceTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override { ns_.reset(); }
  const std::string& ns() const { return ns_->name(); }
  // The LoadTest NAME of this namespace as the apiserver has it ({} when it cannot be read).
  Json loadTest(const std::string& name);
  Json status(const std::string& name) { return getObject(loadTest(name), "status"); }

  std::unique_ptr<Client> client_;
  std::unique_ptr<TestNamespace> ns_;
};

// Records what the reconciler asked and answers with what the test scripted.
class ScriptedCoordinator final : public controller::RunCoordinator {
 public:
  Status startRun(const controller::RunRequest& request) override;
  std::optional<controller::RunProgress> progress(const std::string& run_id) override;
  Status setExpectedAgents(const std::string& run_id, int agents, const std::vector<std::string>& retiring) override;
  void stopRun(const std::string& run_id, const std::string& reason) override;
  void abortRun(const std::string& run_id, const std::string& reason) override;
  void forget(const std::string& run_id) override;
  std::string agentEndpoint() const override { return "herd-coordinator.test.svc:7070"; }

  // Test side.
  void script(const std::string& run_id, controller::RunProgress progress);
  std::vector<controller::RunRequest> requests() const;
  std::map<std::string, int> expected() const;
  std::set<std::string> retired(const std::string& run_id) const;  // every agent id named as retiring
  // setExpectedAgents above `agents` fails with `message` (a run that cannot grow).
  void refuseGrowth(const std::string& run_id, int agents, std::string message);
  std::set<std::string> aborted() const;
  int startCalls() const;

 private:
  mutable std::mutex mu_;
  std::map<std::string, controller::RunRequest> runs_;
  std::map<std::string, controller::RunProgress> progress_;
  std::map<std::string, int> expected_;
  std::map<std::string, std::set<std::string>> retired_;
  std::map<std::string, std::pair<int, std::string>> refuse_above_;
  std::set<std::string> aborted_;
  int start_calls_ = 0;
};

// A reconciler and a controller restricted to one namespace, with fast timings.
class OperatorHarness {
 public:
  OperatorHarness(Client& client, const std::string& ns, controller::RunCoordinator& coordinator,
                  std::vector<std::string> agent_command, controller::Guardrails guardrails = {});
  ~OperatorHarness();

  // The reconciler's wall clock is the real one plus an offset the test moves
  // forward (cron schedules without waiting minutes); kick() runs a pass now.
  void advance(std::chrono::milliseconds by) { offset_ms_ += by.count(); }
  std::chrono::system_clock::time_point now() const;
  void kick(const std::string& key) { controller_->enqueue(key); }

 private:
  std::atomic<int64_t> offset_ms_{0};
  EventRecorder events_;
  std::unique_ptr<controller::Reconciler> reconciler_;
  std::unique_ptr<controller::Controller> controller_;
};

// The agent command the tests' pods run under the pod-runner: checks the token
// file arrived (the Secret volume), writes its pid to $HOME/pid, then sleeps.
std::vector<std::string> sleepingAgent();
// Where the pod-runner keeps pod NS/NAME's scratch directory.
std::string podDir(const std::string& ns, const std::string& name);

}  // namespace herd::k8s::testing
