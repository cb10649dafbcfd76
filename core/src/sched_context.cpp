#include "edgeos/core/sched_context.hpp"

namespace edgeos {

Status validate(const SchedParams& p) {
  if (p.relative_deadline <= Duration::zero()) return Error::kInvalidArgument;
  if (p.budget <= Duration::zero() || p.period <= Duration::zero()) return Error::kInvalidArgument;
  if (p.server == ServerKind::kNone) {
    // Without a server kind nothing says how a budget is replenished: a finite budget is an error.
    if (!p.budget.is_infinite()) return Error::kInvalidArgument;
    return Status::ok();
  }
  if (p.budget.is_infinite() || p.period.is_infinite() || p.budget > p.period) {
    return Error::kInvalidArgument;
  }
  // FIXME(issue 3): budget enforcement and the server kinds are the next step of core.
  return Error::kUnsupported;
}

}  // namespace edgeos
