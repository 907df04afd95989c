// Reports arrive from agents over the network. Whatever the bytes, decoding
// must give an Error or stats that merge, summarise and re-encode to the same
// thing, never a crash (the coordinator merges them into the run's aggregate);
// the same for the pub/sub delivery records the last reports carry. A Ready's
// C++ classes decode to an Error or bind a plan (the operator's coordinator
// binds its plan from an agent's) whose endpoints are the agent's.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/report/aggregate.h"
#include "common/scenario/compiler.h"
#include "common/wire/run_codec.h"
#include "common/wire/stats_codec.h"
#include "herd/v1/agent.pb.h"

namespace {
constexpr size_t kEndpoints = 4;

void bindReady(const herd::v1::Ready& ready) {
  static const auto plan = herd::scenario::compileString(R"(name: f
target: http://127.0.0.1:1
users:
  - {name: u, steps: [{get: /a}]}
  - {name: c, code: {library: ./c.so, class: C}}
load: {users: 2, duration: 1s}
)",
                                                         "f.yaml");
  if (!plan) std::abort();
  auto classes = herd::wire::decodeCode(ready);
  if (!classes) return;
  auto bound = *plan;
  if (!herd::scenario::bindReported(bound, *classes)) {
    if (bound.endpoints.size() != plan->endpoints.size()) std::abort();  // refused: unchanged
    return;
  }
  if (bound.endpoints.size() != plan->endpoints.size() + (*classes)[0].endpoints.size()) std::abort();
}
}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  herd::v1::AgentMessage message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  if (message.has_ready()) bindReady(message.ready());
  if (!message.has_report()) return 0;
  // Delivery records decode to an Error or to a log that judges without overflow.
  herd::stats::DeliveryLog log;
  if (herd::wire::decodeDelivery(message.report().delivery(), 2, log)) {
    const auto judged = herd::stats::judgeDelivery(log, 2, 10'000'000, 4'000'000'000'000'000);
    if (judged.size() != 2 || judged[0].published + judged[1].published != log.published.size()) std::abort();
  }
  auto decoded = herd::wire::decodeStats(message.report().stats(), kEndpoints);
  if (!decoded) return 0;
  herd::report::RunAggregate aggregate(kEndpoints);
  aggregate.add(*decoded);
  aggregate.add(*decoded);
  const auto& second = aggregate.closeSecond(1.0, message.report().users(), message.report().generator_busy());
  if (second.requests != 2 * decoded->requests()) std::abort();
  // What the coordinator decoded re-encodes to stats that decode to the same.
  herd::v1::StatsDelta again;
  herd::wire::encodeStats(*decoded, again);
  auto round = herd::wire::decodeStats(again, kEndpoints);
  if (!round) std::abort();
  if (round->errors() != decoded->errors()) std::abort();
  for (size_t i = 0; i < kEndpoints && i < decoded->endpoints().size(); ++i) {
    const auto& a = round->endpoints()[i];
    const auto& b = decoded->endpoints()[i];
    if (a.requests != b.requests || !(a.latency == b.latency)) std::abort();
  }
  return 0;
}
