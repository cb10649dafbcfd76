#include "devices.hpp"

#include "../platform/pc/acpi.hpp"
#include "../platform/pc/pci.hpp"
#include "console.hpp"

extern "C" void* memset(void*, int, edgeos::size_t);

namespace edgeos::kernel {

namespace {

pc::PciBus pci;
const pc::PciDevice* nic = nullptr;  // the first function edgeos drives, or none
constexpr uint32_t kNobody = ~uint32_t{0};
uint32_t nic_holder = kNobody;
uint64_t dma_frames[abi::kDmaPages] = {};  // allocated once, at the first grant; never freed

void print_pci() {
  for (int i = 0; i < pci.count; ++i) {
    const pc::PciDevice& d = pci.devices[i];
    const char* driver = pc::pci_driver_name(d);
    kprintf("pci: %02x:%02x.%x %04x:%04x class %02x.%02x.%02x%s%s\n", d.bus, d.device, d.function, d.vendor, d.device_id,
            d.class_code, d.subclass, d.prog_if, driver != nullptr ? " driver " : "", driver != nullptr ? driver : "");
    for (int b = 0; b < 6; ++b) {
      const pc::PciBar& bar = d.bars[b];
      if (bar.size == 0) continue;
      kprintf("pci:   bar%d %s 0x%lx size 0x%lx%s%s\n", b, bar.io ? "io" : "mem", bar.base, bar.size,
              bar.is64 ? " 64-bit" : "", bar.prefetchable ? " prefetchable" : "");
    }
    for (int c = 0; c < d.num_virtio; ++c) {
      const pc::VirtioCap& v = d.virtio[c];
      kprintf("pci:   virtio cfg %u bar%u offset 0x%x length 0x%x\n", v.cfg_type, v.bar, v.offset, v.length);
    }
  }
  if (pci.truncated) kprintf("pci: more than %d functions; the rest are not listed\n", pc::PciBus::kMaxDevices);
}

bool fail(const char* why) {
  kprintf("nic: not granted: %s\n", why);
  return false;
}

}  // namespace

void devices_init(uint64_t rsdp) {
  pc::EcamRegion ecam;
  if (pc::find_ecam(rsdp, &ecam)) {
    pc::pci_use_ecam(ecam.base, ecam.first_bus, ecam.last_bus);
    kprintf("pci: configuration space by ECAM at 0x%lx (buses %u-%u, ACPI MCFG)\n", ecam.base, ecam.first_bus,
            ecam.last_bus);
  } else {
    kprintf("pci: configuration space by ports 0xcf8/0xcfc (no usable ACPI MCFG)\n");
  }
  pc::pci_scan(&pci);
  print_pci();
  for (int i = 0; i < pci.count && nic == nullptr; ++i) {
    if (pc::pci_driver_name(pci.devices[i]) != nullptr) nic = &pci.devices[i];
  }
}

bool grant_nic(uint32_t fwp, x86::AddressSpace& as) {
  if (nic == nullptr) return fail("the machine has no NIC edgeos drives (edgeos boot --nic virtio|e1000)");
  if (nic_holder != kNobody) return fail("another FWP holds it");
  for (int b = 0; b < 6; ++b) {
    const pc::PciBar& bar = nic->bars[b];
    if (bar.io || bar.size == 0) continue;
    if (bar.size > abi::kDeviceBarSlot || bar.base % x86::kPageSize != 0) return fail("a BAR does not fit its window");
  }
  if (dma_frames[0] == 0) {
    for (uint32_t i = 0; i < abi::kDmaPages; ++i) {
      dma_frames[i] = x86::frames().alloc();
      if (dma_frames[i] == 0) return fail("no memory for the DMA region");
    }
  }
  for (int b = 0; b < 6; ++b) {
    const pc::PciBar& bar = nic->bars[b];
    if (bar.io || bar.size == 0) continue;
    const uint64_t va = abi::kDeviceWindow + static_cast<uint64_t>(b) * abi::kDeviceBarSlot;
    for (uint64_t off = 0; off < bar.size; off += x86::kPageSize) {
      const Status s = x86::map_page(as, va + off, bar.base + off,
                                     x86::kPteWrite | x86::kPteNoExecute | x86::kPteCacheDisable | x86::kPteWriteThrough);
      if (!s) return fail("out of page tables");
    }
  }
  for (uint32_t i = 0; i < abi::kDmaPages; ++i) {
    // Not kPteOwned: the frames outlive the FWP (the device may still hold their addresses).
    const Status s = x86::map_page(as, abi::kDmaWindow + uint64_t{i} * x86::kPageSize, dma_frames[i],
                                   x86::kPteWrite | x86::kPteNoExecute);
    if (!s) return fail("out of page tables");
  }
  pc::pci_enable(*nic);
  nic_holder = fwp;
  kprintf("nic: %s %02x:%02x.%x granted to FWP %u\n", pc::pci_driver_name(*nic), nic->bus, nic->device, nic->function,
          fwp);
  return true;
}

bool holds_nic(uint32_t fwp) { return nic_holder != kNobody && nic_holder == fwp; }

void nic_info(abi::NicInfo* out) {
  memset(out, 0, sizeof *out);
  if (nic == nullptr) return;
  out->model = nic->vendor == 0x1af4 ? abi::kNicVirtio : abi::kNicE1000;
  for (int b = 0; b < 6; ++b) {
    const pc::PciBar& bar = nic->bars[b];
    if (bar.io || bar.size == 0) continue;
    out->bar_va[b] = abi::kDeviceWindow + static_cast<uint64_t>(b) * abi::kDeviceBarSlot;
    out->bar_size[b] = bar.size;
  }
  for (int c = 0; c < nic->num_virtio && c < 8; ++c) {
    const pc::VirtioCap& v = nic->virtio[c];
    out->virtio[c] = abi::NicVirtioCap{v.cfg_type, v.bar, v.offset, v.length, v.notify_off_multiplier};
    out->num_virtio = static_cast<uint32_t>(c + 1);
  }
  out->dma_va = abi::kDmaWindow;
  for (uint32_t i = 0; i < abi::kDmaPages; ++i) out->dma_pa[i] = dma_frames[i];
}

void release_nic(uint32_t fwp, x86::AddressSpace& as) {
  if (!holds_nic(fwp)) return;
  // Bus mastering off: the device stops reading and writing memory (PCI 3.0, 6.2.2).
  const uint32_t command = pc::pci_read32(nic->bus, nic->device, nic->function, 0x04);
  pc::pci_write32(nic->bus, nic->device, nic->function, 0x04, command & 0xffff & ~uint32_t{1u << 2});
  x86::unmap_range(as, abi::kDeviceWindow, 6 * abi::kDeviceBarSlot);
  x86::unmap_range(as, abi::kDmaWindow, uint64_t{abi::kDmaPages} * x86::kPageSize);
  nic_holder = kNobody;
  kprintf("nic: released by FWP %u (bus mastering off)\n", fwp);
}

}  // namespace edgeos::kernel
