// The leader marks its own pod with the label herd.dev/leader=true, so the
// chart's coordinator Service (selector herd.dev/leader=true) reaches only the
// replica that runs the controller. Every replica writes "false" when it starts
// (a restarted container keeps its pod and so its old label).
//
// The pod comes from $POD_NAME and $POD_NAMESPACE (the chart sets both from the
// downward API); when either is unset — the operator runs outside a pod — the
// label is not written.
#pragma once

#include <string>

#include "common/k8s/client.h"

namespace herd::operator_main {

inline constexpr const char* kLeaderLabel = "herd.dev/leader";

class LeaderLabel {
 public:
  explicit LeaderLabel(k8s::Client& client);
  // Merge-patches the label; logs (and otherwise ignores) a failed write: the
  // controller works without it, only the coordinator Service misses it.
  void set(bool leading);
  bool enabled() const { return !pod_.empty(); }

 private:
  k8s::Client& client_;
  std::string ns_, pod_;
};

}  // namespace herd::operator_main
