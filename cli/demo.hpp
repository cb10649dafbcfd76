// The built-in demo: a multi-tenant edge server (AR, IoT, key-value cache, analytics) on 2 CPUs,
// run under EDF and under fixed priorities (deadline monotonic). It is the main job of `make run`
// until scenario files exist.
#pragma once

#include "edgeos/workloads/task_set.hpp"

namespace edgeos::cli {

// The demo task set. Fixed priorities are deadline monotonic per CPU.
TaskSet demo_task_set();

}  // namespace edgeos::cli
