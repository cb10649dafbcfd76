#include "edgeos/simulator/task_set_run.hpp"

#include <fmt/format.h>

#include <map>

#include "edgeos/hosted/error.hpp"

namespace edgeos::sim {

LoadedTaskSet load_task_set(CoreSimulator& sim, const TaskSet& set, uint64_t seed) {
  validate(set, sim.config().max_threads);
  if (set.num_cpus != sim.config().num_cpus) {
    throw InputError(fmt::format("task set \"{}\" needs {} CPUs, the simulator has {}", set.name, set.num_cpus,
                                 sim.config().num_cpus));
  }
  SimKernel& k = sim.kernel();
  LoadedTaskSet out;
  out.names.run = set.name;
  std::map<std::string, FwpId> tenants;
  auto fail = [&](const std::string& what, Error e) {
    throw InputError(fmt::format("task set \"{}\": {}: {}", set.name, what, error_name(e)));
  };

  for (size_t i = 0; i < set.tasks.size(); ++i) {
    const TaskSpec& task = set.tasks[i];
    auto [it, inserted] = tenants.try_emplace(task.tenant);
    if (inserted) {
      const Result<TemplateId> tmpl = k.template_create(TemplateParams{});
      if (!tmpl) fail(fmt::format("tenant \"{}\": cannot create its template", task.tenant), tmpl.error());
      const Result<FwpId> fwp = k.fwp_spawn(*tmpl);
      if (!fwp) fail(fmt::format("tenant \"{}\": cannot create its FWP", task.tenant), fwp.error());
      it->second = *fwp;
      out.tenants.push_back(*fwp);
      if (out.names.fwps.size() <= fwp->index) out.names.fwps.resize(fwp->index + 1);
      out.names.fwps[fwp->index] = task.tenant;
    }

    ThreadParams p;
    p.fwp = it->second;
    p.cpu = task.cpu;
    p.sched.priority = task.priority;
    p.sched.relative_deadline = task.effective_deadline();
    p.release = task.kind == TaskKind::kPeriodic ? ReleaseKind::kPeriodic : ReleaseKind::kSporadic;
    p.period = task.period;
    p.relative_deadline = task.effective_deadline();
    p.first_release = Instant::epoch() + task.phase;

    CostFn cost = task.bcet == Duration::zero() || task.bcet == task.wcet
                      ? fixed_cost(task.wcet)
                      : uniform_cost(task.bcet, task.wcet, Rng::derive(seed, 2 * i));
    ArrivalFn arrivals = nullptr;
    if (task.kind == TaskKind::kSporadic) {
      arrivals = sporadic_arrivals(p.first_release, task.period, task.max_extra, Rng::derive(seed, 2 * i + 1));
    }
    const Result<ThreadId> id = sim.add_thread(p, std::move(cost), std::move(arrivals));
    if (!id) fail(fmt::format("task \"{}\": cannot create its thread", task.name), id.error());
    out.threads.push_back(*id);
    if (out.names.threads.size() <= id->index) out.names.threads.resize(id->index + 1);
    out.names.threads[id->index] = task.name;
  }
  return out;
}

SimulationResult simulate(const TaskSet& set, SimConfig config, Duration horizon, uint64_t seed,
                          const ProgressFn& progress) {
  if (horizon <= Duration::zero()) throw InputError("the simulated duration must be > 0");
  config.num_cpus = set.num_cpus;
  TraceBuffer buffer;
  CoreSimulator sim(config, buffer);
  SimulationResult result;
  result.names = load_task_set(sim, set, seed).names;
  const Instant end = Instant::epoch() + horizon;
  if (progress) {
    constexpr int kSteps = 100;
    for (int step = 1; step <= kSteps; ++step) {
      const Instant until = Instant::epoch() + horizon / kSteps * step;
      result.stats = sim.run_until(step == kSteps ? end : until);
      progress(result.stats.end, end);
    }
  } else {
    result.stats = sim.run_until(end);
  }
  result.end = end;
  result.records = std::move(buffer.records());
  return result;
}

}  // namespace edgeos::sim
