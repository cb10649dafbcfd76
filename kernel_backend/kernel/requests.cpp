// Requests and jobs (kernel_backend/README.md, "Requests", "Work"): each job's plan drawn from the
// thread's cost model with the simulator's random streams, and the compiled scenario's arrivals
// delivered to sporadic threads, queued while a thread is busy, and AR frames handed from stage
// to stage, as the simulator does (simulator/core_sim.cpp). kernel.cpp calls these from the timer
// (on_timer: deliver_arrival) and the system calls from kSysJob and kSysComplete.
#include "console.hpp"
#include "kstate.hpp"

extern "C" void* memcpy(void*, const void*, edgeos::size_t);

namespace edgeos::kernel {

uint32_t arrival_cursor[x86::kMaxCpus] = {};
uint16_t* canonical_cpu = nullptr;
uint64_t requests_delivered = 0, requests_dropped = 0;
bool plan_trace = false;

// The stream "<prefix><thread name>[#k]", as the simulator names it (simulator/scenario_run.cpp).
Rng thread_stream(const char* prefix, uint32_t blob_thread, uint32_t instance) {
  const blob::ThreadRec t = scenario.thread(blob_thread);
  workloads::StreamName name;
  name.add(prefix).add(scenario.string(t.name));
  if (scenario.tenant(t.tenant).instances > 1) name.add("#").add_number(instance);
  return name.rng(scenario.seed());
}

namespace {

// Draws job `job`'s plan for thread `t` (once per job), as the simulator does (job_driver.hpp).
void plan_job(KThread& kt, const Thread& t) {
  const uint64_t job = t.job();
  if (kt.planned_job == job) return;
  kt.planned_job = job;
  const blob::ThreadRec rec = scenario.thread(kt.blob_thread);
  // A request's own cost, or a draw from the thread's model (only then: as in the simulator, a
  // request with a cost leaves the thread's stream untouched).
  const bool own = kt.request_job == t.jobs_released && kt.request_cost > Duration::zero();
  const Duration cost = own ? kt.request_cost : workloads::draw_cost(rec.cost.model(), kt.cost_rng);
  const uint32_t calls = rec.num_calls < kMaxCalls ? rec.num_calls : kMaxCalls;
  uint32_t segment = 0;
  workloads::plan_job(
      cost, calls, [&](uint32_t i) { return scenario.call(rec.first_call + i).at; },
      [&](uint32_t i) { return workloads::draw_cost(scenario.call(rec.first_call + i).cost.model(), kt.call_rng); },
      [&](Duration d) { kt.plan_ns[segment++] = static_cast<uint64_t>(d.ns()); });
  if (plan_trace) {  // one line, formatted first: the other CPUs print too
    char line[40 + 21 * (1 + 2 * kMaxCalls)];
    size_t n = ksnprintf(line, sizeof line, "plan: %u %lu", kt.canonical, job);
    for (uint32_t i = 0; i < segment; ++i) n += ksnprintf(line + n, sizeof line - n, " %lu", kt.plan_ns[i]);
    kprintf("%s\n", line);
  }
}

}  // namespace

// Writes the current job's plan (in spin iterations) to user address `ptr` in the thread's
// domain; false if `ptr` is not a writable plan-sized range there.
bool write_plan(KThread& kt, const Thread& t, uint64_t ptr) {
  struct JobPlan {
    uint64_t calls;
    uint64_t work[1 + 2 * kMaxCalls];
    uint64_t slot[kMaxCalls];
  } plan{};
  if (!user_ok(t.domain, ptr, sizeof plan, true)) return false;
  plan_job(kt, t);
  const blob::ThreadRec rec = scenario.thread(kt.blob_thread);
  plan.calls = rec.num_calls < kMaxCalls ? rec.num_calls : kMaxCalls;
  for (uint64_t i = 0; i < 1 + 2 * plan.calls; ++i) plan.work[i] = kt.plan_ns[i];
  for (uint64_t i = 0; i < plan.calls; ++i) plan.slot[i] = scenario.call_slot(kt.blob_thread, static_cast<uint32_t>(i));
  UserAccess access;
  memcpy(reinterpret_cast<void*>(ptr), &plan, sizeof plan);
  return true;
}

// --- requests ---------------------------------------------------------------------------------------
//
// The compiled scenario's arrivals are delivered in order as their times come (the timer is armed
// for the earlier of the core's timer and the next arrival). A request for a waiting thread with
// nothing queued releases a job at once; otherwise it waits, and the thread takes the earliest
// waiting request when it completes its job (Kernel::complete's next_arrival), as the simulator
// does (simulator/core_sim.cpp). A completed job that carried an AR frame hands the frame on to
// the pipeline's next stage.

namespace {

uint32_t arrival_cpu(uint32_t i) { return canonical_cpu[scenario.arrival(i).target]; }
bool arrived(uint32_t i) { return i != kNoIndex && i < arrival_cursor[arrival_cpu(i)]; }

// Releases a job of the waiting thread `id` for a request.
void release_for(ThreadId id, KThread& kt, Instant at, Duration deadline, Duration cost, uint32_t pipeline) {
  if (!kernel->release(id, at, deadline)) {
    ++requests_dropped;
    return;
  }
  kt.request_job = (*kernel->thread(id))->jobs_released;
  kt.request_cost = cost;
  kt.request_pipeline = pipeline;
}

bool idle_for_requests(const Thread& t, const KThread& kt) {
  return t.state == ThreadState::kWaiting && kt.hand_off_count == 0 && !arrived(kt.next_arrival);
}


// Stage `stage` of pipeline `p` gets the frame its previous stage finished now.
void hand_on(uint32_t p, uint32_t stage) {
  const blob::PipelineRec pl = scenario.pipeline(p);
  const ThreadId id = thread_ids[scenario.stage(p, stage)];
  const Result<const Thread*> t = kernel->thread(id);
  if (!t) {
    ++requests_dropped;
    return;
  }
  KThread& kt = kthreads[id.index];
  const Instant now = platform.now();
  if (idle_for_requests(**t, kt)) {
    ++requests_delivered;
    release_for(id, kt, now, pl.stage_deadline, Duration::zero(), p);
    return;
  }
  if (kt.hand_off_count == kMaxHandOffs) {
    ++requests_dropped;  // the stage is that far behind: the frame is lost, as a full queue drops
    return;
  }
  ++requests_delivered;
  kt.hand_offs[(kt.hand_off_head + kt.hand_off_count++) % kMaxHandOffs] = {now, pl.stage_deadline, p};
}

}  // namespace

Instant arrival_time(uint32_t i) { return Instant::epoch() + scenario.arrival(i).time; }

bool arrival_pending(uint32_t cpu) { return arrival_cursor[cpu] < scenario.count(blob::kArrivals); }

// Moves CPU `cpu`'s cursor to its next arrival, from `from` on.
void seek_arrival(uint32_t cpu, uint32_t from) {
  const uint32_t n = scenario.count(blob::kArrivals);
  while (from < n && arrival_cpu(from) != cpu) ++from;
  arrival_cursor[cpu] = from;
}

void deliver_arrival(uint32_t i) {
  const blob::ArrivalRec a = scenario.arrival(i);
  seek_arrival(arrival_cpu(i), i + 1);
  const ThreadId id = thread_ids[a.target];
  const Result<const Thread*> t = kernel->thread(id);
  if (!t) {
    ++requests_dropped;  // its FWP was terminated
    return;
  }
  ++requests_delivered;
  KThread& kt = kthreads[id.index];
  // Queued unless it is the thread's first unserved request and the thread waits for one.
  if (kt.next_arrival != i || kt.hand_off_count != 0 || (*t)->state != ThreadState::kWaiting) return;
  kt.next_arrival = a.next;
  release_for(id, kt, Instant::epoch() + a.time, a.deadline, a.cost, a.pipeline);
}

// The running sporadic thread completes its job: it continues with its earliest waiting request
// (a handed-on frame first on a tie: the simulator delivers it at the completion, before an
// arrival of the same instant), and a job that carried a frame hands it on.
Status complete_job(ThreadId id, const Thread& t, KThread& kt) {
  const uint32_t pipeline = kt.request_job == t.jobs_released ? kt.request_pipeline : kNoIndex;
  if (t.release_kind != ReleaseKind::kSporadic) return kernel->complete(id);
  const bool hand_off = kt.hand_off_count != 0;
  const bool arrival = arrived(kt.next_arrival);
  const bool take_hand_off = hand_off && (!arrival || kt.hand_offs[kt.hand_off_head].time <= arrival_time(kt.next_arrival));
  Instant next = Instant::never();
  Duration deadline, cost;
  uint32_t next_pipeline = kNoIndex;
  if (take_hand_off) {
    const KThread::HandOff& h = kt.hand_offs[kt.hand_off_head];
    next = h.time;
    deadline = h.deadline;
    next_pipeline = h.pipeline;
  } else if (arrival) {
    const blob::ArrivalRec a = scenario.arrival(kt.next_arrival);
    next = Instant::epoch() + a.time;
    deadline = a.deadline;
    cost = a.cost;
    next_pipeline = a.pipeline;
  }
  const Status s = kernel->complete(id, next, deadline);
  if (!s) return s;
  if (take_hand_off) {
    kt.hand_off_head = (kt.hand_off_head + 1) % kMaxHandOffs;
    --kt.hand_off_count;
  } else if (arrival) {
    kt.next_arrival = scenario.arrival(kt.next_arrival).next;
  }
  if (!next.is_never()) {
    kt.request_job = t.jobs_released;
    kt.request_cost = cost;
    kt.request_pipeline = next_pipeline;
  }
  if (pipeline != kNoIndex) {
    const blob::PipelineRec pl = scenario.pipeline(pipeline);
    for (uint32_t stage = 0; stage + 1 < pl.stages; ++stage) {
      if (scenario.stage(pipeline, stage) == kt.canonical) {
        hand_on(pipeline, stage + 1);
        break;
      }
    }
  }
  return Status::ok();
}

}  // namespace edgeos::kernel
