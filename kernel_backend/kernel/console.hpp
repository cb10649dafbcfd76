// The kernel's text console (serial): printf-style formatting without libc.
//
// Conversions: %s %c %d %u %x %p and %%, with the length modifiers l and ll (ignored: every
// integer argument is read as 64-bit when given `l`/`ll`, as 32-bit otherwise), a field width and
// the 0 flag: "%08x", "%-12s".
#pragma once

#include <stdarg.h>

#include "edgeos/core/base.hpp"

namespace edgeos::kernel {

// While a scenario runs, the console must not take time from the tenants: a real UART sends a
// character in 87 us at 115200 baud, and an FWP that makes the kernel print (a fault report, its
// own output) would otherwise steal that from everyone. So from console_defer() on, output is
// kept in a buffer and sent in idle time (console_drain, from the idle loop, never past the next
// timer), and whatever is left at the end or on a fatal path by console_flush. Before the run,
// output is written at once.
void console_defer();
// Sends at most `max_chars` of the kept output, waiting for the UART as it goes.
void console_drain(size_t max_chars);
// Sends all of it (saying how much was lost if the buffer overflowed) and writes at once from
// then on: for the end of the run and for fatal paths.
void console_flush();

void kprintf(const char* fmt, ...) __attribute__((format(printf, 1, 2)));
void kvprintf(const char* fmt, va_list args);
// Formats into `buf` (always NUL-terminated); returns the length written.
size_t ksnprintf(char* buf, size_t cap, const char* fmt, ...) __attribute__((format(printf, 3, 4)));

}  // namespace edgeos::kernel
