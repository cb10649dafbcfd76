#include "edgeos/workloads/task_set.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <numeric>
#include <set>

#include "edgeos/core/sched_context.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"

namespace edgeos {

std::vector<std::string> validation_errors(const TaskSet& set, size_t max_tasks) {
  std::vector<std::string> errors;
  if (set.num_cpus == 0) errors.push_back("task set: field \"num_cpus\": must be >= 1, got 0");
  if (set.tasks.empty()) errors.push_back("task set: no tasks");
  if (set.tasks.size() > max_tasks) {
    errors.push_back(fmt::format("task set: {} tasks exceed the capacity of {} threads (raise the capacity)",
                                 set.tasks.size(), max_tasks));
  }
  std::set<std::string> names;
  for (size_t i = 0; i < set.tasks.size(); ++i) {
    const TaskSpec& t = set.tasks[i];
    auto err = [&](std::string_view field, const std::string& why) {
      errors.push_back(fmt::format("task \"{}\" (#{}): field \"{}\": {}", t.name, i, field, why));
    };
    if (t.name.empty()) err("name", "must not be empty");
    if (!names.insert(t.name).second) err("name", "duplicate task name");
    if (t.tenant.empty()) err("tenant", "must not be empty");
    if (t.cpu >= set.num_cpus) err("cpu", fmt::format("must be < num_cpus ({}), got {}", set.num_cpus, t.cpu));
    if (t.wcet <= Duration::zero()) err("wcet", fmt::format("must be > 0, got {}", format_duration(t.wcet)));
    if (t.period <= Duration::zero()) err("period", fmt::format("must be > 0, got {}", format_duration(t.period)));
    if (t.deadline < Duration::zero()) err("deadline", fmt::format("must be > 0, got {}", format_duration(t.deadline)));
    if (t.phase < Duration::zero()) err("phase", fmt::format("must be >= 0, got {}", format_duration(t.phase)));
    if (t.bcet < Duration::zero() || (t.bcet > t.wcet && t.wcet > Duration::zero())) {
      err("bcet", fmt::format("must be in [0, wcet = {}], got {}", format_duration(t.wcet), format_duration(t.bcet)));
    }
    if (t.max_extra < Duration::zero()) err("max_extra", fmt::format("must be >= 0, got {}", format_duration(t.max_extra)));
    if (t.kind == TaskKind::kPeriodic && t.max_extra != Duration::zero()) {
      err("max_extra", "only sporadic tasks have random inter-arrival times");
    }
    if (t.hard && t.wcet > Duration::zero() && t.period > Duration::zero() && t.wcet > t.effective_deadline()) {
      err("wcet", fmt::format("a hard task needs C <= D, got C = {} > D = {}", format_duration(t.wcet),
                              format_duration(t.effective_deadline())));
    }
  }
  return errors;
}

void validate(const TaskSet& set, size_t max_tasks) {
  const std::vector<std::string> errors = validation_errors(set, max_tasks);
  if (errors.empty()) return;
  std::string msg = fmt::format("invalid task set \"{}\":", set.name);
  for (const std::string& e : errors) msg += "\n  " + e;
  throw InputError(msg);
}

namespace {

template <class Key>
void assign_monotonic(TaskSet& set, Key key) {
  for (uint32_t cpu = 0; cpu < set.num_cpus; ++cpu) {
    std::vector<size_t> on_cpu;
    for (size_t i = 0; i < set.tasks.size(); ++i) {
      if (set.tasks[i].cpu == cpu) on_cpu.push_back(i);
    }
    if (on_cpu.size() > kNumPriorities) {
      throw InputError(fmt::format("CPU {}: {} tasks do not fit in {} distinct priorities", cpu, on_cpu.size(),
                                   kNumPriorities));
    }
    std::stable_sort(on_cpu.begin(), on_cpu.end(),
                     [&](size_t a, size_t b) { return key(set.tasks[a]) < key(set.tasks[b]); });
    for (size_t rank = 0; rank < on_cpu.size(); ++rank) {
      set.tasks[on_cpu[rank]].priority = static_cast<uint8_t>(kNumPriorities - 1 - rank);
    }
  }
}

}  // namespace

void assign_rate_monotonic(TaskSet& set) {
  assign_monotonic(set, [](const TaskSpec& t) { return t.period; });
}

void assign_deadline_monotonic(TaskSet& set) {
  assign_monotonic(set, [](const TaskSpec& t) { return t.effective_deadline(); });
}

}  // namespace edgeos
