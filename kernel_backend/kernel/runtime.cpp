// What a freestanding C++ kernel must supply itself: the memory functions GCC may emit calls to,
// the pure-virtual trap, the core's panic hook, and running the global constructors.
#include "../arch/x86_64/cpu.hpp"
#include "../platform/pc/qemu.hpp"
#include "console.hpp"

extern "C" {

// Eight bytes at a time where it can (rep movsq/stosq), then the remainder.
void* memcpy(void* dst, const void* src, edgeos::size_t n) {
  void* d = dst;
  edgeos::size_t q = n / 8, r = n % 8;
  asm volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(q) : : "memory");
  asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(r) : : "memory");
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
  const edgeos::uint64_t pattern = 0x0101010101010101ull * static_cast<unsigned char>(v);
  edgeos::size_t q = n / 8, r = n % 8;
  asm volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(pattern) : "memory");
  asm volatile("rep stosb" : "+D"(d), "+c"(r) : "a"(pattern) : "memory");
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

// Global objects register their destructors; the kernel never exits, so none ever runs.
void* __dso_handle = nullptr;
int __cxa_atexit(void (*)(void*), void*, void*) { return 0; }

}  // extern "C"

namespace edgeos {

[[noreturn]] void panic(const char* what, const char* file, int line) {
  x86::cli();
  kernel::console_flush();
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
