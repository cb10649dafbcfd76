// Shared helpers of the benchmark binary: results are collected by name so that main() can print
// ratios between runs of the same process (e.g. 100k vs 1k ready threads).
#pragma once

#include <map>
#include <string>

#include "edgeos/core/platform.hpp"

namespace edgeos::bench {

// A platform whose clock the benchmark sets; every other call is free, so what is measured is the
// kernel alone.
struct ClockPlatform {
  Instant clock;
  Instant now() const { return clock; }
  void arm_timer(CpuId, Instant) {}
  void switch_to(CpuId, Thread*) {}
  void charge_overhead(CpuId, Overhead) {}
  void trace(const TraceRecord&) {}
  Status fwp_instantiate(Fwp&, const FwpTemplate&) { return Status::ok(); }
  Status fwp_reset(Fwp&, const FwpTemplate&) { return Status::ok(); }
  void fwp_release(Fwp&) {}
};

// name of a benchmark run (as Google Benchmark prints it) -> nanoseconds per iteration (CPU time).
std::map<std::string, double>& results();
// name -> a rate counter value (items per second), for throughput benchmarks.
std::map<std::string, double>& rates();
// name -> trace records per second.
std::map<std::string, double>& record_rates();
// name -> bytes per second.
std::map<std::string, double>& byte_rates();

}  // namespace edgeos::bench
