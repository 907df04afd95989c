#pragma once
// Many runs on one listener (the operator runs every LoadTest's coordinator
// behind one gRPC port): each stream goes to the run its Hello names. A Hello
// for a run the hub does not hold is refused (UNKNOWN_RUN), as is one with no
// run id when more than one run is live.
//
// Lifetime: the hub shares ownership of every coordinator it holds, and each
// receive()/disconnected() keeps its own reference for the duration of the
// call, so remove() may race with a stream's message: a coordinator removed and
// released by its owner lives until the last call into it returns. Whatever the
// coordinator refers to (its plan) must live as long: hand the hub an aliasing
// pointer that owns both.
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/coordinator/coordinator.h"

namespace herd::coordinator {

class Hub final : public StreamHandler {
 public:
  void add(const std::string& run_id, std::shared_ptr<Coordinator> coordinator);
  // Streams of the run are forgotten; their later messages are refused (MALFORMED).
  void remove(const std::string& run_id);

  std::shared_ptr<Connection> connect(std::string peer) override;
  void receive(const std::shared_ptr<Connection>& connection, const v1::AgentMessage& message) override;
  void disconnected(const std::shared_ptr<Connection>& connection, const std::string& why) override;

 private:
  std::shared_ptr<Coordinator> route(const std::shared_ptr<Connection>& connection, const v1::AgentMessage& message);

  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<Coordinator>> runs_;
  std::map<const Connection*, std::shared_ptr<Coordinator>> streams_;
};

}  // namespace herd::coordinator
