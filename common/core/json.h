#pragma once
// The project's JSON type. nlohmann-json is the vocabulary of the Kubernetes API
// and of summary.json, so many folders use JSON values in their headers; they all
// reach the library through this header, which is the one place to change it.
#include <nlohmann/json.hpp>

namespace herd {

using Json = nlohmann::json;

}  // namespace herd
