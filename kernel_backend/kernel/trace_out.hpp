// The kernel's binary trace: the common trace schema (core/include/edgeos/core/trace.hpp) in the
// wire format of core/include/edgeos/core/trace_wire.hpp (its one definition), written to QEMU's
// debugcon port. `edgeos boot` reads it back into trace.csv, trace.perfetto.json and summary.json.
//
// Records are buffered in kernel memory and written when the buffer fills and at the end of the
// run, so that writing does not disturb the schedule being traced (except when the buffer fills).
#pragma once

#include "edgeos/core/trace.hpp"
#include "edgeos/core/trace_wire.hpp"

namespace edgeos::kernel {

inline constexpr uint32_t kTraceRecordSize = trace_wire::kRecordSize;

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
