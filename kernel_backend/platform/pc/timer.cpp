#include "timer.hpp"

#include "../../arch/x86_64/cpu.hpp"

namespace edgeos::pc {

namespace {

constexpr uint64_t kPitHz = 1'193'182;
constexpr uint32_t kLapicId = 0x20, kLapicEoi = 0xb0, kLapicSvr = 0xf0, kLapicIcrLow = 0x300, kLapicIcrHigh = 0x310,
                   kLapicLvtTimer = 0x320, kLapicInitial = 0x380, kLapicCurrent = 0x390, kLapicDivide = 0x3e0;

uint64_t lapic_base = 0;
uint64_t tsc_zero = 0;
uint64_t ns_mult = 0;   // ns = ticks * ns_mult >> 32
uint64_t tsc_mult = 0;  // ticks = ns * tsc_mult >> 32
uint64_t lapic_mult = 0;
bool deadline_mode = false;

volatile uint32_t& lapic(uint32_t reg) { return *reinterpret_cast<volatile uint32_t*>(lapic_base + reg); }

// Waits `count` PIT ticks on channel 2 (gate through port 0x61, mode 0) and returns the TSC ticks
// and local APIC timer ticks that passed meanwhile.
void pit_wait(uint16_t count, uint64_t* tsc_ticks, uint32_t* lapic_ticks) {
  x86::outb(0x61, static_cast<uint8_t>((x86::inb(0x61) & ~0x02) | 0x01));  // gate on, speaker off
  x86::outb(0x43, 0xb0);                                                    // channel 2, lo/hi, mode 0
  x86::outb(0x42, static_cast<uint8_t>(count));
  x86::outb(0x42, static_cast<uint8_t>(count >> 8));
  // Restart the count: toggle the gate.
  const uint8_t v = x86::inb(0x61);
  x86::outb(0x61, static_cast<uint8_t>(v & ~0x01));
  x86::outb(0x61, static_cast<uint8_t>(v | 0x01));
  if (lapic_ticks != nullptr) lapic(kLapicInitial) = 0xffff'ffff;
  const uint64_t t0 = x86::rdtsc();
  // A short delay between polls: port reads (and `pause`) are costly under emulation, and 25
  // loop iterations (a few nanoseconds on hardware) keep the count's resolution.
  while ((x86::inb(0x61) & 0x20) == 0) {
    uint64_t n = 25;
    asm volatile("1: dec %0; jnz 1b" : "+r"(n) : : "cc");
  }
  const uint64_t t1 = x86::rdtsc();
  if (lapic_ticks != nullptr) {
    *lapic_ticks = 0xffff'ffff - lapic(kLapicCurrent);
    lapic(kLapicInitial) = 0;
  }
  *tsc_ticks = t1 - t0;
}

uint64_t mul_shift(uint64_t a, uint64_t b) { return static_cast<uint64_t>((static_cast<uint128_t>(a) * b) >> 32); }

}  // namespace

TimerInfo timer_init(uint8_t timer_vector, uint8_t spurious_vector, bool use_tsc_deadline) {
  // The 8259s: remap away from the exception vectors (0x20-0x2f), then mask every line.
  x86::outb(0x20, 0x11);
  x86::outb(0xa0, 0x11);
  x86::outb(0x21, 0x20);
  x86::outb(0xa1, 0x28);
  x86::outb(0x21, 0x04);
  x86::outb(0xa1, 0x02);
  x86::outb(0x21, 0x01);
  x86::outb(0xa1, 0x01);
  x86::outb(0x21, 0xff);
  x86::outb(0xa1, 0xff);

  lapic_base = x86::rdmsr(x86::kMsrApicBase) & 0xffff'f000;
  x86::wrmsr(x86::kMsrApicBase, x86::rdmsr(x86::kMsrApicBase) | (1u << 11));  // global enable
  lapic(kLapicSvr) = 0x100u | spurious_vector;
  lapic(kLapicDivide) = 0xb;  // divide by 1
  lapic(kLapicLvtTimer) = timer_vector | (1u << 16);  // masked while calibrating

  // 10 ms of PIT time (11932 ticks): the count is exact to one tick (0.01 %), and polling the
  // PIT is slow under QEMU's -icount (every port read ends a translation block).
  constexpr uint16_t kCount = 11'932;
  uint64_t tsc_ticks = 0;
  uint32_t lapic_ticks = 0;
  pit_wait(kCount, &tsc_ticks, &lapic_ticks);
  TimerInfo info;
  info.tsc_hz = tsc_ticks * kPitHz / kCount;
  ns_mult = (uint64_t{1'000'000'000} << 32) / info.tsc_hz;
  tsc_mult = (info.tsc_hz << 32) / 1'000'000'000;
  deadline_mode = use_tsc_deadline;
  info.tsc_deadline = use_tsc_deadline;
  if (!deadline_mode) {
    info.lapic_hz = uint64_t{lapic_ticks} * kPitHz / kCount;
    lapic_mult = (info.lapic_hz << 32) / 1'000'000'000;
    lapic(kLapicLvtTimer) = timer_vector;  // one-shot
  } else {
    lapic(kLapicLvtTimer) = timer_vector | (2u << 17);  // TSC-deadline
  }
  tsc_zero = x86::rdtsc();
  return info;
}

void timer_init_ap(uint8_t timer_vector, uint8_t spurious_vector) {
  x86::wrmsr(x86::kMsrApicBase, x86::rdmsr(x86::kMsrApicBase) | (1u << 11));
  lapic(kLapicSvr) = 0x100u | spurious_vector;
  lapic(kLapicDivide) = 0xb;
  lapic(kLapicLvtTimer) = deadline_mode ? timer_vector | (2u << 17) : timer_vector;
}

void clock_restart() { tsc_zero = x86::rdtsc(); }

Instant clock_now() { return Instant::from_ns(static_cast<int64_t>(mul_shift(x86::rdtsc() - tsc_zero, ns_mult))); }

uint64_t tsc_ns_mult() { return ns_mult; }

uint64_t tsc_at(Instant t) { return tsc_zero + mul_shift(static_cast<uint64_t>(t.ns()), tsc_mult); }

void timer_arm(Instant when) {
  if (deadline_mode) {
    x86::wrmsr(x86::kMsrTscDeadline, when.is_never() ? 0 : tsc_at(when) + 1);
    return;
  }
  if (when.is_never()) {
    lapic(kLapicInitial) = 0;
    return;
  }
  const int64_t delta = (when - clock_now()).ns();
  uint64_t ticks = delta <= 0 ? 1 : mul_shift(static_cast<uint64_t>(delta), lapic_mult) + 1;
  if (ticks > 0xffff'ffff) ticks = 0xffff'ffff;
  lapic(kLapicInitial) = static_cast<uint32_t>(ticks);
}

void lapic_eoi() { lapic(kLapicEoi) = 0; }

uint32_t lapic_id() { return lapic(kLapicId) >> 24; }

namespace {
void send(uint32_t apic_id, uint32_t command) {
  lapic(kLapicIcrHigh) = apic_id << 24;
  lapic(kLapicIcrLow) = command;  // writing the low half sends it
  while ((lapic(kLapicIcrLow) & (1u << 12)) != 0) x86::pause();  // delivery status: pending
}
}  // namespace

void send_ipi(uint32_t apic_id, uint8_t vector) { send(apic_id, 0x4000u | vector); }  // fixed, assert
void send_init(uint32_t apic_id) { send(apic_id, 0x4500u); }                            // INIT, assert
void send_startup(uint32_t apic_id, uint8_t page) { send(apic_id, 0x4600u | page); }    // start-up

void delay(Duration d) {
  const uint64_t t0 = x86::rdtsc();
  const uint64_t ticks = mul_shift(static_cast<uint64_t>(d.ns()), tsc_mult);
  while (x86::rdtsc() - t0 < ticks) x86::pause();
}

}  // namespace edgeos::pc
