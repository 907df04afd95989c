#include "common/scenario/yaml_json.h"

#include <regex>

#include <yaml-cpp/yaml.h>

namespace herd::scenario {

namespace {

using json = Json;

// A plain scalar under YAML 1.2's core schema.
json typedScalar(const std::string& s) {
  static const std::regex kNull("null|Null|NULL|~|");
  static const std::regex kTrue("true|True|TRUE"), kFalse("false|False|FALSE");
  static const std::regex kInt("[-+]?[0-9]+");
  static const std::regex kFloat(R"([-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?)");
  if (std::regex_match(s, kNull)) return nullptr;
  if (std::regex_match(s, kTrue)) return true;
  if (std::regex_match(s, kFalse)) return false;
  try {
    if (std::regex_match(s, kInt)) return std::stoll(s);
    if (std::regex_match(s, kFloat)) return std::stod(s);
  } catch (const std::out_of_range&) {
    // Too large for a number here: kept as the text, which the reader then refuses by type.
  }
  return s;
}

json toJson(const YAML::Node& n, YamlScalars scalars) {
  switch (n.Type()) {
    case YAML::NodeType::Map: {
      json out = json::object();
      for (const auto& kv : n) out[kv.first.as<std::string>()] = toJson(kv.second, scalars);
      return out;
    }
    case YAML::NodeType::Sequence: {
      json out = json::array();
      for (const auto& item : n) out.push_back(toJson(item, scalars));
      return out;
    }
    case YAML::NodeType::Scalar: {
      const std::string& s = n.Scalar();
      // "!" is the tag of a quoted scalar: "true" in quotes stays a string.
      if (n.Tag() == "!") return s;
      if (scalars == YamlScalars::kTyped) return typedScalar(s);
      if (s == "true" || s == "false") return s == "true";
      return s;
    }
    default: return nullptr;
  }
}

}  // namespace

Result<json> yamlDocumentToJson(std::string_view text, const std::string& where, YamlScalars scalars) {
  try {
    return toJson(YAML::Load(std::string(text)), scalars);
  } catch (const YAML::Exception& e) {
    return Error{std::string("not valid YAML: ") + e.what(), where};
  }
}

}  // namespace herd::scenario
