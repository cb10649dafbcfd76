// Validation: the same scenario simulated and booted, compared job by job (`edgeos validate`).
//
// What the design calls "validated": the kernel completes the same jobs in the same order on
// every CPU and misses the same deadlines as the core-only simulator; what is left are per-job
// response-time differences, the kernel's real overheads. Those are fitted, per kind of kernel
// work, to the overhead model the simulator charges (OverheadModel), so that an overhead-aware
// simulation can stand for the machine, as LITMUS^RT's measured overheads stand for Linux in
// schedulability analysis (Brandenburg, PhD thesis, UNC 2011, ch. 3 and 4).
#pragma once

#include <cstdint>
#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "edgeos/core/trace.hpp"
#include "edgeos/hosted/trace_io.hpp"
#include "edgeos/simulator/core_sim.hpp"

namespace edgeos::sim {

// A job: (thread index, job index) as the trace names them.
using JobKey = std::pair<uint32_t, uint64_t>;

struct JobLife {
  uint16_t cpu = 0;              // where it completed (or was released)
  Instant release = Instant::never();
  Instant completion = Instant::never();  // never: not completed within the run
  Duration response;                      // completion - release, as the trace gives it
  bool missed = false;
};

// The jobs of a run, from its trace.
struct RunJobs {
  std::map<JobKey, JobLife> jobs;
  std::map<uint16_t, std::vector<JobKey>> order;  // completions, per CPU, in trace order
};
RunJobs jobs_of(const std::vector<TraceRecord>& records);

struct ResponseStats {
  size_t jobs = 0;  // completed in both runs
  double mean_ns = 0, mean_abs_ns = 0;
  int64_t min_ns = 0, p50_ns = 0, p99_ns = 0, max_ns = 0;
};
ResponseStats response_stats(std::vector<int64_t> differences);

// Where the kernel (`got`) and the simulator (`want`) differ.
struct Comparison {
  bool same_order = true;
  size_t completions = 0;  // in the simulator's run
  // The first place the completion orders part, when they do.
  uint16_t diverge_cpu = 0;
  size_t diverge_index = 0;
  std::string diverge_want, diverge_got;  // "thread#job" (or "end")
  std::vector<JobKey> missed_only_by_got, missed_only_by_want;
  std::vector<JobKey> completed_only_by_got, completed_only_by_want;
  // Per job completed in both: got's response time minus want's, in nanoseconds.
  std::vector<std::pair<JobKey, int64_t>> response_differences;

  bool same_misses() const { return missed_only_by_got.empty() && missed_only_by_want.empty(); }
  bool identical() const { return same_order && same_misses(); }
};
// Jobs of the threads in `ignore` (by thread index) are left out: on the kernel a thread may run
// a program other than its task (a hostile one, for isolation tests), which the simulator does not.
Comparison compare_runs(const std::vector<TraceRecord>& got, const std::vector<TraceRecord>& want,
                        const std::set<uint32_t>& ignore = {});

// Kernel overheads fitted to the response-time differences. Every job completed in both runs is
// one equation: its difference = the sum, over the kernel work the simulation shows on its CPU
// between its release and its completion, of that work's cost. (A job that migrates has several
// CPUs: each stretch between two instants of its life, release, dispatch, preemption, migration,
// completion, counts the work on the CPU of the later instant. Delays that reach a waiting job
// through another CPU are only approximated so: under global scheduling the fit is rougher.) The kinds are those the
// simulator charges: kernel entries (Overhead::kSchedule: every entry ends with one scheduling
// decision; entries are the instants at which a CPU has trace records other than a call's or a
// reply's, which take the invocation fast path and no decision), releases (kRelease),
// dispatches of another thread than the last one (kContextSwitch), synchronous calls and replies
// (kInvocation), and migrations to the CPU (kMigration: global and clustered scheduling; a
// migration is also a dispatch, and is told apart from one by the dispatches that are not
// migrations). Timer entries are
// entries too (kTimer stays 0: the two cannot be told apart in a trace). Solved by least squares
// with the costs kept non-negative (a kind whose cost comes out negative is dropped and the rest
// solved again), with Eigen's column-pivoting QR. Kinds that nearly always come together (an
// entry that releases a job and dispatches it) are not told apart: the fit gets their sum right,
// and with it the delays it predicts, but may give it to one of them.
struct OverheadFit {
  OverheadModel model;
  size_t equations = 0;
  bool solved = false;  // false: no job, or nothing to fit
};
OverheadFit fit_overheads(const std::vector<TraceRecord>& simulated, const Comparison& c);

// "1.2us,0ns,..." as `edgeos sim --overheads` and this report print them:
// RELEASE,SCHEDULE,SWITCH,TIMER,INVOCATION,MIGRATION.
std::string format_overheads(const OverheadModel& m);

// "thread#job", with the run's names.
std::string job_name(const JobKey& k, const TraceNames& names);

// Job plans, each job's drawn segments in ns (own work, callee work, own work, ...; the workload
// driver's, workloads/job_driver.hpp), by (canonical thread instance, job).
using PlanKey = std::pair<uint32_t, uint64_t>;
using Plans = std::map<PlanKey, std::vector<int64_t>>;
// The plans a kernel booted with "plans" printed: its console's "plan: THREAD JOB S..." lines.
// Throws InputError for a malformed one.
Plans kernel_plans(const std::string& serial);

struct PlanComparison {
  size_t compared = 0;             // jobs planned by both
  size_t only_got = 0, only_want = 0;  // planned by one only (the runs end at different jobs)
  size_t differing = 0;
  PlanKey first_difference{};      // when differing > 0
  std::vector<int64_t> first_got, first_want;
  bool identical() const { return differing == 0; }
};
PlanComparison compare_plans(const Plans& got, const Plans& want);

}  // namespace edgeos::sim
