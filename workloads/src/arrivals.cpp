// Workload models. See arrivals.hpp for what each follows.
#include "edgeos/workloads/arrivals.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <cmath>
#include <queue>

#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/generators.hpp"

namespace edgeos::arrivals {

namespace {

// An exponential gap with the given rate (per second), in whole nanoseconds (at least 1).
Duration exponential_gap(Rng& rng, double per_second) {
  const double seconds = -std::log(1.0 - gen::uniform01(rng)) / per_second;
  return Duration::nanoseconds(std::max<int64_t>(1, std::llround(seconds * 1e9)));
}

Duration uniform_upto(Rng& rng, Duration max) {
  return max > Duration::zero() ? Duration::nanoseconds(rng.between(0, max.ns())) : Duration::zero();
}

class PoissonSource final : public Source {
 public:
  PoissonSource(Rng rng, double rate, Instant start, Instant stop, uint32_t target, CostFn cost)
      : rng_(rng), rate_(rate), t_(start), stop_(stop), target_(target), cost_(std::move(cost)) {}
  bool next(Arrival& a) override {
    t_ += exponential_gap(rng_, rate_);
    if (t_ >= stop_) return false;
    a = Arrival{};
    a.time = t_;
    a.target = target_;
    if (cost_) a.cost = cost_(rng_, 0);
    return true;
  }

 private:
  Rng rng_;
  double rate_;
  Instant t_, stop_;
  uint32_t target_;
  CostFn cost_;
};

class ClientsSource final : public Source {
 public:
  ClientsSource(Rng rng, double rate, uint32_t requests, Duration gap, Instant start, Instant stop, uint32_t target,
                CostFn cost)
      : rng_(rng), rate_(rate), requests_(requests), gap_(gap), next_client_(start), stop_(stop), target_(target),
        cost_(std::move(cost)) {
    next_client_ += exponential_gap(rng_, rate_);
  }
  bool next(Arrival& a) override {
    // The earliest of: the next new client, the next request of a client already here.
    while (next_client_ < stop_ && (due_.empty() || next_client_ < due_.top().time)) {
      due_.push(Due{next_client_, clients_++, 0});
      next_client_ += exponential_gap(rng_, rate_);
    }
    if (due_.empty()) return false;
    const Due d = due_.top();
    due_.pop();
    if (d.time >= stop_) {
      due_ = {};  // every later request is past the end as well
      return false;
    }
    if (d.request + 1 < requests_) due_.push(Due{d.time + gap_, d.client, d.request + 1});
    a = Arrival{};
    a.time = d.time;
    a.target = target_;
    a.tag = d.client;
    a.kind = d.request == 0 ? 0 : 1;
    if (cost_) a.cost = cost_(rng_, 0);
    return true;
  }
  std::vector<std::string> kinds() const override { return {"first", "repeat"}; }

 private:
  struct Due {
    Instant time;
    uint64_t client;
    uint32_t request;
    bool operator>(const Due& o) const { return time != o.time ? time > o.time : client > o.client; }
  };
  Rng rng_;
  double rate_;
  uint32_t requests_;
  Duration gap_;
  Instant next_client_, stop_;
  uint32_t target_;
  CostFn cost_;
  uint64_t clients_ = 0;
  std::priority_queue<Due, std::vector<Due>, std::greater<>> due_;
};

// The generator of the MMPP's modulating chain, per second.
Eigen::MatrixXd mmpp_generator(const std::vector<Duration>& sojourn, const std::vector<std::vector<double>>& transitions) {
  const auto n = static_cast<Eigen::Index>(sojourn.size());
  Eigen::MatrixXd q = Eigen::MatrixXd::Zero(n, n);
  for (Eigen::Index i = 0; i < n; ++i) {
    const double leave = 1e9 / static_cast<double>(sojourn[i].ns());
    for (Eigen::Index j = 0; j < n; ++j) {
      if (i == j) continue;
      const double p = transitions.empty() ? 1.0 / static_cast<double>(n - 1) : transitions[i][j];
      q(i, j) = leave * p;
    }
    q(i, i) = -leave;
  }
  return q;
}

// The stationary distribution pi of generator q: pi Q = 0, sum pi = 1.
Eigen::VectorXd stationary(const Eigen::MatrixXd& q) {
  const Eigen::Index n = q.rows();
  Eigen::MatrixXd a = q.transpose();
  a.row(n - 1).setOnes();
  Eigen::VectorXd b = Eigen::VectorXd::Zero(n);
  b(n - 1) = 1.0;
  return a.fullPivLu().solve(b);
}

class MmppSource final : public Source {
 public:
  MmppSource(Rng rng, std::vector<double> rates, std::vector<Duration> sojourn, std::vector<std::vector<double>> transitions,
             Instant start, Instant stop, uint32_t target, CostFn cost)
      : rng_(rng), rates_(std::move(rates)), sojourn_(std::move(sojourn)), transitions_(std::move(transitions)), t_(start),
        stop_(stop), target_(target), cost_(std::move(cost)) {
    // Start in the stationary distribution so that the long-run rate holds from the beginning.
    const Eigen::VectorXd pi = stationary(mmpp_generator(sojourn_, transitions_));
    state_ = pick(pi);
    state_end_ = t_ + exponential_gap(rng_, 1e9 / static_cast<double>(sojourn_[state_].ns()));
  }
  bool next(Arrival& a) override {
    for (;;) {
      const Instant candidate = t_ + exponential_gap(rng_, rates_[state_]);
      if (candidate < state_end_) {
        t_ = candidate;
        break;
      }
      // No arrival before the state changes: memorylessness lets us restart from the change.
      t_ = state_end_;
      if (t_ >= stop_) return false;
      std::vector<double> p(rates_.size(), 0.0);
      for (size_t j = 0; j < p.size(); ++j) {
        p[j] = j == state_ ? 0.0 : (transitions_.empty() ? 1.0 : transitions_[state_][j]);
      }
      state_ = pick(Eigen::Map<Eigen::VectorXd>(p.data(), static_cast<Eigen::Index>(p.size())));
      state_end_ = t_ + exponential_gap(rng_, 1e9 / static_cast<double>(sojourn_[state_].ns()));
    }
    if (t_ >= stop_) return false;
    a = Arrival{};
    a.time = t_;
    a.target = target_;
    if (cost_) a.cost = cost_(rng_, 0);
    return true;
  }

 private:
  size_t pick(const Eigen::VectorXd& weights) {
    const double total = weights.sum();
    double u = gen::uniform01(rng_) * total;
    for (Eigen::Index i = 0; i < weights.size(); ++i) {
      u -= weights(i);
      if (u < 0) return static_cast<size_t>(i);
    }
    return static_cast<size_t>(weights.size() - 1);
  }

  Rng rng_;
  std::vector<double> rates_;
  std::vector<Duration> sojourn_;
  std::vector<std::vector<double>> transitions_;
  Instant t_, stop_, state_end_;
  size_t state_ = 0;
  uint32_t target_;
  CostFn cost_;
};

class IotSource final : public Source {
 public:
  IotSource(Rng rng, uint32_t sensors, Duration period, Duration jitter, std::vector<Burst> bursts, Instant start,
            Instant stop, uint32_t target, CostFn cost)
      : rng_(rng), period_(period), jitter_(jitter), bursts_(std::move(bursts)), start_(start), stop_(stop), target_(target),
        cost_(std::move(cost)) {
    std::sort(bursts_.begin(), bursts_.end(), [](const Burst& a, const Burst& b) { return a.at < b.at; });
    nominal_.resize(sensors);
    for (uint32_t s = 0; s < sensors; ++s) {
      nominal_[s] = start + Duration::nanoseconds(rng_.between(0, period.ns() - 1));  // each sensor's phase
      sensors_.push({nominal_[s] + uniform_upto(rng_, jitter_), s});
    }
  }
  bool next(Arrival& a) override {
    for (;;) {
      // Expand every burst that starts no later than the earliest pending reading: its readings
      // (uniform in [at, at + within)) join the others, so overlapping bursts interleave.
      auto earliest = [&] {
        Instant t = sensors_.empty() ? Instant::never() : sensors_.top().first;
        if (!storm_.empty()) t = min(t, storm_.top());
        return t;
      };
      while (next_burst_ < bursts_.size() && bursts_[next_burst_].at <= earliest()) {
        const Burst& b = bursts_[next_burst_++];
        for (uint32_t i = 0; i < b.count; ++i) storm_.push(b.at + Duration::nanoseconds(rng_.between(0, b.within.ns() - 1)));
      }
      Instant t;
      if (!storm_.empty() && (sensors_.empty() || storm_.top() <= sensors_.top().first)) {
        t = storm_.top();
        storm_.pop();
      } else if (!sensors_.empty()) {
        const uint32_t s = sensors_.top().second;
        t = sensors_.top().first;
        sensors_.pop();
        nominal_[s] += period_;
        sensors_.push({nominal_[s] + uniform_upto(rng_, jitter_), s});
      } else {
        return false;
      }
      if (t >= stop_) return false;
      if (t < start_) continue;  // a burst before the workload starts
      a = Arrival{};
      a.time = t;
      a.target = target_;
      if (cost_) a.cost = cost_(rng_, 0);
      return true;
    }
  }

 private:
  using Entry = std::pair<Instant, uint32_t>;
  Rng rng_;
  Duration period_, jitter_;
  std::vector<Burst> bursts_;
  size_t next_burst_ = 0;
  std::priority_queue<Instant, std::vector<Instant>, std::greater<>> storm_;  // expanded burst readings
  std::vector<Instant> nominal_;
  std::priority_queue<Entry, std::vector<Entry>, std::greater<>> sensors_;
  Instant start_, stop_;
  uint32_t target_;
  CostFn cost_;
};

class ArSource final : public Source {
 public:
  ArSource(Rng rng, double fps, Duration jitter, Instant start, Instant stop, uint32_t target)
      : rng_(rng), fps_(fps), jitter_(jitter), start_(start), stop_(stop), target_(target) {}
  bool next(Arrival& a) override {
    // Frame k is due at start + k / fps (computed from k, so rounding never accumulates).
    const Instant nominal = start_ + Duration::nanoseconds(std::llround(static_cast<double>(frame_) * 1e9 / fps_));
    const Instant t = nominal + uniform_upto(rng_, jitter_);
    if (nominal >= stop_ || t >= stop_) return false;
    a = Arrival{};
    a.time = t;
    a.target = target_;
    a.tag = frame_++;
    return true;
  }

 private:
  Rng rng_;
  double fps_;
  Duration jitter_;
  Instant start_, stop_;
  uint32_t target_;
  uint64_t frame_ = 0;
};

// ETC parameters, Atikoglu et al. 2012.
constexpr double kKeyMu = 30.7984, kKeySigma = 8.20449, kKeyK = 0.078688;
constexpr double kValueSigma = 214.476, kValueK = 0.348238;
constexpr double kGapSigmaUs = 16.0292, kGapK = 0.154971;

class KvSource final : public Source {
 public:
  KvSource(Rng rng, double rate, double get_ratio, Instant start, Instant stop, uint32_t target, CostFn cost)
      : rng_(rng), rate_(rate), get_ratio_(get_ratio), t_(start), stop_(stop), target_(target), cost_(std::move(cost)) {}
  bool next(Arrival& a) override {
    t_ += etc_gap(rng_, rate_);
    if (t_ >= stop_) return false;
    a = Arrival{};
    a.time = t_;
    a.target = target_;
    a.kind = gen::uniform01(rng_) < get_ratio_ ? 0 : 1;
    a.size = etc_sizes(rng_).value;
    if (cost_) a.cost = cost_(rng_, a.size);
    return true;
  }
  std::vector<std::string> kinds() const override { return {"get", "set"}; }

 private:
  Rng rng_;
  double rate_, get_ratio_;
  Instant t_, stop_;
  uint32_t target_;
  CostFn cost_;
};

}  // namespace

double gev_quantile(double p, double mu, double sigma, double k) {
  return mu + sigma * (std::pow(-std::log(p), -k) - 1.0) / k;
}

double gpd_quantile(double p, double theta, double sigma, double k) {
  return theta + sigma * (std::pow(1.0 - p, -k) - 1.0) / k;
}

EtcSizes etc_sizes(Rng& rng) {
  // Inverse-transform sampling; p stays inside (0, 1) so the quantiles are finite.
  const double p1 = std::clamp(gen::uniform01(rng), 1e-12, 1.0 - 1e-12);
  const double p2 = std::clamp(gen::uniform01(rng), 1e-12, 1.0 - 1e-12);
  const double key = std::clamp(std::round(gev_quantile(p1, kKeyMu, kKeySigma, kKeyK)), 1.0, 250.0);  // memcached: <= 250
  const double value = std::clamp(std::ceil(gpd_quantile(p2, 0.0, kValueSigma, kValueK)), 1.0, 1048576.0);  // <= 1 MiB
  return EtcSizes{static_cast<uint32_t>(key), static_cast<uint32_t>(value)};
}

Duration etc_gap(Rng& rng, double per_second) {
  const double mean_us = kGapSigmaUs / (1.0 - kGapK);  // mean of the GP with theta = 0
  const double p = std::clamp(gen::uniform01(rng), 0.0, 1.0 - 1e-12);
  const double gap_us = gpd_quantile(p, 0.0, kGapSigmaUs, kGapK) * (1e6 / per_second) / mean_us;
  return Duration::nanoseconds(std::max<int64_t>(1, std::llround(gap_us * 1e3)));
}

double mmpp_mean_rate(const std::vector<double>& per_second, const std::vector<Duration>& sojourn,
                      const std::vector<std::vector<double>>& transitions) {
  if (per_second.size() < 2 || sojourn.size() != per_second.size()) throw InputError("mmpp: need a rate and a sojourn time per state (at least two)");
  const Eigen::VectorXd pi = stationary(mmpp_generator(sojourn, transitions));
  double rate = 0;
  for (size_t i = 0; i < per_second.size(); ++i) rate += pi(static_cast<Eigen::Index>(i)) * per_second[i];
  return rate;
}

std::unique_ptr<Source> poisson(Rng rng, double per_second, Instant start, Instant stop, uint32_t target, CostFn cost) {
  if (!(per_second > 0)) throw InputError("poisson: rate must be > 0");
  return std::make_unique<PoissonSource>(rng, per_second, start, stop, target, std::move(cost));
}

std::unique_ptr<Source> mmpp(Rng rng, std::vector<double> per_second, std::vector<Duration> sojourn,
                             std::vector<std::vector<double>> transitions, Instant start, Instant stop, uint32_t target,
                             CostFn cost) {
  mmpp_mean_rate(per_second, sojourn, transitions);  // validates
  return std::make_unique<MmppSource>(rng, std::move(per_second), std::move(sojourn), std::move(transitions), start, stop,
                                      target, std::move(cost));
}

std::unique_ptr<Source> iot(Rng rng, uint32_t sensors, Duration period, Duration jitter, std::vector<Burst> bursts,
                            Instant start, Instant stop, uint32_t target, CostFn cost) {
  if (sensors == 0 || period <= Duration::zero()) throw InputError("iot: need sensors > 0 and a period > 0");
  if (jitter > period) throw InputError("iot: jitter must not exceed the reading period (readings of a sensor stay in order)");
  return std::make_unique<IotSource>(rng, sensors, period, jitter, std::move(bursts), start, stop, target, std::move(cost));
}

std::unique_ptr<Source> clients(Rng rng, double per_second, uint32_t requests, Duration gap, Instant start, Instant stop,
                                uint32_t target, CostFn cost) {
  if (!(per_second > 0)) throw InputError("clients: rate must be > 0");
  if (requests == 0 || gap <= Duration::zero()) throw InputError("clients: need requests >= 1 and a gap > 0");
  return std::make_unique<ClientsSource>(rng, per_second, requests, gap, start, stop, target, std::move(cost));
}

std::unique_ptr<Source> ar_frames(Rng rng, double fps, Duration jitter, Instant start, Instant stop, uint32_t target) {
  if (!(fps > 0)) throw InputError("ar: fps must be > 0");
  if (jitter.ns() >= std::llround(1e9 / fps)) throw InputError("ar: jitter must be shorter than a frame period");
  return std::make_unique<ArSource>(rng, fps, jitter, start, stop, target);
}

std::unique_ptr<Source> kv(Rng rng, double per_second, double get_ratio, Instant start, Instant stop, uint32_t target,
                           CostFn cost) {
  if (!(per_second > 0)) throw InputError("kv: rate must be > 0");
  if (!(get_ratio >= 0 && get_ratio <= 1)) throw InputError("kv: get_ratio must be in [0, 1]");
  return std::make_unique<KvSource>(rng, per_second, get_ratio, start, stop, target, std::move(cost));
}

}  // namespace edgeos::arrivals
