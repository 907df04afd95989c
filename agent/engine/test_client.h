#pragma once
// Test helpers for HttpConnection tests (not part of herd_engine): a client that
// records every response, request builders and a bounded loop runner.
#include <functional>
#include <string>
#include <string_view>
#include <vector>

#include "agent/engine/http_connection.h"
#include "agent/engine/resolver.h"

namespace herd::engine::test {

// A copy of an HttpResponse that outlives the callback.
struct Recorded {
  stats::ErrorKind error = stats::ErrorKind::kNone;
  int32_t code = 0;
  int status = 0;
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  std::string body;
  MonoTime at;

  bool ok() const { return error == stats::ErrorKind::kNone; }
};

class RecordingClient final : public HttpClient {
 public:
  void onResponse(const HttpResponse& response) override {
    responses.push_back({response.error, response.code, response.status, response.bytes_received, response.bytes_sent,
                         std::string(response.body), MonoClock::now()});
    if (then) then(response);
  }

  std::vector<Recorded> responses;
  std::function<void(const HttpResponse&)> then;  // runs after recording
};

inline std::string request(std::string_view method, std::string_view path, std::string_view body = "",
                           std::string_view host = "127.0.0.1") {
  std::string text = std::string(method) + " " + std::string(path) + " HTTP/1.1\r\nHost: " + std::string(host) +
                     "\r\nUser-Agent: herd-test\r\n";
  if (!body.empty() || method == "POST" || method == "PUT") {
    text += "Content-Type: text/plain\r\nContent-Length: " + std::to_string(body.size()) + "\r\n";
  }
  text += "\r\n";
  text += body;
  return text;
}

inline std::string get(std::string_view path) { return request("GET", path); }

// A target for scheme://host:port whose addresses come from resolve().
inline ConnectionTarget target(std::string scheme, std::string host, uint16_t port,
                               std::shared_ptr<TlsContext> tls = nullptr) {
  ConnectionTarget result;
  result.origin = {std::move(scheme), std::move(host), port};
  auto addresses = resolve(result.origin);
  if (addresses.ok()) result.addresses = *addresses;
  result.tls = std::move(tls);
  return result;
}

// Runs the loop until something calls stop() or `limit` passes. Returns false
// when the limit ended it (the test then failed to finish).
inline bool runFor(EventLoop& loop, std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  bool expired = false;
  Timer guard([&] {
    expired = true;
    loop.stop();
  });
  loop.arm(guard, MonoClock::now() + limit);
  loop.run();
  return !expired;
}

// Runs the loop until `done()` holds, checking it every millisecond, or until
// `limit` passes. Returns done().
inline bool runUntil(EventLoop& loop, const std::function<bool()>& done,
                     std::chrono::milliseconds limit = std::chrono::seconds(30)) {
  Timer* self = nullptr;
  Timer poll([&] {
    if (done()) {
      loop.stop();
      return;
    }
    loop.arm(*self, loop.now() + std::chrono::milliseconds(1));
  });
  self = &poll;
  loop.arm(poll, loop.now());
  runFor(loop, limit);
  return done();
}

}  // namespace herd::engine::test
