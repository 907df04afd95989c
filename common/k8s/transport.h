#pragma once
// The boundary between the Kubernetes client and an HTTP library: one request
// and its response, or one request whose body is read as it arrives (watches).
// The cpprestsdk implementation (rest_transport.cc) is the only code that sees
// that library; tests may plug in another Transport.
#include <chrono>
#include <memory>
#include <string>

#include "common/core/result.h"

namespace herd::k8s {

struct HttpRequest {
  std::string method;        // GET, POST, PUT, PATCH, DELETE
  std::string path_query;    // "/api/v1/namespaces/a/pods?limit=5", already encoded
  std::string body;          // empty: no body
  std::string content_type;  // set with body
};

struct HttpResponse {
  int status = 0;
  std::string body;
};

// A response body being received. read() blocks until some bytes arrive and
// returns them; it returns "" once the server has ended the body. cancel() may
// be called from another thread and makes a blocked read() return promptly.
class BodyStream {
 public:
  virtual ~BodyStream() = default;
  virtual Result<std::string> read() = 0;
  virtual void cancel() = 0;
};

struct StreamResponse {
  int status = 0;
  std::unique_ptr<BodyStream> body;
};

class Transport {
 public:
  virtual ~Transport() = default;
  // Sends the request and reads the whole response. An Error means no HTTP
  // response arrived (connection, TLS, timeout); any status is a response.
  virtual Result<HttpResponse> send(const HttpRequest& request) = 0;
  // Sends the request and returns once the status and headers have arrived.
  // `idle_timeout` bounds the silence between two reads of the body.
  virtual Result<StreamResponse> stream(const HttpRequest& request, std::chrono::seconds idle_timeout) = 0;
  // Where requests go, for error messages: "https://127.0.0.1:6443".
  virtual std::string server() const = 0;
};

struct Config;
// The cpprestsdk transport. Fails when the configuration's PEM data is unusable.
Result<std::unique_ptr<Transport>> makeRestTransport(const Config& config);

}  // namespace herd::k8s
