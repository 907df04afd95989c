// herd: the command line (docs/design.md). Exit codes: 0 passed, 1 a threshold
// failed, 2 invalid input, 3 the run could not be carried out.
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <string>

#include <fmt/format.h>

#include "agent/cli/cli11.h"
#include "agent/cli/commands.h"
#include "agent/cli/distributed.h"
#include "agent/cli/k8s_commands.h"
#include "agent/runtime/generator_health.h"

int main(int argc, char** argv) {
  // Every herd process may hold as many files as the machine lets it: the
  // engine's sockets, the coordinator's agents, the operator's streams.
  herd::runtime::raiseFdLimit();
  herd::cli::Options options;
  CLI::App app{"herd: load testing that measures honestly, locally or on Kubernetes"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "herd 0.1.0");
  herd::cli::addRunCommand(app, options);
  herd::cli::addValidateCommand(app, options);
  herd::cli::addLedgerCommands(app, options);
  herd::cli::DistributedOptions distributed;
  herd::cli::addCoordinatorCommand(app, options, distributed);
  herd::cli::addAgentCommand(app, options, distributed);
  herd::cli::addWorkerProcessCommand(app, options, distributed);
  herd::cli::K8sOptions k8s;
  herd::cli::addK8sCommands(app, k8s);
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    fmt::print(stderr, "herd: error: {}\nRun with --help for usage.\n", e.what());
    return herd::cli::kExitInvalidInput;
  }
  if (const int code = herd::cli::dispatchDistributed(app, options, distributed); code >= 0) return code;
  if (const int code = herd::cli::dispatchK8s(app, k8s); code >= 0) return code;
  return herd::cli::dispatch(app, options);
}
