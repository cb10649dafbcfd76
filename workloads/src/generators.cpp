#include "edgeos/workloads/generators.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"

namespace edgeos::gen {

double uniform01(Rng& rng) { return static_cast<double>(rng.next() >> 11) * 0x1.0p-53; }

std::vector<double> uunifast(Rng& rng, size_t n, double total) {
  if (n == 0) throw InputError("uunifast: need at least one task");
  std::vector<double> u(n);
  double remaining = total;
  for (size_t i = 0; i + 1 < n; ++i) {
    // The sum of the remaining n - i - 1 values is remaining * X^(1 / (n - i - 1)), X uniform: the
    // distribution of the largest-index partial sums of a uniform point on the simplex.
    const double next = remaining * std::pow(uniform01(rng), 1.0 / static_cast<double>(n - i - 1));
    u[i] = remaining - next;
    remaining = next;
  }
  u[n - 1] = remaining;
  return u;
}

std::vector<double> uunifast_discard(Rng& rng, size_t n, double total, double cap) {
  if (total > cap * static_cast<double>(n)) {
    throw InputError(fmt::format("uunifast-discard: total {} exceeds {} tasks of at most {}", total, n, cap));
  }
  constexpr int kAttempts = 1'000'000;
  for (int attempt = 0; attempt < kAttempts; ++attempt) {
    std::vector<double> u = uunifast(rng, n, total);
    if (std::all_of(u.begin(), u.end(), [&](double x) { return x <= cap; })) return u;
  }
  throw InputError(fmt::format("uunifast-discard: no valid vector in {} attempts (total {} is too close to {} x {}); "
                               "use randfixedsum",
                               kAttempts, total, n, cap));
}

// Stafford's algorithm, in the unit cube after rescaling: the polytope {x in [0, 1]^n, sum = s} is
// cut into simplices; a table of relative volumes (computed by a recurrence over dimensions and
// the integer part of the partial sums) gives the probability of each simplex "step" as the
// coordinates are drawn one by one, and a uniform point inside the chosen simplex comes from
// the usual product of powers of uniforms. Finally the coordinates are shuffled.
std::vector<double> randfixedsum(Rng& rng, size_t n, double total, double lo, double hi) {
  if (n == 0) throw InputError("randfixedsum: need at least one value");
  if (!(lo < hi) || total < lo * static_cast<double>(n) || total > hi * static_cast<double>(n)) {
    throw InputError(fmt::format("randfixedsum: need lo < hi and {} * lo <= total <= {} * hi, got lo {}, hi {}, total {}",
                                 n, n, lo, hi, total));
  }
  if (n == 1) return {total};
  const double nn = static_cast<double>(n);
  double s = (total - nn * lo) / (hi - lo);
  const int k = std::clamp(static_cast<int>(std::floor(s)), 0, static_cast<int>(n) - 1);
  s = std::clamp(s, static_cast<double>(k), static_cast<double>(k) + 1.0);
  // below[j]: distance of s above the hyperplane sum = k - j; above[j]: below the plane k + n - j.
  std::vector<double> below(n), above(n);
  for (size_t j = 0; j < n; ++j) {
    below[j] = s - (static_cast<double>(k) - static_cast<double>(j));
    above[j] = (static_cast<double>(k) + nn - static_cast<double>(j)) - s;
  }
  // vol[i][c]: scaled volumes of the cross-sections in dimension i + 1; step[i][c]: the
  // probability of moving to the next integer level when drawing coordinate i.
  const double huge = std::numeric_limits<double>::max();
  const double tiny = std::numeric_limits<double>::denorm_min();
  std::vector<std::vector<double>> vol(n, std::vector<double>(n + 1, 0.0));
  std::vector<std::vector<double>> step(n - 1, std::vector<double>(n, 0.0));
  vol[0][1] = huge;
  for (size_t i = 1; i < n; ++i) {
    const double di = static_cast<double>(i + 1);
    for (size_t c = 1; c <= i + 1; ++c) {
      const double up = vol[i - 1][c] * below[c - 1] / di;
      const double down = vol[i - 1][c - 1] * above[n - i - 2 + c] / di;
      vol[i][c] = up + down;
      const double sum = vol[i][c] + tiny;
      step[i - 1][c - 1] = above[n - i - 2 + c] > below[c - 1] ? down / sum : 1.0 - up / sum;
    }
  }
  std::vector<double> x(n);
  double level = s;
  size_t row = static_cast<size_t>(k) + 1;
  double partial = 0.0, product = 1.0;
  for (size_t i = n - 1; i >= 1; --i) {
    const bool move = uniform01(rng) <= step[i - 1][row - 1];
    const double stretch = std::pow(uniform01(rng), 1.0 / static_cast<double>(i));
    partial += (1.0 - stretch) * product * level / static_cast<double>(i + 1);
    product *= stretch;
    x[n - 1 - i] = partial + product * (move ? 1.0 : 0.0);
    if (move) {
      level -= 1.0;
      row -= 1;
    }
  }
  x[n - 1] = partial + product * level;
  // Shuffle (Fisher-Yates), then scale back to [lo, hi].
  for (size_t i = n - 1; i > 0; --i) std::swap(x[i], x[rng.below(i + 1)]);
  for (double& v : x) v = lo + (hi - lo) * v;
  return x;
}

std::vector<Duration> periods_log_uniform(Rng& rng, size_t n, Duration min, Duration max, Duration granularity) {
  if (min <= Duration::zero() || max < min || granularity <= Duration::zero() || granularity > max) {
    throw InputError(fmt::format("periods: need 0 < min <= max and 0 < granularity <= max, got min {}, max {}, granularity {}",
                                 format_duration(min), format_duration(max), format_duration(granularity)));
  }
  const double a = std::log(static_cast<double>(min.ns()));
  const double b = std::log(static_cast<double>(max.ns()));
  std::vector<Duration> out(n);
  for (Duration& t : out) {
    const double v = std::exp(a + (b - a) * uniform01(rng));
    const int64_t steps = std::max<int64_t>(1, std::llround(v / static_cast<double>(granularity.ns())));
    t = granularity * steps;
  }
  return out;
}

std::vector<Duration> periods_harmonic(Rng& rng, size_t n, Duration base, int max_exponent) {
  if (base <= Duration::zero() || max_exponent < 0 || max_exponent > 40) {
    throw InputError("harmonic periods: need base > 0 and 0 <= exponent <= 40");
  }
  std::vector<Duration> out(n);
  for (Duration& t : out) t = base * (int64_t{1} << rng.below(static_cast<uint64_t>(max_exponent) + 1));
  return out;
}

Utilisations parse_utilisations(std::string_view text, std::string_view what) {
  if (text == "uunifast") return Utilisations::kUUniFast;
  if (text == "uunifast-discard") return Utilisations::kUUniFastDiscard;
  if (text == "randfixedsum") return Utilisations::kRandFixedSum;
  throw InputError(fmt::format("{}: unknown generator '{}' (expected uunifast, uunifast-discard or randfixedsum)", what, text));
}

Deadlines parse_deadlines(std::string_view text, std::string_view what) {
  if (text == "implicit") return Deadlines::kImplicit;
  if (text == "constrained") return Deadlines::kConstrained;
  throw InputError(fmt::format("{}: unknown deadline kind '{}' (expected implicit or constrained)", what, text));
}

void validate(const TaskSetParams& p) {
  if (p.tasks == 0) throw InputError("task-set generator: need at least one task");
  if (!std::isfinite(p.utilisation) || p.utilisation <= 0 || p.utilisation > static_cast<double>(p.tasks)) {
    throw InputError(fmt::format("task-set generator: utilisation must be in (0, {}] for {} tasks, got {}", p.tasks,
                                 p.tasks, p.utilisation));
  }
  if (p.utilisations == Utilisations::kUUniFast && p.utilisation > 1.0) {
    throw InputError(fmt::format("task-set generator: uunifast can give tasks a utilisation above 1 when the total ({}) "
                                 "exceeds 1; use uunifast-discard or randfixedsum",
                                 p.utilisation));
  }
  if (p.period_min <= Duration::zero() || p.period_max < p.period_min) {
    throw InputError("task-set generator: need 0 < period_min <= period_max");
  }
}

std::vector<analysis::Task> generate(Rng& rng, const TaskSetParams& p) {
  validate(p);
  std::vector<double> u;
  switch (p.utilisations) {
    case Utilisations::kUUniFast: u = uunifast(rng, p.tasks, p.utilisation); break;
    case Utilisations::kUUniFastDiscard: u = uunifast_discard(rng, p.tasks, p.utilisation); break;
    case Utilisations::kRandFixedSum: u = randfixedsum(rng, p.tasks, p.utilisation, 0.0, 1.0); break;
  }
  const std::vector<Duration> periods =
      p.periods == Periods::kLogUniform ? periods_log_uniform(rng, p.tasks, p.period_min, p.period_max, p.granularity)
                                        : periods_harmonic(rng, p.tasks, p.period_min, p.harmonic_exponents);
  std::vector<analysis::Task> tasks(p.tasks);
  for (size_t i = 0; i < p.tasks; ++i) {
    analysis::Task& t = tasks[i];
    t.period = periods[i];
    const int64_t c = std::llround(u[i] * static_cast<double>(t.period.ns()));
    t.wcet = Duration::nanoseconds(std::clamp<int64_t>(c, 1, t.period.ns()));
    t.deadline = t.period;
    if (p.deadlines == Deadlines::kConstrained) {
      const int64_t span = t.period.ns() - t.wcet.ns();
      t.deadline = t.wcet + Duration::nanoseconds(std::llround(uniform01(rng) * static_cast<double>(span)));
    }
  }
  return analysis::with_priorities(tasks, analysis::deadline_monotonic(tasks));
}

TaskSet to_task_set(const std::vector<analysis::Task>& tasks, const std::vector<uint32_t>& cpu, uint32_t cpus,
                    std::string name) {
  TaskSet set;
  set.name = std::move(name);
  set.num_cpus = cpus;
  for (size_t i = 0; i < tasks.size(); ++i) {
    TaskSpec s;
    s.name = fmt::format("t{}", i);
    s.tenant = s.name;
    s.cpu = cpu.empty() ? 0 : cpu[i];
    s.wcet = tasks[i].wcet;
    s.period = tasks[i].period;
    s.deadline = tasks[i].deadline;
    s.priority = static_cast<uint8_t>(std::clamp(tasks[i].priority, 0, 255));
    s.hard = false;  // generated sets may have C > D after rounding; they are data, not a configuration
    set.tasks.push_back(s);
  }
  return set;
}

std::vector<analysis::Task> to_analysis(const TaskSet& set) {
  std::vector<analysis::Task> out;
  for (const TaskSpec& s : set.tasks) {
    analysis::Task t;
    t.wcet = s.wcet;
    t.period = s.period;
    t.deadline = s.effective_deadline();
    t.jitter = s.jitter;
    t.priority = s.priority;
    out.push_back(t);
  }
  return out;
}

}  // namespace edgeos::gen
