// WebSocket steps: `websocket: {url, name, headers, timeout, steps}` opens a
// socket (its URL may be ws:// or wss://) and runs `steps` while it is open;
// inside them `send`, `receive`, `ping` and `close` act on it. Each is its own
// endpoint, "NAME" with method SEND, RECEIVE, PING or CLOSE (NAME: the step's
// `name`, else the socket's), so messages get counts, bytes and latencies.
// The socket closes (a close handshake) after its last step if no `close` did.
#include "common/scenario/builder.h"
#include "common/scenario/text.h"

namespace herd::scenario::detail {

namespace {

using SocketOp = RequestStep::SocketOp;

// The step inside the innermost socket, on its origin, named `name` or after it.
Result<RequestStep> socketAction(Builder& builder, SocketOp op, const MapView* map, const char* method) {
  Context& context = builder.context;
  const RequestStep& socket = *builder.sockets.back();
  RequestStep step;
  step.method = method;
  step.socket_op = op;
  step.origin = socket.origin;
  step.timeout = builder.default_timeout;
  std::string name = builder.socket_names.back();
  if (map != nullptr) {
    if (const Field* field = map->find("name")) {
      SCENARIO_ASSIGN_OR_RETURN(name, readString(context, *field));
      if (trim(name).empty()) return errorAt(context, *field, "an endpoint name cannot be empty");
    }
    if (const Field* field = map->find("timeout")) {
      SCENARIO_ASSIGN_OR_RETURN(step.timeout, readDuration(context, *field, false));
    }
  }
  step.endpoint = builder.endpoint(name, method);
  return step;
}

// send: TEXT, or {text: TEMPLATE} / {binary: TEMPLATE} with name.
Result<Step> parseSend(Builder& builder, const Field& value) {
  Context& context = builder.context;
  if (value.node.IsScalar()) {
    SCENARIO_ASSIGN_OR_RETURN(RequestStep step, socketAction(builder, SocketOp::kSend, nullptr, "SEND"));
    SCENARIO_ASSIGN_OR_RETURN(step.body, readTemplate(context, value));
    return Step(std::move(step));
  }
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, value, {"text", "binary", "name"}));
  const Field* text = map.find("text");
  const Field* binary = map.find("binary");
  if ((text != nullptr) == (binary != nullptr)) {
    return errorAt(context, value, "a send has text: MESSAGE or binary: BYTES (one of them)");
  }
  const SocketOp op = text != nullptr ? SocketOp::kSend : SocketOp::kSendBinary;
  SCENARIO_ASSIGN_OR_RETURN(RequestStep step, socketAction(builder, op, &map, "SEND"));
  SCENARIO_ASSIGN_OR_RETURN(step.body, readTemplate(context, text != nullptr ? *text : *binary));
  return Step(std::move(step));
}

// receive: {timeout, check, capture, name}, or `receive: {}` for any message.
Result<Step> parseReceive(Builder& builder, const Field& value) {
  Context& context = builder.context;
  if (!value.node.IsMap()) return errorAt(context, value, "expected a map (timeout, check, capture, name), or {}");
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, value, {"timeout", "check", "capture", "name"}));
  SCENARIO_ASSIGN_OR_RETURN(RequestStep step, socketAction(builder, SocketOp::kReceive, &map, "RECEIVE"));
  if (const Field* check = map.find("check")) SCENARIO_RETURN_IF_ERROR(parseChecks(builder, *check, step));
  if (const Field* capture = map.find("capture")) SCENARIO_RETURN_IF_ERROR(parseCaptures(builder, *capture, step));
  markNeeds(step, false);
  step.needs_body = true;
  return Step(std::move(step));
}

// ping: true, or {timeout, name}; close: true, or {timeout, name}.
Result<Step> parseControl(Builder& builder, const Field& value, SocketOp op, const char* method) {
  Context& context = builder.context;
  if (!value.node.IsMap()) {
    SCENARIO_ASSIGN_OR_RETURN(const bool yes, readBool(context, value));
    if (!yes) return errorAt(context, value, std::string("true, or leave the step out"));
    SCENARIO_ASSIGN_OR_RETURN(RequestStep step, socketAction(builder, op, nullptr, method));
    return Step(std::move(step));
  }
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, value, {"timeout", "name"}));
  SCENARIO_ASSIGN_OR_RETURN(RequestStep step, socketAction(builder, op, &map, method));
  return Step(std::move(step));
}

Result<Step> parseSocket(Builder& builder, const Field& value) {
  Context& context = builder.context;
  if (!builder.sockets.empty()) return errorAt(context, value, "a websocket step cannot open another inside it");
  if (!value.node.IsMap()) return errorAt(context, value, "expected a map with url and steps");
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, value, {"url", "name", "headers", "timeout", "steps"}));
  SCENARIO_ASSIGN_OR_RETURN(const Field steps_field,
                            require(context, value, map, "steps", "the send/receive steps run on the socket"));
  // The opening handshake's endpoint is the socket's name (or URL) with method WS.
  SCENARIO_ASSIGN_OR_RETURN(RequestStep step,
                            parseRequest(builder, "WS", withHttpScheme(withoutKeys(value, {"steps"})), nullptr));
  const std::string name = builder.plan.endpoints[step.endpoint].name;
  step.method = "GET";
  step.socket_op = SocketOp::kOpen;
  builder.sockets.push_back(&step);
  builder.socket_names.push_back(name);
  auto block = std::make_shared<Block>();
  auto parsed = parseSteps(builder, steps_field, false);
  if (parsed) {
    block->steps = std::move(*parsed);
    const auto* last = std::get_if<RequestStep>(&block->steps.back());
    if (last == nullptr || last->socket_op != SocketOp::kClose) {
      auto close = socketAction(builder, SocketOp::kClose, nullptr, "CLOSE");
      if (close) block->steps.push_back(Step(std::move(*close)));
    }
  }
  builder.sockets.pop_back();
  builder.socket_names.pop_back();
  if (!parsed) return parsed.error();
  step.socket_steps = std::move(block);
  return Step(std::move(step));
}

}  // namespace

Field withHttpScheme(const Field& value) {
  if (!value.node.IsMap() || !value.node["url"] || !value.node["url"].IsScalar()) return value;
  const std::string url = value.node["url"].Scalar();
  std::string scheme = toLower(url.substr(0, url.find("://")));
  if (url.find("://") == std::string::npos || (scheme != "ws" && scheme != "wss")) return value;
  YAML::Node copy(YAML::NodeType::Map);
  for (const auto& entry : value.node) copy[entry.first] = entry.second;
  // A new scalar keeps no mark, so errors about it point at the old one's place.
  YAML::Node rewritten(std::string(scheme == "ws" ? "http" : "https") + url.substr(scheme.size()));
  copy["url"] = rewritten;
  Field out = value;
  out.node = copy;
  return out;
}

Result<Step> parseSocketStep(Builder& builder, const std::string& action, const Field& value) {
  if (action == "websocket") return parseSocket(builder, value);
  if (builder.sockets.empty()) {
    return errorAt(builder.context, value,
                   action + " acts on a WebSocket: put it in the steps of a websocket: {url, steps} step");
  }
  if (action == "send") return parseSend(builder, value);
  if (action == "receive") return parseReceive(builder, value);
  if (action == "ping") return parseControl(builder, value, SocketOp::kPing, "PING");
  return parseControl(builder, value, SocketOp::kClose, "CLOSE");
}

}  // namespace herd::scenario::detail
