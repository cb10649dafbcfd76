// PCI devices of a PC, found through configuration mechanism #1 (I/O ports 0xCF8/0xCFC; PCI
// Local Bus Specification 3.0, 3.2.2.3.2): their IDs, class, BARs with their sizes, and the
// capabilities a driver needs (virtio 1.0's vendor-specific structures, 4.1.4).
//
// The kernel only finds and describes devices; drivers run in a driver FWP, which the kernel
// grants a device's BAR pages and a DMA region by capability (kernel_backend/README.md,
// "Networking").
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos::pc {

struct PciBar {
  uint64_t base = 0;  // physical (memory) or port (I/O) address; 0 when absent
  uint64_t size = 0;
  bool io = false;
  bool prefetchable = false;
  bool is64 = false;  // takes this BAR and the next
};

// A virtio 1.0 PCI capability (virtio 1.0, 4.1.4: struct virtio_pci_cap): where one of the
// device's configuration structures lies.
struct VirtioCap {
  uint8_t cfg_type = 0;  // 1 common, 2 notify, 3 ISR, 4 device-specific, 5 PCI config access
  uint8_t bar = 0;
  uint32_t offset = 0;
  uint32_t length = 0;
  uint32_t notify_off_multiplier = 0;  // cfg_type 2 only
};

struct PciDevice {
  uint8_t bus = 0, device = 0, function = 0;
  uint16_t vendor = 0, device_id = 0;
  uint8_t class_code = 0, subclass = 0, prog_if = 0, revision = 0;
  uint8_t header_type = 0;  // 0 endpoint, 1 PCI-to-PCI bridge
  PciBar bars[6];
  static constexpr int kMaxVirtioCaps = 8;
  VirtioCap virtio[kMaxVirtioCaps];
  int num_virtio = 0;
  bool has_msix = false;
};

struct PciBus {
  static constexpr int kMaxDevices = 64;
  PciDevice devices[kMaxDevices];
  int count = 0;
  bool truncated = false;  // more than kMaxDevices functions were found
};

// Scans every bus, device and function (0..255, 0..31, 0..7; functions 1..7 only of multi-
// function devices), sizing each BAR (write all ones, read back, restore; decoding is turned off
// meanwhile, as the specification advises, 6.2.5.1) and walking the capability list.
void pci_scan(PciBus* out);

// Turns on memory and I/O decoding and bus mastering (the device may then DMA).
void pci_enable(const PciDevice& d);

// Configuration space through ECAM from now on (PCI Express Base Specification, 7.2.2: base +
// bus << 20 | device << 15 | function << 12 | offset) for buses first..last, where ACPI's MCFG
// describes it; through configuration mechanism #1 otherwise, and for other buses.
void pci_use_ecam(uint64_t base, uint8_t first_bus, uint8_t last_bus);
bool pci_ecam_in_use();

// Raw configuration-space access (offset 4-byte aligned, < 256).
uint32_t pci_read32(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset);
void pci_write32(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset, uint32_t value);

// A short name for the devices edgeos drives, or nullptr: "virtio-net" (1af4:1041, or the
// transitional 1af4:1000), "e1000" (8086:100e, the 82540EM).
const char* pci_driver_name(const PciDevice& d);

}  // namespace edgeos::pc
