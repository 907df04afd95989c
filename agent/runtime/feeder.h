#pragma once
// A worker's view of the plan's data sources: which row a `feed` step gets.
// `unique` rows are dealt round-robin first to agents (Plan::shard_index of
// shard_count) and then to worker threads, so the row sets of any two workers
// anywhere are disjoint and together cover every row; each worker hands its own
// out in order. `cycle` starts each worker at a different place and goes round;
// `random` picks uniformly.
#include <cstdint>
#include <string>
#include <vector>

#include "common/core/random.h"
#include "common/scenario/plan.h"

namespace herd::runtime {

class Feeders {
 public:
  Feeders(const scenario::Plan& plan, size_t worker_index, size_t worker_count);
  // The next row of data source `source`, or null when a unique source is used up.
  const std::vector<std::string>* next(size_t source, Rng& rng);

 private:
  const scenario::Plan& plan_;
  int64_t offset_;                // this worker's first row of a unique source
  int64_t stride_;                // workers across all agents
  std::vector<int64_t> cursors_;  // by source: rows taken so far (unique, cycle)
};

}  // namespace herd::runtime
