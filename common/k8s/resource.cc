#include "common/k8s/resource.h"

namespace herd::k8s {

namespace resources {
const Resource kNamespaces{"", "v1", "namespaces", "Namespace", false};
const Resource kConfigMaps{"", "v1", "configmaps", "ConfigMap", true};
const Resource kSecrets{"", "v1", "secrets", "Secret", true};
const Resource kPods{"", "v1", "pods", "Pod", true};
const Resource kServices{"", "v1", "services", "Service", true};
const Resource kEvents{"", "v1", "events", "Event", true};
const Resource kLeases{"coordination.k8s.io", "v1", "leases", "Lease", true};
const Resource kCustomResourceDefinitions{"apiextensions.k8s.io", "v1", "customresourcedefinitions",
                                          "CustomResourceDefinition", false};
}  // namespace resources

std::string percentEncode(std::string_view s) {
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size());
  for (unsigned char c : s) {
    // RFC 3986 unreserved characters pass; everything else is escaped, so names,
    // selectors and continue tokens survive any URI parser unchanged.
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' || c == '.' ||
        c == '_' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::string collectionPath(const Resource& r, std::string_view ns) {
  std::string path = r.group.empty() ? "/api/" + r.version : "/apis/" + r.group + "/" + r.version;
  if (r.namespaced && !ns.empty()) path += "/namespaces/" + percentEncode(ns);
  return path + "/" + r.plural;
}

std::string objectPath(const Resource& r, std::string_view ns, std::string_view name, std::string_view subresource) {
  std::string path = collectionPath(r, ns) + "/" + percentEncode(name);
  if (!subresource.empty()) path += "/" + std::string(subresource);
  return path;
}

std::string queryString(const std::map<std::string, std::string>& params) {
  std::string q;
  for (const auto& [key, value] : params) {
    q += q.empty() ? '?' : '&';
    q += percentEncode(key) + "=" + percentEncode(value);
  }
  return q;
}

std::string getString(const json& obj, std::string_view key, std::string_view def) {
  if (!obj.is_object()) return std::string(def);
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string(def);
}

int64_t getInt(const json& obj, std::string_view key, int64_t def) {
  if (!obj.is_object()) return def;
  auto it = obj.find(key);
  return it != obj.end() && it->is_number_integer() ? it->get<int64_t>() : def;
}

const json& getObject(const json& obj, std::string_view key) {
  static const json kEmpty = json::object();
  if (!obj.is_object()) return kEmpty;
  auto it = obj.find(key);
  return it != obj.end() && it->is_object() ? *it : kEmpty;
}

std::string metaString(const json& obj, const char* field) { return getString(getObject(obj, "metadata"), field); }

std::string makeKey(std::string_view ns, std::string_view name) {
  return ns.empty() ? std::string(name) : std::string(ns) + "/" + std::string(name);
}

std::string keyOf(const json& obj) { return makeKey(namespaceOf(obj), nameOf(obj)); }

std::pair<std::string, std::string> splitKey(std::string_view key) {
  auto slash = key.find('/');
  if (slash == std::string_view::npos) return {"", std::string(key)};
  return {std::string(key.substr(0, slash)), std::string(key.substr(slash + 1))};
}

}  // namespace herd::k8s
