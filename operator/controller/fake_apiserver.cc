#include "operator/controller/fake_apiserver.h"

#include <set>

namespace herd::controller::testing {

namespace {

using json = Json;

k8s::HttpResponse status(int code, const std::string& reason, const std::string& message) {
  json body{{"kind", "Status"}, {"apiVersion", "v1"}, {"status", "Failure"},
            {"reason", reason}, {"message", message}, {"code", code}};
  return {code, body.dump()};
}

k8s::HttpResponse ok(const json& body, int code = 200) { return {code, body.dump()}; }

std::string percentDecode(const std::string& text) {
  std::string out;
  for (size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      out += static_cast<char>(std::stoi(text.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += text[i] == '+' ? ' ' : text[i];
    }
  }
  return out;
}

std::string base64(const std::string& in) {
  static const char* kAlphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 2 < in.size(); i += 3) {
    const uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    for (int shift : {18, 12, 6, 0}) out += kAlphabet[(n >> shift) & 63];
  }
  if (i < in.size()) {
    uint32_t n = uint8_t(in[i]) << 16;
    if (i + 1 < in.size()) n |= uint8_t(in[i + 1]) << 8;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += i + 1 < in.size() ? kAlphabet[(n >> 6) & 63] : '=';
    out += '=';
  }
  return out;
}

// "a=b,c=d": every pair must be among the object's labels.
bool matches(const json& object, const std::string& selector) {
  const json labels = object["metadata"].value("labels", json::object());
  size_t start = 0;
  while (start < selector.size()) {
    auto comma = selector.find(',', start);
    if (comma == std::string::npos) comma = selector.size();
    const auto pair = selector.substr(start, comma - start);
    const auto eq = pair.find('=');
    const auto key = pair.substr(0, eq);
    const auto value = eq == std::string::npos ? "" : pair.substr(eq + 1);
    if (!labels.contains(key) || labels[key] != value) return false;
    start = comma + 1;
  }
  return true;
}

// "/api/v1/namespaces/ns/pods/name/status" → collection, name, subresource.
struct Parts {
  std::string collection, name, subresource;
};

Parts split(const std::string& path) {
  std::vector<std::string> segments;
  size_t start = 1;
  while (start <= path.size()) {
    auto slash = path.find('/', start);
    if (slash == std::string::npos) slash = path.size();
    segments.push_back(path.substr(start, slash - start));
    start = slash + 1;
  }
  // Collections end after "namespaces/NS/PLURAL": 5 segments (core) or 6 (groups).
  const size_t collection_size = !segments.empty() && segments[0] == "api" ? 5 : 6;
  Parts parts;
  for (size_t i = 0; i < segments.size(); ++i) {
    auto& into = i < collection_size ? parts.collection : i == collection_size ? parts.name : parts.subresource;
    if (i < collection_size) into += "/" + segments[i];
    else into += segments[i];
  }
  return parts;
}

}  // namespace

Result<k8s::HttpResponse> FakeApiServer::send(const k8s::HttpRequest& request) {
  std::lock_guard lock(mu_);
  return handle(request);
}

k8s::HttpResponse FakeApiServer::handle(const k8s::HttpRequest& request) {
  const auto q = request.path_query.find('?');
  const std::string path = request.path_query.substr(0, q);
  const std::string query = q == std::string::npos ? "" : request.path_query.substr(q + 1);
  ++counts_[request.method + " " + path];
  const Parts parts = split(path);
  const std::string object_path = parts.collection + "/" + parts.name;
  json body = request.body.empty() ? json() : json::parse(request.body, nullptr, false);
  if (request.method == "GET" && parts.name.empty()) return listMatching(parts.collection, query);
  if (request.method == "POST") return create(parts.collection, std::move(body));
  auto it = objects_.find(object_path);
  if (it == objects_.end()) return status(404, "NotFound", object_path + " not found");
  if (request.method == "GET") return ok(it->second);
  if (request.method == "PUT") return replace(object_path, parts.subresource, std::move(body));
  if (request.method == "PATCH") {
    it->second.merge_patch(body);
    it->second["metadata"]["resourceVersion"] = std::to_string(++version_);
    return ok(it->second);
  }
  if (request.method == "DELETE") {
    objects_.erase(it);
    return ok(json{{"kind", "Status"}, {"status", "Success"}});
  }
  return status(405, "MethodNotAllowed", request.method);
}

k8s::HttpResponse FakeApiServer::create(const std::string& collection, json object) {
  auto& meta = object["metadata"];
  if (!meta.contains("name")) meta["name"] = meta.value("generateName", std::string("x-")) + std::to_string(version_);
  const std::string path = collection + "/" + meta["name"].get<std::string>();
  if (objects_.count(path)) return status(409, "AlreadyExists", path + " already exists");
  if (object.contains("stringData")) {
    for (auto& [key, value] : object["stringData"].items()) object["data"][key] = base64(value.get<std::string>());
    object.erase("stringData");
  }
  meta["uid"] = "uid-" + std::to_string(version_);
  meta["resourceVersion"] = std::to_string(++version_);
  meta["creationTimestamp"] = "2026-01-01T00:00:00Z";
  objects_[path] = object;
  return ok(object, 201);
}

k8s::HttpResponse FakeApiServer::replace(const std::string& path, const std::string& subresource, json object) {
  json& current = objects_[path];
  if (object["metadata"].value("resourceVersion", "") != current["metadata"].value("resourceVersion", "")) {
    return status(409, "Conflict", path + " was modified");
  }
  if (subresource == "status") current["status"] = object["status"];
  else current = object;
  current["metadata"]["resourceVersion"] = std::to_string(++version_);
  return ok(current);
}

k8s::HttpResponse FakeApiServer::listMatching(const std::string& collection, const std::string& query) {
  std::string selector;
  for (size_t start = 0; start < query.size();) {
    auto amp = query.find('&', start);
    if (amp == std::string::npos) amp = query.size();
    const auto pair = query.substr(start, amp - start);
    if (pair.rfind("labelSelector=", 0) == 0) selector = percentDecode(pair.substr(14));
    start = amp + 1;
  }
  json items = json::array();
  for (const auto& [path, object] : objects_)
    if (path.rfind(collection + "/", 0) == 0 && path.find('/', collection.size() + 1) == std::string::npos &&
        matches(object, selector))
      items.push_back(object);
  return ok(json{{"kind", "List"}, {"metadata", {{"resourceVersion", std::to_string(version_)}}}, {"items", items}});
}

void FakeApiServer::put(const std::string& path, json object) {
  std::lock_guard lock(mu_);
  object["metadata"]["resourceVersion"] = std::to_string(++version_);
  if (!object["metadata"].contains("uid")) object["metadata"]["uid"] = "uid-" + std::to_string(version_);
  objects_[path] = std::move(object);
}

Json FakeApiServer::object(const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = objects_.find(path);
  return it == objects_.end() ? json() : it->second;
}

std::vector<Json> FakeApiServer::list(const std::string& collection) const {
  std::lock_guard lock(mu_);
  std::vector<json> out;
  for (const auto& [path, object] : objects_)
    if (path.rfind(collection + "/", 0) == 0) out.push_back(object);
  return out;
}

int FakeApiServer::count(const std::string& method, const std::string& path) const {
  std::lock_guard lock(mu_);
  auto it = counts_.find(method + " " + path);
  return it == counts_.end() ? 0 : it->second;
}

}  // namespace herd::controller::testing
