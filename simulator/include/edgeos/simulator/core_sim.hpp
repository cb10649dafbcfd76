// The core-only simulator: the edgeos Kernel driven by a deterministic discrete-event loop.
//
// The simulated machine is N CPUs with one one-shot timer each. `SimPlatform` implements the
// Platform contract over it: switch_to starts a job's execution on a CPU, so the simulator knows
// when the job (or the current segment of it) will end, and charge_overhead delays the CPU's
// useful work by the modelled kernel overhead.
//
// What the simulated user code does is modelled per thread: each job has a cost (from the
// thread's cost model, or carried by the arrival that released it) and may make synchronous
// invocations part-way through (a job is then a sequence of segments: own work, work inside the
// callee, own work...; the kernel's call and reply run at each boundary). Sporadic threads are
// driven by arrival sources (workloads/arrivals.hpp), merged in time order; an arrival for a busy
// thread waits in that thread's queue, like a request in a server's socket.
//
// The event loop repeatedly takes the earliest of: a job segment ending, a CPU timer firing, an
// arrival; ties go in that order, then by CPU or source index, so a run is a pure function of its
// inputs: the same scenario and seed give a byte-identical trace.
#pragma once

#include <array>
#include <atomic>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <optional>
#include <queue>
#include <string_view>
#include <vector>

#include "edgeos/core/kernel.hpp"
#include "edgeos/core/rng.hpp"
#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/schedulers/edf.hpp"
#include "edgeos/schedulers/fixed_priority.hpp"
#include "edgeos/workloads/arrivals.hpp"

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

// A policy the simulator does not build itself (one defined in Python, a research prototype):
// called once per CPU when the simulator is constructed, it returns that CPU's scheduler, which
// the caller owns and keeps alive as long as the simulator. A null result is an InputError.
using SchedulerFactory = std::function<Scheduler*(CpuId cpu)>;

struct SimConfig {
  uint32_t num_cpus = 1;
  Policy policy = Policy::kEdf;  // on every CPU, unless cpu_policies says otherwise
  std::vector<Policy> cpu_policies;  // one per CPU (servers with different policies); may be empty
  // When set, replaces `policy` and `cpu_policies` on every CPU.
  SchedulerFactory scheduler_factory;
  // Scheduling domains (kernel.hpp, KernelStorage::domains): for each CPU, the lowest-numbered CPU
  // of its domain. Empty: partitioned (each CPU its own domain). A domain's CPUs must have the same
  // policy; the leader's scheduler serves the domain.
  std::vector<CpuId> domains;
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

// Successive arrival instants of one sporadic thread, non-decreasing; Instant::never() ends them.
using ArrivalFn = std::function<Instant()>;
// first, then each next = previous + min_gap + uniform[0, max_extra].
ArrivalFn sporadic_arrivals(Instant first, Duration min_gap, Duration max_extra, Rng rng);
ArrivalFn arrival_sequence(std::vector<Instant> arrivals);

// A synchronous invocation made by every job of a thread, after `at` of its own work.
struct CallPlan {
  Duration at;
  std::function<Duration(Rng&)> cost;  // work inside the callee
  CapSlot slot = 0;                    // the invoke capability in the thread's FWP
};

// What a completed job was released for.
struct JobInfo {
  Instant arrival;   // its release (a periodic job: its nominal release)
  uint64_t tag = 0;  // carried from the arrival (e.g. an AR frame number)
  uint16_t kind = 0;
  uint32_t size = 0;
  uint32_t source = kNoIndex;  // the arrival source, if any
};

class CoreSimulator;

// Told when a CPU changes hands (a backend that mirrors CPU occupancy, e.g. SimGrid's hosts).
class SwitchObserver {
 public:
  virtual ~SwitchObserver() = default;
  // `from` stops and `to` starts running on `cpu` (either may be null: idle), at the platform's now.
  virtual void on_switch(CpuId cpu, const Thread* from, const Thread* to) = 0;
};

class SimPlatform {
 public:
  Instant now() const { return now_; }
  // An instant already past fires at once (a domain's leader may be armed for one).
  void arm_timer(CpuId cpu, Instant when) { cpus_[cpu].timer = when < now_ ? now_ : when; }
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
    Instant timer = Instant::never();          // the armed one-shot timer
    Thread* running = nullptr;                 // what switch_to last installed
    Instant progress_from = Instant::epoch();  // the running job progresses from here on
    Instant completion = Instant::never();     // when its current segment ends, if undisturbed
  };
  struct Pending {
    arrivals::Arrival arrival;
    uint32_t source = kNoIndex;
  };
  struct ThreadModel {
    ThreadId id;
    CostFn cost;
    std::deque<Pending> pending;       // arrivals waiting for the thread's current job
    std::optional<Pending> releasing;  // the arrival the job being released was made for
    uint64_t releasing_job = 0;        // ... and the value jobs_released takes for it
    uint64_t loaded_release = ~uint64_t{0};  // jobs_released when the current job was loaded
    JobInfo job;
    // The current job as segments: own work, callee work, own work, ...; `segment` indexes it.
    std::vector<Duration> segments;
    size_t segment = 0;
    Duration remaining;  // of the current segment
    std::vector<CallPlan> calls;
    Rng call_rng{1};
    // Job durations are multiplied by this (a backend whose CPU runs at another speed than the
    // one the costs were given for); 1: as given.
    double time_scale = 1.0;
  };

  void settle(CpuModel& c);
  void load_job(ThreadModel& m, const Thread& t);

  Instant now_ = Instant::epoch();
  std::vector<CpuModel> cpus_;
  std::vector<ThreadModel> threads_;  // by thread index
  OverheadModel overheads_;
  TraceSink* sink_ = nullptr;
  SwitchObserver* observer_ = nullptr;
  std::function<void(ThreadId, uint64_t, const std::vector<Duration>&)> plan_hook_;
  uint64_t records_ = 0;
};

using SimKernel = Kernel<SimPlatform>;

struct RunStats {
  uint64_t events = 0;            // kernel entries: segment ends, timer expiries, arrivals
  uint64_t records = 0;           // trace records emitted
  uint64_t arrivals = 0;          // arrivals delivered
  uint64_t dropped_arrivals = 0;  // arrivals beyond max_pending_arrivals, or for dead threads
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

  // Creates a thread with its cost model. A sporadic thread may get its own arrival function
  // here, or be driven by arrival sources (add_source).
  Result<ThreadId> add_thread(const ThreadParams& params, CostFn cost, ArrivalFn arrivals = nullptr);
  // Synchronous invocations every job of `thread` makes (sorted by `at`).
  Status set_calls(ThreadId thread, std::vector<CallPlan> calls, Rng rng);
  // Every later job of `thread` takes `scale` times its cost (each piece of it, rounded to the
  // nanosecond): the SimGrid backend runs a server's work on a host of another speed.
  Status set_time_scale(ThreadId thread, double scale);

  // Arrival sources name their thread by an index into the target table.
  uint32_t add_target(ThreadId thread);
  ThreadId target(uint32_t index) const { return targets_[index]; }
  // Returns the source's index. Its first arrival is fetched now.
  uint32_t add_source(std::unique_ptr<arrivals::Source> source);
  const arrivals::Source& source(uint32_t index) const { return *sources_[index].source; }
  // The arrivals a source produced that were released or queued, and dropped.
  struct SourceCounts {
    uint64_t delivered = 0;
    uint64_t dropped = 0;
  };
  const SourceCounts& source_counts(uint32_t index) const { return sources_[index].counts; }
  uint32_t num_sources() const { return static_cast<uint32_t>(sources_.size()); }
  // Reads a source to its end without delivering anything, and returns how many arrivals it had
  // left: validation reads a trace whole, so that a malformed one fails before a run, not in
  // the middle. The source is spent afterwards (the simulator should not run on).
  uint64_t drain_source(uint32_t index);
  // An arrival now (e.g. from a completion hook): released at once if the thread waits, queued
  // otherwise. `source` is remembered in the job's JobInfo. False if dropped (queue full, thread
  // gone). Counts in the run's totals, not in the source's counts (which count what the source
  // itself produced).
  bool deliver(const arrivals::Arrival& a, uint32_t source = kNoIndex);

  // Called for every arrival about to be delivered (from a source or deliver()), before anything
  // else: it may change the arrival (its `setup`, say), or refuse it (false: dropped, as deliver()
  // returns). The scenario run keeps its per-client FWPs with it.
  using AdmitHook = std::function<bool(arrivals::Arrival&)>;
  void on_deliver(AdmitHook hook) { admit_ = std::move(hook); }

  // Called after every job completion, with the job's arrival record.
  using CompletionHook = std::function<void(ThreadId, const JobInfo&)>;
  void on_complete(CompletionHook hook) { hook_ = std::move(hook); }
  // Called when a job's plan is drawn (when it first runs): the thread, its job, the plan's
  // segments (own work, callee work, own work, ...), before any time scaling. What the booted
  // kernel prints with "plans" on its command line (edgeos validate --plans compares the two).
  using PlanHook = std::function<void(ThreadId, uint64_t job, const std::vector<Duration>& segments)>;
  void on_plan(PlanHook hook) { platform_.plan_hook_ = std::move(hook); }

  // Processes every event at an instant < horizon, then charges time up to the horizon. May be
  // called again with a later horizon to continue.
  RunStats run_until(Instant horizon);
  // Once *stop is true (a signal handler or an output limit sets it), run_until returns early,
  // between two instants, without moving the clock on; stopped() then says so. nullptr: never.
  void set_stop(const std::atomic<bool>* stop) { stop_ = stop; }
  bool stopped() const { return stopped_; }

  // The event loop in pieces, for a driver that owns the clock (the SimGrid backend): run_until is
  // process_before(h), advance_clock(h), then the kernel's sync.
  struct NextEvent {
    Instant when = Instant::never();
    uint8_t kind = 3;  // 0 segment end, 1 timer, 2 arrival
    uint32_t index = 0;
  };
  // The earliest pending event (when = never: none), chosen with run_until's tie rules.
  NextEvent next_event() const;
  // Processes every event at an instant < horizon, in the order run_until would.
  void process_before(Instant horizon);
  // Moves the clock forward to t (never back) without processing anything; events due before t
  // must have been processed.
  void advance_clock(Instant t);
  // Mirrors every change of the running thread of a CPU to `observer` (nullptr: none).
  void set_switch_observer(SwitchObserver* observer) { platform_.observer_ = observer; }

 private:
  void on_segment_end(CpuId cpu);
  void pump_source();
  void process(const NextEvent& e);

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

  struct SourceState {
    std::unique_ptr<arrivals::Source> source;
    arrivals::Arrival next;
    bool has_next = false;  // `next` holds an arrival not yet delivered
    SourceCounts counts;
  };
  std::vector<SourceState> sources_;
  std::vector<ThreadId> targets_;
  struct Due {
    Instant when;
    uint32_t source;
    bool operator>(const Due& o) const { return when != o.when ? when > o.when : source > o.source; }
  };
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
  CompletionHook hook_;
  AdmitHook admit_;
  RunStats stats_;
  const std::atomic<bool>* stop_ = nullptr;
  bool stopped_ = false;
};

}  // namespace edgeos::sim

namespace edgeos {
extern template class Kernel<sim::SimPlatform>;
}
