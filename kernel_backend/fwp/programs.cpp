// The programs FWPs run, in ring 3 in their own address space. One image serves every template:
// a thread starts in fwp_start(program, arg) and calls into the FWP enter fwp_invoke(arg).
//
// Freestanding and tiny on purpose: no libc, no floating point. A job's CPU work is spinning until
// the thread has had that much user-mode CPU time, read from the kernel's clock pages (abi.hpp):
// exactly reproducible under QEMU's -icount, and still time when CPUs share that clock.
#include <stdint.h>

#include "abi.hpp"

using namespace edgeos::abi;

__extension__ typedef unsigned __int128 uint128;

namespace {

inline int64_t sys(uint64_t n, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0) {
  int64_t r;
  asm volatile("syscall" : "=a"(r) : "a"(n), "D"(a), "S"(b), "d"(c) : "rcx", "r11", "memory");
  return r;
}

inline void spin(uint64_t iterations) {
  if (iterations == 0) return;
  asm volatile("1: dec %0; jnz 1b" : "+r"(iterations) : : "cc");
}

// The user-mode CPU time, in ns, of the thread whose clock slot is `thread`.
uint64_t cpu_time_ns(uint64_t thread) {
  if (thread >= kClockSlots) return 0;
  const volatile ClockSlot& s = reinterpret_cast<const volatile ClockSlot*>(kClockPage)[thread];
  for (;;) {
    const uint64_t base = s.base;
    uint32_t lo, hi;
    asm volatile("rdtsc" : "=a"(lo), "=d"(hi) : : "memory");
    if (s.base == base) {
      const uint64_t ticks = ((uint64_t{hi} << 32) | lo) + base;
      return static_cast<uint64_t>((static_cast<uint128>(ticks) * s.ns_mult) >> 32);
    }
    // The kernel ran in between (the thread was interrupted): read again.
  }
}

// `ns` of the thread's CPU time, in steps of a few dozen instructions. Each step ends in `pause`,
// the spin-wait hint: on hardware it only saves power, but under QEMU's -icount, which runs an SMP
// machine's CPUs in turns on one host thread, it ends this CPU's turn, so that a CPU an interrupt
// woke runs within a step rather than after this CPU's whole turn (up to the next timer deadline,
// milliseconds away). The kernel's lock waits halt for the same reason (kernel/kernel.cpp).
void work(uint64_t ns, uint64_t thread) {
  if (ns == 0) return;
  const uint64_t start = cpu_time_ns(thread);
  while (cpu_time_ns(thread) - start < ns) {
    spin(16);
    asm volatile("pause");
  }
}

void puts(const char* s) {
  uint64_t n = 0;
  while (s[n] != '\0') ++n;
  sys(kSysPuts, reinterpret_cast<uint64_t>(s), n);
}

// What one job does, as the kernel plans it (kSysJob/kSysComplete fill it in): own work, then
// for each call the callee's work and the own work after it, in ns of CPU time.
struct JobPlan {
  uint64_t calls;
  uint64_t work[1 + 2 * 8];
  uint64_t slot[8];
};

[[noreturn]] void task(uint64_t thread) {
  JobPlan plan;
  sys(kSysJob, reinterpret_cast<uint64_t>(&plan));
  for (;;) {
    work(plan.work[0], thread);
    for (uint64_t c = 0; c < plan.calls && c < 8; ++c) {
      sys(kSysCall, plan.slot[c], plan.work[1 + 2 * c]);
      work(plan.work[2 + 2 * c], thread);
    }
    sys(kSysComplete, reinterpret_cast<uint64_t>(&plan));
  }
}

volatile uint64_t sink;
uint64_t data_word = 0xc3c3c3c3c3c3c3c3;  // `ret` bytes, in a data page (no execute)

// Recursion without a base case reachable in practice (`limit` is never met), to overflow the stack.
volatile int limit = -1;
int recurse(int depth) {
  volatile char pad[512];
  pad[0] = static_cast<char>(depth);
  if (depth == limit) return 0;
  return recurse(depth + 1) + pad[0];
}

[[noreturn]] void hostile(uint64_t kind) {
  switch (kind) {
    case kHostileWriteKernel:
      *reinterpret_cast<volatile uint64_t*>(0x100000) = 0;  // the kernel image
      break;
    case kHostileReadKernel:
      sink = *reinterpret_cast<volatile uint64_t*>(0x100000);
      break;
    case kHostileWriteOtherFwp:
      // Another thread's stack slot: mapped only in the address spaces it runs in.
      *reinterpret_cast<volatile uint64_t*>(kStackRegion + 200 * kDepthSlots * kStackSlot + kStackSlot - 64) = 0;
      break;
    case kHostileReadUnmapped:
      sink = *reinterpret_cast<volatile uint64_t*>(kUserBase + 0x0800'0000);
      break;
    case kHostileExecuteData:
      reinterpret_cast<void (*)()>(reinterpret_cast<uintptr_t>(&data_word))();
      break;
    case kHostileCli:
      asm volatile("cli");
      break;
    case kHostileHlt:
      asm volatile("hlt");
      break;
    case kHostileWrmsr:
      asm volatile("wrmsr" : : "c"(0xc0000082), "a"(0), "d"(0));
      break;
    case kHostileOut:
      asm volatile("outb %%al, $0xf4" : : "a"(0));  // would end the machine under QEMU
      break;
    case kHostileLgdt: {
      struct __attribute__((packed)) {
        uint16_t limit;
        uint64_t base;
      } gdt = {0, 0};
      asm volatile("lgdt %0" : : "m"(gdt));
      break;
    }
    case kHostileDivideByZero: {
      // In assembly: the compiler turns an unsigned 1 / x into x == 1.
      uint64_t quotient = 1, high = 0, zero = 0;
      asm volatile("divq %2" : "+a"(quotient), "+d"(high) : "r"(zero) : "cc");
      sink = quotient;
      break;
    }
    case kHostileStackOverflow:
      sink = static_cast<uint64_t>(recurse(0));
      break;
    case kHostileBadSyscall: {
      // Every call must fail cleanly; then the program reports and exits on its own.
      bool ok = sys(1000) < 0 && sys(~uint64_t{0}) < 0 && sys(kSysCount) < 0;
      ok = ok && sys(kSysCall, 12345, 0) < 0 && sys(kSysNotify, ~uint64_t{0}) < 0 && sys(kSysReply, 0) < 0;
      ok = ok && sys(kSysRingSend, 99, 0, 0) < 0 && sys(kSysWait, 77) < 0 && sys(kSysFwpSpawn, 3) < 0;
      puts(ok ? "bad syscalls refused" : "BAD SYSCALL ACCEPTED");
      sys(kSysExit);
      break;
    }
    case kHostileBadPointer: {
      bool ok = sys(kSysPuts, 0x100000, 16) < 0 && sys(kSysPuts, 0, 8) < 0 && sys(kSysPuts, ~uint64_t{0} - 4, 64) < 0;
      ok = ok && sys(kSysJob, 0x100000) < 0 && sys(kSysJob, kUserBase) < 0 && sys(kSysPuts, kUserBase + 0x0800'0000, 1) < 0;
      puts(ok ? "bad pointers refused" : "BAD POINTER ACCEPTED");
      sys(kSysExit);
      break;
    }
    case kHostileCallDepth:
      // Calls into itself through its own capability 0 (granted by the scenario), forever: the
      // kernel refuses the ninth nested call.
      sys(kSysCall, 0, ~uint64_t{0});
      puts("call depth bounded");
      sys(kSysExit);
      break;
    case kHostileSpin:
      for (;;) spin(1'000'000);
    case kHostileForkBomb:
      for (;;) {
        if (sys(kSysFwpSpawn, 0) < 0) {
          puts("FWP quota reached");
          sys(kSysExit);
        }
      }
    default:
      break;
  }
  puts("hostile program survived its own attack");
  sys(kSysExit);
  for (;;) {
  }
}

inline uint64_t rdtsc() {
  uint32_t lo, hi;
  asm volatile("rdtsc" : "=a"(lo), "=d"(hi));
  return (uint64_t{hi} << 32) | lo;
}

// "bench NAME ROUNDS CYCLES" on the console.
void report(const char* name, uint64_t rounds, uint64_t cycles) {
  char line[96];
  uint64_t n = 0;
  auto text = [&](const char* s) {
    while (*s != '\0' && n < sizeof line - 1) line[n++] = *s++;
  };
  auto number = [&](uint64_t v) {
    char digits[20];
    int k = 0;
    do {
      digits[k++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (k > 0 && n < sizeof line - 1) line[n++] = digits[--k];
  };
  text("bench ");
  text(name);
  text(" ");
  number(rounds);
  text(" ");
  number(cycles);
  sys(kSysPuts, reinterpret_cast<uint64_t>(line), n);
}

[[noreturn]] void bench(uint64_t kind) {
  constexpr uint64_t kRounds = 1000;
  constexpr uint64_t kSpawnRounds = 200;
  if (kind == kBenchYield) {
    sys(kSysYield);  // warm up: both threads have run once
    const uint64_t t0 = rdtsc();
    for (uint64_t i = 0; i < kRounds; ++i) sys(kSysYield);
    report("yield", kRounds, rdtsc() - t0);
  } else if (kind == kBenchCall) {
    // First the floor under every system call: entry, dispatch, exit (an unknown number).
    const uint64_t n0 = rdtsc();
    for (uint64_t i = 0; i < kRounds; ++i) sys(kSysCount);
    report("null", kRounds, rdtsc() - n0);
    sys(kSysCall, 0, 0);  // warm up: the callee's stack is mapped
    const uint64_t t0 = rdtsc();
    for (uint64_t i = 0; i < kRounds; ++i) sys(kSysCall, 0, 0);
    report("call", kRounds, rdtsc() - t0);
  } else if (kind == kBenchSpawn) {
    // The scenario gives the template a pool: the first half are activations from it, the
    // second half creations (bench/boot_bench.py sets the sizes).
    const char* names[2] = {"spawn-first", "spawn-second"};
    for (const char* name : names) {
      uint64_t done = 0;
      const uint64_t t0 = rdtsc();
      while (done < kSpawnRounds && sys(kSysFwpSpawn, 0) >= 0) ++done;
      report(name, done, rdtsc() - t0);
    }
  }
  sys(kSysExit);
  for (;;) {
  }
}

}  // namespace

extern "C" {

[[noreturn]] void fwp_start(uint64_t program, uint64_t thread) {
  if (program == kProgramTask) task(thread);
  if (program >= kBenchYield && program <= kBenchSpawn) bench(program);
  if (program >= kHostileFirst && program <= kHostileLast) hostile(program);
  // A server (or an unknown program): nothing of its own to do.
  sys(kSysExit);
  for (;;) {
  }
}

// A call into this FWP: `arg` is the work to do here, on the calling thread's clock (the hostile
// call-depth program passes ~0: call itself again).
[[noreturn]] void fwp_invoke(uint64_t arg, uint64_t thread) {
  if (arg == ~uint64_t{0}) {
    const int64_t r = sys(kSysCall, 0, ~uint64_t{0});
    sys(kSysReply, static_cast<uint64_t>(r));
  }
  work(arg, thread);
  sys(kSysReply, 0);
  for (;;) {
  }
}

}  // extern "C"

// The entry table the kernel reads at the start of the image: a magic word ("EDGEFWP1") and the
// two entry points.
asm(R"(
    .section .entry, "a"
    .quad 0x3150574645474445
    .quad fwp_start
    .quad fwp_invoke
    .quad 0
    .text
)");
