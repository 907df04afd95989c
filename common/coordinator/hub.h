#pragma once
// Many runs on one listener (the operator runs every LoadTest's coordinator
// behind one gRPC port): each stream goes to the run its Hello names. A Hello
// for a run the hub does not hold is refused (UNKNOWN_RUN), as is one with no
// run id when more than one run is live.
#include <map>
#include <memory>
#include <mutex>
#include <string>

#include "common/coordinator/coordinator.h"

namespace herd::coordinator {

class Hub final : public StreamHandler {
 public:
  // The coordinator must outlive its registration (remove() before destroying it).
  void add(const std::string& run_id, Coordinator& coordinator);
  void remove(const std::string& run_id);

  std::shared_ptr<Connection> connect(std::string peer) override;
  void receive(const std::shared_ptr<Connection>& connection, const v1::AgentMessage& message) override;
  void disconnected(const std::shared_ptr<Connection>& connection, const std::string& why) override;

 private:
  Coordinator* route(const std::shared_ptr<Connection>& connection, const v1::AgentMessage& message);

  std::mutex mutex_;
  std::map<std::string, Coordinator*> runs_;
  std::map<const Connection*, Coordinator*> streams_;
};

}  // namespace herd::coordinator
