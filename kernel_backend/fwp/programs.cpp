// The programs FWPs run, in ring 3 in their own address space. One image serves every template:
// a thread starts in fwp_start(program, arg) and calls into the FWP enter fwp_invoke(arg).
//
// Freestanding and tiny on purpose: no libc, no floating point. A job's CPU work is spinning until
// the thread has had that much user-mode CPU time, read from the kernel's clock pages (abi.hpp):
// exactly reproducible under QEMU's -icount, and still time when CPUs share that clock.
#include <stdint.h>

#include "abi.hpp"
#include "drivers/e1000.hpp"
#include "drivers/virtio_net.hpp"

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
    case kHostileTouchDevice: {
      // The NIC's description is refused to every FWP but the driver's; its windows are not
      // mapped here, so the read below faults and the kernel kills this FWP.
      static NicInfo info;
      puts(sys(kSysNicInfo, reinterpret_cast<uint64_t>(&info)) < 0 ? "NIC refused" : "NIC GRANTED TO A TENANT");
      sink = *reinterpret_cast<volatile uint64_t*>(kDmaWindow);
      sink = *reinterpret_cast<volatile uint64_t*>(kDeviceWindow);
      break;
    }
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

// --- the NIC driver FWP ---------------------------------------------------------------------------

// Text for the console: numbers in hexadecimal and decimal, MAC and IPv4 addresses.
class Line {
 public:
  Line& text(const char* s) {
    while (*s != '\0' && n_ < sizeof buf_ - 1) buf_[n_++] = *s++;
    return *this;
  }
  Line& hex(uint64_t v, int digits) {
    for (int i = digits - 1; i >= 0; --i) put("0123456789abcdef"[(v >> (4 * i)) & 15]);
    return *this;
  }
  Line& dec(uint64_t v) {
    char d[20];
    int k = 0;
    do {
      d[k++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (k > 0) put(d[--k]);
    return *this;
  }
  Line& mac(const uint8_t* m) {
    for (int i = 0; i < 6; ++i) {
      if (i > 0) put(':');
      hex(m[i], 2);
    }
    return *this;
  }
  Line& ipv4(const uint8_t* a) {
    for (int i = 0; i < 4; ++i) {
      if (i > 0) put('.');
      dec(a[i]);
    }
    return *this;
  }
  void print() {
    buf_[n_] = '\0';
    puts(buf_);
  }

 private:
  void put(char c) {
    if (n_ < sizeof buf_ - 1) buf_[n_++] = c;
  }
  char buf_[160] = {};
  size_t n_ = 0;
};

// The addresses of QEMU's user-mode network (its defaults): the guest is 10.0.2.15, the gateway
// 10.0.2.2. Until scenarios give a NIC its address, the driver uses these.
constexpr uint8_t kGuestIp[4] = {10, 0, 2, 15};
constexpr uint8_t kGatewayIp[4] = {10, 0, 2, 2};

// An ARP request (RFC 826) for `target` from `mac`/`ip`, padded to Ethernet's minimum of 60 bytes.
size_t arp_request(uint8_t* f, const uint8_t* mac, const uint8_t* ip, const uint8_t* target) {
  for (int i = 0; i < 60; ++i) f[i] = 0;
  for (int i = 0; i < 6; ++i) f[i] = 0xff;
  for (int i = 0; i < 6; ++i) f[6 + i] = mac[i];
  f[12] = 0x08, f[13] = 0x06;                            // ethertype ARP
  f[14] = 0, f[15] = 1, f[16] = 0x08, f[17] = 0, f[18] = 6, f[19] = 4;  // Ethernet, IPv4
  f[20] = 0, f[21] = 1;                                  // request
  for (int i = 0; i < 6; ++i) f[22 + i] = mac[i];
  for (int i = 0; i < 4; ++i) f[28 + i] = ip[i], f[38 + i] = target[i];
  return 60;
}

// The gateway's answer to that request, if `f` is one: its MAC into `out`.
bool arp_reply_from(const uint8_t* f, size_t n, const uint8_t* who, uint8_t* out) {
  if (n < 42 || f[12] != 0x08 || f[13] != 0x06 || f[20] != 0 || f[21] != 2) return false;
  for (int i = 0; i < 4; ++i) {
    if (f[28 + i] != who[i]) return false;
  }
  for (int i = 0; i < 6; ++i) out[i] = f[22 + i];
  return true;
}

// The driver FWP: brings the granted NIC up, asks the gateway for its MAC (a first exchange with
// an independent peer, QEMU's network), then polls the device once per job.
[[noreturn]] void nic_driver() {
  static NicInfo info;
  static edgeos::drivers::VirtioNet virtio;
  static edgeos::drivers::E1000 e1000;
  if (sys(kSysNicInfo, reinterpret_cast<uint64_t>(&info)) < 0) {
    puts("nic-driver: no NIC granted to this FWP");
    sys(kSysExit);
  }
  edgeos::drivers::Nic& nic = info.model == kNicVirtio ? static_cast<edgeos::drivers::Nic&>(virtio) : e1000;
  const char* model = info.model == kNicVirtio ? "virtio-net" : "e1000";
  const char* why = "";
  if (!nic.init(info, &why)) {
    Line().text("nic-driver: the device refused: ").text(why).print();
    sys(kSysExit);
  }
  Line().text("nic-driver: ").text(model).text(" up, mac ").mac(nic.mac()).print();
  static uint8_t frame[2048];
  nic.transmit(frame, arp_request(frame, nic.mac(), kGuestIp, kGatewayIp));
  nic.flush();
  bool gateway_known = false;
  JobPlan plan;
  sys(kSysJob, reinterpret_cast<uint64_t>(&plan));
  for (;;) {
    for (size_t n; (n = nic.receive(frame, sizeof frame)) > 0;) {
      uint8_t gateway[6];
      if (!gateway_known && arp_reply_from(frame, n, kGatewayIp, gateway)) {
        gateway_known = true;
        Line().text("nic-driver: arp ").ipv4(kGatewayIp).text(" is at ").mac(gateway).print();
      }
    }
    nic.flush();
    sys(kSysComplete, reinterpret_cast<uint64_t>(&plan));
  }
}

}  // namespace

extern "C" {

[[noreturn]] void fwp_start(uint64_t program, uint64_t thread) {
  if (program == kProgramTask) task(thread);
  if (program >= kBenchYield && program <= kBenchSpawn) bench(program);
  if (program == kProgramNicDriver) nic_driver();
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
