// The kernel's CPUs (smp.cpp): what it keeps per CPU, the kernel lock every entry takes, kicks
// and quiesce between CPUs, and the start of the other CPUs. Internal to kernel_backend/kernel.
#pragma once

#include "../arch/x86_64/cpu.hpp"
#include "../arch/x86_64/percpu.hpp"
#include "../platform/pc/boot_info.hpp"
#include "platform.hpp"

namespace edgeos::kernel {

inline constexpr uint32_t kMaxCpus = x86::kMaxCpus;

// What the kernel keeps per CPU.
struct KCpu {
  Thread* on_cpu = nullptr;              // the thread whose registers are loaded (in user mode)
  uint64_t exit_tsc = 0;                 // the TSC at its last return to user mode
  Instant core_timer = Instant::never();  // what the core last armed for this CPU
  Instant timer_due = Instant::never();  // what its timer interrupt is armed for (program_timer)
  uint32_t apic_id = 0;
  uint64_t timer_entered = 0;            // the TSC at the pending timer interrupt's entry; 0: none
  volatile bool kicked = false;          // an IPI to it is on its way (another CPU changed its state)
  volatile bool started = false;         // it runs kernel code (set by ap_main)
  volatile bool parked = false;          // it stopped for good at the run's end
  volatile bool quiesce_ack = false;     // it left every FWP's address space when asked (quiesce)
  volatile bool waiting = false;         // it waits for the kernel lock (interrupts on: see lock_kernel)
  volatile bool timer_pending = false;   // its timer fired while it waited: resume() handles it
  const Thread* in_syscall = nullptr;    // the thread whose system call this CPU handles (for reports)
};
extern KCpu kcpus[kMaxCpus];
extern uint32_t num_cpus;            // set before the first lock_kernel, never changed after
extern volatile bool run_started;    // time zero has passed: other CPUs may be kicked and quiesced
inline KCpu& here() { return *static_cast<KCpu*>(x86::cpu_local()); }

// Halts with interrupts on until one comes (and returns with them off).
void halt();

// The kernel lock (see smp.cpp): taken by every entry, let go on the way out. With one CPU there
// is nothing to exclude and it is skipped.
struct TicketLock {
  uint32_t next = 0;
  uint32_t serving = 0;
};
extern TicketLock kernel_lock;
extern uint32_t lock_waiters;  // a bit per waiting CPU
void wait_for_kernel(uint32_t ticket);
void wake_waiters(uint32_t waiters);

inline void lock_kernel() {
  if (num_cpus == 1) return;
  const uint32_t ticket = __atomic_fetch_add(&kernel_lock.next, 1, __ATOMIC_SEQ_CST);
  if (__atomic_load_n(&kernel_lock.serving, __ATOMIC_SEQ_CST) != ticket) wait_for_kernel(ticket);
}

// The store of `serving` and the load of the waiters are ordered (a locked instruction): a CPU
// that set its bit after the load sees the new `serving` before it halts.
inline void unlock_kernel() {
  if (num_cpus == 1) return;
  __atomic_store_n(&kernel_lock.serving, kernel_lock.serving + 1, __ATOMIC_SEQ_CST);
  if (const uint32_t w = __atomic_load_n(&lock_waiters, __ATOMIC_SEQ_CST); w != 0) wake_waiters(w);
}

// A CPU asked to quiesce leaves every FWP's address space (from an IPI, or while it waits).
void answer_quiesce();
// Makes CPU `cpu` enter the kernel soon (its schedule or timer changed). One IPI until it comes.
void kick(uint32_t cpu);
// Before page tables or frames of an address space go away: every other CPU leaves whatever FWP
// address space it is in.
void quiesce();

// Starts as many more CPUs as num_cpus says (ACPI's MADT names them), each at ap_main (kernel.cpp)
// on a stack of its own (ap_stack_top).
void start_other_cpus(const pc::BootInfo& boot);
void ap_main(uint32_t index);
uint64_t ap_stack_top(uint32_t index);

}  // namespace edgeos::kernel
