// The workload driver's arithmetic, written once for every backend: how a thread's random streams
// are named, how a job's cost is drawn from its distribution, and how a job is cut into segments
// around its synchronous invocations. The core-only simulator, the SimGrid backend (through it)
// and the booted kernel all call these, so that a scenario's jobs cost the same on each.
//
// Freestanding and header-only: the kernel has no floating point (it is built with
// -mgeneral-regs-only) and no libgcc, so every draw is integer arithmetic in fixed point, with
// 128-bit products and nothing wider than a 64-bit division (a 128-bit one builds a table, at
// compile time).
#pragma once

#include "edgeos/core/base.hpp"
#include "edgeos/core/rng.hpp"
#include "edgeos/core/time.hpp"

namespace edgeos::workloads {

// --- fixed point ------------------------------------------------------------------------------------
//
// Q32 numbers are value * 2^32 in an int64 (or uint64); Q62 numbers value * 2^62, used for
// mantissas in [1, 2).
namespace fixed {

inline constexpr uint64_t kOneQ32 = uint64_t{1} << 32;
inline constexpr uint64_t kOneQ62 = uint64_t{1} << 62;
inline constexpr uint64_t kLn2Q32 = 2'977'044'472;    // ln 2 * 2^32, rounded (2977044471.82)
inline constexpr uint64_t kLog2eQ32 = 6'196'328'019;  // log2(e) * 2^32, rounded (6196328018.72)

// floor(sqrt(x)), digit by digit (the shift-and-subtract method for binary square roots).
constexpr uint64_t isqrt(uint128_t x) {
  uint128_t root = 0;
  uint128_t bit = uint128_t{1} << 126;
  while (bit > x) bit >>= 2;
  while (bit != 0) {
    if (x >= root + bit) {
      x -= root + bit;
      root = (root >> 1) + bit;
    } else {
      root >>= 1;
    }
    bit >>= 2;
  }
  return static_cast<uint64_t>(root);
}

// log2(x) in Q32 for x >= 1, a bit at a time: the integer part from the highest set bit, the
// fraction by squaring the mantissa (a mantissa m in [1, 2) squared past 2 means the next bit is
// 1; Knuth, TAOCP vol. 1, 1.2.2, exercise 25). Exact to the last bit but slow: it builds the tables
// below at compile time; log2_q32 is the fast one.
constexpr int64_t log2_bitwise_q32(uint64_t x) {
  const int n = 63 - __builtin_clzll(x);
  uint64_t m = n <= 62 ? x << (62 - n) : x >> 1;  // x / 2^n, Q62, in [1, 2)
  uint64_t fraction = 0;
  for (int bit = 31; bit >= 0; --bit) {
    m = static_cast<uint64_t>((static_cast<uint128_t>(m) * m) >> 62);  // in [1, 4)
    if (m >= 2 * kOneQ62) {
      m >>= 1;
      fraction |= uint64_t{1} << bit;
    }
  }
  return (static_cast<int64_t>(n) << 32) | static_cast<int64_t>(fraction);
}

// 2^(2^-k) in Q62 for k = 1..32, each the square root of the one before (2^(1/2) = sqrt(2)).
struct Exp2Roots {
  uint64_t root[33] = {};
  constexpr Exp2Roots() {
    root[0] = 2 * kOneQ62;
    for (int k = 1; k <= 32; ++k) root[k] = isqrt(static_cast<uint128_t>(root[k - 1]) << 62);
  }
};
inline constexpr Exp2Roots kExp2Roots{};

// 2^f in Q62 for f in [0, 1) in Q32, a bit at a time: the product of 2^(2^-k) over f's set bits.
// Slow, like log2_bitwise_q32: for the tables.
constexpr uint64_t exp2_bitwise_q62(uint32_t f) {
  uint64_t m = kOneQ62;
  for (int k = 1; k <= 32; ++k) {
    if ((f >> (32 - k)) & 1) m = static_cast<uint64_t>((static_cast<uint128_t>(m) * kExp2Roots.root[k]) >> 62);
  }
  return m;
}

// The fast functions split their argument at its top 8 fraction bits: a table (built at compile
// time by the bitwise functions) gives the value there, and a short Taylor series the rest, whose
// argument is below 2^-8, so that three or four terms are exact to about 2^-34.
inline constexpr uint64_t kLn2Q62 = 3'196'577'161'300'663'915ull;    // ln 2 * 2^62
inline constexpr uint64_t kLog2eQ62 = 6'653'256'548'922'161'246ull;  // log2(e) * 2^62
struct Tables {
  int64_t log2[256] = {};        // log2(1 + i/256), Q32
  uint64_t reciprocal[256] = {};  // 256 / (256 + i), Q62
  uint64_t exp2[256] = {};        // 2^(i/256), Q62
  constexpr Tables() {
    for (uint32_t i = 0; i < 256; ++i) {
      log2[i] = log2_bitwise_q32(uint64_t{256 + i} << 40) - (int64_t{48} << 32);
      reciprocal[i] = static_cast<uint64_t>((uint128_t{1} << 70) / (256 + i));
      exp2[i] = exp2_bitwise_q62(i << 24);
    }
  }
};
inline constexpr Tables kTables{};

// log2(x) in Q32 for x >= 1 (to within a few units of Q32's last place).
constexpr int64_t log2_q32(uint64_t x) {
  const int n = 63 - __builtin_clzll(x);
  const uint64_t m = n <= 62 ? x << (62 - n) : x >> 1;  // x / 2^n, Q62, in [1, 2)
  const uint32_t i = static_cast<uint32_t>(m >> 54) & 0xff;
  const uint64_t d = m & ((uint64_t{1} << 54) - 1);  // m - (1 + i/256), below 2^-8
  // m = (1 + i/256)(1 + r): r = d * 256 / (256 + i), below 2^-8; ln(1 + r) = r - r^2/2 + r^3/3.
  const uint64_t r = static_cast<uint64_t>((static_cast<uint128_t>(d) * kTables.reciprocal[i]) >> 62);
  const uint64_t r2 = static_cast<uint64_t>((static_cast<uint128_t>(r) * r) >> 62);
  const uint64_t r3 = static_cast<uint64_t>((static_cast<uint128_t>(r2) * r) >> 62);
  const uint64_t ln = r - r2 / 2 + r3 / 3;  // Q62
  const int64_t rest = static_cast<int64_t>((static_cast<uint128_t>(ln) * kLog2eQ62) >> 92);  // Q32
  return (static_cast<int64_t>(n) << 32) + kTables.log2[i] + rest;
}

// 2^f in Q62 for a fraction f in [0, 1) given in Q32 (to within about 2^-34, relative).
constexpr uint64_t exp2_fraction_q62(uint32_t f) {
  // 2^f = 2^(i/256) * e^y, y = (f - i/256) ln 2 below 2^-8: e^y = 1 + y + y^2/2 + y^3/6 + y^4/24.
  const uint64_t y = static_cast<uint64_t>((static_cast<uint128_t>(f & 0xff'ffff) * kLn2Q62) >> 32);  // Q62
  const uint64_t y2 = static_cast<uint64_t>((static_cast<uint128_t>(y) * y) >> 62);
  const uint64_t y3 = static_cast<uint64_t>((static_cast<uint128_t>(y2) * y) >> 62);
  const uint64_t y4 = static_cast<uint64_t>((static_cast<uint128_t>(y3) * y) >> 62);
  const uint64_t series = kOneQ62 + y + y2 / 2 + y3 / 6 + y4 / 24;
  return static_cast<uint64_t>((static_cast<uint128_t>(kTables.exp2[f >> 24]) * series) >> 62);
}

// round(value * 2^w) for a Q32 exponent w, saturating at INT64_MAX.
constexpr int64_t scale_by_exp2(uint64_t value, int64_t w_q32) {
  constexpr int64_t kMax = 0x7fff'ffff'ffff'ffffll;
  const int64_t whole = w_q32 >> 32;  // floor (arithmetic shift)
  const uint128_t product = static_cast<uint128_t>(value) * exp2_fraction_q62(static_cast<uint32_t>(w_q32));
  const int64_t shift = 62 - whole;  // product * 2^whole / 2^62
  if (shift <= 0) {
    if (product == 0) return 0;
    if (-shift >= 64 || (product >> (63 + shift)) != 0) return kMax;
    return static_cast<int64_t>(product << -shift);
  }
  if (shift >= 127) return 0;
  const uint128_t rounded = (product >> (shift - 1)) + 1;  // round half up
  const uint128_t out = rounded >> 1;
  return out > static_cast<uint128_t>(kMax) ? kMax : static_cast<int64_t>(out);
}

// round(value * q / 2^32) for a signed Q32 q (value >= 0).
constexpr int64_t mul_q32(int64_t value, int64_t q) {
  const int128_t p = static_cast<int128_t>(value) * q;
  return static_cast<int64_t>((p + (int128_t{1} << 31)) >> 32);
}

}  // namespace fixed

// --- random streams ---------------------------------------------------------------------------------
//
// A stream is named by a label ("cost/ingest", "workload/iot", "call/detect#3"); its generator is
// derived from the run's seed and the label's FNV-1a hash (and an instance number), so adding a
// thread or a workload never moves another's draws.

class StreamName {
 public:
  constexpr StreamName& add(const char* s, size_t n) {
    for (size_t i = 0; i < n; ++i) {
      hash_ ^= static_cast<unsigned char>(s[i]);
      hash_ *= 0x100'0000'01b3ull;
    }
    return *this;
  }
  constexpr StreamName& add(const char* s) {
    size_t n = 0;
    while (s[n] != '\0') ++n;
    return add(s, n);
  }
  // The decimal digits of v.
  constexpr StreamName& add_number(uint64_t v) {
    char digits[20] = {};
    size_t n = 0;
    do {
      digits[19 - n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    return add(digits + 20 - n, n);
  }
  constexpr uint64_t hash() const { return hash_; }
  // The stream of this name under `seed`, for `instance`.
  constexpr Rng rng(uint64_t seed, uint64_t instance = 0) const { return Rng::derive(Rng::derive(seed, hash_).next(), instance); }

 private:
  uint64_t hash_ = 0xcbf2'9ce4'8422'2325ull;  // FNV-1a offset basis
};

// --- cost draws -------------------------------------------------------------------------------------

enum class CostKind : uint8_t { kFixed, kUniform, kNormal, kLogNormal, kExponential };

// A cost distribution, in nanoseconds. value: fixed; the mean (normal, exponential); the median
// (lognormal). min and max: uniform's bounds; the truncation of the others (max 0: none).
struct CostModel {
  CostKind kind = CostKind::kFixed;
  int64_t value = 0, min = 0, max = 0, sd = 0;
  uint32_t sigma_ppm = 0;  // lognormal: the sigma of the underlying normal, times 10^6
};

namespace detail {

// -ln(u) in Q32 for u uniform in (0, 1], drawn as 53 bits.
constexpr int64_t neg_ln_uniform_q32(Rng& rng) {
  const uint64_t u = (rng.next() >> 11) + 1;  // u / 2^53 in (0, 1]
  const int64_t neg_log2 = (int64_t{53} << 32) - fixed::log2_q32(u);
  return static_cast<int64_t>((static_cast<uint128_t>(neg_log2) * fixed::kLn2Q32) >> 32);
}

// A standard normal draw in Q32, by Marsaglia's polar method (Marsaglia & Bray, "A convenient
// method for generating normal variables", SIAM Review 1964): (v1, v2) uniform in the unit disc,
// s = v1^2 + v2^2, z = v1 * sqrt(-2 ln s / s). With a = -log2 s, sqrt(-2 ln s / s) is
// sqrt(2 a ln 2) * 2^(a/2) = 2^((a + log2(2 a ln 2)) / 2): one log2 and one exp2, no square root
// and no division.
constexpr int64_t standard_normal_q32(Rng& rng) {
  for (;;) {
    const int64_t v1 = static_cast<int64_t>(rng.next() >> 32) - (int64_t{1} << 31);  // Q31 in [-1, 1)
    const int64_t v2 = static_cast<int64_t>(rng.next() >> 32) - (int64_t{1} << 31);
    const uint64_t s = static_cast<uint64_t>(v1 * v1) + static_cast<uint64_t>(v2 * v2);  // Q62
    if (s == 0 || s >= fixed::kOneQ62) continue;
    const int64_t a = (int64_t{62} << 32) - fixed::log2_q32(s);  // Q32, in [0, 62]
    const uint64_t two_a_ln2 = static_cast<uint64_t>((static_cast<uint128_t>(2 * a) * fixed::kLn2Q32) >> 32);  // Q32
    if (two_a_ln2 == 0) return 0;  // s within 2^-31 of 1: z rounds to 0
    const int64_t e = (a + fixed::log2_q32(two_a_ln2) - (int64_t{32} << 32)) / 2;  // Q32, in (-17, 35)
    const int whole = static_cast<int>(e >> 32);  // floor
    const uint64_t mantissa = fixed::exp2_fraction_q62(static_cast<uint32_t>(e));
    // |v1| (Q31) * 2^e = |v1| * mantissa (Q93) * 2^whole, in Q32.
    const uint128_t p = static_cast<uint128_t>(v1 < 0 ? -v1 : v1) * mantissa;
    const int64_t z = static_cast<int64_t>(p >> (61 - whole));
    return v1 < 0 ? -z : z;
  }
}

constexpr int64_t draw_once(const CostModel& c, Rng& rng) {
  switch (c.kind) {
    case CostKind::kNormal:
      return c.value + fixed::mul_q32(c.sd, standard_normal_q32(rng));
    case CostKind::kLogNormal: {
      const int64_t y = static_cast<int64_t>(c.sigma_ppm) * standard_normal_q32(rng) / 1'000'000;  // Q32
      const int64_t w = static_cast<int64_t>((static_cast<int128_t>(y) * static_cast<int64_t>(fixed::kLog2eQ32)) >> 32);
      return fixed::scale_by_exp2(static_cast<uint64_t>(c.value), w);  // median * e^y = median * 2^(y log2 e)
    }
    case CostKind::kExponential:
      return fixed::mul_q32(c.value, neg_ln_uniform_q32(rng));
    default:
      return c.value;
  }
}

}  // namespace detail

// A draw from `c` (>= 1 ns). Fixed costs draw nothing; uniform ones one bounded integer
// (Rng::between). Normal, lognormal and exponential ones are truncated to [min, max] by drawing
// again, up to 64 times, rather than piling mass on the bounds; then clamped.
constexpr Duration draw_cost(const CostModel& c, Rng& rng) {
  if (c.kind == CostKind::kFixed) return Duration::nanoseconds(c.value);
  if (c.kind == CostKind::kUniform) {
    const int64_t v = rng.between(c.min, c.max);
    return Duration::nanoseconds(v < 1 ? 1 : v);
  }
  auto within = [&](int64_t ns) { return ns >= c.min && (c.max == 0 || ns <= c.max); };
  int64_t ns = detail::draw_once(c, rng);
  for (int i = 0; i < 64 && !within(ns); ++i) ns = detail::draw_once(c, rng);
  const int64_t low = c.min > 1 ? c.min : 1;
  if (ns < low) ns = low;
  if (c.max != 0 && ns > c.max) ns = c.max;
  return Duration::nanoseconds(ns);
}

// --- a job's plan -----------------------------------------------------------------------------------
//
// A job of `cost` of its own work that makes `calls` synchronous invocations, call i after at(i) of
// its own work (non-decreasing; a call past the cost happens at its end) and costing callee(i)
// inside the callee (drawn in call order), is the segments own, callee, own, ..., own: out(d) is
// called 2 * calls + 1 times, in that order.
template <class At, class Callee, class Out>
constexpr void plan_job(Duration cost, uint32_t calls, At&& at, Callee&& callee, Out&& out) {
  Duration done = Duration::zero();
  for (uint32_t i = 0; i < calls; ++i) {
    const Duration when = at(i) < cost ? at(i) : cost;
    out(when - done);
    const Duration inside = callee(i);
    out(inside < Duration::nanoseconds(1) ? Duration::nanoseconds(1) : inside);
    done = when;
  }
  out(cost - done);
}

}  // namespace edgeos::workloads
