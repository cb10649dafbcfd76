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

// The record as five little-endian words, stored whole: this runs at every kernel event (the
// format is little-endian, as x86-64 is; a byte at a time cost a call + reply 450 instructions).
void trace_record(const TraceRecord& r) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "the trace format is little-endian");
  if (used + kTraceRecordSize > kBufferBytes) trace_flush();
  const uint64_t words[5] = {
      static_cast<uint64_t>(r.time_ns),
      uint64_t{r.cpu} | uint64_t{static_cast<uint8_t>(r.event)} << 16 | uint64_t{r.fwp} << 32,
      uint64_t{r.thread},  // then 4 reserved bytes, 0
      r.job,
      static_cast<uint64_t>(r.value),
  };
  __builtin_memcpy(buffer + used, words, sizeof words);
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
uint64_t trace_buffered() { return used; }

}  // namespace edgeos::kernel
