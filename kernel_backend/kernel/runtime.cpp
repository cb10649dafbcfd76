// What a freestanding C++ kernel must supply itself: the memory functions GCC may emit calls to,
// the pure-virtual trap, the core's panic hook, and running the global constructors.
#include "../arch/x86_64/cpu.hpp"
#include "../platform/pc/qemu.hpp"
#include "console.hpp"

extern "C" {

void* memcpy(void* dst, const void* src, edgeos::size_t n) {
  void* d = dst;
  asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(n) : : "memory");
  return dst;
}

void* memmove(void* dst, const void* src, edgeos::size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  if (d < s) {
    for (edgeos::size_t i = 0; i < n; ++i) d[i] = s[i];
  } else {
    for (edgeos::size_t i = n; i-- > 0;) d[i] = s[i];
  }
  return dst;
}

void* memset(void* dst, int v, edgeos::size_t n) {
  void* d = dst;
  asm volatile("rep stosb" : "+D"(d), "+c"(n) : "a"(v) : "memory");
  return dst;
}

int memcmp(const void* a, const void* b, edgeos::size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (edgeos::size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

void __cxa_pure_virtual() { edgeos::panic("pure virtual call", __FILE__, __LINE__); }

}  // extern "C"

namespace edgeos {

[[noreturn]] void panic(const char* what, const char* file, int line) {
  x86::cli();
  kernel::kprintf("\nKERNEL PANIC: %s (%s:%d)\n", what, file, line);
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
