#include "common/scenario/code_report.h"

#include <algorithm>

namespace herd::scenario {

namespace {

std::vector<const UserClass*> codeClasses(const Plan& plan) {
  std::vector<const UserClass*> out;
  for (const auto& user_class : plan.classes) {
    if (user_class.code) out.push_back(&user_class);
  }
  return out;
}

}  // namespace

std::vector<BoundClass> boundClasses(const Plan& plan) {
  // bindCode() appends the classes' declarations in class order, so a class's
  // run up to the next one's first (or the plan's end).
  const auto classes = codeClasses(plan);
  std::vector<BoundClass> out;
  for (size_t i = 0; i < classes.size(); ++i) {
    const auto& code = *classes[i]->code;
    const size_t endpoints_end = i + 1 < classes.size() ? classes[i + 1]->code->first_endpoint : plan.endpoints.size();
    const size_t checks_end = i + 1 < classes.size() ? classes[i + 1]->code->first_check : plan.checks.size();
    BoundClass bound{classes[i]->name, code.sha256, {}, {}};
    for (size_t e = code.first_endpoint; e < std::max(endpoints_end, code.first_endpoint); ++e)
      bound.endpoints.push_back(plan.endpoints[e]);
    for (size_t c = code.first_check; c < std::max(checks_end, code.first_check); ++c)
      bound.checks.push_back(plan.checks[c]);
    out.push_back(std::move(bound));
  }
  return out;
}

bool hasUnboundCode(const Plan& plan) {
  const auto classes = codeClasses(plan);
  return std::any_of(classes.begin(), classes.end(), [](const UserClass* c) { return c->code->sha256.empty(); });
}

Status bindReported(Plan& plan, const std::vector<BoundClass>& classes) {
  const auto mine = codeClasses(plan);
  if (mine.size() != classes.size()) {
    return Error{"the agent bound " + std::to_string(classes.size()) + " class(es) with code, the scenario has " +
                     std::to_string(mine.size()),
                 plan.source_file};
  }
  for (size_t i = 0; i < mine.size(); ++i) {
    if (mine[i]->name != classes[i].class_name) {
      return Error{
          "the agent bound class \"" + classes[i].class_name + "\" where the scenario has \"" + mine[i]->name + "\"",
          mine[i]->code->place};
    }
    // An exception is counted against the class's first endpoint: one exists.
    if (classes[i].endpoints.empty()) {
      return Error{"the agent bound class \"" + classes[i].class_name + "\" without endpoints", mine[i]->code->place};
    }
  }
  size_t i = 0;
  for (auto& user_class : plan.classes) {
    if (!user_class.code) continue;
    auto& code = *user_class.code;
    code.sha256 = classes[i].sha256;
    code.first_endpoint = plan.endpoints.size();
    plan.endpoints.insert(plan.endpoints.end(), classes[i].endpoints.begin(), classes[i].endpoints.end());
    code.first_check = plan.checks.size();
    plan.checks.insert(plan.checks.end(), classes[i].checks.begin(), classes[i].checks.end());
    ++i;
  }
  return Ok{};
}

}  // namespace herd::scenario
