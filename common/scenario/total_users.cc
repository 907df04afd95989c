#include "common/scenario/total_users.h"

#include "common/scenario/schedule.h"

namespace herd::scenario {

int64_t totalUsers(const Plan& plan) {
  if (plan.load.model == Load::Model::kOpen) return plan.load.max_users;
  return static_cast<int64_t>(closedSchedule(plan.load).size());
}

}  // namespace herd::scenario
