#pragma once
// The LoadTest controller: informers on LoadTests and on herd's agent pods feed
// a work queue of LoadTest keys; worker threads run the reconciler on them.
// A pod event enqueues the LoadTest named in its herd.dev/loadtest label, so a
// pod becoming ready or failing is seen at once; a live run is also requeued
// by the reconciler itself (status refresh). Namespace-scoped when given
// namespaces (one informer per namespace and resource), else cluster-wide.
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "common/k8s/informer.h"
#include "common/k8s/work_queue.h"
#include "operator/controller/reconciler.h"

namespace herd::controller {

struct ControllerOptions {
  std::vector<std::string> namespaces;  // empty: all namespaces
  int workers = 2;
};

class Controller {
 public:
  Controller(k8s::Client& client, Reconciler& reconciler, ControllerOptions options);
  ~Controller();  // stops
  Controller(const Controller&) = delete;
  Controller& operator=(const Controller&) = delete;

  // Starts informers and workers; returns once the caches have synced (false
  // on timeout: the apiserver is unreachable or the CRD is not installed).
  bool start(std::chrono::milliseconds sync_timeout);
  void stop();
  void enqueue(const std::string& key) { queue_.add(key); }
  uint64_t reconciles() const { return reconciles_.load(); }
  uint64_t reconcileErrors() const { return errors_.load(); }

 private:
  void work();

  k8s::Client& client_;
  Reconciler& reconciler_;
  const ControllerOptions options_;
  k8s::WorkQueue queue_;
  std::vector<std::unique_ptr<k8s::Informer>> informers_;
  std::vector<std::jthread> workers_;
  std::atomic<uint64_t> reconciles_{0};
  std::atomic<uint64_t> errors_{0};
};

}  // namespace herd::controller
