// Client::watch: a streaming GET whose body is decoded as it arrives.
#include <map>

#include "common/k8s/client.h"

namespace herd::k8s {
namespace {

std::map<std::string, std::string> watchQuery(const WatchOptions& o) {
  std::map<std::string, std::string> q{{"watch", "true"}, {"timeoutSeconds", std::to_string(o.timeout_seconds)}};
  if (o.bookmarks) q["allowWatchBookmarks"] = "true";
  if (!o.resource_version.empty()) q["resourceVersion"] = o.resource_version;
  if (!o.label_selector.empty()) q["labelSelector"] = o.label_selector;
  if (!o.field_selector.empty()) q["fieldSelector"] = o.field_selector;
  return q;
}

// The body of a refused watch is a small Status; read it, bounded.
std::string readErrorBody(BodyStream& body) {
  std::string out;
  while (out.size() < (1u << 20)) {
    auto chunk = body.read();
    if (!chunk.ok() || chunk->empty()) break;
    out += *chunk;
  }
  return out;
}

}  // namespace

ApiStatus Client::watch(const Resource& r, std::string_view ns, const WatchOptions& opts,
                        const std::function<void(WatchEvent&&)>& on_event, std::stop_token stop) {
  HttpRequest request{"GET", collectionPath(r, ns) + queryString(watchQuery(opts)), "", ""};
  const std::string where = "WATCH " + transport_->server() + request.path_query;
  count("WATCH");
  // The server closes the stream after timeout_seconds; silence well beyond that
  // means the connection is dead without anyone having said so.
  auto response = transport_->stream(request, std::chrono::seconds(opts.timeout_seconds + 30));
  if (!response.ok()) return ApiError{0, "", response.error().message, where};
  BodyStream& body = *response->body;
  if (response->status < 200 || response->status >= 300) {
    return errorFromResponse({response->status, readErrorBody(body)}, where);
  }
  // Declared after `response` so it is destroyed first: the callback must never
  // run against a freed stream.
  std::stop_callback on_stop(stop, [&body] { body.cancel(); });
  WatchDecoder decoder;
  while (!stop.stop_requested()) {
    auto chunk = body.read();
    if (stop.stop_requested()) break;
    if (!chunk.ok()) return ApiError{0, "", chunk.error().message, where};
    if (chunk->empty()) {
      if (decoder.pending()) return ApiError{0, "", "watch stream ended inside an event", where};
      return Ok{};
    }
    std::vector<WatchEvent> events;
    auto decoded = decoder.feed(*chunk, events);
    for (auto& event : events) on_event(std::move(event));
    if (!decoded.ok()) return ApiError{0, "", decoded.error().message, where};
  }
  return Ok{};
}

}  // namespace herd::k8s
