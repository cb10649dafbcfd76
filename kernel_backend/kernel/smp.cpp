// The kernel's CPUs (smp.hpp): the kernel lock, kicks and quiesce between CPUs, and the start of
// the application processors.
#include "smp.hpp"

#include "../arch/x86_64/context.hpp"
#include "../arch/x86_64/paging.hpp"
#include "../platform/pc/acpi.hpp"
#include "../platform/pc/qemu.hpp"
#include "../platform/pc/smp.hpp"
#include "../platform/pc/timer.hpp"
#include "console.hpp"

namespace edgeos::kernel {

KCpu kcpus[kMaxCpus];
uint32_t num_cpus = 1;
volatile bool run_started = false;

namespace {
alignas(16) uint8_t ap_stacks[kMaxCpus][32 * 1024];
}  // namespace

uint64_t ap_stack_top(uint32_t index) { return reinterpret_cast<uint64_t>(ap_stacks[index] + sizeof ap_stacks[index]); }

void halt() {
  x86::sti_hlt();
  x86::cli();
}

// The kernel lock: one CPU at a time runs kernel code (the core is one state machine). A ticket
// lock, so CPUs get it in the order they asked. A CPU waits for it halted, with interrupts on,
// not spinning: QEMU's -icount runs the CPUs in turns on one host thread, a turn lasting until the
// CPU halts, executes `pause`, or reaches the next timer deadline (the next CPU then gets no
// instructions until the round starts again), so a spinning CPU would hold up the one it waits
// for while the instruction clock runs. FWP work loops execute `pause` for the same reason
// (fwp/programs.cpp). The holder sends the waiters an IPI when it lets go. An interrupt that comes
// while a CPU waits only leaves a note (interrupt_dispatch): its handling waits for the lock like
// everything else. A waiting CPU still answers a quiesce request (it runs no user code while it
// waits).
TicketLock kernel_lock;
uint32_t lock_waiters = 0;
namespace {
volatile bool quiesce_requested = false;
}  // namespace

void answer_quiesce() {
  KCpu& me = here();
  if (quiesce_requested && !me.quiesce_ack) {
    x86::activate_kernel();
    me.quiesce_ack = true;
  }
}

[[gnu::noinline]] void wait_for_kernel(uint32_t ticket) {
  KCpu& me = here();
  const uint32_t bit = uint32_t{1} << x86::cpu_index();
  me.waiting = true;
  __atomic_fetch_or(&lock_waiters, bit, __ATOMIC_SEQ_CST);
  while (__atomic_load_n(&kernel_lock.serving, __ATOMIC_SEQ_CST) != ticket) {
    answer_quiesce();
    if (__atomic_load_n(&kernel_lock.serving, __ATOMIC_SEQ_CST) == ticket) break;
    halt();  // the holder's IPI (or any interrupt) wakes it
  }
  __atomic_fetch_and(&lock_waiters, ~bit, __ATOMIC_SEQ_CST);
  me.waiting = false;
}

[[gnu::noinline]] void wake_waiters(uint32_t w) {
  for (; w != 0; w &= w - 1) pc::send_ipi(kcpus[__builtin_ctz(w)].apic_id, x86::kVectorIpi);
}

void kick(uint32_t cpu) {
  if (cpu == x86::cpu_index() || cpu >= num_cpus || kcpus[cpu].parked || !run_started) return;
  if (kcpus[cpu].kicked) return;
  kcpus[cpu].kicked = true;
  pc::send_ipi(kcpus[cpu].apic_id, x86::kVectorIpi);
}

// Before page tables or frames of an address space go away: every other CPU leaves whatever FWP
// address space it is in (it loads the kernel's tables, from an IPI or while it waits for the
// lock), so none runs in, or walks, what is freed; what they have in their TLBs under a PCID is
// marked stale by the paging code and flushed when they load the space again.
void quiesce() {
  if (num_cpus == 1 || !run_started) return;
  const uint32_t me = x86::cpu_index();
  for (uint32_t c = 0; c < num_cpus; ++c) kcpus[c].quiesce_ack = c == me || kcpus[c].parked;
  __atomic_store_n(&quiesce_requested, true, __ATOMIC_SEQ_CST);
  for (uint32_t c = 0; c < num_cpus; ++c) {
    if (!kcpus[c].quiesce_ack) pc::send_ipi(kcpus[c].apic_id, x86::kVectorIpi);
  }
  for (uint32_t c = 0; c < num_cpus; ++c) {
    while (!kcpus[c].quiesce_ack) x86::pause();
  }
  __atomic_store_n(&quiesce_requested, false, __ATOMIC_SEQ_CST);
}

namespace {

// A free page below 1 MiB for the APs' start-up code: the highest one in usable memory the
// loader reported, clear of the boot modules (the loaders put their own structures low).
uint64_t trampoline_page(const pc::BootInfo& boot) {
  for (uint64_t p = 0x9e000; p >= 0x10000; p -= x86::kPageSize) {
    bool usable = false;
    for (int r = 0; r < boot.num_regions && !usable; ++r) {
      usable = boot.regions[r].base <= p && p + x86::kPageSize <= boot.regions[r].base + boot.regions[r].size;
    }
    for (int m = 0; m < boot.num_modules && usable; ++m) {
      usable = boot.modules[m].end <= p || boot.modules[m].start >= p + x86::kPageSize;
    }
    if (usable) return p;
  }
  return 0;
}

}  // namespace

void start_other_cpus(const pc::BootInfo& boot) {
  kcpus[0].apic_id = pc::lapic_id();
  kcpus[0].started = true;
  if (num_cpus == 1) return;
  pc::CpuList list;
  if (!pc::find_cpus(boot.rsdp, &list)) {
    kprintf("edgeos: no ACPI MADT: the other CPUs cannot be found\n");
    pc::qemu_exit(pc::kExitFailure);
  }
  const uint64_t page = trampoline_page(boot);
  if (page == 0) {
    kprintf("edgeos: no free page below 1 MiB to start the other CPUs from\n");
    pc::qemu_exit(pc::kExitFailure);
  }
  uint32_t next = 1;
  for (uint32_t i = 0; i < list.count && next < num_cpus; ++i) {
    if (list.apic_ids[i] == kcpus[0].apic_id) continue;
    kcpus[next].apic_id = list.apic_ids[i];
    const uint64_t stack = ap_stack_top(next);
    if (!pc::start_cpu(page, list.apic_ids[i], next, stack, ap_main, &kcpus[next].started)) {
      kprintf("edgeos: CPU %u (local APIC %u) did not start\n", next, list.apic_ids[i]);
      pc::qemu_exit(pc::kExitFailure);
    }
    ++next;
  }
  if (next < num_cpus) {
    kprintf("edgeos: the scenario has %u CPUs; this machine has %u (QEMU: -smp %u, which edgeos boot gives)\n", num_cpus,
            list.count, num_cpus);
    pc::qemu_exit(pc::kExitFailure);
  }
  kprintf("cpus: %u started (local APIC IDs", num_cpus);
  for (uint32_t c = 0; c < num_cpus; ++c) kprintf(" %u", kcpus[c].apic_id);
  kprintf(")\n");
}

}  // namespace edgeos::kernel
