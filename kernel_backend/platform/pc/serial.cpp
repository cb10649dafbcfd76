#include "serial.hpp"

#include "../../arch/x86_64/cpu.hpp"

namespace edgeos::pc {

namespace {
constexpr uint16_t kCom1 = 0x3f8;
bool present = false;
}  // namespace

void serial_init() {
  x86::outb(kCom1 + 1, 0x00);  // no interrupts
  x86::outb(kCom1 + 3, 0x80);  // DLAB: set the divisor
  x86::outb(kCom1 + 0, 0x01);  // 115200 baud
  x86::outb(kCom1 + 1, 0x00);
  x86::outb(kCom1 + 3, 0x03);  // 8 bits, no parity, one stop bit
  x86::outb(kCom1 + 2, 0xc7);  // FIFOs on, cleared
  x86::outb(kCom1 + 4, 0x03);  // DTR, RTS
  // A missing UART reads back 0xff.
  present = x86::inb(kCom1 + 5) != 0xff;
}

void serial_write(const char* s, size_t n) {
  if (!present) return;
  for (size_t i = 0; i < n; ++i) {
    if (s[i] == '\n') {
      while ((x86::inb(kCom1 + 5) & 0x20) == 0) x86::pause();
      x86::outb(kCom1, '\r');
    }
    while ((x86::inb(kCom1 + 5) & 0x20) == 0) x86::pause();
    x86::outb(kCom1, static_cast<uint8_t>(s[i]));
  }
}

}  // namespace edgeos::pc
