#pragma once
// `herd k8s run` and `herd k8s report`: a LoadTest applied, followed and judged
// from outside the cluster, with herd run's progress lines, table, files and
// exit codes (docs/running.md, "On Kubernetes").
#include <string>

#include "agent/cli/commands.h"

namespace herd::cli {

struct K8sOptions {
  std::string file;  // k8s run: the LoadTest manifest
  std::string name;  // k8s report: the LoadTest
  std::string run_id;
  std::string ns;
  std::string kubeconfig;
  std::string timeout = "1h";
  std::string out_dir;
  std::string junit, markdown;
};

void addK8sCommands(CLI::App& app, K8sOptions& options);
// The exit code when `herd k8s ...` was chosen; -1 otherwise.
int dispatchK8s(const CLI::App& app, const K8sOptions& options);

}  // namespace herd::cli
