// The kernel's binary trace: the common trace schema (core/include/edgeos/core/trace.hpp) as
// fixed 40-byte little-endian records after a 32-byte header, written to QEMU's debugcon port.
// `edgeos boot` reads it back into trace.csv, trace.perfetto.json and summary.json.
//
//   header:  "EDGEOSTR" | u32 version (1) | u32 record size (40) | u64 TSC Hz | u64 reserved
//   record:  i64 time_ns | u16 cpu | u8 event | u8 reserved | u32 fwp | u32 thread | u32 reserved
//            | u64 job | i64 value
//
// Records are buffered in kernel memory and written when the buffer fills and at the end of the
// run, so that writing does not disturb the schedule being traced (except when the buffer fills).
#pragma once

#include "edgeos/core/trace.hpp"

namespace edgeos::kernel {

inline constexpr uint32_t kTraceVersion = 1;
inline constexpr uint32_t kTraceRecordSize = 40;

void trace_begin(uint64_t tsc_hz);
void trace_record(const TraceRecord& r);
void trace_flush();
// Sets the time of every record buffered so far to 0: set-up (FWP creation) happens before the
// run's time zero, as in the simulator.
void trace_zero_times();
uint64_t trace_records();

// Bytes of records waiting in the buffer (written out when it fills, at the end, or in idle time
// when the run streams its trace).
uint64_t trace_buffered();

}  // namespace edgeos::kernel
