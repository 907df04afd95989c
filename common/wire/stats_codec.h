#pragma once
// The one conversion between common/stats and the wire (proto/herd/v1/stats.proto).
// Encoding cannot fail; decoding checks everything, because the bytes come from
// the network: a bad message is an Error naming the field, never UB or a crash.
#include <cstddef>

#include "common/core/result.h"
#include "common/stats/histogram.h"
#include "common/stats/recorder.h"
#include "herd/v1/stats.pb.h"

namespace herd::wire {

void encodeHistogram(const stats::Histogram& histogram, v1::Histogram& out);
Result<stats::Histogram> decodeHistogram(const v1::Histogram& in);

// Endpoints with no requests and no bytes are left out.
void encodeStats(const stats::Recorder& recorder, v1::StatsDelta& out);
// `endpoint_count` is the plan's: an index at or past it is refused, as are
// repeated endpoints, unknown error kinds and inconsistent counters.
Result<stats::Recorder> decodeStats(const v1::StatsDelta& in, size_t endpoint_count);

}  // namespace herd::wire
