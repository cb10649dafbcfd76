// PcPlatform: the core's Platform contract on a PC (core/include/edgeos/core/platform.hpp).
//
//   now          the TSC, calibrated to nanoseconds at boot
//   arm_timer    the local APIC one-shot (or TSC-deadline) timer, capped at the run's end
//   switch_to    records the thread the CPU runs next; the switch itself (address space and
//                registers) happens when the kernel returns to user mode
//   trace        binary records into a buffer, written to QEMU's debugcon at the end
//   fwp_*        address spaces from the program image: shared code, copied data
#pragma once

#include "edgeos/core/kernel.hpp"

namespace edgeos::kernel {

class PcPlatform {
 public:
  Instant now() const;
  void arm_timer(CpuId cpu, Instant when);
  void switch_to(CpuId cpu, Thread* thread);
  void charge_overhead(CpuId, Overhead) {}
  void trace(const TraceRecord& r);
  Status fwp_instantiate(Fwp& fwp, const FwpTemplate& tmpl);
  Status fwp_reset(Fwp& fwp, const FwpTemplate& tmpl);
  void fwp_release(Fwp& fwp);
};

static_assert(Platform<PcPlatform>);

using PcKernel = Kernel<PcPlatform>;

}  // namespace edgeos::kernel
