// Time on the PC: the TSC as the clock (calibrated against the 8254 PIT), the local APIC timer
// for one-shot interrupts (TSC-deadline mode where the CPU has it, else one-shot counting, also
// calibrated against the PIT). The legacy 8259 PICs are masked.
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/time.hpp"

namespace edgeos::pc {

struct TimerInfo {
  uint64_t tsc_hz = 0;
  uint64_t lapic_hz = 0;  // one-shot counting at divide-by-1; 0 in TSC-deadline mode
  bool tsc_deadline = false;
};

// Calibrates and starts the clock at 0; masks the PICs; enables the local APIC with the given
// timer and spurious vectors.
TimerInfo timer_init(uint8_t timer_vector, uint8_t spurious_vector, bool use_tsc_deadline);
// The same local APIC and timer set-up on another CPU, with the boot CPU's calibration (the
// local APIC timers and TSCs of one machine run at one rate).
void timer_init_ap(uint8_t timer_vector, uint8_t spurious_vector);

// Nanoseconds since timer_init, or since the last clock_restart.
Instant clock_now();
// Makes now time zero (the start of a run, after set-up).
void clock_restart();
// The CPU's timestamp counter reading at `t` (for TSC-deadline arming and measurements).
uint64_t tsc_at(Instant t);
// TSC ticks to ns: ns = ticks * tsc_ns_mult() >> 32.
uint64_t tsc_ns_mult();

// Arms the one-shot timer for `when` (Instant::never(): disarm). A deadline in the past fires at
// once; one beyond the counter's reach fires early (the kernel re-arms).
void timer_arm(Instant when);
// Signals end of interrupt to the local APIC.
void lapic_eoi();

// This CPU's local APIC ID.
uint32_t lapic_id();
// Inter-processor interrupts (Intel SDM vol. 3A, 10.6): a fixed interrupt with `vector`, and the
// INIT and start-up (SIPI, the real-mode code at page `page`) of the MP start-up protocol (8.4.4).
// Each waits until the local APIC has sent it.
void send_ipi(uint32_t apic_id, uint8_t vector);
void send_init(uint32_t apic_id);
void send_startup(uint32_t apic_id, uint8_t page);
// Waits `ns` of TSC time (after timer_init).
void delay(Duration d);

}  // namespace edgeos::pc
