// A run's definition arrives in every agent's Welcome. Whatever the bytes,
// decoding gives an Error or a run; a run re-encodes to a message that decodes
// to the same run (what the agent compiles is what the coordinator compiled),
// never a crash.
#include <cstddef>
#include <cstdint>
#include <cstdlib>

#include "common/wire/run_codec.h"
#include "herd/v1/agent.pb.h"

namespace {

// The overrides the message carries, as a front end would have given them.
herd::scenario::CompileOptions overridesOf(const herd::v1::Scenario& s) {
  herd::scenario::CompileOptions out;
  out.params.insert(s.params().begin(), s.params().end());
  if (!s.target().empty()) out.target = s.target();
  if (s.users() > 0) out.users = s.users();
  if (s.spawn_rate() > 0) out.spawn_rate = s.spawn_rate();
  if (s.duration_nanos() > 0) out.duration = herd::scenario::Duration(s.duration_nanos());
  return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  herd::v1::Scenario message;
  if (!message.ParseFromArray(data, static_cast<int>(size))) return 0;
  auto run = herd::wire::decodeRun(message, false);
  if (!run.ok()) return 0;
  if (run->total_users < 0 || run->grace.count() <= 0) std::abort();
  const auto again = herd::wire::encodeRun(message.yaml(), message.source_name(), overridesOf(message), *run);
  auto round = herd::wire::decodeRun(again, false);
  if (!round.ok()) std::abort();
  if (round->total_users != run->total_users || round->grace != run->grace ||
      round->plan.load.duration != run->plan.load.duration || round->thresholds.size() != run->thresholds.size())
    std::abort();
  return 0;
}
