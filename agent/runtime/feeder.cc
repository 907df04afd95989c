#include "agent/runtime/feeder.h"

namespace herd::runtime {

Feeders::Feeders(const scenario::Plan& plan, size_t worker_index, size_t worker_count)
    : plan_(plan),
      // Agent a of S takes the rows ≡ a (mod S), and its worker w of W every W-th of
      // those, so agents with different worker counts still never share a row.
      offset_(plan.shard_index + plan.shard_count * static_cast<int64_t>(worker_index)),
      stride_(plan.shard_count * static_cast<int64_t>(worker_count)),
      cursors_(plan.data.size(), 0) {}

const std::vector<std::string>* Feeders::next(size_t source, Rng& rng) {
  const auto& data = plan_.data[source];
  const auto rows = static_cast<int64_t>(data.rows.size());
  int64_t& cursor = cursors_[source];
  int64_t row = 0;
  switch (data.pick) {
    case scenario::DataSource::Pick::kUnique:
      row = offset_ + cursor * stride_;
      if (row >= rows) return nullptr;
      ++cursor;
      break;
    case scenario::DataSource::Pick::kCycle:
      // Spread the workers' starting points over the rows.
      row = (offset_ * rows / stride_ + cursor) % rows;
      ++cursor;
      break;
    case scenario::DataSource::Pick::kRandom: row = rng.between(0, rows - 1); break;
  }
  return &data.rows[static_cast<size_t>(row)];
}

}  // namespace herd::runtime
