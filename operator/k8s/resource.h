#pragma once
// Which REST collection an object lives in, and the URL paths the apiserver uses
// for it. Pure functions: no I/O, unit-tested without a cluster.
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/json.h"

namespace herd::k8s {

using json = Json;

struct Resource {
  std::string group;    // "" for the core group
  std::string version;  // "v1"
  std::string plural;   // "configmaps": the path segment, not the kind
  std::string kind;     // "ConfigMap": what objects of it carry
  bool namespaced = true;

  std::string apiVersion() const { return group.empty() ? version : group + "/" + version; }
};

// The resources herd itself uses.
namespace resources {
extern const Resource kNamespaces;
extern const Resource kConfigMaps;
extern const Resource kSecrets;
extern const Resource kPods;
extern const Resource kServices;
extern const Resource kEvents;  // core/v1 Events: what `kubectl describe` shows
extern const Resource kLeases;
extern const Resource kCustomResourceDefinitions;
}  // namespace resources

// The collection: /api/v1/namespaces/NS/pods, /apis/G/V/PLURAL for cluster scope
// or when ns is empty (all namespaces).
std::string collectionPath(const Resource& r, std::string_view ns);
// One object, optionally a subresource of it ("status", "scale").
std::string objectPath(const Resource& r, std::string_view ns, std::string_view name,
                       std::string_view subresource = {});

// Query parameters, percent-encoded and joined: "?a=1&b=x%2Fy" ("" when empty).
std::string queryString(const std::map<std::string, std::string>& params);
std::string percentEncode(std::string_view s);

// Reads from objects the server sent, which never throw: the default when the
// key is absent, `obj` is not an object, or the value has another type
// (nlohmann's value() throws in those cases, and a bad response must not).
std::string getString(const json& obj, std::string_view key, std::string_view def = {});
int64_t getInt(const json& obj, std::string_view key, int64_t def = 0);
// The member object, or an empty object.
const json& getObject(const json& obj, std::string_view key);

// Convenience accessors for object metadata; "" when absent or not a string.
std::string metaString(const json& obj, const char* field);
inline std::string nameOf(const json& obj) { return metaString(obj, "name"); }
inline std::string namespaceOf(const json& obj) { return metaString(obj, "namespace"); }
inline std::string resourceVersionOf(const json& obj) { return metaString(obj, "resourceVersion"); }
// "ns/name", or "name" for cluster-scoped objects: the key caches and queues use.
std::string keyOf(const json& obj);
std::string makeKey(std::string_view ns, std::string_view name);
// Splits a key made by makeKey.
std::pair<std::string, std::string> splitKey(std::string_view key);

}  // namespace herd::k8s
