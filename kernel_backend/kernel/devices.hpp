// The machine's devices as the kernel sees them: PCI enumerated at boot, and the NIC granted to
// one driver FWP (fwp/abi.hpp, NicInfo: EdgeOS's kernel bypass). The kernel never drives the
// device itself; it maps the device's registers and a DMA region into the driver FWP and stops
// the device's DMA when that FWP ends.
#pragma once

#include "../arch/x86_64/paging.hpp"
#include "../fwp/abi.hpp"

namespace edgeos::kernel {

// Enumerates PCI and lists what it found on the console (one line per function, BAR and virtio
// structure).
// `rsdp`: ACPI's root pointer from the loader (0: searched for), for MCFG's ECAM window.
void devices_init(uint64_t rsdp);

// Grants the NIC (the first PCI function edgeos has a driver for) to FWP `fwp` (slot index) with
// address space `as`: maps its memory BARs uncached and the DMA region, and turns on its bus
// mastering. False, with a console line, if there is no NIC, it is granted already, a BAR is too
// large for its window, or memory runs out.
bool grant_nic(uint32_t fwp, x86::AddressSpace& as);

// Whether `fwp` (slot index) holds the NIC.
bool holds_nic(uint32_t fwp);

// The driver's view of the NIC (abi::kSysNicInfo), into kernel memory.
void nic_info(abi::NicInfo* out);

// FWP `fwp` ends or is recycled: if it held the NIC, the device's bus mastering is turned off
// (no DMA into memory that is no longer the driver's) and the grant is withdrawn. The caller
// unmaps or destroys the address space.
void release_nic(uint32_t fwp, x86::AddressSpace& as);

}  // namespace edgeos::kernel
