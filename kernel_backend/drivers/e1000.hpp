// A driver for the Intel 82540EM (QEMU's `e1000`), from the PCI/PCI-X Family of Gigabit Ethernet
// Controllers Software Developer's Manual (8254x), chapters 3 (descriptors), 13 (registers) and
// 14 (initialisation): legacy receive and transmit descriptors in one ring each, interrupts
// masked (polled), the transmit tail written once per flush.
//
// QEMU's model holds back received frames for one second (of its virtual clock) after the receive
// control register is written, for guests that cannot take them early: a driver that has just
// come up hears nothing for that long, on QEMU only.
#pragma once
#include "drivers/nic.hpp"

namespace edgeos::drivers {

class E1000 final : public Nic {
 public:
  static constexpr uint16_t kRingSize = 64;  // descriptors per ring (a multiple of 8: 128-byte rings)
  static constexpr uint32_t kBufferSize = 2048;

  bool init(const abi::NicInfo& info, const char** why) override;
  const uint8_t* mac() const override { return mac_; }
  size_t receive(uint8_t* frame, size_t capacity) override;
  bool transmit(const uint8_t* frame, size_t len) override;
  void flush() override;
  const NicCounters& counters() const override { return counters_; }

 private:
  uint32_t reg(uint32_t off) const;
  void set(uint32_t off, uint32_t v);
  uint8_t* buffer(bool tx, uint16_t i) const;

  volatile uint8_t* regs_ = nullptr;
  DmaRegion dma_;
  volatile uint8_t* rx_ring_ = nullptr;
  volatile uint8_t* tx_ring_ = nullptr;
  uint16_t rx_next_ = 0;   // the next receive descriptor the hardware fills
  uint16_t tx_tail_ = 0;   // the next transmit descriptor this driver fills
  uint16_t tx_clean_ = 0;  // the oldest transmit descriptor not yet seen done
  uint16_t tx_in_flight_ = 0;
  bool tx_pending_ = false;
  uint8_t mac_[6] = {};
  NicCounters counters_;
};

}  // namespace edgeos::drivers
