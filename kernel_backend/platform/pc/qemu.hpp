// QEMU's test devices: isa-debug-exit (port 0xf4) ends the run with a status, debugcon (port
// 0xe9) is a fast byte channel for the binary trace. Bochs has port 0xe9 too (port_e9_hack) but no
// exit device: qemu_exit also prints "edgeos: machine exit 0xNN" on the console, and stops the
// CPU. On hardware the port writes go nowhere.
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos::pc {

// QEMU exits with status (code << 1) | 1: kExitSuccess gives 33, kExitFailure 35.
inline constexpr uint8_t kExitSuccess = 0x10;
inline constexpr uint8_t kExitFailure = 0x11;
[[noreturn]] void qemu_exit(uint8_t code);

void debugcon_write(const void* data, size_t n);

}  // namespace edgeos::pc
