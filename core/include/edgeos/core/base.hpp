// edgeos core: the only standard headers core/ and the policies may use.
//
// core/ is compiled into a freestanding x86-64 kernel as well as into hosted simulators, so it
// may use nothing that needs libc, libstdc++'s compiled part, exceptions, RTTI or the heap. The
// headers below are header-only in libstdc++ for the facilities we use; the freestanding gate
// (tests/freestanding) links core/ without libc or libstdc++ and fails if anything else creeps
// in. Include this header instead of including standard headers directly.
#pragma once

#include <bit>
#include <compare>
#include <concepts>
#include <cstddef>
#include <cstdint>
#include <limits>
#include <new>  // placement new only
#include <type_traits>
#include <utility>

namespace edgeos {

using std::int32_t;
using std::int64_t;
using std::size_t;
using std::uint16_t;
using std::uint32_t;
using std::uint64_t;
using std::uint8_t;

// 128-bit integers for exact intermediate products (GCC/Clang builtin; __extension__ keeps
// -Wpedantic quiet about a type ISO C++ does not name).
__extension__ typedef __int128 int128_t;
__extension__ typedef unsigned __int128 uint128_t;

// Debug builds (no NDEBUG) check every kernel invariant after every event by default.
#ifdef NDEBUG
inline constexpr bool kDebugBuild = false;
#else
inline constexpr bool kDebugBuild = true;
#endif

// Called when an internal invariant is broken. Each backend defines it: hosted builds print and
// abort, the kernel halts with a message on the serial console, the freestanding gate exits.
[[noreturn]] void panic(const char* what, const char* file, int line);

// A minimal non-owning view of a contiguous array. (std::span would do, but pulls in more of
// libstdc++ than core needs; this keeps the freestanding surface obvious.)
template <class T>
class Span {
 public:
  constexpr Span() = default;
  constexpr Span(T* data, size_t size) : data_(data), size_(size) {}

  constexpr T* data() const { return data_; }
  constexpr size_t size() const { return size_; }
  constexpr bool empty() const { return size_ == 0; }
  constexpr T& operator[](size_t i) const { return data_[i]; }
  constexpr T* begin() const { return data_; }
  constexpr T* end() const { return data_ + size_; }

 private:
  T* data_ = nullptr;
  size_t size_ = 0;
};

}  // namespace edgeos

// Checks that hold unless core itself is wrong. Always on: they guard kernel state, and each is a
// compare-and-branch that is never taken.
// For the few functions on the scheduling fast path that the compiler's size heuristics would
// otherwise leave as calls (GCC and Clang).
#define EDGEOS_HOT_INLINE [[gnu::always_inline]] inline

#define EDGEOS_ASSERT(cond)                                \
  do {                                                     \
    if (!(cond)) [[unlikely]] {                            \
      ::edgeos::panic("assertion failed: " #cond, __FILE__, __LINE__); \
    }                                                      \
  } while (0)
