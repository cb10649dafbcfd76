#include "acpi.hpp"

namespace edgeos::pc {

namespace {

// A little-endian value at a physical address (identity-mapped), byte by byte: ACPI tables are
// not aligned, and some sit at fixed low addresses the compiler would take for null pointers.
template <class T>
T at(uint64_t addr) {
  asm("" : "+r"(addr));  // an address, not a constant the compiler reasons about
  const volatile uint8_t* p = reinterpret_cast<const volatile uint8_t*>(addr);
  uint64_t v = 0;
  for (size_t i = sizeof(T); i-- > 0;) v = (v << 8) | p[i];
  return static_cast<T>(v);
}

bool checksum_ok(uint64_t addr, uint64_t n) {
  uint8_t sum = 0;
  for (uint64_t i = 0; i < n; ++i) sum = static_cast<uint8_t>(sum + at<uint8_t>(addr + i));
  return sum == 0;
}

bool signature_is(uint64_t addr, const char* sig, int n) {
  for (int i = 0; i < n; ++i) {
    if (at<char>(addr + static_cast<uint64_t>(i)) != sig[i]) return false;
  }
  return true;
}

bool valid_rsdp(uint64_t p) { return signature_is(p, "RSD PTR ", 8) && checksum_ok(p, 20); }

// The RSDP in the first KiB of the EBDA or in 0xe0000-0xfffff, on a 16-byte boundary.
uint64_t search_rsdp() {
  const uint64_t ebda = uint64_t{at<uint16_t>(0x40e)} << 4;
  if (ebda >= 0x80000 && ebda < 0xa0000) {
    for (uint64_t p = ebda; p < ebda + 1024; p += 16) {
      if (valid_rsdp(p)) return p;
    }
  }
  for (uint64_t p = 0xe0000; p < 0x100000; p += 16) {
    if (valid_rsdp(p)) return p;
  }
  return 0;
}

// A table the direct map reaches, with a sound header (36 bytes) and checksum.
bool table_ok(uint64_t t) {
  if (t == 0 || t + 36 > (uint64_t{1} << 32)) return false;
  const uint32_t length = at<uint32_t>(t + 4);
  return length >= 36 && length < (1u << 20) && t + length <= (uint64_t{1} << 32) && checksum_ok(t, length);
}

}  // namespace

// The first table with `signature` the RSDP's XSDT (or RSDT) lists, or 0.
uint64_t find_table(uint64_t rsdp, const char* signature) {
  if (rsdp == 0 || !valid_rsdp(rsdp)) rsdp = search_rsdp();
  if (rsdp == 0) return 0;
  // The XSDT (64-bit entries) where there is one (revision 2), else the RSDT (32-bit).
  uint64_t root = 0;
  uint64_t entry_size = 4;
  if (at<uint8_t>(rsdp + 15) >= 2 && checksum_ok(rsdp, 36)) {  // the 2.0 RSDP: 36 bytes, its own checksum
    root = at<uint64_t>(rsdp + 24);
    entry_size = 8;
  }
  if (!table_ok(root)) {
    root = at<uint32_t>(rsdp + 16);
    entry_size = 4;
  }
  if (!table_ok(root)) return 0;
  const uint64_t entries = (at<uint32_t>(root + 4) - 36) / entry_size;
  for (uint64_t i = 0; i < entries; ++i) {
    const uint64_t e = root + 36 + i * entry_size;
    const uint64_t t = entry_size == 8 ? at<uint64_t>(e) : at<uint32_t>(e);
    if (table_ok(t) && signature_is(t, signature, 4)) return t;
  }
  return 0;
}

bool find_ecam(uint64_t rsdp, EcamRegion* out) {
  // MCFG (PCI Firmware Specification 3.0, 4.1.2): the header, 8 reserved bytes, then 16-byte
  // entries: base address (u64), segment (u16), start bus, end bus (u8), 4 reserved bytes.
  const uint64_t mcfg = find_table(rsdp, "MCFG");
  if (mcfg == 0) return false;
  const uint64_t end = mcfg + at<uint32_t>(mcfg + 4);
  for (uint64_t p = mcfg + 44; p + 16 <= end; p += 16) {
    const uint64_t base = at<uint64_t>(p);
    const uint8_t first = at<uint8_t>(p + 10), last = at<uint8_t>(p + 11);
    // Segment 0 only, inside the direct map's 4 GiB, buses in order.
    if (at<uint16_t>(p + 8) != 0 || last < first || base % (1u << 20) != 0) continue;
    if (base + (static_cast<uint64_t>(last - first) + 1) * (1u << 20) > (uint64_t{1} << 32)) continue;
    *out = EcamRegion{base, first, last};
    return true;
  }
  return false;
}

bool find_cpus(uint64_t rsdp, CpuList* out) {
  out->count = 0;
  const uint64_t madt = find_table(rsdp, "APIC");
  if (madt == 0) return false;
  // After the header: the local APIC address and flags (8 bytes), then variable-length entries.
  const uint64_t end = madt + at<uint32_t>(madt + 4);
  for (uint64_t p = madt + 44; p + 2 <= end;) {
    const uint8_t type = at<uint8_t>(p), length = at<uint8_t>(p + 1);
    if (length < 2 || p + length > end) break;
    uint32_t id = ~0u;
    if (type == 0 && length >= 8 && (at<uint32_t>(p + 4) & 1) != 0) id = at<uint8_t>(p + 3);  // local APIC
    if (type == 9 && length >= 16 && (at<uint32_t>(p + 8) & 1) != 0) id = at<uint32_t>(p + 4);  // local x2APIC
    // Only IDs the xAPIC's interrupt command register can name (the broadcast ID 255 excluded),
    // each once: a CPU listed twice (as APIC and x2APIC) is started once.
    bool seen = false;
    for (uint32_t i = 0; i < out->count; ++i) seen = seen || out->apic_ids[i] == id;
    if (id < 255 && !seen && out->count < CpuList::kMax) out->apic_ids[out->count++] = id;
    p += length;
  }
  return out->count > 0;
}

}  // namespace edgeos::pc
