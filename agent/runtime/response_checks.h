#pragma once
// What a request step does with its response once it arrived: the cookie jar
// takes its Set-Cookie fields, checks decide whether it failed, captures fill
// the user's variables.
#include <cstdint>
#include <string>
#include <vector>

#include "agent/engine/http_connection.h"
#include "agent/runtime/cookie_jar.h"
#include "common/scenario/extract.h"
#include "common/scenario/plan.h"
#include "common/scenario/template.h"
#include "common/stats/error_kind.h"

namespace herd::runtime {

struct Outcome {
  stats::ErrorKind error = stats::ErrorKind::kNone;
  int32_t code = 0;  // the HTTP status for kStatus, the check id for kCheck, errno for kConnect/kReset
};

struct ResponseContext {
  scenario::ResponseReader& reader;
  const scenario::RenderContext& render;  // for expected values that hold templates
  std::vector<std::string>& variables;
  CookieJar* cookies;  // null when the plan has no cookie jar
  std::string_view host;
  std::string& scratch;
};

// Classifies the response: a transport error as the engine reported it; a status
// outside the step's status check (or >= 400 without one) as kCheck (kStatus);
// the first other check that does not hold as kCheck. Then runs the captures (a
// capture that finds nothing sets its variable to "").
Outcome inspectResponse(const scenario::RequestStep& step, const engine::HttpResponse& response,
                        ResponseContext& context);

// A `grpc:` step's response (grpc_response.cc): a grpc-status other than OK
// as kGrpc with its code, the deadline as kGrpc DEADLINE_EXCEEDED, malformed
// frames as kProtocol; then inspectResponse() on the messages as JSON.
Outcome inspectGrpcResponse(const scenario::RequestStep& step, const engine::HttpResponse& response,
                            ResponseContext& context);

}  // namespace herd::runtime
