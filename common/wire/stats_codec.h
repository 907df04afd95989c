#pragma once
// The one conversion between common/stats and the wire (proto/herd/v1/stats.proto).
// Encoding cannot fail; decoding checks everything, because the bytes come from
// the network: a bad message is an Error naming the field, never UB or a crash.
#include <cstddef>
#include <vector>

#include "common/core/result.h"
#include "common/stats/delivery.h"
#include "common/stats/histogram.h"
#include "common/stats/recorder.h"
#include "herd/v1/stats.pb.h"

namespace herd::wire {

void encodeHistogram(const stats::Histogram& histogram, v1::Histogram& out);
Result<stats::Histogram> decodeHistogram(const v1::Histogram& in);

// Endpoints with no requests and no bytes are left out. The texts of the
// exceptions the errors count go along (as many as stats.proto allows).
void encodeStats(const stats::Recorder& recorder, v1::StatsDelta& out);
// `endpoint_count` is the plan's: an index at or past it is refused, as are
// repeated endpoints, unknown error kinds and inconsistent counters. Exception
// texts are remembered in this process (stats::rememberExceptionText), so the
// summary shows an agent's messages.
Result<stats::Recorder> decodeStats(const v1::StatsDelta& in, size_t endpoint_count);

// decodeStats in two halves, for a receiver that adds a delta to what it holds
// without a decoded copy (the coordinator, a report per agent per second):
// checkStats makes every check decodeStats makes and builds nothing;
// mergeStats adds a delta checkStats accepted into `into`.
struct StatsCount {
  uint64_t requests = 0;
  uint64_t failures = 0;
};
Result<StatsCount> checkStats(const v1::StatsDelta& in, size_t endpoint_count);
void mergeStats(const v1::StatsDelta& in, stats::Recorder& into);

// Pub/sub delivery records cut into pieces of at most about `max_bytes` encoded
// bytes each (a single record larger than that gets a piece of its own); an
// empty log gives no pieces.
std::vector<v1::DeliveryRecords> encodeDelivery(const stats::DeliveryLog& log, size_t max_bytes);
// Appends one piece to `into`; a stream index at or past `stream_count` is
// refused (nothing is appended then).
Status decodeDelivery(const v1::DeliveryRecords& in, size_t stream_count, stats::DeliveryLog& into);

}  // namespace herd::wire
