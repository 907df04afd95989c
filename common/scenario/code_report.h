#pragma once
// C++ classes as an agent bound them, for a process that cannot load their
// libraries: the operator's coordinator compiles a LoadTest without them (its
// image has no user libraries), and takes the endpoints and checks each class
// declares from the first agent that joins (docs/compiled-scenarios.md,
// "Through the operator"). bindCode() (code_library.h) decides how a class's
// declarations are numbered; bindReported() numbers them the same way.
#include <string>
#include <vector>

#include "common/core/result.h"
#include "common/scenario/plan.h"

namespace herd::scenario {

struct BoundClass {
  std::string class_name;  // the scenario's user class
  std::string sha256;      // of the library file the agent loaded
  std::vector<Endpoint> endpoints;
  std::vector<std::string> checks;  // as the plan names them ("buyer: order accepted")
};

// Each class with code of a bound plan, in the plan's class order.
std::vector<BoundClass> boundClasses(const Plan& plan);

// True when `plan` has a class with code that bindCode() has not bound.
bool hasUnboundCode(const Plan& plan);

// Binds an unbound plan from what an agent bound (no library is loaded):
// appends each class's endpoints and checks as bindCode() does and records the
// agent's hashes. An Error, the plan unchanged, when `classes` are not the
// plan's classes with code, in order.
Status bindReported(Plan& plan, const std::vector<BoundClass>& classes);

}  // namespace herd::scenario
