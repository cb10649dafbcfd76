// The memory functions GCC may emit calls to (and that freestanding code calls), for every
// freestanding image edgeos links: the kernel and the FWP programs. One copy, x86-64 string
// instructions where they pay.
#include <stddef.h>
#include <stdint.h>

extern "C" {

// Eight bytes at a time where it can (rep movsq/stosq), then the remainder.
void* memcpy(void* dst, const void* src, size_t n) {
  void* d = dst;
  size_t q = n / 8, r = n % 8;
  asm volatile("rep movsq" : "+D"(d), "+S"(src), "+c"(q) : : "memory");
  asm volatile("rep movsb" : "+D"(d), "+S"(src), "+c"(r) : : "memory");
  return dst;
}

void* memmove(void* dst, const void* src, size_t n) {
  auto* d = static_cast<unsigned char*>(dst);
  const auto* s = static_cast<const unsigned char*>(src);
  if (d < s) {
    for (size_t i = 0; i < n; ++i) d[i] = s[i];
  } else {
    for (size_t i = n; i-- > 0;) d[i] = s[i];
  }
  return dst;
}

void* memset(void* dst, int v, size_t n) {
  void* d = dst;
  const uint64_t pattern = 0x0101010101010101ull * static_cast<unsigned char>(v);
  size_t q = n / 8, r = n % 8;
  asm volatile("rep stosq" : "+D"(d), "+c"(q) : "a"(pattern) : "memory");
  asm volatile("rep stosb" : "+D"(d), "+c"(r) : "a"(pattern) : "memory");
  return dst;
}

int memcmp(const void* a, const void* b, size_t n) {
  const auto* x = static_cast<const unsigned char*>(a);
  const auto* y = static_cast<const unsigned char*>(b);
  for (size_t i = 0; i < n; ++i) {
    if (x[i] != y[i]) return x[i] < y[i] ? -1 : 1;
  }
  return 0;
}

}  // extern "C"
