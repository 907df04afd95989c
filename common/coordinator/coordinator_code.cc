// C++ classes in a distributed run (docs/compiled-scenarios.md): every agent
// runs the same library files, by their SHA-256. The run's hash of a class is
// the coordinator's own file's, else the one the scenario pins, else (the
// operator, which loads no library) the first agent's to say Ready. A
// coordinator that could not bind the classes numbers their endpoints and
// checks from that agent's Ready too.
#include <fmt/format.h>

#include "common/coordinator/agent_record.h"
#include "common/coordinator/coordinator.h"
#include "common/core/logging.h"
#include "common/scenario/code_report.h"
#include "common/wire/run_codec.h"

namespace herd::coordinator {

const scenario::Plan& Coordinator::plan() const {
  std::lock_guard lock(mutex_);
  return *plan_;
}

bool Coordinator::invalidInput() const {
  std::lock_guard lock(mutex_);
  return fatal_invalid_input_;
}

void Coordinator::refuseCode(Agent& agent, const std::string& why) {
  if (agent.connection) {
    const auto connection = agent.connection;
    refuse(connection, v1::Refused::CODE_MISMATCH, why);
    agent.connection.reset();
  }
  onFatal(agent, fmt::format("agent {}: {}", agent.id, why), true);
}

bool Coordinator::sameCode(Agent& agent, const v1::Ready& ready) {
  if (run_sha256_.empty()) return true;  // no C++ classes
  auto reported = wire::decodeCode(ready);
  if (!reported) {
    refuseCode(agent, reported.error().describe());
    return false;
  }
  if (reported->size() != run_sha256_.size()) {
    refuseCode(agent, fmt::format("it bound {} C++ class(es), the scenario has {}: run the same herd everywhere",
                                  reported->size(), run_sha256_.size()));
    return false;
  }
  size_t i = 0;
  for (const auto& user_class : plan_->classes) {
    if (!user_class.code) continue;
    const auto& code = *user_class.code;
    const auto& theirs = (*reported)[i];
    if (theirs.class_name != user_class.name) {
      refuseCode(agent, fmt::format("{}: it bound class \"{}\" where the scenario has \"{}\"", code.place,
                                    theirs.class_name.substr(0, 64), user_class.name));
      return false;
    }
    if (!run_sha256_[i].empty() && theirs.sha256 != run_sha256_[i]) {
      refuseCode(agent, fmt::format("{}: {}.library: {} on this agent has SHA-256 {}, the run's is {} ({}): run the "
                                    "same file everywhere",
                                    code.place, code.field, code.path, theirs.sha256.substr(0, 64), run_sha256_[i],
                                    sha256_source_[i]));
      return false;
    }
    ++i;
  }
  if (!bound_plan_ && scenario::hasUnboundCode(*plan_)) {
    // Before any report: reports follow Ready on every stream.
    auto bound = std::make_unique<scenario::Plan>(*plan_);
    if (auto done = scenario::bindReported(*bound, *reported); !done) {
      refuseCode(agent, done.error().describe());
      return false;
    }
    bound_plan_ = std::move(bound);
    plan_ = bound_plan_.get();
    aggregate_ = report::RunAggregate(plan_->endpoints.size());
    held_.clear();
    logger("coordinator")
        ->info("run {}: C++ classes' endpoints and checks as agent {} bound them ({} endpoints in all)",
               options_.run_id, agent.id, plan_->endpoints.size());
  }
  for (i = 0; i < run_sha256_.size(); ++i) {
    if (!run_sha256_[i].empty()) continue;
    run_sha256_[i] = (*reported)[i].sha256;
    sha256_source_[i] = fmt::format("agent {}'s, the first to join", agent.id);
    logger("coordinator")
        ->info("run {}: the run's library for class {} is SHA-256 {} (agent {}, the first to join)", options_.run_id,
               (*reported)[i].class_name, run_sha256_[i], agent.id);
  }
  return true;
}

}  // namespace herd::coordinator
