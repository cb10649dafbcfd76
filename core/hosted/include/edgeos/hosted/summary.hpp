// Per-tenant and per-thread statistics computed from a trace, identically for every backend:
// jobs released and completed, deadline misses, and response times (nearest-rank percentiles, in
// whole nanoseconds, so two backends with the same trace print the same numbers).
#pragma once

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "edgeos/core/time.hpp"
#include "edgeos/core/trace.hpp"
#include "edgeos/hosted/trace_io.hpp"

namespace edgeos {

struct ResponseStats {
  uint64_t count = 0;
  Duration min, p50, p99, max;
  Duration mean;  // rounded down
};

// Nearest-rank percentile (0 < p <= 100) of sorted values: the smallest value such that at
// least p% of the values are <= it.
Duration percentile(const std::vector<Duration>& sorted, int p);
ResponseStats response_stats(std::vector<Duration> values);

struct JobStats {
  std::string name;
  uint32_t index = kNoIndex;  // thread or FWP index
  uint64_t released = 0;
  uint64_t completed = 0;
  uint64_t misses = 0;
  Duration cpu_time;  // execution time seen in the trace (sum of its slices)
  ResponseStats response;
  // Datagrams the tenant's FWP received and sent (pkt_rx / pkt_tx, kernel backend; the simulators
  // do not model packets yet): counted where the record's FWP is the tenant's.
  uint64_t packets_in = 0, packets_out = 0, bytes_in = 0, bytes_out = 0;
  // Frames and datagrams dropped (pkt_drop), in all and by cause (the record's value). A drop is
  // counted where the record's FWP is: the tenant whose ring was full, or the driver FWP for what
  // was dropped before a tenant was known.
  uint64_t packets_dropped = 0;
  std::map<int64_t, uint64_t> drops;
};

struct CpuStats {
  uint32_t cpu = 0;
  Duration busy;
  double utilisation = 0;  // busy / (end - start)
};

struct Summary {
  std::string run;
  Instant start, end;
  std::vector<JobStats> tenants;  // one per FWP, in FWP index order
  std::vector<JobStats> threads;  // one per thread, in thread index order
  std::vector<JobStats> groups;   // FWPs grouped (e.g. the instances of a scenario tenant), if asked
  std::vector<CpuStats> cpus;
  JobStats total;
  // Names a pkt_drop cause for summary.json and the table ("ring_full"); the backend that emits
  // drops sets it (the kernel's: edgeos::net::drop_cause_name). Unset: "cause_N".
  const char* (*drop_cause_name)(int64_t cause) = nullptr;
};

// Builds a summary record by record, so a run of any length can be summarised as it goes (it keeps
// one response time per completed job, for the percentiles).
class SummaryBuilder final : public TraceSink {
 public:
  void write(const TraceRecord& r) override;
  // Also summarise FWPs by group: group_of_fwp[fwp index] indexes group_names (kNoIndex: none).
  void set_groups(std::vector<uint32_t> group_of_fwp, std::vector<std::string> group_names) {
    group_of_fwp_ = std::move(group_of_fwp);
    group_names_ = std::move(group_names);
  }
  // The summary of every record written so far; resets the builder.
  Summary finish(const TraceNames& names, Instant start, Instant end);

  struct Acc {
    JobStats stats;
    std::vector<Duration> responses;
  };

 private:
  void close(uint32_t cpu, int64_t at);
  struct Open {
    int64_t since;
    uint32_t thread;
    uint32_t fwp;
  };
  std::map<uint32_t, Acc> tenants_, threads_;
  Acc total_;
  std::map<uint32_t, Duration> busy_;
  std::map<uint32_t, Open> running_;  // by CPU
  std::vector<uint32_t> group_of_fwp_;
  std::vector<std::string> group_names_;
};

Summary summarize(const std::vector<TraceRecord>& records, const TraceNames& names, Instant start, Instant end);

// A plain-text table: tenant (the groups, if any, else every FWP), jobs, misses, response
// p50/p99/max; then the CPUs.
std::string format_summary_table(const Summary& s);
// summary.json contents.
std::string summary_json(const Summary& s);

// "1.25ms", "830us", "12.3s": three significant decimals at most, for tables.
std::string format_duration_short(Duration d);

}  // namespace edgeos
