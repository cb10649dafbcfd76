// The budget state checker (the bookkeeping itself is inline in budget.hpp, with its rules and papers).
#include "edgeos/core/budget.hpp"

namespace edgeos {

bool budget_check(const SchedContext& sc) {
  const Duration b = sc.params.budget;
  switch (sc.params.server) {
    case ServerKind::kNone:
      return true;
    case ServerKind::kSporadic: {
      if (sc.refill_count > sc.params.max_refills || sc.refill_head >= kMaxRefills) return false;
      Duration sum = sc.piece_used;
      for (uint8_t i = 0; i < sc.refill_count; ++i) {
        const Refill& r = budget_detail::refill(sc, i);
        if (r.amount <= Duration::zero()) return false;
        if (i > 0 && r.time < budget_detail::refill(sc, static_cast<uint8_t>(i - 1)).time) return false;
        sum += r.amount;
      }
      return sum == b;
    }
    case ServerKind::kDeferrable:
    case ServerKind::kPolling:
    case ServerKind::kCbs:
      return sc.capacity >= Duration::zero() && sc.capacity <= b;
  }
  return false;
}

}  // namespace edgeos
