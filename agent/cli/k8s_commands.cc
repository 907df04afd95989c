#include "agent/cli/k8s_commands.h"

#include <unistd.h>

#include <atomic>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <thread>

#include <fmt/format.h>

#include "agent/cli/cli11.h"
#include "agent/cli/outputs.h"
#include "agent/k8srun/loadtest_run.h"
#include "agent/output/console.h"
#include "agent/output/csv.h"
#include "common/core/clock.h"
#include "common/k8s/config.h"
#include "common/report/html_report.h"
#include "common/scenario/compiler.h"

namespace herd::cli {

namespace {

using k8srun::json;
using k8srun::Outcome;

std::atomic<int> g_signals{0};

void onSignal(int) { g_signals.fetch_add(1); }

int exitCode(Outcome outcome) {
  switch (outcome) {
    case Outcome::kPassed: return kExitPassed;
    case Outcome::kThresholdFailed: return kExitThresholdFailed;
    case Outcome::kInvalid: return kExitInvalidInput;
    default: return kExitRunFailed;
  }
}

int fail(int code, const std::string& message) {
  fmt::print(stderr, "herd: error: {}\n", message);
  return code;
}

// --kubeconfig, else $KUBECONFIG (its first file), else ~/.kube/config, else the
// pod's service account (a CI job running in the cluster).
Result<k8s::Config> kubeConfig(const K8sOptions& options) {
  std::string path = options.kubeconfig;
  if (path.empty()) {
    if (const char* env = std::getenv("KUBECONFIG"); env && *env)
      path = std::string(env).substr(0, std::string(env).find(':'));
  }
  if (path.empty()) {
    const char* home = std::getenv("HOME");
    const std::string fallback = std::string(home ? home : "") + "/.kube/config";
    if (home && std::filesystem::exists(fallback)) path = fallback;
  }
  if (path.empty() && std::getenv("KUBERNETES_SERVICE_HOST")) return k8s::inClusterConfig();
  if (path.empty()) return Error{"no kubeconfig: give --kubeconfig or set KUBECONFIG", "--kubeconfig"};
  auto config = k8s::loadKubeconfig(path);
  if (config) config->user_agent = "herd";
  return config;
}

// An apiserver's refusal of the manifest is invalid input; anything else (no
// answer, no permission, no CRD) means the run could not be carried out.
int applyFailure(const k8s::ApiError& error) {
  const bool invalid = error.status == 400 || error.status == 422;
  return fail(invalid ? kExitInvalidInput : kExitRunFailed, "apply: " + error.describe());
}

Status writeOutputs(const std::string& out_dir, const k8srun::KeptResults& kept, const json& summary,
                    const json& loadtest) {
  if (out_dir.empty()) return Ok{};
  std::error_code ec;
  std::filesystem::create_directories(out_dir, ec);
  if (ec) return Error{ec.message(), out_dir};
  if (auto s = report::writeFile(out_dir + "/summary.json", kept.summary_json); !s) return s;
  // From the summary alone: what the cluster variant can and cannot hold is in docs/results.md.
  if (auto s = output::writeCsvFilesFromSummary(out_dir + "/" + kCsvPrefixInOut, summary); !s) return s;
  // The operator's page has the charts over time; the one from the summary has none.
  const auto html = !kept.report_html.empty()
                        ? kept.report_html
                        : report::buildHtmlReport(report::summaryReportData(summary, k8srun::reportRunInfo(loadtest)));
  return report::writeFile(out_dir + "/report.html", html);
}

// The finished run's results: the table, then the files; `code` unless they
// cannot be read or written.
int showResults(k8s::Client& client, const json& loadtest, const std::string& config_map, const K8sOptions& options,
                int code) {
  const auto ns = k8s::namespaceOf(loadtest);
  auto kept = k8srun::fetchResults(client, ns, config_map);
  if (!kept.ok()) return fail(kExitRunFailed, "the run's results: " + kept.error().describe());
  const auto summary = json::parse(kept->summary_json, nullptr, false);
  if (summary.is_discarded() || !summary.is_object())
    return fail(kExitRunFailed, "configmap/" + config_map + " holds no summary.json");
  fmt::print("{}", output::formatSummaryTable(summary));
  if (!kept->report_omitted.empty())
    fmt::print(stderr, "herd: the operator kept no report.html ({}); written from the summary, without charts\n",
               kept->report_omitted);
  if (auto s = writeOutputs(options.out_dir, *kept, summary, loadtest); !s)
    return fail(kExitRunFailed, "cannot write output: " + s.error().describe());
  if (auto s = writeCiFiles(options.junit, options.markdown, summary); !s)
    return fail(kExitRunFailed, "cannot write output: " + s.error().describe());
  return code;
}

// Ctrl-C (or SIGTERM) while following: at a terminal, ask; otherwise (a CI job
// being cancelled) stop the run rather than leave load going. True: stop it.
bool askStop(const std::string& run_id) {
  if (isatty(STDIN_FILENO) == 0) return true;
  fmt::print("\nInterrupted. Stop run {} (s) or leave it running (l)? [s/l] ", run_id);
  std::fflush(stdout);
  std::string answer;
  if (!std::getline(std::cin, answer)) return true;
  return answer.empty() || answer[0] != 'l';
}

struct Follow {
  k8s::Client& client;
  std::string ns, name, trigger;
  MonoTime deadline;
};

// Polls the LoadTest once a second until the run `trigger` started has ended.
Result<std::pair<json, k8srun::RunView>> follow(const Follow& f, int& early_exit) {
  const bool tty = isatty(STDOUT_FILENO) != 0;
  std::string last_phase;
  int failures = 0, signals_seen = 0;
  bool stop_requested = false;
  while (MonoClock::now() < f.deadline) {
    auto lt = k8srun::getLoadTest(f.client, f.ns, f.name);
    if (!lt.ok()) {
      // The apiserver may restart or blip; 30 s without an answer is the end.
      if (!lt.error().isTransient() || ++failures > 30) return lt.error().toError();
    } else {
      failures = 0;
      auto view = k8srun::viewRun(*lt, f.trigger, std::chrono::system_clock::now());
      if (view.ours && view.outcome != Outcome::kRunning) {
        if (tty) fmt::print("\n");
        return std::make_pair(std::move(*lt), std::move(view));
      }
      if (view.ours && view.phase != last_phase) {
        fmt::print("{}run {}: {}{}\n", tty && !last_phase.empty() ? "\n" : "", view.run_id, view.phase,
                   view.message.empty() ? "" : " (" + view.message + ")");
        last_phase = view.phase;
      } else if (view.ours && (view.phase == "Running" || view.phase == "Stopping")) {
        const auto line = output::formatProgress(view.sample, view.target_users);
        if (tty) fmt::print("\r\033[K{}", line);
        else fmt::print("{}\n", line);
      }
      std::fflush(stdout);
      if (g_signals.load() > signals_seen) {
        signals_seen = g_signals.load();
        if (stop_requested || !view.ours || view.run_id.empty() || !askStop(view.run_id)) {
          fmt::print(stderr, "\nherd: run {} left running; `herd k8s report {} -n {}` fetches its results\n",
                     view.run_id, f.name, f.ns);
          early_exit = kExitRunFailed;
          return Error{"interrupted", ""};
        }
        if (auto s = k8srun::requestStop(f.client, f.ns, f.name, view.run_id); !s.ok()) return s.error().toError();
        fmt::print(stderr, "\nherd: stopping run {}; its results follow (Ctrl-C again leaves it)\n", view.run_id);
        stop_requested = true;
      }
    }
    for (int i = 0; i < 10 && g_signals.load() == signals_seen; ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Error{"the run did not end within --timeout; it goes on in the cluster", "--timeout"};
}

int k8sRun(const K8sOptions& options) {
  auto timeout = scenario::parseDuration(options.timeout);
  if (!timeout) return invalid(Error{timeout.error().message, "--timeout"});
  auto manifest = k8srun::readManifest(options.file);
  if (!manifest) return invalid(manifest.error());
  auto config = kubeConfig(options);
  if (!config) return invalid(config.error());
  const auto trigger = formatRfc3339(std::chrono::system_clock::now());
  auto prepared = k8srun::prepareManifest(*manifest, options.ns, config->default_namespace, trigger);
  if (!prepared) return invalid(Error{prepared.error().message, options.file + ": " + prepared.error().where});
  auto client = k8s::Client::fromConfig(*config);
  if (!client) return fail(kExitRunFailed, client.error().describe());
  auto applied = k8srun::applyLoadTest(**client, *prepared);
  if (!applied.ok()) return applyFailure(applied.error());
  const auto ns = k8s::namespaceOf(*applied), name = k8s::nameOf(*applied);
  fmt::print("loadtest {}/{} applied ({}={}); following its run\n", ns, name, "herd.dev/run", trigger);

  std::signal(SIGINT, onSignal);
  std::signal(SIGTERM, onSignal);
  int early_exit = kExitRunFailed;
  auto ended = follow({**client, ns, name, trigger, MonoClock::now() + *timeout}, early_exit);
  if (!ended) {
    if (ended.error().message == "interrupted") return early_exit;
    return fail(kExitRunFailed, ended.error().describe());
  }
  const auto& [lt, view] = *ended;
  const auto code = exitCode(view.outcome);
  if (view.outcome == Outcome::kInvalid)
    return fail(code, fmt::format("loadtest {}/{}: {}: {}", ns, name, view.reason, view.message));
  if (view.summary_config_map.empty())
    return fail(code, fmt::format("run {} {}: {}: {}", view.run_id, view.phase, view.reason, view.message));
  return showResults(**client, lt, view.summary_config_map, options, code);
}

int k8sReport(const K8sOptions& options) {
  auto config = kubeConfig(options);
  if (!config) return invalid(config.error());
  auto client = k8s::Client::fromConfig(*config);
  if (!client) return fail(kExitRunFailed, client.error().describe());
  const auto ns = options.ns.empty() ? config->default_namespace : options.ns;
  auto lt = k8srun::getLoadTest(**client, ns, options.name);
  if (!lt.ok()) return fail(kExitRunFailed, lt.error().describe());
  auto run = k8srun::findRun(*lt, options.run_id);
  if (!run) return invalid(run.error());
  fmt::print("loadtest {}/{} run {} ({})\n", ns, options.name, run->run_id, run->verdict);
  if (run->summary_config_map.empty())
    return fail(kExitRunFailed, "run " + run->run_id + " ended before it measured anything: no results kept");
  return showResults(**client, *lt, run->summary_config_map, options, kExitPassed);
}

}  // namespace

void addK8sCommands(CLI::App& app, K8sOptions& options) {
  auto* k8s = app.add_subcommand("k8s", "Run LoadTests on Kubernetes and fetch their results");
  k8s->require_subcommand(1);
  auto common = [&](CLI::App* command) {
    command->add_option("-n,--namespace", options.ns, "Namespace (default: the manifest's, else the kubeconfig's)");
    command->add_option("--kubeconfig", options.kubeconfig, "Kubeconfig file (default: $KUBECONFIG, ~/.kube/config)");
    command->add_option("--out", options.out_dir,
                        "Directory for summary.json, report.html, herd_stats.csv and herd_failures.csv");
    addCiFlags(*command, options.junit, options.markdown);
  };
  auto* run = k8s->add_subcommand("run", "Apply a LoadTest, follow its run, print and write its results");
  run->add_option("file", options.file, "LoadTest manifest (YAML or JSON)")->required();
  run->add_option("--timeout", options.timeout, "Give up following after this long (default 1h)");
  common(run);
  auto* report = k8s->add_subcommand("report", "Fetch a finished run's results");
  report->add_option("name", options.name, "LoadTest name")->required();
  report->add_option("--run", options.run_id, "Run id (default: the newest finished run)");
  common(report);
}

int dispatchK8s(const CLI::App& app, const K8sOptions& options) {
  if (!app.got_subcommand("k8s")) return -1;
  const auto* k8s = app.get_subcommand("k8s");
  if (k8s->got_subcommand("run")) return k8sRun(options);
  if (k8s->got_subcommand("report")) return k8sReport(options);
  return kExitInvalidInput;
}

}  // namespace herd::cli
