// A second, independent implementation of edgeos's scheduling semantics, for differential tests.
//
// It advances time in unit steps over integer task parameters and keeps everything in plain
// arrays scanned linearly: no event queue, no trees, no bitmaps, no shared code with core/. It
// follows the rules stated in tests/golden/README.md (completion, then timers in (instant,
// thread) order, then one scheduling decision per instant; FIFO within a priority; EDF ties by
// release order then thread). Periodic tasks only.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "schedule.hpp"

namespace edgeos::testing {

struct RefTask {
  std::string name;
  uint32_t cpu = 0;
  int64_t wcet = 1;
  int64_t period = 1;
  int64_t deadline = 1;
  int64_t phase = 0;
  uint8_t priority = 0;
};

struct RefSchedule {
  std::vector<Slice> slices;  // sorted by (start, cpu)
  std::vector<Miss> misses;   // in time order (then task order)
  std::vector<Response> responses;
};

RefSchedule reference_schedule(const std::vector<RefTask>& tasks, bool edf, uint32_t cpus, int64_t horizon);

}  // namespace edgeos::testing
