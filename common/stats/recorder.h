#pragma once
// The stats one engine worker records into. Share-nothing: a Recorder belongs to
// one thread and has no atomics or locks; to publish, a worker swaps its recorder
// for an empty one and hands the full one over, where it is merged.
#include <compare>
#include <cstddef>
#include <cstdint>
#include <map>
#include <utility>
#include <vector>

#include "common/stats/error_kind.h"
#include "common/stats/histogram.h"

namespace herd::stats {

// EndpointStats::protocols bits.
constexpr uint8_t kProtocolHttp1 = 1;
constexpr uint8_t kProtocolHttp2 = 2;

// "HTTP/1.1", "HTTP/2", "HTTP/1.1+HTTP/2" (some requests fell back), or "" when
// no response came.
inline const char* protocolName(uint8_t protocols) {
  switch (protocols) {
    case kProtocolHttp1: return "HTTP/1.1";
    case kProtocolHttp2: return "HTTP/2";
    case kProtocolHttp1 | kProtocolHttp2: return "HTTP/1.1+HTTP/2";
    default: return "";
  }
}

struct EndpointStats {
  uint64_t requests = 0;
  uint64_t failures = 0;  // requests that ended with an ErrorKind other than kNone
  uint64_t bytes_received = 0;
  uint64_t bytes_sent = 0;
  Histogram latency;      // every request, failed ones included (as Locust does)
  uint8_t protocols = 0;  // the HTTP versions that answered: kProtocolHttp1 | kProtocolHttp2

  void merge(const EndpointStats& other);
  void reset();
  bool operator==(const EndpointStats&) const = default;
};

struct ErrorKey {
  uint32_t endpoint;  // the scenario compiler's endpoint index
  ErrorKind kind;
  int32_t code;  // HTTP status for kStatus, errno for kConnect/kReset, else 0

  auto operator<=>(const ErrorKey&) const = default;
};

// Few distinct keys per run; once a key exists, counting it does not allocate.
using ErrorCounts = std::map<ErrorKey, uint64_t>;

class Recorder {
 public:
  // Endpoint indexes 0..endpoint_count-1 come from the scenario compiler. An
  // empty recorder (the default) is a fine merge target: it grows as it merges.
  explicit Recorder(size_t endpoint_count = 0) : endpoints_(endpoint_count) {}

  // One finished request (or attempt). Bytes count whatever the outcome.
  // An endpoint index past the current count grows the recorder (allocating
  // once) rather than writing out of bounds.
  void recordRequest(size_t endpoint, uint64_t latency_ns, uint64_t bytes_received, uint64_t bytes_sent,
                     ErrorKind error, int32_t code = 0);

  // A failure that is not a request's (an exception thrown by C++ user code):
  // counted in the errors only, with the endpoint it happened after.
  void recordError(size_t endpoint, ErrorKind error, int32_t code);

  // A response to a request of `endpoint` came over HTTP/`http_version` (1 or 2).
  void recordProtocol(size_t endpoint, uint8_t http_version);

  // Adds `other` in; the endpoint list grows to the larger of the two.
  void merge(const Recorder& other);
  // For a decoder that adds an interval in place (common/wire): an endpoint's
  // stats (the list grows to hold it) and `count` errors of `key`.
  EndpointStats& endpoint(size_t index) {
    if (index >= endpoints_.size()) endpoints_.resize(index + 1);
    return endpoints_[index];
  }
  void addErrors(const ErrorKey& key, uint64_t count) { errors_[key] += count; }
  // Zeroes every counter and forgets the errors, keeping the endpoint count.
  void reset();

  const std::vector<EndpointStats>& endpoints() const { return endpoints_; }
  const ErrorCounts& errors() const { return errors_; }
  EndpointStats totals() const;  // all endpoints merged
  uint64_t requests() const;
  uint64_t failures() const;

 private:
  std::vector<EndpointStats> endpoints_;
  ErrorCounts errors_;
};

}  // namespace herd::stats
