// Schedulability tests. See analysis.hpp for the papers each one follows.
#include "edgeos/analysis/analysis.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <numeric>

#include "edgeos/core/base.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"

namespace edgeos::analysis {

namespace {

int64_t ceil_div(int64_t a, int64_t b) { return a <= 0 ? 0 : (a + b - 1) / b; }
int64_t floor_div(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// A natural number of any size, in base 2^32: the exact fallback of Rational once a sum of
// utilisations outgrows 128 bits (the lowest common multiple of a few dozen periods in ns does).
// Only what the analyses need: products with machine words and with each other, sums, differences
// and comparisons. Schoolbook arithmetic is plenty for a few thousand bits.
class BigNat {
 public:
  BigNat() = default;
  explicit BigNat(uint128_t v) {
    while (v != 0) {
      limbs_.push_back(static_cast<uint32_t>(v));
      v >>= 32;
    }
  }
  friend BigNat operator*(const BigNat& a, const BigNat& b) {
    BigNat r;
    if (a.limbs_.empty() || b.limbs_.empty()) return r;
    r.limbs_.assign(a.limbs_.size() + b.limbs_.size(), 0);
    for (size_t i = 0; i < a.limbs_.size(); ++i) {
      uint64_t carry = 0;
      for (size_t j = 0; j < b.limbs_.size(); ++j) {
        const uint64_t cur = uint64_t{a.limbs_[i]} * b.limbs_[j] + r.limbs_[i + j] + carry;
        r.limbs_[i + j] = static_cast<uint32_t>(cur);
        carry = cur >> 32;
      }
      r.limbs_[i + b.limbs_.size()] = static_cast<uint32_t>(carry);
    }
    r.trim();
    return r;
  }
  friend BigNat operator+(const BigNat& a, const BigNat& b) {
    BigNat r;
    const size_t n = std::max(a.limbs_.size(), b.limbs_.size());
    r.limbs_.resize(n + 1, 0);
    uint64_t carry = 0;
    for (size_t i = 0; i < n; ++i) {
      const uint64_t cur = uint64_t{a.limb(i)} + b.limb(i) + carry;
      r.limbs_[i] = static_cast<uint32_t>(cur);
      carry = cur >> 32;
    }
    r.limbs_[n] = static_cast<uint32_t>(carry);
    r.trim();
    return r;
  }
  // a - b, for a >= b.
  friend BigNat operator-(const BigNat& a, const BigNat& b) {
    BigNat r;
    r.limbs_.resize(a.limbs_.size(), 0);
    int64_t borrow = 0;
    for (size_t i = 0; i < a.limbs_.size(); ++i) {
      int64_t cur = int64_t{a.limbs_[i]} - b.limb(i) - borrow;
      borrow = cur < 0 ? 1 : 0;
      if (cur < 0) cur += int64_t{1} << 32;
      r.limbs_[i] = static_cast<uint32_t>(cur);
    }
    r.trim();
    return r;
  }
  // The value as m * 2^e, m from the top three limbs (at least 65 significant bits, all a long
  // double keeps): a long double of any size, once divided by another.
  long double mantissa(int& exponent) const {
    const size_t n = limbs_.size();
    long double m = 0;
    const size_t low = n >= 3 ? n - 3 : 0;
    for (size_t i = n; i-- > low;) m = m * 4294967296.0L + static_cast<long double>(limbs_[i]);
    exponent = static_cast<int>(32 * low);
    return m;
  }
  static int cmp(const BigNat& a, const BigNat& b) {
    if (a.limbs_.size() != b.limbs_.size()) return a.limbs_.size() < b.limbs_.size() ? -1 : 1;
    for (size_t i = a.limbs_.size(); i-- > 0;) {
      if (a.limbs_[i] != b.limbs_[i]) return a.limbs_[i] < b.limbs_[i] ? -1 : 1;
    }
    return 0;
  }

 private:
  uint32_t limb(size_t i) const { return i < limbs_.size() ? limbs_[i] : 0; }
  void trim() {
    while (!limbs_.empty() && limbs_.back() == 0) limbs_.pop_back();
  }
  std::vector<uint32_t> limbs_;  // least significant first, no leading zero limbs
};

// A non-negative exact rational. Numerator and denominator are 128-bit integers, reduced, while
// they fit in 120 bits; past that they move to BigNat (unreduced: a gcd of big numbers is not
// worth its code here) and stay exact. `value()` is a long double for printing only; every
// decision compares exactly.
class Rational {
 public:
  Rational(uint128_t num = 0, uint128_t den = 1) : num_(num), den_(den) { reduce(); }

  // this += n/d (d > 0).
  void add(uint128_t n, uint128_t d) {
    if (!big_) {
      uint128_t a = 0, b = 0, c = 0;
      if (!__builtin_mul_overflow(num_, d, &a) && !__builtin_mul_overflow(n, den_, &b) &&
          !__builtin_mul_overflow(den_, d, &c) && !__builtin_add_overflow(a, b, &a) && fits(a) && fits(c)) {
        num_ = a;
        den_ = c;
        reduce();
        return;
      }
      to_big();
    }
    big_num_ = big_num_ * BigNat(d) + BigNat(n) * big_den_;
    big_den_ = big_den_ * BigNat(d);
  }
  // this *= n/d (d > 0).
  void mul(uint128_t n, uint128_t d) {
    if (!big_) {
      uint128_t a = 0, c = 0;
      if (!__builtin_mul_overflow(num_, n, &a) && !__builtin_mul_overflow(den_, d, &c) && fits(a) && fits(c)) {
        num_ = a;
        den_ = c;
        reduce();
        return;
      }
      to_big();
    }
    big_num_ = big_num_ * BigNat(n);
    big_den_ = big_den_ * BigNat(d);
  }
  // -1, 0, 1 as this is <, ==, > n/d.
  int compare(uint128_t n, uint128_t d) const {
    uint128_t l = 0, r = 0;
    if (!big_ && !__builtin_mul_overflow(num_, d, &l) && !__builtin_mul_overflow(n, den_, &r)) {
      return l < r ? -1 : (l > r ? 1 : 0);
    }
    return BigNat::cmp(numerator() * BigNat(d), BigNat(n) * denominator());
  }
  // -1, 0, 1 as this is <, ==, > other.
  int compare(const Rational& other) const {
    return BigNat::cmp(numerator() * other.denominator(), other.numerator() * denominator());
  }
  BigNat numerator() const { return big_ ? big_num_ : BigNat(num_); }
  BigNat denominator() const { return big_ ? big_den_ : BigNat(den_); }
  // For printing and for bounds that are rounded safely afterwards: the nearest long double.
  long double value() const {
    if (!big_) return static_cast<long double>(num_) / static_cast<long double>(den_);
    int en = 0, ed = 0;
    const long double mn = big_num_.mantissa(en), md = big_den_.mantissa(ed);
    return std::ldexp(mn / md, en - ed);
  }

 private:
  static bool fits(uint128_t v) { return v < (uint128_t{1} << 120); }
  void reduce() {
    uint128_t a = num_, b = den_;
    while (b != 0) {
      const uint128_t r = a % b;
      a = b;
      b = r;
    }
    if (a > 1) {
      num_ /= a;
      den_ /= a;
    }
  }
  void to_big() {
    big_ = true;
    big_num_ = BigNat(num_);
    big_den_ = BigNat(den_);
  }
  uint128_t num_ = 0, den_ = 1;
  bool big_ = false;
  BigNat big_num_, big_den_;
};

Rational utilisation_of(const std::vector<Task>& tasks) {
  Rational u;
  for (const Task& t : tasks) u.add(t.wcet.ns(), t.period.ns());
  return u;
}

bool implicit_deadlines(const std::vector<Task>& tasks) {
  return std::all_of(tasks.begin(), tasks.end(), [](const Task& t) { return t.deadline == t.period; });
}

bool any_jitter_or_blocking(const std::vector<Task>& tasks) {
  return std::any_of(tasks.begin(), tasks.end(), [](const Task& t) {
    return t.jitter != Duration::zero() || t.blocking != Duration::zero();
  });
}

// Task indices by decreasing priority, ties by input order.
std::vector<size_t> priority_order(const std::vector<Task>& tasks) {
  std::vector<size_t> order(tasks.size());
  std::iota(order.begin(), order.end(), size_t{0});
  // (priority, index) is a total order, so an unstable sort is deterministic and needs no buffer.
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    return tasks[a].priority != tasks[b].priority ? tasks[a].priority > tasks[b].priority : a < b;
  });
  return order;
}

Result make(const char* test, Verdict v, std::string detail = {}) {
  Result r;
  r.test = test;
  r.verdict = v;
  r.detail = std::move(detail);
  return r;
}

// The interference of a set of higher-priority tasks at a window w: how many jobs of each are
// released in [0, w + J_j), and their total work. Counts only grow with w, so a state computed
// for one window is a valid starting point for any longer one. A min-heap keyed by the window at
// which each task's count next grows (jobs * T - J) means that extending the window touches only
// the tasks whose count changes, not all of them.
struct Interference {
  std::vector<const Task*> tasks;
  std::vector<int64_t> jobs;
  int128_t work = 0;
  std::vector<std::pair<int64_t, uint32_t>> heap;  // (grows once the window exceeds this, task)

  static int64_t threshold(const Task& t, int64_t n) { return n * t.period.ns() - t.jitter.ns(); }
  void push(int64_t key, uint32_t k) {
    heap.emplace_back(key, k);
    std::push_heap(heap.begin(), heap.end(), std::greater<>());
  }
  // Gives the minimum a new (larger) key and sifts it down: one pass instead of a pop and a push.
  void replace_top(int64_t key) {
    const size_t n = heap.size();
    const std::pair<int64_t, uint32_t> moving{key, heap[0].second};
    size_t i = 0;
    for (;;) {
      const size_t l = 2 * i + 1;
      if (l >= n) break;
      const size_t c = l + 1 < n && heap[l + 1] < heap[l] ? l + 1 : l;
      if (!(heap[c] < moving)) break;
      heap[i] = heap[c];
      i = c;
    }
    heap[i] = moving;
  }
  void add(const Task* t, int64_t window) {
    const uint32_t k = static_cast<uint32_t>(tasks.size());
    tasks.push_back(t);
    jobs.push_back(std::max<int64_t>(1, ceil_div(window + t->jitter.ns(), t->period.ns())));
    work += static_cast<int128_t>(jobs.back()) * t->wcet.ns();
    push(threshold(*t, jobs.back()), k);
  }
  // Grows the counts to the window w (never shrinks them).
  void extend(int64_t w) {
    while (!heap.empty() && heap.front().first < w) {
      const uint32_t k = heap.front().second;
      const Task& j = *tasks[k];
      const int64_t n = ceil_div(w + j.jitter.ns(), j.period.ns());
      work += static_cast<int128_t>(n - jobs[k]) * j.wcet.ns();
      jobs[k] = n;
      replace_top(threshold(j, n));
    }
  }
  void reset() {
    heap.clear();
    work = 0;
    for (uint32_t k = 0; k < tasks.size(); ++k) {
      jobs[k] = 1;
      work += tasks[k]->wcet.ns();
      heap.emplace_back(threshold(*tasks[k], 1), k);
    }
    std::make_heap(heap.begin(), heap.end(), std::greater<>());
  }
};

// Worst-case response time of `task` below the tasks of `hp` (Audsley et al. 1993): the least
// fixed point w of w = C + B + sum over hp of ceil((w + J_j) / T_j) * C_j, plus its own jitter;
// Duration::infinite() once it exceeds the deadline. `hp` may hold counts for any window up to w
// (a lower bound); iterating from `start`, itself a lower bound of w, reaches the least fixed
// point. On success `hp` holds the counts at w and `busy` receives w.
Duration response_time(const Task& task, Interference& hp, int64_t start, int64_t* busy = nullptr) {
  const int64_t base = task.wcet.ns() + task.blocking.ns();
  const int64_t limit = task.deadline.ns() - task.jitter.ns();
  int128_t w = base + hp.work;
  if (start > w) w = start;
  if (w > limit) return Duration::infinite();
  hp.extend(static_cast<int64_t>(w));  // the counts must describe the window w before W(w) is read
  for (;;) {
    const int128_t total = base + hp.work;
    if (total > limit) return Duration::infinite();
    if (total <= w) break;  // w is a lower bound, so the first w with W(w) <= w is the fixed point
    w = total;
    hp.extend(static_cast<int64_t>(w));
  }
  if (busy != nullptr) *busy = static_cast<int64_t>(w);
  return Duration::nanoseconds(static_cast<int64_t>(w) + task.jitter.ns());
}

}  // namespace

const char* verdict_name(Verdict v) {
  switch (v) {
    case Verdict::kSchedulable: return "schedulable";
    case Verdict::kUnschedulable: return "unschedulable";
    case Verdict::kInconclusive: return "inconclusive";
    case Verdict::kNotApplicable: return "not applicable";
  }
  return "unknown";
}

const char* fit_name(Fit f) {
  switch (f) {
    case Fit::kFirst: return "first-fit";
    case Fit::kBest: return "best-fit";
    case Fit::kWorst: return "worst-fit";
  }
  return "unknown";
}

void validate(const std::vector<Task>& tasks) {
  if (tasks.empty()) throw InputError("task set: empty (nothing to analyse)");
  for (size_t i = 0; i < tasks.size(); ++i) {
    const Task& t = tasks[i];
    auto fail = [&](const char* field, Duration v, const char* why) {
      throw InputError(fmt::format("task #{}: field \"{}\": {}, got {}", i, field, why, format_duration(v)));
    };
    if (t.wcet <= Duration::zero() || t.wcet.is_infinite()) fail("wcet", t.wcet, "must be > 0 and finite");
    if (t.period <= Duration::zero() || t.period.is_infinite()) fail("period", t.period, "must be > 0 and finite");
    if (t.deadline <= Duration::zero() || t.deadline.is_infinite()) fail("deadline", t.deadline, "must be > 0 and finite");
    if (t.jitter < Duration::zero() || t.jitter.is_infinite()) fail("jitter", t.jitter, "must be >= 0 and finite");
    if (t.blocking < Duration::zero() || t.blocking.is_infinite()) fail("blocking", t.blocking, "must be >= 0 and finite");
  }
}

int compare_utilisation(const std::vector<Task>& tasks, int64_t num, int64_t den) {
  return utilisation_of(tasks).compare(num, den);
}

double utilisation(const std::vector<Task>& tasks) { return static_cast<double>(utilisation_of(tasks).value()); }

// --- fixed priority -----------------------------------------------------------------------------

Result response_time_analysis(const std::vector<Task>& tasks) {
  validate(tasks);
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].deadline > tasks[i].period) {
      return make("rta", Verdict::kNotApplicable,
                  fmt::format("task #{} has D > T; this analysis covers constrained deadlines (D <= T)", i));
    }
  }
  Result r = make("rta", Verdict::kSchedulable);
  r.response_times.assign(tasks.size(), Duration::infinite());
  const std::vector<size_t> order = priority_order(tasks);
  // With hp sets nested in priority order, W_i(t) >= W_{i-1}(t) + C_i + B_i - B_{i-1}, and
  // W_{i-1}(t) > t below its least fixed point, so w_i >= w_{i-1} + C_i + B_i - B_{i-1} when that
  // increment is not negative: the next task starts there, with the job counts already reached.
  Interference hp;
  hp.tasks.reserve(tasks.size());
  hp.jobs.reserve(tasks.size());
  hp.heap.reserve(tasks.size());
  int64_t prev_busy = -1;
  const Task* prev = nullptr;
  for (const size_t i : order) {
    int64_t start = 0;
    if (prev != nullptr && prev_busy >= 0 && tasks[i].wcet.ns() + tasks[i].blocking.ns() >= prev->blocking.ns()) {
      start = prev_busy + tasks[i].wcet.ns() + tasks[i].blocking.ns() - prev->blocking.ns();
      hp.add(prev, prev_busy);
    } else {
      if (prev != nullptr) hp.add(prev, 0);
      hp.reset();  // counts for a longer window than this task may need: start from one job each
    }
    int64_t busy = -1;
    const Duration rt = response_time(tasks[i], hp, start, &busy);
    prev_busy = busy;
    prev = &tasks[i];
    r.response_times[i] = rt;
    if (rt.is_infinite() && r.verdict == Verdict::kSchedulable) {
      r.verdict = Verdict::kUnschedulable;
      r.detail = fmt::format("task #{}: response time exceeds its deadline {}", i, format_duration(tasks[i].deadline));
    }
  }
  return r;
}

Result liu_layland_bound(const std::vector<Task>& tasks) {
  validate(tasks);
  if (!implicit_deadlines(tasks)) return make("ll-bound", Verdict::kNotApplicable, "needs implicit deadlines (D = T)");
  const long double n = static_cast<long double>(tasks.size());
  const long double bound = n * (std::pow(2.0L, 1.0L / n) - 1.0L);
  const long double u = utilisation_of(tasks).value();
  return make("ll-bound", u <= bound ? Verdict::kSchedulable : Verdict::kInconclusive,
              fmt::format("U = {:.6f}, bound n(2^(1/n) - 1) = {:.6f} (rate-monotonic priorities)",
                          static_cast<double>(u), static_cast<double>(bound)));
}

Result hyperbolic_bound(const std::vector<Task>& tasks) {
  validate(tasks);
  if (!implicit_deadlines(tasks)) return make("hyperbolic", Verdict::kNotApplicable, "needs implicit deadlines (D = T)");
  Rational product(1, 1);
  for (const Task& t : tasks) product.mul(t.wcet.ns() + t.period.ns(), t.period.ns());
  return make("hyperbolic", product.compare(2, 1) <= 0 ? Verdict::kSchedulable : Verdict::kInconclusive,
              fmt::format("prod(U_i + 1) = {:.6f}, bound 2 (rate-monotonic priorities)",
                          static_cast<double>(product.value())));
}

namespace {
template <class Key>
std::vector<int> monotonic(const std::vector<Task>& tasks, Key key) {
  std::vector<size_t> order(tasks.size());
  std::iota(order.begin(), order.end(), size_t{0});
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return key(tasks[a]) < key(tasks[b]); });
  std::vector<int> prio(tasks.size());
  for (size_t rank = 0; rank < order.size(); ++rank) prio[order[rank]] = static_cast<int>(tasks.size() - rank);
  return prio;
}
}  // namespace

std::vector<int> rate_monotonic(const std::vector<Task>& tasks) {
  return monotonic(tasks, [](const Task& t) { return t.period; });
}

std::vector<int> deadline_monotonic(const std::vector<Task>& tasks) {
  return monotonic(tasks, [](const Task& t) { return t.deadline; });
}

std::vector<Task> with_priorities(std::vector<Task> tasks, const std::vector<int>& priorities) {
  for (size_t i = 0; i < tasks.size(); ++i) tasks[i].priority = priorities.at(i);
  return tasks;
}

// Audsley, "On priority assignment in fixed priority scheduling" (IPL 2001): fill priority levels
// from the lowest up, each with any unassigned task that meets its deadline below all the others.
std::optional<std::vector<int>> audsley_assignment(const std::vector<Task>& tasks) {
  validate(tasks);
  std::vector<bool> assigned(tasks.size(), false);
  std::vector<int> prio(tasks.size(), 0);
  for (size_t level = 1; level <= tasks.size(); ++level) {
    bool found = false;
    for (size_t i = 0; i < tasks.size() && !found; ++i) {
      if (assigned[i] || tasks[i].deadline > tasks[i].period) continue;
      Interference others;
      for (size_t j = 0; j < tasks.size(); ++j) {
        if (j != i && !assigned[j]) others.add(&tasks[j], 0);
      }
      if (!response_time(tasks[i], others, 0).is_infinite()) {
        assigned[i] = true;
        prio[i] = static_cast<int>(level);
        found = true;
      }
    }
    if (!found) return std::nullopt;
  }
  return prio;
}

// --- EDF ---------------------------------------------------------------------------------------

Result edf_utilisation(const std::vector<Task>& tasks) {
  validate(tasks);
  if (!implicit_deadlines(tasks)) return make("edf-util", Verdict::kNotApplicable, "needs implicit deadlines (D = T)");
  if (any_jitter_or_blocking(tasks)) return make("edf-util", Verdict::kNotApplicable, "does not model jitter or blocking");
  const Rational u = utilisation_of(tasks);
  return make("edf-util", u.compare(1, 1) <= 0 ? Verdict::kSchedulable : Verdict::kUnschedulable,
              fmt::format("U = {:.6f}", static_cast<double>(u.value())));
}

Duration demand_bound(const std::vector<Task>& tasks, Duration t) {
  int128_t demand = 0;
  for (const Task& task : tasks) {
    if (t < task.deadline) continue;
    demand += static_cast<int128_t>(floor_div((t - task.deadline).ns(), task.period.ns()) + 1) * task.wcet.ns();
  }
  return demand >= std::numeric_limits<int64_t>::max() ? Duration::infinite()
                                                       : Duration::nanoseconds(static_cast<int64_t>(demand));
}

std::optional<Duration> busy_period(const std::vector<Task>& tasks, Duration cap) {
  int128_t w = 0;
  for (const Task& t : tasks) w += t.wcet.ns();
  for (;;) {
    if (w > cap.ns()) return std::nullopt;
    int128_t next = 0;
    for (const Task& t : tasks) next += static_cast<int128_t>(ceil_div(static_cast<int64_t>(w), t.period.ns())) * t.wcet.ns();
    if (next == w) return Duration::nanoseconds(static_cast<int64_t>(w));
    w = next;
  }
}


namespace {
constexpr int64_t kHorizonCap = int64_t{1} << 62;

// Converts a bound computed in long double to whole ns, rounded up, and capped: a bound past the
// cap (or not finite, when the utilisation is a hair below its limit) is the cap itself.
int64_t bound_ns(long double v) {
  if (!(v < static_cast<long double>(kHorizonCap))) return kHorizonCap;
  return v <= 0 ? 0 : static_cast<int64_t>(std::ceil(v));
}
}  // namespace

DemandHorizon demand_horizon(const std::vector<Task>& tasks) {
  validate(tasks);
  DemandHorizon h;
  h.busy_period = busy_period(tasks, Duration::nanoseconds(kHorizonCap));
  const Rational u = utilisation_of(tasks);
  if (u.compare(1, 1) < 0) {
    // L_a = max(max_i (D_i - T_i), sum_i (T_i - D_i)^+ C_i / T_i / (1 - U)). Zhang & Burns write
    // (T_i - D_i) without the ^+; dropping the negative terms of deadlines past the period only
    // lengthens the interval, so it stays a bound. The quotient is found exactly: the least
    // integer t with t (1 - U) >= S, by bisection on t with exact comparisons.
    Rational sum;
    int64_t dmax_minus_t = std::numeric_limits<int64_t>::min();
    for (const Task& t : tasks) {
      const int64_t slack = t.period.ns() - t.deadline.ns();
      if (slack > 0) sum.add(static_cast<uint128_t>(slack) * static_cast<uint64_t>(t.wcet.ns()), t.period.ns());
      dmax_minus_t = std::max(dmax_minus_t, -slack);
    }
    // t (1 - U) >= S  <=>  t (Ud - Un) Sd >= Sn Ud.
    const BigNat lhs_unit = (u.denominator() - u.numerator()) * sum.denominator();
    const BigNat rhs = sum.numerator() * u.denominator();
    auto enough = [&](int64_t t) { return BigNat::cmp(BigNat(static_cast<uint128_t>(t)) * lhs_unit, rhs) >= 0; };
    std::optional<int64_t> quotient;
    if (enough(kHorizonCap)) {
      int64_t lo = 0, hi = kHorizonCap;  // enough(hi); the answer is in [lo, hi]
      while (lo < hi) {
        const int64_t mid = lo + (hi - lo) / 2;
        if (enough(mid)) {
          hi = mid;
        } else {
          lo = mid + 1;
        }
      }
      quotient = lo;
    }
    if (quotient) h.la = Duration::nanoseconds(std::max(dmax_minus_t, *quotient));
  }
  if (h.busy_period && h.la) {
    h.l = std::min(*h.busy_period, *h.la);
  } else if (h.busy_period || h.la) {
    h.l = h.busy_period ? *h.busy_period : *h.la;
  } else {
    h.l = Duration::infinite();
  }
  return h;
}

namespace {
// The latest absolute deadline at or before t (synchronous release), or -1 if none.
int64_t last_deadline_at_or_before(const std::vector<Task>& tasks, int64_t t) {
  int64_t best = -1;
  for (const Task& task : tasks) {
    const int64_t d = task.deadline.ns();
    if (d > t) continue;
    const int64_t k = (t - d) / task.period.ns();  // largest k with k T + D <= t
    best = std::max(best, k * task.period.ns() + d);
  }
  return best;
}

std::string describe(const DemandHorizon& h) {
  auto show = [](const std::optional<Duration>& d) { return d ? format_duration(*d) : std::string("unbounded"); };
  return fmt::format("L = {} (L_a = {}, busy period L_b = {})", format_duration(h.l), show(h.la), show(h.busy_period));
}
}  // namespace

// The processor-demand criterion (Baruah, Rosier & Howell, RTS 1990) — the set is EDF-schedulable
// iff dbf(t) <= t at every absolute deadline t up to L — checked with Quick convergence Processor-
// demand Analysis (Zhang & Burns, "Schedulability analysis for real-time systems with EDF
// scheduling", IEEE TC 2009), which walks backwards from L jumping to h(t) whenever h(t) < t.
Result edf_demand(const std::vector<Task>& tasks) {
  validate(tasks);
  if (any_jitter_or_blocking(tasks)) return make("edf-qpa", Verdict::kNotApplicable, "does not model jitter or blocking");
  const Rational u = utilisation_of(tasks);
  if (u.compare(1, 1) > 0) {
    return make("edf-qpa", Verdict::kUnschedulable, fmt::format("U = {:.6f} > 1", static_cast<double>(u.value())));
  }
  const DemandHorizon horizon = demand_horizon(tasks);
  if (horizon.l.is_infinite()) {
    return make("edf-qpa", Verdict::kNotApplicable, "U = 1 and the synchronous busy period is too long to bound");
  }
  int64_t dmin = std::numeric_limits<int64_t>::max();
  for (const Task& t : tasks) dmin = std::min(dmin, t.deadline.ns());
  int64_t t = last_deadline_at_or_before(tasks, horizon.l.ns());
  if (t < 0) {
    return make("edf-qpa", Verdict::kSchedulable, fmt::format("no absolute deadline within {}", describe(horizon)));
  }
  for (;;) {
    const int64_t h = demand_bound(tasks, Duration::nanoseconds(t)).ns();
    if (h > t) {
      return make("edf-qpa", Verdict::kUnschedulable,
                  fmt::format("dbf({}) = {} > {}", format_duration(Duration::nanoseconds(t)),
                              format_duration(Duration::nanoseconds(h)), format_duration(Duration::nanoseconds(t))));
    }
    if (h <= dmin) break;
    t = h < t ? h : last_deadline_at_or_before(tasks, t - 1);
    if (t < 0) break;
  }
  return make("edf-qpa", Verdict::kSchedulable, fmt::format("dbf(t) <= t at every deadline up to {}", describe(horizon)));
}

// --- reservations ---------------------------------------------------------------------------------

// Shin & Lee, "Periodic resource model for compositional real-time guarantees" (RTSS 2003): in the
// worst case the resource serves its budget at the start of one period and at the end of the
// next, so any window first waits a blackout of 2 (Pi - Theta), then gains Theta per period.
Duration supply_bound(const Supply& s, Duration t) {
  const int64_t pi = s.period.ns();
  const int64_t theta = s.budget.ns();
  const int64_t blackout = pi - theta;
  const int64_t d = t.ns();
  if (d <= blackout) return Duration::zero();
  const int64_t full = (d - blackout) / pi;
  const int64_t partial = std::clamp<int64_t>(d - 2 * blackout - full * pi, 0, theta);
  return Duration::nanoseconds(full * theta + partial);
}

namespace {
void check_supply(const Supply& s) {
  if (s.period <= Duration::zero() || s.budget <= Duration::zero() || s.budget > s.period) {
    throw InputError(fmt::format("reservation: need 0 < budget <= period, got budget {} and period {}",
                                 format_duration(s.budget), format_duration(s.period)));
  }
}
}  // namespace

// A task meets its deadline inside the reservation iff, at some t <= D, the work of it and its
// higher-priority tasks released in [0, t) fits the least supply in a window of t (Shin & Lee,
// theorem for fixed priority); the request is a step function, so only its steps need checking.
Result fp_in_reservation(const std::vector<Task>& tasks, const Supply& s) {
  validate(tasks);
  check_supply(s);
  if (any_jitter_or_blocking(tasks)) return make("fp-reservation", Verdict::kNotApplicable, "does not model jitter or blocking");
  for (const Task& t : tasks) {
    if (t.deadline > t.period) return make("fp-reservation", Verdict::kNotApplicable, "covers constrained deadlines (D <= T)");
  }
  const std::vector<size_t> order = priority_order(tasks);
  constexpr size_t kMaxPoints = 1'000'000;
  for (size_t p = 0; p < order.size(); ++p) {
    const Task& task = tasks[order[p]];
    std::vector<int64_t> points = {task.deadline.ns()};
    for (size_t q = 0; q < p; ++q) {
      const Task& j = tasks[order[q]];
      for (int64_t k = j.period.ns(); k < task.deadline.ns(); k += j.period.ns()) {
        points.push_back(k);
        if (points.size() > kMaxPoints) {
          return make("fp-reservation", Verdict::kNotApplicable, "too many scheduling points to check");
        }
      }
    }
    bool fits = false;
    for (const int64_t t : points) {
      int128_t request = task.wcet.ns();
      for (size_t q = 0; q < p; ++q) {
        const Task& j = tasks[order[q]];
        request += static_cast<int128_t>(ceil_div(t, j.period.ns())) * j.wcet.ns();
      }
      if (request <= supply_bound(s, Duration::nanoseconds(t)).ns()) {
        fits = true;
        break;
      }
    }
    if (!fits) {
      return make("fp-reservation", Verdict::kUnschedulable, fmt::format("task #{} does not fit the reservation", order[p]));
    }
  }
  return make("fp-reservation", Verdict::kSchedulable, "every task's request fits the least supply before its deadline");
}

// EDF inside a reservation iff dbf(t) <= sbf(t) for all t (Shin & Lee). Beyond
// L = (sum (T_i - D_i) U_i + 2 (Pi - Theta) alpha) / (alpha - U), alpha = Theta / Pi, the linear
// bounds dbf(t) <= U t + sum (T_i - D_i) U_i and sbf(t) >= alpha (t - 2 (Pi - Theta)) already
// guarantee it, so only the deadlines up to L are checked.
Result edf_in_reservation(const std::vector<Task>& tasks, const Supply& s) {
  validate(tasks);
  check_supply(s);
  if (any_jitter_or_blocking(tasks)) return make("edf-reservation", Verdict::kNotApplicable, "does not model jitter or blocking");
  const Rational u = utilisation_of(tasks);
  const int c = u.compare(s.budget.ns(), s.period.ns());
  if (c > 0) return make("edf-reservation", Verdict::kUnschedulable, "utilisation exceeds the reservation's bandwidth");
  if (c == 0) {
    return make("edf-reservation", Verdict::kNotApplicable,
                "utilisation equals the reservation's bandwidth: no finite interval to check");
  }
  const long double alpha = static_cast<long double>(s.budget.ns()) / static_cast<long double>(s.period.ns());
  long double k = 0;
  int64_t dmax = 0;
  for (const Task& t : tasks) {
    k += static_cast<long double>(std::max<int64_t>(0, t.period.ns() - t.deadline.ns())) *
         static_cast<long double>(t.wcet.ns()) / static_cast<long double>(t.period.ns());
    dmax = std::max(dmax, t.deadline.ns());
  }
  const long double blackout = static_cast<long double>(s.period.ns() - s.budget.ns());
  const long double lbound = (k + 2 * blackout * alpha) / (alpha - u.value());
  const int64_t l = std::max<int64_t>(dmax, bound_ns(lbound) + 1);
  // Every absolute deadline up to L, in increasing order, by merging the tasks' sequences.
  constexpr size_t kMaxPoints = 10'000'000;
  size_t points = 0;
  std::vector<int64_t> next(tasks.size());
  for (size_t i = 0; i < tasks.size(); ++i) next[i] = tasks[i].deadline.ns();
  for (;;) {
    int64_t t = std::numeric_limits<int64_t>::max();
    for (const int64_t d : next) t = std::min(t, d);
    if (t > l) break;
    if (++points > kMaxPoints) return make("edf-reservation", Verdict::kNotApplicable, "too many deadlines to check");
    if (demand_bound(tasks, Duration::nanoseconds(t)) > supply_bound(s, Duration::nanoseconds(t))) {
      return make("edf-reservation", Verdict::kUnschedulable,
                  fmt::format("demand exceeds the least supply at {}", format_duration(Duration::nanoseconds(t))));
    }
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (next[i] == t) next[i] += tasks[i].period.ns();
    }
  }
  return make("edf-reservation", Verdict::kSchedulable,
              fmt::format("dbf(t) <= sbf(t) for every deadline up to {}", format_duration(Duration::nanoseconds(l))));
}

// --- overheads -----------------------------------------------------------------------------------

std::vector<Task> inflate_overheads(std::vector<Task> tasks, const Overheads& o) {
  const Duration per_job = o.schedule + o.context_switch * 2;
  for (Task& t : tasks) t.wcet += per_job;
  return tasks;
}

namespace {
Duration release_interrupt(const Overheads& o) { return o.release + o.timer + o.schedule; }
}  // namespace

Result fp_with_overheads(const std::vector<Task>& tasks, const Overheads& o) {
  validate(tasks);
  std::vector<Task> all = inflate_overheads(tasks, o);
  const Duration irq = release_interrupt(o);
  if (irq > Duration::zero()) {
    int top = std::numeric_limits<int>::min();
    for (const Task& t : tasks) top = std::max(top, t.priority);
    for (const Task& t : tasks) {
      Task x;
      x.wcet = irq;
      x.period = t.period;
      x.deadline = t.period;
      x.priority = top == std::numeric_limits<int>::max() ? top : top + 1;
      all.push_back(x);
    }
  }
  Result r = response_time_analysis(all);
  r.test = "rta-overheads";
  r.response_times.resize(tasks.size());
  return r;
}

Result edf_with_overheads(const std::vector<Task>& tasks, const Overheads& o) {
  validate(tasks);
  if (any_jitter_or_blocking(tasks)) return make("edf-overheads", Verdict::kNotApplicable, "does not model jitter or blocking");
  const std::vector<Task> inflated = inflate_overheads(tasks, o);
  const int64_t irq = release_interrupt(o).ns();
  // Linear envelopes: dbf(t) <= U t + K and interrupts(t) <= Ui t + n e_irq, so beyond
  // L = (K + n e_irq) / (1 - U - Ui) every t passes.
  long double u = 0, ui = 0, k = 0;
  int64_t dmax = 0;
  for (const Task& t : inflated) {
    const long double period = static_cast<long double>(t.period.ns());
    u += static_cast<long double>(t.wcet.ns()) / period;
    ui += static_cast<long double>(irq) / period;
    k += static_cast<long double>(std::max<int64_t>(0, t.period.ns() - t.deadline.ns())) *
         static_cast<long double>(t.wcet.ns()) / period;
    dmax = std::max(dmax, t.deadline.ns());
  }
  if (u + ui >= 1.0L) {
    return make("edf-overheads", Verdict::kInconclusive,
                fmt::format("utilisation with overheads {:.6f} >= 1", static_cast<double>(u + ui)));
  }
  const long double lbound = (k + static_cast<long double>(inflated.size()) * static_cast<long double>(irq)) / (1.0L - u - ui);
  const int64_t l = std::max<int64_t>(dmax, bound_ns(lbound) + 1);
  constexpr size_t kMaxPoints = 10'000'000;
  size_t points = 0;
  std::vector<int64_t> next(inflated.size());
  for (size_t i = 0; i < inflated.size(); ++i) next[i] = inflated[i].deadline.ns();
  for (;;) {
    int64_t t = std::numeric_limits<int64_t>::max();
    for (const int64_t d : next) t = std::min(t, d);
    if (t > l) break;
    if (++points > kMaxPoints) return make("edf-overheads", Verdict::kNotApplicable, "too many deadlines to check");
    int128_t demand = demand_bound(inflated, Duration::nanoseconds(t)).ns();
    for (const Task& x : inflated) demand += static_cast<int128_t>(ceil_div(t, x.period.ns())) * irq;
    if (demand > t) {
      return make("edf-overheads", Verdict::kInconclusive,
                  fmt::format("demand with overheads exceeds the interval at {}", format_duration(Duration::nanoseconds(t))));
    }
    for (size_t i = 0; i < inflated.size(); ++i) {
      if (next[i] == t) next[i] += inflated[i].period.ns();
    }
  }
  return make("edf-overheads", Verdict::kSchedulable,
              fmt::format("demand plus release interrupts fits every deadline up to {}", format_duration(Duration::nanoseconds(l))));
}

// --- partitioned multicore ------------------------------------------------------------------------

Admission edf_admission() {
  return [](const std::vector<Task>& ts) { return edf_demand(ts).schedulable(); };
}

Admission fp_dm_admission() {
  return [](const std::vector<Task>& ts) {
    return response_time_analysis(with_priorities(ts, deadline_monotonic(ts))).schedulable();
  };
}

Partition partition(const std::vector<Task>& tasks, uint32_t cpus, Fit fit, const Admission& admit) {
  validate(tasks);
  if (cpus == 0) throw InputError("partition: need at least one CPU");
  std::vector<size_t> order(tasks.size());
  std::iota(order.begin(), order.end(), size_t{0});
  auto util = [](const Task& t) { return static_cast<double>(t.wcet.ns()) / static_cast<double>(t.period.ns()); };
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) { return util(tasks[a]) > util(tasks[b]); });
  std::vector<std::vector<Task>> bins(cpus);
  std::vector<double> load(cpus, 0.0);
  Partition p;
  p.cpu.assign(tasks.size(), 0);
  for (const size_t i : order) {
    std::vector<uint32_t> candidates(cpus);
    std::iota(candidates.begin(), candidates.end(), 0u);
    if (fit == Fit::kBest) {
      std::stable_sort(candidates.begin(), candidates.end(), [&](uint32_t a, uint32_t b) { return load[a] > load[b]; });
    } else if (fit == Fit::kWorst) {
      std::stable_sort(candidates.begin(), candidates.end(), [&](uint32_t a, uint32_t b) { return load[a] < load[b]; });
    }
    bool placed = false;
    for (const uint32_t c : candidates) {
      bins[c].push_back(tasks[i]);
      if (admit(bins[c])) {
        load[c] += util(tasks[i]);
        p.cpu[i] = c;
        placed = true;
        break;
      }
      bins[c].pop_back();
    }
    if (!placed) {
      p.detail = fmt::format("task #{} (U = {:.4f}) fits on no CPU ({})", i, util(tasks[i]), fit_name(fit));
      return p;
    }
  }
  p.ok = true;
  return p;
}

// --- global multiprocessor scheduling -------------------------------------------------------------
//
// m identical CPUs sharing one ready queue (a scheduling domain, core/kernel.hpp); sporadic tasks
// with constrained deadlines (D <= T), no jitter, no blocking. All five tests are sufficient only.

namespace {

// Why a task set is outside what the global tests cover, or "" if it is inside.
std::string global_unsupported(const std::vector<Task>& tasks, uint32_t m) {
  if (m == 0) return "needs at least one CPU";
  if (any_jitter_or_blocking(tasks)) return "does not cover release jitter or blocking";
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].deadline > tasks[i].period) return fmt::format("task #{} has D > T; covers constrained deadlines (D <= T)", i);
  }
  return {};
}

// A task whose job alone cannot meet its deadline: no test can accept the set.
std::optional<size_t> overdense(const std::vector<Task>& tasks) {
  for (size_t i = 0; i < tasks.size(); ++i) {
    if (tasks[i].wcet > tasks[i].deadline) return i;
  }
  return std::nullopt;
}

// Bertogna, Cirinei & Lipari's bound on the work of task i in a window of length L when its jobs
// complete within `r` of their release (D_i, or a response-time bound): the body jobs and a carry-in
// job placed as late as they can be (ECRTS 2005 / TPDS 2009, eq. for W_i; RTSS 2007, Lemma 4).
int128_t workload(const Task& t, int64_t L, int64_t r) {
  const int64_t c = t.wcet.ns(), T = t.period.ns();
  const int64_t n = floor_div(L + r - c, T);
  const int128_t body = static_cast<int128_t>(std::max<int64_t>(n, 0)) * c;
  const int64_t rest = L + r - c - n * T;
  return body + std::min<int64_t>(c, std::max<int64_t>(rest, 0));
}

// The higher-priority set of task k for global FP: every other task of a higher priority, and, as
// FIFO within a level lets equals overtake each other, every other task of the same priority.
bool interferes_fp(const std::vector<Task>& tasks, size_t i, size_t k) {
  return i != k && tasks[i].priority >= tasks[k].priority;
}

}  // namespace

// Goossens, Funk & Baruah, "Priority-driven scheduling of periodic task systems on
// multiprocessors", Real-Time Systems 25(2-3), 2003 (Theorem 5): G-EDF meets every deadline of
// implicit-deadline tasks if U <= m - (m - 1) u_max. For constrained deadlines the densities
// C/D take the utilisations' place (the density form, as restated by Bertogna, Cirinei & Lipari,
// ECRTS 2005). Exact rational arithmetic.
Result gedf_density(const std::vector<Task>& tasks, uint32_t m) {
  validate(tasks);
  if (const std::string why = global_unsupported(tasks, m); !why.empty()) return make("gfb", Verdict::kNotApplicable, why);
  if (const auto i = overdense(tasks)) return make("gfb", Verdict::kUnschedulable, fmt::format("task #{}: C > D", *i));
  size_t densest = 0;
  for (size_t i = 1; i < tasks.size(); ++i) {
    // C_i / D_i > C_d / D_d, exactly.
    if (static_cast<int128_t>(tasks[i].wcet.ns()) * tasks[densest].deadline.ns() >
        static_cast<int128_t>(tasks[densest].wcet.ns()) * tasks[i].deadline.ns()) {
      densest = i;
    }
  }
  // sum_i C_i/D_i + (m - 1) C_d/D_d <= m
  Rational lhs;
  for (const Task& t : tasks) lhs.add(t.wcet.ns(), t.deadline.ns());
  lhs.add(static_cast<uint128_t>(m - 1) * tasks[densest].wcet.ns(), tasks[densest].deadline.ns());
  const bool ok = lhs.compare(m, 1) <= 0;
  const long double dmax = static_cast<long double>(tasks[densest].wcet.ns()) / tasks[densest].deadline.ns();
  const long double total = lhs.value() - (m - 1) * dmax;
  return make("gfb", ok ? Verdict::kSchedulable : Verdict::kInconclusive,
              fmt::format("density sum {:.6f}, bound m - (m-1) max = {:.6f} (m = {})", static_cast<double>(total),
                          static_cast<double>(m - (m - 1) * dmax), m));
}

// Baker, "Multiprocessor EDF and deadline monotonic schedulability analysis", RTSS 2003, in the form
// restated by Bertogna, Cirinei & Lipari (ECRTS 2005, Theorem 2): G-EDF meets every deadline if for
// every task k there is a lambda in {C_k/D_k} u {u_i : u_i >= C_k/D_k} with
//   sum_i min(1, beta_i) <= m (1 - lambda) + lambda,
//   beta_i = u_i (1 + (T_i - D_i) / D_k)                          if u_i <= lambda,
//            u_i (1 + (T_i - D_i) / D_k) + (C_i - lambda D_i) / D_k  otherwise.
// The second case uses D_i where some statements have T_i: the larger term, so never less safe.
// Evaluated in long double; a comparison within 1e-12 (relative) of the bound counts as failed.
Result gedf_baker(const std::vector<Task>& tasks, uint32_t m) {
  validate(tasks);
  if (const std::string why = global_unsupported(tasks, m); !why.empty()) return make("baker", Verdict::kNotApplicable, why);
  if (const auto i = overdense(tasks)) return make("baker", Verdict::kUnschedulable, fmt::format("task #{}: C > D", *i));
  using LD = long double;
  auto u = [&](size_t i) { return static_cast<LD>(tasks[i].wcet.ns()) / static_cast<LD>(tasks[i].period.ns()); };
  for (size_t k = 0; k < tasks.size(); ++k) {
    const LD dk = static_cast<LD>(tasks[k].deadline.ns());
    const LD lambda_k = static_cast<LD>(tasks[k].wcet.ns()) / dk;
    std::vector<LD> lambdas{lambda_k};
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (u(i) >= lambda_k) lambdas.push_back(u(i));
    }
    bool passed = false;
    for (const LD lambda : lambdas) {
      LD sum = 0;
      for (size_t i = 0; i < tasks.size(); ++i) {
        const Task& t = tasks[i];
        LD beta = u(i) * (1 + static_cast<LD>(t.period.ns() - t.deadline.ns()) / dk);
        if (u(i) > lambda) beta += (static_cast<LD>(t.wcet.ns()) - lambda * static_cast<LD>(t.deadline.ns())) / dk;
        sum += std::min<LD>(1, beta);
      }
      const LD bound = m * (1 - lambda) + lambda;
      if (sum <= bound - 1e-12L * std::max<LD>(1, bound)) {
        passed = true;
        break;
      }
    }
    if (!passed) return make("baker", Verdict::kInconclusive, fmt::format("task #{}: no lambda satisfies the bound (m = {})", k, m));
  }
  return make("baker", Verdict::kSchedulable, fmt::format("every task passes (m = {})", m));
}

// Bertogna, Cirinei & Lipari, "Improved schedulability analysis of EDF on multiprocessor
// platforms", ECRTS 2005 (Theorem 4; also TPDS 20(4), 2009): G-EDF meets every deadline if for
// every task k
//   sum_{i != k} min(I_i, D_k - C_k) < m (D_k - C_k),
// where I_i = N_i C_i + min(C_i, max(0, D_k - N_i T_i)), N_i = floor((D_k - D_i) / T_i) + 1, bounds
// the interference of task i on a job of k: its jobs due inside k's window, and one carried in.
// Exact integer arithmetic (the continuous-time form: strict, without the discrete "+1").
Result gedf_bcl(const std::vector<Task>& tasks, uint32_t m) {
  validate(tasks);
  if (const std::string why = global_unsupported(tasks, m); !why.empty()) return make("bcl-edf", Verdict::kNotApplicable, why);
  if (const auto i = overdense(tasks)) return make("bcl-edf", Verdict::kUnschedulable, fmt::format("task #{}: C > D", *i));
  for (size_t k = 0; k < tasks.size(); ++k) {
    const int64_t dk = tasks[k].deadline.ns(), slack = dk - tasks[k].wcet.ns();
    int128_t sum = 0;
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (i == k) continue;
      const Task& t = tasks[i];
      const int64_t n = floor_div(dk - t.deadline.ns(), t.period.ns()) + 1;
      const int128_t body = static_cast<int128_t>(std::max<int64_t>(n, 0)) * t.wcet.ns();
      const int128_t carry = std::min<int64_t>(t.wcet.ns(), std::max<int64_t>(0, dk - n * t.period.ns()));
      sum += std::min<int128_t>(body + carry, slack);
    }
    if (!(sum < static_cast<int128_t>(m) * slack)) {
      return make("bcl-edf", Verdict::kInconclusive, fmt::format("task #{}: interference reaches m (D - C) (m = {})", k, m));
    }
  }
  return make("bcl-edf", Verdict::kSchedulable, fmt::format("every task passes (m = {})", m));
}

// Bertogna, Cirinei & Lipari, "New schedulability tests for real-time task sets scheduled by
// deadline monotonic on multiprocessors", OPODIS 2005 (also TPDS 20(4), 2009, Theorem 4): global
// FP meets every deadline if for every task k
//   sum_{i in hp(k)} min(W_i(D_k), D_k - C_k) < m (D_k - C_k),
// W_i the workload bound of `workload` above with r = D_i. Priorities as given (larger first);
// tasks of equal priority count as interfering with each other (FIFO within a level).
Result gfp_bcl(const std::vector<Task>& tasks, uint32_t m) {
  validate(tasks);
  if (const std::string why = global_unsupported(tasks, m); !why.empty()) return make("bcl-fp", Verdict::kNotApplicable, why);
  if (const auto i = overdense(tasks)) return make("bcl-fp", Verdict::kUnschedulable, fmt::format("task #{}: C > D", *i));
  for (size_t k = 0; k < tasks.size(); ++k) {
    const int64_t dk = tasks[k].deadline.ns(), slack = dk - tasks[k].wcet.ns();
    int128_t sum = 0;
    size_t hp = 0;
    for (size_t i = 0; i < tasks.size(); ++i) {
      if (!interferes_fp(tasks, i, k)) continue;
      ++hp;
      sum += std::min<int128_t>(workload(tasks[i], dk, tasks[i].deadline.ns()), slack);
    }
    // With fewer than m interfering tasks the job always has a CPU: it meets D >= C.
    if (hp < m) continue;
    if (!(sum < static_cast<int128_t>(m) * slack)) {
      return make("bcl-fp", Verdict::kInconclusive, fmt::format("task #{}: interference reaches m (D - C) (m = {})", k, m));
    }
  }
  return make("bcl-fp", Verdict::kSchedulable, fmt::format("every task passes (m = {})", m));
}

// Bertogna & Cirinei, "Response-time analysis for globally scheduled symmetric multiprocessor
// platforms", RTSS 2007 (Section 4): in decreasing priority order, the least fixed point of
//   R_k = C_k + floor( (1/m) sum_{i in hp(k)} min(W_i(R_k), R_k - C_k + 1) ),
// W_i the workload bound with r = R_i (the response-time bound already found for a higher-priority
// task; D_i for an equal-priority one, as in the deadline-based test), from R_k = C_k, stopping
// past D_k. Integer time (the paper's discrete form: all our parameters are integer nanoseconds and
// every scheduling event happens at an integer nanosecond).
//
// The iteration is accelerated without changing its result. With x = R_k - C_k, a term is capped
// when W_i(C_k + x) >= x + 1; as W_i(L) - L never increases, a capped term stays capped up to
// some x_i (found by bisection). While at least m terms are capped the right-hand side exceeds
// x + 1 > x, so no fixed point lies below min x_i: the iteration jumps past it instead of creeping
// one nanosecond at a time.
Result gfp_rta(const std::vector<Task>& tasks, uint32_t m) {
  validate(tasks);
  if (const std::string why = global_unsupported(tasks, m); !why.empty()) return make("rta-gfp", Verdict::kNotApplicable, why);
  Result r = make("rta-gfp", Verdict::kSchedulable, fmt::format("every response time within its deadline (m = {})", m));
  r.response_times.assign(tasks.size(), Duration::infinite());
  std::vector<int64_t> bound(tasks.size(), -1);
  for (const size_t k : priority_order(tasks)) {
    const Task& tk = tasks[k];
    const int64_t c = tk.wcet.ns(), limit = tk.deadline.ns() - c;  // x = R - C must stay <= limit
    int64_t x = 0;
    bool ok = limit >= 0;
    while (ok) {
      int128_t sum = 0;
      uint32_t capped = 0;
      int64_t capped_until = limit;
      for (size_t i = 0; i < tasks.size(); ++i) {
        if (!interferes_fp(tasks, i, k)) continue;
        const int64_t ri = tasks[i].priority > tk.priority && bound[i] >= 0 ? bound[i] : tasks[i].deadline.ns();
        const int128_t w = workload(tasks[i], c + x, ri);
        if (w < x + 1) {
          sum += w;
          continue;
        }
        sum += x + 1;
        ++capped;
        int64_t lo = x, hi = limit;  // the last x' in [x, limit] at which the term is still capped
        while (lo < hi) {
          const int64_t mid = lo + (hi - lo + 1) / 2;
          if (workload(tasks[i], c + mid, ri) >= mid + 1) {
            lo = mid;
          } else {
            hi = mid - 1;
          }
        }
        capped_until = std::min(capped_until, lo);
      }
      if (capped >= m) {
        x = capped_until + 1;
        ok = x <= limit;
        continue;
      }
      const int128_t next = sum / m;
      if (next > limit) {
        ok = false;
      } else if (next <= x) {  // never below x (the right side is monotone): a fixed point
        break;
      } else {
        x = static_cast<int64_t>(next);
      }
    }
    if (!ok) {
      if (r.verdict == Verdict::kSchedulable) {
        r.verdict = Verdict::kInconclusive;
        r.detail = fmt::format("task #{}: response-time bound exceeds its deadline {} (m = {})", k, format_duration(tk.deadline), m);
      }
      continue;
    }
    bound[k] = c + x;
    r.response_times[k] = Duration::nanoseconds(c + x);
  }
  return r;
}

}  // namespace edgeos::analysis
