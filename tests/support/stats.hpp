// Statistics for tests of random generators: the one-sample Kolmogorov-Smirnov test.
#pragma once

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

namespace edgeos::test {

// One-sample Kolmogorov-Smirnov statistic of `sample` against the continuous CDF `cdf`.
inline double ks_statistic(std::vector<double> sample, const std::function<double(double)>& cdf) {
  std::sort(sample.begin(), sample.end());
  const double n = static_cast<double>(sample.size());
  double d = 0;
  for (size_t i = 0; i < sample.size(); ++i) {
    const double f = cdf(sample[i]);
    d = std::max({d, f - static_cast<double>(i) / n, static_cast<double>(i + 1) / n - f});
  }
  return d;
}

// The statistic for a sample of integers, evaluated where its empirical CDF jumps: the largest
// |F_n(k) - F(k)| over the values k taken, where `cdf(k)` is P(X <= k). (For integers obtained
// by rounding a continuous variable this is the exact discrete statistic; the continuous critical
// value is conservative for it.)
inline double ks_statistic_discrete(std::vector<double> sample, const std::function<double(double)>& cdf) {
  std::sort(sample.begin(), sample.end());
  const double n = static_cast<double>(sample.size());
  double d = 0;
  for (size_t i = 0; i < sample.size();) {
    size_t j = i;
    while (j < sample.size() && sample[j] == sample[i]) ++j;
    const double f = cdf(sample[i]);
    d = std::max({d, std::abs(static_cast<double>(j) / n - f), std::abs(static_cast<double>(i) / n - cdf(sample[i] - 1))});
    i = j;
  }
  return d;
}

// The asymptotic KS critical value at significance 0.001 (Smirnov: K_{0.999} = 1.95).
inline double ks_critical(size_t n) { return 1.95 / std::sqrt(static_cast<double>(n)); }

}  // namespace edgeos::test
