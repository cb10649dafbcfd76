// Register state at the kernel's entries. The layouts are shared with interrupts.S: change both
// together (static_asserts below pin the offsets the assembly uses).
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos::x86 {

// What an interrupt, exception or system call entry pushes. An entry from user mode pushes it
// straight into the running thread's context (below), as seL4 and NOVA keep a thread's registers
// in its kernel object: the CPU's interrupt stack pointer (TSS.RSP0) and the syscall entry's
// (PerCpu::user_frame_top) point at the end of that context while the thread runs, so nothing is
// copied on entry. The exceptions with a stack of their own (NMI, double fault, machine check)
// and entries from kernel mode leave it on a kernel stack.
struct InterruptFrame {
  uint64_t r15, r14, r13, r12, r11, r10, r9, r8;
  uint64_t rbp, rdi, rsi, rdx, rcx, rbx, rax;
  uint64_t vector;
  uint64_t error;
  uint64_t rip, cs, rflags, rsp, ss;

  bool from_user() const { return (cs & 3) == 3; }
};

// A thread's user-mode registers: what return_to_user() restores, in the order it pops them. The
// layout of an entry's frame (vector and error code unused), so that entries can push into it.
// 16-byte aligned with a size of 11 x 16 bytes, so that its end is 16-byte aligned, as an
// interrupt's stack pointer must be (the CPU would align it down).
struct alignas(16) UserContext : InterruptFrame {};

static_assert(sizeof(UserContext) == 22 * 8);
static_assert(sizeof(InterruptFrame) == 22 * 8);
static_assert(__builtin_offsetof(InterruptFrame, vector) == 15 * 8);
static_assert(__builtin_offsetof(InterruptFrame, rip) == 17 * 8);

// Segment selectors (descriptors.cpp builds the GDT in this order; syscall/sysret need it).
inline constexpr uint16_t kKernelCode = 0x08;
inline constexpr uint16_t kKernelData = 0x10;
inline constexpr uint16_t kUserData = 0x18 | 3;
inline constexpr uint16_t kUserCode = 0x20 | 3;
inline constexpr uint16_t kTss = 0x28;

// Vectors the kernel uses besides the exceptions (0-31).
inline constexpr uint8_t kVectorTimer = 0x30;
inline constexpr uint8_t kVectorIpi = 0x31;      // another CPU asks this one to look at its schedule
inline constexpr uint8_t kVectorSyscall = 0x80;  // the frame's vector for a `syscall` entry
inline constexpr uint8_t kVectorSpurious = 0xff;

// Loads `ctx` into the CPU and enters user mode (interrupts enabled by its rflags); the next entry
// from user mode on this CPU pushes its frame into `*ctx`. Never returns.
extern "C" [[noreturn]] void return_to_user(UserContext* ctx);

// Exception names and whether the CPU pushes an error code.
const char* exception_name(uint64_t vector);

}  // namespace edgeos::x86
