#pragma once
// A deliberately small HTTP/1.1 server for `--metrics-listen`: one thread, one
// connection at a time, `GET /metrics` answered with the latest published text
// (Prometheus exposition), then the connection is closed. Every read and write
// has a timeout and requests are size-capped, so a slow or hostile client can
// hold it for at most a few seconds. Not for load: a scraper asks once in a while.
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>

#include "common/core/result.h"

namespace herd::metrics {

class MetricsServer {
 public:
  // Listens on HOST:PORT ("127.0.0.1:9464", "[::1]:0", ":9464" for every
  // interface; port 0 picks a free one) and starts serving.
  static Result<std::unique_ptr<MetricsServer>> start(std::string_view host_port);
  ~MetricsServer();  // stops and joins
  MetricsServer(const MetricsServer&) = delete;
  MetricsServer& operator=(const MetricsServer&) = delete;

  // Replaces what GET /metrics returns.
  void publish(std::string text);
  // The bound address as HOST:PORT (IPv6 in brackets), with the real port.
  const std::string& address() const { return address_; }
  void stop();

 private:
  MetricsServer(int fd, std::string address);
  void serve();
  void answer(int client);

  int listen_fd_;
  std::string address_;
  std::atomic<bool> stopping_{false};
  std::mutex mutex_;  // guards text_; taken once a second by publish, once per scrape
  std::string text_;
  std::thread thread_;
};

// Splits "HOST:PORT" / "[V6]:PORT" / ":PORT"; errors name what is wrong.
struct HostPort {
  std::string host;  // empty: every interface
  uint16_t port = 0;
};
Result<HostPort> parseHostPort(std::string_view text);

}  // namespace herd::metrics
