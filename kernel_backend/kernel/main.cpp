// kmain: from the boot code to the scheduler.
#include "../arch/x86_64/context.hpp"
#include "../arch/x86_64/cpu.hpp"
#include "../arch/x86_64/paging.hpp"
#include "../arch/x86_64/percpu.hpp"
#include "../platform/pc/boot_info.hpp"
#include "../platform/pc/qemu.hpp"
#include "../platform/pc/serial.hpp"
#include "console.hpp"
#include "devices.hpp"
#include "kernel.hpp"

namespace edgeos::kernel {
void run_constructors();
}

extern "C" char __kernel_start[], __kernel_end[];

using namespace edgeos;

namespace {

alignas(16) uint8_t kernel_stack[64 * 1024];

// Gives the frame allocator every usable page but the first MiB (firmware, the PVH structures),
// the kernel image, the boot modules and the loader's information structure.
void add_memory(const pc::BootInfo& boot, uint64_t info, uint64_t info_size) {
  struct Range {
    uint64_t lo, hi;
  };
  Range holes[2 + pc::BootInfo::kMaxModules];
  int n = 0;
  holes[n++] = Range{reinterpret_cast<uint64_t>(__kernel_start), reinterpret_cast<uint64_t>(__kernel_end)};
  holes[n++] = Range{info, info + info_size};
  for (int i = 0; i < boot.num_modules; ++i) holes[n++] = Range{boot.modules[i].start, boot.modules[i].end};
  for (int r = 0; r < boot.num_regions; ++r) {
    uint64_t lo = boot.regions[r].base < 0x10'0000 ? 0x10'0000 : boot.regions[r].base;
    const uint64_t hi = boot.regions[r].base + boot.regions[r].size;
    // Add [lo, hi) minus the holes, piece by piece in address order.
    while (lo < hi) {
      uint64_t piece_end = hi;
      bool moved = false;
      for (int h = 0; h < n; ++h) {
        const uint64_t hl = holes[h].lo & ~0xfffull, hh = (holes[h].hi + 0xfff) & ~0xfffull;
        if (hl <= lo && lo < hh) {
          lo = hh;
          moved = true;
        } else if (lo < hl && hl < piece_end) {
          piece_end = hl;
        }
      }
      if (moved) continue;
      x86::frames().add_range(lo, piece_end);
      lo = piece_end;
    }
  }
}

bool cmdline_is(const char* cmdline, const char* word) {
  while (*cmdline != '\0' && *cmdline == *word) {
    ++cmdline;
    ++word;
  }
  return *cmdline == '\0' && *word == '\0';
}

}  // namespace

extern "C" [[noreturn]] void kmain(uint32_t protocol, uint64_t info) {
  pc::serial_init();
  kernel::run_constructors();
  static pc::BootInfo boot;
  if (!pc::parse_boot_info(static_cast<pc::BootProtocol>(protocol), info, &boot)) {
    kernel::kprintf("edgeos: unrecognised boot protocol %u (structure at %lx)\n", protocol, info);
    pc::qemu_exit(pc::kExitFailure);
  }
  // `edgeos boot --accel auto` boots once with "probe" to learn whether KVM runs this kernel.
  if (cmdline_is(boot.cmdline, "probe")) {
    kernel::kprintf("edgeos probe: ok\n");
    pc::qemu_exit(pc::kExitSuccess);
  }
  const x86::Features f = x86::detect_features();
  x86::init_cpu(0, 0, reinterpret_cast<uint64_t>(kernel_stack + sizeof kernel_stack));  // the boot CPU
  if (f.nx) x86::wrmsr(x86::kMsrEfer, x86::rdmsr(x86::kMsrEfer) | (1u << 11));
  const uint64_t info_size = protocol == 1 ? *reinterpret_cast<const uint32_t*>(info) : 0;
  add_memory(boot, info, info_size);
  kernel::kprintf("edgeos kernel: booted by %s on %s%s; %lu MiB free; cmdline \"%s\"\n", boot.loader, f.vendor,
                  f.hypervisor ? " (hypervisor)" : "", (x86::frames().free_count() * 4096) >> 20, boot.cmdline);
  kernel::kprintf("cpu: nx %d smep %d smap %d pcid %d tsc-deadline %d x2apic %d invariant-tsc %d\n", f.nx, f.smep, f.smap,
                  f.pcid, f.tsc_deadline, f.x2apic, f.invariant_tsc);
  kernel::devices_init(boot.rsdp);
  kernel::image_main(boot, f);
}
