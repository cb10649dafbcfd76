#include "demo.hpp"

namespace edgeos::cli {

TaskSet demo_task_set() {
  using namespace edgeos::time_literals;
  TaskSet set;
  set.name = "demo: edge server, 4 tenants on 2 CPUs";
  set.num_cpus = 2;
  auto periodic = [&](const char* name, const char* tenant, uint32_t cpu, Duration c, Duration t, Duration bcet) {
    TaskSpec s;
    s.name = name;
    s.tenant = tenant;
    s.cpu = cpu;
    s.wcet = c;
    s.bcet = bcet;
    s.period = t;
    set.tasks.push_back(s);
  };

  // CPU 0, U = 0.32 + 0.4 + 0.214 = 0.934: EDF meets every deadline; fixed priorities do not
  // (response-time analysis of ar.detect: 4 + 2 * 1.6 + 2 * 1.5 = 10.2ms > 10ms).
  periodic("ar.render", "ar-headset", 0, 1600_us, 5_ms, Duration::zero());
  periodic("ar.detect", "ar-headset", 0, 4_ms, 10_ms, Duration::zero());
  periodic("iot.ingest", "iot-sensors", 0, 1500_us, 7_ms, 1_ms);

  // CPU 1: key-value gets (sporadic, constrained deadline), sensor aggregation, batch analytics.
  TaskSpec get;
  get.name = "kv.get";
  get.tenant = "kv-cache";
  get.cpu = 1;
  get.kind = TaskKind::kSporadic;
  get.wcet = 300_us;
  get.bcet = 100_us;
  get.period = 2_ms;
  get.deadline = 1_ms;
  get.max_extra = 3_ms;
  set.tasks.push_back(get);
  periodic("iot.aggregate", "iot-sensors", 1, 5_ms, 20_ms, 3_ms);
  periodic("analytics.batch", "analytics", 1, 20_ms, 50_ms, 15_ms);
  periodic("ar.encode", "ar-headset", 1, 2_ms, 16_ms, Duration::zero());

  assign_deadline_monotonic(set);
  return set;
}

}  // namespace edgeos::cli
