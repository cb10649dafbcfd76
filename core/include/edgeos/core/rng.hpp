// A small, fast, reproducible pseudo-random generator usable in freestanding code.
//
// xoshiro256** by Blackman & Vigna ("Scrambled linear pseudorandom number generators", ACM TOMS
// 2021), seeded through splitmix64 as its authors recommend. Integer-only: the same seed gives
// the same stream on every backend and compiler. Bounded draws use Lemire's multiply-shift
// method with rejection ("Fast random integer generation in an interval", ACM TOMACS 2019), so
// they are exactly uniform.
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos {

class Rng {
 public:
  explicit constexpr Rng(uint64_t seed = 0) {
    uint64_t x = seed;
    for (uint64_t& s : s_) s = splitmix64(x);
  }

  // An independent stream for a sub-component (a thread, a device) of a seeded run.
  static constexpr Rng derive(uint64_t seed, uint64_t stream) {
    uint64_t x = seed ^ (stream * 0x9e37'79b9'7f4a'7c15ull);
    return Rng(splitmix64(x));
  }

  constexpr uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }

  // Uniform in [0, bound); bound > 0.
  constexpr uint64_t below(uint64_t bound) {
    uint128_t m = static_cast<uint128_t>(next()) * bound;
    auto low = static_cast<uint64_t>(m);
    if (low < bound) {
      const uint64_t threshold = (0 - bound) % bound;
      while (low < threshold) {
        m = static_cast<uint128_t>(next()) * bound;
        low = static_cast<uint64_t>(m);
      }
    }
    return static_cast<uint64_t>(m >> 64);
  }

  // Uniform in [lo, hi]; lo <= hi.
  constexpr int64_t between(int64_t lo, int64_t hi) {
    const uint64_t span = static_cast<uint64_t>(hi) - static_cast<uint64_t>(lo);
    if (span == ~uint64_t{0}) return static_cast<int64_t>(next());
    return static_cast<int64_t>(static_cast<uint64_t>(lo) + below(span + 1));
  }

 private:
  static constexpr uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  static constexpr uint64_t splitmix64(uint64_t& x) {
    uint64_t z = (x += 0x9e37'79b9'7f4a'7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58'476d'1ce4'e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d0'49bb'1331'11ebull;
    return z ^ (z >> 31);
  }

  uint64_t s_[4] = {};
};

}  // namespace edgeos
