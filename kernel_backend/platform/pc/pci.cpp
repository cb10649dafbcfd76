#include "pci.hpp"

#include "../../arch/x86_64/cpu.hpp"

namespace edgeos::pc {

namespace {

constexpr uint16_t kConfigAddress = 0xcf8;
constexpr uint16_t kConfigData = 0xcfc;

// Configuration-space registers (PCI 3.0, 6.1).
constexpr uint8_t kIdOffset = 0x00;
constexpr uint8_t kCommandOffset = 0x04;  // command (low 16 bits), status (high 16 bits)
constexpr uint8_t kClassOffset = 0x08;
constexpr uint8_t kHeaderOffset = 0x0c;  // header type in bits 16-23
constexpr uint8_t kBar0Offset = 0x10;
constexpr uint8_t kCapPointerOffset = 0x34;
constexpr uint32_t kStatusCapList = 1u << 20;  // the status register's "capabilities list" bit
constexpr uint16_t kCommandIo = 1u << 0, kCommandMemory = 1u << 1, kCommandBusMaster = 1u << 2;
constexpr uint8_t kCapVendor = 0x09, kCapMsix = 0x11;

uint64_t ecam_base = 0;
uint8_t ecam_first = 0, ecam_last = 0;

// The configuration register's address in the ECAM window (identity-mapped), or 0.
volatile uint32_t* ecam(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset) {
  if (ecam_base == 0 || bus < ecam_first || bus > ecam_last) return nullptr;
  const uint64_t a = ecam_base + (uint64_t{static_cast<uint8_t>(bus - ecam_first)} << 20) + (uint64_t{device & 31u} << 15) +
                     (uint64_t{function & 7u} << 12) + (offset & 0xfcu);
  return reinterpret_cast<volatile uint32_t*>(a);
}

uint32_t address(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset) {
  return (1u << 31) | (uint32_t{bus} << 16) | (uint32_t{device & 31u} << 11) | (uint32_t{function & 7u} << 8) |
         (offset & 0xfcu);
}

uint8_t read8(uint8_t b, uint8_t d, uint8_t f, uint8_t off) {
  return static_cast<uint8_t>(pci_read32(b, d, f, off & 0xfc) >> (8 * (off & 3)));
}

void size_bars(PciDevice& dev) {
  const uint8_t b = dev.bus, d = dev.device, f = dev.function;
  // Bridges have two BARs, endpoints six.
  const int count = dev.header_type == 0 ? 6 : (dev.header_type == 1 ? 2 : 0);
  const uint32_t command = pci_read32(b, d, f, kCommandOffset);
  // Only the command half is written: the status half's error bits are cleared by writing ones.
  pci_write32(b, d, f, kCommandOffset, command & 0xffff & ~uint32_t{kCommandIo | kCommandMemory});
  for (int i = 0; i < count; ++i) {
    const uint8_t off = static_cast<uint8_t>(kBar0Offset + 4 * i);
    const uint32_t original = pci_read32(b, d, f, off);
    pci_write32(b, d, f, off, 0xffff'ffff);
    const uint32_t mask = pci_read32(b, d, f, off);
    pci_write32(b, d, f, off, original);
    PciBar& bar = dev.bars[i];
    if ((original & 1) != 0) {  // I/O space: bits 2-31 (upper 16 bits may read back as zero)
      const uint32_t m = mask & ~3u;
      if (m == 0) continue;
      bar.io = true;
      bar.base = original & ~3u;
      bar.size = (~(m | 0xffff'0000u) + 1) & 0xffff;
      continue;
    }
    uint64_t m = mask & ~0xfu;
    uint64_t base = original & ~0xfu;
    const bool is64 = ((original >> 1) & 3) == 2;
    if (is64 && i + 1 < count) {
      const uint8_t hi = static_cast<uint8_t>(off + 4);
      const uint32_t original_hi = pci_read32(b, d, f, hi);
      pci_write32(b, d, f, hi, 0xffff'ffff);
      const uint32_t mask_hi = pci_read32(b, d, f, hi);
      pci_write32(b, d, f, hi, original_hi);
      m |= uint64_t{mask_hi} << 32;
      base |= uint64_t{original_hi} << 32;
    } else {
      m |= 0xffff'ffff'0000'0000ull;  // a 32-bit BAR: the high bits are not decoded
    }
    if ((m & ~uint64_t{0xf}) == 0 || m == 0xffff'ffff'0000'0000ull) continue;  // not implemented
    bar.base = base;
    bar.size = ~m + 1;
    bar.is64 = is64;
    bar.prefetchable = (original & 8) != 0;
    if (is64) ++i;  // the next register is this BAR's upper half
  }
  pci_write32(b, d, f, kCommandOffset, command & 0xffff);
}

void walk_capabilities(PciDevice& dev) {
  const uint8_t b = dev.bus, d = dev.device, f = dev.function;
  if ((pci_read32(b, d, f, kCommandOffset) & kStatusCapList) == 0) return;
  uint8_t at = read8(b, d, f, kCapPointerOffset) & 0xfc;
  // At most 48 capabilities fit in the 192 bytes after the header: a loop in a broken list ends.
  for (int guard = 0; at >= 0x40 && guard < 48; ++guard) {
    const uint8_t id = read8(b, d, f, at);
    const uint8_t next = read8(b, d, f, static_cast<uint8_t>(at + 1)) & 0xfc;
    if (id == kCapMsix) dev.has_msix = true;
    if (id == kCapVendor && dev.vendor == 0x1af4 && dev.num_virtio < PciDevice::kMaxVirtioCaps && at <= 0xf0) {
      // struct virtio_pci_cap: cap_vndr, cap_next, cap_len, cfg_type, bar, padding[3], offset, length.
      VirtioCap& c = dev.virtio[dev.num_virtio++];
      c.cfg_type = read8(b, d, f, static_cast<uint8_t>(at + 3));
      c.bar = read8(b, d, f, static_cast<uint8_t>(at + 4));
      c.offset = pci_read32(b, d, f, static_cast<uint8_t>(at + 8));
      c.length = pci_read32(b, d, f, static_cast<uint8_t>(at + 12));
      if (c.cfg_type == 2 && at <= 0xec) c.notify_off_multiplier = pci_read32(b, d, f, static_cast<uint8_t>(at + 16));
    }
    at = next;
  }
}

void probe(PciBus* out, uint8_t b, uint8_t d, uint8_t f) {
  const uint32_t id = pci_read32(b, d, f, kIdOffset);
  if ((id & 0xffff) == 0xffff) return;
  if (out->count == PciBus::kMaxDevices) {
    out->truncated = true;
    return;
  }
  PciDevice& dev = out->devices[out->count++];
  dev = PciDevice{};
  dev.bus = b;
  dev.device = d;
  dev.function = f;
  dev.vendor = static_cast<uint16_t>(id);
  dev.device_id = static_cast<uint16_t>(id >> 16);
  const uint32_t cls = pci_read32(b, d, f, kClassOffset);
  dev.revision = static_cast<uint8_t>(cls);
  dev.prog_if = static_cast<uint8_t>(cls >> 8);
  dev.subclass = static_cast<uint8_t>(cls >> 16);
  dev.class_code = static_cast<uint8_t>(cls >> 24);
  dev.header_type = static_cast<uint8_t>(pci_read32(b, d, f, kHeaderOffset) >> 16) & 0x7f;
  size_bars(dev);
  walk_capabilities(dev);
}

}  // namespace

void pci_use_ecam(uint64_t base, uint8_t first_bus, uint8_t last_bus) {
  ecam_base = base;
  ecam_first = first_bus;
  ecam_last = last_bus;
}

bool pci_ecam_in_use() { return ecam_base != 0; }

uint32_t pci_read32(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset) {
  if (volatile uint32_t* r = ecam(bus, device, function, offset)) return *r;
  x86::outl(kConfigAddress, address(bus, device, function, offset));
  return x86::inl(kConfigData);
}

void pci_write32(uint8_t bus, uint8_t device, uint8_t function, uint8_t offset, uint32_t value) {
  if (volatile uint32_t* r = ecam(bus, device, function, offset)) {
    *r = value;
    return;
  }
  x86::outl(kConfigAddress, address(bus, device, function, offset));
  x86::outl(kConfigData, value);
}

void pci_scan(PciBus* out) {
  out->count = 0;
  out->truncated = false;
  for (int b = 0; b < 256; ++b) {
    for (uint8_t d = 0; d < 32; ++d) {
      const auto bus = static_cast<uint8_t>(b);
      if ((pci_read32(bus, d, 0, kIdOffset) & 0xffff) == 0xffff) continue;
      const bool multi = (pci_read32(bus, d, 0, kHeaderOffset) & (0x80u << 16)) != 0;
      for (uint8_t f = 0; f < (multi ? 8 : 1); ++f) probe(out, bus, d, f);
    }
  }
}

void pci_enable(const PciDevice& d) {
  const uint32_t command = pci_read32(d.bus, d.device, d.function, kCommandOffset);
  pci_write32(d.bus, d.device, d.function, kCommandOffset,
              (command & 0xffff) | kCommandIo | kCommandMemory | kCommandBusMaster);
}

const char* pci_driver_name(const PciDevice& d) {
  if (d.vendor == 0x1af4 && (d.device_id == 0x1041 || d.device_id == 0x1000)) return "virtio-net";
  if (d.vendor == 0x8086 && d.device_id == 0x100e) return "e1000";
  return nullptr;
}

}  // namespace edgeos::pc
