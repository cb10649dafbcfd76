#include "drivers/virtio_net.hpp"

extern "C" void* memcpy(void*, const void*, size_t);
extern "C" void* memset(void*, int, size_t);

namespace edgeos::drivers {

namespace {

// Device status bits (virtio 1.0, 2.1).
constexpr uint8_t kAcknowledge = 1, kDriver = 2, kDriverOk = 4, kFeaturesOk = 8;
// Feature bits: VIRTIO_NET_F_MAC (5.1.3), VIRTIO_F_VERSION_1 (6).
constexpr uint64_t kFeatureMac = 1ull << 5;
constexpr uint64_t kFeatureVersion1 = 1ull << 32;

// struct virtio_pci_common_cfg (4.1.4.3), byte offsets.
constexpr uint32_t kCfgDeviceFeatureSelect = 0x00, kCfgDeviceFeature = 0x04, kCfgDriverFeatureSelect = 0x08,
                   kCfgDriverFeature = 0x0c, kCfgDeviceStatus = 0x14, kCfgQueueSelect = 0x16, kCfgQueueSize = 0x18,
                   kCfgQueueMsixVector = 0x1a, kCfgQueueEnable = 0x1c, kCfgQueueNotifyOff = 0x1e, kCfgQueueDesc = 0x20,
                   kCfgQueueDriver = 0x28, kCfgQueueDevice = 0x30;
constexpr uint16_t kNoVector = 0xffff;

// Split virtqueues (2.4): descriptor flags, and the rings' flags.
constexpr uint16_t kDescWrite = 2;
constexpr uint16_t kAvailNoInterrupt = 1;
constexpr uint16_t kUsedNoNotify = 1;
// struct virtio_net_hdr with VIRTIO_F_VERSION_1: 12 bytes, num_buffers included (5.1.6).
constexpr uint32_t kNetHeader = 12;

// The DMA pages (nic.hpp): the receive queue's descriptor table, available and used rings in
// pages 0-2, the transmit queue's in 3-5, receive buffers from page 8, transmit buffers from 40,
// two 2 KiB buffers a page.
constexpr uint32_t kRxQueuePage = 0, kTxQueuePage = 3, kRxBufferPage = 8, kTxBufferPage = 40;
static_assert(kRxBufferPage + VirtioNet::kQueueSize / 2 <= kTxBufferPage, "receive buffers overlap");
static_assert(kTxBufferPage + VirtioNet::kQueueSize / 2 <= abi::kDmaPages, "the DMA region is too small");

// 64-bit fields of the common configuration as two 32-bit writes, low half first (4.1.3.1).
void wr64(volatile uint8_t* base, uint32_t off, uint64_t v) {
  mmio_write<uint32_t>(base, off, static_cast<uint32_t>(v));
  mmio_write<uint32_t>(base, off + 4, static_cast<uint32_t>(v >> 32));
}

// Offsets within the split rings (2.4.5, 2.4.6, 2.4.8).
constexpr uint32_t desc_off(uint16_t i) { return 16u * i; }
constexpr uint32_t kRingFlags = 0, kRingIdx = 2, kRingEntries = 4;

}  // namespace

uint8_t* VirtioNet::buffer(bool tx, uint16_t i) const {
  return dma_.page((tx ? kTxBufferPage : kRxBufferPage) + i / 2) + (i % 2) * kBufferSize;
}

bool VirtioNet::setup_queue(Queue& q, uint16_t index, uint32_t first_page, const char** why) {
  mmio_write<uint16_t>(common_, kCfgQueueSelect, index);
  const uint16_t max = mmio_read<uint16_t>(common_, kCfgQueueSize);
  if (max < kQueueSize) {
    *why = "a virtqueue is smaller than the driver needs";
    return false;
  }
  q.index = index;
  q.desc = dma_.page(first_page);
  q.avail = dma_.page(first_page + 1);
  q.used = dma_.page(first_page + 2);
  for (uint32_t p = 0; p < 3; ++p) memset(dma_.page(first_page + p), 0, 4096);
  mmio_write<uint16_t>(common_, kCfgQueueSize, kQueueSize);
  mmio_write<uint16_t>(common_, kCfgQueueMsixVector, kNoVector);
  wr64(common_, kCfgQueueDesc, dma_.phys(const_cast<uint8_t*>(q.desc)));
  wr64(common_, kCfgQueueDriver, dma_.phys(const_cast<uint8_t*>(q.avail)));
  wr64(common_, kCfgQueueDevice, dma_.phys(const_cast<uint8_t*>(q.used)));
  const uint16_t notify_off = mmio_read<uint16_t>(common_, kCfgQueueNotifyOff);
  q.notify = reinterpret_cast<volatile uint16_t*>(notify_base_ + uint64_t{notify_off} * notify_multiplier_);
  // Polled: ask the device never to interrupt for this queue (2.4.7.1).
  mmio_write<uint16_t>(q.avail, kRingFlags, kAvailNoInterrupt);
  mmio_write<uint16_t>(common_, kCfgQueueEnable, 1);
  return true;
}

bool VirtioNet::init(const abi::NicInfo& info, const char** why) {
  info_ = &info;
  dma_.init(info);
  for (uint32_t c = 0; c < info.num_virtio && c < 8; ++c) {
    const abi::NicVirtioCap& cap = info.virtio[c];
    if (cap.bar >= 6 || info.bar_va[cap.bar] == 0 || uint64_t{cap.offset} + cap.length > info.bar_size[cap.bar]) continue;
    volatile uint8_t* at = reinterpret_cast<volatile uint8_t*>(info.bar_va[cap.bar] + cap.offset);
    if (cap.cfg_type == 1 && common_ == nullptr) common_ = at;
    if (cap.cfg_type == 2 && notify_base_ == nullptr) {
      notify_base_ = at;
      notify_multiplier_ = cap.notify_off_multiplier;
    }
    if (cap.cfg_type == 4 && device_cfg_ == nullptr) device_cfg_ = at;
  }
  if (common_ == nullptr || notify_base_ == nullptr || device_cfg_ == nullptr) {
    *why = "the device lacks a common, notify or device configuration structure";
    return false;
  }
  // Device initialisation (3.1.1): reset, acknowledge, negotiate, set up the queues, go.
  mmio_write<uint8_t>(common_, kCfgDeviceStatus, 0);
  while (mmio_read<uint8_t>(common_, kCfgDeviceStatus) != 0) {
  }
  mmio_write<uint8_t>(common_, kCfgDeviceStatus, kAcknowledge);
  mmio_write<uint8_t>(common_, kCfgDeviceStatus, kAcknowledge | kDriver);
  mmio_write<uint32_t>(common_, kCfgDeviceFeatureSelect, 0);
  uint64_t offered = mmio_read<uint32_t>(common_, kCfgDeviceFeature);
  mmio_write<uint32_t>(common_, kCfgDeviceFeatureSelect, 1);
  offered |= uint64_t{mmio_read<uint32_t>(common_, kCfgDeviceFeature)} << 32;
  if ((offered & kFeatureVersion1) == 0) {
    *why = "the device does not offer VIRTIO_F_VERSION_1 (a legacy device)";
    return false;
  }
  const uint64_t wanted = offered & (kFeatureVersion1 | kFeatureMac);
  mmio_write<uint32_t>(common_, kCfgDriverFeatureSelect, 0);
  mmio_write<uint32_t>(common_, kCfgDriverFeature, static_cast<uint32_t>(wanted));
  mmio_write<uint32_t>(common_, kCfgDriverFeatureSelect, 1);
  mmio_write<uint32_t>(common_, kCfgDriverFeature, static_cast<uint32_t>(wanted >> 32));
  mmio_write<uint8_t>(common_, kCfgDeviceStatus, kAcknowledge | kDriver | kFeaturesOk);
  if ((mmio_read<uint8_t>(common_, kCfgDeviceStatus) & kFeaturesOk) == 0) {
    *why = "the device refused the features";
    return false;
  }
  if (!setup_queue(rx_, 0, kRxQueuePage, why) || !setup_queue(tx_, 1, kTxQueuePage, why)) return false;
  if ((wanted & kFeatureMac) != 0) {
    for (uint32_t i = 0; i < 6; ++i) mac_[i] = mmio_read<uint8_t>(device_cfg_, i);
  }
  mmio_write<uint8_t>(common_, kCfgDeviceStatus, kAcknowledge | kDriver | kFeaturesOk | kDriverOk);
  // Every receive buffer to the device.
  for (uint16_t i = 0; i < kQueueSize; ++i) {
    volatile uint8_t* d = rx_.desc + desc_off(i);
    mmio_write<uint64_t>(d, 0, dma_.phys(buffer(false, i)));
    mmio_write<uint32_t>(d, 8, kBufferSize);
    mmio_write<uint16_t>(d, 12, kDescWrite);
    mmio_write<uint16_t>(d, 14, 0);
    publish(rx_, i);
  }
  kick(rx_);
  return true;
}

void VirtioNet::publish(Queue& q, uint16_t desc) {
  mmio_write<uint16_t>(q.avail, kRingEntries + 2u * (q.avail_idx % kQueueSize), desc);
  compiler_barrier();  // the entry before the index that makes it visible (2.4.7.2)
  ++q.avail_idx;
  mmio_write<uint16_t>(q.avail, kRingIdx, q.avail_idx);
  ++q.pending;
}

void VirtioNet::kick(Queue& q) {
  if (q.pending == 0) return;
  q.pending = 0;
  asm volatile("mfence" ::: "memory");  // the index store before the flag load (2.4.7.2)
  if ((mmio_read<uint16_t>(q.used, kRingFlags) & kUsedNoNotify) != 0) return;
  *q.notify = q.index;
  ++counters_.kicks;
}

size_t VirtioNet::receive(uint8_t* frame, size_t capacity) {
  for (;;) {
    const uint16_t used_idx = mmio_read<uint16_t>(rx_.used, kRingIdx);
    if (used_idx == rx_.last_used) return 0;
    compiler_barrier();
    const uint32_t slot = kRingEntries + 8u * (rx_.last_used % kQueueSize);
    const uint32_t id = mmio_read<uint32_t>(rx_.used, slot);
    const uint32_t len = mmio_read<uint32_t>(rx_.used, slot + 4);
    ++rx_.last_used;
    if (id >= kQueueSize) {  // a device bug: nothing to give back
      ++counters_.rx_errors;
      continue;
    }
    const auto desc = static_cast<uint16_t>(id);
    size_t n = 0;
    if (len < kNetHeader || len > kBufferSize || len - kNetHeader > capacity) {
      ++counters_.rx_errors;
    } else {
      n = len - kNetHeader;
      memcpy(frame, buffer(false, desc) + kNetHeader, n);
      ++counters_.rx_frames;
      counters_.rx_bytes += n;
    }
    publish(rx_, desc);  // the buffer goes back to the device
    if (n > 0) return n;
  }
}

bool VirtioNet::transmit(const uint8_t* frame, size_t len) {
  // Reclaim what the device has sent (2.4.8): each used entry names a descriptor it is done
  // with (in whatever order it finished them).
  for (uint16_t used_idx = mmio_read<uint16_t>(tx_.used, kRingIdx); tx_.last_used != used_idx; ++tx_.last_used) {
    compiler_barrier();
    const uint32_t id = mmio_read<uint32_t>(tx_.used, kRingEntries + 8u * (tx_.last_used % kQueueSize));
    if (id < kQueueSize && tx_busy_[id]) {
      tx_busy_[id] = false;
      --tx_.in_flight;
    }
  }
  if (len + kNetHeader > kBufferSize || len == 0) {
    ++counters_.tx_errors;
    return false;
  }
  if (tx_.in_flight >= kQueueSize) {
    ++counters_.tx_ring_full;
    return false;
  }
  while (tx_busy_[tx_cursor_ % kQueueSize]) ++tx_cursor_;
  const auto desc = static_cast<uint16_t>(tx_cursor_++ % kQueueSize);
  tx_busy_[desc] = true;
  uint8_t* buf = buffer(true, desc);
  memset(buf, 0, kNetHeader);
  memcpy(buf + kNetHeader, frame, len);
  volatile uint8_t* d = tx_.desc + desc_off(desc);
  mmio_write<uint64_t>(d, 0, dma_.phys(buf));
  mmio_write<uint32_t>(d, 8, static_cast<uint32_t>(len + kNetHeader));
  mmio_write<uint16_t>(d, 12, 0);
  mmio_write<uint16_t>(d, 14, 0);
  publish(tx_, desc);
  ++tx_.in_flight;
  ++counters_.tx_frames;
  counters_.tx_bytes += len;
  return true;
}

void VirtioNet::flush() {
  kick(tx_);
  kick(rx_);
}

}  // namespace edgeos::drivers
