// herd-operator: watches LoadTests and runs them (docs/operator.md).
//
//   herd-operator --kubeconfig ~/.kube/config --namespace perf --leader-elect
//
// Exit codes: 0 stopped by SIGTERM/SIGINT; 2 invalid flags (TLS neither set up nor
// turned off with --coordinator-insecure) or kubeconfig;
// 3 could not work (apiserver unreachable, LoadTest CRD not installed, the
// coordinator address cannot be bound, lost leadership — a supervisor restarts it
// and it campaigns again).
#include <signal.h>
#include <unistd.h>

#include <atomic>
#include <condition_variable>
#include <iostream>
#include <mutex>
#include <random>
#include <thread>

// CLI11's own code is compiled here; GCC 12 at -O2 reports a -Wnull-dereference
// inside CLI::detail::split (std::vector<std::string> growth inlined into it).
// The pragma covers CLI11's code only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop

#include "common/core/logging.h"
#include "common/core/secure_random.h"
#include "common/k8s/leader_election.h"
#include "operator/controller/controller.h"
#include "operator/coordinator/live_coordinator.h"
#include "operator/main/coordinator_tls.h"
#include "operator/main/guardrail_flags.h"
#include "operator/main/http_endpoints.h"
#include "operator/main/leader_label.h"
#include "operator/main/loadtest_metrics.h"

namespace {

using namespace herd;

struct Flags {
  std::string kubeconfig;
  std::vector<std::string> namespaces;
  std::string coordinator_listen = "0.0.0.0:7070";
  std::string coordinator_advertise;
  operator_main::CoordinatorTlsFlags coordinator_tls;
  std::string metrics_listen;
  std::string health_listen;
  bool leader_elect = false;
  std::string leader_election_namespace;
  int hold_unknown_runs_seconds = 120;
  std::string agent_image = "herd:latest";
  std::vector<std::string> agent_command;
  int agent_metrics_port = 0;
  int workers = 2;
  std::string log_level = "info";
  // What a LoadTest may ask for (guardrail_flags.h).
  operator_main::GuardrailFlags guardrails;
};

// Blocks until SIGTERM or SIGINT (the main thread sleeps in sigwait; every
// other thread has the signals blocked, inherited from main).
class SignalWait {
 public:
  SignalWait() {
    sigemptyset(&set_);
    sigaddset(&set_, SIGTERM);
    sigaddset(&set_, SIGINT);
    pthread_sigmask(SIG_BLOCK, &set_, nullptr);
  }
  int wait() {
    int sig = 0;
    sigwait(&set_, &sig);
    return sig;
  }

 private:
  sigset_t set_;
};

int run(const Flags& flags, SignalWait& signals) {
  auto log = logger("operator");
  auto guardrails = operator_main::guardrails(flags.guardrails);
  if (!guardrails.ok()) {
    std::cerr << "herd-operator: " << guardrails.error().describe() << "\n";
    return 2;
  }
  auto config = flags.kubeconfig.empty() ? k8s::inClusterConfig() : k8s::loadKubeconfig(flags.kubeconfig);
  if (!config.ok()) {
    std::cerr << "herd-operator: " << config.error().describe() << "\n";
    return 2;
  }
  auto client = k8s::Client::fromConfig(*config);
  if (!client.ok()) {
    std::cerr << "herd-operator: " << client.error().describe() << "\n";
    return 2;
  }
  auto agent_ca = operator_main::agentCaBundle(flags.coordinator_tls);
  if (!agent_ca.ok()) {
    std::cerr << "herd-operator: " << agent_ca.error().describe() << "\n";
    return 2;
  }
  // One coordinator per run, every run behind this one listener (routed by run id).
  auto live = operator_coordinator::startLiveCoordinator({flags.coordinator_listen, flags.coordinator_advertise,
                                                          flags.coordinator_tls.cert, flags.coordinator_tls.key,
                                                          std::chrono::seconds(flags.hold_unknown_runs_seconds)});
  if (!live.ok()) {
    std::cerr << "herd-operator: --coordinator-listen " << live.error().describe() << "\n";
    return 3;
  }
  auto coordinator = std::move(*live);
  k8s::EventRecorder events(**client, "herd-operator");
  controller::ReconcilerSettings settings;
  settings.agent.image = flags.agent_image;
  settings.agent.coordinator = coordinator->agentEndpoint();
  settings.agent.coordinator_ca = *agent_ca;
  settings.agent.coordinator_server_name = flags.coordinator_tls.server_name;
  if (!flags.agent_command.empty()) settings.agent.command = flags.agent_command;
  settings.agent.metrics_port = static_cast<uint16_t>(flags.agent_metrics_port);
  settings.guardrails = std::move(*guardrails);
  controller::Reconciler reconciler(
      **client, events, *coordinator, settings, [] { return std::chrono::system_clock::now(); }, secureRandom64());
  controller::Controller ctl(**client, reconciler, {flags.namespaces, flags.workers});

  operator_main::LoadTestMetrics loadtest_metrics(**client, flags.namespaces);
  std::atomic<bool> ready{false};
  std::atomic<bool> leading{!flags.leader_elect};
  std::unique_ptr<operator_main::HttpEndpoints> health, metrics;
  if (!flags.health_listen.empty()) {
    auto h = operator_main::serveHttp(flags.health_listen, [&](const std::string& path) -> std::pair<int, std::string> {
      if (path == "/healthz") return {200, "ok\n"};
      if (path == "/readyz")
        return ready ? std::pair<int, std::string>{200, "ok\n"} : std::pair<int, std::string>{503, "not ready\n"};
      return {404, "not found\n"};
    });
    if (!h.ok()) {
      std::cerr << "herd-operator: --health-listen " << h.error().describe() << "\n";
      return 2;
    }
    health = std::move(*h);
    log->info("health endpoints listening on port {}", health->port());
  }
  if (!flags.metrics_listen.empty()) {
    auto m = operator_main::serveHttp(
        flags.metrics_listen, [&](const std::string& path) -> std::pair<int, std::string> {
          if (path != "/metrics") return {404, "not found\n"};
          return {200,
                  "# TYPE herd_operator_reconciles_total counter\nherd_operator_reconciles_total " +
                      std::to_string(ctl.reconciles()) +
                      "\n# TYPE herd_operator_reconcile_errors_total counter\nherd_operator_reconcile_errors_total " +
                      std::to_string(ctl.reconcileErrors()) +
                      "\n# TYPE herd_operator_leader gauge\nherd_operator_leader " + (leading ? "1" : "0") + "\n" +
                      operator_main::renderApiserverRequests((*client)->requestCounts()) + loadtest_metrics.render()};
        });
    if (!m.ok()) {
      std::cerr << "herd-operator: --metrics-listen " << m.error().describe() << "\n";
      return 2;
    }
    metrics = std::move(*m);
    log->info("metrics listening on port {}", metrics->port());
  }

  std::mutex mu;
  std::condition_variable cv;
  int exit_code = -1;
  auto finish = [&](int code) {
    std::lock_guard lock(mu);
    if (exit_code < 0) exit_code = code;
    cv.notify_all();
  };
  auto startController = [&] {
    if (!ctl.start(std::chrono::seconds(60))) {
      log->error(
          "caches did not sync within 60s: is the LoadTest CRD installed (kubectl apply -f crds/loadtest.yaml)?");
      finish(3);
      return;
    }
    if (metrics) loadtest_metrics.start();
    ready = true;
    log->info("controller started ({} namespaces, {} workers)",
              flags.namespaces.empty() ? std::string("all") : std::to_string(flags.namespaces.size()), flags.workers);
  };

  operator_main::LeaderLabel leader_label(**client);  // outlives the elector's callbacks
  std::stop_source stop;
  std::jthread elector_thread;
  std::unique_ptr<k8s::LeaderElector> elector;
  std::jthread starter;
  k8s::LeaderElectionConfig le;  // the callbacks below read it as long as the elector runs
  std::unique_ptr<k8s::Client> lease_client;
  if (flags.leader_elect) {
    leader_label.set(false);
    char host[256] = {};
    ::gethostname(host, sizeof host - 1);
    le.ns = !flags.leader_election_namespace.empty() ? flags.leader_election_namespace
            : !flags.namespaces.empty()              ? flags.namespaces.front()
            : std::getenv("POD_NAMESPACE")           ? std::getenv("POD_NAMESPACE")
                                                     : "default";
    le.name = "herd-operator";
    le.identity = std::string(host) + "-" + std::to_string(std::random_device{}() % 1000000);
    // Lease calls time out well within the renew deadline (the elector counts on it).
    auto lease_config = *config;
    lease_config.request_timeout = le.request_timeout;
    auto made = k8s::Client::fromConfig(lease_config);
    if (!made.ok()) {
      std::cerr << "herd-operator: " << made.error().describe() << "\n";
      return 2;
    }
    lease_client = std::move(*made);
    k8s::LeaderCallbacks callbacks;
    callbacks.on_started_leading = [&] {
      // The agents of runs the previous leader ran redial now: hold them until
      // the reconciler has taken those runs over.
      coordinator->holdUnknownRuns();
      leading = true;
      log->info("leading as {}", le.identity);
      leader_label.set(true);
      starter = std::jthread([&] { startController(); });  // the callback must return promptly
    };
    callbacks.on_stopped_leading = [&] {
      leading = false;
      if (stop.stop_requested()) {
        leader_label.set(false);
        return;
      }
      // Another replica may lead once the lease expires: stop acting now. The
      // process ends, and the controller and the coordinator listener with it;
      // an orderly stop could wait on the apiserver that failed the renewals.
      // Not Ready any more, the pod leaves the coordinator Service.
      log->error("lost leadership as {}; exiting", le.identity);
      log->flush();
      ::_exit(3);
    };
    elector = std::make_unique<k8s::LeaderElector>(*lease_client, le, callbacks);
    elector_thread = std::jthread([&, token = stop.get_token()] { elector->run(token); });
  } else {
    leader_label.set(true);  // the only replica
    starter = std::jthread([&] { startController(); });
  }
  std::jthread signal_thread([&] {
    int sig = signals.wait();
    if (sig != 0) finish(0);
  });
  {
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return exit_code >= 0; });
  }
  log->info("stopping");
  if (starter.joinable()) starter.join();
  ctl.stop();
  stop.request_stop();  // releases the Lease on a clean stop
  if (elector_thread.joinable()) elector_thread.join();
  if (exit_code != 0) ::_exit(exit_code);  // the signal thread still waits in sigwait
  signal_thread.detach();
  return exit_code;
}

}  // namespace

int main(int argc, char** argv) {
  SignalWait signals;  // before any thread starts, so all inherit the mask
  Flags flags;
  CLI::App app{"herd-operator: runs herd LoadTests on Kubernetes"};
  app.add_option("--kubeconfig", flags.kubeconfig, "kubeconfig file (default: in-cluster configuration)");
  app.add_option("--namespace", flags.namespaces, "watch only this namespace (repeatable; default all)");
  app.add_option("--coordinator-listen", flags.coordinator_listen, "where the coordinator listens for agents")
      ->capture_default_str();
  app.add_option("--coordinator-advertise", flags.coordinator_advertise,
                 "host:port agents dial (default: --coordinator-listen with the port bound); usually a Service name");
  app.add_option("--coordinator-tls-cert", flags.coordinator_tls.cert, "PEM certificate the coordinator serves");
  app.add_option("--coordinator-tls-key", flags.coordinator_tls.key, "PEM private key of --coordinator-tls-cert");
  app.add_option("--coordinator-tls-ca", flags.coordinator_tls.ca,
                 "PEM CA bundle agent pods trust for the coordinator");
  app.add_option("--coordinator-tls-server-name", flags.coordinator_tls.server_name,
                 "name agents expect in the certificate (default: the host of --coordinator-advertise)");
  app.add_flag("--coordinator-insecure", flags.coordinator_tls.insecure, "serve agents plaintext (no TLS)");
  app.add_option("--metrics-listen", flags.metrics_listen, "serve /metrics on HOST:PORT");
  app.add_option("--health-listen", flags.health_listen, "serve /healthz and /readyz on HOST:PORT");
  app.add_flag("--leader-elect", flags.leader_elect, "run only while holding the herd-operator Lease");
  app.add_option("--leader-election-namespace", flags.leader_election_namespace,
                 "namespace of the Lease (default the first --namespace, $POD_NAMESPACE or default)");
  app.add_option("--hold-unknown-runs", flags.hold_unknown_runs_seconds,
                 "seconds after start-up and after becoming leader that agents of runs not taken over yet wait "
                 "instead of being refused")
      ->check(CLI::Range(1, 3600))
      ->capture_default_str();
  app.add_option("--agent-image", flags.agent_image, "agent image when the LoadTest names none")->capture_default_str();
  app.add_option("--agent-command", flags.agent_command, "agent pods' command (default: herd agent)")->expected(1, -1);
  app.add_option(
         "--agent-metrics-port", flags.agent_metrics_port,
         "agents serve Prometheus metrics on this port (named \"metrics\", prometheus.io/* annotations); 0: off")
      ->check(CLI::Range(0, 65535))
      ->capture_default_str();
  app.add_option("--workers", flags.workers, "reconciler threads")->check(CLI::Range(1, 64))->capture_default_str();
  app.add_option("--log-level", flags.log_level, "debug, info, warn, error")->capture_default_str();
  operator_main::addGuardrailFlags(app, flags.guardrails);
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    int rc = app.exit(e);
    return rc == 0 ? 0 : 2;
  }
  herd::setLogLevel(flags.log_level);
  return run(flags, signals);
}
