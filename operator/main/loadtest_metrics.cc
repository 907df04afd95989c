#include "operator/main/loadtest_metrics.h"

#include <array>
#include <cstddef>
#include <sstream>

#include <fmt/format.h>

#include "common/k8s/resource.h"
#include "operator/controller/loadtest.h"
#include "operator/controller/loadtest_status.h"

namespace herd::operator_main {
namespace {

using json = Json;

using controller::LoadTestStatus;

// The phases' names in the CRD's order (loadtest_status.h defines them).
const std::array<const char*, controller::kPhases.size()> kPhaseNames = [] {
  std::array<const char*, controller::kPhases.size()> names{};
  for (size_t i = 0; i < names.size(); ++i) names[i] = controller::phaseName(controller::kPhases[i]);
  return names;
}();

// Label values escaped per the exposition format.
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') {
      out += "\\n";
      continue;
    }
    out += c;
  }
  return out;
}

std::string text(const json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>() : "";
}

// The run's totals; zero before the first report.
controller::StatusTotals totals(const LoadTestStatus& st) { return st.totals.value_or(controller::StatusTotals{}); }

// One gauge per LoadTest, read from its status.
struct Gauge {
  const char* name;
  const char* help;
  double (*value)(const LoadTestStatus& status);
};

constexpr Gauge kGauges[] = {
    {"herd_loadtest_users", "Virtual users of the LoadTest's current or last run.",
     [](const LoadTestStatus& st) { return static_cast<double>(st.usersOr0()); }},
    {"herd_loadtest_rps", "Requests per second of the current or last run.",
     [](const LoadTestStatus& st) { return totals(st).rps; }},
    {"herd_loadtest_requests", "Requests of the current or last run.",
     [](const LoadTestStatus& st) { return static_cast<double>(totals(st).requests); }},
    {"herd_loadtest_failures", "Failed requests of the current or last run.",
     [](const LoadTestStatus& st) { return static_cast<double>(totals(st).failures); }},
    {"herd_loadtest_latency_p95_seconds", "p95 latency of the current or last run.",
     [](const LoadTestStatus& st) { return totals(st).p95_ms / 1000.0; }},
    {"herd_loadtest_agents_connected", "Agents connected to the coordinator.",
     [](const LoadTestStatus& st) { return static_cast<double>(st.agents ? st.agents->connected : 0); }},
};

// A gauge that is 1 for the status field's value and 0 for the enum's others.
struct OneHot {
  const char* name;
  const char* help;
  const char* field;  // the label name
  const char* const* values;
  size_t count;
  bool absent_when_unset;
  std::string (*current)(const LoadTestStatus& status);
};

const OneHot kOneHots[] = {
    {"herd_loadtest_phase", "1 for the LoadTest's phase, 0 for the others.", "phase", kPhaseNames.data(),
     kPhaseNames.size(), false, [](const LoadTestStatus& st) { return std::string(controller::phaseName(st.phase)); }},
    {"herd_loadtest_verdict", "1 for the last run's verdict, 0 for the others (none before a run ends).", "verdict",
     controller::kVerdicts.data(), controller::kVerdicts.size(), true,
     [](const LoadTestStatus& st) { return st.verdict; }},
};

struct Subject {
  std::string labels;  // namespace="...",loadtest="..."
  LoadTestStatus status;
};

}  // namespace

std::string renderApiserverRequests(const k8s::RequestCounts& counts) {
  std::string out =
      "# HELP herd_operator_apiserver_requests_total Requests the operator sent to the apiserver, by verb.\n"
      "# TYPE herd_operator_apiserver_requests_total counter\n";
  for (size_t i = 0; i < counts.by_verb.size(); ++i) {
    out += fmt::format("herd_operator_apiserver_requests_total{{verb=\"{}\"}} {}\n", k8s::RequestCounts::kVerbs[i],
                       counts.by_verb[i]);
  }
  return out;
}

std::string renderLoadTestMetrics(const std::vector<json>& loadtests) {
  std::vector<Subject> subjects;
  for (const auto& lt : loadtests) {
    const json meta = lt.contains("metadata") ? lt["metadata"] : json::object();
    subjects.push_back(
        {"namespace=\"" + escape(text(meta, "namespace")) + "\",loadtest=\"" + escape(text(meta, "name")) + "\"",
         LoadTestStatus::fromJson(lt.contains("status") ? lt["status"] : json::object())});
  }
  std::ostringstream out;
  out.precision(15);
  auto header = [&](const char* name, const char* help) {
    out << "# HELP " << name << ' ' << help << "\n# TYPE " << name << " gauge\n";
  };
  for (const auto& g : kGauges) {
    header(g.name, g.help);
    for (const auto& s : subjects) out << g.name << '{' << s.labels << "} " << g.value(s.status) << '\n';
  }
  for (const auto& h : kOneHots) {
    header(h.name, h.help);
    for (const auto& s : subjects) {
      const std::string current = h.current(s.status);
      if (current.empty() && h.absent_when_unset) continue;
      for (size_t i = 0; i < h.count; ++i)
        out << h.name << '{' << s.labels << ',' << h.field << "=\"" << h.values[i] << "\"} "
            << (current == h.values[i] ? 1 : 0) << '\n';
    }
  }
  // The run's latency merged over its agents: histogram_quantile() over these
  // series is the run's percentile, within the width of the bucket holding it.
  const char* histogram = "herd_loadtest_latency_seconds";
  out << "# HELP " << histogram << " Request latency of the current or last run, merged over every agent.\n# TYPE "
      << histogram << " histogram\n";
  for (const auto& s : subjects) {
    if (!s.status.latency_histogram) continue;
    const auto& h = *s.status.latency_histogram;
    for (size_t i = 0; i < h.bounds_seconds.size(); ++i)
      out << histogram << "_bucket{" << s.labels << ",le=\"" << h.bounds_seconds[i] << "\"} " << h.cumulative[i]
          << '\n';
    out << histogram << "_bucket{" << s.labels << ",le=\"+Inf\"} " << h.count << '\n';
    out << histogram << "_sum{" << s.labels << "} " << h.sum_seconds << '\n';
    out << histogram << "_count{" << s.labels << "} " << h.count << '\n';
  }
  return out.str();
}

LoadTestMetrics::LoadTestMetrics(k8s::Client& client, std::vector<std::string> namespaces)
    : client_(client), namespaces_(std::move(namespaces)) {
  if (namespaces_.empty()) namespaces_.push_back("");
}

LoadTestMetrics::~LoadTestMetrics() {
  for (auto& i : informers_) i->stop();
}

void LoadTestMetrics::start() {
  for (const auto& ns : namespaces_) {
    k8s::InformerOptions opts;
    opts.ns = ns;
    informers_.push_back(std::make_unique<k8s::Informer>(client_, controller::kLoadTests, opts));
    informers_.back()->start();
  }
  started_ = true;
}

std::string LoadTestMetrics::render() const {
  if (!started_) return "";
  std::vector<json> all;
  for (const auto& i : informers_) {
    auto items = i->list();
    all.insert(all.end(), std::make_move_iterator(items.begin()), std::make_move_iterator(items.end()));
  }
  return renderLoadTestMetrics(all);
}

}  // namespace herd::operator_main
