#pragma once
// The Kubernetes API as herd uses it: typed paths, JSON objects in and out, and
// errors that say what the server said. Thread-safe: one Client serves every
// thread (each call is one HTTP exchange over the Transport).
//
//   auto client = Client::fromConfig(*loadKubeconfig(path));
//   auto cm = (*client)->get(resources::kConfigMaps, "default", "settings");
//   if (!cm.ok() && cm.error().isNotFound()) { ... }
#include <array>
#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <stop_token>
#include <string>
#include <string_view>

#include "common/core/json.h"

#include "common/k8s/api_result.h"
#include "common/k8s/config.h"
#include "common/k8s/resource.h"
#include "common/k8s/transport.h"
#include "common/k8s/watch_decoder.h"

namespace herd::k8s {

inline constexpr const char* kFieldManager = "herd-operator";

struct ListOptions {
  std::string label_selector;
  std::string field_selector;
  int limit = 0;                 // page size; 0: the server's default (all)
  std::string continue_token;    // from the previous page's metadata.continue
  std::string resource_version;  // "" most recent (quorum read); "0" any cached
};

struct WatchOptions {
  std::string resource_version;  // start after this version; "" from now
  std::string label_selector;
  std::string field_selector;
  bool bookmarks = true;  // ask for BOOKMARK events carrying progress
  // The server ends the watch after this long (the caller re-watches); the
  // client gives up on a stream silent for this long plus a margin.
  int timeout_seconds = 240;
};

enum class PatchType { Merge, Json, StrategicMerge };

// Requests a Client sent to the apiserver since it was made, by verb: what the
// operator's /metrics exports as herd_operator_apiserver_requests_total, so a
// polling storm shows as a rate. A watch counts once, when it is opened.
struct RequestCounts {
  static constexpr std::array<const char*, 6> kVerbs{"GET", "POST", "PUT", "PATCH", "DELETE", "WATCH"};
  std::array<uint64_t, kVerbs.size()> by_verb{};
  uint64_t total() const;
};

struct DeleteOptions {
  std::string propagation = "Background";  // Foreground | Background | Orphan
  std::string precondition_uid;            // delete only this incarnation
  int grace_period_seconds = -1;           // -1: the object's default
};

class Client {
 public:
  explicit Client(std::unique_ptr<Transport> transport) : transport_(std::move(transport)) {}
  static Result<std::unique_ptr<Client>> fromConfig(const Config& config);

  ApiResult<Json> get(const Resource& r, std::string_view ns, std::string_view name, std::string_view subresource = {});
  // One page; the List's metadata.continue names the next.
  ApiResult<Json> list(const Resource& r, std::string_view ns, const ListOptions& opts = {});
  // Every page, joined into one List whose metadata.resourceVersion is the
  // snapshot all pages were read at (what a following watch starts from).
  ApiResult<Json> listAll(const Resource& r, std::string_view ns, ListOptions opts = {});
  ApiResult<Json> create(const Resource& r, std::string_view ns, const Json& obj);
  // PUT: namespace and name come from obj; its metadata.resourceVersion, when
  // present, makes the write conditional (409 Conflict if stale).
  ApiResult<Json> replace(const Resource& r, const Json& obj, std::string_view subresource = {});
  ApiResult<Json> patch(const Resource& r, std::string_view ns, std::string_view name, const Json& patch,
                        PatchType type = PatchType::Merge, std::string_view subresource = {});
  // Server-side apply of obj (which must carry apiVersion, kind, metadata.name)
  // as field manager `field_manager`; force takes over fields others own.
  ApiResult<Json> apply(const Resource& r, const Json& obj, bool force = true, std::string_view subresource = {},
                        std::string_view field_manager = kFieldManager);
  ApiStatus remove(const Resource& r, std::string_view ns, std::string_view name, const DeleteOptions& opts = {});

  // Streams events to on_event until the server ends the watch (Ok), the stream
  // fails or is garbled (error), or `stop` is requested (Ok). A watch refused
  // because its resourceVersion is too old fails with isGone(); one the server
  // ends with an ERROR event hands that event to on_event like any other.
  ApiStatus watch(const Resource& r, std::string_view ns, const WatchOptions& opts,
                  const std::function<void(WatchEvent&&)>& on_event, std::stop_token stop = {});

  Transport& transport() { return *transport_; }
  RequestCounts requestCounts() const;

 private:
  ApiResult<Json> call(HttpRequest request);
  void count(std::string_view verb);

  std::unique_ptr<Transport> transport_;
  std::array<std::atomic<uint64_t>, RequestCounts::kVerbs.size()> counts_{};
};

// Read-modify-write of the status subresource, retried while the write loses a
// resourceVersion race (409): reads the object, lets `mutate` change its status
// (returning false leaves it alone), and PUTs .../status. Gives up after
// `attempts` conflicts or on any other error.
ApiResult<Json> updateStatus(Client& client, const Resource& r, std::string_view ns, std::string_view name,
                             const std::function<bool(Json& obj)>& mutate, int attempts = 10);

// Turns a non-2xx response into an ApiError (using the metav1.Status body when
// there is one). Exposed for tests.
ApiError errorFromResponse(const HttpResponse& response, std::string where);

}  // namespace herd::k8s
