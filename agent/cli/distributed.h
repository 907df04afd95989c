#pragma once
// `herd coordinator` and `herd agent`: a distributed run on plain machines
// (docs/distributed.md; exit codes in docs/design.md).
#include <string>

#include "agent/cli/commands.h"

namespace herd::cli {

struct DistributedOptions {
  // herd coordinator
  std::string listen;
  size_t expect_agents = 0;
  std::string agent_loss = "rebalance";
  std::string run_id;
  std::string tls_client_ca;
  std::string ready_timeout = "60s";
  std::string start_delay = "500ms";
  // Before admission (common/coordinator/grpc_service.h).
  std::string hello_timeout = "10s";
  size_t max_unadmitted = 1024;
  bool insecure_listen = false;  // --insecure: no token although not on loopback
  // both
  std::string token_file;
  std::string tls_cert;  // the coordinator's serving certificate; an agent's client certificate
  std::string tls_key;
  // herd agent
  std::string coordinator;
  std::string agent_id;
  std::string agent_run_id;  // the run to join when the coordinator serves several
  std::string tls_ca;
  std::string tls_server_name;
  std::string reconnect_timeout = "60s";
  std::string target_wait = "30s";
  // herd worker-process (started by herd run / herd agent with --processes)
  int worker_fd = -1;
  size_t worker_index = 0;
};

void addCoordinatorCommand(CLI::App& app, Options& options, DistributedOptions& distributed);
void addAgentCommand(CLI::App& app, Options& options, DistributedOptions& distributed);
// Hidden: the child process of `--processes` (agent/runtime/worker_process.h).
void addWorkerProcessCommand(CLI::App& app, Options& options, DistributedOptions& distributed);
// The exit code when one of the two was chosen; -1 otherwise.
int dispatchDistributed(const CLI::App& app, const Options& options, const DistributedOptions& distributed);

}  // namespace herd::cli
