#include "edgeos/simulator/core_sim.hpp"

#include <fmt/format.h>

#include <stdexcept>

#include "edgeos/hosted/error.hpp"

namespace edgeos {
template class Kernel<sim::SimPlatform>;
}

namespace edgeos::sim {

const char* policy_name(Policy p) { return p == Policy::kEdf ? "edf" : "fp"; }

Policy parse_policy(std::string_view text, std::string_view what) {
  if (text == "edf") return Policy::kEdf;
  if (text == "fp") return Policy::kFixedPriority;
  throw InputError(fmt::format("{}: unknown policy '{}' (expected 'fp' or 'edf')", what, text));
}

CostFn fixed_cost(Duration c) {
  return [c](uint64_t) { return c; };
}

CostFn uniform_cost(Duration lo, Duration hi, Rng rng) {
  return [lo, hi, rng](uint64_t) mutable { return Duration::nanoseconds(rng.between(lo.ns(), hi.ns())); };
}

CostFn cost_sequence(std::vector<Duration> costs) {
  if (costs.empty()) throw InputError("cost_sequence: no costs given");
  return [costs = std::move(costs)](uint64_t job) { return costs[std::min<uint64_t>(job, costs.size() - 1)]; };
}

ArrivalFn sporadic_arrivals(Instant first, Duration min_gap, Duration max_extra, Rng rng) {
  return [next = first, min_gap, max_extra, rng]() mutable {
    const Instant now = next;
    const Duration extra = max_extra > Duration::zero()
                               ? Duration::nanoseconds(rng.between(0, max_extra.ns()))
                               : Duration::zero();
    next = next + min_gap + extra;
    return now;
  };
}

ArrivalFn arrival_sequence(std::vector<Instant> arrivals) {
  return [arrivals = std::move(arrivals), i = size_t{0}]() mutable {
    return i < arrivals.size() ? arrivals[i++] : Instant::never();
  };
}

// --- the simulated machine ------------------------------------------------------------------------

void SimPlatform::settle(CpuModel& c) {
  if (c.running != nullptr && now_ > c.progress_from) {
    ThreadModel& m = threads_[c.running->slot_index];
    m.remaining -= now_ - c.progress_from;
    c.progress_from = now_;
  }
}

void SimPlatform::switch_to(CpuId cpu, Thread* thread) {
  CpuModel& c = cpus_[cpu];
  settle(c);
  c.running = thread;
  if (thread == nullptr) {
    c.completion = Instant::never();
    return;
  }
  ThreadModel& m = threads_[thread->slot_index];
  if (!m.cost || m.id.generation != thread->slot_generation) {
    panic("simulated thread has no cost model (create threads with CoreSimulator::add_thread)", __FILE__,
          __LINE__);
  }
  if (m.loaded_release != thread->jobs_released) {
    m.loaded_release = thread->jobs_released;
    m.remaining = m.cost(thread->job());
    if (m.remaining <= Duration::zero()) panic("a cost model returned a non-positive cost", __FILE__, __LINE__);
  }
  c.progress_from = max(c.progress_from, now_);
  c.completion = c.progress_from + m.remaining;
}

void SimPlatform::charge_overhead(CpuId cpu, Overhead kind) {
  const Duration d = overheads_[kind];
  if (d == Duration::zero()) return;
  CpuModel& c = cpus_[cpu];
  settle(c);
  c.progress_from = max(c.progress_from, now_) + d;
  if (c.running != nullptr) c.completion = c.progress_from + threads_[c.running->slot_index].remaining;
}

// --- the simulator --------------------------------------------------------------------------------

CoreSimulator::CoreSimulator(const SimConfig& config, TraceSink& sink) : config_(config) {
  if (config.num_cpus == 0 || config.num_cpus >= kNoCpu) {
    throw InputError(fmt::format("num_cpus must be in [1, {}], got {}", kNoCpu - 1, config.num_cpus));
  }
  for (size_t i = 0; i < kNumOverheads; ++i) {
    if (config.overheads.cost[i] < Duration::zero()) throw InputError("overheads must be >= 0");
  }
  platform_.sink_ = &sink;
  platform_.overheads_ = config.overheads;
  platform_.cpus_.resize(config.num_cpus);
  platform_.threads_.resize(config.max_threads);

  cpus_ = std::make_unique<CpuState[]>(config.num_cpus);
  for (uint32_t c = 0; c < config.num_cpus; ++c) {
    if (config.policy == Policy::kEdf) {
      edf_storage_.emplace_back(config.max_threads);
      edf_.push_back(std::make_unique<EdfScheduler>(
          Span<EdfScheduler::Entry>(edf_storage_.back().data(), edf_storage_.back().size())));
      schedulers_.push_back(edf_.back().get());
    } else {
      fp_.push_back(std::make_unique<FixedPriorityScheduler>());
      schedulers_.push_back(fp_.back().get());
    }
  }
  threads_ = std::make_unique<Thread[]>(config.max_threads);
  scs_ = std::make_unique<SchedContext[]>(config.max_threads);
  fwps_ = std::make_unique<Fwp[]>(config.max_fwps);
  templates_ = std::make_unique<FwpTemplate[]>(config.max_templates);
  notifications_ = std::make_unique<Notification[]>(config.max_notifications);
  rings_ = std::make_unique<Ring[]>(config.max_rings);

  KernelStorage storage;
  storage.cpus = Span<CpuState>(cpus_.get(), config.num_cpus);
  storage.schedulers = Span<Scheduler* const>(schedulers_.data(), schedulers_.size());
  storage.threads = Span<Thread>(threads_.get(), config.max_threads);
  storage.sched_contexts = Span<SchedContext>(scs_.get(), config.max_threads);
  storage.fwps = Span<Fwp>(fwps_.get(), config.max_fwps);
  storage.templates = Span<FwpTemplate>(templates_.get(), config.max_templates);
  storage.notifications = Span<Notification>(notifications_.get(), config.max_notifications);
  storage.rings = Span<Ring>(rings_.get(), config.max_rings);
  kernel_ = std::make_unique<SimKernel>(platform_, storage, KernelOptions{config.check_invariants});
}

CoreSimulator::~CoreSimulator() = default;

Result<ThreadId> CoreSimulator::add_thread(const ThreadParams& params, CostFn cost, ArrivalFn arrivals) {
  if (!cost) return Error::kInvalidArgument;
  if ((params.release == ReleaseKind::kSporadic) != static_cast<bool>(arrivals)) return Error::kInvalidArgument;
  Result<ThreadId> id = kernel_->thread_create(params);
  if (!id) return id;
  SimPlatform::ThreadModel& m = platform_.threads_[id->index];
  m = SimPlatform::ThreadModel{};
  m.id = *id;
  m.cost = std::move(cost);
  m.arrivals = std::move(arrivals);
  if (m.arrivals) push_next_arrival(id->index);
  return id;
}

void CoreSimulator::push_next_arrival(uint32_t thread_index) {
  SimPlatform::ThreadModel& m = platform_.threads_[thread_index];
  const Instant next = m.arrivals();
  if (!next.is_never()) arrivals_.push(Arrival{next, thread_index});
}

void CoreSimulator::on_completion(CpuId cpu) {
  SimPlatform::CpuModel& c = platform_.cpus_[cpu];
  Thread* t = c.running;
  platform_.settle(c);
  SimPlatform::ThreadModel& m = platform_.threads_[t->slot_index];
  Instant next_arrival = Instant::never();
  if (t->release_kind == ReleaseKind::kSporadic && !m.pending.empty()) {
    next_arrival = m.pending.front();
    m.pending.pop_front();
  }
  const Status s = kernel_->complete(m.id, next_arrival);
  if (!s) panic("simulator: the kernel refused a job completion", __FILE__, __LINE__);
}

void CoreSimulator::on_arrival() {
  const Arrival a = arrivals_.top();
  arrivals_.pop();
  SimPlatform::ThreadModel& m = platform_.threads_[a.thread];
  Result<const Thread*> t = kernel_->thread(m.id);
  if (!t) return;  // the thread is gone; its arrivals with it
  push_next_arrival(a.thread);
  if ((*t)->state == ThreadState::kWaiting && m.pending.empty()) {
    const Status s = kernel_->release(m.id, a.when);
    if (!s) panic("simulator: the kernel refused a release", __FILE__, __LINE__);
  } else if (m.pending.size() < config_.max_pending_arrivals) {
    m.pending.push_back(a.when);
  } else {
    ++stats_.dropped_arrivals;
  }
}

RunStats CoreSimulator::run_until(Instant horizon) {
  const uint32_t n = config_.num_cpus;
  for (;;) {
    // The earliest event. Candidates are visited in (kind, index) order and only a strictly
    // earlier one replaces the choice, so ties go to completions, then timers, then arrivals,
    // each by CPU. Written with conditional moves: this scan runs once per event.
    Instant when = Instant::never();
    int kind = 3;
    uint32_t index = 0;
    auto consider = [&](Instant t, int k, uint32_t i) {
      const bool earlier = t < when;
      when = earlier ? t : when;
      kind = earlier ? k : kind;
      index = earlier ? i : index;
    };
    for (uint32_t c = 0; c < n; ++c) consider(platform_.cpus_[c].completion, 0, c);
    for (uint32_t c = 0; c < n; ++c) consider(platform_.cpus_[c].timer, 1, c);
    if (!arrivals_.empty()) consider(arrivals_.top().when, 2, 0);
    if (when.is_never() || when >= horizon) break;

    platform_.now_ = when;
    ++stats_.events;
    switch (kind) {
      case 0:
        on_completion(index);
        break;
      case 1:
        platform_.cpus_[index].timer = Instant::never();
        kernel_->timer_expired(index);
        break;
      default:
        on_arrival();
        break;
    }
  }
  if (horizon > platform_.now_ && !horizon.is_never()) platform_.now_ = horizon;
  kernel_->sync();
  stats_.records = platform_.records_;
  stats_.end = platform_.now_;
  return stats_;
}

}  // namespace edgeos::sim
