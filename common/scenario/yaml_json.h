#pragma once
// A YAML document as JSON, for configuration files that are not scenarios (the
// operator reads kubeconfigs with it). It lives here because yaml-cpp lives in
// this folder only (swapping a library touches one folder).
#include <string>
#include <string_view>

#include "common/core/json.h"

#include "common/core/result.h"

namespace herd::scenario {

// Maps, sequences and scalars; scalars stay strings except plain `true` and
// `false`, which become booleans (kubeconfig fields use no other types). An error
// names `where` and says what yaml-cpp found.
Result<Json> yamlDocumentToJson(std::string_view text, const std::string& where);

}  // namespace herd::scenario
