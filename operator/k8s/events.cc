#include "operator/k8s/events.h"

#include <chrono>

#include "operator/k8s/leader_election.h"  // microTimeNow

namespace herd::k8s {

using json = Json;

namespace {

json involvedReference(const json& obj) {
  return {{"apiVersion", getString(obj, "apiVersion")},
          {"kind", getString(obj, "kind")},
          {"name", nameOf(obj)},
          {"namespace", namespaceOf(obj)},
          {"uid", metaString(obj, "uid")},
          {"resourceVersion", resourceVersionOf(obj)}};
}

// Kubernetes' Event timestamps (firstTimestamp, lastTimestamp) are second precision.
std::string secondsNow() {
  std::string t = microTimeNow();
  return t.substr(0, 19) + "Z";
}

}  // namespace

ApiStatus EventRecorder::record(const json& involved, const std::string& type, const std::string& reason,
                                const std::string& message) {
  std::string ns = namespaceOf(involved).empty() ? "default" : namespaceOf(involved);
  std::string fold_key = metaString(involved, "uid") + "\n" + nameOf(involved) + "\n" + type + "\n" + reason + "\n" +
                         message;
  // Held across the request so two threads cannot both create the first Event
  // of a series; Events are rare enough that serialising them costs nothing.
  std::lock_guard lock(mu_);
  auto it = seen_.find(fold_key);
  if (it != seen_.end()) {
    json patch{{"count", it->second.count + 1}, {"lastTimestamp", secondsNow()}};
    auto patched = client_.patch(resources::kEvents, it->second.ns, it->second.name, patch);
    if (patched.ok()) {
      ++it->second.count;
      return Ok{};
    }
    if (!patched.error().isNotFound()) return patched.error();
    seen_.erase(it);  // the Event expired (TTL 1 h by default): start a new one
  }
  auto ts = secondsNow();
  auto nanos =
      std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
  char suffix[20];
  std::snprintf(suffix, sizeof suffix, "%llx", static_cast<unsigned long long>(nanos));
  // The name client-go uses: object name plus a time-based suffix.
  std::string name = nameOf(involved) + "." + suffix;
  json event{{"apiVersion", "v1"},
             {"kind", "Event"},
             {"metadata", {{"name", name}, {"namespace", ns}}},
             {"involvedObject", involvedReference(involved)},
             {"type", type},
             {"reason", reason},
             {"message", message},
             {"source", {{"component", component_}}},
             {"reportingComponent", component_},
             {"firstTimestamp", ts},
             {"lastTimestamp", ts},
             {"count", 1}};
  auto created = client_.create(resources::kEvents, ns, event);
  if (!created.ok()) return created.error();
  // Bounded memory: forgetting costs at most one extra Event per distinct message.
  if (seen_.size() >= 4096) seen_.clear();
  seen_[fold_key] = Seen{ns, name, 1};
  return Ok{};
}

}  // namespace herd::k8s
