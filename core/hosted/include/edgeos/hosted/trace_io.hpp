// Hosted trace handling: sinks that collect records, and the CSV and Perfetto writers.
//
// CSV:      time_ns,cpu,event,fwp,thread,job,value   (one record per line; -1 for "none")
// Perfetto: Perfetto's protobuf trace, or Chrome trace-event JSON, that ui.perfetto.dev opens
//           (chrome://tracing too, the JSON): one track per CPU, one slice per contiguous
//           execution of a job, instant markers for releases and deadline misses.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string_view>
#include <string>
#include <vector>

#include "edgeos/core/time.hpp"
#include "edgeos/core/trace.hpp"

namespace edgeos {

// Where a backend's records go.
class TraceSink {
 public:
  virtual ~TraceSink() = default;
  virtual void write(const TraceRecord& r) = 0;
};

// Keeps every record in memory.
class TraceBuffer final : public TraceSink {
 public:
  void write(const TraceRecord& r) override { records_.push_back(r); }
  const std::vector<TraceRecord>& records() const { return records_; }
  std::vector<TraceRecord>& records() { return records_; }

 private:
  std::vector<TraceRecord> records_;
};

// Counts records and drops them (benchmarks).
class CountingSink final : public TraceSink {
 public:
  void write(const TraceRecord&) override { ++count_; }
  uint64_t count() const { return count_; }

 private:
  uint64_t count_ = 0;
};

// Human names for the ids in a trace, indexed by thread and FWP index.
struct TraceNames {
  std::string run;                   // e.g. "demo (edf)"
  std::vector<std::string> threads;  // by thread index
  std::vector<std::string> fwps;     // by FWP index
  std::vector<std::string> cpus;     // by CPU index; "CPU n" when absent

  std::string thread(uint32_t index) const;
  std::string fwp(uint32_t index) const;
  std::string cpu(uint32_t index) const;
};

std::string trace_csv_header();
// Appends one CSV line (with '\n').
void append_csv_line(std::string& out, const TraceRecord& r);

class AtomicFile;

// Streams records to a CSV file; the file appears (atomically) on commit(), and not at all if the
// writer is destroyed first. Lines are formatted with std::to_chars straight into a 1 MiB buffer
// handed whole to the file: a trace is written at hundreds of MB/s (bench/trace_bench.cpp).
class CsvTraceWriter final : public TraceSink {
 public:
  explicit CsvTraceWriter(std::string path);
  ~CsvTraceWriter() override;
  void write(const TraceRecord& r) override;
  void commit();
  // The file's size so far (written and buffered).
  uint64_t bytes() const;

 private:
  std::unique_ptr<AtomicFile> file_;
  std::unique_ptr<char[]> buf_;
  size_t used_ = 0;  // bytes of buf_ not yet written
};

// A Perfetto trace being streamed to its file: Chrome trace-event JSON (PerfettoWriter) or
// Perfetto's native protobuf (PerfettoProtoWriter). Both show one track per CPU, a slice per
// contiguous execution of a job, instants for releases, deadline misses and the other events, and
// a track for records without a CPU (the FWP life cycle).
class PerfettoOutput : public TraceSink {
 public:
  ~PerfettoOutput() override;
  // Closes the slices still open at `end` and ends the trace.
  virtual void finish(Instant end) = 0;
  // finish(), then writes the file atomically (with an empty path: nothing).
  void commit(Instant end);
  // The file's size so far (written and buffered).
  uint64_t bytes() const;

 protected:
  explicit PerfettoOutput(std::string path);
  // What a record on a CPU does to that CPU's slice (both formats): a start or resume opens the
  // job's slice (closing one left open), a preemption, completion, block, exit or exhausted budget
  // closes it if it is that thread's.
  enum class SliceEffect : uint8_t { kOpens, kCloses, kNone };
  static SliceEffect slice_effect(TraceEvent e);
  // The instant a record on a CPU shows besides, or null: releases, deadline misses, exhausted
  // budgets and every event that neither opens nor closes a slice.
  static const char* instant_name(TraceEvent e);
  // Writes the buffer out once it holds 1 MiB (with a file).
  void flush_if_large();
  std::unique_ptr<AtomicFile> file_;
  std::string out_;
};

// Which Perfetto format a command writes: "json" (trace.perfetto.json) or "proto"
// (trace.perfetto-trace); the file's name in the output directory.
const char* perfetto_file_name(std::string_view format);
// A writer of that format to `path`.
std::unique_ptr<PerfettoOutput> make_perfetto_output(std::string_view format, std::string path, TraceNames names,
                                                     uint32_t num_cpus);
// Writes the records as a Perfetto trace of that format, atomically (a track for each CPU up to the
// highest in the records). `end` closes slices still open at the end.
void write_perfetto(std::string_view format, const std::string& path, const std::vector<TraceRecord>& records,
                    const TraceNames& names, Instant end);

// Streams records to Chrome/Perfetto JSON: one track per CPU (0..num_cpus-1) plus one for records
// without a CPU. With an empty path the JSON stays in memory (text(), after finish()).
class PerfettoWriter final : public PerfettoOutput {
 public:
  PerfettoWriter(std::string path, TraceNames names, uint32_t num_cpus);
  ~PerfettoWriter() override;
  void write(const TraceRecord& r) override;
  void finish(Instant end) override;
  const std::string& text() const { return out_; }

 private:
  struct Slice {
    int64_t start_ns;
    uint32_t fwp;
    uint32_t thread;
    uint64_t job;
  };
  void sep();
  std::string job_name(uint32_t fwp, uint32_t thread, uint64_t job) const;
  void close_slice(uint32_t cpu, const Slice& s, int64_t end_ns);
  void instant(uint32_t tid, const TraceRecord& r, std::string_view what, std::string_view scope);

  TraceNames names_;
  uint32_t global_tid_;
  bool global_named_ = false;
  bool first_ = true;
  std::map<uint32_t, Slice> open_;  // by CPU
};

// Streams records to Perfetto's native trace format (protobuf: a Trace of TracePackets carrying
// TrackDescriptors and TrackEvents, encoded here from the documented schema,
// perfetto/protos/perfetto/trace/trace_packet.proto and track_event/*.proto): what ui.perfetto.dev
// reads natively, several times smaller than the JSON. Tracks: the run (uuid 1), each CPU c
// (uuid 2 + c, a child of the run's), and the records without a CPU (uuid 2 + num_cpus). With an
// empty path the trace stays in memory (data(), after finish()).
class PerfettoProtoWriter final : public PerfettoOutput {
 public:
  PerfettoProtoWriter(std::string path, TraceNames names, uint32_t num_cpus);
  ~PerfettoProtoWriter() override;
  void write(const TraceRecord& r) override;
  void finish(Instant end) override;
  const std::string& data() const { return out_; }

 private:
  // An event's name in pieces: head, a space (if head is not empty), tail, then the number n (if
  // job). Empty: no name (a slice's end).
  struct Name {
    std::string_view head, tail;
    bool job = false;
    uint64_t n = 0;
  };
  void track(uint64_t uuid, std::string_view name, uint64_t parent);
  void event(int64_t ts, uint64_t track, int type, const Name& name);
  void packet(const std::string& body);
  std::string_view job_prefix(uint32_t fwp, uint32_t thread);

  TraceNames names_;
  uint32_t num_cpus_;
  bool global_named_ = false;
  bool first_ = true;
  std::string body_, inner_, fwp_name_;
  std::vector<std::pair<uint32_t, std::string>> prefixes_;  // by thread: FWP, "fwp/thread #"
  static constexpr int64_t kNoSlice = -1;
  std::vector<int64_t> open_;  // by CPU: the thread whose slice is open there, or kNoSlice
};

// Passes every record to each of its sinks.
class TeeSink final : public TraceSink {
 public:
  void add(TraceSink* sink) { sinks_.push_back(sink); }
  void write(const TraceRecord& r) override {
    for (TraceSink* s : sinks_) s->write(r);
  }

 private:
  std::vector<TraceSink*> sinks_;
};

// Writes the records as CSV, atomically. Throws InputError on I/O failure.
void write_trace_csv(const std::string& path, const std::vector<TraceRecord>& records);
// Reads a CSV written by write_trace_csv. Throws InputError naming file and line on bad input.
std::vector<TraceRecord> read_trace_csv(const std::string& path);

// Writes Chrome/Perfetto trace-event JSON, atomically. `end` closes slices still open at the end.
void write_perfetto_json(const std::string& path, const std::vector<TraceRecord>& records,
                         const TraceNames& names, Instant end);
// The same JSON as a string (tests).
std::string perfetto_json(const std::vector<TraceRecord>& records, const TraceNames& names, Instant end);

}  // namespace edgeos
