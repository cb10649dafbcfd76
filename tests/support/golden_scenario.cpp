#include "golden_scenario.hpp"

#include <fmt/format.h>

#include <filesystem>
#include <set>

#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"

namespace edgeos::testing {

GoldenCase golden_cpu_part(const GoldenCase& g, uint32_t cpu) {
  GoldenCase part = g;
  part.cpus = 1;
  part.tasks.clear();
  std::set<std::string> mine;
  for (GoldenTask t : g.tasks) {
    if (t.cpu != cpu) continue;
    mine.insert(t.name);
    t.cpu = 0;
    part.tasks.push_back(t);
  }
  const auto keep = [&mine](auto& v) { std::erase_if(v, [&mine](const auto& x) { return !mine.count(x.task); }); };
  keep(part.runs);
  keep(part.misses);
  keep(part.exhausted);
  keep(part.replenished);
  keep(part.responses);
  for (Slice& s : part.runs) s.cpu = 0;
  return part;
}

GoldenScenario golden_scenario(const GoldenCase& g, const GoldenScenarioOptions& o) {
  const int64_t unit = o.unit_ns > 0 ? o.unit_ns : g.unit_ns;
  const auto ns = [&](int64_t units) { return fmt::format("\"{}ns\"", units * unit); };
  const auto cost = [&](int64_t units) { return units * unit - o.shave_ns; };
  const bool one_cpu = o.cpu >= 0;
  GoldenScenario out;
  std::string& t = out.toml;
  t += fmt::format("# {} ({}), converted for a scenario-driven backend\n", g.file, g.name);
  t += fmt::format("[scenario]\nname = \"{}\"\nduration = {}\nseed = 1\n\n", g.file, ns(g.horizon));
  t += fmt::format("[[server]]\ncpus = {}\npolicy = \"{}\"\n\n", one_cpu ? 1 : g.cpus, g.policy);
  std::set<std::string> tenants;
  for (const GoldenTask& task : g.tasks) {
    if (one_cpu && task.cpu != static_cast<uint32_t>(o.cpu)) continue;
    if (tenants.insert(task.tenant).second) t += fmt::format("[[tenant]]\nname = \"{}\"\n\n", task.tenant);
  }
  for (const GoldenTask& task : g.tasks) {
    if (one_cpu && task.cpu != static_cast<uint32_t>(o.cpu)) continue;
    if (cost(task.costs.front()) <= 0) throw InputError(fmt::format("{}: task {}: a cost no larger than the shave", g.file, task.name));
    t += fmt::format("[[thread]]\nname = \"{}\"\ntenant = \"{}\"\ncpu = {}\npriority = {}\nperiod = {}\n", task.name,
                     task.tenant, one_cpu ? 0 : task.cpu, task.priority, ns(task.period));
    t += fmt::format("deadline = {}\ncost = \"{}ns\"\n", ns(task.deadline == 0 ? task.period : task.deadline),
                     cost(task.costs.front()));
    if (!task.server.empty()) {
      t += fmt::format("server = \"{}\"\nbudget = {}\nserver_period = {}\nrefills = {}\n", task.server, ns(task.budget),
                       ns(task.server_period), task.refills);
    }
    if (task.sporadic) {
      // Job k costs costs[k] (the last repeating), as the golden format says: one trace record
      // per arrival, with its own cost.
      t += "release = \"sporadic\"\n\n";
      std::string csv = "time_ns,tenant,cost_ns\n";
      for (size_t k = 0; k < task.arrivals.size(); ++k) {
        const int64_t c = task.costs[std::min(k, task.costs.size() - 1)];
        if (cost(c) <= 0) throw InputError(fmt::format("{}: task {}: a cost no larger than the shave", g.file, task.name));
        csv += fmt::format("{},{},{}\n", task.arrivals[k] * unit, task.tenant, cost(c));
      }
      const std::string file = task.name + "-arrivals.csv";
      t += fmt::format("[[workload]]\nname = \"{}-arrivals\"\nkind = \"trace\"\nfile = \"{}\"\ntarget = \"{}\"\n\n",
                       task.name, file, task.name);
      out.traces.push_back(file);
      out.trace_texts.push_back(csv);
    } else {
      if (task.costs.size() != 1) {
        throw InputError(fmt::format("{}: task {}: a periodic thread of a scenario has one cost model", g.file, task.name));
      }
      t += fmt::format("phase = {}\n\n", ns(task.phase));
    }
  }
  return out;
}

std::string write_golden_scenario(const GoldenScenario& s, const std::string& dir) {
  std::filesystem::create_directories(dir);
  for (size_t i = 0; i < s.traces.size(); ++i) write_file_atomically(dir + "/" + s.traces[i], s.trace_texts[i]);
  const std::string path = dir + "/scenario.toml";
  write_file_atomically(path, s.toml);
  return path;
}

}  // namespace edgeos::testing
