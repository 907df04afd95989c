#pragma once
// The run's definition on the wire (proto/herd/v1/agent.proto, Scenario): what a
// coordinator (`herd coordinator`, the operator's) sends every agent in its
// Welcome so the agent compiles exactly the coordinator's plan: the scenario's
// text, the front end's overrides and the grace. The agent decodes it with the
// same compileRun() (common/scenario/run.h) the coordinator used.
#include <string>
#include <vector>

#include "common/core/result.h"
#include "common/scenario/code_report.h"
#include "common/scenario/run.h"
#include "herd/v1/agent.pb.h"

namespace herd::wire {

// `text` and `source_name` are what `run` was compiled from with `overrides`.
v1::Scenario encodeRun(const std::string& text, const std::string& source_name,
                       const scenario::CompileOptions& overrides, const scenario::CompiledRun& run);

// The run as the coordinator compiled it; an Error when it does not compile here
// (a different herd version, a data file missing on this machine, a C++ class's
// library whose SHA-256 differs from the coordinator's). `load_code` false
// leaves C++ classes unloaded (the fuzz target: no dlopen of what it makes up).
Result<scenario::CompiledRun> decodeRun(const v1::Scenario& message, bool load_code = true);

// The C++ classes an agent bound (scenario/code_report.h), in its Ready.
void encodeCode(const scenario::Plan& plan, v1::Ready& out);
// What a Ready says an agent bound; an Error for a message beyond the bounds
// (1000 classes, 10,000 endpoints or checks a class, names up to 1 KiB).
Result<std::vector<scenario::BoundClass>> decodeCode(const v1::Ready& in);

}  // namespace herd::wire
