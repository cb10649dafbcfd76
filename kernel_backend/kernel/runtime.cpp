// What a freestanding C++ kernel must supply itself: the pure-virtual trap, the core's panic hook,
// and running the global constructors (the memory functions are lib/mem.cpp, shared with the FWP
// image).
#include "../arch/x86_64/cpu.hpp"
#include "../platform/pc/qemu.hpp"
#include "console.hpp"
#include "kernel.hpp"

extern "C" {

void __cxa_pure_virtual() { edgeos::panic("pure virtual call", __FILE__, __LINE__); }

// Global objects register their destructors; the kernel never exits, so none ever runs.
void* __dso_handle = nullptr;
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }

}  // extern "C"

namespace edgeos {

[[noreturn]] void panic(const char* what, const char* file, int line) {
  x86::cli();
  kernel::console_flush();
  kernel::kprintf("\nKERNEL PANIC: %s (%s:%d)\n", what, file, line);
  kernel::report_syscall_in_progress();
  pc::qemu_exit(pc::kExitFailure);
}

}  // namespace edgeos

extern "C" void (*__init_array_start[])();
extern "C" void (*__init_array_end[])();

namespace edgeos::kernel {

void run_constructors() {
  for (void (**f)() = __init_array_start; f != __init_array_end; ++f) (*f)();
}

}  // namespace edgeos::kernel
