#include "common/scenario/yaml_json.h"

#include <yaml-cpp/yaml.h>

namespace herd::scenario {

namespace {

using json = Json;

json toJson(const YAML::Node& n) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : n) out[kv.first.as<std::string>()] = toJson(kv.second);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : n) out.push_back(toJson(item));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      // "!" is the tag of a quoted scalar: "true" in quotes stays a string.
      if (n.Tag() != "!" && (s == "true" || s == "false")) return s == "true";
      return s;
    }
    default: return nullptr;
  }
}

}  // namespace

Result<json> yamlDocumentToJson(std::string_view text, const std::string& where) {
  try {
    return toJson(YAML::Load(std::string(text)));
  } catch (const YAML::Exception& e) {
    return Error{std::string("not valid YAML: ") + e.what(), where};
  }
}

}  // namespace herd::scenario
