// The programs FWPs run, in ring 3 in their own address space. One image serves every template:
// a thread starts in fwp_start(program, arg) and calls into the FWP enter fwp_invoke(arg).
//
// Freestanding and tiny on purpose: no libc, no floating point. A job's CPU work is spinning until
// the thread has had that much user-mode CPU time, read from the kernel's clock pages (abi.hpp):
// exactly reproducible under QEMU's -icount, and still time when CPUs share that clock.
#include <stdint.h>

#include "abi.hpp"
#include <new>

#include "drivers/e1000.hpp"
#include "edgeos/apps/coap/sensors.hpp"
#include "edgeos/apps/coap/server.hpp"
#include "edgeos/apps/memcached/engine.hpp"
#include "edgeos/net/stack.hpp"
#include "drivers/virtio_net.hpp"

using namespace edgeos::abi;

__extension__ typedef unsigned __int128 uint128;

namespace {

// A system call; rdx may come back changed (a second result), so it is an output too.
inline int64_t sys(uint64_t n, uint64_t a = 0, uint64_t b = 0, uint64_t c = 0) {
  int64_t r;
  asm volatile("syscall" : "=a"(r), "+d"(c) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "memory");
  return r;
}

// A ring receive: the message's length (or a negative error), and whether more wait (rdx).
inline int64_t ring_receive(uint64_t slot, void* buffer, uint64_t capacity, bool* more) {
  int64_t r;
  uint64_t rdx = capacity;
  asm volatile("syscall" : "=a"(r), "+d"(rdx) : "a"(kSysRingReceive), "D"(slot), "S"(buffer) : "rcx", "r11", "memory");
  *more = r >= 0 && rdx != 0;
  return r;
}

// The driver's collection of the tenants' replies (kSysNetCollect): the reply's length (0: none
// waits, or a negative error), and whether more wait (rdx).
inline int64_t net_collect(void* buffer, uint64_t capacity, bool* more) {
  int64_t r;
  uint64_t rdx = 0;
  asm volatile("syscall" : "=a"(r), "+d"(rdx) : "a"(kSysNetCollect), "D"(buffer), "S"(capacity) : "rcx", "r11", "memory");
  *more = r > 0 && rdx != 0;
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
      // The later calls: no heap of 0 pages or beyond the limit, no NIC for a tenant.
      ok = ok && sys(kSysMemMap, 0) < 0 && sys(kSysMemMap, ~uint64_t{0}) < 0 && sys(kSysMemMap, kHeapMaxPages + 1) < 0 &&
           sys(kSysMemMap, kMemMapMaxPages + 1) < 0;
      // The heap up to its limit (promised, never touched: no memory used), then out_of_capacity (2),
      // an error value, with nothing left.
      int64_t left = sys(kSysMemLeft);
      ok = ok && left > 0 && left <= static_cast<int64_t>(kHeapMaxPages);
      while (ok && left > 0) {
        const int64_t n = left < static_cast<int64_t>(kMemMapMaxPages) ? left : static_cast<int64_t>(kMemMapMaxPages);
        ok = sys(kSysMemMap, static_cast<uint64_t>(n)) > 0;
        left -= n;
      }
      ok = ok && sys(kSysMemMap, 1) == -2 && sys(kSysMemLeft) == 0;
      ok = ok && sys(kSysNicInfo, 0) < 0;
      puts(ok ? "bad syscalls refused" : "BAD SYSCALL ACCEPTED");
      sys(kSysExit);
      break;
    }
    case kHostileBadPointer: {
      bool ok = sys(kSysPuts, 0x100000, 16) < 0 && sys(kSysPuts, 0, 8) < 0 && sys(kSysPuts, ~uint64_t{0} - 4, 64) < 0;
      ok = ok && sys(kSysJob, 0x100000) < 0 && sys(kSysJob, kUserBase) < 0 && sys(kSysPuts, kUserBase + 0x0800'0000, 1) < 0;
      ok = ok && sys(kSysNetInfo, 0x100000) < 0 && sys(kSysNetInfo, kUserBase) < 0 && sys(kSysNetInfo, ~uint64_t{0} - 8) < 0;
      ok = ok && sys(kSysRingReceive, 0, 0x100000, 64) < 0;
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
      NicInfo info;  // on the stack: .bss is copied into every FWP of the image
      puts(sys(kSysNicInfo, reinterpret_cast<uint64_t>(&info)) < 0 ? "NIC refused" : "NIC GRANTED TO A TENANT");
      // No ring reaches it but through a capability: every slot refuses a send and a receive.
      bool refused = true;
      for (uint64_t slot = 0; slot < 16; ++slot) {
        refused = refused && sys(kSysRingSend, slot, reinterpret_cast<uint64_t>(&info), 8) < 0 &&
                  sys(kSysRingReceive, slot, reinterpret_cast<uint64_t>(&info), sizeof info) < 0;
      }
      puts(refused ? "rings refused" : "A RING ACCEPTED");
      // Nor can it write drops into the trace in the driver's name, or act as the driver on the
      // port table: deliver to a tenant, signal them, or take their replies.
      puts(sys(kSysNetDrop, 1) < 0 ? "drop reports refused" : "A DROP REPORT ACCEPTED");
      NetHeader forged{0x7f000001, 9, 7007, {}, 0, 0};
      const bool denied = sys(kSysNetDeliver, reinterpret_cast<uint64_t>(&forged), sizeof forged) < 0 &&
                          sys(kSysNetFlush) < 0 && sys(kSysNetCollect, reinterpret_cast<uint64_t>(&info), sizeof info) < 0;
      puts(denied ? "port table refused" : "THE PORT TABLE ACCEPTED A TENANT");
      sink = *reinterpret_cast<volatile uint64_t*>(kDmaWindow);
      sink = *reinterpret_cast<volatile uint64_t*>(kDeviceWindow);
      break;
    }
    case kHostileCompleteInCallee: {
      const int64_t heap = sys(kSysMemMap, 1);
      if (heap < 0) break;
      auto* page = reinterpret_cast<volatile uint64_t*>(heap);
      for (uint64_t i = 0; i < 512; ++i) page[i] = 0x5eed'0000'0000'0000ull | i;
      const int64_t r = sys(kSysCall, 0, kFuzzMagic | (kFuzzOpComplete << 48));
      bool intact = true;
      for (uint64_t i = 0; i < 512; ++i) intact = intact && page[i] == (0x5eed'0000'0000'0000ull | i);
      puts(intact ? "complete-in-callee: caller's page intact" : "complete-in-callee: CALLER'S PAGE OVERWRITTEN");
      puts(r == -4 ? "complete-in-callee: the call came back stale" : "complete-in-callee: THE CALL CAME BACK WITH ANOTHER RESULT");
      sys(kSysExit);
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
    // Then a checkpoint of 16 KiB of heap (and the image's data page), and creations from it: each
    // new FWP gets copies of those pages.
    sys(kSysMarker, kCheckpointRoundMarker);  // the trace tells the rounds apart by it (make paper)
    const int64_t heap = sys(kSysMemMap, 4);
    if (heap >= 0) {
      for (uint64_t i = 0; i < 4 * 4096 / 8; ++i) reinterpret_cast<volatile uint64_t*>(heap)[i] = i;
      sys(kSysReady);
      uint64_t done = 0;
      const uint64_t t0 = rdtsc();
      while (done < kSpawnRounds && sys(kSysFwpSpawn, 0) >= 0) ++done;
      report("spawn-checkpoint", done, rdtsc() - t0);
      // A copy's heap pages are copied from the checkpoint on first access: calls that read a word
      // of each of the four, into fresh copies (first access), then into the same copies again
      // (mapped): the difference is what the first access costs (capability slots bound the count).
      constexpr uint64_t kTouchRounds = 8;
      uint64_t slots[kTouchRounds];
      uint64_t made = 0;
      for (; made < kTouchRounds; ++made) {
        int64_t rdx;
        int64_t f;
        asm volatile("syscall" : "=a"(f), "=d"(rdx) : "a"(kSysFwpSpawn), "D"(1) : "rcx", "r11", "memory");
        if (f < 0 || rdx < 0) break;
        slots[made] = static_cast<uint64_t>(rdx);
      }
      const char* rounds[2] = {"touch-first", "touch-again"};
      for (const char* name : rounds) {
        const uint64_t t1 = rdtsc();
        for (uint64_t i = 0; i < made; ++i) sys(kSysCall, slots[i], kTouchMagic | 4);
        report(name, made, rdtsc() - t1);
      }
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

// Memory from the FWP's heap (kSysMemMap), or null: program state too large for the image's
// .data/.bss, which every FWP of the image copies at creation.
void* heap_alloc(uint64_t bytes) {
  // In calls of at most kMemMapMaxPages pages: the heap grows contiguously, so they add up to one range.
  uint64_t pages = (bytes + 4095) / 4096;
  int64_t first = -1;
  do {
    const uint64_t n = pages < kMemMapMaxPages ? pages : kMemMapMaxPages;
    const int64_t va = sys(kSysMemMap, n);
    if (va < 0) return nullptr;
    if (first < 0) first = va;
    pages -= n;
  } while (pages > 0);
  return reinterpret_cast<void*>(first);
}

inline void copy(void* d, const void* s, size_t n) { __builtin_memcpy(d, s, n); }

// The driver FWP (EdgeOS's kernel bypass): brings the granted NIC up, then once per job moves
// frames between the device and the network path: received frames through the packet stack (ARP
// and ICMP echo answered here, UDP handed to the kernel's port table, which copies it into the ring
// of the FWP bound to its port; the FWPs delivered to are signalled once per batch), and the
// tenants' replies, collected in turns, onto the wire. UDP to port 7 with no tenant bound is echoed
// by the driver itself (the driver's own test and benchmark path).
struct DriverState {
  NicInfo info;
  NetInfo net;
  edgeos::drivers::VirtioNet virtio;
  edgeos::drivers::E1000 e1000;
  edgeos::net::Stack stack{edgeos::net::StackConfig{}};
  uint8_t frame[2048];
  uint8_t reply[edgeos::net::kMaxFrameLen];
  uint8_t msg[kNetSlotSize];
  uint64_t delivered = 0, ring_full = 0, no_tenant = 0, echoed = 0, sent = 0, jobs = 0;
  uint64_t reported_rx = 0;  // rx_frames at the last stats line
  // Where a datagram to a tenant and its reply spend the driver's and the tenant's cycles (TSC
  // cycles: under QEMU's -icount one per guest instruction), summed over `timed` datagrams.
  struct {
    uint64_t device_rx, stack, ring_in, notify, tenant, ring_out_tx;
    uint64_t timed, replies;
  } cycles{};
};

constexpr uint16_t kEchoPort = 7;
constexpr uint32_t kRxBatch = 32;

void driver_stats(const DriverState& st, const edgeos::drivers::Nic& nic) {
  const edgeos::net::Counters& c = st.stack.counters();
  Line()
      .text("nic-driver: stats rx ").dec(nic.counters().rx_frames)
      .text(" tx ").dec(nic.counters().tx_frames)
      .text(" delivered ").dec(st.delivered)
      .text(" sent ").dec(st.sent)
      .text(" echoed ").dec(st.echoed)
      .text(" arp ").dec(c.arp_replies)
      .text(" icmp ").dec(c.icmp_echo_replies)
      .text(" drops ").dec(c.total_drops() + st.ring_full + st.no_tenant)
      .text(" ring-full ").dec(st.ring_full)
      .text(" no-tenant ").dec(st.no_tenant)
      .print();
  // The stack's drops by cause, those that happened, a few causes a line (console lines are short).
  Line causes;
  int on_line = 0;
  for (size_t i = 1; i < edgeos::net::kDropCauseCount; ++i) {
    if (c.drops[i] == 0) continue;
    if (on_line == 0) causes.text("nic-driver: drops");
    causes.text(" ").text(edgeos::net::drop_cause_name(static_cast<edgeos::net::DropCause>(i))).text(" ").dec(c.drops[i]);
    if (++on_line == 5) {
      causes.print();
      causes = Line();
      on_line = 0;
    }
  }
  if (on_line > 0) causes.print();
  const auto& cy = st.cycles;
  if (cy.timed > 0 && cy.replies > 0) {
    Line()
        .text("nic-driver: cycles per datagram: device-rx ").dec(cy.device_rx / cy.timed)
        .text(" stack ").dec(cy.stack / cy.timed)
        .text(" ring-in ").dec(cy.ring_in / cy.timed)
        .text(" notify ").dec(cy.notify / cy.timed)
        .text(" tenant ").dec(cy.tenant / cy.replies)
        .text(" ring-out+tx ").dec(cy.ring_out_tx / cy.replies)
        .text(" over ").dec(cy.timed)
        .print();
  }
}

[[noreturn]] void nic_driver() {
  auto* st = static_cast<DriverState*>(heap_alloc(sizeof(DriverState)));
  if (st == nullptr) {
    puts("nic-driver: no memory");
    sys(kSysExit);
  }
  new (st) DriverState();
  if (sys(kSysNicInfo, reinterpret_cast<uint64_t>(&st->info)) < 0) {
    puts("nic-driver: no NIC granted to this FWP");
    sys(kSysExit);
  }
  sys(kSysNetInfo, reinterpret_cast<uint64_t>(&st->net));
  const bool is_virtio = st->info.model == kNicVirtio;
  edgeos::drivers::Nic& nic = is_virtio ? static_cast<edgeos::drivers::Nic&>(st->virtio) : st->e1000;
  const char* why = "";
  if (!nic.init(st->info, &why)) {
    Line().text("nic-driver: the device refused: ").text(why).print();
    sys(kSysExit);
  }
  // The address: the scenario's (NetInfo), or QEMU's user-mode guest when the scenario names none.
  const uint32_t ip = st->net.ipv4 != 0 ? st->net.ipv4 : edgeos::net::ipv4(10, 0, 2, 15);
  edgeos::net::StackConfig config;
  copy(config.mac.bytes, nic.mac(), 6);
  config.ipv4 = ip;
  st->stack = edgeos::net::Stack(config);
  const uint8_t ip_bytes[4] = {uint8_t(ip >> 24), uint8_t(ip >> 16), uint8_t(ip >> 8), uint8_t(ip)};
  Line().text("nic-driver: ").text(is_virtio ? "virtio-net" : "e1000").text(" up, mac ").mac(nic.mac())
      .text(", ipv4 ").ipv4(ip_bytes).text(", ").dec(st->net.num_bindings).text(" bound tenant(s)").print();
  // Ask the gateway (x.x.x.2 on QEMU's network) for its MAC: a first exchange with a peer that is
  // not ours.
  const uint32_t gateway = (ip & 0xffff'ff00u) | 2;
  edgeos::net::MacAddress our_mac = config.mac;
  const size_t arp_len = edgeos::net::build_arp_request(our_mac, ip, gateway, st->frame, sizeof st->frame);
  if (arp_len > 0) nic.transmit(st->frame, arp_len);
  nic.flush();
  bool gateway_known = false;
  JobPlan plan;
  sys(kSysJob, reinterpret_cast<uint64_t>(&plan));
  for (;;) {
    // At most kRxBatch frames a job (like a NAPI budget): a flood makes the driver's job longer by
    // a bounded amount; what is left waits in the device's queue for the next job (and what the
    // device cannot hold, it drops).
    for (uint32_t batch = 0; batch < kRxBatch; ++batch) {
      const uint64_t t0 = rdtsc();
      const size_t n = nic.receive(st->frame, sizeof st->frame);
      if (n == 0) break;
      const uint64_t t1 = rdtsc();
      const edgeos::net::Verdict v = st->stack.receive(st->frame, n, st->reply, sizeof st->reply);
      const uint64_t t2 = rdtsc();
      if (v.kind == edgeos::net::Verdict::Kind::kDrop) {
        sys(kSysNetDrop, static_cast<uint64_t>(v.cause));  // a pkt_drop record: summaries count drops by cause
      } else if (v.kind == edgeos::net::Verdict::Kind::kReply) {
        nic.transmit(st->reply, v.reply_len);
      } else if (v.kind == edgeos::net::Verdict::Kind::kConsumed) {
        edgeos::net::MacAddress gw;
        if (!gateway_known && st->stack.arp_cache().lookup(gateway, gw)) {
          gateway_known = true;
          const uint8_t g[4] = {uint8_t(gateway >> 24), uint8_t(gateway >> 16), uint8_t(gateway >> 8), uint8_t(gateway)};
          Line().text("nic-driver: arp ").ipv4(g).text(" is at ").mac(gw.bytes).print();
        }
      } else if (v.kind == edgeos::net::Verdict::Kind::kDeliver) {
        int64_t r = kErrNotFound;
        if (v.udp.payload_len <= kNetSlotSize - sizeof(NetHeader)) {
          // Copied into the tenant's ring by the kernel: a page is never shared with a tenant.
          NetHeader h{v.udp.src_ip, v.udp.src_port, v.udp.dst_port, {}, static_cast<uint16_t>(v.udp.payload_len), 0};
          copy(h.peer_mac, v.udp.src_mac.bytes, 6);
          copy(st->msg, &h, sizeof h);
          copy(st->msg + sizeof h, v.udp.payload, v.udp.payload_len);
          r = sys(kSysNetDeliver, reinterpret_cast<uint64_t>(st->msg), sizeof h + v.udp.payload_len);
        }
        if (r == 0) {
          ++st->delivered;
          st->cycles.device_rx += t1 - t0;
          st->cycles.stack += t2 - t1;
          st->cycles.ring_in += rdtsc() - t2;
          ++st->cycles.timed;
        } else if (r != kErrNotFound) {
          ++st->ring_full;  // the tenant is behind: its datagram is dropped (the kernel records the
                            // pkt_drop), nobody else waits
        } else if (v.udp.dst_port == kEchoPort) {
          const size_t len = st->stack.build_udp_reply(v.udp, v.udp.payload, v.udp.payload_len, st->reply, sizeof st->reply);
          if (len > 0 && nic.transmit(st->reply, len)) ++st->echoed;
        } else {
          ++st->no_tenant;
          sys(kSysNetDrop, static_cast<uint64_t>(edgeos::net::DropCause::kNoTenant));
        }
      }
    }
    {
      const uint64_t t0 = rdtsc();
      if (sys(kSysNetFlush) > 0) st->cycles.notify += rdtsc() - t0;  // once per batch: charged to its first datagram
    }
    // The tenants' replies, from their rings to the wire, a tenant at a time in turn.
    uint64_t out_start = rdtsc(), out_replies = 0;
    bool more = true;
    for (int64_t n; more && (n = net_collect(st->msg, sizeof st->msg, &more)) > 0;) {
      NetHeader h;
      if (static_cast<uint64_t>(n) < sizeof h) continue;
      copy(&h, st->msg, sizeof h);
      if (h.length > static_cast<uint64_t>(n) - sizeof h) continue;
      edgeos::net::MacAddress to;
      copy(to.bytes, h.peer_mac, 6);
      const size_t len = st->stack.build_udp(to, h.peer_ipv4, h.peer_port, h.local_port, st->msg + sizeof h, h.length,
                                             st->reply, sizeof st->reply);
      if (len > 0 && nic.transmit(st->reply, len)) ++st->sent;
      st->cycles.tenant += h.service_cycles;
      ++out_replies;
    }
    nic.flush();
    if (out_replies > 0) {
      st->cycles.ring_out_tx += rdtsc() - out_start;
      st->cycles.replies += out_replies;
    }
    // A stats line at most every 1,000 jobs, and only when frames came in since the last one.
    if (++st->jobs % 1000 == 0 && nic.counters().rx_frames != st->reported_rx) {
      st->reported_rx = nic.counters().rx_frames;
      driver_stats(*st, nic);
    }
    sys(kSysComplete, reinterpret_cast<uint64_t>(&plan));
  }
}

// A network tenant's replies go back through its ring to the driver, with the request's header.
class RingSink final : public edgeos::net::ReplySink {
 public:
  RingSink(uint32_t slot, const NetHeader& request, uint8_t* buffer, uint64_t started)
      : slot_(slot), header_(request), buffer_(buffer), started_(started) {}
  bool send(const uint8_t* data, size_t len) override {
    if (len > kNetSlotSize - sizeof(NetHeader)) return false;
    NetHeader h = header_;
    h.length = static_cast<uint16_t>(len);
    // The tenant's cycles for this request, from taking it out of its ring to this reply (the
    // ring send itself included only approximately: it is the kernel's copy of these bytes).
    h.service_cycles = static_cast<uint32_t>(rdtsc() - started_);
    copy(buffer_, &h, sizeof h);
    copy(buffer_ + sizeof h, data, len);
    return sys(kSysRingSend, slot_, reinterpret_cast<uint64_t>(buffer_), sizeof h + len) >= 0;
  }

 private:
  uint32_t slot_;
  NetHeader header_;
  uint8_t* buffer_;
  uint64_t started_;
};

class UdpEcho final : public edgeos::net::UdpApp {
 public:
  void handle(const edgeos::net::Peer&, const uint8_t* data, size_t len, edgeos::net::ReplySink& out) override {
    out.send(data, len);
  }
};

struct TenantState {
  NetInfo net;
  uint8_t in[kNetSlotSize];
  uint8_t out[kNetSlotSize];
  uint8_t flow[kFlowPageBytes];  // a per-client front's request to its client's FWP, then the replies
  UdpEcho echo;
  edgeos::apps::coap::Server coap;
  edgeos::apps::coap::SensorBoard board;
  edgeos::apps::memcached::Engine memcached;
};
constexpr edgeos::apps::coap::ServerConfig kCoapConfig{};

// A per-client front's state and application, in .data: its template's checkpoint (kSysReady) carries
// them, with the heap they point into, to every flow FWP made from it (fwp/abi.hpp, "Per-client FWPs").
TenantState* flow_tenant = nullptr;
edgeos::net::UdpApp* flow_app = nullptr;

// Replies into the flow page, as records (a NetHeader, then the payload), for the kernel to copy to
// the front.
class FlowSink final : public edgeos::net::ReplySink {
 public:
  FlowSink(uint8_t* page, const NetHeader& request, uint64_t started) : page_(page), header_(request), started_(started) {}
  bool send(const uint8_t* data, size_t len) override {
    if (len > kNetSlotSize - sizeof(NetHeader) || used_ + sizeof(NetHeader) + len > kFlowPageBytes) return false;
    NetHeader h = header_;
    h.length = static_cast<uint16_t>(len);
    h.service_cycles = static_cast<uint32_t>(rdtsc() - started_);
    copy(page_ + used_, &h, sizeof h);
    copy(page_ + used_ + sizeof h, data, len);
    used_ += sizeof h + len;
    return true;
  }
  uint64_t bytes() const { return used_; }

 private:
  uint8_t* page_;
  NetHeader header_;
  uint64_t started_;
  uint64_t used_ = 0;
};

// Inside a flow FWP (a call with kFlowMagic): the request in the flow page, answered from this FWP's
// own copy of the application; the replies' length goes back with the reply.
[[noreturn]] void flow_serve(uint64_t length) {
  const uint64_t started = rdtsc();
  auto* page = reinterpret_cast<uint8_t*>(kFlowPage);
  if (flow_app == nullptr || length < sizeof(NetHeader) || length > kNetSlotSize) sys(kSysReply, 0);
  copy(flow_tenant->in, page, length);  // the replies overwrite the page
  NetHeader h;
  copy(&h, flow_tenant->in, sizeof h);
  if (h.length > length - sizeof h) sys(kSysReply, 0);
  FlowSink replies(page, h, started);
  flow_app->handle(edgeos::net::Peer{h.peer_ipv4, h.peer_port}, flow_tenant->in + sizeof h, h.length, replies);
  sys(kSysReply, replies.bytes());
  for (;;) {
  }
}
constexpr size_t kMemcachedBytes = 256 * 1024;  // a tenant's items (1,000 tenants in 256 MiB)

// A tenant of the network path: each job (released by the driver's notification) serves every
// datagram waiting in its ring.
[[noreturn]] void net_tenant(uint64_t program) {
  const size_t coap_memory = edgeos::apps::coap::Server::memory_needed(kCoapConfig);
  // The application's region starts on a page of its own (the memcached store wants 64-byte alignment).
  const size_t state_bytes = (sizeof(TenantState) + 4095) & ~size_t{4095};
  // Within the FWP's memory budget (its template's `memory`): the memcached store takes what the
  // budget leaves, up to its usual size (a smaller store evicts sooner); the CoAP server needs
  // its own size.
  const int64_t left = sys(kSysMemLeft);
  const size_t budget = left > 0 ? static_cast<size_t>(left) * 4096 : 0;
  size_t app_memory = program == kProgramCoap ? coap_memory : 0;
  if (program == kProgramMemcached) {
    app_memory = budget > state_bytes ? budget - state_bytes : 0;
    if (app_memory > kMemcachedBytes) app_memory = kMemcachedBytes;
  }
  if (budget < state_bytes + app_memory || (program == kProgramMemcached && app_memory < 16 * 1024)) {
    Line().text("the memory budget leaves ").dec(budget / 1024).text(" KiB; this program needs ")
        .dec((state_bytes + (program == kProgramMemcached ? 16 * 1024 : app_memory)) / 1024).text(" KiB").print();
    sys(kSysExit);
  }
  auto* st = static_cast<TenantState*>(heap_alloc(state_bytes + app_memory));
  if (st == nullptr) {
    puts("no memory");
    sys(kSysExit);
  }
  new (st) TenantState();
  sys(kSysNetInfo, reinterpret_cast<uint64_t>(&st->net));
  if (st->net.role != kNetTenant || st->net.num_bindings != 1) {
    puts("no UDP port is bound to this tenant");
    sys(kSysExit);
  }
  edgeos::net::UdpApp* app = &st->echo;
  if (program == kProgramCoap) {
    if (st->coap.init(kCoapConfig, reinterpret_cast<uint8_t*>(st) + state_bytes, coap_memory) !=
            edgeos::apps::coap::Status::kOk ||
        edgeos::apps::coap::add_sensor_resources(st->coap, st->board) != edgeos::apps::coap::Status::kOk) {
      puts("the CoAP server cannot start");
      sys(kSysExit);
    }
    app = &st->coap;
  } else if (program == kProgramMemcached) {
    // No wall clock in an FWP: items with a positive expiration time never expire (the engine's
    // documented behaviour without a clock).
    if (!st->memcached.init(reinterpret_cast<uint8_t*>(st) + state_bytes, app_memory)) {
      puts("the memcached engine cannot start");
      sys(kSysExit);
    }
    app = &st->memcached;
  }
  const NetBinding& b = st->net.bindings[0];
  const bool per_client = (b.flags & kNetPerClient) != 0;
  Line().text(program == kProgramCoap ? "coap" : program == kProgramMemcached ? "memcached" : "udp-echo")
      .text(": serving UDP port ").dec(b.ports[0])
      .text(per_client ? ", an FWP per client" : "").print();
  if (per_client) {
    // Initialised: the template's checkpoint, from which each client's FWP starts.
    flow_tenant = st;
    flow_app = app;
    if (const int64_t r = sys(kSysReady); r < 0) {
      Line().text("per-client: no checkpoint of this tenant (error ").dec(static_cast<uint64_t>(-r)).text(")").print();
      sys(kSysExit);
    }
  }
  JobPlan plan;
  sys(kSysJob, reinterpret_cast<uint64_t>(&plan));
  for (;;) {
    uint64_t started = rdtsc();
    bool more = true;
    for (int64_t n; more && (n = ring_receive(b.from_slot, st->in, sizeof st->in, &more)) > 0;) {
      NetHeader h;
      if (static_cast<uint64_t>(n) < sizeof h) continue;
      copy(&h, st->in, sizeof h);
      if (h.length > static_cast<uint64_t>(n) - sizeof h) continue;
      if (per_client) {
        // Into the client's own FWP; its replies come back as records, sent on as they are.
        uint8_t* flow_replies = st->flow;
        copy(flow_replies, st->in, static_cast<size_t>(n));
        const int64_t r = sys(kSysFlowCall, reinterpret_cast<uint64_t>(flow_replies), static_cast<uint64_t>(n), kFlowPageBytes);
        for (int64_t at = 0; r > 0 && at + static_cast<int64_t>(sizeof(NetHeader)) <= r;) {
          NetHeader rh;
          copy(&rh, flow_replies + at, sizeof rh);
          const int64_t size = static_cast<int64_t>(sizeof rh + rh.length);
          if (at + size > r) break;
          sys(kSysRingSend, b.to_slot, reinterpret_cast<uint64_t>(flow_replies + at), static_cast<uint64_t>(size));
          at += size;
        }
        started = rdtsc();
        continue;
      }
      RingSink replies(b.to_slot, h, st->out, started);
      app->handle(edgeos::net::Peer{h.peer_ipv4, h.peer_port}, st->in + sizeof h, h.length, replies);
      started = rdtsc();
    }
    sys(kSysComplete, reinterpret_cast<uint64_t>(&plan));
  }
}

// --- checkpointed templates ------------------------------------------------------------------------

// The state a checkpoint program builds once: in its heap, reached through a pointer in its data,
// so that a copy of the checkpoint finds it initialised.
struct ProbeState {
  uint64_t init_runs;  // how many times initialisation ran in this FWP's history
  uint64_t computed;   // a value computed at initialisation (the sum of the first 100,000 integers)
  uint64_t scratch;    // written and read by probes
};
ProbeState* probe_state = nullptr;  // .data: copied with the checkpoint

void probe_init() {
  probe_state = static_cast<ProbeState*>(heap_alloc(sizeof(ProbeState)));
  if (probe_state == nullptr) return;
  ++probe_state->init_runs;
  uint64_t sum = 0;
  for (uint64_t i = 1; i <= 100'000; ++i) sum += i;
  probe_state->computed = sum;
  probe_state->scratch = sum;
}

// A call into a checkpoint program's FWP (abi::kProbeMagic): op 1 the init count, 2 the computed
// value, 3 scratch := value (and returns it), 4 scratch; ~0 without state (initialisation never
// reached this FWP).
uint64_t probe(uint64_t arg) {
  if (probe_state == nullptr) return ~uint64_t{0};
  const uint64_t op = (arg >> 48) & 0xff, value = arg & 0xffff'ffff'ffffull;
  switch (op) {
    case 1: return probe_state->init_runs;
    case 2: return probe_state->computed;
    case 3: probe_state->scratch = value; return value;
    case 4: return probe_state->scratch;
    default: return ~uint64_t{0};
  }
}

uint64_t call_probe(uint64_t slot, uint64_t op, uint64_t value = 0) {
  return static_cast<uint64_t>(sys(kSysCall, slot, kProbeMagic | (op << 48) | value));
}

// Initialises (once per template: a copy of the checkpoint skips it), checkpoints, then spawns three
// FWPs of its kind and asks each, by synchronous calls that run inside it, what it holds.
[[noreturn]] void checkpoint_program() {
  if (probe_state == nullptr) {
    probe_init();
    const int64_t r = sys(kSysReady);
    Line().text("checkpoint: initialised (").dec(probe_state != nullptr ? probe_state->init_runs : 0)
        .text(" run), ready -> ").dec(static_cast<uint64_t>(r)).print();
  }
  uint64_t slots[3];
  for (uint64_t& slot : slots) {
    int64_t rdx;
    int64_t f;
    asm volatile("syscall" : "=a"(f), "=d"(rdx) : "a"(kSysFwpSpawn), "D"(1) : "rcx", "r11", "memory");
    if (f < 0 || rdx < 0) {
      puts("checkpoint: spawn failed");
      sys(kSysExit);
    }
    slot = static_cast<uint64_t>(rdx);
  }
  Line l;
  l.text("checkpoint: copies init-runs");
  for (uint64_t slot : slots) l.text(" ").dec(call_probe(slot, 1));
  l.text(" computed");
  for (uint64_t slot : slots) l.text(" ").dec(call_probe(slot, 2));
  l.print();
  // Private copies: two write different values at the same heap address; each reads its own back;
  // the third, untouched, still holds the checkpoint's.
  call_probe(slots[0], 3, 111);
  call_probe(slots[1], 3, 222);
  Line().text("checkpoint: private ").dec(call_probe(slots[0], 4)).text(" ").dec(call_probe(slots[1], 4))
      .text(" fresh ").dec(call_probe(slots[2], 4)).text(" own ").dec(probe_state->scratch).print();
  sys(kSysExit);
  for (;;) {
  }
}

// --- the system-call fuzzer ("syscall-fuzz") ------------------------------------------------------
//
// A hostile program in the manner of syzkaller, kept simple: seeded random system calls, every
// number (unknown ones, out of range and "negative" included) with boundary and random arguments,
// pointers into the kernel, into unmapped and read-only user pages, into other threads' stack slots,
// across the end of the user window and across the end of its own mappings, huge lengths, and
// sequences that create and destroy objects (spawns with capabilities, calls into the children
// that make them exit inside the call or issue random system calls of their own, ring sends and
// receives, notifications, heap growth, checkpoints, completions). It never exits itself.
//
// Parameters: the number of calls is its first job's work in ns (the scenario's `cost`), the seed
// is the scenario's seed (rdx at the thread's start, mixed with the thread's index). Call i draws
// its arguments from an RNG seeded by (seed, i) alone, so each call is reproducible from the seed
// and its index; the boot as a whole is deterministic under -icount. The call's index is in r8 while
// the kernel handles it, and the kernel prints it (with the call) if it panics or faults.
//
// It checks what it can see itself: a canary buffer it passes as a pointer argument must not change
// unless the call succeeded and writes through that pointer (a "write landing where it should not"),
// and every result must be >= 0 or a known error (except a call's result, which is the callee's reply).
namespace fuzz {

struct Rng {
  uint64_t s;
  uint64_t next() {  // splitmix64 (Steele, Lea and Flood, "Fast splittable pseudorandom number generators", 2014)
    uint64_t z = (s += 0x9e37'79b9'7f4a'7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11ebull;
    return z ^ (z >> 31);
  }
  uint64_t below(uint64_t n) { return n == 0 ? 0 : next() % n; }
  bool one_in(uint64_t n) { return below(n) == 0; }
};

constexpr uint64_t kNumbers = kSysCount + 1;  // histogram rows: each number, then "any other"
constexpr int kErrors = 9;                    // edgeos::Error's values, 1..9
// Its own buffers: pointers into them lie in the first kAimBytes, so that whatever the kernel
// writes through one (at most a job plan, NetInfo, or a ring slot of 64 bytes) stays inside.
constexpr uint64_t kScratchBytes = 1024;
constexpr uint64_t kCanaryBytes = 1024;
constexpr uint64_t kAimBytes = 256;
constexpr uint64_t kCanaryWord = 0xa5a5'a5a5'a5a5'a5a5ull;

struct Stats {
  uint64_t calls = 0;
  uint64_t by_number[kNumbers][2 + kErrors] = {};  // [ok, errors 1..9, other]
  uint64_t canary_violations = 0, odd_results = 0, spawned = 0, children_exited = 0, nested = 0;
};

// What the fuzzer has learnt from earlier results (only to aim better; the draws never depend on it
// beyond picking from these lists).
struct Known {
  uint64_t child_slots[16];
  uint64_t num_children = 0;
  uint64_t heap_end = kHeapWindow;  // the end of its heap (kSysMemMap's results)
};

// The result of a system call with four arguments and the call's index in r8; rdx comes back too.
inline int64_t sys4(uint64_t n, uint64_t a, uint64_t b, uint64_t c, uint64_t d, uint64_t index, uint64_t* rdx_out) {
  int64_t r;
  register uint64_t r10 asm("r10") = d;
  register uint64_t r8 asm("r8") = index;
  asm volatile("syscall" : "=a"(r), "+d"(c), "+r"(r10), "+r"(r8) : "a"(n), "D"(a), "S"(b) : "rcx", "r11", "r9", "memory");
  *rdx_out = c;
  return r;
}

uint64_t boundary(Rng& r) {
  constexpr uint64_t kValues[] = {0, 1, 2, ~uint64_t{0}, uint64_t{1} << 63, (uint64_t{1} << 63) - 1, 0x7fff'ffff, 0x8000'0000,
                                  0xffff'ffff, 0x1'0000'0000, 4095, 4096, 4097, 15, 16, 17, 255, 256};
  if (r.one_in(4)) return r.next() >> r.below(64);
  return kValues[r.below(sizeof kValues / sizeof kValues[0])];
}

struct Buffers {
  uint64_t* scratch;  // writable, kScratchBytes
  uint64_t* canary;   // writable, kCanaryBytes, must only change through a successful write
  uint64_t thread;    // the running thread: its own stack slots are never aimed at (its state is there)
};

uint64_t pointer(Rng& r, const Buffers& b, const Known& k) {
  const uint64_t scratch = reinterpret_cast<uint64_t>(b.scratch);
  const uint64_t here = reinterpret_cast<uint64_t>(&scratch);
  const uint64_t stack_top = (here + kStackSlot) & ~(kStackSlot - 1);  // this code's stack slot ends there
  switch (r.below(20)) {
    case 0: return 0;
    case 1: return 0x100000 + r.below(0x10000);                       // the kernel image (direct map)
    case 2: return r.next() & 0xffff'ffffull;                          // anywhere in the direct map
    case 3: return 0xffff'8000'0000'0000ull | r.next();               // the upper half
    case 4: return (uint64_t{1} << 47) - r.below(64);                  // the end of the lower half
    case 5: return kUserBase - r.below(64);                            // just below user space
    case 6: return kUserBase + r.below(0x2000);                        // the image's code (read-only)
    case 7: return kUserBase + 0x0800'0000 + r.below(0x1000);          // unmapped user memory
    case 8: return kUserEnd - r.below(256);                            // straddling the end of the user window
    case 9: return kClockPage + r.below(kClockPages * 4096);           // the clock pages (read-only)
    case 10: {  // other threads' stack slots
      uint64_t t = r.below(kClockSlots - 1);
      if (t >= b.thread) ++t;
      return kStackRegion + (t * kDepthSlots + r.below(kDepthSlots) + 1) * kStackSlot - 8 * r.below(64);
    }
    case 11: return k.heap_end - r.below(2 * 4096);                    // the end of its heap, and past it
    case 12: return r.one_in(2) ? kDeviceWindow + r.below(0x1000) : kDmaWindow + r.below(0x1000);
    case 13: return stack_top - 8 + r.below(16);                       // its stack's top word (a return address never used), and past it
    case 14: return reinterpret_cast<uint64_t>(b.canary) + r.below(kAimBytes);
    case 15: return r.next();
    default: return scratch + r.below(kAimBytes);                      // its own writable buffer
  }
}

uint64_t length(Rng& r) {
  switch (r.below(6)) {
    case 0: return r.below(16);
    case 1: return r.below(256);
    case 2: return r.below(5000);
    case 3: return boundary(r);
    default: return 8 * r.below(40);
  }
}

uint64_t slot(Rng& r, const Known& k) {
  switch (r.below(8)) {
    case 0: return boundary(r);
    case 1: return k.num_children > 0 ? k.child_slots[r.below(k.num_children)] : r.below(16);
    case 2: return r.below(64);
    default: return r.below(16);
  }
}

// The argument of a call into another FWP: its fwp_invoke interprets it (work to do, probes,
// recursion, the fuzzer's operations). Never a large amount of work: the fuzzer must keep going.
uint64_t call_arg(Rng& r, uint64_t level) {
  switch (r.below(8)) {
    case 0: return r.below(2000);                                      // work, in ns
    case 1: return ~uint64_t{0};                                       // recursion through capability 0
    case 2: return kProbeMagic | (r.below(8) << 48) | r.below(1000);   // checkpoint probes
    case 3: return level < 2 ? kFuzzMagic | (kFuzzOpNested << 48) | (level + 1) << 40 | (r.next() & 0xff'ffff'ffffull) : 0;
    case 4: return kFuzzMagic | (r.below(256) << 48);                  // unknown operations (never exit: see op 1)
    default: return r.below(64);
  }
}

// How many bytes syscall n, when it succeeds, may write through argument `arg` (0-based).
uint64_t writes_through(uint64_t n, int arg, const uint64_t* a) {
  switch (n) {
    case kSysJob: case kSysComplete: return arg == 0 ? sizeof(JobPlan) : 0;
    case kSysNicInfo: return arg == 0 ? sizeof(NicInfo) : 0;
    case kSysNetInfo: return arg == 0 ? sizeof(NetInfo) : 0;
    case kSysRingReceive: return arg == 1 ? a[2] : 0;
    case kSysNetCollect: return arg == 0 ? a[1] : 0;
    default: return 0;
  }
}

bool in_canary(const Buffers& b, uint64_t p, uint64_t len) {
  const uint64_t c = reinterpret_cast<uint64_t>(b.canary);
  return p < c + kCanaryBytes && p + len > c;  // (wraps only for pointers that cannot succeed)
}

// One random call (index i of the run seeded `seed`); `level` > 0 inside a call into another FWP.
void one_call(uint64_t seed, uint64_t i, uint64_t level, const Buffers& b, Known& k, Stats& st) {
  Rng r{seed ^ (i * 0xd605'bbb5'8c8a'bbc9ull) ^ (level << 56)};
  r.next();
  // The number: mostly a defined one, sometimes anything.
  uint64_t n;
  switch (r.below(16)) {
    case 0: n = boundary(r); break;
    case 1: n = kSysCount + r.below(4); break;
    default: n = r.below(kSysCount); break;
  }
  // It never exits itself, and completes a job or yields only now and then (each waits for the CPU).
  // Valid text is printed: puts only now and then.
  if (n == kSysExit || ((n == kSysComplete || n == kSysYield || n == kSysPuts) && !r.one_in(64))) n = kSysMarker;
  uint64_t a[4] = {boundary(r), boundary(r), boundary(r), boundary(r)};
  switch (n) {
    case kSysJob: case kSysComplete: case kSysNicInfo: case kSysNetInfo: a[0] = pointer(r, b, k); break;
    case kSysCall: a[0] = slot(r, k); a[1] = call_arg(r, level); break;
    case kSysReply: break;  // any value; inside a call it returns to the caller
    case kSysNotify: case kSysWait: a[0] = slot(r, k); break;
    case kSysRingSend: case kSysRingReceive: a[0] = slot(r, k); a[1] = pointer(r, b, k); a[2] = length(r); break;
    case kSysFwpSpawn: a[0] = r.one_in(4) ? boundary(r) : r.below(2); break;
    case kSysMarker: a[0] = r.next(); break;
    case kSysPuts: a[0] = pointer(r, b, k); a[1] = length(r); break;
    case kSysMemMap: a[0] = r.one_in(3) ? boundary(r) : r.one_in(2) ? r.below(kMemMapMaxPages + 2) : r.below(4); break;
    case kSysNetDeliver: case kSysNetCollect: a[0] = pointer(r, b, k); a[1] = length(r); break;
    default: break;
  }
  // A wait blocks on a notification with nothing pending: only slots that cannot be one (the
  // scenarios give the fuzzer none to receive, but a full table could hold one one day).
  for (uint64_t w = 0; w < kCanaryBytes / 8; ++w) b.canary[w] = kCanaryWord;
  uint64_t rdx = 0;
  const int64_t res = sys4(n, a[0], a[1], a[2], a[3], i, &rdx);
  ++st.calls;
  // Results.
  const uint64_t row = n < kSysCount ? n : kSysCount;
  if (res >= 0) {
    ++st.by_number[row][0];
  } else if (res >= -kErrors) {
    ++st.by_number[row][-res];
  } else {
    ++st.by_number[row][1 + kErrors];
    if (n != kSysCall && n != kSysReply) ++st.odd_results;  // a call returns whatever its callee replies
  }
  // What it learnt.
  if (n == kSysFwpSpawn && res >= 0) {
    ++st.spawned;
    if (a[0] == 1 && rdx != ~uint64_t{0} && k.num_children < 16) k.child_slots[k.num_children++] = rdx;
  }
  if (n == kSysMemMap && res >= 0) k.heap_end = static_cast<uint64_t>(res) + a[0] * 4096;
  // The canary: changed only by a successful call that writes through a pointer into it.
  bool changed = false;
  for (uint64_t w = 0; w < kCanaryBytes / 8; ++w) changed = changed || b.canary[w] != kCanaryWord;
  if (changed) {
    bool allowed = false;
    for (int j = 0; j < 4; ++j) {
      const uint64_t bytes = writes_through(n, j, a);
      // A completion writes the next job's plan when the thread runs again (an error then comes back in rax).
      allowed = allowed || ((res >= 0 || n == kSysComplete) && bytes > 0 && in_canary(b, a[j], bytes));
    }
    if (!allowed) {
      ++st.canary_violations;
      Line().text("syscall-fuzz: FINDING: call ").dec(i).text(" (sys ").dec(n).text(") wrote into a buffer it must not").print();
    }
  }
  // Now and then a child exits inside a call into it (its FWP is destroyed while the caller is in it).
  if (k.num_children > 0 && r.one_in(32)) {
    const uint64_t c = r.below(k.num_children);
    if (sys4(kSysCall, k.child_slots[c], kFuzzMagic | (kFuzzOpExit << 48), 0, 0, i, &rdx) != 0) {}
    ++st.children_exited;
    k.child_slots[c] = k.child_slots[--k.num_children];  // its capability is stale from now on
  }
}

}  // namespace fuzz

// Inside a call from the fuzzer (kFuzzOpNested): a few random system calls here, in the callee's
// domain at call depth > 0, then the reply.
[[noreturn]] void fuzz_nested(uint64_t arg, uint64_t thread) {
  uint64_t scratch[fuzz::kScratchBytes / 8];
  uint64_t canary[fuzz::kCanaryBytes / 8];
  const fuzz::Buffers b{scratch, canary, thread};
  fuzz::Known k;
  fuzz::Stats st;
  const uint64_t level = (arg >> 40) & 0xff;
  const uint64_t seed = arg & 0xff'ffff'ffffull;
  for (uint64_t i = 0; i < 8; ++i) fuzz::one_call(seed, i, level, b, k, st);
  sys(kSysReply, st.canary_violations == 0 ? 0 : ~uint64_t{0});
  for (;;) {
  }
}

void fuzz_report(const fuzz::Stats& st, uint64_t seed, uint64_t thread, bool final) {
  static const char* const kNames[fuzz::kNumbers] = {"job", "complete", "call", "reply", "notify", "wait", "ring-send",
                                                     "ring-receive", "yield", "exit", "spawn", "marker", "puts",
                                                     "nic-info", "mem-map", "net-info", "ready", "net-drop",
                                                     "net-deliver", "net-flush", "net-collect", "mem-left", "flow-call", "other"};
  static_assert(fuzz::kNumbers == 24, "a name for every system call");
  uint64_t ok = 0, errors = 0;
  for (const auto& row : st.by_number) {
    ok += row[0];
    for (int e = 1; e <= fuzz::kErrors + 1; ++e) errors += row[e];
  }
  Line().text("syscall-fuzz: ").text(final ? "done: " : "progress: ").dec(st.calls).text(" calls (seed ").dec(seed)
      .text(", thread ").dec(thread).text("): ok ").dec(ok).text(", errors ").dec(errors).text(", spawned ").dec(st.spawned)
      .text(", children exited ").dec(st.children_exited).print();
  if (!final) return;
  // Totals by number and by result: "ok" and each error (edgeos::Error's values, negated; "?" for
  // other values, which only a call's reply may have).
  for (uint64_t n = 0; n < fuzz::kNumbers; ++n) {
    const uint64_t* row = st.by_number[n];
    uint64_t total = 0;
    for (int e = 0; e <= fuzz::kErrors + 1; ++e) total += row[e];
    if (total == 0) continue;
    Line l;
    l.text("syscall-fuzz: sys ").text(kNames[n]).text(" ").dec(total).text(": ok ").dec(row[0]);
    for (int e = 1; e <= fuzz::kErrors; ++e) {
      if (row[e] != 0) l.text(", -").dec(static_cast<uint64_t>(e)).text(" ").dec(row[e]);
    }
    if (row[fuzz::kErrors + 1] != 0) l.text(", ? ").dec(row[fuzz::kErrors + 1]);
    l.print();
  }
  Line().text("syscall-fuzz: findings: canary ").dec(st.canary_violations).text(", odd results ").dec(st.odd_results).print();
}

[[noreturn]] void syscall_fuzz(uint64_t thread, uint64_t scenario_seed) {
  JobPlan plan;
  sys(kSysJob, reinterpret_cast<uint64_t>(&plan));
  const uint64_t calls = plan.work[0];
  const uint64_t seed = scenario_seed ^ (thread * 0x9e37'79b9'7f4a'7c15ull);
  Line().text("syscall-fuzz: seed ").dec(seed).text(" (scenario seed ").dec(scenario_seed).text(", thread ").dec(thread)
      .text("), ").dec(calls).text(" calls").print();
  // Its state and buffers in heap pages of their own (not in .bss, which every FWP of the image
  // copies, nor on the stack, which its own calls may write): the state in the first page, which no
  // pointer it passes reaches (those into the heap lie within two pages of its end).
  struct State {
    fuzz::Known known;
    fuzz::Stats stats;
  };
  static_assert(sizeof(State) <= 4096);
  const int64_t heap = sys(kSysMemMap, 3);
  if (heap < 0) {
    puts("syscall-fuzz: no heap");
    for (;;) sys(kSysComplete, reinterpret_cast<uint64_t>(&plan));
  }
  State& st = *new (reinterpret_cast<void*>(heap)) State();
  fuzz::Known& known = st.known;
  fuzz::Stats& stats = st.stats;
  known.heap_end = static_cast<uint64_t>(heap) + 3 * 4096;
  const fuzz::Buffers b{reinterpret_cast<uint64_t*>(heap + 4096), reinterpret_cast<uint64_t*>(heap + 2 * 4096), thread};
  const uint64_t every = calls >= 100'000 ? 20'000 : calls >= 10'000 ? 2'000 : 500;
  for (uint64_t i = 0; i < calls; ++i) {
    fuzz::one_call(seed, i, 0, b, known, stats);
    if ((i + 1) % every == 0 && i + 1 < calls) fuzz_report(stats, seed, thread, false);
  }
  fuzz_report(stats, seed, thread, true);
  // Done: empty jobs from now on (never an exit: the run goes on as scheduled).
  for (;;) sys(kSysComplete, reinterpret_cast<uint64_t>(&plan));
}

}  // namespace

extern "C" {

// `seed`: the scenario's seed (the kernel passes it in rdx; only the system-call fuzzer uses it).
[[noreturn]] void fwp_start(uint64_t program, uint64_t thread, uint64_t seed) {
  if (program == kProgramTask) task(thread);
  if (program == kHostileSyscallFuzz) syscall_fuzz(thread, seed);
  if (program >= kBenchYield && program <= kBenchSpawn) bench(program);
  if (program == kProgramNicDriver) nic_driver();
  if (program == kProgramUdpEcho || program == kProgramCoap || program == kProgramMemcached) net_tenant(program);
  if (program == kProgramCheckpoint) checkpoint_program();
  if (program >= kHostileFirst && program <= kHostileLast) hostile(program);
  // A server (or an unknown program): nothing of its own to do.
  sys(kSysExit);
  for (;;) {
  }
}

// A call into this FWP: `arg` is the work to do here, on the calling thread's clock (the hostile
// call-depth program passes ~0: call itself again; the system-call fuzzer, kFuzzMagic operations).
[[noreturn]] void fwp_invoke(uint64_t arg, uint64_t thread) {
  if (arg != ~uint64_t{0} && (arg & (0xffull << 56)) == kFlowMagic) flow_serve(arg & 0xffff);
  if (arg != ~uint64_t{0} && (arg & (0xffull << 56)) == kProbeMagic) sys(kSysReply, probe(arg));
  if (arg != ~uint64_t{0} && (arg & (0xffull << 56)) == kTouchMagic) {
    uint64_t sum = 0;
    for (uint64_t p = 0; p < (arg & 0xffff); ++p) sum += *reinterpret_cast<volatile uint64_t*>(kHeapWindow + p * 4096);
    sys(kSysReply, sum);
  }
  if (arg != ~uint64_t{0} && (arg & (0xffull << 56)) == kFuzzMagic) {
    const uint64_t op = (arg >> 48) & 0xff;
    if (op == kFuzzOpExit) sys(kSysExit);  // this FWP ends inside the call: the caller gets an error
    if (op == kFuzzOpNested) fuzz_nested(arg, thread);
    if (op == kFuzzOpComplete) {
      // Completes the caller's job from in here, the next plan to go into a page of this FWP's heap.
      JobPlan* plan = static_cast<JobPlan*>(heap_alloc(sizeof(JobPlan)));
      if (plan != nullptr) sys(kSysComplete, reinterpret_cast<uint64_t>(plan));
    }
    sys(kSysReply, 0);
  }
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
