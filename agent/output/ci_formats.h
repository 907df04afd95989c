#pragma once
// What a CI job shows of a run, from its summary.json (so `herd run` and
// `herd k8s run` write the same): a JUnit XML report — one test case per
// threshold and per check, a failure carrying the measured value and the bound —
// for the CI's test tab, and a markdown summary for the job's page.
#include <string>
#include <string_view>

#include "common/core/json.h"

namespace herd::output {

std::string junitXml(const Json& summary);
std::string markdownSummary(const Json& summary);

// Text safe in XML character data and attribute values.
std::string xmlEscape(std::string_view text);

}  // namespace herd::output
