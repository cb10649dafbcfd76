// The SimGrid backend: a scenario on edge servers, devices and links simulated by SimGrid (S4U).
//
// The scheduling is not re-implemented here: the scenario is instantiated by ScenarioRun and its
// CoreSimulator (the same Kernel, policies, budgets and IPC as the core-only backend, one
// partitioned scheduler per CPU of every server), and its event loop is driven in pieces
// (CoreSimulator::next_event / process_before) by one S4U actor, the driver, which lets SimGrid's
// clock reach each event instant before processing it. The core keeps its integer-nanosecond
// clock: SimGrid's clock is a double in seconds, and an instant that went through it could come
// back a nanosecond off, which would break the backends' equivalence. What SimGrid adds:
//
//   - hosts: each server is a platform host (speed, cores); while a thread runs on one of the
//     server's CPUs an exec activity occupies one core of that host, started and cancelled at the
//     core's decisions, so the host's load, and the energy plugin, see the schedule;
//   - devices ([[device]] groups): one S4U actor per device, on its host, sends its share of the
//     workload's arrivals as requests to the server's host over the platform's links
//     (Comm::sendto); a request is delivered to its thread when its transfer ends, and the
//     response goes back the same way; end-to-end latency (device send to response received) is
//     reported per tenant;
//   - energy: SimGrid's host energy plugin (hosts with a wattage_per_state property), joules per
//     server and per tenant (each server's dynamic energy shared by CPU time);
//   - per-link bytes and utilisation.
//
// Network model: CM02 with its latency and bandwidth factors at 1, no TCP window bound
// (network/TCP-gamma:0) and no cross traffic, so that a transfer of S bytes alone on a route of
// latency L and bottleneck bandwidth B takes exactly L + S/B (SimGrid's "Configuring SimGrid"
// documentation, options network/model, network/latency-factor, network/bandwidth-factor,
// network/TCP-gamma and network/crosstraffic).
//
// SimGrid has one engine per process: construct at most one SimGridRun in a process.
#pragma once

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "edgeos/hosted/summary.hpp"
#include "edgeos/simulator/scenario_run.hpp"

namespace edgeos::sim {

struct SimGridOptions {
  // A SimGrid platform XML; empty: the servers' `platform` key, else one generated from the
  // scenario's servers and devices.
  std::string platform;
};

struct ServerEnergy {
  std::string server, host;
  bool metered = false;   // the host has a wattage_per_state property
  double joules = 0;      // over the run
  double idle_watts = 0;  // the host's idle power (pstate 0)
};

struct LinkUse {
  std::string name;
  double bandwidth = 0;  // bytes/s
  double latency = 0;    // s
  double bytes = 0;      // of the requests and responses that crossed it (transfer ended) during the run
  double utilisation = 0;  // bytes / (bandwidth * duration)
};

struct DeviceTraffic {
  std::string tenant;
  uint64_t requests = 0;   // sent by devices
  uint64_t delivered = 0;  // reached the server and released (or queued for) a job
  uint64_t answered = 0;   // response received by the device (or job completed, without responses)
  ResponseStats e2e;       // end-to-end latency: network + queueing + execution (+ response)
};

struct SimGridResult {
  RunStats stats;
  bool complete = true;  // false: interrupted; everything reported covers [0, end)
  Instant end;
  std::vector<ServerEnergy> servers;
  std::vector<double> tenant_joules;  // by scenario tenant
  std::vector<LinkUse> links;
  std::vector<DeviceTraffic> devices;  // by scenario tenant that devices talk to
  std::string platform;                // the file used, or "generated"
};

class SimGridRun {
 public:
  // Builds the platform and instantiates the scenario; throws InputError naming the file and
  // element for a platform SimGrid refuses, unknown hosts, too few cores.
  SimGridRun(const scenario::Scenario& s, const ScenarioOptions& options, const SimGridOptions& sg, TraceSink& sink);
  ~SimGridRun();
  SimGridRun(const SimGridRun&) = delete;
  SimGridRun& operator=(const SimGridRun&) = delete;

  ScenarioRun& scenario_run() { return *run_; }
  const ScenarioRun& scenario_run() const { return *run_; }

  // Simulates to the scenario's end, or until *stop becomes true (checked at every event
  // instant), reporting progress now and then. The result's `summary` numbers come from the trace.
  SimGridResult run(const ProgressFn& progress = nullptr, const std::atomic<bool>* stop = nullptr);

 private:
  struct Impl;
  std::unique_ptr<ScenarioRun> run_;
  std::unique_ptr<Impl> impl_;
};

// summary.json of a SimGrid run: scenario_summary_json plus "backend", "complete" and "simgrid"
// (platform, per-server and per-tenant energy, per-link utilisation, device end-to-end latency).
std::string simgrid_summary_json(const SimGridRun& run, const Summary& summary, const SimGridResult& result);
// Plain-text tables of the same.
std::string format_simgrid_tables(const SimGridRun& run, const Summary& summary, const SimGridResult& result);

}  // namespace edgeos::sim
