// gRPC: the top-level `grpc:` block (the schema: .proto files compiled here
// with protobuf's compiler library, or a FileDescriptorSet) and `grpc:` steps
// (one call of one method). A step is a RequestStep the engine sends over its
// HTTP/2: POST to /package.Service/Method with content-type application/grpc,
// te: trailers and grpc-timeout; its body is the request message, framed
// (grpc_wire.h), converted from the JSON the scenario writes.
#include "common/scenario/grpc.h"

#include <google/protobuf/compiler/importer.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/stubs/logging.h>
#include <google/protobuf/util/json_util.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include "common/scenario/builder.h"
#include "common/scenario/grpc_wire.h"
#include "common/scenario/text.h"

namespace herd::scenario {

namespace pb = google::protobuf;

// The descriptors every method of the scenario points into. Built once when
// the scenario compiles; read-only (and so shared by the worker threads) after.
struct GrpcSchema {
  pb::compiler::DiskSourceTree source_tree;
  std::unique_ptr<pb::compiler::Importer> importer;  // from .proto files
  std::unique_ptr<pb::DescriptorPool> own_pool;      // from a descriptor set
  const pb::DescriptorPool* pool = nullptr;
  std::unique_ptr<pb::DynamicMessageFactory> factory;  // thread-safe: it locks its prototype map
  std::vector<std::string> services;                   // of the files named, for errors' suggestions
};

namespace {

class ProtoMethod final : public GrpcMethod {
 public:
  ProtoMethod(std::shared_ptr<const GrpcSchema> schema, const pb::MethodDescriptor& method)
      : schema_(std::move(schema)),
        path_("/" + method.service()->full_name() + "/" + method.name()),
        streaming_(method.server_streaming()),
        request_(schema_->factory->GetPrototype(method.input_type())),
        response_(schema_->factory->GetPrototype(method.output_type())) {}

  const std::string& path() const override { return path_; }
  bool serverStreaming() const override { return streaming_; }

  bool encodeRequest(std::string_view json, std::string& out, std::string& error) const override {
    // A message per call: prototypes are shared between threads, messages not.
    const std::unique_ptr<pb::Message> message(request_->New());
    const auto status = pb::util::JsonStringToMessage(pb::StringPiece(json.data(), json.size()), message.get(),
                                                      pb::util::JsonParseOptions());
    if (!status.ok()) {
      error = std::string(status.message());
      return false;
    }
    appendGrpcFrame(message->SerializeAsString(), out);
    return true;
  }

  bool decodeResponse(std::string_view bytes, std::string& out) const override {
    const std::unique_ptr<pb::Message> message(response_->New());
    if (!message->ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) return false;
    pb::util::JsonPrintOptions options;
    options.always_print_primitive_fields = true;
    options.preserve_proto_field_names = true;
    std::string json;
    if (!pb::util::MessageToJsonString(*message, &json, options).ok()) return false;
    out += json;
    return true;
  }

 private:
  const std::shared_ptr<const GrpcSchema> schema_;
  const std::string path_;
  const bool streaming_;
  const pb::Message* const request_;
  const pb::Message* const response_;
};

// protobuf logs malformed input as it refuses it (a response's string field
// that is not UTF-8, one line per message): herd counts such a response as a
// protocol failure, so those lines would only flood the run's output. Only
// fatal messages (protobuf aborts after them) are still written. Set once,
// while the scenario compiles, before any worker thread runs.
void quietProtobufLogs() {
  static const bool once = [] {
    pb::SetLogHandler([](pb::LogLevel level, const char* file, int line, const std::string& message) {
      if (level == pb::LOGLEVEL_FATAL) std::fprintf(stderr, "protobuf %s:%d: %s\n", file, line, message.c_str());
    });
    return true;
  }();
  (void)once;
}

// protobuf's parse errors, the first one kept as "file:line:col: message"
// (protobuf counts from 0; editors and herd from 1).
class FirstError final : public pb::compiler::MultiFileErrorCollector, public pb::DescriptorPool::ErrorCollector {
 public:
  void AddError(const std::string& filename, int line, int column, const std::string& message) override {
    if (!first_.empty()) return;
    first_ = filename;
    if (line >= 0) first_ += ":" + std::to_string(line + 1) + ":" + std::to_string(column + 1);
    first_ += ": " + message;
  }
  void AddError(const std::string& filename, const std::string& element, const pb::Message* /*descriptor*/,
                ErrorLocation /*location*/, const std::string& message) override {
    if (first_.empty()) first_ = filename + ": " + element + ": " + message;
  }
  const std::string& first() const { return first_; }

 private:
  std::string first_;
};

}  // namespace

namespace detail {

namespace {

std::string relativeTo(const Builder& builder, const std::string& name) {
  std::filesystem::path path(name);
  if (path.is_relative()) path = std::filesystem::path(builder.plan.source_file).parent_path() / path;
  return path.lexically_normal().string();
}

Result<std::vector<std::pair<Field, std::string>>> readPaths(Builder& builder, const Field& field) {
  std::vector<std::pair<Field, std::string>> paths;
  std::vector<Field> items;
  if (field.node.IsSequence()) {
    SCENARIO_ASSIGN_OR_RETURN(items, readList(builder.context, field));
  } else {
    items.push_back(field);
  }
  if (items.empty()) return errorAt(builder.context, field, "needs at least one path");
  for (const Field& item : items) {
    SCENARIO_ASSIGN_OR_RETURN(const std::string text, readResolved(builder.context, item));
    paths.emplace_back(item, relativeTo(builder, text));
  }
  return paths;
}

void addServices(const pb::FileDescriptor& file, GrpcSchema& schema) {
  for (int i = 0; i < file.service_count(); ++i) schema.services.push_back(file.service(i)->full_name());
}

// .proto files: each import path (and each file's own folder) is a root of
// the source tree, as protoc's -I.
Status importProtos(Builder& builder, GrpcSchema& schema, const Field& protos, const Field* imports) {
  Context& context = builder.context;
  if (imports != nullptr) {
    SCENARIO_ASSIGN_OR_RETURN(const auto paths, readPaths(builder, *imports));
    for (const auto& [field, path] : paths) {
      if (!std::filesystem::is_directory(path)) return errorAt(context, field, "no such folder " + quote(path));
      schema.source_tree.MapPath("", path);
    }
  }
  SCENARIO_ASSIGN_OR_RETURN(const auto files, readPaths(builder, protos));
  for (const auto& [field, path] : files) {
    if (!std::filesystem::is_regular_file(path)) return errorAt(context, field, "no such file " + quote(path));
  }
  for (const auto& [field, path] : files) {
    schema.source_tree.MapPath("", std::filesystem::path(path).parent_path().string());
  }
  FirstError errors;
  schema.importer = std::make_unique<pb::compiler::Importer>(&schema.source_tree, &errors);
  for (const auto& [field, path] : files) {
    std::string virtual_file;
    std::string shadowing;
    if (schema.source_tree.DiskFileToVirtualFile(path, &virtual_file, &shadowing) !=
        pb::compiler::DiskSourceTree::SUCCESS) {
      return errorAt(context, field, "cannot map " + quote(path) + " into the import paths");
    }
    const pb::FileDescriptor* file = schema.importer->Import(virtual_file);
    if (file == nullptr) {
      return errorAt(context, field,
                     "the .proto does not compile: " + (errors.first().empty() ? virtual_file : errors.first()));
    }
    addServices(*file, schema);
  }
  schema.pool = schema.importer->pool();
  return Ok{};
}

// A FileDescriptorSet (protoc --include_imports --descriptor_set_out), files
// in dependency order as protoc writes them.
Status loadDescriptorSet(Builder& builder, GrpcSchema& schema, const Field& field) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const auto paths, readPaths(builder, field));
  schema.own_pool = std::make_unique<pb::DescriptorPool>();
  for (const auto& [item, path] : paths) {
    std::ifstream in(path, std::ios::binary);
    if (!in) return errorAt(context, item, "cannot open " + quote(path));
    pb::FileDescriptorSet set;
    if (!set.ParseFromIstream(&in)) {
      return errorAt(context, item, quote(path) + " is not a FileDescriptorSet (protoc --descriptor_set_out)");
    }
    for (const auto& file : set.file()) {
      if (schema.own_pool->FindFileByName(file.name()) != nullptr) continue;
      FirstError errors;
      const pb::FileDescriptor* built = schema.own_pool->BuildFileCollectingErrors(file, &errors);
      if (built == nullptr) return errorAt(context, item, "the descriptor set does not build: " + errors.first());
      addServices(*built, schema);
    }
  }
  schema.pool = schema.own_pool.get();
  return Ok{};
}

std::vector<std::string_view> fieldNames(const pb::Descriptor& type) {
  std::vector<std::string_view> names;
  for (int i = 0; i < type.field_count(); ++i) names.emplace_back(type.field(i)->name());
  return names;
}

// Every key of the YAML message is a field of `type` (by its .proto name or
// its JSON name), nested messages too, so a misspelt field is named where it
// is written. The values are protobuf's to judge (encodeRequest).
Status checkFields(Context& context, const Field& value, const pb::Descriptor& type) {
  if (type.file()->package() == "google.protobuf") return Ok{};  // well-known types have their own JSON forms
  if (!value.node.IsMap()) return Ok{};
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readAnyMap(context, value));
  for (const auto& entry : map.entries()) {
    const pb::FieldDescriptor* field = type.FindFieldByName(entry.first);
    for (int i = 0; field == nullptr && i < type.field_count(); ++i) {
      if (type.field(i)->json_name() == entry.first) field = type.field(i);
    }
    if (field == nullptr) {
      std::string message = type.full_name() + " has no field " + quote(entry.first);
      const auto names = fieldNames(type);
      if (const auto guess = closest(entry.first, names)) {
        message += " (did you mean " + quote(*guess) + "?)";
      } else {
        message += " (its fields: " + join(names, ", ") + ")";
      }
      return errorAt(context, entry.second.atKey(), message);
    }
    if (field->message_type() == nullptr) continue;
    const pb::Descriptor& inner = *field->message_type();
    if (field->is_map()) {
      const pb::FieldDescriptor* mapped = inner.map_value();
      if (mapped->message_type() == nullptr || !entry.second.node.IsMap()) continue;
      SCENARIO_ASSIGN_OR_RETURN(const MapView values, readAnyMap(context, entry.second));
      for (const auto& item : values.entries()) {
        SCENARIO_RETURN_IF_ERROR(checkFields(context, item.second, *mapped->message_type()));
      }
    } else if (field->is_repeated() && entry.second.node.IsSequence()) {
      SCENARIO_ASSIGN_OR_RETURN(const std::vector<Field> items, readList(context, entry.second));
      for (const Field& item : items) SCENARIO_RETURN_IF_ERROR(checkFields(context, item, inner));
    } else {
      SCENARIO_RETURN_IF_ERROR(checkFields(context, entry.second, inner));
    }
  }
  return Ok{};
}

// "package.Service/Method" or "/package.Service/Method".
Result<const pb::MethodDescriptor*> findMethod(Builder& builder, const Field& field) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(std::string call, readResolved(context, field));
  if (call.starts_with('/')) call.erase(0, 1);
  const size_t slash = call.find('/');
  if (slash == std::string::npos || slash == 0 || slash + 1 == call.size() ||
      call.find('/', slash + 1) != std::string::npos) {
    return errorAt(context, field, "expected package.Service/Method, got " + quote(call));
  }
  const std::string service_name = call.substr(0, slash);
  const std::string method_name = call.substr(slash + 1);
  const pb::ServiceDescriptor* service = builder.grpc_schema->pool->FindServiceByName(service_name);
  if (service == nullptr) {
    const auto& services = builder.grpc_schema->services;
    const std::vector<std::string_view> views(services.begin(), services.end());
    std::string message = "unknown gRPC service " + quote(service_name);
    if (const auto guess = closest(service_name, views)) {
      message += " (did you mean " + quote(*guess) + "?)";
    } else if (!views.empty()) {
      message += " (the schema has: " + join(views, ", ") + ")";
    }
    return errorAt(context, field, message);
  }
  const pb::MethodDescriptor* method = service->FindMethodByName(method_name);
  if (method == nullptr) {
    std::vector<std::string_view> names;
    for (int i = 0; i < service->method_count(); ++i) names.emplace_back(service->method(i)->name());
    std::string message = "service " + service_name + " has no method " + quote(method_name);
    if (const auto guess = closest(method_name, names)) {
      message += " (did you mean " + quote(*guess) + "?)";
    } else {
      message += " (its methods: " + join(names, ", ") + ")";
    }
    return errorAt(context, field, message);
  }
  if (method->client_streaming()) {
    return errorAt(context, field,
                   "/" + service_name + "/" + method_name + " is " +
                       (method->server_streaming() ? "bidirectional" : "client-streaming") +
                       "; a grpc step calls unary and server-streaming methods");
  }
  return method;
}

// Metadata: lower-case ASCII names (HTTP/2 fields), none of the ones gRPC
// itself uses (grpc-*, content-type, te) or HTTP/2's pseudo-headers.
Result<std::vector<Header>> parseMetadata(Builder& builder, const Field& field) {
  SCENARIO_ASSIGN_OR_RETURN(std::vector<Header> headers, parseHeaders(builder, field));
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readAnyMap(builder.context, field));
  for (size_t i = 0; i < headers.size(); ++i) {
    const std::string lower = toLower(headers[i].name);
    if (lower.starts_with("grpc-") || lower == "content-type" || lower == "te" || lower == "user-agent" ||
        lower == "host") {
      return errorAt(builder.context, map.entries()[i].second.atKey(),
                     headers[i].name + " is set by herd for gRPC and cannot be metadata");
    }
    headers[i].name = lower;
  }
  return headers;
}

Header literalHeader(std::string name, std::string value) {
  Header header;
  header.name = std::move(name);
  TemplatePart part;
  part.literal = std::move(value);
  header.value.parts.push_back(std::move(part));
  return header;
}

}  // namespace

Status parseGrpcSchema(Builder& builder, const Field& field) {
  Context& context = builder.context;
  SCENARIO_ASSIGN_OR_RETURN(const MapView map, readMap(context, field, {"protos", "importPaths", "descriptorSet"}));
  const Field* protos = map.find("protos");
  const Field* descriptors = map.find("descriptorSet");
  if ((protos != nullptr) == (descriptors != nullptr)) {
    return errorAt(context, field, "the gRPC schema is protos: [FILE.proto, ...] or descriptorSet: FILE (one of them)");
  }
  const Field* imports = map.find("importPaths");
  if (imports != nullptr && protos == nullptr) {
    return errorAt(context, imports->atKey(), "importPaths go with protos");
  }
  quietProtobufLogs();
  auto schema = std::make_shared<GrpcSchema>();
  if (protos != nullptr) {
    SCENARIO_RETURN_IF_ERROR(importProtos(builder, *schema, *protos, imports));
  } else {
    SCENARIO_RETURN_IF_ERROR(loadDescriptorSet(builder, *schema, *descriptors));
  }
  schema->factory = std::make_unique<pb::DynamicMessageFactory>(schema->pool);
  builder.grpc_schema = std::move(schema);
  return Ok{};
}

Result<Step> parseGrpcStep(Builder& builder, const Field& value) {
  Context& context = builder.context;
  if (!value.node.IsMap()) return errorAt(context, value, "expected a map with call and message");
  SCENARIO_ASSIGN_OR_RETURN(
      const MapView map,
      readMap(context, value, {"call", "url", "message", "metadata", "timeout", "name", "check", "capture"}));
  if (!builder.grpc_schema) {
    return errorAt(context, value,
                   "a grpc step needs the schema at the top level: grpc: {protos: [FILE.proto]} or "
                   "grpc: {descriptorSet: FILE}");
  }
  SCENARIO_ASSIGN_OR_RETURN(const Field call, require(context, value, map, "call", "package.Service/Method"));
  SCENARIO_ASSIGN_OR_RETURN(const pb::MethodDescriptor* descriptor, findMethod(builder, call));
  auto method = std::make_shared<ProtoMethod>(builder.grpc_schema, *descriptor);
  RequestStep step;
  step.method = "POST";
  step.http = HttpVersion::kHttp2;
  step.grpc = method;
  step.path.parts.push_back(TemplatePart{TemplatePart::Kind::kLiteral, method->path()});
  if (const Field* url = map.find("url")) {
    SCENARIO_ASSIGN_OR_RETURN(const std::string text, readResolved(context, *url));
    auto origin = parseOrigin(text);
    if (!origin) return errorAt(context, *url, origin.error().message);
    step.origin = builder.origin(*origin);
  }
  step.timeout = builder.default_timeout;
  if (const Field* timeout = map.find("timeout")) {
    SCENARIO_ASSIGN_OR_RETURN(step.timeout, readDuration(context, *timeout, false));
  }
  if (const Field* metadata = map.find("metadata")) {
    SCENARIO_ASSIGN_OR_RETURN(step.headers, parseMetadata(builder, *metadata));
  }
  step.headers.push_back(literalHeader("content-type", "application/grpc"));
  step.headers.push_back(literalHeader("te", "trailers"));
  step.headers.push_back(literalHeader("grpc-timeout", grpcTimeoutValue(step.timeout)));
  // The message: JSON converted through the descriptor. A literal one is
  // converted (and framed) now, once; one with expressions on every call.
  Template body;
  if (const Field* message = map.find("message")) {
    SCENARIO_RETURN_IF_ERROR(checkFields(context, *message, *descriptor->input_type()));
    SCENARIO_ASSIGN_OR_RETURN(body, parseJsonBody(context, *message));
  } else {
    body.parts.push_back(TemplatePart{TemplatePart::Kind::kLiteral, "{}"});
  }
  if (body.isLiteral()) {
    std::string framed;
    std::string error;
    const std::string json = body.parts.empty() ? std::string("{}") : body.parts[0].literal;
    if (!method->encodeRequest(json, framed, error)) {
      return errorAt(context, *map.find("message"),
                     "not a " + descriptor->input_type()->full_name() + " message: " + error);
    }
    step.body = Template{{TemplatePart{TemplatePart::Kind::kLiteral, std::move(framed)}}};
  } else {
    step.body = std::move(body);
    step.grpc_json_body = true;
  }
  if (const Field* check = map.find("check")) SCENARIO_RETURN_IF_ERROR(parseChecks(builder, *check, step));
  if (const Field* capture = map.find("capture")) SCENARIO_RETURN_IF_ERROR(parseCaptures(builder, *capture, step));
  markNeeds(step, false);
  // The response's JSON form is made only when a check or capture reads it;
  // the trailers (grpc-status) and the frames are always read.
  step.grpc_decode = step.needs_body;
  step.needs_body = true;
  step.needs_headers = true;
  std::string name = method->path();
  if (const Field* field = map.find("name")) {
    SCENARIO_ASSIGN_OR_RETURN(name, readString(context, *field));
    if (trim(name).empty()) return errorAt(context, *field, "an endpoint name cannot be empty");
  }
  step.endpoint = builder.endpoint(name, "GRPC");
  return Step(std::move(step));
}

}  // namespace detail

}  // namespace herd::scenario
