// Time in edgeos: signed 64-bit nanoseconds, as two strong types.
//
// `Instant` is a point on a backend's clock (simulated time, or TSC-derived time in the kernel);
// `Duration` is a signed span between two instants. Only the meaningful operations exist:
// Instant - Instant = Duration, Instant + Duration = Instant, Duration arithmetic, comparisons.
//
// Both types have an "unbounded" value (Instant::never(), Duration::infinite()) used for "no
// timer", "no deadline" and "unlimited budget". Addition saturates at those values instead of
// overflowing (signed overflow is undefined behaviour), so `never() + d` stays `never()`.
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos {

namespace detail {
constexpr int64_t saturating_add(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_add_overflow(a, b, &r)) {
    return b > 0 ? std::numeric_limits<int64_t>::max() : std::numeric_limits<int64_t>::min();
  }
  return r;
}
constexpr int64_t saturating_mul(int64_t a, int64_t b) {
  int64_t r = 0;
  if (__builtin_mul_overflow(a, b, &r)) {
    return (a < 0) != (b < 0) ? std::numeric_limits<int64_t>::min()
                              : std::numeric_limits<int64_t>::max();
  }
  return r;
}
}  // namespace detail

class Duration {
 public:
  constexpr Duration() = default;

  static constexpr Duration nanoseconds(int64_t ns) { return Duration(ns); }
  static constexpr Duration microseconds(int64_t us) { return Duration(detail::saturating_mul(us, 1'000)); }
  static constexpr Duration milliseconds(int64_t ms) { return Duration(detail::saturating_mul(ms, 1'000'000)); }
  static constexpr Duration seconds(int64_t s) { return Duration(detail::saturating_mul(s, 1'000'000'000)); }
  static constexpr Duration zero() { return Duration(0); }
  // "Unbounded": an unlimited budget, an absent deadline.
  static constexpr Duration infinite() { return Duration(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t ns() const { return ns_; }
  constexpr bool is_infinite() const { return ns_ == std::numeric_limits<int64_t>::max(); }

  constexpr auto operator<=>(const Duration&) const = default;

  constexpr Duration operator+(Duration o) const { return Duration(detail::saturating_add(ns_, o.ns_)); }
  constexpr Duration operator-(Duration o) const {
    if (is_infinite()) return *this;
    return Duration(detail::saturating_add(ns_, o.ns_ == std::numeric_limits<int64_t>::min()
                                                    ? std::numeric_limits<int64_t>::max()
                                                    : -o.ns_));
  }
  constexpr Duration operator-() const { return Duration(-ns_); }
  constexpr Duration operator*(int64_t k) const { return Duration(detail::saturating_mul(ns_, k)); }
  constexpr int64_t operator/(Duration o) const { return ns_ / o.ns_; }
  constexpr Duration operator/(int64_t k) const { return Duration(ns_ / k); }
  constexpr Duration operator%(Duration o) const { return Duration(ns_ % o.ns_); }
  constexpr Duration& operator+=(Duration o) { return *this = *this + o; }
  // Accumulates a finite amount into a finite total without the saturation check: for CPU-time
  // counters on the accounting path, which cannot come near 2^63 ns (292 years).
  constexpr void accumulate(Duration o) { ns_ += o.ns_; }
  // Its counterpart for finite amounts known not to go below the minimum (budget bookkeeping,
  // whose amounts are bounded by a finite budget).
  constexpr void deduct(Duration o) { ns_ -= o.ns_; }
  constexpr Duration& operator-=(Duration o) { return *this = *this - o; }

 private:
  constexpr explicit Duration(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

class Instant {
 public:
  constexpr Instant() = default;

  static constexpr Instant from_ns(int64_t ns) { return Instant(ns); }
  // Time zero of a backend's clock (the start of a simulation, or boot).
  static constexpr Instant epoch() { return Instant(0); }
  // "Never": a disarmed timer, an absent deadline. Compares after every real instant.
  static constexpr Instant never() { return Instant(std::numeric_limits<int64_t>::max()); }

  constexpr int64_t ns() const { return ns_; }
  constexpr bool is_never() const { return ns_ == std::numeric_limits<int64_t>::max(); }

  constexpr auto operator<=>(const Instant&) const = default;

  constexpr Instant operator+(Duration d) const {
    if (is_never() || d.is_infinite()) return never();
    return Instant(detail::saturating_add(ns_, d.ns()));
  }
  constexpr Instant operator-(Duration d) const { return *this + (-d); }
  constexpr Duration operator-(Instant o) const {
    if (is_never()) return Duration::infinite();
    return Duration::nanoseconds(ns_ - o.ns_);
  }
  constexpr Instant& operator+=(Duration d) { return *this = *this + d; }
  // A finite instant plus a finite span, without the checks for never() and overflow: for budget
  // bookkeeping, whose amounts and periods are finite (validate(SchedParams)) and whose instants
  // cannot come near 2^63 ns (292 years).
  constexpr Instant plus_finite(Duration d) const { return Instant(ns_ + d.ns()); }

 private:
  constexpr explicit Instant(int64_t ns) : ns_(ns) {}
  int64_t ns_ = 0;
};

constexpr Instant min(Instant a, Instant b) { return a < b ? a : b; }
constexpr Instant max(Instant a, Instant b) { return a < b ? b : a; }
constexpr Duration min(Duration a, Duration b) { return a < b ? a : b; }
constexpr Duration max(Duration a, Duration b) { return a < b ? b : a; }

namespace time_literals {
constexpr Duration operator""_ns(unsigned long long v) { return Duration::nanoseconds(static_cast<int64_t>(v)); }
constexpr Duration operator""_us(unsigned long long v) { return Duration::microseconds(static_cast<int64_t>(v)); }
constexpr Duration operator""_ms(unsigned long long v) { return Duration::milliseconds(static_cast<int64_t>(v)); }
constexpr Duration operator""_s(unsigned long long v) { return Duration::seconds(static_cast<int64_t>(v)); }
}  // namespace time_literals

}  // namespace edgeos
