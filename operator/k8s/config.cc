// Kubeconfig and in-cluster configuration. Kubeconfigs are YAML, read through
// the scenario folder's YAML-to-JSON helper (yaml-cpp lives there only).
#include "operator/k8s/config.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/core/json.h"

#include "common/scenario/yaml_json.h"

namespace herd::k8s {
namespace {

using json = Json;

// Standard base64 with padding, as kubeconfig *-data fields are written.
Result<std::string> decodeBase64(const std::string& in, const std::string& where) {
  auto value = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  std::string out;
  int bits = 0, acc = 0;
  for (char c : in) {
    if (c == '=' || c == '\n' || c == '\r' || c == ' ') continue;
    int v = value(c);
    if (v < 0) return Error{"invalid base64", where};
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xff);
    }
  }
  return out;
}

std::string stringField(const json& obj, const char* key) {
  auto it = obj.find(key);
  return it != obj.end() && it->is_string() ? it->get<std::string>() : std::string{};
}

// Finds the entry named `name` in a kubeconfig list (clusters, users, contexts)
// and returns its `field` object.
const json* findNamed(const json& doc, const char* list, const std::string& name, const char* field) {
  auto it = doc.find(list);
  if (it == doc.end() || !it->is_array()) return nullptr;
  for (const auto& entry : *it) {
    if (entry.is_object() && stringField(entry, "name") == name) {
      auto f = entry.find(field);
      return f != entry.end() && f->is_object() ? &*f : nullptr;
    }
  }
  return nullptr;
}

// "<key>-data" (base64, inline) wins over "<key>" (a file path), as in kubectl.
Result<std::string> pemField(const json& obj, const std::string& key, const std::filesystem::path& base,
                             const std::string& where) {
  if (auto data = stringField(obj, (key + "-data").c_str()); !data.empty()) {
    return decodeBase64(data, where + "." + key + "-data");
  }
  if (auto file = stringField(obj, key.c_str()); !file.empty()) {
    std::filesystem::path p(file);
    return readFile(p.is_absolute() ? p.string() : (base / p).string());
  }
  return std::string{};
}

Status applyCluster(const json& cluster, const std::filesystem::path& base, const std::string& where, Config& c) {
  c.server = stringField(cluster, "server");
  while (!c.server.empty() && c.server.back() == '/') c.server.pop_back();
  if (c.server.empty()) return Error{"cluster has no server", where};
  auto ca = pemField(cluster, "certificate-authority", base, where);
  if (!ca.ok()) return ca.error();
  c.ca_pem = std::move(*ca);
  auto insecure = cluster.find("insecure-skip-tls-verify");
  c.insecure_skip_verify = insecure != cluster.end() && insecure->is_boolean() && insecure->get<bool>();
  return Ok{};
}

Status applyUser(const json& user, const std::filesystem::path& base, const std::string& where, Config& c) {
  for (const char* unsupported : {"exec", "auth-provider", "username"}) {
    if (user.contains(unsupported)) {
      return Error{std::string("user authentication by '") + unsupported +
                       "' is not supported; use a "
                       "client certificate or a token",
                   where};
    }
  }
  auto cert = pemField(user, "client-certificate", base, where);
  if (!cert.ok()) return cert.error();
  auto key = pemField(user, "client-key", base, where);
  if (!key.ok()) return key.error();
  c.client_cert_pem = std::move(*cert);
  c.client_key_pem = std::move(*key);
  c.token = stringField(user, "token");
  if (auto tf = stringField(user, "tokenFile"); !tf.empty()) {
    std::filesystem::path p(tf);
    c.token_file = p.is_absolute() ? p.string() : (base / p).string();
  }
  return Ok{};
}

}  // namespace

Result<std::string> readFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot read file", path};
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

Result<Config> loadKubeconfig(const std::string& path, const std::string& context) {
  auto text = readFile(path);
  if (!text.ok()) return text.error();
  return parseKubeconfig(*text, path, context);
}

Result<Config> parseKubeconfig(const std::string& text, const std::string& path, const std::string& context) {
  auto doc = scenario::yamlDocumentToJson(text, path);
  if (!doc.ok()) return doc.error();
  if (!doc->is_object()) return Error{"kubeconfig is not a mapping", path};
  std::string ctx_name = context.empty() ? stringField(*doc, "current-context") : context;
  if (ctx_name.empty()) return Error{"no context given and no current-context", path};
  const json* ctx = findNamed(*doc, "contexts", ctx_name, "context");
  if (!ctx) return Error{"no context named '" + ctx_name + "'", path};

  Config c;
  const auto base = std::filesystem::path(path).parent_path();
  std::string cluster_name = stringField(*ctx, "cluster");
  const json* cluster = findNamed(*doc, "clusters", cluster_name, "cluster");
  if (!cluster) return Error{"context '" + ctx_name + "' names unknown cluster '" + cluster_name + "'", path};
  if (auto s = applyCluster(*cluster, base, path + ": cluster " + cluster_name, c); !s.ok()) return s.error();
  if (std::string user_name = stringField(*ctx, "user"); !user_name.empty()) {
    const json* user = findNamed(*doc, "users", user_name, "user");
    if (!user) return Error{"context '" + ctx_name + "' names unknown user '" + user_name + "'", path};
    if (auto s = applyUser(*user, base, path + ": user " + user_name, c); !s.ok()) return s.error();
  }
  if (auto ns = stringField(*ctx, "namespace"); !ns.empty()) c.default_namespace = ns;
  return c;
}

Result<Config> inClusterConfig(const std::string& root) {
  const char* host = std::getenv("KUBERNETES_SERVICE_HOST");
  const char* port = std::getenv("KUBERNETES_SERVICE_PORT");
  if (!host || !*host || !port || !*port) {
    return Error{"not running in a cluster (KUBERNETES_SERVICE_HOST/PORT unset)", "in-cluster config"};
  }
  Config c;
  std::string h(host);
  // An IPv6 service host needs brackets in a URL.
  c.server = "https://" + (h.find(':') != std::string::npos ? "[" + h + "]" : h) + ":" + port;
  auto ca = readFile(root + "/ca.crt");
  if (!ca.ok()) return ca.error();
  c.ca_pem = std::move(*ca);
  c.token_file = root + "/token";
  if (auto token = readFile(c.token_file); !token.ok()) return token.error();
  if (auto ns = readFile(root + "/namespace"); ns.ok() && !ns->empty()) c.default_namespace = *ns;
  return c;
}

}  // namespace herd::k8s
