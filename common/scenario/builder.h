#pragma once
// Internal to the scenario compiler: the state shared while one Plan is built, and
// the parsers each file of the compiler contributes.
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "common/scenario/compiler.h"
#include "common/scenario/plan.h"
#include "common/scenario/yaml_field.h"

namespace herd::scenario {
struct GrpcSchema;  // grpc.cc
}  // namespace herd::scenario

namespace herd::scenario::detail {

constexpr Duration kDefaultTimeout = std::chrono::seconds(10);
constexpr size_t kMaxClasses = 1000;                // the engine numbers classes with uint16_t
constexpr int64_t kMaxStreamsPerConnection = 1000;  // more only grows the memory a refused connection wastes

struct Builder {
  Context context;
  Plan plan;
  // From `defaults:`, merged into every request.
  Duration default_timeout = kDefaultTimeout;
  std::vector<Header> default_headers;
  std::optional<RetryPolicy> default_retry;
  HttpVersion default_http = HttpVersion::kHttp1;
  // The websocket steps being parsed, innermost last: send, receive, ping and
  // close go inside one, and are named after it.
  std::vector<const RequestStep*> sockets;
  std::vector<std::string> socket_names;
  // The top-level `grpc:` schema, once read.
  std::shared_ptr<GrpcSchema> grpc_schema;

  // Index of a new check described as `description` (the errors list names it).
  size_t check(std::string description) {
    plan.checks.push_back(std::move(description));
    return plan.checks.size() - 1;
  }

  // Index of the endpoint (name, method), numbered in order of first use.
  size_t endpoint(const std::string& name, const std::string& method);
  // Index of `origin` in plan.origins, added on first use.
  size_t origin(const Origin& origin);

 private:
  std::map<std::pair<std::string, std::string>, size_t> endpoint_index_;
};

// users.cc: the `users:` list.
Result<std::vector<UserClass>> parseUsers(Builder& builder, const Field& field);

// steps.cc: a list of steps; `allow_empty` for onStart, which may do nothing.
Result<std::vector<Step>> parseSteps(Builder& builder, const Field& field, bool allow_empty);

// request.cc: one request; `method` is upper case, or empty for `request:` (which
// names it inside); `name` is the step's sibling `name:` if any.
Result<RequestStep> parseRequest(Builder& builder, std::string method, const Field& value, const Field* name);
// request.cc: a headers map (`defaults.headers` or a request's).
Result<std::vector<Header>> parseHeaders(Builder& builder, const Field& field);

// request.cc: an `http:` version, "1.1" or "2".
Result<HttpVersion> parseHttpVersion(Builder& builder, const Field& field);

// response_rules.cc: a request's `check:`, `capture:` and `retry:`.
Status parseChecks(Builder& builder, const Field& field, RequestStep& step);
Status parseCaptures(Builder& builder, const Field& field, RequestStep& step);
Result<RetryPolicy> parseRetry(Builder& builder, const Field& field);
// Sets needs_body / needs_headers from the step's checks and captures.
void markNeeds(RequestStep& step, bool cookies);

// flow.cc: loop, if, parallel, set and stopUser steps (the step's map is given).
Result<Step> parseFlowStep(Builder& builder, const std::string& action, const Field& value, const Field& step);
// flow.cc: a nested list of steps as a shared block.
Result<std::shared_ptr<const Block>> parseBlock(Builder& builder, const Field& field);

// data.cc: `data:` (CSV files, loaded now) and a `feed` step naming one.
Status parseData(Builder& builder, const Field& field);
Result<Step> parseFeed(Builder& builder, const Field& field);

// websocket.cc: a `websocket` step and the send/receive/ping/close steps inside it.
Result<Step> parseSocketStep(Builder& builder, const std::string& action, const Field& value);
// websocket.cc: the step's map with a ws:// or wss:// `url` read as http:// or
// https:// (RFC 6455 3: the same origins); only WebSocket steps take them.
Field withHttpScheme(const Field& value);

// grpc.cc: the top-level `grpc:` schema, and a `grpc:` step (a call of one of its methods).
Status parseGrpcSchema(Builder& builder, const Field& field);
Result<Step> parseGrpcStep(Builder& builder, const Field& value);

// delivery.cc: the step's map without the `extra` keys (what parseRequest reads).
Field withoutKeys(const Field& field, std::initializer_list<std::string_view> extra);
// delivery.cc: `publish` / `subscribe` steps, and `delivery:` and `stop:` at the top.
Result<Step> parsePubSub(Builder& builder, const std::string& action, const Field& value);
Status parseDeliveryOptions(Builder& builder, const MapView& root);

// load.cc: `load:` with the command-line overrides; `root_field` places errors
// about a missing block.
Status parseLoad(Builder& builder, const Field& root_field, const MapView& root, const CompileOptions& options);

// json_body.cc: any YAML value as a JSON text template.
Result<Template> parseJsonBody(Context& context, const Field& field);

// thresholds.cc: the `thresholds:` list.
Result<std::vector<ThresholdSpec>> parseThresholds(Context& context, const Field& field);

}  // namespace herd::scenario::detail
