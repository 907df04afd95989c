#include "operator/controller/coordinator.h"

namespace herd::controller {

namespace {

class UnavailableCoordinator final : public RunCoordinator {
 public:
  explicit UnavailableCoordinator(std::string advertise) : advertise_(std::move(advertise)) {}
  Status startRun(const RunRequest& request) override {
    return Error{"this herd-operator build has no distributed coordinator yet, so run " + request.run_id +
                     " cannot be carried out",
                 ""};
  }
  std::optional<RunProgress> progress(const std::string&) override { return std::nullopt; }
  Status setExpectedAgents(const std::string&, int, const std::vector<std::string>&) override { return Ok{}; }
  void stopRun(const std::string&, const std::string&) override {}
  void abortRun(const std::string&, const std::string&) override {}
  void forget(const std::string&) override {}
  std::string agentEndpoint() const override { return advertise_; }

 private:
  std::string advertise_;
};

}  // namespace

std::unique_ptr<RunCoordinator> makeUnavailableCoordinator(std::string advertise) {
  return std::make_unique<UnavailableCoordinator>(std::move(advertise));
}

const char* toString(RunProgress::Verdict verdict) {
  switch (verdict) {
    case RunProgress::Verdict::kPassed: return "Passed";
    case RunProgress::Verdict::kFailed: return "Failed";
    case RunProgress::Verdict::kAborted: return "Aborted";
    case RunProgress::Verdict::kError: return "Aborted";
  }
  return "Aborted";
}

}  // namespace herd::controller
