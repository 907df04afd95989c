#pragma once
// What a fiber sends its requests through, whatever the protocol: an
// HttpConnection (HTTP/1.1, one request at a time on its own socket) or an
// Http2Exchange (one stream at a time on a connection shared with other users).
// Both take the same serialised HTTP/1.1 request, so the request renderer has
// one output format.
#include <string_view>

#include "common/core/clock.h"

namespace herd::engine {

class RequestChannel {
 public:
  // See HttpConnection::send(): exactly one HttpClient::onResponse() follows,
  // never from inside send().
  virtual void send(std::string_view request_bytes, MonoTime deadline, bool expect_no_body, bool capture_body,
                    bool capture_headers, bool stream_body) = 0;
  // Abandons the request in flight, if any, without a callback.
  virtual void cancel() = 0;

 public:
  virtual ~RequestChannel() = default;
};

}  // namespace herd::engine
