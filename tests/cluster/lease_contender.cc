// A leader-election contender as a separate process, for the leader election
// test (a process is what gets killed in production, so the test kills one).
//
//   herd_k8s_lease_contender KUBECONFIG NAMESPACE LEASE IDENTITY LEASE_MS RENEW_MS RETRY_MS
//
// Prints "LEADING <unix ms>" and "STOPPED <unix ms>" lines on stdout. SIGTERM
// stops it cleanly (releasing the Lease).
#include <csignal>
#include <cstdio>
#include <iostream>
#include <thread>

#include <pthread.h>

#include "common/k8s/leader_election.h"

namespace {

long long unixMillis() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void say(const char* what) {
  std::printf("%s %lld\n", what, unixMillis());
  std::fflush(stdout);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc != 8) {
    std::cerr << "usage: " << argv[0] << " KUBECONFIG NAMESPACE LEASE IDENTITY LEASE_MS RENEW_MS RETRY_MS\n";
    return 2;
  }
  // Signals are taken by a thread of ours via sigwait, so none interrupts the
  // client's threads mid-request.
  sigset_t set;
  sigemptyset(&set);
  sigaddset(&set, SIGTERM);
  sigaddset(&set, SIGINT);
  pthread_sigmask(SIG_BLOCK, &set, nullptr);

  auto config = herd::k8s::loadKubeconfig(argv[1]);
  if (!config.ok()) {
    std::cerr << config.error().describe() << "\n";
    return 2;
  }
  config->request_timeout = std::chrono::seconds(1);  // rounds well within the renew deadline
  auto client = herd::k8s::Client::fromConfig(*config);
  if (!client.ok()) {
    std::cerr << client.error().describe() << "\n";
    return 2;
  }

  herd::k8s::LeaderElectionConfig le{argv[2],
                                     argv[3],
                                     argv[4],
                                     std::chrono::milliseconds(std::stoi(argv[5])),
                                     std::chrono::milliseconds(std::stoi(argv[6])),
                                     std::chrono::milliseconds(std::stoi(argv[7])),
                                     std::chrono::seconds(1),
                                     true};
  herd::k8s::LeaderElector elector(**client, le, {[] { say("LEADING"); }, [] { say("STOPPED"); }, nullptr});
  std::stop_source stop;
  std::thread signals([&] {
    int sig = 0;
    sigwait(&set, &sig);
    stop.request_stop();
  });
  say("STARTED");
  elector.run(stop.get_token());
  // If the elector returned on its own (lease lost), wake the signal thread.
  if (!stop.stop_requested()) pthread_kill(signals.native_handle(), SIGTERM);
  signals.join();
  return 0;
}
