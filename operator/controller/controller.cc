#include "operator/controller/controller.h"

#include "common/core/logging.h"

namespace herd::controller {

using json = Json;

Controller::Controller(k8s::Client& client, Reconciler& reconciler, ControllerOptions options)
    : client_(client),
      reconciler_(reconciler),
      options_(std::move(options)),
      queue_(k8s::BackoffPolicy{std::chrono::milliseconds(200), std::chrono::seconds(60)}) {}

Controller::~Controller() { stop(); }

bool Controller::start(std::chrono::milliseconds sync_timeout) {
  std::vector<std::string> namespaces = options_.namespaces;
  if (namespaces.empty()) namespaces.push_back("");  // all
  for (const auto& ns : namespaces) {
    k8s::InformerOptions lt_opts;
    lt_opts.ns = ns;
    auto lts = std::make_unique<k8s::Informer>(client_, kLoadTests, lt_opts);
    lts->addHandlers({[this](const json& o) { queue_.add(k8s::keyOf(o)); },
                      [this](const json&, const json& o) { queue_.add(k8s::keyOf(o)); },
                      [this](const json& o) { queue_.add(k8s::keyOf(o)); }});
    k8s::InformerOptions pod_opts;
    pod_opts.ns = ns;
    pod_opts.label_selector = std::string(kLabelManagedBy) + "=" + kManagedByValue;
    auto pods = std::make_unique<k8s::Informer>(client_, k8s::resources::kPods, pod_opts);
    auto owner = [this](const json& pod) {
      auto lt = k8s::getString(k8s::getObject(k8s::getObject(pod, "metadata"), "labels"), kLabelLoadTest);
      if (!lt.empty()) queue_.add(k8s::makeKey(k8s::namespaceOf(pod), lt));
    };
    pods->addHandlers({owner, [owner](const json&, const json& o) { owner(o); }, owner});
    informers_.push_back(std::move(lts));
    informers_.push_back(std::move(pods));
  }
  for (auto& inf : informers_) inf->start();
  for (auto& inf : informers_)
    if (!inf->waitForSync(sync_timeout)) return false;
  for (int i = 0; i < options_.workers; ++i) workers_.emplace_back([this] { work(); });
  return true;
}

void Controller::stop() {
  queue_.shutDown();
  workers_.clear();  // joins
  for (auto& inf : informers_) inf->stop();
  informers_.clear();
}

void Controller::work() {
  while (auto key = queue_.get()) {
    auto result = reconciler_.reconcile(*key);
    logger("operator")
        ->debug("loadtest={} reconciled: {}", *key,
                result.ok()
                    ? (result->requeue_after ? "requeue " + std::to_string(result->requeue_after->count()) + "ms"
                                             : std::string("done"))
                    : result.error().describe());
    ++reconciles_;
    if (!result.ok()) {
      ++errors_;
      logger("operator")->warn("loadtest={} reconcile failed (retrying): {}", *key, result.error().describe());
      queue_.addRateLimited(*key);
    } else {
      queue_.forget(*key);
      if (result->requeue_after) queue_.addAfter(*key, *result->requeue_after);
    }
    queue_.done(*key);
  }
}

}  // namespace herd::controller
