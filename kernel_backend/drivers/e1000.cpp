#include "drivers/e1000.hpp"

extern "C" void* memcpy(void*, const void*, size_t);
extern "C" void* memset(void*, int, size_t);

namespace edgeos::drivers {

namespace {

// Registers (8254x manual, 13.4), byte offsets in BAR 0.
constexpr uint32_t kCtrl = 0x0000, kImc = 0x00d8, kRctl = 0x0100, kTctl = 0x0400, kTipg = 0x0410, kRdbal = 0x2800,
                   kRdbah = 0x2804, kRdlen = 0x2808, kRdh = 0x2810, kRdt = 0x2818, kTdbal = 0x3800, kTdbah = 0x3804,
                   kTdlen = 0x3808, kTdh = 0x3810, kTdt = 0x3818, kMta = 0x5200, kRal0 = 0x5400, kRah0 = 0x5404;
constexpr uint32_t kCtrlSlu = 1u << 6, kCtrlRst = 1u << 26;
// Receive control (13.4.22): enable, accept broadcast, strip the CRC; 2 KiB buffers (BSIZE 00).
constexpr uint32_t kRctlEn = 1u << 1, kRctlBam = 1u << 15, kRctlSecrc = 1u << 26;
// Transmit control (13.4.33): enable, pad short packets, collision threshold 0x10, distance 0x40
// (full duplex), and the inter-packet gap the manual gives for the 82540 (13.4.34).
constexpr uint32_t kTctlEn = 1u << 1, kTctlPsp = 1u << 3, kTctlCt = 0x10u << 4, kTctlCold = 0x40u << 12;
constexpr uint32_t kTipg82540 = 10u | (8u << 10) | (6u << 20);
// Descriptor fields (3.2.3, 3.3.3): status DD (done) and EOP; transmit command EOP, IFCS, RS.
constexpr uint8_t kStatusDd = 1, kStatusEop = 2;
constexpr uint8_t kCmdEop = 1, kCmdIfcs = 2, kCmdRs = 8;
constexpr uint32_t kDescSize = 16;

// DMA pages as the virtio driver lays them out (nic.hpp): rings in pages 0 and 3, buffers from 8
// and 40.
constexpr uint32_t kRxRingPage = 0, kTxRingPage = 3, kRxBufferPage = 8, kTxBufferPage = 40;
static_assert(E1000::kRingSize * kDescSize <= 4096, "a ring in one page");
static_assert(kTxBufferPage + E1000::kRingSize / 2 <= abi::kDmaPages, "the DMA region is too small");


}  // namespace

uint32_t E1000::reg(uint32_t off) const { return mmio_read<uint32_t>(regs_, off); }
void E1000::set(uint32_t off, uint32_t v) { mmio_write<uint32_t>(regs_, off, v); }

uint8_t* E1000::buffer(bool tx, uint16_t i) const {
  return dma_.page((tx ? kTxBufferPage : kRxBufferPage) + i / 2) + (i % 2) * kBufferSize;
}

bool E1000::init(const abi::NicInfo& info, const char** why) {
  if (info.bar_va[0] == 0 || info.bar_size[0] < 0x20000) {
    *why = "BAR 0 (the 128 KiB register space) is not mapped";
    return false;
  }
  regs_ = reinterpret_cast<volatile uint8_t*>(info.bar_va[0]);
  dma_.init(info);
  // Reset with interrupts masked (14.3, 14.5), then link up.
  set(kImc, 0xffff'ffff);
  set(kCtrl, reg(kCtrl) | kCtrlRst);
  for (int spins = 0; (reg(kCtrl) & kCtrlRst) != 0; ++spins) {
    if (spins > 1'000'000) {
      *why = "the device did not come out of reset";
      return false;
    }
  }
  set(kImc, 0xffff'ffff);
  set(kCtrl, reg(kCtrl) | kCtrlSlu);
  // The address the EEPROM loaded into receive address 0 (13.4.62).
  const uint32_t ral = reg(kRal0), rah = reg(kRah0);
  for (int i = 0; i < 4; ++i) mac_[i] = static_cast<uint8_t>(ral >> (8 * i));
  mac_[4] = static_cast<uint8_t>(rah);
  mac_[5] = static_cast<uint8_t>(rah >> 8);
  for (uint32_t i = 0; i < 128; ++i) set(kMta + 4 * i, 0);
  // Receive (14.4): every descriptor given a buffer; the hardware owns [head, tail).
  rx_ring_ = dma_.page(kRxRingPage);
  memset(const_cast<uint8_t*>(rx_ring_), 0, 4096);
  for (uint16_t i = 0; i < kRingSize; ++i) mmio_write<uint64_t>(rx_ring_, i * kDescSize, dma_.phys(buffer(false, i)));
  const uint64_t rx_pa = dma_.phys(const_cast<uint8_t*>(rx_ring_));
  set(kRdbal, static_cast<uint32_t>(rx_pa));
  set(kRdbah, static_cast<uint32_t>(rx_pa >> 32));
  set(kRdlen, kRingSize * kDescSize);
  set(kRdh, 0);
  set(kRdt, kRingSize - 1);
  set(kRctl, kRctlEn | kRctlBam | kRctlSecrc);
  // Transmit (14.5).
  tx_ring_ = dma_.page(kTxRingPage);
  memset(const_cast<uint8_t*>(tx_ring_), 0, 4096);
  const uint64_t tx_pa = dma_.phys(const_cast<uint8_t*>(tx_ring_));
  set(kTdbal, static_cast<uint32_t>(tx_pa));
  set(kTdbah, static_cast<uint32_t>(tx_pa >> 32));
  set(kTdlen, kRingSize * kDescSize);
  set(kTdh, 0);
  set(kTdt, 0);
  set(kTipg, kTipg82540);
  set(kTctl, kTctlEn | kTctlPsp | kTctlCt | kTctlCold);
  return true;
}

size_t E1000::receive(uint8_t* frame, size_t capacity) {
  for (;;) {
    volatile uint8_t* d = rx_ring_ + rx_next_ * kDescSize;
    const uint8_t status = mmio_read<uint8_t>(d, 12);
    if ((status & kStatusDd) == 0) return 0;
    compiler_barrier();
    const uint16_t len = mmio_read<uint16_t>(d, 8);
    const uint8_t errors = mmio_read<uint8_t>(d, 13);
    size_t n = 0;
    if ((status & kStatusEop) == 0 || errors != 0 || len == 0 || len > capacity || len > kBufferSize) {
      ++counters_.rx_errors;  // a frame spread over buffers cannot happen with 2 KiB buffers
    } else {
      n = len;
      memcpy(frame, buffer(false, rx_next_), n);
      ++counters_.rx_frames;
      counters_.rx_bytes += n;
    }
    mmio_write<uint8_t>(d, 12, 0);
    compiler_barrier();
    set(kRdt, rx_next_);  // this descriptor goes back to the hardware
    rx_next_ = static_cast<uint16_t>((rx_next_ + 1) % kRingSize);
    if (n > 0) return n;
  }
}

bool E1000::transmit(const uint8_t* frame, size_t len) {
  while (tx_in_flight_ > 0 && (mmio_read<uint8_t>(tx_ring_ + tx_clean_ * kDescSize, 12) & kStatusDd) != 0) {
    tx_clean_ = static_cast<uint16_t>((tx_clean_ + 1) % kRingSize);
    --tx_in_flight_;
  }
  if (len == 0 || len > kBufferSize) {
    ++counters_.tx_errors;
    return false;
  }
  if (tx_in_flight_ >= kRingSize - 1) {  // the ring never fills completely: head == tail means empty
    ++counters_.tx_ring_full;
    return false;
  }
  uint8_t* buf = buffer(true, tx_tail_);
  memcpy(buf, frame, len);
  volatile uint8_t* d = tx_ring_ + tx_tail_ * kDescSize;
  mmio_write<uint64_t>(d, 0, dma_.phys(buf));
  mmio_write<uint16_t>(d, 8, static_cast<uint16_t>(len));
  mmio_write<uint8_t>(d, 10, 0);
  mmio_write<uint8_t>(d, 11, kCmdEop | kCmdIfcs | kCmdRs);
  mmio_write<uint8_t>(d, 12, 0);
  tx_tail_ = static_cast<uint16_t>((tx_tail_ + 1) % kRingSize);
  ++tx_in_flight_;
  tx_pending_ = true;
  ++counters_.tx_frames;
  counters_.tx_bytes += len;
  return true;
}

void E1000::flush() {
  if (!tx_pending_) return;
  tx_pending_ = false;
  compiler_barrier();
  set(kTdt, tx_tail_);
  ++counters_.kicks;
}

}  // namespace edgeos::drivers
