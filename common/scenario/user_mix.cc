#include "common/scenario/user_mix.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace herd::scenario {

std::vector<int64_t> classTotals(const scenario::Plan& plan, int64_t total_users) {
  const size_t n = plan.classes.size();
  std::vector<int64_t> totals(n, 0);
  int64_t remaining = total_users;
  for (size_t c = 0; c < n; ++c) {
    if (const auto& count = plan.classes[c].count) {
      totals[c] = std::min(*count, remaining);
      remaining -= totals[c];
    }
  }
  double weight_sum = 0;
  for (const auto& cls : plan.classes) {
    if (!cls.count) weight_sum += cls.weight;
  }
  if (remaining <= 0 || weight_sum <= 0) return totals;

  std::vector<std::pair<double, size_t>> remainders;  // (fraction, class) for largest remainder
  int64_t assigned = 0;
  for (size_t c = 0; c < n; ++c) {
    if (plan.classes[c].count) continue;
    const double exact = static_cast<double>(remaining) * plan.classes[c].weight / weight_sum;
    totals[c] = static_cast<int64_t>(std::floor(exact));
    assigned += totals[c];
    remainders.emplace_back(exact - std::floor(exact), c);
  }
  // Ties go to the earlier class so the result is deterministic.
  std::stable_sort(remainders.begin(), remainders.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  for (size_t i = 0; assigned < remaining && i < remainders.size(); ++i, ++assigned) {
    ++totals[remainders[i].second];
  }
  return totals;
}

std::vector<uint16_t> assignClasses(const scenario::Plan& plan, int64_t total_users) {
  const auto totals = classTotals(plan, total_users);
  const int64_t sum = std::accumulate(totals.begin(), totals.end(), int64_t{0});
  std::vector<uint16_t> classes;
  classes.reserve(static_cast<size_t>(sum));
  std::vector<int64_t> current(totals.size(), 0);
  for (int64_t i = 0; i < sum; ++i) {
    size_t best = 0;
    for (size_t c = 0; c < totals.size(); ++c) {
      current[c] += totals[c];
      if (current[c] > current[best]) best = c;
    }
    current[best] -= sum;
    classes.push_back(static_cast<uint16_t>(best));
  }
  return classes;
}

}  // namespace herd::scenario
