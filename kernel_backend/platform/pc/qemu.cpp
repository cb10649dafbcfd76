#include "qemu.hpp"

#include "../../arch/x86_64/cpu.hpp"

namespace edgeos::pc {

void qemu_exit(uint8_t code) {
  x86::outl(0xf4, code);
  // Not under QEMU (or without the device): stop here.
  for (;;) {
    x86::cli();
    x86::hlt();
  }
}

void debugcon_write(const void* data, size_t n) { x86::outsb(0xe9, data, n); }

}  // namespace edgeos::pc
