// The interface a NIC driver offers the driver FWP's packet loop (fwp/programs.cpp): frames in,
// frames out, by polling. The device is the one the kernel granted (fwp/abi.hpp, NicInfo); a
// driver touches only the BARs and the DMA region mapped for it. Freestanding, user mode.
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "fwp/abi.hpp"

namespace edgeos::drivers {

// Device and DMA memory: accesses the compiler must neither drop, merge nor reorder.
template <class T>
inline T mmio_read(volatile uint8_t* base, uint32_t off) {
  return *reinterpret_cast<volatile T*>(base + off);
}
template <class T>
inline void mmio_write(volatile uint8_t* base, uint32_t off, T v) {
  *reinterpret_cast<volatile T*>(base + off) = v;
}
// Orders the compiler's accesses (x86's own store order is enough for the devices here).
inline void compiler_barrier() { asm volatile("" ::: "memory"); }

// Counters every driver keeps, by cause.
struct NicCounters {
  uint64_t rx_frames = 0, tx_frames = 0;
  uint64_t rx_bytes = 0, tx_bytes = 0;
  uint64_t tx_ring_full = 0;  // transmit() found no free descriptor
  uint64_t tx_errors = 0;     // a frame of length 0 or too long for a buffer
  uint64_t rx_errors = 0;     // a frame the device marked bad, or of an impossible length
  uint64_t kicks = 0;         // doorbell writes (one per flush with something queued)
};

class Nic {
 public:
  // Brings the device up from reset. False with `why` set if the device refuses (features, queue sizes).
  virtual bool init(const abi::NicInfo& info, const char** why) = 0;
  virtual const uint8_t* mac() const = 0;
  // Copies the next received frame (Ethernet header onwards, no FCS) into `frame`; its length, or
  // 0 if none is waiting. A frame longer than `capacity` is dropped and counted as an error.
  virtual size_t receive(uint8_t* frame, size_t capacity) = 0;
  // Queues one frame (copied into a DMA buffer); false if the transmit ring is full. Nothing is
  // sent until flush(): transmissions are batched into one doorbell write.
  virtual bool transmit(const uint8_t* frame, size_t len) = 0;
  virtual void flush() = 0;
  virtual const NicCounters& counters() const = 0;

 protected:
  ~Nic() = default;
};

// Maps DMA addresses: the region is kDmaPages pages at info.dma_va whose physical addresses the
// kernel reported, not necessarily contiguous, so every structure a driver hands the device lies
// within one page.
class DmaRegion {
 public:
  void init(const abi::NicInfo& info) { info_ = &info; }
  uint8_t* page(uint32_t i) const { return reinterpret_cast<uint8_t*>(info_->dma_va + uint64_t{i} * 4096); }
  uint64_t phys(const void* p) const {
    const uint64_t off = reinterpret_cast<uint64_t>(p) - info_->dma_va;
    return info_->dma_pa[off / 4096] + off % 4096;
  }

 private:
  const abi::NicInfo* info_ = nullptr;
};

}  // namespace edgeos::drivers
