// The PC's first serial port (COM1, 16550 UART), polled: the kernel's text console.
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos::pc {

void serial_init();
void serial_write(const char* s, size_t n);

}  // namespace edgeos::pc
