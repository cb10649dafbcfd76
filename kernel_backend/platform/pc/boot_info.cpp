#include "boot_info.hpp"

namespace edgeos::pc {

namespace {

template <class T>
T at(uint64_t addr) {
  return *reinterpret_cast<const T*>(addr);
}

void add_region(BootInfo* out, uint64_t base, uint64_t size) {
  if (size == 0 || out->num_regions == BootInfo::kMaxRegions) return;
  out->regions[out->num_regions++] = MemoryRegion{base, size};
}

void add_module(BootInfo* out, uint64_t start, uint64_t end, const char* cmdline) {
  if (out->num_modules == BootInfo::kMaxModules || end < start) return;
  out->modules[out->num_modules++] = BootModule{start, end, cmdline};
}

// Multiboot2 (the Multiboot2 specification, version 2.0): a size-prefixed list of 8-byte
// aligned tags.
bool parse_multiboot2(uint64_t info, BootInfo* out) {
  out->loader = "Multiboot2";
  const uint32_t total = at<uint32_t>(info);
  if (total < 16 || total > (1u << 20)) return false;
  for (uint64_t p = info + 8; p + 8 <= info + total;) {
    const uint32_t type = at<uint32_t>(p);
    const uint32_t size = at<uint32_t>(p + 4);
    if (type == 0) break;
    if (size < 8) return false;
    switch (type) {
      case 1:  // command line
        out->cmdline = reinterpret_cast<const char*>(p + 8);
        break;
      case 2:  // boot loader name
        out->loader = reinterpret_cast<const char*>(p + 8);
        break;
      case 3:  // module
        add_module(out, at<uint32_t>(p + 8), at<uint32_t>(p + 12), reinterpret_cast<const char*>(p + 16));
        break;
      case 14:  // a copy of the ACPI 1.0 RSDP
        if (out->rsdp == 0) out->rsdp = p + 8;
        break;
      case 15:  // a copy of the ACPI 2.0 RSDP (preferred: it has the XSDT)
        out->rsdp = p + 8;
        break;
      case 6: {  // memory map
        const uint32_t entry_size = at<uint32_t>(p + 8);
        if (entry_size < 24) return false;
        for (uint64_t e = p + 16; e + entry_size <= p + size; e += entry_size) {
          if (at<uint32_t>(e + 16) == 1) add_region(out, at<uint64_t>(e), at<uint64_t>(e + 8));
        }
        break;
      }
      default:
        break;
    }
    p += (size + 7) & ~7u;
  }
  return true;
}

// PVH (Xen's hvm_start_info, version 1 adds the memory map).
bool parse_pvh(uint64_t info, BootInfo* out) {
  out->loader = "PVH";
  if (at<uint32_t>(info) != 0x336e'c578) return false;
  const uint32_t version = at<uint32_t>(info + 4);
  const uint32_t nr_modules = at<uint32_t>(info + 12);
  const uint64_t modlist = at<uint64_t>(info + 16);
  const uint64_t cmdline = at<uint64_t>(info + 24);
  if (cmdline != 0) out->cmdline = reinterpret_cast<const char*>(cmdline);
  out->rsdp = at<uint64_t>(info + 32);
  for (uint32_t i = 0; i < nr_modules; ++i) {
    const uint64_t m = modlist + 32 * uint64_t{i};
    const uint64_t mcmd = at<uint64_t>(m + 16);
    add_module(out, at<uint64_t>(m), at<uint64_t>(m) + at<uint64_t>(m + 8), mcmd != 0 ? reinterpret_cast<const char*>(mcmd) : "");
  }
  if (version < 1) return false;  // no memory map
  const uint64_t memmap = at<uint64_t>(info + 40);
  const uint32_t entries = at<uint32_t>(info + 48);
  for (uint32_t i = 0; i < entries; ++i) {
    const uint64_t e = memmap + 24 * uint64_t{i};
    if (at<uint32_t>(e + 16) == 1) add_region(out, at<uint64_t>(e), at<uint64_t>(e + 8));
  }
  return true;
}

}  // namespace

bool parse_boot_info(BootProtocol protocol, uint64_t info, BootInfo* out) {
  out->protocol = protocol;
  switch (protocol) {
    case BootProtocol::kMultiboot2:
      return parse_multiboot2(info, out);
    case BootProtocol::kPvh:
      return parse_pvh(info, out);
    default:
      return false;
  }
}

}  // namespace edgeos::pc
