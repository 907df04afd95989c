#pragma once
// The scenario compiler: YAML text → validated, immutable Plan (plan.h). One compiler
// for the CLI, the operator and the agent, so a scenario that validates anywhere
// runs everywhere. Errors carry where = "FILE:LINE:COL" (1-based) and a message
// starting with the field path ("users[0].steps[2].think: ..."); compile*() never
// throws, whatever the input. The language is described in docs/scenario.md.
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "common/core/result.h"
#include "common/scenario/plan.h"

namespace herd::scenario {

// How a front end names the overrides, so an error about one says what its user
// wrote: `--users` for the command line, `spec.load.users` for a LoadTest.
struct FieldNames {
  std::string users = "--users";
  std::string spawn_rate = "--spawn-rate";
  std::string duration = "--duration";
  std::string target = "--target";
  std::string agents = "--expect-agents";
  std::string thresholds = "--threshold";
  std::string loss_policy = "--agent-loss";
  std::string grace = "--grace";
};
inline const FieldNames kCommandLineFields{};
inline const FieldNames kLoadTestFields{"spec.load.users", "spec.load.spawnRate", "spec.load.duration",   "spec.target",
                                        "spec.agents",     "spec.thresholds",     "spec.agentLossPolicy", "stop.grace"};

// The most users a run may have, as the LoadTest schema (crds/loadtest.yaml) says,
// so `herd validate` refuses what the apiserver would.
inline constexpr int64_t kMaxUsers = 10'000'000;

// Command-line (or LoadTest spec) overrides, applied on top of the file.
struct CompileOptions {
  // -p key=value: overrides a declared param or adds a new one (like k6's env); the
  // value is checked wherever the param is used, e.g. as a number.
  std::map<std::string, std::string> params;
  std::optional<std::string> target;  // --target URL, replaces the scenario's target
  std::optional<int64_t> users;       // --users
  std::optional<double> spawn_rate;   // --spawn-rate, users per second
  std::optional<Duration> duration;   // --duration
  // This agent's share of the run's `unique` data rows (0 <= index < count); a
  // distributed run gives each agent its own index.
  int64_t shard_index = 0;
  int64_t shard_count = 1;
  FieldNames names;  // what errors about the overrides call them
};

Result<Plan> compileFile(const std::string& path, const CompileOptions& options = {});
Result<Plan> compileString(std::string_view yaml, const std::string& source_name, const CompileOptions& options = {});

// "250ms", "2s", "1.5m", "1h", "1m30s". A unit is required; negative values and
// values beyond ~292 years (nanoseconds in int64) are errors.
Result<Duration> parseDuration(std::string_view text);

// The shortest text parseDuration() reads back as the same value: "1m30s", "250ms".
std::string formatDuration(Duration duration);

// "http://host[:port][/]" (http or https; IPv6 hosts in brackets). A path beyond "/",
// a query, a fragment or user:password@ is an error.
Result<Origin> parseOrigin(std::string_view url);

// An absolute URL split into its origin and the rest ("/" when there is none), e.g.
// "https://api.example.com/v1/items?x=1" → {https, api.example.com, 443}, "/v1/items?x=1".
struct Url {
  Origin origin;
  std::string path;  // path and query, starting with '/'
};
Result<Url> splitUrl(std::string_view url);

}  // namespace herd::scenario
