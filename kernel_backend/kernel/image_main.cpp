// The kernel image: run the scenario it was booted with.
#include "kernel.hpp"

namespace edgeos::kernel {

void image_main(const pc::BootInfo& boot, const x86::Features& features) { start(boot, features); }

}  // namespace edgeos::kernel
