// Schedulability analysis (hosted): the tests researchers pair with every scheduling experiment.
//
// All arithmetic on time is exact integer nanoseconds (utilisation sums are exact rationals), so a
// verdict never depends on rounding. Each test cites the paper it follows and says when it does not
// apply rather than returning a verdict it cannot justify.
//
//   Fixed priority   response_time_analysis   Joseph & Pandya (1986); Audsley, Burns, Richardson,
//                                             Tindell & Wellings (1993): release jitter, blocking
//                    liu_layland_bound        Liu & Layland (1973)
//                    hyperbolic_bound         Bini, Buttazzo & Buttazzo (2003)
//                    priority assignment      rate/deadline monotonic; Audsley's optimal (2001)
//   EDF              edf_utilisation          Liu & Layland (1973), implicit deadlines
//                    edf_demand (QPA)         Baruah, Rosier & Howell (1990); Zhang & Burns (2009)
//   Reservations     supply_bound             Shin & Lee (2003), periodic resource model
//                    fp/edf_in_reservation    Shin & Lee (2003)
//   Overheads        inflate_overheads        Brandenburg (2011), overhead accounting
//   Multicore        partition                first/best/worst-fit decreasing bin packing
//   Global multicore gedf_density (GFB)       Goossens, Funk & Baruah (2003)
//                    gedf_baker               Baker (2003)
//                    gedf_bcl, gfp_bcl        Bertogna, Cirinei & Lipari (2005; TPDS 2009)
//                    gfp_rta                  Bertogna & Cirinei (RTSS 2007)
#pragma once

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "edgeos/core/time.hpp"

namespace edgeos::analysis {

// A sporadic task: jobs at least `period` apart, each running at most `wcet`, due `deadline` after
// its release; released up to `jitter` late; blocked at most `blocking` by lower-priority tasks.
struct Task {
  Duration wcet;
  Duration period;
  Duration deadline;
  Duration jitter = Duration::zero();
  Duration blocking = Duration::zero();
  int priority = 0;  // fixed priority: larger runs first; equal priorities: earlier task first
};

enum class Verdict : uint8_t {
  kSchedulable,    // the test proves every deadline is met
  kUnschedulable,  // an exact test proves some deadline can be missed
  kInconclusive,   // a sufficient test does not hold: the set may or may not be schedulable
  kNotApplicable,  // the test does not cover this kind of task set (the detail says why)
};
const char* verdict_name(Verdict v);  // "schedulable", "unschedulable", "inconclusive", "not applicable"

struct Result {
  Verdict verdict = Verdict::kNotApplicable;
  std::string test;    // "rta", "ll-bound", ...
  std::string detail;  // why: the first failing task, or why the test does not apply
  // Response-time analysis: worst-case response time of each task (input order), or
  // Duration::infinite() where it exceeds the deadline.
  std::vector<Duration> response_times;

  bool schedulable() const { return verdict == Verdict::kSchedulable; }
};

// Throws InputError naming the task (index) and field: C, T, D must be > 0; J, B >= 0.
void validate(const std::vector<Task>& tasks);

// Total utilisation sum C/T compared with a rational bound num/den, exactly.
int compare_utilisation(const std::vector<Task>& tasks, int64_t num, int64_t den);
double utilisation(const std::vector<Task>& tasks);

// --- fixed priority -----------------------------------------------------------------------------

Result response_time_analysis(const std::vector<Task>& tasks);
Result liu_layland_bound(const std::vector<Task>& tasks);  // needs implicit deadlines
Result hyperbolic_bound(const std::vector<Task>& tasks);   // needs implicit deadlines

// Priorities (larger = higher) by shorter period / shorter deadline; ties by task order.
std::vector<int> rate_monotonic(const std::vector<Task>& tasks);
std::vector<int> deadline_monotonic(const std::vector<Task>& tasks);
// Audsley's optimal priority assignment with response-time analysis as the test: priorities
// if any assignment is schedulable, std::nullopt otherwise.
std::optional<std::vector<int>> audsley_assignment(const std::vector<Task>& tasks);
// `tasks` with the given priorities.
std::vector<Task> with_priorities(std::vector<Task> tasks, const std::vector<int>& priorities);

// --- EDF ---------------------------------------------------------------------------------------

Result edf_utilisation(const std::vector<Task>& tasks);  // needs implicit deadlines
Result edf_demand(const std::vector<Task>& tasks);       // QPA; any deadlines, no jitter
// The demand-bound function: work of jobs released and due within any window of length t.
Duration demand_bound(const std::vector<Task>& tasks, Duration t);
// Length of the synchronous busy period, or nullopt if it exceeds `cap` (e.g. U = 1 with a huge
// hyperperiod).
std::optional<Duration> busy_period(const std::vector<Task>& tasks, Duration cap);
// The interval the processor-demand test must check (Zhang & Burns 2009): every absolute deadline
// up to L = min(L_a, L_b). L_b is the synchronous busy period; with U < 1,
// L_a = max(max_i (D_i - T_i), ceil(sum_i max(0, T_i - D_i) C_i / T_i / (1 - U))), computed exactly.
// For implicit deadlines L_a = 0: U <= 1 alone decides.
struct DemandHorizon {
  std::optional<Duration> busy_period;  // L_b; nullopt past 2^62 ns
  std::optional<Duration> la;           // L_a; nullopt when U >= 1 or past 2^62 ns
  Duration l = Duration::infinite();    // the smaller of those present; infinite if neither is
};
DemandHorizon demand_horizon(const std::vector<Task>& tasks);

// --- reservations (hierarchical scheduling) ------------------------------------------------------

// A periodic resource: at least `budget` of CPU time in every period of length `period`
// (Shin & Lee's Gamma(Pi, Theta)); what a sporadic, polling or deferrable server or a CBS with
// that budget and period guarantees its tenant.
struct Supply {
  Duration period;
  Duration budget;
};

// The least supply in any window of length t.
Duration supply_bound(const Supply& s, Duration t);
Result fp_in_reservation(const std::vector<Task>& tasks, const Supply& s);
Result edf_in_reservation(const std::vector<Task>& tasks, const Supply& s);

// --- overheads -----------------------------------------------------------------------------------

// Per-event kernel overheads, as the kernel pays them (core/platform.hpp Overhead).
struct Overheads {
  Duration release;
  Duration schedule;
  Duration context_switch;
  Duration timer;
};

// Overhead-aware analysis in the style of Brandenburg, "Scheduling and Locking in Multiprocessor
// Real-Time Operating Systems" (PhD thesis, UNC 2011, ch. 3), matched to what the edgeos kernel
// does: every job is charged the decision at its completion and two context switches (being
// dispatched, and leaving for the next job: preemptions are charged to the preempting job), and
// every job release is a timer interrupt (timer + release + one scheduling decision) that
// interferes with whatever runs at that moment, of any priority. inflate_overheads applies the
// per-job part; the *_with_overheads tests add the interrupt interference.
std::vector<Task> inflate_overheads(std::vector<Task> tasks, const Overheads& o);
// Response-time analysis with release interrupts as highest-priority interference.
Result fp_with_overheads(const std::vector<Task>& tasks, const Overheads& o);
// The processor-demand test with release interrupts: dbf(t) + sum ceil(t / T_j) * e_irq <= t for
// every absolute deadline t up to a bound past which the linear envelopes guarantee it.
Result edf_with_overheads(const std::vector<Task>& tasks, const Overheads& o);

// --- partitioned multicore ------------------------------------------------------------------------

enum class Fit : uint8_t { kFirst, kBest, kWorst };
const char* fit_name(Fit f);

// An admission test for one CPU.
using Admission = std::function<bool(const std::vector<Task>&)>;
// EDF by the processor-demand test; FP by deadline-monotonic priorities and response-time analysis.
Admission edf_admission();
Admission fp_dm_admission();

struct Partition {
  bool ok = false;
  std::vector<uint32_t> cpu;  // per task (input order); meaningful when ok
  std::string detail;         // the first task that did not fit
};

// Tasks by decreasing utilisation, each to the first / fullest / emptiest CPU that admits it.
Partition partition(const std::vector<Task>& tasks, uint32_t cpus, Fit fit, const Admission& admit);

// --- global multicore ----------------------------------------------------------------------------

// Sufficient tests for global scheduling on m identical CPUs sharing one ready queue (a scheduling
// domain: `scheduling = "global"` or a cluster of `domains` in a scenario). Sporadic tasks with
// constrained deadlines (D <= T), without jitter or blocking (kNotApplicable otherwise). Each
// returns kSchedulable or kInconclusive; kUnschedulable only for a task with C > D.
Result gedf_density(const std::vector<Task>& tasks, uint32_t m);  // G-EDF: GFB density bound
Result gedf_baker(const std::vector<Task>& tasks, uint32_t m);    // G-EDF: Baker's test
Result gedf_bcl(const std::vector<Task>& tasks, uint32_t m);      // G-EDF: BCL interference test
// Global fixed priority, priorities as given (larger first; equal priorities interfere both ways).
Result gfp_bcl(const std::vector<Task>& tasks, uint32_t m);  // BCL interference test
Result gfp_rta(const std::vector<Task>& tasks, uint32_t m);  // Bertogna-Cirinei response times;
                                                             // response_times per task (input order)

}  // namespace edgeos::analysis
