// What `edgeos sim` and `edgeos-simgrid` share: the options of `edgeos sim`, the outputs of a run
// (trace files and summary.json, renamed into place together) and run_simgrid().
#pragma once

#include <fmt/format.h>

#include <filesystem>
#include <memory>
#include <string>
#include <system_error>
#include <vector>

#include "cli.hpp"
#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/hosted/summary.hpp"
#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/simulator/scenario_run.hpp"
#include "edgeos/workloads/scenario.hpp"

namespace edgeos::cli {

extern const char* const kDefaultScenario;  // examples/edge-server.toml, embedded at build time

// The scenario file, or the built-in one when `file` is empty.
scenario::Scenario load(const std::string& file);

struct SimOptions {
  std::string file;
  std::string backend = "core";
  std::string platform;
  std::string seed;
  std::string duration;
  std::string out = "out/sim";
  std::string trace = "both";
  std::string perfetto_format = "proto";
  std::string overheads;
  std::string max_trace_size = "1G";
  bool quiet = false;
  bool check_invariants = false;
};

sim::ScenarioOptions scenario_options(const SimOptions& o);
// "== name | servers | duration simulated, seed N<backend> =="
void print_header(const scenario::Scenario& s, Instant end, uint64_t seed, const char* backend);

// The output directory: the directories a run had to create for it are removed again (if still
// empty) unless the run commits its outputs.
class OutputDir {
 public:
  explicit OutputDir(const std::string& dir) {
    namespace fs = std::filesystem;
    std::error_code ec;
    for (fs::path p = fs::path(dir).lexically_normal(); !p.empty() && p != p.root_path(); p = p.parent_path()) {
      if (p.filename().empty() || p.filename() == "." || p.filename() == "..") break;
      if (fs::exists(p, ec) || ec) break;
      created_.push_back(p);  // deepest first
    }
  }
  ~OutputDir() {
    if (kept_) return;
    std::error_code ec;
    for (const std::filesystem::path& p : created_) std::filesystem::remove(p, ec);  // only if empty
  }
  OutputDir(const OutputDir&) = delete;
  OutputDir& operator=(const OutputDir&) = delete;
  void keep() { kept_ = true; }

 private:
  std::vector<std::filesystem::path> created_;
  bool kept_ = false;
};

// Passes records to the trace writers while their files stay within --max-trace-size; at the
// record that takes them over it, asks the run to stop and drops the rest.
class TraceBound final : public TraceSink {
 public:
  TraceBound(uint64_t limit, StopOnSignal& stop) : limit_(limit), stop_(stop) {}
  void write(const TraceRecord& r) override {
    if (reached_) return;
    if (csv != nullptr) csv->write(r);
    if (perfetto != nullptr) perfetto->write(r);
    if ((csv != nullptr ? csv->bytes() : 0) + (perfetto != nullptr ? perfetto->bytes() : 0) > limit_) {
      reached_ = true;
      at_ = Instant::epoch() + Duration::nanoseconds(r.time_ns);
      stop_.request_stop();
    }
  }
  bool reached() const { return reached_; }
  Instant at() const { return at_; }

  CsvTraceWriter* csv = nullptr;
  PerfettoOutput* perfetto = nullptr;

 private:
  uint64_t limit_;
  StopOnSignal& stop_;
  bool reached_ = false;
  Instant at_;
};

// Where a run's records go. They stream to the summary and to the trace files as the run goes:
// memory stays bounded (but for one response time per job) however long the run. The Perfetto
// writer needs the run's names, so it joins once the scenario is instantiated. Until commit(),
// every file is a temporary one, removed if the run fails, stops or is interrupted: the files of
// an earlier run in the same directory then stay as they were.
struct Outputs {
  const SimOptions& o;
  OutputDir dir;
  TeeSink tee;
  SummaryBuilder summary;
  TraceBound bound;
  std::unique_ptr<CsvTraceWriter> csv;
  std::unique_ptr<PerfettoOutput> perfetto;

  Outputs(const SimOptions& opts, uint64_t max_trace_bytes, StopOnSignal& stop)
      : o(opts), dir(opts.out), bound(max_trace_bytes, stop) {
    tee.add(&summary);
    tee.add(&bound);
    if (o.trace == "csv" || o.trace == "both") {
      csv = std::make_unique<CsvTraceWriter>(o.out + "/trace.csv");
      bound.csv = csv.get();
    }
  }
  void instantiated(const sim::ScenarioRun& run) {
    sim::group_by_tenant(run, summary);
    if (o.trace == "perfetto" || o.trace == "both") {
      perfetto = make_perfetto_output(o.perfetto_format, o.out + "/" + perfetto_file_name(o.perfetto_format), run.names(),
                                      run.num_cpus());
      bound.perfetto = perfetto.get();
    }
  }
  // A run stopped by --max-trace-size is an error: nothing is written.
  void check_bound(Instant end) const {
    if (!bound.reached()) return;
    throw InputError(fmt::format("--max-trace-size {}: the trace files reached the limit at {} of {} simulated; the run "
                                 "stopped and wrote nothing (raise the limit, shorten --duration, or write fewer traces "
                                 "with --trace csv or none)",
                                 o.max_trace_size, format_duration_short(bound.at() - Instant::epoch()),
                                 format_duration_short(end - Instant::epoch())));
  }
  // The trace files and summary.json, renamed into place together: a signal meanwhile waits.
  void commit(Instant end, const std::string& summary_json) {
    {
      const SignalsHeld held;
      if (csv) csv->commit();
      if (perfetto) perfetto->commit(end);
      write_file_atomically(o.out + "/summary.json", summary_json);
    }
    dir.keep();
  }
  std::string files() const {
    return fmt::format("summary.json{}{}", csv ? ", trace.csv" : "",
                       perfetto ? fmt::format(", {}", perfetto_file_name(o.perfetto_format)) : "");
  }
};

// The SimGrid backend. In `edgeos-simgrid` (simgrid_cmd.cpp), the run itself. In `edgeos`
// (simgrid_exec.cpp), which does not link SimGrid so that every other command starts in a few
// milliseconds: replaces the process by `edgeos-simgrid` beside it with the same command line, so
// the process id, signals, outputs and exit code are the run's own.
int run_simgrid(const SimOptions& o);

}  // namespace edgeos::cli
