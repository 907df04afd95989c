#pragma once
// `--metrics-listen HOST:PORT`: the run's live state for Prometheus, rebuilt
// once a second while the run goes and left up with the final values for
// `--metrics-linger` after it ends (so the last scrape sees the whole run).
#include <atomic>
#include <memory>

#include "agent/cli/commands.h"
#include "agent/metrics/metrics_server.h"
#include "agent/runtime/local_run.h"

namespace herd::cli {

// Starts the listener (when the flag is given) and hooks it into the run. The
// error's exit code is in `exit_code`: 2 for a malformed flag, 3 when it cannot listen.
struct MetricsStart {
  std::unique_ptr<metrics::MetricsServer> server;  // null without the flag
  int exit_code = 0;
  std::optional<Error> error;
};
MetricsStart startLiveMetrics(const Options& options, const scenario::Plan& plan,
                              runtime::LocalRunOptions& run_options);

// Publishes the final values, then keeps serving them for --metrics-linger or
// until an interrupt.
void finishLiveMetrics(metrics::MetricsServer& server, const Options& options, const scenario::Plan& plan,
                       const runtime::LocalRunResult& result, const std::atomic<bool>* interrupted);

// Keeps the process (and so its metrics listener) up for --metrics-linger or
// until an interrupt.
void lingerMetrics(const Options& options, const std::atomic<bool>* interrupted);

// --metrics-listen and --metrics-linger.
void addMetricsFlags(CLI::App& command, Options& options);

}  // namespace herd::cli
