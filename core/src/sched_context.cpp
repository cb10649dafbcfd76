#include "edgeos/core/sched_context.hpp"

namespace edgeos {

Status validate(const SchedParams& p) {
  if (p.relative_deadline <= Duration::zero()) return Error::kInvalidArgument;
  if (p.budget <= Duration::zero() || p.period <= Duration::zero()) return Error::kInvalidArgument;
  switch (p.server) {
    case ServerKind::kNone:
      // Without a server kind nothing says how a budget is replenished: a finite budget is an error.
      return p.budget.is_infinite() ? Status::ok() : Status(Error::kInvalidArgument);
    case ServerKind::kSporadic:
      if (p.max_refills == 0 || p.max_refills > kMaxRefills) return Error::kInvalidArgument;
      [[fallthrough]];
    case ServerKind::kDeferrable:
    case ServerKind::kPolling:
    case ServerKind::kCbs:
      if (p.budget.is_infinite() || p.period.is_infinite() || p.budget > p.period) return Error::kInvalidArgument;
      return Status::ok();
  }
  return Error::kInvalidArgument;  // not a ServerKind
}

}  // namespace edgeos
