// kmain: from the boot code to the scheduler.
#include "../arch/x86_64/cpu.hpp"
#include "../platform/pc/boot_info.hpp"
#include "../platform/pc/qemu.hpp"
#include "../platform/pc/serial.hpp"
#include "console.hpp"

namespace edgeos::kernel {
void run_constructors();
}

using namespace edgeos;

extern "C" [[noreturn]] void kmain(uint32_t protocol, uint64_t info) {
  pc::serial_init();
  kernel::run_constructors();
  static pc::BootInfo boot;
  if (!pc::parse_boot_info(static_cast<pc::BootProtocol>(protocol), info, &boot)) {
    kernel::kprintf("edgeos: unrecognised boot protocol %u (structure at %lx)\n", protocol, info);
    pc::qemu_exit(pc::kExitFailure);
  }
  const x86::Features f = x86::detect_features();
  kernel::kprintf("edgeos kernel: booted by %s on %s%s\n", boot.loader, f.vendor, f.hypervisor ? " (hypervisor)" : "");
  uint64_t ram = 0;
  for (int i = 0; i < boot.num_regions; ++i) ram += boot.regions[i].size;
  kernel::kprintf("memory: %lu MiB usable in %d regions; %d module(s); cmdline \"%s\"\n", ram >> 20, boot.num_regions,
                  boot.num_modules, boot.cmdline);
  kernel::kprintf("cpu: nx %d smep %d smap %d pcid %d invpcid %d tsc-deadline %d x2apic %d invariant-tsc %d\n", f.nx, f.smep,
                  f.smap, f.pcid, f.invpcid, f.tsc_deadline, f.x2apic, f.invariant_tsc);
  pc::qemu_exit(pc::kExitSuccess);
}
