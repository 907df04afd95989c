#include "tests/cluster/pod_runner/pod_view.h"

#include "common/k8s/resource.h"

namespace herd::podrunner {

using k8s::getObject;
using k8s::getString;

std::optional<std::string> unschedulableReason(const json& pod, const std::map<std::string, std::string>& node_labels) {
  const json& sel = getObject(getObject(pod, "spec"), "nodeSelector");
  for (auto& [k, v] : sel.items()) {
    auto it = node_labels.find(k);
    if (it == node_labels.end() || !v.is_string() || it->second != v.get<std::string>())
      return "0/1 nodes are available: 1 node(s) didn't match Pod's node affinity/selector (herd pod-runner, the "
             "test kubelet stand-in)";
  }
  return std::nullopt;
}

std::string expandVars(const std::string& text, const std::map<std::string, std::string>& env) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '$') {
      out.push_back('$');
      ++i;
    } else if (text[i] == '$' && i + 1 < text.size() && text[i + 1] == '(') {
      auto close = text.find(')', i + 2);
      if (close == std::string::npos) {
        out.append(text, i, std::string::npos);
        break;
      }
      auto name = text.substr(i + 2, close - i - 2);
      auto it = env.find(name);
      out += it != env.end() ? it->second : text.substr(i, close - i + 1);
      i = close;
    } else {
      out.push_back(text[i]);
    }
  }
  return out;
}

std::string rewriteMountPaths(const std::string& text, const std::map<std::string, std::string>& mounts) {
  const std::string* best = nullptr;
  const std::string* local = nullptr;
  for (const auto& [path, dir] : mounts) {
    bool under = text == path ||
                 (text.size() > path.size() && text.compare(0, path.size(), path) == 0 && text[path.size()] == '/');
    if (under && (!best || path.size() > best->size())) {
      best = &path;
      local = &dir;
    }
  }
  return best ? *local + text.substr(best->size()) : text;
}

namespace {

Result<std::string> fieldRef(const json& pod, const std::string& path) {
  if (path == "metadata.name") return k8s::nameOf(pod);
  if (path == "metadata.namespace") return k8s::namespaceOf(pod);
  if (path == "metadata.uid") return k8s::metaString(pod, "uid");
  if (path == "status.podIP" || path == "status.hostIP") return std::string("127.0.0.1");
  if (path == "spec.nodeName") return std::string("herd-pod-runner");
  return Error{"fieldRef " + path + " is not supported by the pod-runner stand-in", k8s::keyOf(pod)};
}

}  // namespace

Result<ProcessSpec> processSpec(const json& pod, const std::map<std::string, std::string>& mounts,
                                const std::map<std::string, std::string>& executables, const RefLookup& lookup) {
  const json& containers = getObject(pod, "spec").contains("containers") ? pod["spec"]["containers"] : json();
  if (!containers.is_array() || containers.empty() || !containers[0].is_object())
    return Error{"pod has no container", k8s::keyOf(pod)};
  const json& c = containers[0];
  ProcessSpec out;
  if (c.contains("env") && c["env"].is_array()) {
    for (const auto& e : c["env"]) {
      auto name = getString(e, "name");
      if (name.empty()) continue;
      std::string value;
      if (e.contains("value")) {
        value = expandVars(getString(e, "value"), out.env);
      } else {
        const json& from = getObject(e, "valueFrom");
        Result<std::string> v = std::string();
        if (from.contains("fieldRef")) v = fieldRef(pod, getString(from["fieldRef"], "fieldPath"));
        else if (from.contains("secretKeyRef"))
          v = lookup("secret", getString(from["secretKeyRef"], "name"), getString(from["secretKeyRef"], "key"));
        else if (from.contains("configMapKeyRef"))
          v = lookup("configmap", getString(from["configMapKeyRef"], "name"),
                     getString(from["configMapKeyRef"], "key"));
        if (!v.ok()) return v.error();
        value = *v;
      }
      out.env[name] = rewriteMountPaths(value, mounts);
    }
  }
  for (const char* part : {"command", "args"}) {
    if (!c.contains(part) || !c[part].is_array()) continue;
    for (const auto& a : c[part])
      if (a.is_string()) out.argv.push_back(rewriteMountPaths(expandVars(a.get<std::string>(), out.env), mounts));
  }
  if (out.argv.empty())
    return Error{"the pod-runner stand-in needs a command (it cannot read an image's entrypoint)", k8s::keyOf(pod)};
  if (auto it = executables.find(out.argv[0]); it != executables.end()) out.argv[0] = it->second;
  return out;
}

namespace {

json conditions(bool ready, const std::string& now) {
  json out = json::array();
  for (const char* t : {"PodScheduled", "Initialized", "ContainersReady", "Ready"}) {
    bool v = std::string(t) == "PodScheduled" || std::string(t) == "Initialized" || ready;
    out.push_back({{"type", t}, {"status", v ? "True" : "False"}, {"lastTransitionTime", now}});
  }
  return out;
}

std::string containerName(const json& pod) {
  const json& cs = getObject(pod, "spec")["containers"];
  return cs.is_array() && !cs.empty() ? getString(cs[0], "name") : "main";
}

std::string image(const json& pod) {
  const json& cs = getObject(pod, "spec")["containers"];
  return cs.is_array() && !cs.empty() ? getString(cs[0], "image") : "";
}

}  // namespace

json runningStatus(const json& pod, const std::string& started_at) {
  return {{"phase", "Running"},
          {"hostIP", "127.0.0.1"},
          {"podIP", "127.0.0.1"},
          {"podIPs", json::array({{{"ip", "127.0.0.1"}}})},
          {"startTime", started_at},
          {"conditions", conditions(true, started_at)},
          {"containerStatuses", json::array({{{"name", containerName(pod)},
                                              {"image", image(pod)},
                                              {"imageID", ""},
                                              {"ready", true},
                                              {"started", true},
                                              {"restartCount", 0},
                                              {"state", {{"running", {{"startedAt", started_at}}}}}}})}};
}

json terminatedStatus(const json& pod, int exit_code, const std::string& started_at, const std::string& finished_at) {
  json st = runningStatus(pod, started_at);
  st["phase"] = exit_code == 0 ? "Succeeded" : "Failed";
  st["conditions"] = conditions(false, finished_at);
  auto& cs = st["containerStatuses"][0];
  cs["ready"] = false;
  cs["started"] = false;
  cs["state"] = {{"terminated",
                  {{"exitCode", exit_code},
                   {"reason", exit_code == 0 ? "Completed" : "Error"},
                   {"startedAt", started_at},
                   {"finishedAt", finished_at}}}};
  return st;
}

json unschedulableStatus(const std::string& message) {
  return {{"phase", "Pending"},
          {"conditions",
           json::array(
               {{{"type", "PodScheduled"}, {"status", "False"}, {"reason", "Unschedulable"}, {"message", message}}})}};
}

}  // namespace herd::podrunner
