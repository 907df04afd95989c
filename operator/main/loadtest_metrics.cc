#include "operator/main/loadtest_metrics.h"

#include <array>
#include <sstream>

#include "operator/controller/loadtest.h"
#include "operator/k8s/resource.h"

namespace herd::operator_main {
namespace {

using nlohmann::json;

constexpr std::array<const char*, 6> kPhases = {"Pending", "Starting", "Running", "Stopping", "Succeeded", "Failed"};
constexpr std::array<const char*, 3> kVerdicts = {"Passed", "Failed", "Aborted"};

// Label values escaped per the exposition format.
std::string escape(const std::string& s) {
  std::string out;
  for (char c : s) {
    if (c == '\\' || c == '"') out += '\\';
    if (c == '\n') { out += "\\n"; continue; }
    out += c;
  }
  return out;
}

double number(const json& obj, std::initializer_list<const char*> path) {
  const json* cur = &obj;
  for (const char* key : path) {
    if (!cur->is_object() || !cur->contains(key)) return 0;
    cur = &(*cur)[key];
  }
  return cur->is_number() ? cur->get<double>() : 0;
}

std::string text(const json& obj, const char* key) {
  return obj.is_object() && obj.contains(key) && obj[key].is_string() ? obj[key].get<std::string>() : "";
}

struct Family {
  const char* name;
  const char* type;
  const char* help;
};

}  // namespace

std::string renderLoadTestMetrics(const std::vector<json>& loadtests) {
  static const Family families[] = {
      {"herd_loadtest_users", "gauge", "Virtual users of the LoadTest's current or last run."},
      {"herd_loadtest_rps", "gauge", "Requests per second of the current or last run."},
      {"herd_loadtest_requests", "gauge", "Requests of the current or last run."},
      {"herd_loadtest_failures", "gauge", "Failed requests of the current or last run."},
      {"herd_loadtest_latency_p95_seconds", "gauge", "p95 latency of the current or last run."},
      {"herd_loadtest_agents_connected", "gauge", "Agents connected to the coordinator."},
      {"herd_loadtest_phase", "gauge", "1 for the LoadTest's phase, 0 for the others."},
      {"herd_loadtest_verdict", "gauge", "1 for the last run's verdict, 0 for the others (none before a run ends)."},
  };
  std::ostringstream out;
  out.precision(15);
  for (const auto& f : families) {
    out << "# HELP " << f.name << ' ' << f.help << "\n# TYPE " << f.name << ' ' << f.type << '\n';
    for (const auto& lt : loadtests) {
      const json& meta = lt.contains("metadata") ? lt["metadata"] : json::object();
      const json& status = lt.contains("status") ? lt["status"] : json::object();
      std::string labels = "namespace=\"" + escape(text(meta, "namespace")) + "\",loadtest=\"" + escape(text(meta, "name")) + "\"";
      std::string name = f.name;
      auto sample = [&](const std::string& extra, double v) {
        out << name << '{' << labels << extra << "} " << v << '\n';
      };
      if (name == "herd_loadtest_users") sample("", number(status, {"users"}));
      else if (name == "herd_loadtest_rps") sample("", number(status, {"totals", "rps"}));
      else if (name == "herd_loadtest_requests") sample("", number(status, {"totals", "requests"}));
      else if (name == "herd_loadtest_failures") sample("", number(status, {"totals", "failures"}));
      else if (name == "herd_loadtest_latency_p95_seconds") sample("", number(status, {"totals", "latency", "p95"}) / 1000.0);
      else if (name == "herd_loadtest_agents_connected") sample("", number(status, {"agents", "connected"}));
      else if (name == "herd_loadtest_phase") {
        std::string phase = text(status, "phase");
        for (const char* p : kPhases) sample(std::string(",phase=\"") + p + "\"", phase == p ? 1 : 0);
      } else if (name == "herd_loadtest_verdict") {
        std::string verdict = text(status, "verdict");
        if (verdict.empty()) continue;
        for (const char* v : kVerdicts) sample(std::string(",verdict=\"") + v + "\"", verdict == v ? 1 : 0);
      }
    }
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
