#pragma once
// The kubelet stand-in's pure half (see pod_runner.h): how a Pod object turns
// into a local process (argv, environment, scratch directories for volumes)
// and into the status a kubelet would report. No I/O; unit-tested.
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/core/json.h"

#include "common/core/result.h"

namespace herd::podrunner {

using json = Json;

// nodeSelector against the stand-in's node labels; the message the scheduler
// would give when they do not match.
std::optional<std::string> unschedulableReason(const json& pod, const std::map<std::string, std::string>& node_labels);

// Kubernetes expands $(VAR) in command, args and env values from the
// container's env; $$ escapes, unknown references stay as written.
std::string expandVars(const std::string& text, const std::map<std::string, std::string>& env);

// The stand-in runs processes in the host's filesystem, so a volume mounted at
// /var/run/herd/token is materialised in a scratch directory instead, and any
// argument or env value naming a path under a mountPath is rewritten to it.
// `mounts` maps mountPath → local directory; the longest matching prefix wins.
std::string rewriteMountPaths(const std::string& text, const std::map<std::string, std::string>& mounts);

struct ProcessSpec {
  std::vector<std::string> argv;
  std::map<std::string, std::string> env;
};

// command + args of the first container with env resolved ($(VAR), field
// references), mount paths rewritten and argv[0] mapped through `executables`
// (name → path; a name without a mapping is looked up in PATH by exec).
// `lookup(kind, name, key)` resolves secretKeyRef / configMapKeyRef.
using RefLookup =
    std::function<Result<std::string>(const std::string& kind, const std::string& name, const std::string& key)>;
Result<ProcessSpec> processSpec(const json& pod, const std::map<std::string, std::string>& mounts,
                                const std::map<std::string, std::string>& executables, const RefLookup& lookup);

// Pod status as a kubelet reports it: running and Ready, or terminated.
json runningStatus(const json& pod, const std::string& started_at);
json terminatedStatus(const json& pod, int exit_code, const std::string& started_at, const std::string& finished_at);
json unschedulableStatus(const std::string& message);

}  // namespace herd::podrunner
