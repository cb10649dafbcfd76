// A virtio-net driver for the virtio 1.0 "modern" PCI transport (OASIS virtio 1.0, 4.1), with
// split virtqueues (2.4): one receive and one transmit queue, VIRTIO_F_VERSION_1 and
// VIRTIO_NET_F_MAC negotiated, polled (the device is asked never to interrupt, and the driver
// kicks only when the device has not suppressed notifications, 2.4.7), kicks batched per flush.
#pragma once
#include "drivers/nic.hpp"

namespace edgeos::drivers {

class VirtioNet final : public Nic {
 public:
  static constexpr uint16_t kQueueSize = 64;  // per queue (a power of two, 2.4)
  static constexpr uint32_t kBufferSize = 2048;

  bool init(const abi::NicInfo& info, const char** why) override;
  const uint8_t* mac() const override { return mac_; }
  size_t receive(uint8_t* frame, size_t capacity) override;
  bool transmit(const uint8_t* frame, size_t len) override;
  void flush() override;
  const NicCounters& counters() const override { return counters_; }

 private:
  struct Queue {
    volatile uint8_t* desc = nullptr;   // struct virtq_desc[kQueueSize]
    volatile uint8_t* avail = nullptr;  // struct virtq_avail
    volatile uint8_t* used = nullptr;   // struct virtq_used
    uint16_t last_used = 0;             // the used ring's index this driver has consumed up to
    uint16_t avail_idx = 0;             // the avail ring's index it has published up to
    uint16_t pending = 0;               // published since the last kick
    uint16_t in_flight = 0;             // descriptors the device holds (transmit)
    volatile uint16_t* notify = nullptr;
    uint16_t index = 0;
  };
  bool setup_queue(Queue& q, uint16_t index, uint32_t first_page, const char** why);
  void publish(Queue& q, uint16_t desc);
  void kick(Queue& q);
  uint8_t* buffer(bool tx, uint16_t i) const;

  const abi::NicInfo* info_ = nullptr;
  DmaRegion dma_;
  volatile uint8_t* common_ = nullptr;
  volatile uint8_t* device_cfg_ = nullptr;
  volatile uint8_t* notify_base_ = nullptr;
  uint32_t notify_multiplier_ = 0;
  Queue rx_, tx_;
  bool tx_busy_[kQueueSize] = {};  // the device holds this transmit descriptor
  uint16_t tx_cursor_ = 0;         // where the search for a free one starts
  uint8_t mac_[6] = {};
  NicCounters counters_;
};

}  // namespace edgeos::drivers
