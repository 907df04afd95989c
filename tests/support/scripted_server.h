#pragma once
// A raw TCP server on 127.0.0.1, run by its own thread, for the misbehaving
// servers nginx cannot play: responses cut short, resets, the keep-alive race,
// malformed framing, a server that reads a large upload slowly.
//
// Each accepted connection reads requests (the header section, then a body of
// Content-Length bytes) and asks the handler what to send back. The handler
// runs on the server's thread; it gets the connection's index (in accept
// order), the request's index on that connection and the request's text.
#include <atomic>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <thread>

#include "common/core/result.h"

namespace herd::test_support {

struct ScriptedReply {
  enum class Then {
    kKeepOpen,  // wait for the next request (with no bytes: never answer)
    kClose,     // close after writing (FIN)
    kReset,     // reset after writing (RST, via SO_LINGER 0)
  };
  std::string bytes;  // written as they are (may be empty)
  Then then = Then::kKeepOpen;
};

class ScriptedServer {
 public:
  using Handler = std::function<ScriptedReply(int connection, int request, std::string_view text)>;

  static Result<std::unique_ptr<ScriptedServer>> start(Handler handler);
  ~ScriptedServer();  // stops the thread, joins it and closes every socket
  ScriptedServer(const ScriptedServer&) = delete;
  ScriptedServer& operator=(const ScriptedServer&) = delete;

  uint16_t port() const { return port_; }
  int connections() const { return connections_.load(); }  // accepted so far
  int requests() const { return requests_.load(); }        // handed to the handler so far

 private:
  struct Client;

  explicit ScriptedServer(Handler handler) : handler_(std::move(handler)) {}
  void serve();
  // Handles the complete requests buffered for `client`; false once it is closed.
  bool answer(Client& client);

  Handler handler_;
  int listen_fd_ = -1;
  int wake_fds_[2] = {-1, -1};  // a pipe: writing to [1] stops serve()
  uint16_t port_ = 0;
  std::atomic<int> connections_{0};
  std::atomic<int> requests_{0};
  std::thread thread_;
};

// A reply for the common case: status 200, the given body, keep-alive.
std::string okResponse(std::string_view body = "ok\n");

}  // namespace herd::test_support
