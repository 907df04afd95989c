#pragma once
// Test only: an in-memory apiserver behind the Transport interface, enough for the
// reconciler (get, list by label, create, replace incl. /status, merge patch,
// delete) and counting every request, so a test can say how often a pass reads
// what. Not a model of Kubernetes: no watches, no defaulting, no validation, no
// garbage collection. The real apiserver is tests/cluster's.
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "common/core/json.h"

#include "operator/k8s/transport.h"

namespace herd::controller::testing {

class FakeApiServer final : public k8s::Transport {
 public:
  using json = Json;

  Result<k8s::HttpResponse> send(const k8s::HttpRequest& request) override;
  Result<k8s::StreamResponse> stream(const k8s::HttpRequest&, std::chrono::seconds) override {
    return Error{"the fake apiserver has no watches", ""};
  }
  std::string server() const override { return "https://fake"; }

  // Objects by path without a subresource: "/api/v1/namespaces/ns/configmaps/name".
  void put(const std::string& path, json object);
  json object(const std::string& path) const;  // null when absent
  // Every object under a collection path ("/api/v1/namespaces/ns/pods").
  std::vector<json> list(const std::string& collection) const;
  // Requests seen with this method and exactly this path (no query).
  int count(const std::string& method, const std::string& path) const;

 private:
  k8s::HttpResponse handle(const k8s::HttpRequest& request);
  k8s::HttpResponse create(const std::string& collection, json object);
  k8s::HttpResponse replace(const std::string& path, const std::string& subresource, json object);
  k8s::HttpResponse listMatching(const std::string& collection, const std::string& query);

  mutable std::mutex mu_;
  std::map<std::string, json> objects_;
  std::map<std::string, int> counts_;  // "METHOD PATH"
  int64_t version_ = 1;
};

}  // namespace herd::controller::testing
