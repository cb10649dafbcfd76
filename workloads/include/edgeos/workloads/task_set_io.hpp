// Task sets as CSV files, for `edgeos analyze`, `edgeos gen tasks` and notebooks.
//
//   # comments and blank lines are ignored
//   name,tenant,cpu,kind,wcet,period,deadline,phase,priority
//   ar.render,ar-headset,0,periodic,1.6ms,5ms,5ms,0s,3
//
// The header names the columns, in any order. `name`, `wcet` and `period` are required; the others
// default to tenant = name, cpu = 0, kind = periodic, deadline = period, phase = 0s, priority = 0,
// bcet = wcet, max_extra = 0s. Durations carry their unit, as everywhere in edgeos.
#pragma once

#include <string>

#include "edgeos/workloads/task_set.hpp"

namespace edgeos {

// Throws InputError naming file, line and column on any problem; the set is validated too.
TaskSet read_task_set_csv(const std::string& path);
// Writes atomically.
void write_task_set_csv(const std::string& path, const TaskSet& set);
std::string task_set_csv(const TaskSet& set);

}  // namespace edgeos
