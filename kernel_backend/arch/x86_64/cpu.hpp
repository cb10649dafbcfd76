// x86-64 CPU access: port I/O, MSRs, control registers, CPUID. Inline assembly only; nothing here
// knows about the platform (PC) or the kernel above it.
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos::x86 {

inline void outb(uint16_t port, uint8_t v) { asm volatile("outb %0, %1" : : "a"(v), "Nd"(port)); }
inline void outw(uint16_t port, uint16_t v) { asm volatile("outw %0, %1" : : "a"(v), "Nd"(port)); }
inline void outl(uint16_t port, uint32_t v) { asm volatile("outl %0, %1" : : "a"(v), "Nd"(port)); }
inline uint8_t inb(uint16_t port) {
  uint8_t v;
  asm volatile("inb %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
inline uint32_t inl(uint16_t port) {
  uint32_t v;
  asm volatile("inl %1, %0" : "=a"(v) : "Nd"(port));
  return v;
}
// Writes `n` bytes to one port (rep outsb): the fast path of the debugcon trace channel.
inline void outsb(uint16_t port, const void* data, size_t n) {
  asm volatile("rep outsb" : "+S"(data), "+c"(n) : "d"(port) : "memory");
}

inline uint64_t rdmsr(uint32_t msr) {
  uint32_t lo, hi;
  asm volatile("rdmsr" : "=a"(lo), "=d"(hi) : "c"(msr));
  return (uint64_t{hi} << 32) | lo;
}
inline void wrmsr(uint32_t msr, uint64_t v) {
  asm volatile("wrmsr" : : "c"(msr), "a"(static_cast<uint32_t>(v)), "d"(static_cast<uint32_t>(v >> 32)));
}

inline uint64_t rdtsc() {
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t{hi} << 32) | lo;
}

inline uint64_t read_cr0() {
  uint64_t v;
  asm volatile("mov %%cr0, %0" : "=r"(v));
  return v;
}
inline uint64_t read_cr2() {
  uint64_t v;
  asm volatile("mov %%cr2, %0" : "=r"(v));
  return v;
}
inline uint64_t read_cr3() {
  uint64_t v;
  asm volatile("mov %%cr3, %0" : "=r"(v));
  return v;
}
inline void write_cr3(uint64_t v) { asm volatile("mov %0, %%cr3" : : "r"(v) : "memory"); }
inline uint64_t read_cr4() {
  uint64_t v;
  asm volatile("mov %%cr4, %0" : "=r"(v));
  return v;
}
inline void write_cr4(uint64_t v) { asm volatile("mov %0, %%cr4" : : "r"(v) : "memory"); }

struct CpuidResult {
  uint32_t eax, ebx, ecx, edx;
};
inline CpuidResult cpuid(uint32_t leaf, uint32_t sub = 0) {
  CpuidResult r;
  asm volatile("cpuid" : "=a"(r.eax), "=b"(r.ebx), "=c"(r.ecx), "=d"(r.edx) : "a"(leaf), "c"(sub));
  return r;
}

inline void cli() { asm volatile("cli" ::: "memory"); }
inline void sti() { asm volatile("sti" ::: "memory"); }
inline void hlt() { asm volatile("hlt" ::: "memory"); }
inline void pause() { asm volatile("pause"); }
// Enables interrupts and halts until one arrives, without a window between the two.
inline void sti_hlt() { asm volatile("sti; hlt" ::: "memory"); }
inline void invlpg(uint64_t va) { asm volatile("invlpg (%0)" : : "r"(va) : "memory"); }

inline constexpr uint32_t kMsrEfer = 0xc000'0080;
inline constexpr uint32_t kMsrStar = 0xc000'0081;
inline constexpr uint32_t kMsrLstar = 0xc000'0082;
inline constexpr uint32_t kMsrFmask = 0xc000'0084;
inline constexpr uint32_t kMsrFsBase = 0xc000'0100;
inline constexpr uint32_t kMsrGsBase = 0xc000'0101;
inline constexpr uint32_t kMsrKernelGsBase = 0xc000'0102;
inline constexpr uint32_t kMsrApicBase = 0x1b;
inline constexpr uint32_t kMsrTscDeadline = 0x6e0;

// What the CPU offers that the kernel uses when present (CPUID).
struct Features {
  bool nx = false;
  bool smep = false;
  bool smap = false;
  bool pcid = false;
  bool invpcid = false;
  bool tsc_deadline = false;
  bool x2apic = false;
  bool invariant_tsc = false;
  bool hypervisor = false;
  char vendor[13] = {};
};
Features detect_features();

}  // namespace edgeos::x86
