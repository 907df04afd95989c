#include "common/stats/recorder.h"

namespace herd::stats {

void EndpointStats::merge(const EndpointStats& other) {
  requests += other.requests;
  failures += other.failures;
  bytes_received += other.bytes_received;
  bytes_sent += other.bytes_sent;
  latency.merge(other.latency);
  protocols |= other.protocols;
}

void EndpointStats::reset() {
  requests = failures = bytes_received = bytes_sent = 0;
  protocols = 0;
  latency.reset();
}

void Recorder::recordRequest(size_t endpoint, uint64_t latency_ns, uint64_t bytes_received, uint64_t bytes_sent,
                             ErrorKind error, int32_t code) {
  if (endpoint >= endpoints_.size()) endpoints_.resize(endpoint + 1);
  EndpointStats& e = endpoints_[endpoint];
  ++e.requests;
  e.bytes_received += bytes_received;
  e.bytes_sent += bytes_sent;
  e.latency.record(latency_ns);
  if (error != ErrorKind::kNone) {
    ++e.failures;
    ++errors_[ErrorKey{static_cast<uint32_t>(endpoint), error, code}];
  }
}

void Recorder::recordError(size_t endpoint, ErrorKind error, int32_t code) {
  if (endpoint >= endpoints_.size()) endpoints_.resize(endpoint + 1);
  ++errors_[ErrorKey{static_cast<uint32_t>(endpoint), error, code}];
}

void Recorder::recordProtocol(size_t endpoint, uint8_t http_version) {
  if (endpoint >= endpoints_.size()) endpoints_.resize(endpoint + 1);
  endpoints_[endpoint].protocols |= http_version == 2 ? kProtocolHttp2 : kProtocolHttp1;
}

void Recorder::merge(const Recorder& other) {
  if (other.endpoints_.size() > endpoints_.size()) endpoints_.resize(other.endpoints_.size());
  for (size_t i = 0; i < other.endpoints_.size(); ++i) endpoints_[i].merge(other.endpoints_[i]);
  for (const auto& [key, count] : other.errors_) errors_[key] += count;
}

void Recorder::reset() {
  for (EndpointStats& e : endpoints_) e.reset();
  errors_.clear();
}

EndpointStats Recorder::totals() const {
  EndpointStats all;
  for (const EndpointStats& e : endpoints_) all.merge(e);
  return all;
}

uint64_t Recorder::requests() const {
  uint64_t n = 0;
  for (const EndpointStats& e : endpoints_) n += e.requests;
  return n;
}

uint64_t Recorder::failures() const {
  uint64_t n = 0;
  for (const EndpointStats& e : endpoints_) n += e.failures;
  return n;
}

}  // namespace herd::stats
