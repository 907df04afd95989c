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

void walk(const Plan& plan, const std::vector<Step>& steps, herd::Rng& rng, int depth = 0) {
  if (depth > 200) __builtin_trap();  // the compiler bounds nesting
  std::string out;
  const std::vector<std::string> variables(plan.variables.size(), "v a\r\n\"");
  const RenderContext context{12345, "fuzz", rng, &variables};
  for (const auto& step : steps) {
    if (const auto* loop = std::get_if<LoopStep>(&step)) {
      if (loop->kind == LoopStep::Kind::kOver && loop->variable >= plan.variables.size()) __builtin_trap();
      walk(plan, loop->body->steps, rng, depth + 1);
      continue;
    }
    if (const auto* branch = std::get_if<IfStep>(&step)) {
      walk(plan, branch->then_steps->steps, rng, depth + 1);
      walk(plan, branch->else_steps->steps, rng, depth + 1);
      continue;
    }
    if (const auto* fork = std::get_if<ParallelStep>(&step)) {
      for (const auto& block : fork->branches) walk(plan, block->steps, rng, depth + 1);
      continue;
    }
    if (const auto* feed = std::get_if<FeedStep>(&step)) {
      if (feed->source >= plan.data.size()) __builtin_trap();
      continue;
    }
    const auto* request = std::get_if<RequestStep>(&step);
    if (request == nullptr) continue;
    // Every index the engine follows must be in range.
    if (request->origin >= plan.origins.size() || request->endpoint >= plan.endpoints.size()) __builtin_trap();
    for (const auto& capture : request->captures) {
      if (capture.variable >= plan.variables.size()) __builtin_trap();
      if (capture.kind == Capture::Kind::kRegex && capture.regex >= plan.regexes.size()) __builtin_trap();
    }
    if (request->delivery) {
      const auto& d = *request->delivery;
      if (d.stream >= plan.streams.size() || d.topics_variable >= plan.variables.size()) __builtin_trap();
      if (d.cohort > 0 && (d.member_variable >= plan.variables.size() || d.topics.size() != 1)) __builtin_trap();
    }
    for (const auto& c : request->checks) {
      if (c.id >= plan.checks.size()) __builtin_trap();
    }
    out.clear();
    renderTemplate(request->path, context, out);
    if (out.empty() || out[0] != '/') __builtin_trap();
    // A captured value cannot break the request line or a header line.
    if (out.find_first_of(" \r\n") != std::string::npos) __builtin_trap();
    for (const auto& header : request->headers) {
      out.clear();
      renderTemplate(header.value, context, out);
      if (out.find_first_of("\r\n") != std::string::npos) __builtin_trap();
    }
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
    walk(*plan, cls.on_stop, rng);
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
