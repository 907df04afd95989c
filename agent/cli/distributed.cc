#include "agent/cli/distributed.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <unistd.h>

#include <atomic>
#include <csignal>
#include <fstream>
#include <sstream>

#include <fmt/format.h>

#include "agent/cli/agent_metrics.h"
#include "agent/cli/cli11.h"
#include "agent/cli/live_metrics.h"
#include "agent/cli/outputs.h"
#include "agent/remote/coordinator_client.h"
#include "agent/runtime/agent_session.h"
#include "agent/runtime/generator_health.h"
#include "agent/runtime/worker_process.h"
#include "common/coordinator/coordinator.h"
#include "common/coordinator/grpc_service.h"
#include "common/core/logging.h"
#include "common/core/secure_random.h"
#include "common/scenario/compiler.h"
#include "common/wire/run_codec.h"

namespace herd::cli {

namespace {

std::atomic<bool> g_stop{false};
void onSignal(int) { g_stop.store(true); }

Result<std::string> readText(const std::string& path, const std::string& flag) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read the file", flag + " " + path};
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

// The token is the file's content without trailing whitespace; never a flag
// value, so it does not show in `ps`.
Result<std::string> readToken(const std::string& path) {
  if (path.empty()) return std::string();
  auto text = readText(path, "--token-file");
  if (!text) return text.error();
  auto token = std::move(*text);
  while (!token.empty() && std::isspace(static_cast<unsigned char>(token.back()))) token.pop_back();
  if (token.empty()) return Error{"the token file is empty", "--token-file " + path};
  return token;
}

Result<Nanos> durationFlag(const std::string& text, const std::string& flag) {
  auto d = scenario::parseDuration(text);
  if (!d) return Error{d.error().message, flag};
  return *d;
}

// Only this machine can reach HOST: 127.0.0.0/8, [::1] or localhost. An empty
// host or 0.0.0.0 / [::] means every interface.
bool isLoopback(const std::string& listen) {
  const auto colon = listen.rfind(':');
  std::string host = colon == std::string::npos ? listen : listen.substr(0, colon);
  if (host == "localhost") return true;
  if (host.size() > 2 && host.front() == '[' && host.back() == ']') {
    in6_addr v6{};
    return inet_pton(AF_INET6, host.substr(1, host.size() - 2).c_str(), &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
  }
  in_addr v4{};
  return inet_pton(AF_INET, host.c_str(), &v4) == 1 && (ntohl(v4.s_addr) >> 24) == 127;
}

std::string defaultAgentId() {
  char host[256] = {};
  gethostname(host, sizeof(host) - 1);
  return fmt::format("{}-{}-{:04x}", host, getpid(), secureRandom64() & 0xffff);
}

int coordinatorMain(const Options& options, const DistributedOptions& d) {
  setLogLevel(options.log_level);
  auto overrides = runOverrides(options);
  if (!overrides) return invalid(overrides.error());
  auto policy = scenario::parseLossPolicy(d.agent_loss);
  if (!policy) return invalid(Error{policy.error().message, "--agent-loss"});
  overrides->loss_policy = *policy;
  overrides->agents = static_cast<int64_t>(d.expect_agents);
  auto compiled = compileAll(options, *overrides);
  if (!compiled) return invalid(compiled.error());
  if (auto s = applyLedgerBaseline(options, compiled->thresholds); !s) return invalid(s.error());
  const auto& plan = compiled->plan;
  auto token = readToken(d.token_file);
  if (!token) return invalid(token.error());
  auto ready = durationFlag(d.ready_timeout, "--ready-timeout");
  if (!ready) return invalid(ready.error());
  auto start_delay = durationFlag(d.start_delay, "--start-delay");
  if (!start_delay) return invalid(start_delay.error());
  auto scenario = scenarioMessage(options, *overrides, *compiled);
  if (!scenario) return invalid(scenario.error());
  if (token->empty()) {
    if (!d.insecure_listen && !isLoopback(d.listen)) {
      return invalid(
          Error{"not a loopback address, and no token: pass --token-file FILE (agents must present "
                "its content) or --insecure to admit any agent that reaches it",
                "--listen " + d.listen});
    }
    logger("coordinator")->warn("no --token-file: any agent that reaches {} may join", d.listen);
  }
  // Beyond loopback the token and every scenario and report cross the network:
  // encrypted unless the user says otherwise.
  if (d.tls_cert.empty() && !d.insecure_listen && !isLoopback(d.listen)) {
    return invalid(
        Error{"not a loopback address, and no TLS: pass --tls-cert FILE --tls-key FILE (agents verify "
              "it with --tls-ca) or --insecure to send the token, scenario and reports in the clear",
              "--listen " + d.listen});
  }
  auto hello_timeout = durationFlag(d.hello_timeout, "--hello-timeout");
  if (!hello_timeout) return invalid(hello_timeout.error());
  runtime::raiseFdLimit();  // a socket per agent, and per stream that has not said Hello yet

  coordinator::CoordinatorOptions co;
  co.run_id = d.run_id.empty() ? fmt::format("{}-{:06x}", plan.name, secureRandom64() & 0xffffff) : d.run_id;
  co.token = *token;
  co.expect_agents = d.expect_agents;
  co.loss_policy = compiled->loss_policy;
  co.grace = compiled->grace;
  co.ready_timeout = *ready;
  co.start_delay = *start_delay;
  co.scenario = std::move(*scenario);
  co.total_users = compiled->total_users;
  co.interrupted = &g_stop;
  co.on_event = [](const std::string& message) { fmt::print(stderr, "\nherd: {}\n", message); };
  printProgress(plan, co.on_second, co.on_saturated, co.on_abort);
  // --metrics-listen: the same live Prometheus endpoint as `herd run`.
  runtime::LocalRunOptions metrics_hooks;
  auto live_metrics = startLiveMetrics(options, plan, metrics_hooks);
  if (live_metrics.error) {
    fmt::print(stderr, "herd: error: {}\n", live_metrics.error->describe());
    return live_metrics.exit_code;
  }
  co.on_live = std::move(metrics_hooks.on_live);
  coordinator::Coordinator coordinator(plan, compiled->thresholds, std::move(co));

  coordinator::ServerOptions so;
  so.listen = d.listen;
  so.tls_cert_file = d.tls_cert;
  so.tls_key_file = d.tls_key;
  so.tls_client_ca_file = d.tls_client_ca;
  so.hello_timeout = *hello_timeout;
  so.max_unadmitted = d.max_unadmitted;
  auto server = coordinator::GrpcServer::start(coordinator, so);
  if (!server) {
    fmt::print(stderr, "herd: error: {}\n", server.error().describe());
    return kExitRunFailed;
  }
  // Scripts and tests read the port from here (useful with port 0).
  fmt::print("herd: coordinator listening on port {}\n", (*server)->port());
  std::fflush(stdout);
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  const auto scenario_sha256 = scenarioSha256(options.scenario);  // as run, even if edited meanwhile
  auto result = coordinator.run();
  (*server)->shutdown();
  if (!result && coordinator.invalidInput()) {
    // An agent refused its input (a C++ library that is not the run's): exit 2, its reason.
    if (isatty(STDOUT_FILENO) != 0) fmt::print("\n");
    return invalid(result.error());
  }
  const int code = finishRun(options, plan, result, scenario_sha256);
  if (result && live_metrics.server) finishLiveMetrics(*live_metrics.server, options, plan, *result, &g_stop);
  return code;
}

int agentMain(const Options& options, const DistributedOptions& d) {
  setLogLevel(options.log_level);
  auto token = readToken(d.token_file);
  if (!token) return invalid(token.error());
  auto reconnect = durationFlag(d.reconnect_timeout, "--reconnect-timeout");
  if (!reconnect) return invalid(reconnect.error());
  auto target_wait = durationFlag(d.target_wait, "--target-wait");
  if (!target_wait) return invalid(target_wait.error());
  runtime::raiseFdLimit();
  std::signal(SIGPIPE, SIG_IGN);
  // SIGTERM/SIGINT: leave gracefully — users stop, the last report is delivered.
  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);

  runtime::SessionOptions so;
  so.agent_id = d.agent_id.empty() ? defaultAgentId() : d.agent_id;
  so.run_id = d.agent_run_id;
  so.workers = options.workers;
  so.insecure = options.insecure;
  so.ca_file = options.ca_file;
  so.seed = options.seed;
  so.processes = options.processes;
  so.target_wait = *target_wait;
  runtime::AgentSession session(so);
  remote::ClientOptions co;
  co.coordinator = d.coordinator;
  co.token = *token;
  co.tls_ca_file = d.tls_ca;
  co.tls_server_name = d.tls_server_name;
  co.tls_cert_file = d.tls_cert;
  co.tls_key_file = d.tls_key;
  co.reconnect_timeout = *reconnect;
  co.leave = &g_stop;
  // --metrics-listen: this agent's own load, from the reports it sends.
  std::unique_ptr<AgentMetrics> live_metrics;
  if (!options.metrics_listen.empty()) {
    auto started = AgentMetrics::start(options.metrics_listen, so.agent_id);
    if (!started) {
      fmt::print(stderr, "herd: error: {}\n", started.error().describe());
      return started.error().where == "--metrics-listen" ? kExitInvalidInput : kExitRunFailed;
    }
    live_metrics = std::move(*started);
    fmt::print(stderr, "herd: metrics at http://{}/metrics\n", live_metrics->address());
    co.on_send = [&session, metrics = live_metrics.get()](const v1::AgentMessage& message) {
      metrics->observe(message, session.plan());
    };
  }
  logger("agent")->info("agent {} dialling {}", so.agent_id, d.coordinator);
  const auto outcome = remote::runAgent(session, co);
  if (live_metrics) lingerMetrics(options, &g_stop);
  if (outcome.exit_code != 0) {
    fmt::print(stderr, "herd: error: {}\n", outcome.message);
  } else {
    logger("agent")->info("agent {}: {}", so.agent_id, outcome.message);
  }
  return outcome.exit_code;
}

int workerProcessMain(const Options& options, const DistributedOptions& d) {
  setLogLevel(options.log_level);
  runtime::SessionOptions so;
  so.agent_id = fmt::format("{}/{}", d.agent_id, d.worker_index);
  so.workers = options.workers;
  so.insecure = options.insecure;
  so.ca_file = options.ca_file;
  so.seed = options.seed;
  so.keep_bytes = 0;  // the parent acknowledges every report at once and never restarts
  return runtime::runWorkerProcess(d.worker_fd, std::move(so));
}

void addLogLevel(CLI::App& command, Options& options) {
  command.add_option("--log-level", options.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
}

}  // namespace

// What the coordinator sends every agent: the scenario's text and the flags
// that override it, so each agent compiles exactly the coordinator's plan.
Result<v1::Scenario> scenarioMessage(const Options& options, const scenario::RunOverrides& overrides,
                                     const scenario::CompiledRun& run) {
  auto yaml = readText(options.scenario, "scenario");
  if (!yaml) return yaml.error();
  return wire::encodeRun(*yaml, options.scenario, overrides.compile, run);
}

void addCoordinatorCommand(CLI::App& app, Options& options, DistributedOptions& d) {
  auto* command = app.add_subcommand("coordinator", "Run a scenario on agents that dial in (herd agent)");
  addScenarioFlags(*command, options);
  addOutputFlags(*command, options);
  addBaselineFlag(*command, options);
  command->add_option("--listen", d.listen, "HOST:PORT to accept agents on (port 0: any free port)")->required();
  command->add_option("--expect-agents", d.expect_agents, "Agents to wait for before the start")
      ->required()
      ->check(CLI::Range(1, 10000));
  command->add_option("--agent-loss", d.agent_loss, "When an agent is lost: rebalance (default), continue or abort")
      ->check(CLI::IsMember({"rebalance", "continue", "abort"}));
  command->add_option("--token-file", d.token_file, "File holding the run's token; agents must present it")
      ->check(CLI::ExistingFile);
  command->add_option("--run-id", d.run_id,
                      "The run's id (default: scenario name and a random suffix); "
                      "a restarted coordinator given the same id and token re-adopts its agents");
  command->add_option("--tls-cert", d.tls_cert, "PEM certificate: serve agents over TLS")->check(CLI::ExistingFile);
  command->add_option("--tls-key", d.tls_key, "PEM private key for --tls-cert")->check(CLI::ExistingFile);
  command->add_option("--tls-client-ca", d.tls_client_ca, "PEM CA: agents must present a certificate it signed (mTLS)")
      ->check(CLI::ExistingFile);
  command->add_flag("--insecure", d.insecure_listen,
                    "Listen beyond loopback without --token-file or without TLS anyway (any agent that reaches it "
                    "may join, or the traffic goes in the clear)");
  command->add_option("--hello-timeout", d.hello_timeout,
                      "A stream that sends no Hello within this is closed (default 10s)");
  command
      ->add_option("--max-unadmitted", d.max_unadmitted,
                   "Streams that may wait for admission at once; more are refused (default 1024)")
      ->check(CLI::Range(1, 1000000));
  command->add_option("--ready-timeout", d.ready_timeout, "How long to wait for the expected agents (default 60s)");
  command->add_option("--start-delay", d.start_delay, "How far in the future the start is broadcast (default 500ms)");
  command->add_option(
      "--grace", options.grace,
      "Time in-flight requests may finish after the stop (default: the scenario's stop.grace, else 30s)");
  addMetricsFlags(*command, options);
  addLogLevel(*command, options);
}

void addAgentCommand(CLI::App& app, Options& options, DistributedOptions& d) {
  auto* command = app.add_subcommand("agent", "Generate load for a coordinator (herd coordinator)");
  command->add_option("--coordinator", d.coordinator, "The coordinator's HOST:PORT")->required();
  command->add_option("--token-file", d.token_file, "File holding the run's token")->check(CLI::ExistingFile);
  command->add_option("--agent-id", d.agent_id, "This agent's stable name (default: host-pid-random)");
  command->add_option("--run-id", d.agent_run_id,
                      "The run to join (needed when the coordinator serves several, "
                      "e.g. herd-operator)");
  command->add_option("--tls-ca", d.tls_ca, "PEM CA: dial the coordinator over TLS and trust this CA")
      ->check(CLI::ExistingFile);
  command->add_option("--tls-server-name", d.tls_server_name,
                      "Name expected in the coordinator's certificate (default: the host of --coordinator)");
  command->add_option("--tls-cert", d.tls_cert, "PEM client certificate, for a coordinator that requires one (mTLS)")
      ->check(CLI::ExistingFile);
  command->add_option("--tls-key", d.tls_key, "PEM private key for --tls-cert")->check(CLI::ExistingFile);
  command->add_option("--reconnect-timeout", d.reconnect_timeout,
                      "Give up after this long without the coordinator (default 60s)");
  command->add_option("--target-wait", d.target_wait,
                      "Try a target that does not resolve or answer again for this long before failing the run "
                      "(default 30s; 0s: once)");
  command->add_option("--workers", options.workers, "Worker threads (default: one per core)")
      ->check(CLI::Range(1, 1024));
  addProcessesFlag(*command, options);
  command->add_flag("--insecure", options.insecure, "Accept any TLS certificate of the target");
  command->add_option("--ca-file", options.ca_file, "Extra CA certificate (PEM) for the target's TLS")
      ->check(CLI::ExistingFile);
  command->add_option("--seed", options.seed, "Seed for random choices (default: random)");
  addMetricsFlags(*command, options);
  addLogLevel(*command, options);
}

void addWorkerProcessCommand(CLI::App& app, Options& options, DistributedOptions& d) {
  auto* command = app.add_subcommand("worker-process", "");  // no description: hidden from --help
  command->add_option("--fd", d.worker_fd, "The socket to the parent herd process")->required();
  command->add_option("--index", d.worker_index, "This process's number among its parent's");
  command->add_option("--agent-id", d.agent_id, "The parent's agent id");
  command->add_option("--workers", options.workers, "Worker threads")->check(CLI::Range(1, 1024));
  command->add_flag("--insecure", options.insecure, "Accept any TLS certificate of the target");
  command->add_option("--ca-file", options.ca_file, "Extra CA certificate (PEM) for the target's TLS");
  command->add_option("--seed", options.seed, "Seed for random choices");
  addLogLevel(*command, options);
}

int dispatchDistributed(const CLI::App& app, const Options& options, const DistributedOptions& d) {
  if (app.got_subcommand("worker-process")) return workerProcessMain(options, d);
  if (app.got_subcommand("coordinator")) return coordinatorMain(options, d);
  if (app.got_subcommand("agent")) return agentMain(options, d);
  return -1;
}

}  // namespace herd::cli
