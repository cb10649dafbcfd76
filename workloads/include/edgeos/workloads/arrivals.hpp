// Arrival streams: the workload models and trace readers that drive sporadic threads.
//
// Every source yields arrivals one at a time in non-decreasing time order, so a simulation holds
// one pending arrival per source however long the trace: a 1 GB trace replays in bounded memory.
// Models draw from their own seeded Rng: a seed fixes every arrival.
//
//   poisson   open-loop arrivals at a constant rate (exponential inter-arrival times)
//   mmpp      Markov-modulated Poisson process: the rate follows a continuous-time Markov chain
//   iot       a fleet of sensors reading periodically with release jitter, plus event bursts
//             (an alarm storm: many readings within a short window)
//   ar        camera frames at a frame rate, each entering a pipeline of stages
//   kv        memcached-style get/set requests with the Facebook ETC distributions (Atikoglu,
//             Xu, Frachtenberg, Jiang & Paleczny, "Workload analysis of a large-scale key-value
//             store", SIGMETRICS 2012): key size GEV(30.7984, 8.20449, 0.078688), value size
//             generalized Pareto(0, 214.476, 0.348238), inter-arrival generalized Pareto(0,
//             16.0292us, 0.154971), scaled to the requested mean rate
//   trace     CSV or JSON Lines arrival traces (docs/traces.md)
//   azure     the Azure Functions public trace: per-minute invocation counts per function
//             (Shahrad et al., "Serverless in the wild", USENIX ATC 2020)
//   pcap      one arrival per packet of a capture (libpcap)
#pragma once

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgeos/core/rng.hpp"
#include "edgeos/core/time.hpp"

namespace edgeos::arrivals {

struct Arrival {
  Instant time;
  uint32_t target = 0;                  // index into the run's table of threads
  Duration cost = Duration::zero();     // 0: the target thread's own cost model
  Duration deadline = Duration::zero(); // relative; 0: the thread's own
  uint32_t size = 0;                    // bytes (a value, a packet)
  uint16_t kind = 0;                    // index into Source::kinds()
  uint64_t tag = 0;                     // e.g. the frame number of an AR frame, a client's number
  // Work before the request's own, added to its job's cost whatever its cost model (the simulator
  // sets it: the making of a per-client FWP at a client's first request).
  Duration setup = Duration::zero();
};

class Source {
 public:
  virtual ~Source() = default;
  // The next arrival, in time order; false when there are no more.
  virtual bool next(Arrival& a) = 0;
  // Names of the `kind` values this source emits (index = kind).
  virtual std::vector<std::string> kinds() const { return {""}; }
};

// The cost of an arrival of `size` bytes; Duration::zero() leaves it to the target thread.
using CostFn = std::function<Duration(Rng& rng, uint32_t size)>;

std::unique_ptr<Source> poisson(Rng rng, double per_second, Instant start, Instant stop, uint32_t target, CostFn cost);

std::unique_ptr<Source> mmpp(Rng rng, std::vector<double> per_second, std::vector<Duration> sojourn,
                             std::vector<std::vector<double>> transitions, Instant start, Instant stop, uint32_t target,
                             CostFn cost);
// The long-run arrival rate of an MMPP: sum of pi_i * rate_i with pi the stationary distribution
// of its generator (solved with Eigen). Empty `transitions`: uniform jumps to the other states.
double mmpp_mean_rate(const std::vector<double>& per_second, const std::vector<Duration>& sojourn,
                      const std::vector<std::vector<double>>& transitions);

struct Burst {
  Instant at;
  uint32_t count = 0;
  Duration within;
};
std::unique_ptr<Source> iot(Rng rng, uint32_t sensors, Duration period, Duration jitter, std::vector<Burst> bursts,
                            Instant start, Instant stop, uint32_t target, CostFn cost);

// Clients arriving as a Poisson process of `per_second` new clients, each sending `requests`
// requests `gap` apart (its first at its arrival), until `stop`: tag = the client's number from 0,
// kind 0 ("first") for a client's first request and 1 ("repeat") for the others. Open loop: a
// client's requests do not wait for answers.
std::unique_ptr<Source> clients(Rng rng, double per_second, uint32_t requests, Duration gap, Instant start, Instant stop,
                                uint32_t target, CostFn cost);

// Frames at `fps` (each delayed by uniform [0, jitter]); tag = frame number from 0.
std::unique_ptr<Source> ar_frames(Rng rng, double fps, Duration jitter, Instant start, Instant stop, uint32_t target);

// The ETC size distributions (bytes): a key size and a value size.
struct EtcSizes {
  uint32_t key;
  uint32_t value;
};
EtcSizes etc_sizes(Rng& rng);
// An ETC inter-arrival gap scaled so that the mean rate is `per_second`.
Duration etc_gap(Rng& rng, double per_second);
// Quantile functions (exposed for tests): generalized extreme value and generalized Pareto.
double gev_quantile(double p, double mu, double sigma, double k);
double gpd_quantile(double p, double theta, double sigma, double k);
// kinds: "get", "set"; size = value size.
std::unique_ptr<Source> kv(Rng rng, double per_second, double get_ratio, Instant start, Instant stop, uint32_t target,
                           CostFn cost);

// How trace records reach threads: by the record's tenant, or all to one thread.
struct Mapping {
  std::map<std::string, uint32_t> by_tenant;
  std::optional<uint32_t> all;
};

// A trace by file extension (.csv or .jsonl). Arrivals are shifted by `start` and stop at `stop`.
// Throws InputError naming file, line and field for malformed, unsorted or unmapped records.
std::unique_ptr<Source> trace(const std::string& path, Mapping mapping, Instant start, Instant stop);

// The Azure Functions invocation counts (invocations_per_function_md.anon.dNN.csv): each function
// (row) maps onto `targets` round robin; each count becomes that many arrivals at uniformly random
// instants of its minute. Holds the non-zero counts of the selected minutes, and one minute's
// arrivals at a time: a minute the run reaches may hold at most kMaxAzureArrivalsPerMinute of
// them, after scaling (checked when the file is read, before any is generated).
inline constexpr uint64_t kMaxAzureArrivalsPerMinute = 10'000'000;
std::unique_ptr<Source> azure(const std::string& path, std::vector<uint32_t> targets, uint32_t minute_from,
                              uint32_t minute_to, double scale, Rng rng, Instant start, Instant stop, CostFn cost);

// One arrival per packet (Ethernet or raw IPv4/IPv6); by UDP/TCP destination port or all to one.
// size = the packet's original length; no cost (the caller gives packets theirs).
std::unique_ptr<Source> pcap(const std::string& path, std::map<uint16_t, uint32_t> ports, std::optional<uint32_t> all,
                             Instant start, Instant stop);

// --- writing traces (edgeos gen) -------------------------------------------------------------------

// A trace file, written atomically: CSV (header time_ns,tenant,kind,size_bytes,cost_ns,deadline_ns)
// or JSON Lines (the edgeos-arrivals header, then one object per arrival), by extension.
class TraceWriter {
 public:
  explicit TraceWriter(std::string path);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;
  void add(const Arrival& a, const std::string& tenant, const std::string& kind);
  void commit();
  uint64_t written() const { return written_; }

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
  uint64_t written_ = 0;
};

// A minimal classic pcap file of UDP/IPv4 packets (for samples and tests).
struct Packet {
  Instant time;
  uint16_t dst_port;
  uint32_t payload;  // bytes
};
void write_pcap(const std::string& path, const std::vector<Packet>& packets);

}  // namespace edgeos::arrivals
