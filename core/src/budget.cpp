// Budget bookkeeping of the server kinds. The rules, and the papers they follow, are in budget.hpp.
#include "edgeos/core/budget.hpp"

namespace edgeos {

namespace {

// Ring position of the i-th pending refill, counting from the head. head and i are both below
// max_refills, so one conditional subtraction wraps it: no division on this path, which runs
// several times per scheduling event.
uint8_t ring_index(const SchedContext& sc, uint8_t i) {
  const unsigned index = unsigned{sc.refill_head} + i;
  return static_cast<uint8_t>(index >= sc.params.max_refills ? index - sc.params.max_refills : index);
}
Refill& refill(SchedContext& sc, uint8_t i) { return sc.refills[ring_index(sc, i)]; }
const Refill& refill(const SchedContext& sc, uint8_t i) { return sc.refills[ring_index(sc, i)]; }

void pop_head(SchedContext& sc) {
  sc.refill_head = ring_index(sc, 1);
  --sc.refill_count;
}

// Adds `amount` usable from `time`. Refills are created in time order (each at the start of a
// later piece plus the period), so appending keeps the list sorted. A refill that would overflow
// the list or is below the minimum budget is merged into the last one, which moves to the later
// time: the merged budget only ever becomes available later than it would have, never earlier.
void schedule_refill(SchedContext& sc, Instant time, Duration amount, Duration min_budget) {
  ++sc.replenishments;
  if (sc.refill_count > 0) {
    Refill& tail = refill(sc, static_cast<uint8_t>(sc.refill_count - 1));
    if (sc.refill_count == sc.params.max_refills || amount < min_budget || time <= tail.time) {
      tail.time = max(tail.time, time);
      tail.amount += amount;
      return;
    }
  }
  ++sc.refill_count;
  refill(sc, static_cast<uint8_t>(sc.refill_count - 1)) = Refill{time, amount};
}

bool is_periodic_server(const SchedContext& sc) {
  return sc.params.server == ServerKind::kDeferrable || sc.params.server == ServerKind::kPolling;
}

}  // namespace

void budget_init(SchedContext& sc, Instant origin) {
  const Duration b = sc.params.budget;
  switch (sc.params.server) {
    case ServerKind::kNone:
      break;
    case ServerKind::kSporadic:
      sc.refill_head = 0;
      sc.refill_count = 1;
      sc.refills[0] = Refill{origin, b};
      sc.piece_start = origin;
      sc.piece_used = Duration::zero();
      break;
    case ServerKind::kDeferrable:
      sc.period_start = origin;
      sc.capacity = b;
      break;
    case ServerKind::kPolling:
      // Restored only if the thread has work at the start of a period (budget_activate).
      sc.period_start = origin;
      sc.capacity = Duration::zero();
      break;
    case ServerKind::kCbs:
      // An expired deadline: the first activation takes the wake-up rule's reset.
      sc.capacity = Duration::zero();
      sc.deadline = origin;
      break;
  }
}

Duration budget_roll(SchedContext& sc, Instant now, bool has_work) {
  if (!is_periodic_server(sc)) return Duration::zero();
  const Duration t = sc.params.period;
  if (now < sc.period_start + t) return Duration::zero();
  sc.period_start = sc.period_start + t * ((now - sc.period_start) / t);
  const Duration before = sc.capacity;
  const bool restore = sc.params.server == ServerKind::kDeferrable || has_work;
  sc.capacity = restore ? sc.params.budget : Duration::zero();
  if (sc.capacity <= before) return Duration::zero();
  ++sc.replenishments;
  return sc.capacity - before;
}

Duration budget_available(const SchedContext& sc, Instant now, Duration min_budget) {
  Duration available = Duration::zero();
  switch (sc.params.server) {
    case ServerKind::kNone:
      return Duration::infinite();
    case ServerKind::kSporadic:
      for (uint8_t i = 0; i < sc.refill_count; ++i) {
        const Refill& r = refill(sc, i);
        if (r.time > now) break;
        available += r.amount;
      }
      break;
    case ServerKind::kDeferrable:
    case ServerKind::kPolling:
    case ServerKind::kCbs:
      available = sc.capacity;
      break;
  }
  return available < min_budget ? Duration::zero() : available;
}

void budget_activate(SchedContext& sc, Instant now, bool from_idle) {
  switch (sc.params.server) {
    case ServerKind::kCbs: {
      // remaining / (deadline - now) > Q / T  <=>  remaining * T > (deadline - now) * Q, exactly.
      const Duration q = sc.params.budget;
      const Duration t = sc.params.period;
      const bool expired = sc.deadline <= now;
      const bool overflow = !expired && static_cast<int128_t>(sc.capacity.ns()) * t.ns() >
                                            static_cast<int128_t>((sc.deadline - now).ns()) * q.ns();
      if (expired || overflow) {
        sc.deadline = now + t;
        sc.capacity = q;
      }
      break;
    }
    case ServerKind::kPolling:
      if (from_idle) {
        // Boundaries crossed while idle found no work: their capacity was discharged. Work that
        // arrives exactly at a boundary is there when the server polls.
        budget_roll(sc, now, /*has_work=*/false);
        if (now == sc.period_start) sc.capacity = sc.params.budget;
      } else {
        budget_roll(sc, now, /*has_work=*/true);
      }
      break;
    case ServerKind::kDeferrable:
      budget_roll(sc, now, /*has_work=*/true);
      break;
    case ServerKind::kNone:
    case ServerKind::kSporadic:
      break;
  }
}

void budget_ready(SchedContext& sc, Instant now) {
  switch (sc.params.server) {
    case ServerKind::kSporadic:
      sc.deadline = now + sc.params.period;
      break;
    case ServerKind::kDeferrable:
    case ServerKind::kPolling:
      sc.deadline = sc.period_start + sc.params.period;
      break;
    case ServerKind::kNone:
    case ServerKind::kCbs:
      break;
  }
}

void budget_dispatch(SchedContext& sc, Instant now) {
  if (sc.params.server == ServerKind::kSporadic) {
    sc.piece_start = now;
    sc.piece_used = Duration::zero();
  }
}

void budget_charge(SchedContext& sc, Duration used) {
  switch (sc.params.server) {
    case ServerKind::kNone:
      break;
    case ServerKind::kSporadic:
      // Drain the ready refills in order. The kernel's budget timer stops the thread when they are
      // used up; anything beyond (a late timer on real hardware) is not taken from later refills.
      while (used > Duration::zero() && sc.refill_count > 0) {
        Refill& head = refill(sc, 0);
        const Duration take = min(head.amount, used);
        head.amount -= take;
        used -= take;
        sc.piece_used += take;
        if (head.amount == Duration::zero()) pop_head(sc);
      }
      break;
    case ServerKind::kDeferrable:
    case ServerKind::kPolling:
    case ServerKind::kCbs:
      sc.capacity = used >= sc.capacity ? Duration::zero() : sc.capacity - used;
      break;
  }
}

void budget_stop(SchedContext& sc, Instant now, Duration min_budget) {
  if (sc.params.server != ServerKind::kSporadic) return;
  if (sc.piece_used > Duration::zero()) {
    schedule_refill(sc, sc.piece_start + sc.params.period, sc.piece_used, min_budget);
    sc.piece_used = Duration::zero();
  }
  // A ready remainder below the minimum budget would only buy a uselessly short run: fold it
  // into the next refill (later, so safe).
  if (sc.refill_count >= 2) {
    Refill& head = refill(sc, 0);
    if (head.time <= now && head.amount < min_budget) {
      refill(sc, 1).amount += head.amount;
      pop_head(sc);
    }
  }
}

void budget_idle(SchedContext& sc) {
  if (sc.params.server == ServerKind::kPolling) sc.capacity = Duration::zero();
}

Duration budget_postpone(SchedContext& sc) {
  if (sc.params.server != ServerKind::kCbs) return Duration::zero();
  const Duration refilled = sc.params.budget - sc.capacity;
  ++sc.replenishments;
  sc.capacity = sc.params.budget;
  sc.deadline = sc.deadline + sc.params.period;
  return refilled;
}

Instant budget_next_replenish(const SchedContext& sc, Instant now, Duration min_budget) {
  switch (sc.params.server) {
    case ServerKind::kSporadic: {
      // The first instant at which the refills ready by then add up to the minimum budget.
      Duration sum = Duration::zero();
      for (uint8_t i = 0; i < sc.refill_count; ++i) {
        const Refill& r = refill(sc, i);
        sum += r.amount;
        if (sum >= min_budget) return max(r.time, now);
      }
      return Instant::never();
    }
    case ServerKind::kDeferrable:
    case ServerKind::kPolling:
      return budget_period_end(sc);
    case ServerKind::kNone:
    case ServerKind::kCbs:
      break;
  }
  return Instant::never();
}

Instant budget_period_end(const SchedContext& sc) { return sc.period_start + sc.params.period; }

bool budget_check(const SchedContext& sc) {
  const Duration b = sc.params.budget;
  switch (sc.params.server) {
    case ServerKind::kNone:
      return true;
    case ServerKind::kSporadic: {
      if (sc.refill_count > sc.params.max_refills || sc.refill_head >= sc.params.max_refills) return false;
      Duration sum = sc.piece_used;
      for (uint8_t i = 0; i < sc.refill_count; ++i) {
        const Refill& r = refill(sc, i);
        if (r.amount <= Duration::zero()) return false;
        if (i > 0 && r.time < refill(sc, static_cast<uint8_t>(i - 1)).time) return false;
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
