// The kernel's text console (serial): printf-style formatting without libc.
//
// Conversions: %s %c %d %u %x %p and %%, with the length modifiers l and ll (ignored: every
// integer argument is read as 64-bit when given `l`/`ll`, as 32-bit otherwise), a field width and
// the 0 flag: "%08x", "%-12s".
#pragma once

#include <stdarg.h>

#include "edgeos/core/base.hpp"

namespace edgeos::kernel {

void kprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char* fmt, va_list args);
// Formats into `buf` (always NUL-terminated); returns the length written.
size_t ksnprintf(char* buf, size_t cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

}  // namespace edgeos::kernel
