// Task-set generators for schedulability experiments, seeded and reproducible.
//
//   uunifast          Bini & Buttazzo, "Measuring the performance of schedulability tests"
//                     (Real-Time Systems 2005): n utilisations uniform on the simplex sum = U.
//   uunifast_discard  Davis & Burns, "Priority assignment for global fixed priority pre-emptive
//                     scheduling in multiprocessor real-time systems" (RTSS 2009): UUniFast for
//                     U > 1, discarding vectors with an element above the cap.
//   randfixedsum      Stafford, "Random vectors with fixed sum" (2006), as used by Emberson,
//                     Stafford & Davis, "Techniques for the synthesis of multiprocessor tasksets"
//                     (WATERS 2010): uniform on {x in [lo, hi]^n : sum x = U}.
//   periods           log-uniform between bounds, rounded to a granularity (Emberson et al.), or
//                     drawn from a harmonic set base * 2^k.
//
// Every random draw comes from one Rng stream, so a seed fixes the task set.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "edgeos/analysis/analysis.hpp"
#include "edgeos/core/rng.hpp"
#include "edgeos/core/time.hpp"
#include "edgeos/workloads/task_set.hpp"

namespace edgeos::gen {

// A uniform double in [0, 1) with 53 random bits.
double uniform01(Rng& rng);

std::vector<double> uunifast(Rng& rng, size_t n, double total);
std::vector<double> uunifast_discard(Rng& rng, size_t n, double total, double cap = 1.0);
std::vector<double> randfixedsum(Rng& rng, size_t n, double total, double lo = 0.0, double hi = 1.0);

std::vector<Duration> periods_log_uniform(Rng& rng, size_t n, Duration min, Duration max, Duration granularity);
std::vector<Duration> periods_harmonic(Rng& rng, size_t n, Duration base, int max_exponent);

enum class Utilisations : uint8_t { kUUniFast, kUUniFastDiscard, kRandFixedSum };
enum class Deadlines : uint8_t { kImplicit, kConstrained };
enum class Periods : uint8_t { kLogUniform, kHarmonic };

Utilisations parse_utilisations(std::string_view text, std::string_view what);
Deadlines parse_deadlines(std::string_view text, std::string_view what);

struct TaskSetParams {
  size_t tasks = 10;
  double utilisation = 0.5;  // total
  Utilisations utilisations = Utilisations::kUUniFast;
  Periods periods = Periods::kLogUniform;
  Duration period_min = Duration::milliseconds(10);
  Duration period_max = Duration::milliseconds(1000);
  Duration granularity = Duration::milliseconds(1);  // periods are multiples of it
  int harmonic_exponents = 6;                        // harmonic: period_min * 2^k, k in [0, this]
  Deadlines deadlines = Deadlines::kImplicit;
};

// Throws InputError if the parameters are impossible (no tasks, utilisation outside
// (0, tasks], empty period range...).
void validate(const TaskSetParams& p);

// A task set: C = u_i * T rounded to a whole nanosecond (at least 1ns); constrained deadlines
// are uniform in [C, T] (Davis & Burns). Priorities are deadline monotonic.
std::vector<analysis::Task> generate(Rng& rng, const TaskSetParams& p);

// The same tasks as a TaskSet on one CPU (or per `cpu` when given), for simulation.
TaskSet to_task_set(const std::vector<analysis::Task>& tasks, const std::vector<uint32_t>& cpu, uint32_t cpus,
                    std::string name);

// The reverse: a TaskSet's timing parameters for analysis (priorities kept).
std::vector<analysis::Task> to_analysis(const TaskSet& set);

}  // namespace edgeos::gen
