#include "common/coordinator/hub.h"

#include <fmt/format.h>

#include "common/core/logging.h"

namespace herd::coordinator {

namespace {

void refuse(const std::shared_ptr<Connection>& connection, v1::Refused::Reason reason, const std::string& why) {
  logger("coordinator")->warn("refused {}: {}", connection->peer(), why);
  v1::CoordinatorMessage message;
  message.mutable_refused()->set_reason(reason);
  message.mutable_refused()->set_message(why);
  connection->push(std::move(message));
  connection->close();
}

}  // namespace

void Hub::add(const std::string& run_id, std::shared_ptr<Coordinator> coordinator) {
  std::lock_guard lock(mutex_);
  runs_[run_id] = std::move(coordinator);
}

void Hub::remove(const std::string& run_id) {
  std::lock_guard lock(mutex_);
  auto it = runs_.find(run_id);
  if (it == runs_.end()) return;
  std::erase_if(streams_, [&](const auto& entry) { return entry.second == it->second; });
  // Destroyed here, or by the last receive()/disconnected() still inside it.
  runs_.erase(it);
}

std::shared_ptr<Connection> Hub::connect(std::string peer) { return std::make_shared<Connection>(std::move(peer)); }

// The coordinator a stream belongs to; a Hello decides it (under mutex_).
std::shared_ptr<Coordinator> Hub::route(const std::shared_ptr<Connection>& connection,
                                        const v1::AgentMessage& message) {
  if (auto it = streams_.find(connection.get()); it != streams_.end()) return it->second;
  if (!message.has_hello()) {
    refuse(connection, v1::Refused::MALFORMED, "the first message on a stream must be Hello");
    return nullptr;
  }
  const auto& run_id = message.hello().run_id();
  std::shared_ptr<Coordinator> coordinator;
  if (run_id.empty() && runs_.size() == 1) {
    coordinator = runs_.begin()->second;
  } else if (auto it = runs_.find(run_id); it != runs_.end()) {
    coordinator = it->second;
  }
  if (!coordinator) {
    refuse(connection, v1::Refused::UNKNOWN_RUN,
           run_id.empty() ? fmt::format("no run id, and this coordinator serves {} runs", runs_.size())
                          : fmt::format("unknown run \"{}\"", run_id.substr(0, 100)));
    return nullptr;
  }
  streams_[connection.get()] = coordinator;
  return coordinator;
}

void Hub::receive(const std::shared_ptr<Connection>& connection, const v1::AgentMessage& message) {
  std::shared_ptr<Coordinator> coordinator;  // a reference of our own: remove() may run meanwhile
  {
    std::lock_guard lock(mutex_);
    coordinator = route(connection, message);
  }
  // Outside the hub's lock: the coordinator takes its own (it may wait on it).
  if (coordinator) coordinator->receive(connection, message);
}

void Hub::disconnected(const std::shared_ptr<Connection>& connection, const std::string& why) {
  std::shared_ptr<Coordinator> coordinator;
  {
    std::lock_guard lock(mutex_);
    if (auto it = streams_.find(connection.get()); it != streams_.end()) {
      coordinator = std::move(it->second);
      streams_.erase(it);
    }
  }
  if (coordinator) coordinator->disconnected(connection, why);
  else connection->close();
}

}  // namespace herd::coordinator
