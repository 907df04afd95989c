#pragma once
// `herd agent --metrics-listen HOST:PORT`: this agent's own share of the load
// for Prometheus, in the same series as `herd run --metrics-listen`
// (agent/output/prometheus.h) plus `herd_agent_info`. The page is rebuilt from
// the reports the agent sends its coordinator (one a second), so what it shows
// is exactly what the agent contributes to the run's totals.
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>

#include "agent/metrics/metrics_server.h"
#include "common/core/result.h"
#include "common/report/aggregate.h"
#include "common/scenario/plan.h"
#include "herd/v1/agent.pb.h"

namespace herd::cli {

class AgentMetrics {
 public:
  // Listens on `host_port` (the flag's value) and serves the page until destroyed.
  static Result<std::unique_ptr<AgentMetrics>> start(const std::string& host_port, std::string agent_id);

  // Every message the agent hands its transport. Reports are merged once each
  // (a report resent after a reconnect has a sequence already seen); `plan` is
  // the scenario the agent runs (null until the coordinator's Welcome).
  void observe(const v1::AgentMessage& message, const scenario::Plan* plan);

  const std::string& address() const { return server_->address(); }

 private:
  AgentMetrics(std::unique_ptr<metrics::MetricsServer> server, std::string agent_id);
  void publish(const scenario::Plan* plan, bool finished);

  std::unique_ptr<metrics::MetricsServer> server_;
  const std::string agent_id_;
  std::mutex mutex_;
  std::optional<report::RunAggregate> aggregate_;  // once the plan is known
  uint64_t last_sequence_ = 0;
  uint64_t rejected_ = 0;  // reports whose stats did not decode (never expected)
};

}  // namespace herd::cli
