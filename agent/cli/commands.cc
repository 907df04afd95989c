#include "agent/cli/commands.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>

#include <fmt/format.h>

#include "agent/cli/cli11.h"
#include "agent/cli/live_metrics.h"
#include "agent/cli/outputs.h"
#include "agent/output/console.h"
#include "agent/runtime/generator_health.h"
#include "agent/runtime/local_run.h"
#include "common/core/logging.h"
#include "common/report/summary.h"
#include "common/report/threshold.h"
#include "common/scenario/compiler.h"

namespace herd::cli {

namespace {

std::atomic<bool> g_interrupted{false};

void onSignal(int) { g_interrupted.store(true); }

}  // namespace

int invalid(const Error& error) {
  fmt::print(stderr, "herd: error: {}\n", error.describe());
  return kExitInvalidInput;
}

void addScenarioFlags(CLI::App& command, Options& options) {
  command.add_option("scenario", options.scenario, "Scenario YAML file")->required();
  command.add_option("-p,--param", options.params, "Override a scenario param: key=value (repeatable)");
  command.add_option("--users", options.users, "Number of virtual users (overrides load.users)");
  command.add_option("--spawn-rate", options.spawn_rate, "Users started per second (overrides load.spawnRate)");
  command.add_option("--duration", options.duration, "Run time, e.g. 30s, 5m (overrides load.duration)");
  command.add_option("--target", options.target, "Base URL (overrides the scenario's target)");
  command.add_option("--shard", options.shard, "This agent's share of unique data rows: INDEX/COUNT (e.g. 0/4)");
}

void addOutputFlags(CLI::App& command, Options& options) {
  command.add_option("--out", options.out_dir, "Directory for summary.json and reports");
  command.add_option("--summary-json", options.summary_json, "Write the summary JSON to this file");
  addCiFlags(command, options.junit, options.markdown);
  addResultFlags(command, options);
}

namespace {

// Turns the flags into compiler options; flag errors name the flag.
Result<scenario::CompileOptions> compileOptions(const Options& options) {
  scenario::CompileOptions out;
  for (const auto& param : options.params) {
    const auto eq = param.find('=');
    if (eq == std::string::npos || eq == 0) {
      return Error{fmt::format("expected key=value, got \"{}\"", param), "-p"};
    }
    out.params[param.substr(0, eq)] = param.substr(eq + 1);
  }
  if (options.users != -1) {
    if (options.users < 1) return Error{fmt::format("must be at least 1, got {}", options.users), "--users"};
    out.users = options.users;
  }
  if (options.spawn_rate != -1) {
    if (!(options.spawn_rate > 0))
      return Error{fmt::format("must be above 0, got {}", options.spawn_rate), "--spawn-rate"};
    out.spawn_rate = options.spawn_rate;
  }
  if (!options.duration.empty()) {
    auto duration = scenario::parseDuration(options.duration);
    if (!duration) return Error{duration.error().message, "--duration"};
    out.duration = *duration;
  }
  if (!options.target.empty()) out.target = options.target;
  if (!options.shard.empty()) {
    const auto slash = options.shard.find('/');
    try {
      if (slash == std::string::npos) throw std::invalid_argument("no slash");
      size_t used = 0;
      out.shard_index = std::stoll(options.shard.substr(0, slash), &used);
      if (used != slash) throw std::invalid_argument("index");
      const std::string count = options.shard.substr(slash + 1);
      out.shard_count = std::stoll(count, &used);
      if (used != count.size()) throw std::invalid_argument("count");
    } catch (const std::exception&) {
      return Error{fmt::format("expected INDEX/COUNT such as 0/4, got \"{}\"", options.shard), "--shard"};
    }
  }
  return out;
}

}  // namespace

Result<scenario::RunOverrides> runOverrides(const Options& options) {
  scenario::RunOverrides overrides;
  auto compile_options = compileOptions(options);
  if (!compile_options) return compile_options.error();
  overrides.compile = std::move(*compile_options);
  if (!options.grace.empty()) {
    auto grace = scenario::parseDuration(options.grace);
    if (!grace) return Error{grace.error().message, "--grace"};
    overrides.grace = *grace;
  }
  return overrides;
}

Result<Compiled> compileAll(const Options& options, const scenario::RunOverrides& overrides) {
  auto compiled = scenario::compileRunFile(options.scenario, overrides);
  if (!compiled) return compiled;
  if (auto allowed = checkGuardrails(options.guardrails, *compiled); !allowed) return allowed.error();
  return compiled;
}

Result<Compiled> compileAll(const Options& options) {
  auto overrides = runOverrides(options);
  if (!overrides) return overrides.error();
  return compileAll(options, *overrides);
}

namespace {

int validate(const Options& options) {
  auto compiled = compileAll(options);
  if (!compiled) return invalid(compiled.error());
  const auto& plan = compiled->plan;
  fmt::print("{}: ok ({} user classes, {} endpoints, {} users, {} thresholds)\n", options.scenario, plan.classes.size(),
             plan.endpoints.size(), plan.load.users, compiled->thresholds.size());
  return kExitPassed;
}

int run(const Options& options) {
  setLogLevel(options.log_level);
  auto compiled = compileAll(options);
  if (!compiled) return invalid(compiled.error());
  if (auto s = applyLedgerBaseline(options, compiled->thresholds); !s) return invalid(s.error());
  const auto& plan = compiled->plan;

  const auto per_user = runtime::socketsPerUser(plan);
  // What one process would need (or each of --processes): a privileged herd
  // raises its hard limit that far rather than start more processes.
  const auto fds = runtime::raiseFdLimit(
      runtime::socketsPerProcess(plan.load.users, per_user, options.processes ? options.processes : 1));
  const size_t processes = options.processes ? options.processes
                                             : runtime::processesFor(plan.load.users, per_user, fds.soft);
  const auto needed = runtime::socketsPerProcess(plan.load.users, per_user, processes);
  if (needed > fds.soft) {
    return invalid(
        Error{fmt::format("the run needs about {} file descriptors per process ({} users / {} process(es) x {} "
                          "connection(s) each + {} reserved) but the open-files limit is {} (hard limit {}); raise it "
                          "(ulimit -n), use more --processes or lower --users",
                          needed, plan.load.users, processes, per_user, runtime::kReservedFds, fds.soft, fds.hard),
              options.processes ? "--processes" : "load.users"});
  }

  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  runtime::LocalRunOptions run_options;
  run_options.workers = options.workers;
  run_options.processes = processes;
  if (processes > 1) {
    // The worker processes compile what a remote agent would: the coordinator's Scenario.
    auto overrides = runOverrides(options);
    if (!overrides) return invalid(overrides.error());
    auto scenario = scenarioMessage(options, *overrides, *compiled);
    if (!scenario) return invalid(scenario.error());
    run_options.scenario = std::move(*scenario);
  }
  run_options.insecure = options.insecure;
  run_options.ca_file = options.ca_file;
  run_options.seed = options.seed;
  run_options.fd_limit = fds.soft;
  run_options.interrupted = &g_interrupted;
  printProgress(plan, run_options.on_second, run_options.on_saturated, run_options.on_abort);

  auto live_metrics = startLiveMetrics(options, plan, run_options);
  if (live_metrics.error) {
    fmt::print(stderr, "herd: error: {}\n", live_metrics.error->describe());
    return live_metrics.exit_code;
  }
  const auto scenario_sha256 = scenarioSha256(options.scenario);  // as run, even if edited meanwhile
  auto result = runtime::runLocal(*compiled, run_options);
  const int code = finishRun(options, plan, result, scenario_sha256);
  if (result && live_metrics.server) finishLiveMetrics(*live_metrics.server, options, plan, *result, &g_interrupted);
  return code;
}

}  // namespace

void printProgress(const scenario::Plan& plan, std::function<void(const report::SecondSample&)>& on_second,
                   std::function<void(double)>& on_saturated,
                   std::function<void(const report::ThresholdResult&)>& on_abort) {
  const bool tty = isatty(STDOUT_FILENO) != 0;
  const int64_t target = plan.load.users;
  on_second = [tty, target](const report::SecondSample& sample) {
    const auto line = output::formatProgress(sample, target);
    if (tty) fmt::print("\r\033[K{}", line);
    else fmt::print("{}\n", line);
    std::fflush(stdout);
  };
  on_saturated = [](double busy) {
    fmt::print(stderr,
               "\nherd: warning: the generator is saturated (a worker thread at {:.0f}% CPU); "
               "latency and throughput may reflect the generator, not the server. "
               "Use more --workers or more agents.\n",
               busy);
  };
  on_abort = [](const report::ThresholdResult& t) {
    fmt::print(stderr, "\nherd: threshold \"{}\" failed (measured {}) and has abortOnFail; stopping the run\n",
               t.expression, t.shown);
  };
}

int finishRun(const Options& options, const scenario::Plan& plan, const Result<coordinator::RunResult>& result,
              const std::string& scenario_sha256) {
  if (isatty(STDOUT_FILENO) != 0) fmt::print("\n");
  if (!result) {
    fmt::print(stderr, "herd: error: {}\n", result.error().describe());
    return kExitRunFailed;
  }
  fmt::print("{}", output::formatFinalTable(plan, result->aggregate, result->info));
  if (auto written = writeRunOutputs(options, plan, result->aggregate, result->info, scenario_sha256); !written) {
    fmt::print(stderr, "herd: error: cannot write output: {}\n", written.error().describe());
    return kExitRunFailed;
  }
  return result->exit_code;
}

void addRunCommand(CLI::App& app, Options& options) {
  auto* command = app.add_subcommand("run", "Run a scenario on this machine");
  addScenarioFlags(*command, options);
  addOutputFlags(*command, options);
  addMetricsFlags(*command, options);
  addGuardrailFlags(*command, options.guardrails);
  command->add_option("--workers", options.workers, "Worker threads (default: one per core)")
      ->check(CLI::Range(1, 1024));
  addProcessesFlag(*command, options);
  command->add_flag("--insecure", options.insecure, "Accept any TLS certificate (self-signed test servers)");
  command->add_option("--ca-file", options.ca_file, "Extra CA certificate (PEM) for TLS verification")
      ->check(CLI::ExistingFile);
  command->add_option(
      "--grace", options.grace,
      "Time in-flight requests may finish after the stop (default: the scenario's stop.grace, else 30s)");
  command->add_option("--seed", options.seed, "Seed for random choices (default: random)");
  command->add_option("--log-level", options.log_level, "debug, info, warn or error")
      ->check(CLI::IsMember({"trace", "debug", "info", "warn", "error", "off"}));
  addBaselineFlag(*command, options);
}

void addProcessesFlag(CLI::App& command, Options& options) {
  command
      .add_option("--processes", options.processes,
                  "Worker processes the users are split over, one result (default: as many as the open-files "
                  "limit requires, usually 1)")
      ->check(CLI::Range(1, 256));
}

void addBaselineFlag(CLI::App& command, Options& options) {
  command.add_option("--baseline", options.baseline,
                     "Judge thresholds such as \"p95 < baseline * 1.10\" against this run of the ledger "
                     "(a number as `herd ledger` shows it, -1 the last, or a run id)");
}

void addValidateCommand(CLI::App& app, Options& options) {
  auto* command = app.add_subcommand("validate", "Compile a scenario and report errors; runs nothing");
  addScenarioFlags(*command, options);
  addGuardrailFlags(*command, options.guardrails);
}

int dispatch(const CLI::App& app, const Options& options) {
  if (app.got_subcommand("run")) return run(options);
  if (app.got_subcommand("validate")) return validate(options);
  if (const int code = ledgerCommand(app, options); code >= 0) return code;
  return kExitInvalidInput;
}

}  // namespace herd::cli
