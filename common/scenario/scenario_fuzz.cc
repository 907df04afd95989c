// libFuzzer target: arbitrary bytes must compile or fail with an Error, never
// crash, hang or leak (ASan/UBSan are on in the fuzz build), and a compiled plan
// must be safe for the engine to walk and render.
//   scenario_fuzz CORPUS_DIR tests/scenarios/valid tests/scenarios/invalid \
//       -dict=tests/scenarios/scenario.dict
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/scenario/compiler.h"
#include "common/scenario/template.h"

namespace {

using namespace herd::scenario;

void walk(const Plan& plan, const std::vector<Step>& steps, herd::Rng& rng) {
  std::string out;
  const RenderContext context{12345, "fuzz", rng};
  for (const auto& step : steps) {
    const auto* request = std::get_if<RequestStep>(&step);
    if (request == nullptr) continue;
    // Every index the engine follows must be in range.
    if (request->origin >= plan.origins.size() || request->endpoint >= plan.endpoints.size()) __builtin_trap();
    out.clear();
    renderTemplate(request->path, context, out);
    if (out.empty() || out[0] != '/') __builtin_trap();
    for (const auto& header : request->headers) renderTemplate(header.value, context, out);
    if (request->body) renderTemplate(*request->body, context, out);
  }
}

void check(const herd::Result<Plan>& plan) {
  if (!plan.ok()) {
    (void)plan.error().describe();
    return;
  }
  herd::Rng rng(1);
  for (const auto& cls : plan->classes) {
    walk(*plan, cls.on_start, rng);
    walk(*plan, cls.steps, rng);
    for (const auto& task : cls.tasks) walk(*plan, task.steps, rng);
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string_view yaml(reinterpret_cast<const char*>(data), size);
  check(compileString(yaml, "fuzz.yaml"));
  // With flags too, so inputs without a target or load still reach users and steps.
  CompileOptions options;
  options.target = "http://127.0.0.1:8080";
  options.users = 3;
  options.duration = std::chrono::seconds(1);
  options.params = {{"n", "5"}};
  check(compileString(yaml, "fuzz.yaml", options));
  return 0;
}
