#pragma once
// Loading the C++ user classes a scenario names (`code: {library, class}`), as
// docs/compiled-scenarios.md describes: dlopen the library, check that it was
// built for this herd (API version and build fingerprint), find each class, and
// append the endpoints and checks the class declares to the plan, in the
// library's order, so every process that binds the same file numbers them alike.
// A library is loaded once per process and stays loaded while a plan uses it.
#include <string>

#include "common/core/result.h"
#include "common/scenario/plan.h"

namespace herd::scenario {

// Binds every class of `plan` that has `code`; a plan without one is left as it
// is. Errors (exit 2 at the front end) point at the class's `code:` entry.
Status bindCode(Plan& plan);

// What this herd's API version and build fingerprint are, as a library's must be:
// "API 2, gcc 12.2.0; libstdc++ 12 (20230528, cxx11 abi 1); C++ 202002L".
std::string hostBuild();

}  // namespace herd::scenario
