// herd_pod_runner — the TEST-ONLY KUBELET STAND-IN (tests/cluster/README.md).
//
// The test control plane (tests/cluster) has no scheduler and no kubelet, so
// pods would stay Pending forever. This process plays both parts, crudely, for
// the pods a test cares about: it watches pods matching a label selector (by
// default herd's agent pods) and runs each pod's first container *as a local
// process* — no image, no container, no isolation — reporting what a kubelet
// would: Running and Ready once started, Succeeded or Failed with the exit
// code when it ends; a pod whose nodeSelector does not match --node-label gets
// PodScheduled=False/Unschedulable as the scheduler would say. Deleting a pod
// kills its process (SIGTERM, then SIGKILL after the grace period, at most
// 10 s). Volumes (secret, configMap, emptyDir) are materialised under
// WORKDIR/pods/NS_NAME/volumes and paths under their mountPath in args and env
// are rewritten there. Pods are never bound to a node, so the apiserver
// deletes them at once (no graceful deletion to finish).
//
//   herd_pod_runner --kubeconfig F --work-dir DIR [--selector SEL]
//                   [--exec NAME=PATH]... [--node-label K=V]...
//
// SIGTERM/SIGINT: kills every process it started, then exits 0.
#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <set>
#include <thread>

// CLI11's own code is compiled here; GCC 12 at -O2 reports a -Wnull-dereference
// inside CLI::detail::split (std::vector<std::string> growth inlined into it).
// The pragma covers CLI11's code only.
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wnull-dereference"
#include <CLI/CLI.hpp>
#pragma GCC diagnostic pop

#include "common/core/clock.h"
#include "common/core/logging.h"
#include "common/k8s/client.h"
#include "common/k8s/informer.h"
#include "common/report/compress.h"  // base64Decode
#include "tests/cluster/pod_runner/pod_view.h"

namespace herd::podrunner {
namespace {

namespace fs = std::filesystem;
using k8s::getObject;
using k8s::getString;

std::string nowText() { return formatRfc3339(std::chrono::system_clock::now()); }

std::map<std::string, std::string> pairs(const std::vector<std::string>& items) {
  std::map<std::string, std::string> out;
  for (const auto& s : items) {
    auto eq = s.find('=');
    if (eq != std::string::npos) out[s.substr(0, eq)] = s.substr(eq + 1);
  }
  return out;
}

class Runner {
 public:
  Runner(k8s::Client& client, std::string work_dir, std::map<std::string, std::string> executables,
         std::map<std::string, std::string> node_labels)
      : client_(client),
        work_dir_(std::move(work_dir)),
        executables_(std::move(executables)),
        node_labels_(std::move(node_labels)) {}

  void onPod(const json& pod) {
    const auto key = k8s::keyOf(pod);
    if (!k8s::metaString(pod, "deletionTimestamp").empty()) return onGone(pod);
    std::lock_guard lock(mu_);
    if (handled_.count(key)) return;
    handled_.insert(key);
    if (auto why = unschedulableReason(pod, node_labels_)) {
      report(pod, unschedulableStatus(*why));
      return;
    }
    start(pod);
  }

  void onGone(const json& pod) {
    const auto key = k8s::keyOf(pod);
    std::lock_guard lock(mu_);
    handled_.erase(key);
    auto it = procs_.find(key);
    if (it == procs_.end()) return;
    if (it->second.uid != k8s::metaString(pod, "uid")) return;  // a newer pod of the same name
    int64_t grace = std::min<int64_t>(k8s::getInt(getObject(pod, "spec"), "terminationGracePeriodSeconds", 10), 10);
    terminate(it->second.pid, std::chrono::seconds(grace));
    it->second.deleted = true;
  }

  // Kills everything (runner shutdown).
  void stopAll() {
    std::vector<pid_t> pids;
    {
      std::lock_guard lock(mu_);
      for (auto& [k, p] : procs_) {
        p.deleted = true;
        pids.push_back(p.pid);
      }
    }
    for (pid_t pid : pids) ::kill(-pid, SIGTERM);
    for (int i = 0; i < 100; ++i) {
      bool any = false;
      for (pid_t pid : pids) any = any || ::kill(pid, 0) == 0;
      if (!any) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    for (pid_t pid : pids) ::kill(-pid, SIGKILL);
    // Every process is gone now, so every reaper returns.
    std::vector<std::thread> reapers;
    {
      std::lock_guard lock(mu_);
      reapers.swap(reapers_);
    }
    for (auto& t : reapers) t.join();
  }

 private:
  struct Proc {
    pid_t pid = 0;
    std::string uid;
    bool deleted = false;
  };

  void report(const json& pod, json status) {
    auto written = k8s::updateStatus(client_, k8s::resources::kPods, k8s::namespaceOf(pod), k8s::nameOf(pod),
                                     [&](json& obj) {
                                       if (k8s::metaString(obj, "uid") != k8s::metaString(pod, "uid")) return false;
                                       obj["status"] = status;
                                       return true;
                                     });
    if (!written.ok() && !written.error().isNotFound())
      logger("pod-runner")->warn("pod={} status not written: {}", k8s::keyOf(pod), written.error().describe());
  }

  Result<std::string> lookup(const std::string& ns, const std::string& kind, const std::string& name,
                             const std::string& key) {
    const auto& res = kind == "secret" ? k8s::resources::kSecrets : k8s::resources::kConfigMaps;
    auto obj = client_.get(res, ns, name);
    if (!obj.ok()) return obj.error().toError();
    auto v = getString(getObject(*obj, "data"), key);
    if (kind == "secret") return report::base64Decode(v);
    return v;
  }

  // Writes the pod's volumes to scratch directories: mountPath → directory.
  Result<std::map<std::string, std::string>> materialise(const json& pod, const fs::path& dir) {
    std::map<std::string, std::string> volume_dirs, mounts;
    const json& spec = getObject(pod, "spec");
    const auto ns = k8s::namespaceOf(pod);
    if (spec.contains("volumes") && spec["volumes"].is_array()) {
      for (const auto& v : spec["volumes"]) {
        auto name = getString(v, "name");
        fs::path vdir = dir / "volumes" / name;
        fs::create_directories(vdir);
        volume_dirs[name] = vdir.string();
        const char* kind = v.contains("secret") ? "secret" : v.contains("configMap") ? "configmap" : nullptr;
        if (!kind) continue;  // emptyDir and anything else: an empty directory
        auto obj_name = kind == std::string("secret") ? getString(v["secret"], "secretName")
                                                      : getString(v["configMap"], "name");
        const auto& res = kind == std::string("secret") ? k8s::resources::kSecrets : k8s::resources::kConfigMaps;
        auto obj = client_.get(res, ns, obj_name);
        if (!obj.ok()) return obj.error().toError();
        for (auto& [k, val] : getObject(*obj, "data").items()) {
          if (!val.is_string()) continue;
          std::string content = val.get<std::string>();
          if (kind == std::string("secret")) {
            auto decoded = report::base64Decode(content);
            if (!decoded)
              return Error{"secret " + ns + "/" + obj_name + " key " + k + ": " + decoded.error().describe(), ""};
            content = std::move(*decoded);
          }
          std::ofstream(vdir / k) << content;
        }
      }
    }
    const json& cs = spec.contains("containers") ? spec["containers"] : json();
    if (cs.is_array() && !cs.empty() && cs[0].contains("volumeMounts") && cs[0]["volumeMounts"].is_array())
      for (const auto& m : cs[0]["volumeMounts"])
        if (volume_dirs.count(getString(m, "name")))
          mounts[getString(m, "mountPath")] = volume_dirs[getString(m, "name")];
    return mounts;
  }

  // Called with mu_ held.
  void start(const json& pod) {
    const auto key = k8s::keyOf(pod);
    fs::path dir = fs::path(work_dir_) / "pods" / (k8s::namespaceOf(pod) + "_" + k8s::nameOf(pod));
    std::error_code ec;
    fs::remove_all(dir, ec);
    fs::create_directories(dir);
    auto mounts = materialise(pod, dir);
    Result<ProcessSpec> proc = mounts.ok() ? processSpec(pod, *mounts, executables_,
                                                         [&](const std::string& kind, const std::string& name,
                                                             const std::string& k) {
                                                           return lookup(k8s::namespaceOf(pod), kind, name, k);
                                                         })
                                           : Result<ProcessSpec>(mounts.error());
    const auto started = nowText();
    if (!proc.ok()) {
      // What a kubelet reports for a container it cannot create.
      json st{{"phase", "Pending"}, {"conditions", json::array({{{"type", "PodScheduled"}, {"status", "True"}}})}};
      st["containerStatuses"] = json::array(
          {{{"name", "agent"},
            {"ready", false},
            {"restartCount", 0},
            {"image", ""},
            {"imageID", ""},
            {"state",
             {{"waiting", {{"reason", "CreateContainerConfigError"}, {"message", proc.error().describe()}}}}}}});
      report(pod, st);
      return;
    }
    std::vector<char*> argv;
    for (auto& a : proc->argv) argv.push_back(a.data());
    argv.push_back(nullptr);
    std::vector<std::string> env_strings{"PATH=/usr/local/bin:/usr/bin:/bin", "HOME=" + dir.string()};
    for (auto& [k, v] : proc->env) env_strings.push_back(k + "=" + v);
    std::vector<char*> envp;
    for (auto& e : env_strings) envp.push_back(e.data());
    envp.push_back(nullptr);
    auto log_path = (dir / "container.log").string();
    pid_t parent = ::getpid();
    pid_t pid = ::fork();
    if (pid == 0) {
      // The child: its own process group (so a kill reaches its children too),
      // dies with the runner, output to the pod's log.
      ::setpgid(0, 0);
      ::prctl(PR_SET_PDEATHSIG, SIGKILL);
      if (::getppid() != parent) ::_exit(127);
      sigset_t none;
      sigemptyset(&none);
      ::pthread_sigmask(SIG_SETMASK, &none, nullptr);
      int fd = ::open(log_path.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
      int null = ::open("/dev/null", O_RDONLY);
      if (fd >= 0) {
        ::dup2(fd, 1);
        ::dup2(fd, 2);
      }
      if (null >= 0) ::dup2(null, 0);
      if (::chdir(dir.c_str()) != 0) ::_exit(127);
      ::execvpe(argv[0], argv.data(), envp.data());
      std::fprintf(stderr, "pod-runner: exec %s: %s\n", argv[0], std::strerror(errno));
      ::_exit(127);
    }
    if (pid < 0) {
      logger("pod-runner")->error("pod={} fork failed: {}", key, std::strerror(errno));
      return;
    }
    ::setpgid(pid, pid);
    procs_[key] = Proc{pid, k8s::metaString(pod, "uid")};
    logger("pod-runner")->info("pod={} started pid={} argv0={} log={}", key, pid, proc->argv[0], log_path);
    report(pod, runningStatus(pod, started));
    reapers_.emplace_back([this, pod, pid, started, key] { reap(pod, pid, started, key); });
  }

  void reap(json pod, pid_t pid, std::string started, std::string key) {
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
    bool deleted = false;
    {
      std::lock_guard lock(mu_);
      auto it = procs_.find(key);
      if (it != procs_.end() && it->second.pid == pid) {
        deleted = it->second.deleted;
        procs_.erase(it);
      }
    }
    logger("pod-runner")->info("pod={} pid={} exited with {}{}", key, pid, code, deleted ? " (pod deleted)" : "");
    if (!deleted) report(pod, terminatedStatus(pod, code, started, nowText()));
  }

  void terminate(pid_t pid, std::chrono::seconds grace) {
    ::kill(-pid, SIGTERM);
    std::thread([pid, grace] {
      auto deadline = std::chrono::steady_clock::now() + grace;
      while (std::chrono::steady_clock::now() < deadline && ::kill(pid, 0) == 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
      ::kill(-pid, SIGKILL);  // harmless when the group is gone
    }).detach();
  }

  k8s::Client& client_;
  const std::string work_dir_;
  const std::map<std::string, std::string> executables_;
  const std::map<std::string, std::string> node_labels_;
  std::mutex mu_;
  std::set<std::string> handled_;
  std::map<std::string, Proc> procs_;
  std::vector<std::thread> reapers_;
};

}  // namespace
}  // namespace herd::podrunner

int main(int argc, char** argv) {
  using namespace herd;
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  std::string kubeconfig, work_dir, selector = "app.kubernetes.io/managed-by=herd-operator";
  std::vector<std::string> execs, node_labels{"kubernetes.io/os=linux", "kubernetes.io/hostname=herd-pod-runner"};
  CLI::App app{"herd_pod_runner: the test-only kubelet stand-in (runs pods as local processes)"};
  app.add_option("--kubeconfig", kubeconfig)->required();
  app.add_option("--work-dir", work_dir)->required();
  app.add_option("--selector", selector)->capture_default_str();
  app.add_option("--exec", execs, "NAME=PATH: run PATH when a container's command is NAME");
  app.add_option("--node-label", node_labels, "K=V labels of the pretend node (nodeSelector)");
  CLI11_PARSE(app, argc, argv);

  auto config = k8s::loadKubeconfig(kubeconfig);
  if (!config.ok()) {
    std::cerr << config.error().describe() << "\n";
    return 2;
  }
  auto client = k8s::Client::fromConfig(*config);
  if (!client.ok()) {
    std::cerr << client.error().describe() << "\n";
    return 2;
  }
  podrunner::Runner runner(**client, work_dir, podrunner::pairs(execs), podrunner::pairs(node_labels));
  k8s::InformerOptions opts;
  opts.label_selector = selector;
  k8s::Informer pods(**client, k8s::resources::kPods, opts);
  pods.addHandlers({[&](const Json& p) { runner.onPod(p); }, [&](const Json&, const Json& p) { runner.onPod(p); },
                    [&](const Json& p) { runner.onGone(p); }});
  pods.start();
  if (!pods.waitForSync(std::chrono::seconds(30))) {
    std::cerr << "pod-runner: pod list never synced\n";
    return 3;
  }
  logger("pod-runner")->info("watching pods ({}) as the kubelet stand-in", selector);
  int sig = 0;
  sigwait(&set, &sig);
  logger("pod-runner")->info("stopping: killing the processes of running pods");
  pods.stop();
  runner.stopAll();
  return 0;
}
