#include "trace_out.hpp"

#include "../platform/pc/qemu.hpp"
#include "edgeos/core/trace_wire.hpp"

namespace edgeos::kernel {

namespace {
constexpr uint64_t kBufferBytes = 8u << 20;  // 200k records
alignas(64) uint8_t buffer[kBufferBytes];
uint64_t used = 0;
uint64_t count = 0;
}  // namespace

void trace_begin(uint64_t tsc_hz) {
  uint8_t h[trace_wire::kHeaderSize];
  trace_wire::encode_header(tsc_hz, h);
  pc::debugcon_write(h, sizeof h);
}

void trace_record(const TraceRecord& r) {
  if (used + kTraceRecordSize > kBufferBytes) trace_flush();
  trace_wire::encode(r, buffer + used);
  used += kTraceRecordSize;
  ++count;
}

void trace_flush() {
  if (used > 0) pc::debugcon_write(buffer, used);
  used = 0;
}

void trace_zero_times() {
  for (uint64_t off = 0; off < used; off += kTraceRecordSize) {
    for (int i = 0; i < 8; ++i) buffer[off + i] = 0;  // time_ns, the record's first field
  }
}

uint64_t trace_records() { return count; }
uint64_t trace_buffered() { return used; }

}  // namespace edgeos::kernel
