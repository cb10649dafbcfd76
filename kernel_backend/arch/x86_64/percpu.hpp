// Per-CPU state of the arch layer. Each CPU's GS base points at its PerCpu while it runs kernel
// code; entries from user mode (syscall, interrupts, exceptions) swap it in with swapgs, and
// return_to_user swaps the user's (zero) back. The first fields are read by interrupts.S at fixed
// offsets (pinned below).
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos::x86 {

inline constexpr uint32_t kMaxCpus = 16;

struct PerCpu {
  PerCpu* self;               // gs:0
  uint64_t kernel_stack_top;  // gs:8: where an entry from user mode by syscall starts its stack
  uint64_t user_rsp;          // gs:16: syscall_entry's place for the user's stack pointer
  uint32_t index;             // gs:24: the CPU's index, as the core numbers CPUs
  uint32_t apic_id;           // its local APIC's ID
  void* local;                // gs:32: the kernel's own state of this CPU
  uint64_t user_frame_top;    // gs:40: where syscall_entry pushes its frame (return_to_user sets it)
  uint64_t* tss_rsp0;         // gs:48: this CPU's TSS.RSP0, where interrupts from user mode push theirs
};
static_assert(__builtin_offsetof(PerCpu, kernel_stack_top) == 8);
static_assert(__builtin_offsetof(PerCpu, user_rsp) == 16);
static_assert(__builtin_offsetof(PerCpu, index) == 24);
static_assert(__builtin_offsetof(PerCpu, local) == 32);
static_assert(__builtin_offsetof(PerCpu, user_frame_top) == 40);
static_assert(__builtin_offsetof(PerCpu, tss_rsp0) == 48);

// The CPU running this code.
inline uint32_t cpu_index() {
  uint32_t i;
  asm volatile("movl %%gs:24, %0" : "=r"(i));
  return i;
}
// The kernel's state of the CPU running this code: one load, for the hot paths.
inline void* cpu_local() {
  void* p;
  asm volatile("movq %%gs:32, %0" : "=r"(p));
  return p;
}
inline PerCpu& this_cpu() {
  PerCpu* p;
  asm volatile("movq %%gs:0, %0" : "=r"(p));
  return *p;
}

// Sets up this CPU: its GDT and TSS (its kernel stack for entries from user mode, IST stacks for
// NMI, double fault and machine check), the shared IDT, the syscall MSRs and GS. Call once on
// each CPU, with interrupts off.
void init_cpu(uint32_t index, uint32_t apic_id, uint64_t kernel_stack_top);

}  // namespace edgeos::x86
