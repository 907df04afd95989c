#pragma once
// A YAML document as JSON, for configuration files that are not scenarios (the
// operator reads kubeconfigs with it). It lives here because yaml-cpp lives in
// this folder only (swapping a library touches one folder).
#include <string>
#include <string_view>

#include "common/core/json.h"

#include "common/core/result.h"

namespace herd::scenario {

// How unquoted scalars map: kStrings keeps them strings except `true` and `false`
// (kubeconfig fields use no other types); kTyped reads them as YAML 1.2's core
// schema does, as kubectl does for manifests (integers, floats, null, booleans).
// Quoted scalars are strings either way.
enum class YamlScalars { kStrings, kTyped };

// Maps, sequences and scalars. An error names `where` and says what yaml-cpp found.
Result<Json> yamlDocumentToJson(std::string_view text, const std::string& where,
                                YamlScalars scalars = YamlScalars::kStrings);

}  // namespace herd::scenario
