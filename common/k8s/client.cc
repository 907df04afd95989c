#include "common/k8s/client.h"

#include <map>

namespace herd::k8s {
namespace {

using json = Json;

bool isSuccess(int status) { return status >= 200 && status < 300; }

std::string excerpt(const std::string& body) {
  constexpr size_t kMax = 200;
  return body.size() > kMax ? body.substr(0, kMax) + "..." : body;
}

ApiError transportError(const Error& e) { return ApiError{0, "", e.message, e.where}; }

std::map<std::string, std::string> listQuery(const ListOptions& o) {
  std::map<std::string, std::string> q;
  if (!o.label_selector.empty()) q["labelSelector"] = o.label_selector;
  if (!o.field_selector.empty()) q["fieldSelector"] = o.field_selector;
  if (o.limit > 0) q["limit"] = std::to_string(o.limit);
  if (!o.continue_token.empty()) q["continue"] = o.continue_token;
  if (!o.resource_version.empty()) q["resourceVersion"] = o.resource_version;
  return q;
}

}  // namespace

ApiError errorFromResponse(const HttpResponse& response, std::string where) {
  ApiError e{response.status, "", "", std::move(where)};
  json body = json::parse(response.body, nullptr, /*allow_exceptions=*/false);
  if (getString(body, "kind") == "Status") {
    e.reason = getString(body, "reason");
    e.message = getString(body, "message");
  }
  if (e.message.empty()) e.message = response.body.empty() ? "(empty body)" : excerpt(response.body);
  // A Status from the server is the truth about 410: an expired continue token
  // comes back as 410 with reason Expired, a too-old watch as 410 Gone.
  return e;
}

Result<std::unique_ptr<Client>> Client::fromConfig(const Config& config) {
  auto transport = makeRestTransport(config);
  if (!transport.ok()) return transport.error();
  return std::make_unique<Client>(std::move(*transport));
}

uint64_t RequestCounts::total() const {
  uint64_t sum = 0;
  for (const auto n : by_verb) sum += n;
  return sum;
}

RequestCounts Client::requestCounts() const {
  RequestCounts out;
  for (size_t i = 0; i < counts_.size(); ++i) out.by_verb[i] = counts_[i].load(std::memory_order_relaxed);
  return out;
}

void Client::count(std::string_view verb) {
  for (size_t i = 0; i < RequestCounts::kVerbs.size(); ++i) {
    if (verb == RequestCounts::kVerbs[i]) {
      counts_[i].fetch_add(1, std::memory_order_relaxed);
      return;
    }
  }
}

ApiResult<json> Client::call(HttpRequest request) {
  count(request.method);
  std::string where = request.method + " " + transport_->server() + request.path_query;
  auto response = transport_->send(request);
  if (!response.ok()) return transportError(response.error());
  if (!isSuccess(response->status)) return errorFromResponse(*response, std::move(where));
  json body = json::parse(response->body, nullptr, /*allow_exceptions=*/false);
  if (!body.is_object()) {
    // A proxy or a broken server, not the apiserver (whose every response is a
    // JSON object): no usable response.
    return ApiError{0, "", "response is not a JSON object: " + excerpt(response->body), std::move(where)};
  }
  return body;
}

ApiResult<json> Client::get(const Resource& r, std::string_view ns, std::string_view name,
                            std::string_view subresource) {
  return call({"GET", objectPath(r, ns, name, subresource), "", ""});
}

ApiResult<json> Client::list(const Resource& r, std::string_view ns, const ListOptions& opts) {
  return call({"GET", collectionPath(r, ns) + queryString(listQuery(opts)), "", ""});
}

ApiResult<json> Client::listAll(const Resource& r, std::string_view ns, ListOptions opts) {
  json all;
  for (;;) {
    auto page = list(r, ns, opts);
    if (!page.ok()) return page.error();
    if (!page->is_object() || !page->contains("items") || !(*page)["items"].is_array()) {
      return ApiError{0, "", "list response has no items", "LIST " + collectionPath(r, ns)};
    }
    std::string next = getString(getObject(*page, "metadata"), "continue");
    if (all.is_null()) {
      // The first page's resourceVersion is the snapshot every later page is
      // served from (continue tokens pin it).
      all = std::move(*page);
      all["metadata"] = getObject(all, "metadata");  // an object from here on
    } else {
      for (auto& item : (*page)["items"]) all["items"].push_back(std::move(item));
    }
    opts.continue_token = std::move(next);
    if (opts.continue_token.empty()) break;
  }
  all["metadata"].erase("continue");
  all["metadata"].erase("remainingItemCount");
  return all;
}

ApiResult<json> Client::create(const Resource& r, std::string_view ns, const json& obj) {
  return call({"POST", collectionPath(r, ns), obj.dump(), "application/json"});
}

ApiResult<json> Client::replace(const Resource& r, const json& obj, std::string_view subresource) {
  return call({"PUT", objectPath(r, namespaceOf(obj), nameOf(obj), subresource), obj.dump(), "application/json"});
}

ApiResult<json> Client::patch(const Resource& r, std::string_view ns, std::string_view name, const json& patch,
                              PatchType type, std::string_view subresource) {
  const char* content_type = type == PatchType::Merge  ? "application/merge-patch+json"
                             : type == PatchType::Json ? "application/json-patch+json"
                                                       : "application/strategic-merge-patch+json";
  return call({"PATCH", objectPath(r, ns, name, subresource), patch.dump(), content_type});
}

ApiResult<json> Client::apply(const Resource& r, const json& obj, bool force, std::string_view subresource,
                              std::string_view field_manager) {
  std::map<std::string, std::string> q{{"fieldManager", std::string(field_manager)}};
  if (force) q["force"] = "true";
  // JSON is YAML, so the apply body can be the object as JSON.
  return call({"PATCH", objectPath(r, namespaceOf(obj), nameOf(obj), subresource) + queryString(q), obj.dump(),
               "application/apply-patch+yaml"});
}

ApiStatus Client::remove(const Resource& r, std::string_view ns, std::string_view name, const DeleteOptions& opts) {
  json body{{"kind", "DeleteOptions"}, {"apiVersion", "v1"}, {"propagationPolicy", opts.propagation}};
  if (!opts.precondition_uid.empty()) body["preconditions"] = {{"uid", opts.precondition_uid}};
  if (opts.grace_period_seconds >= 0) body["gracePeriodSeconds"] = opts.grace_period_seconds;
  auto result = call({"DELETE", objectPath(r, ns, name), body.dump(), "application/json"});
  if (!result.ok()) return result.error();
  return Ok{};
}

ApiResult<json> updateStatus(Client& client, const Resource& r, std::string_view ns, std::string_view name,
                             const std::function<bool(json& obj)>& mutate, int attempts) {
  ApiError last;
  for (int i = 0; i < attempts; ++i) {
    auto current = client.get(r, ns, name);
    if (!current.ok()) return current.error();
    if (!mutate(*current)) return current;
    // The PUT carries the resourceVersion just read, so a write that raced
    // ours makes this one fail with 409 instead of silently overwriting it.
    auto written = client.replace(r, *current, "status");
    if (written.ok() || !written.error().isConflict()) return written;
    last = written.error();
  }
  last.message = "still conflicting after " + std::to_string(attempts) + " attempts: " + last.message;
  return last;
}

}  // namespace herd::k8s
