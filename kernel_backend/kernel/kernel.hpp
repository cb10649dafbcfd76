// The kernel after boot: instantiate the compiled scenario and run it.
#pragma once

#include "../arch/x86_64/cpu.hpp"
#include "../platform/pc/boot_info.hpp"

namespace edgeos::kernel {

// Takes over the CPU: reads the scenario module, sets up time, instantiates the scenario and runs
// it to its end, then exits QEMU with the result. Never returns.
[[noreturn]] void start(const pc::BootInfo& boot, const x86::Features& features);

}  // namespace edgeos::kernel
