#include "core_sim_runner.hpp"

#include <map>
#include <stdexcept>

#include "edgeos/simulator/core_sim.hpp"
#include "edgeos/simulator/scenario_run.hpp"
#include "edgeos/workloads/scenario_toml.hpp"

namespace edgeos::testing {

TraceRun run_on_core_sim(const GoldenCase& g) {
  sim::SimConfig config;
  config.num_cpus = g.cpus;
  config.policy = g.policy == "edf" ? sim::Policy::kEdf : sim::Policy::kFixedPriority;
  config.check_invariants = true;
  config.domains.assign(g.domains.begin(), g.domains.end());
  TraceBuffer buffer;
  sim::CoreSimulator s(config, buffer);
  sim::SimKernel& k = s.kernel();
  TraceRun run;
  std::map<std::string, FwpId> tenants;
  const Duration unit = Duration::nanoseconds(g.unit_ns);
  for (const GoldenTask& t : g.tasks) {
    auto [it, inserted] = tenants.try_emplace(t.tenant);
    if (inserted) {
      const Result<TemplateId> tmpl = k.template_create({});
      const Result<FwpId> fwp = tmpl ? k.fwp_spawn(*tmpl) : Result<FwpId>(tmpl.error());
      if (!fwp) throw std::runtime_error("cannot create tenant " + t.tenant);
      it->second = *fwp;
      run.names.fwps.resize(std::max<size_t>(run.names.fwps.size(), fwp->index + 1));
      run.names.fwps[fwp->index] = t.tenant;
    }
    ThreadParams p;
    p.fwp = it->second;
    p.cpu = t.cpu;
    p.sched.priority = t.priority;
    p.relative_deadline = unit * (t.deadline == 0 ? t.period : t.deadline);
    p.sched.relative_deadline = p.relative_deadline;
    p.period = unit * t.period;
    p.first_release = Instant::epoch() + unit * t.phase;
    p.release = t.sporadic ? ReleaseKind::kSporadic : ReleaseKind::kPeriodic;
    if (!t.server.empty()) {
      p.sched.server = t.server == "sporadic"     ? ServerKind::kSporadic
                       : t.server == "deferrable" ? ServerKind::kDeferrable
                       : t.server == "polling"    ? ServerKind::kPolling
                                                  : ServerKind::kCbs;
      p.sched.budget = unit * t.budget;
      p.sched.period = unit * t.server_period;
      p.sched.max_refills = static_cast<uint8_t>(t.refills);
    }
    std::vector<Duration> costs;
    for (int64_t c : t.costs) costs.push_back(unit * c);
    sim::ArrivalFn arrivals = nullptr;
    if (t.sporadic) {
      std::vector<Instant> at;
      for (int64_t a : t.arrivals) at.push_back(Instant::epoch() + unit * a);
      arrivals = sim::arrival_sequence(at);
    }
    const Result<ThreadId> id = s.add_thread(p, sim::cost_sequence(costs), arrivals);
    if (!id) throw std::runtime_error(std::string("cannot create task ") + t.name + ": " + error_name(id.error()));
    run.names.threads.resize(std::max<size_t>(run.names.threads.size(), id->index + 1));
    run.names.threads[id->index] = t.name;
  }
  s.run_until(Instant::epoch() + unit * g.horizon);
  run.records = std::move(buffer.records());
  return run;
}

TraceRun run_on_core_sim(const std::vector<RefTask>& tasks, bool edf, uint32_t cpus, int64_t horizon, int64_t unit_ns) {
  GoldenCase g;
  g.policy = edf ? "edf" : "fp";
  g.cpus = cpus;
  g.unit_ns = unit_ns;
  g.horizon = horizon;
  for (const RefTask& r : tasks) {
    GoldenTask t;
    t.name = r.name;
    t.tenant = "tenant" + std::to_string(r.cpu);
    t.cpu = r.cpu;
    t.costs = {r.wcet};
    t.period = r.period;
    t.deadline = r.deadline;
    t.phase = r.phase;
    t.priority = r.priority;
    g.tasks.push_back(t);
  }
  return run_on_core_sim(g);
}

TraceRun run_scenario_on_core_sim(const std::string& path) {
  const scenario::Scenario s = scenario::load_scenario(path);
  TraceBuffer buffer;
  sim::ScenarioOptions options;
  options.check_invariants = true;
  sim::ScenarioRun run(s, options, buffer);
  run.run();
  return TraceRun{std::move(buffer.records()), run.names()};
}

}  // namespace edgeos::testing
