#pragma once
// Kubernetes Events (core/v1, what `kubectl describe` and `kubectl get events`
// show) about herd's objects. Repeats of the same event on the same object are
// folded into one Event whose count grows, as kubelet and client-go's recorder
// do, so a reconcile loop cannot flood etcd with identical Events.
#include <map>
#include <mutex>
#include <string>

#include "common/core/json.h"

#include "operator/k8s/client.h"

namespace herd::k8s {

class EventRecorder {
 public:
  EventRecorder(Client& client, std::string component) : client_(client), component_(std::move(component)) {}

  // type is "Normal" or "Warning"; reason is CamelCase ("AgentsReady"). The
  // Event goes to the involved object's namespace ("default" for cluster-scoped).
  ApiStatus record(const Json& involved, const std::string& type, const std::string& reason,
                   const std::string& message);

 private:
  struct Seen {
    std::string ns;
    std::string name;  // the Event object's name
    int count = 0;
  };

  Client& client_;
  const std::string component_;
  std::mutex mu_;
  std::map<std::string, Seen> seen_;  // by involved uid + type + reason + message
};

}  // namespace herd::k8s
