// Scenarios: one description of an experiment for every backend (docs/scenario.md).
//
// A scenario names its servers, FWP templates, tenants (FWPs), threads with their scheduling
// contexts, the IPC wiring between tenants, and the workloads that drive the threads. It is read
// from TOML (scenario_toml.hpp), run by the core-only simulator (simulator/scenario_run.hpp) and
// the SimGrid backend, and compiled to a binary blob the kernel boots with (scenario_blob.hpp).
// Every spec remembers where in the file it came from, so later errors can point there.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgeos/core/rng.hpp"
#include "edgeos/core/sched_context.hpp"
#include "edgeos/core/thread.hpp"
#include "edgeos/core/time.hpp"
#include "edgeos/workloads/job_driver.hpp"

namespace edgeos {
struct TaskSet;
}

namespace edgeos::scenario {

struct Location {
  std::string file;
  int line = 0;
  int column = 0;
  std::string describe() const;  // "file:line:column"
};

// A distribution of durations (job costs, stage costs). Costs may be given in cycles; they are
// converted with the speed of the thread's server when the scenario is resolved.
struct CostDist {
  using Kind = workloads::CostKind;
  Kind kind = Kind::kFixed;
  Duration value;   // fixed; mean (normal, exponential); median (lognormal)
  Duration min;     // uniform lower bound; truncation of normal and lognormal
  Duration max;     // uniform upper bound; truncation of normal and lognormal (0: none)
  Duration sd;      // normal
  double sigma = 0; // lognormal: standard deviation of the underlying normal

  // As the workload driver draws from it (job_driver.hpp), in every backend: sigma in ppm.
  workloads::CostModel model() const;
  // A draw, at least 1ns: workloads::draw_cost(model()).
  Duration sample(Rng& rng) const;
  // The mean of the distribution (truncation ignored), for utilisation reports.
  Duration mean() const;
};

// A server's network card, for the kernel backend (the simulators do not model packets yet):
// the device the machine gets (QEMU's -device), its MAC, and the IPv4 address the driver FWP's
// stack answers on. The defaults are QEMU's user-mode network's guest.
struct Nic {
  std::string model = "none";  // none, virtio, e1000
  uint8_t mac[6] = {0x52, 0x54, 0x00, 0x12, 0x34, 0x56};
  uint32_t ipv4 = 0x0a00'020f;  // 10.0.2.15, host byte order
  Location where;
};

struct Server {
  std::string name;
  uint32_t cpus = 1;
  double speed_hz = 1e9;     // converts costs given in cycles
  std::string policy = "edf";  // "fp" or "edf", on every CPU
  // "partitioned" (each CPU its own scheduling domain, the default), "global" (one domain of all
  // the server's CPUs) or "clustered" (the domains listed in `domains`).
  std::string scheduling = "partitioned";
  // Clustered: each domain a list of the server's CPUs (0-based within the server); a CPU listed
  // in no domain is a domain of its own.
  std::vector<std::vector<uint32_t>> domains;
  // For each of the server's CPUs, the lowest CPU (within the server) of its domain.
  std::vector<uint32_t> domain_leaders() const;
  std::string platform;      // SimGrid platform XML (SimGrid backend), relative to the scenario
  std::string host;          // the platform host that plays this server
  Nic nic;
  Location where;
};

struct Template {
  std::string name;
  uint32_t pool = 0;           // recycled FWPs kept initialised
  uint32_t max_instances = 0;  // 0: limited by capacity only
  // The memory budget of each FWP made from it, in bytes (0: none but the kernel's heap limit):
  // the kernel refuses heap pages past it (kernel backend; the simulators do not model memory).
  uint64_t memory = 0;
  // Per-client (EdgeOS's per-client isolation; kernel backend): a tenant made from it is a front
  // whose every client (address and port) gets an FWP of its own, made from this template on the
  // client's first datagram and recycled after `idle_timeout` without one.
  bool per_client = false;
  Duration idle_timeout = Duration::seconds(10);
  // Per-client, simulators only: the work of making a client's FWP from the checkpoint, added to
  // its first request (the kernel does the real work; `make paper` measures it there).
  Duration create_cost = Duration::zero();
  Location where;
};

struct Tenant {
  std::string name;
  std::string server;    // resolved: never empty after validation
  std::string tmpl;      // empty: the tenant gets an implicit template of its own
  uint32_t instances = 1;  // FWPs of this tenant; each runs a copy of its threads
  uint64_t memory = 0;     // its implicit template's memory budget (Template::memory)
  // UDP ports whose datagrams the server's driver FWP copies to this tenant (kernel backend).
  std::vector<uint16_t> udp_ports;
  Location udp_where;
  Location where;
};

// A synchronous invocation inside each job of a thread.
struct CallSpec {
  std::string to;  // tenant whose FWP is called
  Duration at;     // after this much of the job's own work
  CostDist cost;   // work done inside the callee, on the caller's scheduling context
  Location where;
};

struct ThreadSpec {
  std::string name;  // unique in the scenario; instance k of a multi-instance tenant is "name#k"
  std::string tenant;
  uint32_t cpu = 0;
  bool spread = false;  // multi-instance tenants: instance k runs on CPU (cpu + k) % cpus
  ReleaseKind release = ReleaseKind::kPeriodic;
  Duration period;                        // periodic: period; sporadic: minimum inter-arrival
  Duration deadline = Duration::zero();   // relative; 0: the period
  Duration phase = Duration::zero();
  CostDist cost;
  SchedParams sched;  // priority, scheduling deadline (0: the job deadline), budget, server
  std::vector<CallSpec> calls;
  uint8_t program = 0;  // kernel backend only: blob::kPrograms (0: "task")
  Location where;

  Duration job_deadline() const { return deadline == Duration::zero() ? period : deadline; }
};

struct Invoke {
  std::string from, to;  // tenants
  Location where;
};

struct RingSpec {
  std::string name;
  std::string from, to;  // producer and consumer tenants
  uint32_t slots = 64;
  uint32_t slot_size = 256;
  Location where;
};

struct Burst {
  Duration at;
  uint32_t count = 0;
  Duration within;
};

enum class WorkloadKind : uint8_t { kPoisson, kMmpp, kIot, kAr, kKv, kTrace, kAzure, kPcap, kClients };
const char* workload_kind_name(WorkloadKind k);

// What drives sporadic threads. Fields apply per kind (docs/scenario.md); the parser rejects
// keys that do not belong to the kind.
struct Workload {
  std::string name;
  WorkloadKind kind = WorkloadKind::kPoisson;
  std::string target;                   // thread served (poisson, mmpp, iot, kv, pcap)
  Duration start = Duration::zero();
  Duration stop = Duration::zero();     // 0: the scenario's duration
  std::optional<CostDist> cost;         // per arrival; default: the target thread's cost
  Duration deadline = Duration::zero(); // per arrival relative deadline; 0: the thread's
  uint64_t seed = 0;                    // 0: derived from the scenario seed and the name
  // poisson, kv, clients
  double rate = 0;  // arrivals per second (kv: the ETC inter-arrival shape, scaled to this mean;
                    // clients: new clients per second)
  // clients: each new client sends `requests` requests, `gap` apart
  uint32_t requests = 2;
  Duration gap = Duration::milliseconds(10);
  // mmpp
  std::vector<double> rates;
  std::vector<Duration> sojourn;                  // mean holding time per state
  std::vector<std::vector<double>> transitions;   // jump probabilities; default uniform
  // iot
  uint32_t sensors = 0;
  Duration sensor_period;
  Duration jitter = Duration::zero();
  std::vector<Burst> bursts;
  // ar
  std::vector<std::string> stages;  // threads, in pipeline order
  double fps = 0;
  Duration e2e_deadline = Duration::zero();  // 0: one frame period
  // kv
  double get_ratio = 30.0 / 31.0;  // ETC: 30 gets per set
  Duration cost_base = Duration::zero();
  Duration cost_per_kib = Duration::zero();
  // trace, azure, pcap
  std::string file;                              // resolved relative to the scenario file
  std::map<std::string, std::string> targets;    // trace: tenant -> thread; pcap: port -> thread
  std::vector<std::string> target_list;          // azure: functions map onto these, round robin
  uint32_t minute_from = 0, minute_to = 1440;    // azure
  double scale = 1.0;                            // azure: invocation count multiplier
  Location where;
};

// A group of devices (IoT sensors, AR clients) that send a workload's arrivals to its server over
// the network as requests, and get a response back (SimGrid backend; the core-only simulator
// releases the arrivals directly). Arrival i of the workload is sent by device i mod count.
struct DeviceGroup {
  std::string name;
  std::string prefix;       // devices are the platform hosts "prefix-first" .. "prefix-<first+count-1>"
  uint32_t first = 0;
  uint32_t count = 1;
  std::string workload;     // the workload whose arrivals the devices send (not ar)
  uint64_t request_bytes = 0;
  uint64_t response_bytes = 0;  // 0: no response (end-to-end latency ends at completion)
  // Generated platforms only (no platform file): each device's access link to the servers.
  Duration latency = Duration::zero();
  double bandwidth_bps = 1e9;  // bytes per second
  Location where;
};

struct Scenario {
  std::string name;
  std::string file;  // where it was read from ("" if built in code)
  Duration duration;
  uint64_t seed = 1;
  std::vector<Server> servers;
  std::vector<Template> templates;
  std::vector<Tenant> tenants;
  std::vector<ThreadSpec> threads;
  std::vector<Invoke> invokes;
  std::vector<RingSpec> rings;
  std::vector<Workload> workloads;
  std::vector<DeviceGroup> devices;

  const Server* find_server(const std::string& n) const;
  const Tenant* find_tenant(const std::string& n) const;
  const ThreadSpec* find_thread(const std::string& n) const;
};

// A workload names a thread as "name" (every instance of a multi-instance tenant) or "name#k"
// (instance k only).
struct ThreadRef {
  std::string thread;
  std::optional<uint32_t> instance;
};
// Splits "name#k"; a malformed instance number yields no instance and a name containing '#'.
ThreadRef split_thread_ref(const std::string& ref);

// Cross-references and values the parser cannot check on its own (unknown tenants, threads that a
// workload drives but that are not sporadic, CPUs out of range, CBS under FP...). Throws
// InputError naming the file, line, column and key.
void validate(const Scenario& s);

// Totals of a validated scenario, for `edgeos check`.
struct ScenarioStats {
  size_t fwps = 0;
  size_t threads = 0;
  double utilisation = 0;  // periodic threads' mean cost / period, summed
};
ScenarioStats stats(const Scenario& s);

// The scenario as a task set for schedulability analysis: one task per thread instance, on its
// global CPU (servers' CPUs numbered in order). C is the cost's upper bound plus its calls'
// (a distribution without one is an error: give it a `max`); a thread with a server is analysed
// as its server: a periodic task (budget, server_period) with D = server_period, plus release
// jitter server_period - budget for a deferrable server, whose budget can run back to back
// (Strosnider, Lehoczky & Sha 1995). A sporadic thread without a server is analysed with its
// declared minimum inter-arrival time `period`. `notes` receives what the user should know.
edgeos::TaskSet to_task_set(const Scenario& s, std::vector<std::string>* notes);

}  // namespace edgeos::scenario
