// The test image (edgeos-kernel-ktest.elf): the in-kernel unit tests, then exit through
// isa-debug-exit with success only if every one passed. Nothing of a scenario is read.
#include "../arch/x86_64/context.hpp"
#include "../arch/x86_64/paging.hpp"
#include "../kernel/kernel.hpp"
#include "../platform/pc/qemu.hpp"
#include "../platform/pc/timer.hpp"
#include "ktest.hpp"

namespace edgeos::kernel {

void image_main(const pc::BootInfo&, const x86::Features& features) {
  // The machine as the kernel image sets it up: PCID where the CPU has it.
  if (features.pcid) x86::enable_pcid();
  pc::timer_init(x86::kVectorTimer, x86::kVectorSpurious, features.tsc_deadline);
  pc::qemu_exit(ktest::run_all() == 0 ? pc::kExitSuccess : pc::kExitFailure);
}

}  // namespace edgeos::kernel
