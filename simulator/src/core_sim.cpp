#include "edgeos/simulator/core_sim.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <stdexcept>

#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/job_driver.hpp"

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

namespace {

// An ArrivalFn as an arrival source for one target.
class FnSource final : public arrivals::Source {
 public:
  FnSource(ArrivalFn fn, uint32_t target) : fn_(std::move(fn)), target_(target) {}
  bool next(arrivals::Arrival& a) override {
    const Instant t = fn_();
    if (t.is_never()) return false;
    a = arrivals::Arrival{};
    a.time = t;
    a.target = target_;
    return true;
  }

 private:
  ArrivalFn fn_;
  uint32_t target_;
};

}  // namespace

// --- the simulated machine ------------------------------------------------------------------------

void SimPlatform::settle(CpuModel& c) {
  if (c.running != nullptr && now_ > c.progress_from) {
    ThreadModel& m = threads_[c.running->slot_index];
    m.remaining -= now_ - c.progress_from;
    c.progress_from = now_;
  }
}

// A new job starts: its cost, its arrival record, and its segments.
void SimPlatform::load_job(ThreadModel& m, const Thread& t) {
  m.loaded_release = t.jobs_released;
  Duration cost = Duration::zero();
  Duration setup = Duration::zero();
  m.job = JobInfo{};
  m.job.arrival = t.release;
  if (m.releasing && m.releasing_job == t.jobs_released) {
    const arrivals::Arrival& a = m.releasing->arrival;
    cost = a.cost;
    setup = a.setup;
    m.job.tag = a.tag;
    m.job.kind = a.kind;
    m.job.size = a.size;
    m.job.source = m.releasing->source;
  }
  m.releasing.reset();
  if (cost <= Duration::zero()) cost = m.cost(t.job());
  if (cost <= Duration::zero()) panic("a cost model returned a non-positive cost", __FILE__, __LINE__);
  cost += setup;
  // Own work, then for each call: the work inside the callee and the own work after it.
  m.segments.clear();
  workloads::plan_job(
      cost, static_cast<uint32_t>(m.calls.size()), [&](uint32_t i) { return m.calls[i].at; },
      [&](uint32_t i) { return m.calls[i].cost(m.call_rng); }, [&](Duration d) { m.segments.push_back(d); });
  if (plan_hook_) plan_hook_(m.id, t.job(), m.segments);
  if (m.time_scale != 1.0) {
    for (Duration& d : m.segments) {
      if (d > Duration::zero()) d = Duration::nanoseconds(std::max<int64_t>(1, std::llround(static_cast<double>(d.ns()) * m.time_scale)));
    }
  }
  m.segment = 0;
  m.remaining = m.segments[0];
}

void SimPlatform::switch_to(CpuId cpu, Thread* thread) {
  CpuModel& c = cpus_[cpu];
  settle(c);
  if (observer_ != nullptr && c.running != thread) observer_->on_switch(cpu, c.running, thread);
  c.running = thread;
  if (thread == nullptr) {
    c.completion = Instant::never();
    return;
  }
  ThreadModel& m = threads_[thread->slot_index];
  if (!m.cost || m.id.generation != thread->slot_generation) {
    panic("simulated thread has no cost model (create threads with CoreSimulator::add_thread)", __FILE__, __LINE__);
  }
  if (m.loaded_release != thread->jobs_released) load_job(m, *thread);
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
  if (!config.cpu_policies.empty() && config.cpu_policies.size() != config.num_cpus) {
    throw InputError(fmt::format("cpu_policies has {} entries for {} CPUs", config.cpu_policies.size(), config.num_cpus));
  }
  for (uint32_t c = 0; c < config.num_cpus; ++c) {
    if (config.scheduler_factory) {
      Scheduler* custom = config.scheduler_factory(static_cast<CpuId>(c));
      if (custom == nullptr) throw InputError(fmt::format("the scheduler factory returned no scheduler for CPU {}", c));
      schedulers_.push_back(custom);
      continue;
    }
    const Policy policy = config.cpu_policies.empty() ? config.policy : config.cpu_policies[c];
    if (policy == Policy::kEdf) {
      edf_storage_.emplace_back(config.max_threads);
      edf_.push_back(std::make_unique<EdfScheduler>(
          Span<EdfScheduler::Entry>(edf_storage_.back().data(), edf_storage_.back().size())));
      schedulers_.push_back(edf_.back().get());
    } else {
      fp_.push_back(std::make_unique<FixedPriorityScheduler>());
      schedulers_.push_back(fp_.back().get());
    }
  }
  if (!config.domains.empty()) {
    if (config.domains.size() != config.num_cpus) {
      throw InputError(fmt::format("domains has {} entries for {} CPUs", config.domains.size(), config.num_cpus));
    }
    for (uint32_t c = 0; c < config.num_cpus; ++c) {
      const CpuId l = config.domains[c];
      if (l > c || config.domains[l] != l) {
        throw InputError(fmt::format("domains: CPU {} names CPU {}, which is not the lowest CPU of a domain", c, l));
      }
      if (!config.cpu_policies.empty() && config.cpu_policies[c] != config.cpu_policies[l]) {
        throw InputError(fmt::format("domains: CPU {} and CPU {} share a domain but not a policy", c, l));
      }
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
  storage.domains = Span<const CpuId>(config_.domains.data(), config_.domains.size());
  storage.threads = Span<Thread>(threads_.get(), config.max_threads);
  storage.sched_contexts = Span<SchedContext>(scs_.get(), config.max_threads);
  storage.fwps = Span<Fwp>(fwps_.get(), config.max_fwps);
  storage.templates = Span<FwpTemplate>(templates_.get(), config.max_templates);
  storage.notifications = Span<Notification>(notifications_.get(), config.max_notifications);
  storage.rings = Span<Ring>(rings_.get(), config.max_rings);
  KernelOptions options;
  options.check_invariants = config.check_invariants;
  kernel_ = std::make_unique<SimKernel>(platform_, storage, options);
}

CoreSimulator::~CoreSimulator() = default;

Result<ThreadId> CoreSimulator::add_thread(const ThreadParams& params, CostFn cost, ArrivalFn arrivals) {
  if (!cost) return Error::kInvalidArgument;
  if (arrivals && params.release != ReleaseKind::kSporadic) return Error::kInvalidArgument;
  Result<ThreadId> id = kernel_->thread_create(params);
  if (!id) return id;
  SimPlatform::ThreadModel& m = platform_.threads_[id->index];
  m = SimPlatform::ThreadModel{};
  m.id = *id;
  m.cost = std::move(cost);
  if (arrivals) add_source(std::make_unique<FnSource>(std::move(arrivals), add_target(*id)));
  return id;
}

Status CoreSimulator::set_calls(ThreadId thread, std::vector<CallPlan> calls, Rng rng) {
  if (!kernel_->thread(thread)) return Error::kNotFound;
  std::stable_sort(calls.begin(), calls.end(), [](const CallPlan& a, const CallPlan& b) { return a.at < b.at; });
  SimPlatform::ThreadModel& m = platform_.threads_[thread.index];
  m.calls = std::move(calls);
  m.call_rng = rng;
  return Status::ok();
}

Status CoreSimulator::set_time_scale(ThreadId thread, double scale) {
  if (!kernel_->thread(thread)) return Error::kNotFound;
  if (!(scale > 0) || !std::isfinite(scale)) return Error::kInvalidArgument;
  platform_.threads_[thread.index].time_scale = scale;
  return Status::ok();
}

uint32_t CoreSimulator::add_target(ThreadId thread) {
  targets_.push_back(thread);
  return static_cast<uint32_t>(targets_.size() - 1);
}

uint32_t CoreSimulator::add_source(std::unique_ptr<arrivals::Source> source) {
  const uint32_t index = static_cast<uint32_t>(sources_.size());
  sources_.push_back(SourceState{std::move(source), {}, false, {}});
  SourceState& s = sources_.back();
  s.has_next = s.source->next(s.next);
  if (s.has_next) due_.push(Due{s.next.time, index});
  return index;
}

bool CoreSimulator::deliver(const arrivals::Arrival& in, uint32_t source) {
  if (in.target >= targets_.size()) panic("arrival for a target that does not exist", __FILE__, __LINE__);
  arrivals::Arrival a = in;
  if (admit_ && !admit_(a)) return false;
  const ThreadId id = targets_[a.target];
  Result<const Thread*> t = kernel_->thread(id);
  SimPlatform::ThreadModel* m = t ? &platform_.threads_[id.index] : nullptr;
  if (m == nullptr || m->pending.size() >= config_.max_pending_arrivals) {
    // The thread is gone (its arrivals with it), or its queue is full.
    ++stats_.dropped_arrivals;
    return false;
  }
  ++stats_.arrivals;
  if ((*t)->state == ThreadState::kWaiting && m->pending.empty()) {
    m->releasing = SimPlatform::Pending{a, source};
    m->releasing_job = (*t)->jobs_released + 1;
    const Status s = kernel_->release(id, a.time, a.deadline);
    if (!s) panic("simulator: the kernel refused a release", __FILE__, __LINE__);
  } else {
    m->pending.push_back(SimPlatform::Pending{a, source});
  }
  return true;
}

uint64_t CoreSimulator::drain_source(uint32_t index) {
  SourceState& s = sources_.at(index);
  uint64_t n = s.has_next ? 1 : 0;
  s.has_next = false;
  arrivals::Arrival a;
  Instant last = s.next.time;
  while (s.source->next(a)) {
    if (a.time < last) throw InputError("an arrival source went back in time");
    last = a.time;
    ++n;
  }
  return n;
}

void CoreSimulator::pump_source() {
  const uint32_t index = due_.top().source;
  due_.pop();
  SourceState& s = sources_[index];
  const arrivals::Arrival a = s.next;
  s.has_next = s.source->next(s.next);
  if (s.has_next) {
    if (s.next.time < a.time) throw InputError("an arrival source went back in time");
    due_.push(Due{s.next.time, index});
  }
  SourceCounts& counts = sources_[index].counts;
  ++(deliver(a, index) ? counts.delivered : counts.dropped);
}

void CoreSimulator::on_segment_end(CpuId cpu) {
  SimPlatform::CpuModel& c = platform_.cpus_[cpu];
  Thread* t = c.running;
  platform_.settle(c);
  SimPlatform::ThreadModel& m = platform_.threads_[t->slot_index];
  if (m.segment + 1 < m.segments.size()) {
    // A boundary inside the job: entering a callee (odd segments) or returning from it.
    ++m.segment;
    m.remaining = m.segments[m.segment];
    if (m.segment % 2 == 1) {
      if (!kernel_->call(m.id, m.calls[m.segment / 2].slot)) {
        // The callee is gone (or the call was refused): the job goes on without it.
        ++m.segment;
        m.remaining = m.segments[m.segment];
      }
    } else if (!kernel_->reply(m.id)) {
      // The callee was terminated mid-call: the kernel already returned the thread.
    }
    if (c.running == t) c.completion = max(c.progress_from, platform_.now_) + m.remaining;
    return;
  }
  const JobInfo done = m.job;
  Instant next_arrival = Instant::never();
  Duration next_deadline = Duration::zero();
  if (t->release_kind == ReleaseKind::kSporadic && !m.pending.empty()) {
    m.releasing = m.pending.front();
    m.releasing_job = t->jobs_released + 1;
    next_arrival = m.pending.front().arrival.time;
    next_deadline = m.pending.front().arrival.deadline;
    m.pending.pop_front();
  }
  const ThreadId id = m.id;
  const Status s = kernel_->complete(id, next_arrival, next_deadline);
  if (!s) panic("simulator: the kernel refused a job completion", __FILE__, __LINE__);
  if (hook_) hook_(id, done);
}

CoreSimulator::NextEvent CoreSimulator::next_event() const {
  // Candidates are visited in (kind, index) order and only a strictly earlier one replaces the
  // choice, so ties go to segment ends, then timers, then arrivals, each by CPU (or source).
  // Written with conditional moves: this scan runs once per event.
  const uint32_t n = config_.num_cpus;
  NextEvent e;
  auto consider = [&](Instant t, uint8_t k, uint32_t i) {
    const bool earlier = t < e.when;
    e.when = earlier ? t : e.when;
    e.kind = earlier ? k : e.kind;
    e.index = earlier ? i : e.index;
  };
  for (uint32_t c = 0; c < n; ++c) consider(platform_.cpus_[c].completion, 0, c);
  for (uint32_t c = 0; c < n; ++c) consider(platform_.cpus_[c].timer, 1, c);
  if (!due_.empty()) consider(due_.top().when, 2, 0);
  return e;
}

void CoreSimulator::process(const NextEvent& e) {
  platform_.now_ = e.when;
  ++stats_.events;
  switch (e.kind) {
    case 0:
      on_segment_end(e.index);
      break;
    case 1:
      platform_.cpus_[e.index].timer = Instant::never();
      kernel_->timer_expired(e.index);
      break;
    default:
      pump_source();
      break;
  }
}

void CoreSimulator::process_before(Instant horizon) {
  for (;;) {
    const NextEvent e = next_event();
    if (e.when.is_never() || e.when >= horizon) break;
    if (stop_ != nullptr && e.when > platform_.now_ && stop_->load(std::memory_order_relaxed)) {
      stopped_ = true;
      break;
    }
    process(e);
  }
}

void CoreSimulator::advance_clock(Instant t) {
  if (t > platform_.now_ && !t.is_never()) platform_.now_ = t;
}

RunStats CoreSimulator::run_until(Instant horizon) {
  process_before(horizon);
  if (!stopped_) advance_clock(horizon);
  kernel_->sync();
  stats_.records = platform_.records_;
  stats_.end = platform_.now_;
  return stats_;
}

}  // namespace edgeos::sim
