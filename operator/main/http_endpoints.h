#pragma once
// herd-operator's plain-HTTP endpoints: /healthz and /readyz on --health-listen,
// /metrics (Prometheus text format) on --metrics-listen. Tiny on purpose: one
// thread, one short request per connection, nothing else served.
#include <functional>
#include <memory>
#include <string>

#include "common/core/result.h"

namespace herd::operator_main {

// Path → (status, body); an unknown path gets 404.
using Handler = std::function<std::pair<int, std::string>(const std::string& path)>;

class HttpEndpoints {
 public:
  virtual ~HttpEndpoints() = default;
  virtual int port() const = 0;  // the bound port (useful with :0)
};

// Listens on "HOST:PORT" (port 0 picks a free one) and serves until destroyed.
Result<std::unique_ptr<HttpEndpoints>> serveHttp(const std::string& listen, Handler handler);

}  // namespace herd::operator_main
