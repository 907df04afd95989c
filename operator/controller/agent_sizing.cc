#include "operator/controller/agent_sizing.h"

#include <algorithm>
#include <set>
#include <string>

namespace herd::controller {

namespace {

using json = Json;

constexpr int64_t kKiB = 1024;
constexpr int64_t kMiB = 1024 * kKiB;
// The process with its threads, event loops (64 KiB scratch each) and gRPC.
constexpr int64_t kBaseMemory = 64 * kMiB;
// docs/BENCHMARKS.md measures 0.67 KiB of resident memory per idle user; a
// busy user also holds its request and response in flight and socket buffers
// that the kernel charges to the pod's memory cgroup, hence the margin.
constexpr int64_t kPerUserMemory = 16 * kKiB;
// An agent keeps up to 64 MiB of its reports for a coordinator that restarts
// (SessionOptions::keep_bytes); the limit leaves room for all of them.
constexpr int64_t kReportHistory = 64 * kMiB;
constexpr const char* kCpuRequest = "250m";
// After its users stop: reconnecting if the stream broke, sending the final
// report and waiting for its acknowledgement.
constexpr int64_t kFinalReportSeconds = 30;

std::string mebibytes(int64_t bytes) { return std::to_string((bytes + kMiB - 1) / kMiB) + "Mi"; }

}  // namespace

int64_t usersPerAgent(int64_t users, int agents) {
  const int64_t n = std::max(1, agents);
  return std::max<int64_t>(1, (users + n - 1) / n);
}

json agentResources(const AgentSizing& sizing, const json& template_resources) {
  const int64_t request = kBaseMemory + std::max<int64_t>(1, sizing.users_per_agent) * kPerUserMemory;
  const int64_t request_mib = (request + kMiB - 1) / kMiB * kMiB;
  json out{{"requests", {{"cpu", kCpuRequest}, {"memory", mebibytes(request_mib)}}},
           {"limits", {{"memory", mebibytes(2 * request_mib + kReportHistory)}}}};
  if (!template_resources.is_object()) return out;
  std::set<std::string> named;  // resources the template decides
  for (const char* part : {"requests", "limits"})
    if (template_resources.contains(part) && template_resources[part].is_object())
      for (const auto& [name, value] : template_resources[part].items()) named.insert(name);
  for (const char* part : {"requests", "limits"}) {
    for (const auto& name : named) out[part].erase(name);
    if (template_resources.contains(part) && template_resources[part].is_object())
      out[part].update(template_resources[part]);
    if (out[part].empty()) out.erase(part);
  }
  for (const auto& [key, value] : template_resources.items())
    if (key != "requests" && key != "limits") out[key] = value;  // claims and whatever comes next
  return out;
}

int64_t agentTerminationGraceSeconds(const AgentSizing& sizing) {
  const auto grace = std::chrono::ceil<std::chrono::seconds>(std::max(Nanos(0), sizing.stop_grace));
  return grace.count() + kFinalReportSeconds;
}

}  // namespace herd::controller
