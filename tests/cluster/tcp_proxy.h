#pragma once
// A TCP forwarder on loopback standing in for a Kubernetes Service in front of
// the leading operator: each accepted connection goes to the backend port
// pick() names at that moment (the replica that leads), or is closed at once
// when it names none, as a Service without endpoints refuses.
#include <atomic>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

namespace herd::k8s::testing {

class TcpProxy {
 public:
  // pick() returns a port on 127.0.0.1, or 0 for none.
  explicit TcpProxy(std::function<int()> pick);
  ~TcpProxy();  // closes the listener and every forwarded connection
  TcpProxy(const TcpProxy&) = delete;
  TcpProxy& operator=(const TcpProxy&) = delete;

  int port() const { return port_; }
  int forwarded() const { return forwarded_.load(); }  // connections that reached a backend
  // Breaks every connection made so far (both sides see it closed).
  void closeAll() { ++generation_; }

 private:
  void acceptLoop();
  void pump(int client, int backend, int generation);

  std::function<int()> pick_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> forwarded_{0};
  std::atomic<int> generation_{0};
  std::mutex mu_;
  std::vector<std::thread> pumps_;
  std::thread acceptor_;
};

}  // namespace herd::k8s::testing
