// The CPUs of the machine, from ACPI's MADT (ACPI 6.4, 5.2.12): each processor's local APIC ID.
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos::pc {

struct CpuList {
  static constexpr uint32_t kMax = 64;
  uint32_t apic_ids[kMax];
  uint32_t count = 0;
};

// The enabled processors the MADT lists (local APIC and local x2APIC entries), in its order.
// `rsdp` is the root pointer the loader passed (0: search the BIOS areas for it, as the ACPI
// specification says, 5.2.5.1). False if no valid RSDP, RSDT/XSDT or MADT is found.
bool find_cpus(uint64_t rsdp, CpuList* out);

// PCI Express's enhanced configuration access (ECAM), from ACPI's MCFG: the configuration space of
// buses first..last of segment 0 mapped at `base`, 1 MiB per bus.
struct EcamRegion {
  uint64_t base = 0;
  uint8_t first_bus = 0, last_bus = 0;
};
// The first usable MCFG entry (segment 0, below 4 GiB, where the kernel's direct map reaches).
bool find_ecam(uint64_t rsdp, EcamRegion* out);

}  // namespace edgeos::pc
