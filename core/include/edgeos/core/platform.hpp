// The Platform contract: everything backend-specific that core needs, and nothing else.
//
// core/ never asks "am I simulated?". The `Kernel` is instantiated over one Platform type per
// backend: the core-only simulator, the SimGrid backend, the x86-64 kernel, and test doubles.
// A platform must provide:
//
//   now()                      the current time on its clock (monotonic).
//   arm_timer(cpu, when)       one-shot timer for `cpu`; re-arming replaces the previous one;
//                              Instant::never() disarms; an instant already past fires at once.
//                              When it fires it is spent (disarmed) and the platform calls
//                              Kernel::timer_expired(cpu), which arms the next one if any.
//   switch_to(cpu, thread)     make `thread` (nullptr: idle) run on `cpu` from now on. Called on
//                              every dispatch, including the same thread starting its next job.
//   charge_overhead(cpu, kind) the kernel did work of this kind on `cpu` now. Simulators model
//                              its cost (overhead-aware simulation); real hardware pays it anyway.
//   trace(record)              emit one trace record.
//   fwp_instantiate(fwp, tmpl) create the FWP's address space from the template (kernel: share
//                              code read-only, copy data; simulators: nothing). May fail.
//   fwp_reset(fwp, tmpl)       restore a terminated FWP's data from its template, for recycling.
//   fwp_release(fwp)           give back the FWP's address space.
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/fwp.hpp"
#include "edgeos/core/result.hpp"
#include "edgeos/core/thread.hpp"
#include "edgeos/core/time.hpp"
#include "edgeos/core/trace.hpp"

namespace edgeos {

// Kernel work whose cost a simulator may model (the LITMUS^RT overhead categories).
enum class Overhead : uint8_t {
  kRelease = 0,        // releasing a job (timer or external event)
  kSchedule = 1,       // one scheduling decision
  kContextSwitch = 2,  // switching to another thread or job
  kTimer = 3,          // entering the kernel on a timer interrupt
  kInvocation = 4,     // one synchronous call or reply (a protection-domain switch)
  kMigration = 5,      // a thread resumes on another CPU of its domain than it last ran on
                       // (global or clustered scheduling), charged to the CPU it moves to
};

inline constexpr size_t kNumOverheads = 6;

template <class P>
concept Platform = requires(P& p, const P& cp, CpuId cpu, Instant when, Thread* thread,
                            const TraceRecord& record, Overhead overhead, Fwp& fwp,
                            const FwpTemplate& tmpl) {
  { cp.now() } -> std::same_as<Instant>;
  { p.arm_timer(cpu, when) } -> std::same_as<void>;
  { p.switch_to(cpu, thread) } -> std::same_as<void>;
  { p.charge_overhead(cpu, overhead) } -> std::same_as<void>;
  { p.trace(record) } -> std::same_as<void>;
  { p.fwp_instantiate(fwp, tmpl) } -> std::same_as<Status>;
  { p.fwp_reset(fwp, tmpl) } -> std::same_as<Status>;
  { p.fwp_release(fwp) } -> std::same_as<void>;
};

}  // namespace edgeos
