// Schedules as tests compare them: the contiguous execution slices of jobs on each CPU, and the
// deadline misses, extracted from a trace in the common schema (so any backend's trace works).
#pragma once

#include <cstdint>
#include <ostream>
#include <string>
#include <vector>

#include "edgeos/core/trace.hpp"
#include "edgeos/hosted/trace_io.hpp"

namespace edgeos::testing {

struct Slice {
  std::string task;
  uint64_t job = 0;
  uint32_t cpu = 0;
  int64_t start = 0;  // in the schedule's time unit
  int64_t end = 0;
  std::string how;  // what ended it: complete, preempt, block, thread_exit, or "end" (horizon)

  bool operator==(const Slice&) const = default;
};

struct Miss {
  std::string task;
  uint64_t job = 0;
  int64_t at = 0;

  bool operator==(const Miss&) const = default;
};

// A completed job's response time (completion - release).
struct Response {
  std::string task;
  uint64_t job = 0;
  int64_t value = 0;

  bool operator==(const Response&) const = default;
};

std::ostream& operator<<(std::ostream& os, const Slice& s);
std::ostream& operator<<(std::ostream& os, const Response& r);
std::ostream& operator<<(std::ostream& os, const Miss& m);

// Slices in trace order (sorted by start, then CPU), times divided by `unit_ns`. Zero-length
// slices are kept: they are real dispatches.
std::vector<Slice> slices_of(const std::vector<TraceRecord>& records, const TraceNames& names, int64_t unit_ns,
                             int64_t horizon_ns);
std::vector<Miss> misses_of(const std::vector<TraceRecord>& records, const TraceNames& names, int64_t unit_ns);
std::vector<Response> responses_of(const std::vector<TraceRecord>& records, const TraceNames& names, int64_t unit_ns);

}  // namespace edgeos::testing
