// The kernel after boot: instantiate the compiled scenario and run it.
#pragma once

#include "../arch/x86_64/cpu.hpp"
#include "../platform/pc/boot_info.hpp"

namespace edgeos::kernel {

// Takes over the CPU: reads the scenario module, sets up time, instantiates the scenario and runs
// it to its end, then exits QEMU with the result. Never returns.
[[noreturn]] void start(const pc::BootInfo& boot, const x86::Features& features);

// What an image does once kmain has set up the CPU, memory and console. Each image links one
// definition: the kernel image runs the scenario (kernel/image_main.cpp), the test image runs the
// in-kernel unit tests (ktest/image_main.cpp), so the kernel people boot carries no test code and
// no command line decides between the two.
[[noreturn]] void image_main(const pc::BootInfo& boot, const x86::Features& features);

// After a panic or a kernel fault: the system call this CPU was handling, if any (its thread, number
// and argument registers), on the console.
void report_syscall_in_progress();

}  // namespace edgeos::kernel
