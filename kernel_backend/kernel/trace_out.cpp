#include "trace_out.hpp"

#include "../platform/pc/qemu.hpp"

extern "C" void* memcpy(void*, const void*, edgeos::size_t);

namespace edgeos::kernel {

namespace {
constexpr uint64_t kBufferBytes = 8u << 20;  // 200k records
alignas(64) uint8_t buffer[kBufferBytes];
uint64_t used = 0;
uint64_t count = 0;

void put64(uint8_t* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
void put32(uint8_t* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<uint8_t>(v >> (8 * i));
}
}  // namespace

void trace_begin(uint64_t tsc_hz) {
  uint8_t h[32] = {'E', 'D', 'G', 'E', 'O', 'S', 'T', 'R'};
  put32(h + 8, kTraceVersion);
  put32(h + 12, kTraceRecordSize);
  put64(h + 16, tsc_hz);
  pc::debugcon_write(h, sizeof h);
}

void trace_record(const TraceRecord& r) {
  if (used + kTraceRecordSize > kBufferBytes) trace_flush();
  uint8_t* p = buffer + used;
  put64(p, static_cast<uint64_t>(r.time_ns));
  p[8] = static_cast<uint8_t>(r.cpu);
  p[9] = static_cast<uint8_t>(r.cpu >> 8);
  p[10] = static_cast<uint8_t>(r.event);
  p[11] = 0;
  put32(p + 12, r.fwp);
  put32(p + 16, r.thread);
  put32(p + 20, 0);
  put64(p + 24, r.job);
  put64(p + 32, static_cast<uint64_t>(r.value));
  used += kTraceRecordSize;
  ++count;
}

void trace_flush() {
  if (used > 0) pc::debugcon_write(buffer, used);
  used = 0;
}

void trace_zero_times() {
  for (uint64_t off = 0; off < used; off += kTraceRecordSize) put64(buffer + off, 0);
}

uint64_t trace_records() { return count; }

}  // namespace edgeos::kernel
