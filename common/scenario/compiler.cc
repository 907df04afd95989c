// The compiler's entry points and the scenario's top level: YAML loading, params,
// target, defaults, load (with command-line overrides) and thresholds.
#include "common/scenario/compiler.h"

#include <cmath>
#include <fstream>
#include <sstream>

#include <yaml-cpp/eventhandler.h>

#include "common/scenario/builder.h"
#include "common/scenario/text.h"

namespace herd::scenario {

namespace detail {

size_t Builder::endpoint(const std::string& name, const std::string& method) {
  const auto [it, added] = endpoint_index_.try_emplace({name, method}, plan.endpoints.size());
  if (added) plan.endpoints.push_back(Endpoint{name, method});
  return it->second;
}

size_t Builder::origin(const Origin& origin) {
  const auto it = std::find(plan.origins.begin(), plan.origins.end(), origin);
  if (it != plan.origins.end()) return static_cast<size_t>(it - plan.origins.begin());
  plan.origins.push_back(origin);
  return plan.origins.size() - 1;
}

}  // namespace detail

namespace {

using detail::Builder;
using detail::Context;
using detail::errorAt;
using detail::Field;
using detail::MapView;
using detail::quote;

constexpr size_t kMaxBytes = 4 << 20;  // far beyond any hand-written scenario

// YAML forbids tabs in indentation, but yaml-cpp's complaint about one is often
// "illegal map value" somewhere else; when parsing fails, name the tab instead.
std::optional<YAML::Mark> findIndentTab(std::string_view yaml, int up_to_line) {
  int line = 0;
  size_t pos = 0;
  while (pos < yaml.size() && line <= up_to_line) {
    const size_t end = std::min(yaml.find('\n', pos), yaml.size());
    for (size_t i = pos; i < end && (yaml[i] == ' ' || yaml[i] == '\t'); ++i) {
      if (yaml[i] == '\t') {
        YAML::Mark mark;
        mark.line = line;
        mark.column = static_cast<int>(i - pos);
        return mark;
      }
    }
    pos = end + 1;
    ++line;
  }
  return std::nullopt;
}

// Counts documents and remembers where the second one starts.
class DocumentCounter final : public YAML::EventHandler {
 public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    if (++documents_ == 2) second_ = mark;
  }
  void OnDocumentEnd() override {}
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {}
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {}
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t, const std::string&) override {}
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnSequenceEnd() override {}
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t, YAML::EmitterStyle::value) override {}
  void OnMapEnd() override {}

  int documents() const { return documents_; }
  const YAML::Mark& second() const { return second_; }

 private:
  int documents_ = 0;
  YAML::Mark second_;
};

// The first document, or an error if there is a second one. Not YAML::LoadAll: on
// some malformed input it never returns (yaml-cpp 0.7 keeps yielding empty
// documents), so we ask the parser for at most two.
Result<YAML::Node> loadSingle(const Context& context, const std::string& text) {
  YAML::Node root = YAML::Load(text);
  std::istringstream in(text);
  YAML::Parser parser(in);
  DocumentCounter counter;
  for (int i = 0; i < 2 && parser.HandleNextDocument(counter); ++i) {
  }
  if (counter.documents() > 1) {
    return errorAt(context, counter.second(), "a scenario file holds one YAML document, found another");
  }
  return root;
}

Result<YAML::Node> load(const Context& context, std::string_view yaml) {
  try {
    return loadSingle(context, std::string(yaml));
  } catch (const YAML::Exception& e) {
    const int line = e.mark.is_null() ? 1 << 30 : e.mark.line;
    if (const auto tab = findIndentTab(yaml, line)) {
      return errorAt(context, *tab, "tab character in indentation (YAML indents with spaces only)");
    }
    return errorAt(context, e.mark, "invalid YAML: " + e.msg);
  }
}

Status parseParams(Context& context, const MapView& root, const CompileOptions& options) {
  if (const Field* params = root.find("params")) {
    SCENARIO_ASSIGN_OR_RETURN(const MapView map, detail::readAnyMap(context, *params));
    for (const auto& [name, value] : map.entries()) {
      if (!detail::isIdentifier(name)) {
        return errorAt(context, value.atKey(), "param names are letters, digits and '_', not starting with a digit");
      }
      std::string text;
      if (!value.node.IsNull()) {
        SCENARIO_ASSIGN_OR_RETURN(text, detail::readString(context, value));
      }
      context.params[name] = std::move(text);
    }
  }
  for (const auto& [name, value] : options.params) {
    if (!detail::isIdentifier(name)) {
      return Error{"param names are letters, digits and '_', not starting with a digit", "-p " + name};
    }
    context.params[name] = value;
  }
  return Ok{};
}

// The file's target is checked even when --target replaces it: `herd validate`
// must catch a broken file whatever flags a later run passes.
Status parseTarget(Builder& builder, const Field& root_field, const MapView& root, const CompileOptions& options) {
  Context& context = builder.context;
  std::optional<Origin> target;
  if (const Field* field = root.find("target")) {
    SCENARIO_ASSIGN_OR_RETURN(const std::string text, detail::readResolved(context, *field));
    auto origin = parseOrigin(text);
    if (!origin) return errorAt(context, *field, origin.error().message);
    target = std::move(*origin);
  }
  if (options.target) {
    auto origin = parseOrigin(*options.target);
    if (!origin) return Error{origin.error().message, options.names.target};
    target = std::move(*origin);
  }
  if (!target) {
    return errorAt(context, root_field.mark,
                   "target: required (the base URL, e.g. http://127.0.0.1:8080, or --target)");
  }
  builder.plan.origins.push_back(std::move(*target));
  return Ok{};
}

Status parseDefaults(Builder& builder, const MapView& root) {
  const Field* defaults = root.find("defaults");
  if (defaults == nullptr) return Ok{};
  SCENARIO_ASSIGN_OR_RETURN(
      const MapView map, detail::readMap(builder.context, *defaults,
                                         {"timeout", "headers", "retry", "cookies", "http", "streamsPerConnection"}));
  if (const Field* http = map.find("http")) {
    SCENARIO_ASSIGN_OR_RETURN(builder.default_http, detail::parseHttpVersion(builder, *http));
  }
  if (const Field* streams = map.find("streamsPerConnection")) {
    SCENARIO_ASSIGN_OR_RETURN(const int64_t count, detail::readInteger(builder.context, *streams, 1));
    if (count > detail::kMaxStreamsPerConnection) {
      return errorAt(builder.context, *streams,
                     "at most " + std::to_string(detail::kMaxStreamsPerConnection) + ", got " + std::to_string(count));
    }
    builder.plan.http2_streams = static_cast<uint32_t>(count);
  }
  if (const Field* retry = map.find("retry")) {
    SCENARIO_ASSIGN_OR_RETURN(builder.default_retry, detail::parseRetry(builder, *retry));
  }
  if (const Field* cookies = map.find("cookies")) {
    SCENARIO_ASSIGN_OR_RETURN(builder.plan.cookies, detail::readBool(builder.context, *cookies));
  }
  if (const Field* timeout = map.find("timeout")) {
    SCENARIO_ASSIGN_OR_RETURN(builder.default_timeout, detail::readDuration(builder.context, *timeout, false));
  }
  if (const Field* headers = map.find("headers")) {
    SCENARIO_ASSIGN_OR_RETURN(builder.default_headers, detail::parseHeaders(builder, *headers));
  }
  return Ok{};
}

Status parseThresholds(Builder& builder, const MapView& root) {
  const Field* field = root.find("thresholds");
  if (field == nullptr) return Ok{};
  SCENARIO_ASSIGN_OR_RETURN(builder.plan.thresholds, detail::parseThresholds(builder.context, *field));
  return Ok{};
}

Status applyShard(Builder& builder, const CompileOptions& options) {
  if (options.shard_count < 1 || options.shard_index < 0 || options.shard_index >= options.shard_count) {
    return Error{"shard " + std::to_string(options.shard_index) + " of " + std::to_string(options.shard_count) +
                     " (expected 0 <= index < count)",
                 "--shard"};
  }
  builder.plan.shard_index = options.shard_index;
  builder.plan.shard_count = options.shard_count;
  return Ok{};
}

Status parseName(Builder& builder, const Field& root_field, const MapView& root) {
  SCENARIO_ASSIGN_OR_RETURN(const Field field, detail::require(builder.context, root_field, root, "name"));
  SCENARIO_ASSIGN_OR_RETURN(builder.plan.name, detail::readString(builder.context, field));
  if (detail::trim(builder.plan.name).empty()) return errorAt(builder.context, field, "cannot be empty");
  return Ok{};
}

Result<Plan> build(Builder& builder, const YAML::Node& node, const CompileOptions& options) {
  Context& context = builder.context;
  const Field root_field = detail::rootField(node);
  if (node.IsNull()) {
    return errorAt(context, root_field.mark, "empty scenario (expected a map with name, target, users and load)");
  }
  SCENARIO_ASSIGN_OR_RETURN(const MapView root,
                            detail::readMap(context, root_field,
                                            {"name", "target", "params", "defaults", "data", "delivery", "stop", "grpc",
                                             "users", "load", "thresholds"}));
  SCENARIO_RETURN_IF_ERROR(parseParams(context, root, options));
  SCENARIO_RETURN_IF_ERROR(parseName(builder, root_field, root));
  SCENARIO_RETURN_IF_ERROR(parseTarget(builder, root_field, root, options));
  SCENARIO_RETURN_IF_ERROR(parseDefaults(builder, root));
  if (const Field* data = root.find("data")) SCENARIO_RETURN_IF_ERROR(detail::parseData(builder, *data));
  SCENARIO_RETURN_IF_ERROR(applyShard(builder, options));
  SCENARIO_RETURN_IF_ERROR(detail::parseDeliveryOptions(builder, root));
  if (const Field* grpc = root.find("grpc")) SCENARIO_RETURN_IF_ERROR(detail::parseGrpcSchema(builder, *grpc));
  SCENARIO_ASSIGN_OR_RETURN(const Field users,
                            detail::require(context, root_field, root, "users", "a list of user classes"));
  SCENARIO_ASSIGN_OR_RETURN(builder.plan.classes, detail::parseUsers(builder, users));
  SCENARIO_RETURN_IF_ERROR(detail::parseLoad(builder, root_field, root, options));
  SCENARIO_RETURN_IF_ERROR(parseThresholds(builder, root));
  SCENARIO_RETURN_IF_ERROR(detail::checkVariables(context));
  builder.plan.params = context.params;
  builder.plan.variables = context.variables;
  return std::move(builder.plan);
}

}  // namespace

Result<Plan> compileString(std::string_view yaml, const std::string& source_name, const CompileOptions& options) {
  Builder builder;
  builder.context.source = source_name;
  builder.plan.source_file = source_name;
  if (yaml.size() > kMaxBytes) {
    return Error{"scenario is larger than " + std::to_string(kMaxBytes >> 20) + " MiB", source_name};
  }
  // yaml-cpp throws from accessors too; nothing may escape to the caller.
  try {
    SCENARIO_ASSIGN_OR_RETURN(const YAML::Node root, load(builder.context, yaml));
    return build(builder, root, options);
  } catch (const std::exception& e) {
    return Error{std::string("internal error while compiling: ") + e.what(), source_name};
  } catch (...) {
    return Error{"internal error while compiling", source_name};
  }
}

Result<Plan> compileFile(const std::string& path, const CompileOptions& options) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return Error{"cannot open the scenario file", path};
  std::ostringstream text;
  text << in.rdbuf();
  if (in.bad()) return Error{"cannot read the scenario file", path};
  return compileString(text.str(), path, options);
}

}  // namespace herd::scenario
