// Per-LoadTest Prometheus series, read from the LoadTests' status (what the
// reconciler last wrote), served by the leader's /metrics (docs/install.md).
//
// Label cardinality is bounded by the number of LoadTest objects: the labels
// are namespace and loadtest (never the run id), plus phase and verdict whose
// values are the CRD's enums. A deleted LoadTest's series disappear.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/core/json.h"

#include "common/k8s/client.h"
#include "common/k8s/informer.h"

namespace herd::operator_main {

// herd_operator_apiserver_requests_total{verb} from the operator's client: the
// request rate a fleet of LoadTests costs the apiserver (docs/install.md#metrics).
std::string renderApiserverRequests(const k8s::RequestCounts& counts);

// Exposition text for these LoadTest objects (pure: the unit test feeds it JSON).
std::string renderLoadTestMetrics(const std::vector<Json>& loadtests);

class LoadTestMetrics {
 public:
  LoadTestMetrics(k8s::Client& client, std::vector<std::string> namespaces);
  ~LoadTestMetrics();
  // Starts one LoadTest informer per namespace (all namespaces when none).
  void start();
  // Empty until start() (a standby replica reports no LoadTests).
  std::string render() const;

 private:
  k8s::Client& client_;
  std::vector<std::string> namespaces_;
  std::vector<std::unique_ptr<k8s::Informer>> informers_;
  std::atomic<bool> started_{false};
};

}  // namespace herd::operator_main
