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
};

struct Request {
  Instant time;     // the arrival's time in the scenario
  uint32_t id = 0;  // sequence number in the plan, from 0: the request id of every protocol
  uint16_t endpoint = 0;
  Protocol protocol = Protocol::kEcho;
};

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
inline constexpr size_t kMaxFrame = 128;

// Writes request `r` to `e` as an Ethernet frame into `out` (at least kMaxFrame bytes); returns
// its length. Memcached: the 8-byte UDP frame header (request id = r.id mod 2^16, sequence 0 of
// 1 datagram) and "get key:<id>\r\n" (the kv model draws key sizes, not keys). CoAP (RFC 7252):
// version 1, CON, GET, token = r.id (4 bytes), message id = r.id mod 2^16, Uri-Path "temp". Echo:
// r.id as 8 big-endian bytes.
size_t frame(const Request& r, const Endpoint& e, std::span<uint8_t> out);

// The RFC 1071 one's-complement sum of `data` added to `sum` (not yet folded or inverted).
uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data);
uint16_t checksum_fold(uint32_t sum);

// --- sending (DPDK) ------------------------------------------------------------------------------

// False when edgeos was built without DPDK (libdpdk not found by pkg-config): replay() then
// throws InputError saying so.
bool dpdk_built();

enum class Target : uint8_t { kPcap, kNull };

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
};

// Sends the plan. Throws InputError for what the EAL or the device refuses (its message names
// the EAL's reason) and for a capture path the vdev syntax cannot carry (',' or '=' in it).
// Every exit path cleans the EAL up and leaves no partial capture.
Result replay(const Plan& plan, const Options& o);

}  // namespace edgeos::replay
