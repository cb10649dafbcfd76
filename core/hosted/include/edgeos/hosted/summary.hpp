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
  // Entries by index (thread, FWP, CPU) in index order, as a std::map would keep them, but looked
  // up in a vector for the indices below kDense (every run's: they count objects); a map holds any
  // beyond (an odd trace), so memory stays bounded by the trace's size.
  template <typename T>
  class ByIndex {
   public:
    static constexpr uint32_t kDense = 1u << 16;
    T& operator[](uint32_t i) {
      if (i < dense_.size() && present_[i] != 0) [[likely]] return dense_[i];
      return add(i);
    }
    T* find(uint32_t i) {
      if (i < dense_.size()) return present_[i] != 0 ? &dense_[i] : nullptr;
      if (i < kDense) return nullptr;
      auto it = sparse_.find(i);
      return it == sparse_.end() ? nullptr : &it->second;
    }
    void erase(uint32_t i) {
      if (i < dense_.size()) {
        present_[i] = 0;
        dense_[i] = T{};
      } else if (i >= kDense) {
        sparse_.erase(i);
      }
    }
    template <typename F>
    void for_each(F&& f) {  // f(index, entry) in index order
      for (uint32_t i = 0; i < dense_.size(); ++i) {
        if (present_[i]) f(i, dense_[i]);
      }
      for (auto& [i, v] : sparse_) f(i, v);
    }

   private:
    [[gnu::noinline]] T& add(uint32_t i) {  // out of line: operator[] stays a compare and a load
      if (i >= kDense) return sparse_[i];
      if (i >= dense_.size()) {
        dense_.resize(i + 1);
        present_.resize(i + 1, 0);
      }
      present_[i] = 1;
      return dense_[i];
    }
    std::vector<T> dense_;
    std::vector<uint8_t> present_;
    std::map<uint32_t, T> sparse_;
  };
  ByIndex<Acc> tenants_, threads_;
  Acc total_;
  ByIndex<Duration> busy_;
  ByIndex<Open> running_;  // by CPU
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
