// What the trace-reader harnesses share: pulling a source dry and checking what arrivals.hpp
// promises of every source (arrivals in time order, inside [start, stop), to a mapped target,
// with a known kind and non-negative cost and deadline).
#pragma once

#include "edgeos/workloads/arrivals.hpp"
#include "fuzz.hpp"

namespace edgeos::fuzz {

// Inputs are small (libFuzzer's -max_len), but an Azure count expands into many arrivals.
inline constexpr uint64_t kMaxDrained = 200'000;

inline void drain(arrivals::Source& src, Instant start, Instant stop, uint32_t targets) {
  arrivals::Arrival a;
  Instant last = start;
  uint32_t max_kind = 0;
  for (uint64_t n = 0; n < kMaxDrained && src.next(a); ++n) {
    EDGEOS_FUZZ_CHECK(a.time >= last);
    EDGEOS_FUZZ_CHECK(a.time < stop);
    EDGEOS_FUZZ_CHECK(a.target < targets);
    EDGEOS_FUZZ_CHECK(a.cost >= Duration::zero() && a.deadline >= Duration::zero());
    last = a.time;
    if (a.kind > max_kind) max_kind = a.kind;
  }
  EDGEOS_FUZZ_CHECK(max_kind < src.kinds().size());
}

}  // namespace edgeos::fuzz
