// The core-only simulator: the edgeos Kernel driven by a deterministic discrete-event loop.
//
// The simulated machine is N CPUs with one one-shot timer each. `SimPlatform` implements the
// Platform contract over it: switch_to starts a job's execution on a CPU, so the simulator knows
// when the job will complete (its cost, drawn per job from the thread's cost model, minus what it
// already ran), and charge_overhead delays the CPU's useful work by the modelled kernel overhead.
//
// The event loop repeatedly takes the earliest of: a job completing, a CPU timer firing, a
// sporadic arrival; ties go in that order, then by CPU or thread index, so a run is a pure
// function of its inputs: the same task set and seed give a byte-identical trace.
#pragma once

#include <array>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <queue>
#include <string_view>
#include <vector>

#include "edgeos/core/kernel.hpp"
#include "edgeos/core/rng.hpp"
#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/schedulers/edf.hpp"
#include "edgeos/schedulers/fixed_priority.hpp"

namespace edgeos::sim {

enum class Policy : uint8_t { kFixedPriority, kEdf };

const char* policy_name(Policy p);  // "fp", "edf"
// Accepts "fp", "edf". Throws InputError naming `what` otherwise.
Policy parse_policy(std::string_view text, std::string_view what);

// The cost the simulated CPU pays for each kind of kernel work (zero by default).
struct OverheadModel {
  std::array<Duration, kNumOverheads> cost{};
  Duration& operator[](Overhead o) { return cost[static_cast<size_t>(o)]; }
  Duration operator[](Overhead o) const { return cost[static_cast<size_t>(o)]; }
};

struct SimConfig {
  uint32_t num_cpus = 1;
  Policy policy = Policy::kEdf;  // on every CPU
  OverheadModel overheads;
  // Check the kernel's invariants after every event (slow; default on in debug builds).
  bool check_invariants = kDebugBuild;
  uint32_t max_threads = 4096;
  uint32_t max_fwps = 1024;
  uint32_t max_templates = 256;
  uint32_t max_notifications = 256;
  uint32_t max_rings = 256;
  // Arrivals queued for a thread still busy with an earlier job; beyond this they are dropped
  // (and counted): an overloaded sporadic thread must not exhaust the host's memory.
  size_t max_pending_arrivals = 1 << 20;
};

// The execution time of job k of a thread (> 0).
using CostFn = std::function<Duration(uint64_t job)>;
CostFn fixed_cost(Duration c);
// Uniform in [lo, hi], drawn from `rng` in job order.
CostFn uniform_cost(Duration lo, Duration hi, Rng rng);
// costs[k] for job k, the last entry for later jobs.
CostFn cost_sequence(std::vector<Duration> costs);

// Successive arrival instants of a sporadic thread, non-decreasing; Instant::never() ends them.
using ArrivalFn = std::function<Instant()>;
// first, then each next = previous + min_gap + uniform[0, max_extra].
ArrivalFn sporadic_arrivals(Instant first, Duration min_gap, Duration max_extra, Rng rng);
ArrivalFn arrival_sequence(std::vector<Instant> arrivals);

class CoreSimulator;

class SimPlatform {
 public:
  Instant now() const { return now_; }
  void arm_timer(CpuId cpu, Instant when) { cpus_[cpu].timer = when; }
  void switch_to(CpuId cpu, Thread* thread);
  void charge_overhead(CpuId cpu, Overhead kind);
  void trace(const TraceRecord& r) {
    ++records_;
    sink_->write(r);
  }
  Status fwp_instantiate(Fwp&, const FwpTemplate&) { return Status::ok(); }
  Status fwp_reset(Fwp&, const FwpTemplate&) { return Status::ok(); }
  void fwp_release(Fwp&) {}

 private:
  friend class CoreSimulator;

  struct CpuModel {
    Instant timer = Instant::never();        // the armed one-shot timer
    Thread* running = nullptr;               // what switch_to last installed
    Instant progress_from = Instant::epoch();  // the running job progresses from here on
    Instant completion = Instant::never();   // when the running job completes, if undisturbed
  };
  struct ThreadModel {
    ThreadId id;
    CostFn cost;
    ArrivalFn arrivals;
    std::deque<Instant> pending;  // arrivals waiting for the thread's previous job
    uint64_t loaded_release = ~uint64_t{0};  // jobs_released when `remaining` was loaded
    Duration remaining;
  };

  void settle(CpuModel& c);

  Instant now_ = Instant::epoch();
  std::vector<CpuModel> cpus_;
  std::vector<ThreadModel> threads_;  // by thread index
  OverheadModel overheads_;
  TraceSink* sink_ = nullptr;
  uint64_t records_ = 0;
};

using SimKernel = Kernel<SimPlatform>;

struct RunStats {
  uint64_t events = 0;            // kernel entries: completions, timer expiries, arrivals
  uint64_t records = 0;           // trace records emitted
  uint64_t dropped_arrivals = 0;  // arrivals beyond max_pending_arrivals
  Instant end;
};

class CoreSimulator {
 public:
  CoreSimulator(const SimConfig& config, TraceSink& sink);
  ~CoreSimulator();
  CoreSimulator(const CoreSimulator&) = delete;
  CoreSimulator& operator=(const CoreSimulator&) = delete;

  SimKernel& kernel() { return *kernel_; }
  const SimKernel& kernel() const { return *kernel_; }
  const SimConfig& config() const { return config_; }
  Instant now() const { return platform_.now(); }

  // Creates a thread with its execution model. Sporadic threads need `arrivals`.
  Result<ThreadId> add_thread(const ThreadParams& params, CostFn cost, ArrivalFn arrivals = nullptr);

  // Processes every event at an instant < horizon, then charges time up to the horizon. May be
  // called again with a later horizon to continue.
  RunStats run_until(Instant horizon);

 private:
  void on_completion(CpuId cpu);
  void on_arrival();
  void push_next_arrival(uint32_t thread_index);

  SimConfig config_;
  SimPlatform platform_;
  std::unique_ptr<CpuState[]> cpus_;
  std::vector<std::unique_ptr<FixedPriorityScheduler>> fp_;
  std::vector<std::unique_ptr<EdfScheduler>> edf_;
  std::vector<std::vector<EdfScheduler::Entry>> edf_storage_;
  std::vector<Scheduler*> schedulers_;
  std::unique_ptr<Thread[]> threads_;
  std::unique_ptr<SchedContext[]> scs_;
  std::unique_ptr<Fwp[]> fwps_;
  std::unique_ptr<FwpTemplate[]> templates_;
  std::unique_ptr<Notification[]> notifications_;
  std::unique_ptr<Ring[]> rings_;
  std::unique_ptr<SimKernel> kernel_;

  struct Arrival {
    Instant when;
    uint32_t thread;
    bool operator>(const Arrival& o) const { return when != o.when ? when > o.when : thread > o.thread; }
  };
  std::priority_queue<Arrival, std::vector<Arrival>, std::greater<>> arrivals_;
  RunStats stats_;
};

}  // namespace edgeos::sim

namespace edgeos {
extern template class Kernel<sim::SimPlatform>;
}
