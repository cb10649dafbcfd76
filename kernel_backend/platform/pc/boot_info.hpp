// What the boot loader tells the kernel, in one form whichever protocol brought it up: usable
// physical memory, boot modules (the compiled scenario), the command line.
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos::pc {

enum class BootProtocol : uint32_t { kUnknown = 0, kMultiboot2 = 1, kPvh = 2 };

struct MemoryRegion {
  uint64_t base;
  uint64_t size;
};

struct BootModule {
  uint64_t start;  // physical
  uint64_t end;    // physical, exclusive
  const char* cmdline;
};

struct BootInfo {
  BootProtocol protocol = BootProtocol::kUnknown;
  const char* loader = "unknown";
  const char* cmdline = "";
  static constexpr int kMaxRegions = 32;
  MemoryRegion regions[kMaxRegions];  // usable RAM
  int num_regions = 0;
  static constexpr int kMaxModules = 4;
  BootModule modules[kMaxModules];
  int num_modules = 0;
  uint64_t rsdp = 0;  // the ACPI root pointer (or a copy of it), where the loader gives one
};

// Parses the loader's structure at physical address `info` (identity-mapped). False if it is not
// what the protocol promises.
bool parse_boot_info(BootProtocol protocol, uint64_t info, BootInfo* out);

}  // namespace edgeos::pc
