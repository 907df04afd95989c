#include "agent/cli/live_metrics.h"

#include <algorithm>
#include <thread>

#include <fmt/format.h>

#include "agent/cli/cli11.h"
#include "agent/output/prometheus.h"
#include "common/scenario/compiler.h"

namespace herd::cli {

MetricsStart startLiveMetrics(const Options& options, const scenario::Plan& plan,
                              runtime::LocalRunOptions& run_options) {
  MetricsStart out;
  if (options.metrics_listen.empty()) return out;
  if (auto parsed = metrics::parseHostPort(options.metrics_listen); !parsed) {
    out.error = Error{parsed.error().message, "--metrics-listen"};
    out.exit_code = kExitInvalidInput;
    return out;
  }
  auto server = metrics::MetricsServer::start(options.metrics_listen);
  if (!server) {
    out.error = Error{server.error().message, "--metrics-listen " + options.metrics_listen};
    out.exit_code = kExitRunFailed;
    return out;
  }
  out.server = std::move(*server);
  // Zeros until the first second is merged; published before the address is
  // printed, so no scrape ever sees an empty page.
  const report::RunAggregate empty(plan.endpoints.size());
  out.server->publish(output::prometheusText({plan, empty, {}, false}));
  fmt::print(stderr, "herd: metrics at http://{}/metrics\n", out.server->address());
  run_options.on_live = [&plan, server = out.server.get()](const report::RunAggregate& aggregate,
                                                           const std::vector<report::ThresholdResult>& thresholds) {
    server->publish(output::prometheusText({plan, aggregate, thresholds, false}));
  };
  return out;
}

void finishLiveMetrics(metrics::MetricsServer& server, const Options& options, const scenario::Plan& plan,
                       const runtime::LocalRunResult& result, const std::atomic<bool>* interrupted) {
  server.publish(output::prometheusText({plan, result.aggregate, result.info.thresholds, true}));
  lingerMetrics(options, interrupted);
}

void lingerMetrics(const Options& options, const std::atomic<bool>* interrupted) {
  const auto linger = scenario::parseDuration(options.metrics_linger);
  if (!linger || linger->count() == 0) return;
  fmt::print(stderr, "herd: serving the final metrics for {} (Ctrl-C ends it)\n", options.metrics_linger);
  const auto deadline = MonoClock::now() + *linger;
  while (MonoClock::now() < deadline && !(interrupted && interrupted->load())) {
    std::this_thread::sleep_for(std::min<Nanos>(std::chrono::milliseconds(50), deadline - MonoClock::now()));
  }
}

void addMetricsFlags(CLI::App& command, Options& options) {
  command.add_option("--metrics-listen", options.metrics_listen,
                     "Serve live Prometheus metrics at http://HOST:PORT/metrics during the run (port 0: any free)");
  command
      .add_option("--metrics-linger", options.metrics_linger,
                  "Keep serving the final metrics this long after the run, e.g. 30s (default 0s)")
      ->check([](const std::string& text) {
        auto parsed = scenario::parseDuration(text);
        return parsed ? std::string() : parsed.error().message;
      });
}

}  // namespace herd::cli
