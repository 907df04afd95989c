#pragma once
// Where the apiserver is and how to prove who we are: from a kubeconfig file
// (out of cluster, tests) or from the pod's service account (in cluster).
#include <chrono>
#include <string>

#include "common/core/result.h"

namespace herd::k8s {

struct Config {
  std::string server;  // https://host:port, no trailing slash
  std::string ca_pem;  // trust only this CA; empty: the system's trust store
  bool insecure_skip_verify = false;
  std::string client_cert_pem;  // client certificate authentication (with client_key_pem)
  std::string client_key_pem;
  std::string token;  // bearer token authentication
  // Re-read before use when set: projected service-account tokens rotate (about
  // hourly), so a token read once at start-up eventually expires.
  std::string token_file;
  std::string default_namespace = "default";
  std::string user_agent = "herd-operator";
  // Inactivity limit for ordinary requests; watches use their own, longer one.
  std::chrono::seconds request_timeout{30};
};

// Reads a kubeconfig (YAML or JSON). `context` empty means current-context.
// Supports certificate(-data), client-certificate(-data), client-key(-data),
// token, tokenFile and insecure-skip-tls-verify; exec and auth-provider plugins
// are refused with an error naming them. Relative file paths are resolved against
// the kubeconfig's directory, as kubectl does.
Result<Config> loadKubeconfig(const std::string& path, const std::string& context = {});
// The same from the file's text; `path` names it in errors and is the base of
// relative file references.
Result<Config> parseKubeconfig(const std::string& text, const std::string& path, const std::string& context = {});

// The pod's service account: KUBERNETES_SERVICE_HOST/PORT and the files under
// /var/run/secrets/kubernetes.io/serviceaccount (`root` overrides that directory
// for tests).
Result<Config> inClusterConfig(const std::string& root = "/var/run/secrets/kubernetes.io/serviceaccount");

// Reads a whole file; the error names the file.
Result<std::string> readFile(const std::string& path);

}  // namespace herd::k8s
