// The replay plan and the request frames: no DPDK here, so that they build and are tested
// everywhere (the sender is replay.cpp).
#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <string>
#include <string_view>

#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/replay.hpp"
#include "edgeos/workloads/scenario_arrivals.hpp"

namespace edgeos::replay {

const char* protocol_name(Protocol p) {
  switch (p) {
    case Protocol::kMemcached:
      return "memcached";
    case Protocol::kCoap:
      return "coap";
    case Protocol::kEcho:
      return "echo";
  }
  return "?";
}

const char* target_name(Target t) {
  switch (t) {
    case Target::kPcap: return "pcap";
    case Target::kNull: return "null";
    case Target::kLinux: return "linux";
    case Target::kKernel: return "kernel";
    case Target::kTap: return "tap";
  }
  return "?";
}

namespace {

Protocol protocol_of(scenario::WorkloadKind k) {
  switch (k) {
    case scenario::WorkloadKind::kKv: return Protocol::kMemcached;
    case scenario::WorkloadKind::kIot: return Protocol::kCoap;
    default: return Protocol::kEcho;
  }
}

}  // namespace

Plan plan(const scenario::Scenario& s, uint64_t seed) {
  Plan p;
  // An endpoint per bound FWP: instance k of a tenant with ports is bound to each port + k
  // (docs/scenario.md, "Networking"); requests go to its first port. kNoEndpoint marks every
  // thread instance of an unbound tenant.
  constexpr uint16_t kNoEndpoint = 0xffff;
  std::vector<uint32_t> first_endpoint(s.tenants.size(), kNoEndpoint);
  for (size_t t = 0; t < s.tenants.size(); ++t) {
    const scenario::Tenant& tn = s.tenants[t];
    if (tn.udp_ports.empty()) continue;
    if (p.endpoints.size() + tn.instances >= kNoEndpoint) {
      throw InputError(fmt::format("{}: more than {} bound FWPs: replay addresses at most that many",
                                   s.file.empty() ? s.name : s.file, kNoEndpoint - 1));
    }
    const scenario::Server* server = s.find_server(tn.server);
    first_endpoint[t] = static_cast<uint32_t>(p.endpoints.size());
    for (uint32_t k = 0; k < tn.instances; ++k) {
      Endpoint e;
      e.tenant = tn.instances == 1 ? tn.name : fmt::format("{}#{}", tn.name, k);
      e.port = static_cast<uint16_t>(tn.udp_ports.front() + k);  // validation: within 65535
      std::memcpy(e.mac, server->nic.mac, sizeof e.mac);
      e.ipv4 = server->nic.ipv4;
      p.endpoints.push_back(std::move(e));
    }
  }
  if (p.endpoints.empty()) {
    throw InputError(fmt::format("{}: no tenant binds a UDP port (udp = [PORT]): replay has nowhere to send requests",
                                 s.file.empty() ? s.name : s.file));
  }
  p.per_endpoint.assign(p.endpoints.size(), 0);

  // Each thread instance's endpoint: its tenant's, at its instance.
  const scenario::ThreadInstances threads(s);
  std::vector<uint16_t> endpoint_of(threads.size(), kNoEndpoint);
  for (uint32_t i = 0; i < threads.size(); ++i) {
    const scenario::ThreadRef ref = scenario::split_thread_ref(threads.name(i));
    const scenario::ThreadSpec* th = s.find_thread(ref.thread);
    if (th == nullptr) continue;
    for (size_t t = 0; t < s.tenants.size(); ++t) {
      if (s.tenants[t].name == th->tenant && first_endpoint[t] != kNoEndpoint) {
        endpoint_of[i] = static_cast<uint16_t>(first_endpoint[t] + ref.instance.value_or(0));
      }
    }
  }

  // Each endpoint speaks the protocol of the workloads driving its threads, even one the run's
  // arrivals happen to miss (a memcached tenant must be probed in memcached's framing).
  for (const scenario::Workload& w : s.workloads) {
    const Protocol proto = protocol_of(w.kind);
    std::vector<std::string> names;
    if (!w.target.empty()) names = scenario::instance_names(s, w.target);
    for (const auto& [key, target] : w.targets) {
      for (const std::string& n : scenario::instance_names(s, target)) names.push_back(n);
    }
    for (const std::string& target : w.target_list) {
      for (const std::string& n : scenario::instance_names(s, target)) names.push_back(n);
    }
    for (const std::string& n : names) {
      const uint32_t i = threads.index(n);
      if (endpoint_of[i] != kNoEndpoint && proto != Protocol::kEcho) p.endpoints[endpoint_of[i]].protocol = proto;
    }
  }

  scenario::MergedArrivals merged(s, seed, Instant::epoch() + s.duration, threads);
  arrivals::Arrival a;
  uint32_t stream = 0;
  while (merged.next(a, stream)) {
    const uint16_t e = a.target < endpoint_of.size() ? endpoint_of[a.target] : kNoEndpoint;
    if (e == kNoEndpoint) {
      ++p.unbound;
      continue;
    }
    Request r;
    r.time = a.time;
    r.id = static_cast<uint32_t>(p.requests.size());
    r.endpoint = e;
    r.protocol = protocol_of(s.workloads[merged.workload_of(stream)].kind);
    if (r.protocol == Protocol::kMemcached) {
      r.set = a.kind == 1;  // the kv source's kinds: "get", "set"
      r.key = key_of(r.id);
      r.value_size = static_cast<uint16_t>(std::clamp<uint32_t>(a.size, 1, kMaxValue));
    }
    p.requests.push_back(r);
    ++p.per_endpoint[e];
  }
  return p;
}

uint32_t key_of(uint32_t id) {
  // A 32-bit finaliser (splitmix/murmur style) spreads consecutive ids over the key space.
  uint32_t x = id * 0x9e3779b9u;
  x ^= x >> 16;
  x *= 0x85ebca6bu;
  x ^= x >> 13;
  return x % kKeys;
}

uint32_t checksum_add(uint32_t sum, std::span<const uint8_t> data) {
  size_t i = 0;
  for (; i + 1 < data.size(); i += 2) sum += static_cast<uint32_t>(data[i] << 8 | data[i + 1]);
  if (i < data.size()) sum += static_cast<uint32_t>(data[i] << 8);
  return sum;
}

uint16_t checksum_fold(uint32_t sum) {
  while (sum >> 16) sum = (sum & 0xffff) + (sum >> 16);
  return static_cast<uint16_t>(~sum & 0xffff);
}

namespace {

void be16(uint8_t* p, uint32_t v) {
  p[0] = static_cast<uint8_t>(v >> 8);
  p[1] = static_cast<uint8_t>(v);
}
void be32(uint8_t* p, uint32_t v) {
  be16(p, v >> 16);
  be16(p + 2, v);
}

// The UDP payload of `r` into `out`; returns its length.
size_t payload(const Request& r, uint8_t* out) {
  switch (r.protocol) {
    case Protocol::kMemcached: {
      // The memcached UDP frame header: request id, sequence number, datagrams, reserved.
      be16(out, r.id & 0xffff);
      be16(out + 2, 0);
      be16(out + 4, 1);
      be16(out + 6, 0);
      char* text = reinterpret_cast<char*>(out + 8);
      if (!r.set) return static_cast<size_t>(fmt::format_to(text, "get key:{}\r\n", r.key) - reinterpret_cast<char*>(out));
      char* end = fmt::format_to(text, "set key:{} 0 0 {}\r\n", r.key, r.value_size);
      for (uint32_t i = 0; i < r.value_size; ++i) *end++ = static_cast<char>(value_byte(r.id, i));
      *end++ = '\r';
      *end++ = '\n';
      return static_cast<size_t>(end - reinterpret_cast<char*>(out));
    }
    case Protocol::kCoap: {
      // RFC 7252 section 3: Ver 1, T = 0 (CON), TKL 4; code 0.01 (GET); message id.
      out[0] = 0x40 | 4;
      out[1] = 0x01;
      be16(out + 2, r.id & 0xffff);
      be32(out + 4, r.id);
      // Option Uri-Path (11): delta 11, length 4.
      out[8] = 0xb4;
      std::memcpy(out + 9, "temp", 4);
      return 13;
    }
    case Protocol::kEcho:
      be32(out, 0);
      be32(out + 4, r.id);
      return 8;
  }
  return 0;
}

}  // namespace

size_t frame(const Request& r, const Endpoint& e, std::span<uint8_t> out) {
  uint8_t* const f = out.data();
  constexpr size_t kEth = 14, kIp = 20, kUdp = 8;
  const size_t body = payload(r, f + kEth + kIp + kUdp);
  const size_t udp_len = kUdp + body;
  const size_t ip_len = kIp + udp_len;

  std::memcpy(f, e.mac, 6);
  std::memcpy(f + 6, kSourceMac, 6);
  be16(f + 12, 0x0800);

  uint8_t* ip = f + kEth;
  ip[0] = 0x45;  // IPv4, 5 words of header
  ip[1] = 0;
  be16(ip + 2, static_cast<uint32_t>(ip_len));
  be16(ip + 4, r.id & 0xffff);
  be16(ip + 6, 0x4000);  // don't fragment
  ip[8] = 64;
  ip[9] = 17;  // UDP
  be16(ip + 10, 0);
  be32(ip + 12, kSourceIpv4);
  be32(ip + 16, e.ipv4);
  be16(ip + 10, checksum_fold(checksum_add(0, {ip, kIp})));

  uint8_t* udp = ip + kIp;
  be16(udp, kSourcePort);
  be16(udp + 2, e.port);
  be16(udp + 4, static_cast<uint32_t>(udp_len));
  be16(udp + 6, 0);
  // The pseudo-header: source and destination addresses, protocol, UDP length.
  uint32_t sum = checksum_add(0, {ip + 12, 8});
  sum += 17 + static_cast<uint32_t>(udp_len);
  uint16_t c = checksum_fold(checksum_add(sum, {udp, udp_len}));
  if (c == 0) c = 0xffff;  // 0 means "no checksum" in UDP over IPv4
  be16(udp + 6, c);
  return kEth + ip_len;
}

}  // namespace edgeos::replay

namespace edgeos::replay {

namespace {
uint32_t load16(const uint8_t* p) { return static_cast<uint32_t>(p[0] << 8 | p[1]); }
uint32_t load32(const uint8_t* p) { return load16(p) << 16 | load16(p + 2); }
}  // namespace

std::optional<Reply> parse_reply(const Plan& plan, std::span<const uint8_t> frame) {
  constexpr size_t kEth = 14, kUdp = 8;
  const uint8_t* f = frame.data();
  const size_t n = frame.size();
  if (n < kEth + 20 + kUdp || load16(f + 12) != 0x0800) return std::nullopt;
  if (std::memcmp(f, kSourceMac, 6) != 0) return std::nullopt;  // not to us (or our own request)
  const uint8_t* ip = f + kEth;
  const size_t ihl = static_cast<size_t>(ip[0] & 0x0f) * 4;
  const size_t total = load16(ip + 2);
  if ((ip[0] >> 4) != 4 || ihl < 20 || total < ihl + kUdp || kEth + total > n || ip[9] != 17) return std::nullopt;
  if ((load16(ip + 6) & 0x3fff) != 0) return std::nullopt;  // a fragment (MF or an offset)
  if (load32(ip + 16) != kSourceIpv4) return std::nullopt;
  const uint8_t* udp = ip + ihl;
  const size_t udp_len = load16(udp + 4);
  if (udp_len < kUdp || udp_len > total - ihl || load16(udp + 2) != kSourcePort) return std::nullopt;
  const uint32_t from_ip = load32(ip + 12);
  const uint32_t from_port = load16(udp);
  Reply r;
  size_t e = 0;
  for (; e < plan.endpoints.size(); ++e) {
    if (plan.endpoints[e].ipv4 == from_ip && plan.endpoints[e].port == from_port) break;
  }
  if (e == plan.endpoints.size()) return std::nullopt;
  r.endpoint = static_cast<uint16_t>(e);
  const uint8_t* body = udp + kUdp;
  const size_t len = udp_len - kUdp;
  // The endpoint's protocol: that of its requests (one workload kind per tenant in practice; the
  // first request decides).
  Protocol proto = Protocol::kEcho;
  for (const Request& q : plan.requests) {
    if (q.endpoint == e) {
      proto = q.protocol;
      break;
    }
  }
  switch (proto) {
    case Protocol::kMemcached:
      // memcached's protocol.txt, "UDP protocol": request id, sequence number, total datagrams, 0.
      if (len < 8) return std::nullopt;
      r.id = load16(body);
      r.id_bits = 16;
      r.body = {body + 8, len - 8};
      r.valid = load16(body + 2) == 0 && load16(body + 4) == 1 && len >= 10 && body[len - 2] == '\r' && body[len - 1] == '\n';
      return r;
    case Protocol::kCoap: {
      // RFC 7252 section 3: Ver, T, TKL | Code | Message ID | Token.
      if (len < 4 || (body[0] & 0x0f) != 4 || len < 8) return std::nullopt;
      r.id = load32(body + 4);
      r.body = {body, len};
      const uint32_t type = (body[0] >> 4) & 3, cls = body[1] >> 5;
      r.valid = (body[0] >> 6) == 1 && type != 3 && (cls == 2 || cls == 4 || cls == 5);
      return r;
    }
    case Protocol::kEcho:
      if (len < 8) return std::nullopt;
      r.id = load32(body + 4);
      r.body = {body, len};
      r.valid = len == 8 && load32(body) == 0;
      return r;
  }
  return std::nullopt;
}

bool memcached_answer_expected(const Request& request, int64_t last_set, const Plan& plan, std::span<const uint8_t> body) {
  const std::string_view text(reinterpret_cast<const char*>(body.data()), body.size());
  if (request.set) return text == "STORED\r\n";
  if (last_set < 0) return text == "END\r\n";
  const Request& set = plan.requests[static_cast<size_t>(last_set)];
  std::string want = fmt::format("VALUE key:{} 0 {}\r\n", request.key, set.value_size);
  for (uint32_t i = 0; i < set.value_size; ++i) want.push_back(static_cast<char>(value_byte(set.id, i)));
  want += "\r\nEND\r\n";
  return text == want;
}

size_t LatencyHistogram::index(uint64_t v) {
  if (v < (uint64_t{1} << kSubBits)) return static_cast<size_t>(v);
  const int e = 63 - __builtin_clzll(v);  // >= kSubBits
  const uint64_t sub = (v >> (e - kSubBits)) & ((uint64_t{1} << kSubBits) - 1);
  return static_cast<size_t>((e - kSubBits + 1)) << kSubBits | static_cast<size_t>(sub);
}

uint64_t LatencyHistogram::upper(size_t i) {
  if (i < (size_t{1} << kSubBits)) return i;
  const int e = static_cast<int>(i >> kSubBits) + kSubBits - 1;
  const uint64_t sub = i & ((size_t{1} << kSubBits) - 1);
  const uint64_t lower = ((uint64_t{1} << kSubBits) + sub) << (e - kSubBits);
  return lower + ((uint64_t{1} << (e - kSubBits)) - 1);
}

void LatencyHistogram::add(uint64_t ns) {
  ++counts_[index(ns)];
  ++count_;
  sum_ += ns;
  max_ = std::max(max_, ns);
  min_ = std::min(min_, ns);
}

void LatencyHistogram::merge(const LatencyHistogram& other) {
  for (size_t i = 0; i < counts_.size(); ++i) counts_[i] += other.counts_[i];
  count_ += other.count_;
  sum_ += other.sum_;
  max_ = std::max(max_, other.max_);
  min_ = std::min(min_, other.min_);
}

uint64_t LatencyHistogram::quantile(double q) const {
  if (count_ == 0) return 0;
  // Nearest rank: the smallest value with at least q * count values at or below it.
  const double want = q * static_cast<double>(count_);
  uint64_t rank = static_cast<uint64_t>(want);
  if (static_cast<double>(rank) < want) ++rank;
  rank = std::clamp<uint64_t>(rank, 1, count_);
  uint64_t seen = 0;
  for (size_t i = 0; i < counts_.size(); ++i) {
    seen += counts_[i];
    if (seen >= rank) return std::min(upper(i), max_);
  }
  return max_;
}

std::vector<std::pair<uint64_t, uint64_t>> LatencyHistogram::buckets() const {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  for (size_t i = 0; i < counts_.size(); ++i) {
    if (counts_[i] != 0) out.emplace_back(upper(i), counts_[i]);
  }
  return out;
}

}  // namespace edgeos::replay
