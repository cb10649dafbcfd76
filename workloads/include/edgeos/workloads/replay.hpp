// edgeos replay: a scenario's workload arrivals as real request packets (issue 18).
//
// The plan (no DPDK): every arrival of the scenario's workloads, merged in the simulator's order
// (scenario_arrivals.hpp: the same streams, not drawn a second time), that targets a thread of a
// tenant with `udp = [...]` becomes one UDP request to that tenant's first port, on its server's
// NIC: a memcached ASCII `get` (kv workloads), a CoAP CON GET /temp (iot workloads), or an echo
// datagram carrying the request id (every other workload). frame() lays one out as an Ethernet,
// IPv4 and UDP packet with its checksums.
//
// The sender (DPDK, optional at build time): replay() starts DPDK's EAL without hugepages or PCI
// on one lcore, sends the plan through a virtual device (net_pcap into a file, paced open-loop by
// the TSC against the arrival times; net_null, as fast as it can) and reports what it achieved.
#pragma once

#include <atomic>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "edgeos/core/time.hpp"
#include "edgeos/workloads/scenario.hpp"

namespace edgeos::replay {

enum class Protocol : uint8_t { kMemcached, kCoap, kEcho };
const char* protocol_name(Protocol p);

// Where a bound tenant's requests go: its first UDP port on its server's NIC.
struct Endpoint {
  std::string tenant;
  uint16_t port = 0;
  uint8_t mac[6] = {};
  uint32_t ipv4 = 0;  // host byte order
  // What it speaks: the protocol of the workloads that drive its threads (kv: memcached, iot: CoAP,
  // else echo), whether or not the run sends it a request: its probes and its Linux server.
  Protocol protocol = Protocol::kEcho;
};

struct Request {
  Instant time;     // the arrival's time in the scenario
  uint32_t id = 0;  // sequence number in the plan, from 0: the request id of every protocol
  uint16_t endpoint = 0;
  Protocol protocol = Protocol::kEcho;
  // Memcached: a `set` (the kv model's "set" arrivals) or a `get`, of key "key:<key>", and the
  // value's size for a set (the arrival's, at most kMaxValue).
  bool set = false;
  uint32_t key = 0;
  uint16_t value_size = 0;
};

// Memcached keys: each request's key is one of kKeys per tenant, chosen by a hash of its id, so
// that gets find what earlier sets stored. Values are at most kMaxValue bytes (one datagram), their
// bytes a function of the set's id (value_byte).
inline constexpr uint32_t kKeys = 100;
inline constexpr uint32_t kMaxValue = 1024;
uint32_t key_of(uint32_t id);
inline uint8_t value_byte(uint32_t set_id, uint32_t i) { return static_cast<uint8_t>('a' + (set_id + i) % 26); }

struct Plan {
  std::vector<Endpoint> endpoints;  // the scenario's bound tenants, in file order
  std::vector<Request> requests;    // in time order
  std::vector<uint64_t> per_endpoint;
  uint64_t unbound = 0;  // arrivals at threads of tenants without UDP ports (not sent)
};

// The plan of a validated scenario run with `seed` for its duration. Throws InputError if no
// tenant binds a UDP port (nothing could receive a request).
Plan plan(const scenario::Scenario& s, uint64_t seed);

// The sender's addresses: 10.0.2.99, a locally administered MAC, one source port.
inline constexpr uint32_t kSourceIpv4 = 0x0a00'0263;
inline constexpr uint8_t kSourceMac[6] = {0x02, 0x00, 0x0a, 0x00, 0x02, 0x63};
inline constexpr uint16_t kSourcePort = 49152;
inline constexpr size_t kMaxFrame = 1514;  // one Ethernet frame

// Writes request `r` to `e` as an Ethernet frame into `out` (at least kMaxFrame bytes); returns
// its length. Memcached: the 8-byte UDP frame header (request id = r.id mod 2^16, sequence 0 of
// 1 datagram) and "get key:<key>\r\n", or "set key:<key> 0 0 <n>\r\n<n value bytes>\r\n". CoAP (RFC 7252):
// version 1, CON, GET, token = r.id (4 bytes), message id = r.id mod 2^16, Uri-Path "temp". Echo:
// r.id as 8 big-endian bytes.
size_t frame(const Request& r, const Endpoint& e, std::span<uint8_t> out);

// The RFC 1071 one's-complement sum of `data` added to `sum` (not yet folded or inverted).
uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data);
uint16_t checksum_fold(uint32_t sum);

// --- replies ------------------------------------------------------------------------------------

// A reply to the plan's requests, recognised in a received frame: Ethernet II, IPv4 (no
// fragments), UDP from an endpoint's address and port to the sender's. `id` is the request id the
// reply carries: all 32 bits for CoAP (the token) and echo (the datagram's last four bytes), the
// low 16 bits for memcached (its frame header's request id; `id_bits` says which). `valid` says
// whether the payload is a well-formed answer of its protocol (memcached: a frame header of one
// datagram and text ending in CRLF; CoAP: version 1, an ACK, CON or NON response of class 2, 4 or
// 5 with a 4-byte token; echo: exactly the 8 bytes sent).
struct Reply {
  uint16_t endpoint = 0;
  uint32_t id = 0;
  uint8_t id_bits = 32;
  bool valid = false;
  std::span<const uint8_t> body;  // the UDP payload (memcached: after its frame header), in the frame
};

// Whether a memcached answer is what the request should get, when the server handles requests in
// the order they were sent: a set "STORED"; a get of a key last set by request `last_set` (-1:
// none) "VALUE key:<key> 0 <n>" with exactly that set's bytes, or "END" alone (a miss) when none.
bool memcached_answer_expected(const Request& request, int64_t last_set, const Plan& plan, std::span<const uint8_t> body);

// The reply in `frame`, or nullopt when the frame is not one (someone else's traffic, our own
// requests seen again, ARP, IPv6, a truncated or malformed header). Never reads past the frame.
std::optional<Reply> parse_reply(const Plan& plan, std::span<const uint8_t> frame);

// Latencies, HdrHistogram-style: log-linear buckets (each power of two split into 64), so any
// value is kept within 1/64 (1.6%) of itself, from 1 ns to 2^63 ns, in a fixed 4,096 counters;
// two histograms merge by adding counters.
class LatencyHistogram {
 public:
  static constexpr int kSubBits = 6;  // 64 buckets per power of two
  void add(uint64_t ns);
  void merge(const LatencyHistogram& other);
  uint64_t count() const { return count_; }
  uint64_t max() const { return max_; }
  uint64_t min() const { return count_ == 0 ? 0 : min_; }
  double mean() const { return count_ == 0 ? 0 : static_cast<double>(sum_) / static_cast<double>(count_); }
  // The nearest-rank q-quantile (0 < q <= 1), as the upper edge of its bucket (never above max()).
  uint64_t quantile(double q) const;
  // Non-empty buckets: (upper edge in ns, count), in increasing order.
  std::vector<std::pair<uint64_t, uint64_t>> buckets() const;

 private:
  static size_t index(uint64_t v);
  static uint64_t upper(size_t i);
  std::vector<uint64_t> counts_ = std::vector<uint64_t>(64 << kSubBits, 0);
  uint64_t count_ = 0, max_ = 0, min_ = ~uint64_t{0};
  uint64_t sum_ = 0;  // 2^64 ns: 584 years of summed latency
};

// --- sending (DPDK) ------------------------------------------------------------------------------

// False when edgeos was built without DPDK (libdpdk not found by pkg-config): replay() then
// throws InputError saying so.
bool dpdk_built();

enum class Target : uint8_t {
  kPcap,   // a capture file (net_pcap), paced
  kNull,   // net_null, as fast as it goes
  kLinux,  // real Linux servers (memcached -U, coap-server, a UDP echo) in a namespace, paced, replies matched
  kKernel, // the booted edgeos kernel (edgeos boot --net tap) behind a bridge in a namespace, the same
  kTap     // any system under test a command attaches to the bridge's tap (Config::launch), the same
};

// Whether the target answers (replies are matched): linux, kernel, tap.
inline bool answers(Target t) { return t == Target::kLinux || t == Target::kKernel || t == Target::kTap; }
const char* target_name(Target t);

// --- the test bed of --target linux and --target kernel ----------------------------------------

// Two network namespaces made for one run and removed with it (with everything in them):
// "edgeos-rp<pid>-g", where the replayer's af_packet device sits on one end of a veth pair, and
// "edgeos-rp<pid>-s", the servers' side: the other end carries every endpoint's address (and
// the first endpoint's MAC), with the replayer's address as a static neighbour, and either the
// Linux servers listen there (kLinux), or a bridge joins it to a tap device that an `edgeos boot
// --net tap` of the scenario is attached to (kKernel). Nothing outside the two namespaces is
// touched. Needs root (CAP_NET_ADMIN, CAP_SYS_ADMIN) and iproute2.
class Testbed {
 public:
  struct Config {
    Target target = Target::kLinux;
    std::string scenario_file;  // kKernel: booted
    std::string edgeos;         // kKernel: the edgeos executable
    std::string boot_out;       // kKernel: edgeos boot --out
    std::string memory;         // kKernel: edgeos boot --memory (empty: its default)
    Duration serve = Duration::seconds(60);  // kKernel, kTap: how long to serve (stopped earlier when done)
    // kTap: the command that attaches the system under test to the tap, run in the servers'
    // namespace; in its words "{tap}" is the tap's name and "{serve}" the seconds to serve.
    std::vector<std::string> launch;
    bool verbose = false;
  };
  // Throws InputError (naming the command that failed) and removes what it made.
  Testbed(Plan& plan, const Config& config);
  ~Testbed();
  Testbed(const Testbed&) = delete;
  Testbed& operator=(const Testbed&) = delete;

  // The replayer's interface (in the generator namespace) and the DPDK device for it.
  const std::string& interface() const { return gen_if_; }
  // Moves this process into the generator namespace (before DPDK's EAL opens its device).
  void enter_generator() const;
  // The name a net_tap device of the replayer takes (Options::tap_device), and, once DPDK made it,
  // a bridge in the generator namespace joining it to the veth.
  std::string tap_name() const;
  void bridge_tap() const;
  // kKernel: stops the booted kernel (SIGINT: it writes its outputs, marked incomplete) and waits.
  void stop_servers();
  // "" while every server it started runs; else which one ended, and how (it is reaped).
  std::string ended();
  std::string describe() const;

 private:
  void run(const std::vector<std::string>& argv) const;
  int spawn(const std::vector<std::string>& argv, bool quiet_output);
  void cleanup() noexcept;
  Config config_;
  std::string gen_ns_, srv_ns_, gen_if_, srv_if_;
  std::vector<int> servers_;  // pids
  std::vector<std::string> what_;
  bool made_gen_ = false, made_srv_ = false;
};

struct Options {
  Target target = Target::kPcap;
  std::string file;      // kPcap: the capture written (replaced atomically on success)
  double speed = 1.0;    // kPcap: arrival times are divided by this
  bool verbose = false;  // DPDK's own log at info level instead of errors only
  std::vector<std::string> eal_args;  // more EAL arguments, after the replayer's own
  // kNull: after the plan's pass, generate for `bench_time` repeating the plan, then send
  // pre-built mbufs for as long (the tx-only baseline).
  bool bench = false;
  Duration bench_time = Duration::seconds(2);
  const std::atomic<bool>* stop = nullptr;  // polled: a run stops early when it is set
  // kLinux, kKernel: the test bed (its generator interface), how long the targets get to answer
  // a first probe, and how long after the last request replies are still awaited.
  Testbed* testbed = nullptr;
  Duration warmup_timeout = Duration::seconds(30);
  // The replayer's device: DPDK's net_tap, a tap bridged to the veth, in place of net_af_packet on
  // the veth itself.
  bool tap_device = false;
  Duration reply_timeout = Duration::seconds(1);
};

// One bound tenant's replies (kLinux, kKernel).
struct TenantReplies {
  uint64_t replies = 0;   // matched to a request sent
  uint64_t invalid = 0;   // matched, but not a well-formed answer of the protocol
  uint64_t lost = 0;      // sent, no reply within the reply timeout
  uint64_t unmatched = 0; // from the endpoint, but for no request outstanding (late or duplicate)
  uint64_t wrong = 0;     // memcached: not the answer due (a get not returning the value set last)
  uint64_t hits = 0, misses = 0;  // memcached gets
  LatencyHistogram latency;  // request handed to the device -> reply taken from it (host time)
};

// Send-time error: when a packet was handed to the device minus when it was due (host time,
// microseconds; never negative, the sender waits for the due time).
struct Pacing {
  double p50_us = 0, p99_us = 0, max_us = 0;
};

struct Result {
  uint64_t sent = 0;
  std::vector<uint64_t> per_endpoint;
  double elapsed_s = 0;  // first to last packet handed to the device
  double pps = 0;        // sent / elapsed_s
  std::optional<Pacing> pacing;  // kPcap
  // kNull with bench: packets per second generating from the plan, and sending pre-built mbufs.
  std::optional<double> bench_generate_pps, bench_raw_pps;
  bool stopped = false;  // Options::stop was set: the run ended early (no file written)
  std::vector<TenantReplies> replies;  // kLinux, kKernel: per endpoint
  double warmup_s = 0;  // kLinux, kKernel: until every endpoint answered a probe
};

// Sends the plan. Throws InputError for what the EAL or the device refuses (its message names
// the EAL's reason) and for a capture path the vdev syntax cannot carry (',' or '=' in it).
// Every exit path cleans the EAL up and leaves no partial capture.
Result replay(const Plan& plan, const Options& o);

}  // namespace edgeos::replay
