// Running a scenario (workloads/scenario.hpp) on the core-only simulator.
//
// A scenario is instantiated in one canonical order, which the compiled scenario
// (workloads/scenario_blob.hpp) follows too, so the same file yields the same object ids in every
// backend:
//   1. CPUs: server by server, each server's CPUs numbered consecutively; each CPU runs its
//      server's policy (every server shares one simulated clock; servers do not talk here);
//   2. templates: the declared ones in order, then one implicit template per tenant that names
//      none; each template's pool is prefilled;
//   3. FWPs: tenant by tenant, instance 0..n-1 ("tenant", or "tenant#k" when n > 1);
//   4. rings: ring by ring, one per producer instance;
//   5. capabilities, FWP by FWP: invoke capabilities for the callees of its threads' calls and of
//      [[invoke]] entries (each callee once, in order of first mention), then its ring ends in
//      ring order. Instance k of a tenant is wired to instance k mod m of a tenant with m;
//   6. threads: thread by thread, instance by instance ("name", or "name#k"); instance k of a
//      spread thread runs on CPU (cpu + k) mod cpus of its server.
//
// Workloads become arrival sources: one per instance of the thread they drive, each with its own
// random stream (seeded from the workload's seed, or from the scenario seed and the workload's
// name), so adding a workload never changes the arrivals of another. AR pipelines chain their
// stages: a frame's job at stage i completing releases its job at stage i + 1 at once; the
// frame's end-to-end latency is measured from its arrival to the last stage's completion.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgeos/hosted/summary.hpp"
#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/simulator/core_sim.hpp"
#include "edgeos/simulator/per_client.hpp"
#include "edgeos/simulator/task_set_run.hpp"
#include "edgeos/workloads/scenario.hpp"
#include "edgeos/workloads/scenario_arrivals.hpp"

namespace edgeos::sim {

struct ScenarioOptions {
  std::optional<uint64_t> seed;        // replaces the scenario's seed
  std::optional<Duration> duration;    // replaces the scenario's duration
  bool check_invariants = false;
  OverheadModel overheads;
  size_t max_pending_arrivals = 1 << 20;  // per thread; see SimConfig
  SchedulerFactory scheduler_factory;     // replaces every server's policy; see SimConfig
  // Workloads (by index) whose arrivals a backend carries to the server itself: the SimGrid
  // backend sends them from devices over its network. Their sources are not given to the
  // simulator; the backend reads them (carried_source) and delivers each arrival when it reaches
  // the server (deliver_carried). Empty: none.
  std::vector<bool> carried_workloads;
};

// JobInfo::source of a job released by a carried arrival: kCarriedSource | the carried index.
inline constexpr uint32_t kCarriedSource = 0x8000'0000u;

// What one workload did over the run (summed over the instances it drives).
struct WorkloadResult {
  std::string name;
  std::string kind;        // "poisson", "ar", ...
  uint32_t sources = 0;    // one per driven thread instance
  uint64_t generated = 0;  // arrivals produced by the model or read from the trace (AR: frames)
  uint64_t delivered = 0;  // released or queued at their thread
  uint64_t dropped = 0;    // refused: the thread's queue was full
  std::vector<std::pair<std::string, uint64_t>> by_kind;  // generated, per record kind (kv: get/set)
  // AR pipelines: frames that left the last stage, those later than the end-to-end deadline, and
  // their end-to-end latency.
  uint64_t frames_done = 0;
  uint64_t frames_late = 0;
  Duration e2e_deadline;
  ResponseStats e2e;
  // clients: response time (arrival to completion) of its requests, by kind (first, repeat).
  std::vector<std::pair<std::string, ResponseStats>> response_by_kind;
};

// The kernel objects a scenario was instantiated into, by scenario entity.
struct ScenarioLayout {
  std::vector<uint32_t> server_first_cpu;        // per server
  std::vector<TemplateId> templates;             // declared, then implicit ones
  std::vector<std::vector<FwpId>> fwps;          // per tenant, per instance
  std::vector<std::vector<ThreadId>> threads;    // per thread spec, per instance
  std::vector<RingId> rings;                     // ring by ring, producer instance by instance
  std::vector<uint32_t> tenant_of_fwp;           // by FWP index: the tenant it instantiates
};

class ScenarioRun {
 public:
  // Instantiates the (validated) scenario; throws InputError for what only instantiation finds
  // (capability tables overflowing, capacity).
  ScenarioRun(const scenario::Scenario& s, const ScenarioOptions& options, TraceSink& sink);
  ~ScenarioRun();
  ScenarioRun(const ScenarioRun&) = delete;
  ScenarioRun& operator=(const ScenarioRun&) = delete;

  const scenario::Scenario& scenario() const { return s_; }
  const TraceNames& names() const { return names_; }
  const ScenarioLayout& layout() const { return layout_; }
  uint32_t num_cpus() const;
  uint64_t seed() const { return seed_; }
  Instant end() const { return end_; }
  CoreSimulator& simulator() { return *sim_; }

  // Simulates up to min(until, end()); may be called again with a later instant.
  RunStats run_until(Instant until);
  // Simulates to the end, reporting progress about a hundred times. Returns early, between two
  // instants, once *stop is true (then stopped()).
  RunStats run(const ProgressFn& progress = nullptr, const std::atomic<bool>* stop = nullptr);
  bool stopped() const { return sim_->stopped(); }

  std::vector<WorkloadResult> workload_results() const;
  // The per-client fronts (tenants of per_client templates) and their flows' counts.
  const PerClientFronts& per_client() const { return *fronts_; }

  // Carried workloads' sources (ScenarioOptions::carried_workloads), one per driven instance.
  uint32_t num_carried() const { return static_cast<uint32_t>(carried_.size()); }
  arrivals::Source& carried_source(uint32_t i) { return *carried_[i].source; }
  size_t carried_workload(uint32_t i) const { return carried_[i].workload; }
  // An arrival of carried source i reaches its thread now (see CoreSimulator::deliver); the job
  // it releases has JobInfo::source = kCarriedSource | i. False if dropped.
  bool deliver_carried(uint32_t i, const arrivals::Arrival& a);
  // Called after every job completion, after the scenario's own bookkeeping.
  void on_job_complete(CoreSimulator::CompletionHook hook) { extra_hook_ = std::move(hook); }

  // Reads every trace-driven workload (trace, azure, pcap) to its end, so that a malformed file
  // is reported now; returns the arrivals read. For `edgeos check`: the run cannot go on after.
  uint64_t scan_traces();

 private:
  struct Pipeline;
  void instantiate();
  void add_workload(size_t index);
  void on_complete(ThreadId thread, const JobInfo& job);

  const scenario::Scenario& s_;
  ScenarioOptions options_;
  uint64_t seed_;
  Instant end_;
  std::unique_ptr<CoreSimulator> sim_;
  TraceNames names_;
  ScenarioLayout layout_;
  std::vector<std::vector<uint8_t>> ring_storage_;
  std::unique_ptr<scenario::ThreadInstances> instances_;
  std::vector<ThreadId> target_threads_;  // by canonical thread-instance index = target index

  struct WorkloadState {
    std::vector<uint32_t> sources;
    std::vector<scenario::WorkloadSource*> counters;
    std::vector<Pipeline*> pipelines;
  };
  std::vector<WorkloadState> workloads_;
  std::vector<std::unique_ptr<Pipeline>> pipelines_;
  std::vector<Pipeline*> pipeline_of_source_;  // by source index; null for other sources
  // clients workloads: the workload of a source (kNoIndex for others), and its requests' response
  // times by workload and kind.
  std::vector<uint32_t> clients_workload_of_source_;
  std::vector<std::vector<std::vector<Duration>>> responses_by_kind_;
  struct Carried {
    size_t workload;
    std::unique_ptr<arrivals::Source> source;
    CoreSimulator::SourceCounts counts;
  };
  std::vector<Carried> carried_;
  CoreSimulator::CompletionHook extra_hook_;
  std::unique_ptr<PerClientFronts> fronts_;
};

// The summary builder's tenant groups for a run: FWP instances grouped by scenario tenant.
void group_by_tenant(const ScenarioRun& run, SummaryBuilder& builder);

// summary.json of a scenario run: the trace summary (summary_json) plus "scenario" (name, file,
// seed, duration, servers), "run" counters, "workloads" and, with per-client fronts, "per_client".
std::string scenario_summary_json(const ScenarioRun& run, const Summary& summary, const RunStats& stats);
// A plain-text table of the workloads: arrivals, drops, per-kind counts, AR end-to-end latency.
std::string format_workloads_table(const std::vector<WorkloadResult>& workloads);

using scenario::instance_names;

}  // namespace edgeos::sim
