// The arrival streams of a scenario's workloads, built one way for every backend: the core-only
// simulator pulls them during a run (simulator/scenario_run.hpp); compile_scenario draws them
// ahead of time into the compiled scenario, which the kernel replays (scenario_blob.hpp).
//
// Arrivals name their thread by its canonical instance index: thread by thread in file order,
// instance by instance ("name", or "name#k" when the tenant has several instances), the order in
// which every backend creates threads.
//
// Random streams are keyed by what they drive (stream()), so adding a thread or a workload leaves
// every other stream, and so every other arrival, unchanged.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "edgeos/core/rng.hpp"
#include "edgeos/core/time.hpp"
#include "edgeos/workloads/arrivals.hpp"
#include "edgeos/workloads/scenario.hpp"

namespace edgeos::scenario {

// The random stream named `label` (FNV-1a of it) under `seed`, for instance `instance`.
Rng stream(uint64_t seed, std::string_view label, uint64_t instance = 0);

// "base" when the tenant has one instance, "base#k" otherwise.
std::string instance_name(const std::string& base, uint32_t k, uint32_t instances);

// The thread instance names a workload reference ("name" or "name#k") denotes.
std::vector<std::string> instance_names(const Scenario& s, const std::string& ref);

// Canonical thread-instance indices by name.
class ThreadInstances {
 public:
  explicit ThreadInstances(const Scenario& s);
  uint32_t size() const { return static_cast<uint32_t>(names_.size()); }
  const std::string& name(uint32_t index) const { return names_[index]; }
  // The index of instance `name`; it must exist (workloads are validated).
  uint32_t index(const std::string& name) const;

 private:
  std::vector<std::string> names_;
  std::vector<std::pair<std::string, uint32_t>> sorted_;
};

// A workload's source with what the model leaves open filled in: a request without a cost of its
// own gets the workload's (drawn from a stream of its own, so that changing a cost distribution
// never moves an arrival), one without a deadline the workload's. Counts what it yields by kind.
class WorkloadSource final : public arrivals::Source {
 public:
  WorkloadSource(std::unique_ptr<arrivals::Source> inner, Duration deadline, arrivals::CostFn cost, Rng cost_rng);
  bool next(arrivals::Arrival& a) override;
  std::vector<std::string> kinds() const override { return inner_->kinds(); }
  uint64_t generated() const { return generated_; }
  const std::vector<uint64_t>& per_kind() const { return per_kind_; }

 private:
  std::unique_ptr<arrivals::Source> inner_;
  Duration deadline_;
  arrivals::CostFn cost_;
  Rng cost_rng_;
  uint64_t generated_ = 0;
  std::vector<uint64_t> per_kind_;
};

// One arrival stream of a workload: one per driven thread instance (poisson, mmpp, iot, kv), one
// per pipeline instance (ar: frames enter stage 0), or one for a trace-driven workload.
struct WorkloadStream {
  std::unique_ptr<WorkloadSource> source;  // targets: canonical thread-instance indices
  // AR: the pipeline's stages (canonical thread-instance indices, stage 0 first). A frame's job
  // completing at stage i releases its job at stage i + 1 at once, with `stage_deadline`.
  std::vector<uint32_t> stages;
  Duration stage_deadline;
  Duration e2e_deadline;
};

// The streams of workload `index` of a validated scenario run with `seed` until `end`. Throws
// InputError for what validation cannot see (a trace-driven workload naming a multi-instance
// thread, an unreadable trace file).
std::vector<WorkloadStream> workload_streams(const Scenario& s, size_t index, uint64_t seed, Instant end,
                                             const ThreadInstances& threads);

// Every workload's streams, merged in the order the simulator delivers their arrivals: by time,
// then by stream (workload by workload, instance by instance). What the compiled scenario holds
// and what `edgeos replay` sends. Throws InputError as workload_streams does, and if a source
// goes back in time.
class MergedArrivals {
 public:
  MergedArrivals(const Scenario& s, uint64_t seed, Instant end, const ThreadInstances& threads);
  // The next arrival; `stream` receives the index of the stream it came from.
  bool next(arrivals::Arrival& a, uint32_t& stream);
  const std::vector<WorkloadStream>& streams() const { return streams_; }
  // The index in Scenario::workloads of stream `i`'s workload.
  size_t workload_of(uint32_t i) const { return workload_of_[i]; }

 private:
  struct Due {
    Instant when;
    uint32_t stream;
    bool operator>(const Due& o) const { return when != o.when ? when > o.when : stream > o.stream; }
  };
  std::string file_;
  std::vector<WorkloadStream> streams_;
  std::vector<size_t> workload_of_;
  std::vector<arrivals::Arrival> next_;
  std::vector<Due> due_;  // a min-heap by std::greater
};

}  // namespace edgeos::scenario
