// Pub/sub steps: `publish` and `subscribe` are requests (POST and GET by
// default) with a stream name and topics; `delivery:` and `stop:` at the top.
#include "common/scenario/builder.h"
#include "common/scenario/text.h"

namespace herd::scenario::detail {

namespace {

constexpr int64_t kMaxCohort = 255;  // nchan multiplexes at most 255 channels per subscriber

size_t streamIndex(Builder& builder, const std::string& name) {
  auto& streams = builder.plan.streams;
  const auto it = std::find(streams.begin(), streams.end(), name);
  if (it != streams.end()) return static_cast<size_t>(it - streams.begin());
  streams.push_back(name);
  return streams.size() - 1;
}

Result<size_t> readStream(Builder& builder, const Field& field, const MapView& map) {
  SCENARIO_ASSIGN_OR_RETURN(const Field stream,
                            require(builder.context, field, map, "stream", "the delivery stream's name"));
  SCENARIO_ASSIGN_OR_RETURN(const std::string name, readString(builder.context, stream));
  if (!isIdentifier(name))
    return errorAt(builder.context, stream, "stream names are letters, digits and '_', got " + quote(name));
  return streamIndex(builder, name);
}

Status parseTopics(Builder& builder, const Field& field, const MapView& map, Delivery& delivery) {
  Context& context = builder.context;
  const Field* topics = map.find("topics");
  const Field* cohort = map.find("cohort");
  if ((topics != nullptr) == (cohort != nullptr)) {
    return errorAt(context, field, "a subscribe needs topics: [list] or cohort: {size: K, topic: TEMPLATE}");
  }
  if (topics != nullptr) {
    SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> items, readList(context, *topics));
    if (items.empty()) return errorAt(context, *topics, "needs at least one topic");
    for (const Field& item : items) {
      SCENARIO_ASSIGN_OR_RETURN(Template topic, readTemplate(context, item));
      delivery.topics.push_back(std::move(topic));
    }
  } else {
    SCENARIO_ASSIGN_OR_RETURN(const MapView cohort_map, readMap(context, *cohort, {"size", "topic"}));
    SCENARIO_ASSIGN_OR_RETURN(const Field size,
                              require(context, *cohort, cohort_map, "size", "publishers per subscriber"));
    SCENARIO_ASSIGN_OR_RETURN(delivery.cohort, readInteger(context, size, 1));
    if (delivery.cohort > kMaxCohort) return errorAt(context, size, "at most 255 topics per subscriber");
    SCENARIO_ASSIGN_OR_RETURN(const Field topic,
                              require(context, *cohort, cohort_map, "topic", "the topic of member {{member}}"));
    SCENARIO_ASSIGN_OR_RETURN(delivery.member_variable, writeVariable(context, topic, "member"));
    SCENARIO_ASSIGN_OR_RETURN(Template tmpl, readTemplate(context, topic));
    delivery.topics.push_back(std::move(tmpl));
  }
  return Ok{};
}

// publish: http (a POST per message) or websocket; subscribe: longpoll,
// stream, sse or websocket.
Status parseMode(Context& context, const MapView& map, Delivery& delivery) {
  const Field* mode = map.find("mode");
  if (mode == nullptr) return Ok{};
  SCENARIO_ASSIGN_OR_RETURN(const std::string text, readString(context, *mode));
  if (text == "websocket") {
    delivery.mode = Delivery::Mode::kWebSocket;
  } else if (delivery.kind == Delivery::Kind::kPublish) {
    if (text != "http") return errorAt(context, *mode, "expected http or websocket, got " + quote(text));
  } else if (text == "stream") {
    delivery.mode = Delivery::Mode::kStream;
  } else if (text == "sse") {
    delivery.mode = Delivery::Mode::kSse;
  } else if (text != "longpoll") {
    return errorAt(context, *mode, "expected longpoll, stream, sse or websocket, got " + quote(text));
  }
  return Ok{};
}

}  // namespace

Field withoutKeys(const Field& field, std::initializer_list<std::string_view> extra) {
  YAML::Node copy(YAML::NodeType::Map);
  for (const auto& entry : field.node) {
    const std::string key = entry.first.Scalar();
    if (std::find(extra.begin(), extra.end(), key) == extra.end()) copy[entry.first] = entry.second;
  }
  Field out = field;
  out.node = copy;
  return out;
}

Result<Step> parsePubSub(Builder& builder, const std::string& action, const Field& value) {
  Context& context = builder.context;
  if (!value.node.IsMap())
    return errorAt(
        context, value,
        "expected a map with url, stream and " + std::string(action == "publish" ? "topic" : "topics or cohort"));
  Delivery delivery;
  std::string method;
  Field request = value;
  if (action == "publish") {
    SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, value,
                                                         {"url", "name", "headers", "body", "timeout", "check", "retry",
                                                          "stream", "topic", "mode"}));
    delivery.kind = Delivery::Kind::kPublish;
    SCENARIO_RETURN_IF_ERROR(parseMode(context, map, delivery));
    SCENARIO_ASSIGN_OR_RETURN(delivery.stream, readStream(builder, value, map));
    SCENARIO_ASSIGN_OR_RETURN(const Field topic,
                              require(context, value, map, "topic", "the topic the message goes to"));
    SCENARIO_ASSIGN_OR_RETURN(delivery.topic, readTemplate(context, topic));
    request = withoutKeys(value, {"stream", "topic", "mode"});
    method = "POST";
  } else {
    SCENARIO_ASSIGN_OR_RETURN(
        const MapView map,
        readMap(context, value, {"url", "name", "headers", "timeout", "stream", "topics", "cohort", "mode"}));
    delivery.kind = Delivery::Kind::kSubscribe;
    SCENARIO_ASSIGN_OR_RETURN(delivery.stream, readStream(builder, value, map));
    SCENARIO_RETURN_IF_ERROR(parseTopics(builder, value, map, delivery));
    SCENARIO_RETURN_IF_ERROR(parseMode(context, map, delivery));
    SCENARIO_ASSIGN_OR_RETURN(delivery.topics_variable, writeVariable(context, value.atKey(), "topics"));
    request = withoutKeys(value, {"stream", "topics", "cohort", "mode"});
    method = "GET";
  }
  if (delivery.mode == Delivery::Mode::kWebSocket) request = withHttpScheme(request);
  SCENARIO_ASSIGN_OR_RETURN(RequestStep step, parseRequest(builder, method, request, nullptr));
  if (delivery.kind == Delivery::Kind::kPublish && !step.body) step.body = Template{};
  if (delivery.kind == Delivery::Kind::kPublish && step.content_type.empty()) step.content_type = "text/plain";
  step.needs_body = step.needs_body || delivery.kind == Delivery::Kind::kSubscribe;
  step.needs_headers = step.needs_headers || delivery.kind == Delivery::Kind::kSubscribe;
  step.delivery = std::move(delivery);
  return Step(std::move(step));
}

Status parseDeliveryOptions(Builder& builder, const MapView& root) {
  Context& context = builder.context;
  if (const Field* delivery = root.find("delivery")) {
    SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, *delivery, {"lostAfter"}));
    if (const Field* lost = map.find("lostAfter")) {
      SCENARIO_ASSIGN_OR_RETURN(builder.plan.lost_after, readDuration(context, *lost, false));
    }
  }
  if (const Field* stop = root.find("stop")) {
    SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, *stop, {"grace", "drain"}));
    if (const Field* grace = map.find("grace")) {
      SCENARIO_ASSIGN_OR_RETURN(builder.plan.stop_grace, readDuration(context, *grace, true));
    }
    if (const Field* drain = map.find("drain")) {
      SCENARIO_ASSIGN_OR_RETURN(builder.plan.drain, readDuration(context, *drain, true));
    }
  }
  return Ok{};
}

}  // namespace herd::scenario::detail
