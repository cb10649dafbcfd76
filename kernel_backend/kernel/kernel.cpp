// The kernel's run: the core's Kernel<PcPlatform> (instantiated by start.cpp from the compiled
// scenario), fed by the local APIC timer and by system calls, with threads in ring 3; the
// Platform's operations, the entries from the assembly, faults and the run's end.
//
// One kernel stack per CPU and no kernel threads (the event model of NOVA and Composite): every
// entry (interrupt, exception, system call) saves the running thread's registers into its
// KThread, lets the core update the schedule, and leaves through resume(), which loads whatever
// thread the core put on the CPU (or idles). A thread executing a synchronous call runs in the
// callee's address space on a stack of its own there; the caller's registers wait in the thread's
// saved[] contexts, one per call depth.
#include "kernel.hpp"

#include "../arch/x86_64/context.hpp"
#include "../arch/x86_64/cpu.hpp"
#include "../arch/x86_64/paging.hpp"
#include "../fwp/abi.hpp"
#include "../arch/x86_64/percpu.hpp"
#include "../platform/pc/qemu.hpp"
#include "../platform/pc/timer.hpp"
#include "console.hpp"
#include "devices.hpp"
#include "image.hpp"
#include "platform.hpp"
#include "kstate.hpp"
#include "smp.hpp"
#include "trace_out.hpp"
#include "edgeos/core/rng.hpp"
#include "edgeos/net/packet.hpp"
#include "edgeos/schedulers/edf.hpp"
#include "edgeos/schedulers/fixed_priority.hpp"
#include "edgeos/workloads/scenario_blob.hpp"

extern "C" void* memcpy(void*, const void*, edgeos::size_t);

namespace edgeos::kernel {

// The objects the kernel's other files share (kstate.hpp).
Capacity capacity;
KThread* kthreads = nullptr;
KFwp* kfwps = nullptr;
FwpId* fwp_ids = nullptr;
ThreadId* thread_ids = nullptr;
PcPlatform platform;
PcKernel* kernel = nullptr;
blob::ScenarioBlob scenario;
ProgramImage image;
bool smap = false;

namespace {

uint64_t faults = 0;

// Latencies for bench/boot_bench.py, in TSC cycles, reported at the run's end:
//   dispatch_latency   timer interrupt to user mode: from the timer handler's entry to the
//                      return to user mode of the thread the core chose (interrupts that end in
//                      a thread);
//   migration_latency  from the core's decision to run a thread on another CPU than the one it
//                      last ran on (switch_to) to its return to user mode there: the IPI, the
//                      wait for the CPU it left to save its registers, the lock;
//   remote_latency     the same for a thread that stays on its CPU but whose dispatch another
//                      CPU decided (a release, signal or preemption from there).
struct Latency {
  uint64_t count = 0, total = 0, max = 0;
  void add(uint64_t d) {
    ++count;
    total += d;
    if (d > max) max = d;
  }
  void report(const char* what, const char* of) const {
    if (count > 0) kprintf("%s: %lu %s, mean %lu, max %lu TSC cycles\n", what, count, of, total / count, max);
  }
};
Latency dispatch_latency, migration_latency, remote_latency;

}  // namespace

x86::AddressSpace& space_of(const Fwp* f) { return kfwps[f->slot_index].space; }

void* boot_frames(size_t bytes, const char* what) {
  const uint64_t pages = bytes == 0 ? 1 : (bytes + x86::kPageSize - 1) / x86::kPageSize;  // never null
  const uint64_t pa = x86::frames().alloc_run(pages);
  if (pa == 0) {
    kprintf("edgeos: out of memory for the kernel's %s (%lu KiB; %lu frames free): give the machine more memory\n", what,
            static_cast<unsigned long>(pages * 4), static_cast<unsigned long>(x86::frames().free_count()));
    pc::qemu_exit(pc::kExitFailure);
  }
  return reinterpret_cast<void*>(pa);  // the direct map
}

void trace_from(const Thread& t, TraceEvent event, uint32_t fwp, int64_t value) {
  TraceRecord m;
  m.time_ns = platform.now().ns();
  m.cpu = static_cast<uint16_t>(t.cpu);
  m.event = event;
  m.fwp = fwp;
  m.thread = t.slot_index;
  m.job = t.job();
  m.value = value;
  platform.trace(m);
}

// Maps the stack slot of thread `thread_index` at call depth `depth` in FWP `f` if it is not yet;
// returns its top, or 0 without memory.
static_assert(kMaxCallDepth + 1 <= abi::kDepthSlots, "a stack slot for every call depth");
uint64_t ensure_stack(const Fwp* f, uint32_t thread_index, uint32_t depth) {
  KFwp& k = kfwps[f->slot_index];
  const uint32_t slot = thread_index * abi::kDepthSlots + depth;
  const uint64_t top = abi::kStackRegion + uint64_t{slot + 1} * abi::kStackSlot;
  for (uint32_t i = 0; i < k.num_stacks; ++i) {
    if (k.stacks[i] == slot) return top;
  }
  if (k.stacks_spilled && x86::lookup(k.space, top - x86::kPageSize) != 0) return top;
  for (uint64_t p = 0; p < abi::kStackPages; ++p) {
    const uint64_t pa = x86::frames().alloc();
    if (pa == 0) return 0;
    if (!x86::map_page(k.space, top - (p + 1) * x86::kPageSize, pa,
                       x86::kPteWrite | x86::kPteNoExecute | x86::kPteOwned)) {
      x86::frames().free(pa);
      return 0;
    }
  }
  if (k.num_stacks < KFwp::kStackList) {
    k.stacks[k.num_stacks++] = slot;
  } else {
    k.stacks_spilled = true;
  }
  return top;
}

x86::UserContext entry_context(uint64_t rip, uint64_t stack_top, uint64_t arg0, uint64_t arg1) {
  x86::UserContext c{};
  c.rip = rip;
  c.rsp = stack_top - 8;  // as if called: (rsp + 8) is 16-byte aligned at entry
  c.rdi = arg0;
  c.rsi = arg1;
  c.rflags = 0x202;  // IF
  c.cs = x86::kUserCode;
  c.ss = x86::kUserData;
  return c;
}

void fwp_name(const Fwp* f, char* buf, size_t cap) {
  const KFwp& k = kfwps[f->slot_index];
  const blob::TenantRec t = scenario.tenant(k.tenant);
  if (t.instances > 1) {
    ksnprintf(buf, cap, "%s#%u", scenario.string(t.name), k.instance);
  } else {
    ksnprintf(buf, cap, "%s", scenario.string(t.name));
  }
}


namespace {

// This CPU's timer: its core timer and the next arrival for one of its threads.
void program_timer() {
  const uint32_t cpu = x86::cpu_index();
  KCpu& me = kcpus[cpu];
  Instant when = me.core_timer;
  if (arrival_pending(cpu) && arrival_time(arrival_cursor[cpu]) < when) when = arrival_time(arrival_cursor[cpu]);
  // Never past the run's end; once there, no more interrupts (resume() ends the run).
  if (when >= run_end) when = platform.now() < run_end ? run_end : Instant::never();
  me.timer_due = when;
  pc::timer_arm(when);
}

[[noreturn]] void finish_run();

// Whether thread `t` is loaded on a CPU other than `cpu` (in user mode there, or entering the
// kernel from it without the lock yet: its entry is still to be handled there).
bool registers_elsewhere(const Thread& t, uint32_t cpu) {
  for (uint32_t c = 0; c < num_cpus; ++c) {
    if (c != cpu && kcpus[c].on_cpu == &t) return true;
  }
  return false;
}

}  // namespace

// This CPU's timer fired: its core timer, arrivals for its threads, or both are due. They are handled in
// time order, the core's timer first on a tie (the simulator's order of events); none at or after
// the run's end (the simulator's horizon is exclusive too).
void on_timer() {
  const uint32_t cpu = x86::cpu_index();
  KCpu& me = kcpus[cpu];
  for (;;) {
    const Instant now = platform.now();
    const Instant arrival = arrival_pending(cpu) ? arrival_time(arrival_cursor[cpu]) : Instant::never();
    const Instant first = me.core_timer < arrival ? me.core_timer : arrival;
    if (first > now || first >= run_end) break;
    if (me.core_timer <= arrival) {
      me.core_timer = Instant::never();
      kernel->timer_expired(cpu);  // arms the core's next timer through arm_timer
    } else {
      deliver_arrival(arrival_cursor[cpu]);
    }
  }
  program_timer();
}

// Loads the thread the core runs on this CPU, or idles until there is one. Called and left with
// the kernel lock held; it is let go on the way to user mode and while the CPU idles. Never
// returns.
[[noreturn]] void resume() {
  const uint32_t cpu = x86::cpu_index();
  KCpu& me = here();
  for (;;) {
    if (x86::rdtsc() >= run_end_gate && platform.now() >= run_end) finish_run();
    // What came while this CPU waited for the lock, or changed its timer from another CPU.
    if (me.timer_pending) {
      me.timer_pending = false;
      me.kicked = false;  // on_timer reprograms the timer too
      on_timer();
    } else if (me.kicked) {
      me.kicked = false;
      program_timer();
    }
    Thread* t = const_cast<Thread*>(kernel->current(cpu));
    if (t == nullptr) {
      me.on_cpu = nullptr;
      x86::frames().replenish(kZeroReserve);  // one frame (about 512 stores) per idle entry
      // A serving run ("stream" on the command line) sends its trace as it goes, in idle time, so
      // that a run stopped from outside still leaves what it traced (never under -icount: it would
      // take guest time the schedule does not have).
      if (stream_trace && trace_buffered() > 0) trace_flush();
      // Kept console output, as much as a UART sends before the next timer (87 us a character
      // at 115200 baud; 100 us allowed).
      if (const Instant now = platform.now(); me.timer_due > now) {
        const int64_t room = (me.timer_due - now).ns() / 100'000;
        console_drain(room > 4096 ? 4096 : static_cast<size_t>(room));
      }
      x86::activate_kernel();
      unlock_kernel();
      halt();  // an interrupt returns here
      lock_kernel();
      continue;
    }
    // A thread that moved here from another CPU of its domain may still be in user mode there,
    // its registers not yet saved: that CPU was kicked (switch_to) and lets go of the thread when
    // it takes the kernel lock, which this one gives up meanwhile.
    if (shared_domains && registers_elsewhere(*t, cpu)) {
      unlock_kernel();
      x86::pause();  // under -icount, ends this CPU's turn: the other one gets to run
      answer_quiesce();
      lock_kernel();
      continue;
    }
    KThread& kt = kthreads[t->slot_index];
    // Its address space first: the plan below is written through it.
    x86::activate(space_of(t->domain));
    // A call ended because its callee was terminated: back in the caller, with an error.
    if (t->call_depth < kt.depth) {
      kt.depth = t->call_depth;
      kt.ctx = kt.saved[kt.depth];
      kt.ctx.rax = static_cast<uint64_t>(error_code(Error::kStale));
      // A completion issued inside the unwound callee asked for the next plan at an address of the
      // callee's: the plan is not written (it would land in the caller's space, at an address the
      // callee chose), and the call's result stays the error (syscall fuzzer finding; regression:
      // SyscallFuzz.test_a_completion_inside_a_callee_killed_meanwhile in tests/kernel).
      kt.plan_pending = false;
      if (kt.flow_depth > kt.depth) kt.flow_depth = 0;  // the flow FWP died: no replies to copy
    }
    if (kt.plan_pending) {
      kt.plan_pending = false;
      kt.ctx.rax = write_plan(kt, *t, kt.plan_ptr) ? 0 : static_cast<uint64_t>(error_code(Error::kInvalidArgument));
    }
    me.on_cpu = t;
    if (me.timer_entered != 0) {
      dispatch_latency.add(x86::rdtsc() - me.timer_entered);
      me.timer_entered = 0;
    }
    if (kt.decided_tsc != 0) {
      if (kt.ran_on != cpu) {
        migration_latency.add(x86::rdtsc() - kt.decided_tsc);
      } else if (kt.decided_on != cpu) {
        remote_latency.add(x86::rdtsc() - kt.decided_tsc);
      }
      kt.decided_tsc = 0;
    }
    kt.ran_on = static_cast<uint16_t>(cpu);
    // The thread's clock slot: its user time so far, from this instant on.
    me.exit_tsc = x86::rdtsc();
    clock_slots[t->slot_index].base = kt.user_ticks - me.exit_tsc;
    unlock_kernel();
    x86::return_to_user(&kt.ctx);
  }
}

namespace {

// The run is over. The other CPUs stop for good (each when it next enters the kernel: their
// timers fire at the run's end at the latest); CPU 0 waits for them, then writes out the trace
// and the report and ends the machine.
[[noreturn]] void finish_run() {
  const uint32_t cpu = x86::cpu_index();
  if (cpu != 0) {
    kcpus[cpu].on_cpu = nullptr;
    kcpus[cpu].parked = true;
    x86::activate_kernel();
    pc::timer_arm(Instant::never());
    unlock_kernel();
    for (;;) {
      x86::cli();
      x86::hlt();
    }
  }
  kcpus[0].on_cpu = nullptr;
  for (uint32_t c = 1; c < num_cpus; ++c) {
    while (!kcpus[c].parked) {
      unlock_kernel();
      x86::pause();
      lock_kernel();
    }
  }
  kernel->sync();
  trace_flush();
  console_flush();
  dispatch_latency.report("timer to user mode", "dispatches");
  migration_latency.report("migration, decision to user mode on the new CPU", "migrations");
  remote_latency.report("remote dispatch, decision to user mode", "dispatches decided on another CPU");
  const x86::PcidStats& pcid = x86::pcid_stats();
  if (x86::pcid_enabled()) {
    kprintf("address spaces: PCID on; %lu CR3 loads, %lu of them flushing, %lu PCIDs assigned\n", pcid.loads,
            pcid.flushes, pcid.assignments);
  } else {
    kprintf("address spaces: PCID off; %lu CR3 loads, each flushing\n", pcid.loads);
  }
  if (scenario.count(blob::kArrivals) > 0) {
    kprintf("requests: %u arrivals in the scenario, %lu delivered (with AR hand-offs), %lu dropped\n",
            scenario.count(blob::kArrivals), requests_delivered, requests_dropped);
  }
  report_memory();
  report_flows();
  kprintf("edgeos: run complete at %ld ns: %lu trace records, %lu FWP(s) killed for faults, %lu free frames\n",
          static_cast<long>(platform.now().ns()), trace_records(), faults, x86::frames().free_count());
  pc::qemu_exit(pc::kExitSuccess);
}

// The thread `me` ran in user mode until an entry at TSC `entered` (read before the kernel lock,
// so that waiting for it is not the thread's time). Its registers are already in its context: an
// entry from user mode pushes them there (context.hpp).
void save_context(KCpu& me, KThread& kt, uint64_t entered) { kt.user_ticks += entered - me.exit_tsc; }

// With several CPUs, another CPU may have changed this CPU's thread between an entry and the
// lock: made another thread current here, killed the thread's FWP, or unwound the call the thread
// was in (its callee died). The entry is then not the thread's to act on now: a system call is
// issued again when the thread next runs, a fault happens again if it is still there. (Threads are
// created only at boot, so the thread itself is still the one that entered.)
bool entry_is_stale(const Thread& t, const KThread& kt, uint32_t cpu) {
  return kernel->current(cpu) != &t || t.call_depth < kt.depth;
}

// An exception in user mode: the FWP the thread executes in is the offender and is terminated.
void user_fault(Thread& t, const x86::InterruptFrame& f) {
  // A first touch of a heap page (not present, in its FWP's heap): mapped, and the instruction runs again.
  if (f.vector == 14 && (f.error & 1) == 0 && heap_fault(t.domain, x86::read_cr2())) return;
  ++faults;
  char name[64];
  fwp_name(t.domain, name, sizeof name);
  kprintf("[%s] killed: %s (error %lx) at rip %lx", name, x86::exception_name(f.vector), f.error, f.rip);
  if (f.vector == 14) kprintf(", address %lx", x86::read_cr2());
  if (f.vector == 14 && (f.error & 1) == 0 && x86::read_cr2() >= abi::kHeapWindow &&
      x86::read_cr2() < abi::kHeapWindow + kfwps[t.domain->slot_index].heap_pages * x86::kPageSize) {
    kprintf(" (a heap page it was promised: no free frame was left to map it)");
  }
  kprintf(", thread %u\n", t.slot_index);
  (void)kernel->fwp_terminate(kernel->fwp_id(*t.domain));
}

[[noreturn]] void kernel_fault(const x86::InterruptFrame& f) {
  console_flush();
  kprintf("\nKERNEL FAULT: %s (error %lx) at rip %lx, rsp %lx", x86::exception_name(f.vector), f.error, f.rip, f.rsp);
  if (f.vector == 14) kprintf(", address %lx", x86::read_cr2());
  kprintf("\n  rax %lx rbx %lx rcx %lx rdx %lx rsi %lx rdi %lx rbp %lx\n", f.rax, f.rbx, f.rcx, f.rdx, f.rsi, f.rdi, f.rbp);
  if (f.vector != 2 && f.vector != 8 && f.vector != 18) report_syscall_in_progress();  // GS may be the user's
  trace_flush();
  pc::qemu_exit(pc::kExitFailure);
}

}  // namespace

// A panic or a kernel fault during a system call names it: the thread, the number, the argument
// registers (rdi, rsi, rdx, r10) and r8, where the system-call fuzzer keeps the call's index, so that
// a finding is reproduced from the fuzzer's seed and that index. Reads only this CPU's record.
void report_syscall_in_progress() {
  if (!run_started || x86::cpu_local() == nullptr) return;  // GS is the kernel's on every CPU by then
  const Thread* t = here().in_syscall;
  if (t == nullptr) return;
  const x86::UserContext& c = kthreads[t->slot_index].ctx;
  kprintf("  in the system call of thread %u: rax %lx rdi %lx rsi %lx rdx %lx r10 %lx r8 %lx\n", t->slot_index, c.rax, c.rdi,
          c.rsi, c.rdx, c.r10, c.r8);
}

// --- the platform ---------------------------------------------------------------------------------

Instant PcPlatform::now() const { return pc::clock_now(); }

void PcPlatform::arm_timer(CpuId cpu, Instant when) {
  kcpus[cpu].core_timer = when;
  if (cpu == x86::cpu_index()) {
    program_timer();
  } else {
    kick(cpu);  // only a CPU can program its own timer: it does when it takes the IPI
  }
}

void PcPlatform::switch_to(CpuId cpu, Thread* thread) {
  if (thread != nullptr) {
    kthreads[thread->slot_index].decided_tsc = x86::rdtsc();
    kthreads[thread->slot_index].decided_on = static_cast<uint16_t>(x86::cpu_index());
  }
  // resume() loads the core's current thread when the kernel exits; another CPU needs telling.
  if (cpu != x86::cpu_index() && thread != kcpus[cpu].on_cpu) kick(cpu);
}

void PcPlatform::trace(const TraceRecord& r) { trace_record(r); }

Status PcPlatform::fwp_instantiate(Fwp& fwp, const FwpTemplate& tmpl) {
  KFwp& k = kfwps[fwp.slot_index];
  k = KFwp{};
  if (Status s = x86::create_space(&k.space); !s) return s;
  const Checkpoint* cp = checkpoint_of(tmpl.slot_index);
  if (Status s = map_image(image, k.space, cp != nullptr ? cp->data : nullptr, cp != nullptr ? cp->data_pages : 0); !s) {
    x86::destroy_space(k.space);
    return s;
  }
  if (Status s = apply_checkpoint(tmpl.slot_index, k); !s) {
    release_heap(k);
    x86::destroy_space(k.space);
    return s;
  }
  for (uint64_t i = 0; i < clock_pages; ++i) {  // read-only, shared
    if (Status s = x86::map_page(k.space, abi::kClockPage + i * x86::kPageSize, clock_frame + i * x86::kPageSize, x86::kPteNoExecute); !s) {
      release_heap(k);
      x86::destroy_space(k.space);
      return s;
    }
  }
  return Status::ok();
}

Status PcPlatform::fwp_reset(Fwp& fwp, const FwpTemplate& tmpl) {
  KFwp& k = kfwps[fwp.slot_index];
  quiesce();  // its stacks are unmapped and freed below
  release_nic(fwp.slot_index, k.space);
  release_heap(k);
  flow_fwp_reset(k);
  const Checkpoint* cp = checkpoint_of(tmpl.slot_index);
  reset_image(image, k.space, cp != nullptr ? cp->data : nullptr, cp != nullptr ? cp->data_pages : 0);
  if (Status s = apply_checkpoint(tmpl.slot_index, k); !s) return s;
  for (uint32_t i = 0; i < k.num_stacks; ++i) {
    x86::unmap_range(k.space, abi::kStackRegion + uint64_t{k.stacks[i]} * abi::kStackSlot, abi::kStackSlot);
  }
  if (k.stacks_spilled) {  // the rest: any slot of any thread
    for (uint64_t slot = 0; slot < uint64_t{capacity.threads} * abi::kDepthSlots; ++slot) {
      const uint64_t base = abi::kStackRegion + slot * abi::kStackSlot;
      if (x86::lookup(k.space, base + abi::kStackSlot - x86::kPageSize) != 0) x86::unmap_range(k.space, base, abi::kStackSlot);
    }
  }
  k.num_stacks = 0;
  k.stacks_spilled = false;
  return Status::ok();
}

void PcPlatform::fwp_release(Fwp& fwp) {
  quiesce();
  release_nic(fwp.slot_index, kfwps[fwp.slot_index].space);
  release_heap(kfwps[fwp.slot_index]);
  x86::destroy_space(kfwps[fwp.slot_index].space);
}

// --- entries from the assembly --------------------------------------------------------------------

// Every entry takes the kernel lock first; resume() lets it go on the way out (or the idle
// loop, for an interrupt that came while the CPU idled).
extern "C" void interrupt_dispatch(x86::InterruptFrame* f) {
  // NMI, double fault and machine check (on their own stack, possibly with the user's GS) are the
  // machine's, not an FWP's: reported before anything per-CPU is touched.
  if (f->vector == 2 || f->vector == 8 || f->vector == 18) kernel_fault(*f);
  const uint64_t entered = x86::rdtsc();
  KCpu& me = here();
  // The local APIC's interrupts are acknowledged at once: one in service holds back those of its
  // priority class (the IPI shares the timer's), and this CPU may have to wait for the lock
  // until another CPU's IPI lets it know it may go on.
  const bool timer = f->vector == x86::kVectorTimer, ipi = f->vector == x86::kVectorIpi;
  if (timer || ipi) pc::lapic_eoi();
  if (!f->from_user()) {
    // An exception in the kernel stops the machine at once (this CPU may hold the lock).
    if (f->vector < 32) kernel_fault(*f);
    if (me.waiting) {
      // It came while this CPU waits for the lock, inside another entry: note it and go back.
      if (timer) me.timer_pending = true;
      if (ipi) me.kicked = true;
      return;
    }
  }
  lock_kernel();
  if (timer) me.timer_entered = x86::rdtsc();
  if (!f->from_user()) {
    if (timer || ipi) {
      if (timer || me.timer_pending) {
        me.timer_pending = false;
        on_timer();  // the idle loop ends the run once it is over
      } else {
        me.kicked = false;
        program_timer();  // another CPU may have changed this one's timer
      }
      unlock_kernel();
      return;  // back to the idle loop, which looks at what runs now
    }
    unlock_kernel();  // spurious
    return;
  }
  Thread* const t = me.on_cpu;
  me.on_cpu = nullptr;
  if (timer) {
    me.timer_pending = true;  // resume() runs it
  } else if (ipi) {
    me.kicked = true;  // resume() reprograms the timer
  }
  if (t != nullptr) {
    KThread& kt = kthreads[t->slot_index];
    save_context(me, kt, entered);
    if (f->vector < 32 && !(num_cpus > 1 && entry_is_stale(*t, kt, x86::cpu_index()))) user_fault(*t, *f);
  }
  resume();
}

extern "C" void syscall_dispatch(x86::InterruptFrame*) {
  const uint64_t entered = x86::rdtsc();
  lock_kernel();
  KCpu& me = here();
  Thread* const t = me.on_cpu;
  me.on_cpu = nullptr;
  if (t != nullptr) {
    KThread& kt = kthreads[t->slot_index];
    save_context(me, kt, entered);
    me.in_syscall = t;  // a panic or fault meanwhile names the call (report_syscall_in_progress)
    if (num_cpus == 1) {
      syscall(*t, kt);
    } else if (!entry_is_stale(*t, kt, x86::cpu_index())) {
      // While this CPU waited for the lock it may have left the thread's address space (quiesce).
      x86::activate(space_of(t->domain));
      syscall(*t, kt);
    } else if (t->call_depth >= kt.depth) {
      kt.ctx.rip -= 2;  // back over `syscall`; rax still holds the number
    }
    me.in_syscall = nullptr;
  }
  resume();
}

// An application processor, from ap_boot.S: set up like the boot CPU, then wait for the run.
void ap_main(uint32_t index) {
  KCpu& me = kcpus[index];
  x86::init_cpu(index, pc::lapic_id(), ap_stack_top(index));
  x86::this_cpu().local = &me;
  x86::write_cr4(boot_cr4);  // SMEP, SMAP, PCID as on the boot CPU
  pc::timer_init_ap(x86::kVectorTimer, x86::kVectorSpurious);
  me.started = true;
  // The boot CPU holds the kernel lock until the run starts; this CPU waits for it halted.
  lock_kernel();
  program_timer();
  resume();
}

}  // namespace edgeos::kernel
