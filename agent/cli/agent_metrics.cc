#include "agent/cli/agent_metrics.h"

#include <fmt/format.h>

#include "agent/output/prometheus.h"
#include "common/core/logging.h"
#include "common/wire/stats_codec.h"

namespace herd::cli {

namespace {

std::string agentInfo(const std::string& agent_id, uint64_t rejected) {
  return fmt::format(
      "# HELP herd_agent_info This agent (one series per process).\n"
      "# TYPE herd_agent_info gauge\n"
      "herd_agent_info{{agent=\"{}\"}} 1\n"
      "# HELP herd_agent_reports_rejected_total Reports whose stats could not be read back (always 0 unless a bug).\n"
      "# TYPE herd_agent_reports_rejected_total counter\n"
      "herd_agent_reports_rejected_total {}\n",
      output::labelValue(agent_id), rejected);
}

}  // namespace

Result<std::unique_ptr<AgentMetrics>> AgentMetrics::start(const std::string& host_port, std::string agent_id) {
  if (auto parsed = metrics::parseHostPort(host_port); !parsed) {
    return Error{parsed.error().message, "--metrics-listen"};
  }
  auto server = metrics::MetricsServer::start(host_port);
  if (!server) return Error{server.error().message, "--metrics-listen " + host_port};
  std::unique_ptr<AgentMetrics> out(new AgentMetrics(std::move(*server), std::move(agent_id)));
  out->publish(nullptr, false);  // before the address is printed: no scrape sees an empty page
  return out;
}

AgentMetrics::AgentMetrics(std::unique_ptr<metrics::MetricsServer> server, std::string agent_id)
    : server_(std::move(server)), agent_id_(std::move(agent_id)) {}

void AgentMetrics::observe(const v1::AgentMessage& message, const scenario::Plan* plan) {
  if (!message.has_report() || plan == nullptr) return;
  const auto& r = message.report();
  std::lock_guard lock(mutex_);
  if (r.sequence() <= last_sequence_) return;  // resent after a reconnect: already counted
  last_sequence_ = r.sequence();
  if (!aggregate_) aggregate_.emplace(plan->endpoints.size());
  if (auto stats = wire::decodeStats(r.stats(), plan->endpoints.size())) {
    aggregate_->add(*stats);
  } else {
    ++rejected_;
    logger("agent")->warn("metrics: report {}: {}", r.sequence(), stats.error().describe());
  }
  aggregate_->closeSecond(static_cast<double>(r.tick()), r.users(), r.generator_busy());
  publish(plan, r.final());
}

void AgentMetrics::publish(const scenario::Plan* plan, bool finished) {
  std::string text = agentInfo(agent_id_, rejected_);
  if (plan != nullptr && aggregate_) {
    // The agent evaluates no thresholds (the coordinator does, over every agent).
    static const std::vector<report::ThresholdResult> none;
    text += output::prometheusText({*plan, *aggregate_, none, finished});
  }
  server_->publish(std::move(text));
}

}  // namespace herd::cli
