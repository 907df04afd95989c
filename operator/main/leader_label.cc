#include "operator/main/leader_label.h"

#include <cstdlib>

#include "common/core/logging.h"
#include "operator/k8s/resource.h"

namespace herd::operator_main {

LeaderLabel::LeaderLabel(k8s::Client& client) : client_(client) {
  const char* pod = std::getenv("POD_NAME");
  const char* ns = std::getenv("POD_NAMESPACE");
  if (pod && *pod && ns && *ns) {
    pod_ = pod;
    ns_ = ns;
  }
}

void LeaderLabel::set(bool leading) {
  if (!enabled()) return;
  Json patch = {{"metadata", {{"labels", {{kLeaderLabel, leading ? "true" : "false"}}}}}};
  auto written = client_.patch(k8s::resources::kPods, ns_, pod_, patch);
  auto log = logger("operator");
  if (!written.ok()) {
    log->warn("could not label pod {}/{} {}={}: {}", ns_, pod_, kLeaderLabel, leading, written.error().message);
    return;
  }
  log->info("labelled pod {}/{} {}={}", ns_, pod_, kLeaderLabel, leading);
}

}  // namespace herd::operator_main
