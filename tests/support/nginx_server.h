#pragma once
// A real nginx on loopback for tests: the HTTP target whose own access log and
// stub_status prove that nothing the engine sent was lost or counted twice.
//
// start() renders tests/fixtures/nginx/nginx.conf.tmpl (the same template
// tests/fixtures/nginx/nginx_server.py renders) into a fresh temporary
// directory, generates a self-signed certificate with the openssl CLI (SAN
// IP:127.0.0.1, IP:::1, DNS:localhost), picks free loopback ports and runs
// /usr/sbin/nginx in the foreground as a child process. The destructor stops
// it (SIGTERM, then SIGKILL to its process group after a bounded wait), reaps
// it and removes the directory. If the test process dies first, the kernel
// sends nginx SIGTERM (PR_SET_PDEATHSIG), so no server outlives a crashed test.
// Set HERD_KEEP_NGINX_DIR=1 to keep the directory (config, logs) for debugging.
//
// Not thread-safe; one object per server.
#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/core/result.h"

namespace herd::test_support {

// One line of the access log (format: $request_method $uri $status $body_bytes_sent).
struct AccessLogEntry {
  std::string method;
  std::string uri;
  int status = 0;
  uint64_t body_bytes = 0;
};

// nginx's stub_status counters (connections and requests since start).
struct StubStatus {
  int64_t active = 0;
  int64_t accepts = 0;
  int64_t handled = 0;
  int64_t requests = 0;
  int64_t reading = 0;
  int64_t writing = 0;
  int64_t waiting = 0;
};

class NginxServer {
 public:
  struct Options {
    std::filesystem::path template_path = HERD_NGINX_TEMPLATE;  // set by CMake
    std::filesystem::path nginx = "/usr/sbin/nginx";
    int attempts = 5;  // fresh ports per attempt, in case another process took ours
    std::chrono::milliseconds start_timeout{10000};
  };

  static Result<std::unique_ptr<NginxServer>> start() { return start(Options{}); }
  static Result<std::unique_ptr<NginxServer>> start(const Options& options);
  ~NginxServer();
  NginxServer(const NginxServer&) = delete;
  NginxServer& operator=(const NginxServer&) = delete;

  uint16_t port() const { return port_; }
  uint16_t tlsPort() const { return tls_port_; }
  pid_t pid() const { return pid_; }
  std::string url(std::string_view path = "") const;     // http://127.0.0.1:PORT + path
  std::string tlsUrl(std::string_view path = "") const;  // https://127.0.0.1:TLS_PORT + path
  const std::filesystem::path& dir() const { return dir_; }
  std::filesystem::path certFile() const { return dir_ / "server.crt"; }  // also its own CA
  std::filesystem::path accessLogPath() const { return dir_ / "access.log"; }
  std::filesystem::path bigFile() const { return dir_ / "root" / "big.bin"; }

  // The access log as it is now. nginx writes a line right after it sent the
  // response, so a client can see its last response a moment before the line
  // exists: compare counts through waitForAccessLogCount().
  std::vector<AccessLogEntry> accessLog() const;
  int64_t requestCountFromAccessLog() const;
  int64_t requestCountFromAccessLog(std::string_view uri) const;
  std::map<std::string, int64_t> requestCountsByUri() const;
  // Polls the log until it has at least `expected` lines (for `uri` when not
  // empty) or `timeout` passes; returns the last count seen.
  int64_t waitForAccessLogCount(int64_t expected, std::string_view uri = "",
                                std::chrono::milliseconds timeout = std::chrono::seconds(5)) const;

  // GET /status over a blocking socket. This request is itself counted by
  // nginx (stub_status's requests and the access log's /status lines).
  Result<StubStatus> stubStatus() const;

 private:
  NginxServer() = default;
  Status launch(const Options& options);
  void stop();

  std::filesystem::path dir_;
  uint16_t port_ = 0;
  uint16_t tls_port_ = 0;
  pid_t pid_ = -1;
};

}  // namespace herd::test_support
