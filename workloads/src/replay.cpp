// The replay sender on DPDK (built when pkg-config finds libdpdk; replay_none.cpp otherwise).
//
// The EAL runs in the modes a machine without hugepages or a bound NIC allows: --no-huge (its
// memory from malloc; the default 64 MB is plenty for one mempool), --no-pci, one lcore, no
// shared configuration and no telemetry socket, and a file prefix of its own so that runs side by
// side never meet. (--in-memory would do the same, but the EAL refuses it with --no-huge.)
#include <rte_common.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_errno.h>
#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_mbuf.h>
#include <rte_mempool.h>
#include <rte_pause.h>
#include <unistd.h>

#include <fmt/format.h>

#include <algorithm>
#include <array>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <map>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/replay.hpp"

namespace edgeos::replay {

bool dpdk_built() { return true; }

namespace {

constexpr uint16_t kBurst = 32;
constexpr uint32_t kPoolSize = 8191;  // 2^n - 1: the mempool's best size
constexpr uint16_t kTxDescriptors = 512;
constexpr uint16_t kRxDescriptors = 512;

// The EAL of this process: rte_eal_init in the constructor, and on destruction the device closed
// (net_pcap flushes and closes its file there) and rte_eal_cleanup, then the EAL's runtime
// directory removed (empty with --no-shconf). The EAL initialises once per process.
class Eal {
 public:
  Eal(std::vector<std::string> args, bool verbose) {
    static bool initialised = false;
    if (initialised) throw InputError("replay: DPDK's EAL initialises once per process");
    initialised = true;
    args.insert(args.begin(), {"edgeos-replay", "-l", "0", "--no-huge", "--no-pci", "--no-shconf", "--no-telemetry",
                               fmt::format("--file-prefix=edgeos-replay-{}", ::getpid()),
                               verbose ? "--log-level=info" : "--log-level=error"});
    std::vector<char*> argv;
    for (std::string& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    rte_openlog_stream(stderr);
    if (rte_eal_init(static_cast<int>(args.size()), argv.data()) < 0) {
      const std::string why = rte_strerror(rte_errno);
      std::string line;
      for (const std::string& a : args) line += (line.empty() ? "" : " ") + a;
      throw InputError(fmt::format("replay: DPDK's EAL did not start ({}); its arguments: {}", why, line));
    }
    runtime_dir_ = rte_eal_get_runtime_dir();
  }
  ~Eal() {
    if (port_ != RTE_MAX_ETHPORTS) {
      rte_eth_dev_stop(port_);
      rte_eth_dev_close(port_);
    }
    rte_eal_cleanup();
    std::error_code ec;
    if (!runtime_dir_.empty()) std::filesystem::remove(runtime_dir_, ec);  // only if empty
  }
  Eal(const Eal&) = delete;
  Eal& operator=(const Eal&) = delete;

  // Closes the device now (before the capture is renamed into place).
  void close_port() {
    if (port_ == RTE_MAX_ETHPORTS) return;
    rte_eth_dev_stop(port_);
    rte_eth_dev_close(port_);
    port_ = RTE_MAX_ETHPORTS;
  }
  void own_port(uint16_t port) { port_ = port; }

 private:
  std::string runtime_dir_;
  uint16_t port_ = RTE_MAX_ETHPORTS;
};

// The capture's temporary file: removed unless committed (renamed over the target).
class TempCapture {
 public:
  explicit TempCapture(const std::string& path) : path_(path), tmp_(fmt::format("{}.tmp.{}", path, ::getpid())) {
    if (path.find_first_of(",=") != std::string::npos) {
      throw InputError(fmt::format("--target pcap: {}: the path may not contain ',' or '=' (DPDK's device arguments)", path));
    }
    std::error_code ec;
    const std::filesystem::path parent = std::filesystem::path(path).parent_path();
    if (!parent.empty()) std::filesystem::create_directories(parent, ec);
    if (std::filesystem::is_directory(path, ec)) throw InputError(fmt::format("--target pcap: {}: is a directory", path));
    std::FILE* f = std::fopen(tmp_.c_str(), "wb");
    if (f == nullptr) {
      throw InputError(fmt::format("--target pcap: cannot create {}: {}", tmp_, std::strerror(errno)));
    }
    std::fclose(f);
  }
  ~TempCapture() {
    if (!committed_) ::unlink(tmp_.c_str());
  }
  TempCapture(const TempCapture&) = delete;
  TempCapture& operator=(const TempCapture&) = delete;
  const std::string& tmp() const { return tmp_; }
  void commit() {
    if (std::rename(tmp_.c_str(), path_.c_str()) != 0) {
      throw InputError(fmt::format("--target pcap: cannot rename {} to {}: {}", tmp_, path_, std::strerror(errno)));
    }
    committed_ = true;
  }

 private:
  std::string path_, tmp_;
  bool committed_ = false;
};

// The device's single TX queue, started; its mempool.
struct Port {
  uint16_t id = 0;
  rte_mempool* pool = nullptr;
};

Port open_port(Eal& eal, const char* name, bool receive) {
  Port p;
  if (rte_eth_dev_get_port_by_name(name, &p.id) != 0) {
    throw InputError(fmt::format("replay: DPDK has no device {} (is its driver, librte-net-{}, installed?)", name,
                                 std::string(name).substr(4, std::string(name).size() - 5)));
  }
  eal.own_port(p.id);
  p.pool = rte_pktmbuf_pool_create("replay", kPoolSize, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
  if (p.pool == nullptr) throw InputError(fmt::format("replay: no mempool: {}", rte_strerror(rte_errno)));
  rte_eth_conf conf{};
  int rc = rte_eth_dev_configure(p.id, receive ? 1 : 0, 1, &conf);
  if (rc == 0 && receive) rc = rte_eth_rx_queue_setup(p.id, 0, kRxDescriptors, rte_eth_dev_socket_id(p.id), nullptr, p.pool);
  if (rc == 0) rc = rte_eth_tx_queue_setup(p.id, 0, kTxDescriptors, rte_eth_dev_socket_id(p.id), nullptr);
  if (rc == 0) rc = rte_eth_dev_start(p.id);
  if (rc != 0) throw InputError(fmt::format("replay: device {} did not start: {}", name, rte_strerror(-rc)));
  return p;
}

// Request `r` into a fresh mbuf.
rte_mbuf* build(const Port& port, const Plan& plan, const Request& r) {
  rte_mbuf* m = rte_pktmbuf_alloc(port.pool);
  if (m == nullptr) throw InputError("replay: the mempool ran dry");
  uint8_t* data = rte_pktmbuf_mtod(m, uint8_t*);
  const size_t len = frame(r, plan.endpoints[r.endpoint], {data, kMaxFrame});
  m->data_len = static_cast<uint16_t>(len);
  m->pkt_len = static_cast<uint32_t>(len);
  return m;
}

// Hands `n` mbufs to the device, retrying while its queue is full.
void send_all(uint16_t port, rte_mbuf** m, uint16_t n) {
  uint16_t sent = 0;
  while (sent < n) sent += rte_eth_tx_burst(port, 0, m + sent, static_cast<uint16_t>(n - sent));
}

bool stopping(const Options& o) { return o.stop != nullptr && o.stop->load(std::memory_order_relaxed); }

// The replies side of --target linux|kernel: when each request was handed to the device, and
// every frame received matched to the request it answers (parse_reply). Memcached carries only
// the low 16 bits of the id: its reply goes to the oldest outstanding request of that endpoint
// with those bits.
class Receiver {
 public:
  Receiver(const Port& port, const Plan& plan, Result& res)
      : port_(port), plan_(plan), res_(res), sent_at_(plan.requests.size(), 0), answered_(plan.requests.size(), false),
        hz_(static_cast<double>(rte_get_tsc_hz())) {
    res_.replies.assign(plan.endpoints.size(), TenantReplies{});
  }
  void sent(uint32_t id, uint64_t tsc) {
    sent_at_[id] = tsc;
    ++outstanding_;
    // Memcached: what a get is due is the value of the last set of its key sent before it (one
    // path, handled in order).
    const Request& q = plan_.requests[id];
    if (q.protocol != Protocol::kMemcached) return;
    const uint64_t key = static_cast<uint64_t>(q.endpoint) * kKeys + q.key;
    if (q.set) {
      last_set_[key] = id;
    } else if (const auto it = last_set_.find(key); it != last_set_.end()) {
      due_[id] = it->second;
    }
  }
  uint64_t outstanding() const { return outstanding_; }
  // Takes what the device received; -> replies matched.
  uint32_t poll() {
    std::array<rte_mbuf*, kBurst> rx{};
    const uint16_t n = rte_eth_rx_burst(port_.id, 0, rx.data(), kBurst);
    const uint64_t now = rte_get_tsc_cycles();
    uint32_t matched = 0;
    for (uint16_t k = 0; k < n; ++k) {
      const std::optional<Reply> r = parse_reply(plan_, {rte_pktmbuf_mtod(rx[k], const uint8_t*), rx[k]->data_len});
      rte_pktmbuf_free(rx[k]);
      if (!r) continue;
      last_from_[r->endpoint] = true;
      TenantReplies& t = res_.replies[r->endpoint];
      const uint32_t id = find(*r);
      if (id == kNone) {
        ++t.unmatched;
        continue;
      }
      answered_[id] = true;
      --outstanding_;
      ++matched;
      ++t.replies;
      if (!r->valid) ++t.invalid;
      const Request& q = plan_.requests[id];
      if (q.protocol == Protocol::kMemcached) {
        const auto due = due_.find(id);
        const int64_t last = due == due_.end() ? -1 : due->second;
        if (!memcached_answer_expected(q, last, plan_, r->body)) ++t.wrong;
        if (!q.set) ++(r->body.size() >= 6 && std::memcmp(r->body.data(), "VALUE ", 6) == 0 ? t.hits : t.misses);
      }
      t.latency.add(static_cast<uint64_t>(static_cast<double>(now - sent_at_[id]) * 1e9 / hz_));
    }
    return matched;
  }
  // Every request sent and not answered is lost.
  void finish() {
    for (size_t i = 0; i < sent_at_.size(); ++i) {
      if (sent_at_[i] != 0 && !answered_[i]) ++res_.replies[plan_.requests[i].endpoint].lost;
    }
  }
  // The warm-up's probes: which endpoints have answered anything.
  std::map<uint16_t, bool> last_from_;

 private:
  static constexpr uint32_t kNone = ~uint32_t{0};
  uint32_t find(const Reply& r) const {
    if (r.id_bits == 32) {
      const bool ok = r.id < sent_at_.size() && sent_at_[r.id] != 0 && !answered_[r.id] &&
                      plan_.requests[r.id].endpoint == r.endpoint;
      return ok ? r.id : kNone;
    }
    for (uint64_t id = r.id; id < sent_at_.size(); id += 0x10000) {
      if (sent_at_[id] != 0 && !answered_[id] && plan_.requests[id].endpoint == r.endpoint) return static_cast<uint32_t>(id);
    }
    return kNone;
  }
  const Port& port_;
  const Plan& plan_;
  Result& res_;
  std::vector<uint64_t> sent_at_;
  std::vector<bool> answered_;
  std::map<uint64_t, int64_t> last_set_;  // endpoint * kKeys + key -> the id of its last set sent
  std::map<uint32_t, int64_t> due_;       // a get's id -> the set whose value it is due (absent: -1)
  uint64_t outstanding_ = 0;
  double hz_;
};

// Until every endpoint has answered a probe (a request with an id beyond the plan's), or the
// warm-up time is over (an InputError naming who never answered). Late answers are drained.
void warm_up(const Port& port, const Plan& plan, const Options& o, Receiver& rx, Result& res) {
  const uint64_t hz = rte_get_tsc_hz();
  const uint64_t start = rte_get_tsc_cycles();
  const uint64_t give_up = start + static_cast<uint64_t>(static_cast<double>(o.warmup_timeout.ns()) * 1e-9 * static_cast<double>(hz));
  uint64_t next_probe = start;
  for (;;) {
    if (stopping(o)) return;
    const uint64_t now = rte_get_tsc_cycles();
    bool all = true;
    for (uint16_t e = 0; e < plan.endpoints.size(); ++e) all = all && rx.last_from_.count(e) != 0;
    if (all) break;
    if (now > give_up) {
      std::string silent;
      for (uint16_t e = 0; e < plan.endpoints.size(); ++e) {
        if (rx.last_from_.count(e) == 0) silent += (silent.empty() ? "" : ", ") + plan.endpoints[e].tenant;
      }
      throw InputError(fmt::format("replay: no answer from tenant(s) {} within {} s of probing: is the target serving?",
                                   silent, o.warmup_timeout.ns() / 1'000'000'000));
    }
    if (now >= next_probe) {
      // A target that ended will never answer: said now, not at the end of the warm-up.
      if (o.testbed != nullptr) {
        if (const std::string gone = o.testbed->ended(); !gone.empty()) {
          throw InputError(fmt::format("replay: the target ended before every tenant answered: {}", gone));
        }
      }
      for (uint16_t e = 0; e < plan.endpoints.size(); ++e) {
        if (rx.last_from_.count(e) != 0) continue;
        Request probe{};
        probe.id = 0xffff'fff0u - e;
        probe.endpoint = e;
        probe.protocol = plan.endpoints[e].protocol;
        rte_mbuf* m = build(port, plan, probe);
        send_all(port.id, &m, 1);
      }
      next_probe = now + hz / 5;
    }
    rx.poll();
    rte_delay_us_sleep(100);
  }
  // A probe answered twice, or late: drained for 100 ms so that nothing of it is taken for a reply.
  const uint64_t drain = rte_get_tsc_cycles() + hz / 10;
  while (rte_get_tsc_cycles() < drain) rx.poll();
  for (TenantReplies& t : res.replies) t = TenantReplies{};
  res.warmup_s = static_cast<double>(rte_get_tsc_cycles() - start) / static_cast<double>(hz);
}

// Open loop against the TSC: request i is due at start + (time_i - time_0) / speed. A late
// request is sent at once (never dropped); the error is taken when the burst is handed over.
void paced(const Port& port, const Plan& plan, const Options& o, Result& res, Receiver* rx) {
  const std::vector<Request>& rq = plan.requests;
  const uint64_t hz = rte_get_tsc_hz();
  const double cycles_per_ns = static_cast<double>(hz) / 1e9 / o.speed;
  const Instant t0 = rq.front().time;
  const uint64_t start = rte_get_tsc_cycles() + hz / 1000;  // 1 ms to settle
  auto due = [&](size_t i) { return start + static_cast<uint64_t>(static_cast<double>((rq[i].time - t0).ns()) * cycles_per_ns); };
  std::vector<uint64_t> error(rq.size());
  std::array<rte_mbuf*, kBurst> burst{};
  uint64_t first = 0, last = 0;
  size_t i = 0;
  while (i < rq.size()) {
    burst[0] = build(port, plan, rq[i]);  // built ahead, while waiting
    const uint64_t d = due(i);
    uint64_t now = rte_get_tsc_cycles();
    // Sleep while the request is more than 200 us away (a sleeper wakes ahead of a spinner on a
    // shared CPU, and others get the CPU meanwhile), then spin to the due cycle.
    const uint64_t near = hz / 5000;
    for (uint32_t spin = 0; now < d; now = rte_get_tsc_cycles()) {
      if (d - now > near) {
        if (stopping(o)) break;
        if (rx != nullptr) {  // replies are taken while waiting, in short sleeps
          rx->poll();
          rte_delay_us_sleep(static_cast<unsigned>(std::min<uint64_t>(50, (d - now - near / 2) * 1'000'000 / hz)));
          continue;
        }
        rte_delay_us_sleep(static_cast<unsigned>((d - now - near / 2) * 1'000'000 / hz));
        continue;
      }
      if ((++spin & 0xfff) == 0 && stopping(o)) break;
      if (rx != nullptr && (spin & 0x3f) == 0) rx->poll();
      rte_pause();
    }
    if (stopping(o)) {
      rte_pktmbuf_free(burst[0]);
      res.stopped = true;
      break;
    }
    uint16_t n = 1;
    while (i + n < rq.size() && n < kBurst && due(i + n) <= now) {
      burst[n] = build(port, plan, rq[i + n]);
      ++n;
    }
    const uint64_t t = rte_get_tsc_cycles();
    for (uint16_t k = 0; k < n; ++k) {
      error[i + k] = t - due(i + k);
      ++res.per_endpoint[rq[i + k].endpoint];
      if (rx != nullptr) rx->sent(rq[i + k].id, t);
    }
    if (i == 0) first = t;
    last = t;
    send_all(port.id, burst.data(), n);
    i += n;
    res.sent += n;
  }
  error.resize(i);
  res.elapsed_s = static_cast<double>(last - first) / static_cast<double>(hz);
  if (!error.empty()) {
    std::sort(error.begin(), error.end());
    auto us = [&](double q) {
      const size_t k = std::min(error.size() - 1, static_cast<size_t>(q * static_cast<double>(error.size())));
      return static_cast<double>(error[k]) * 1e6 / static_cast<double>(hz);
    };
    res.pacing = Pacing{us(0.5), us(0.99), static_cast<double>(error.back()) * 1e6 / static_cast<double>(hz)};
  }
}

// As fast as the device takes them: the plan `passes` times over, or until `until` (TSC) if it
// is not 0. Returns the packets sent.
uint64_t unpaced(const Port& port, const Plan& plan, const Options& o, uint64_t until, Result* res) {
  const std::vector<Request>& rq = plan.requests;
  std::array<rte_mbuf*, kBurst> burst{};
  uint64_t sent = 0;
  size_t i = 0;
  for (;;) {
    if (until == 0 && i == rq.size()) break;
    if (until != 0 && (rte_get_tsc_cycles() >= until || stopping(o))) break;
    if (i == rq.size()) i = 0;
    const uint16_t n = static_cast<uint16_t>(std::min<size_t>(kBurst, rq.size() - i));
    for (uint16_t k = 0; k < n; ++k) {
      burst[k] = build(port, plan, rq[i + k]);
      if (res != nullptr) ++res->per_endpoint[rq[i + k].endpoint];
    }
    send_all(port.id, burst.data(), n);
    sent += n;
    i += n;
  }
  return sent;
}

// The baseline: the same bursts pre-built once and sent again and again (a reference taken before
// each send keeps them from the device's free), for as long as `until`.
uint64_t raw_tx(const Port& port, const Plan& plan, const Options& o, uint64_t until) {
  std::array<rte_mbuf*, kBurst> burst{};
  const uint16_t n = static_cast<uint16_t>(std::min<size_t>(kBurst, plan.requests.size()));
  for (uint16_t k = 0; k < n; ++k) burst[k] = build(port, plan, plan.requests[k]);
  uint64_t sent = 0;
  while (rte_get_tsc_cycles() < until && !stopping(o)) {
    for (uint16_t k = 0; k < n; ++k) rte_mbuf_refcnt_update(burst[k], 1);
    send_all(port.id, burst.data(), n);
    sent += n;
  }
  for (uint16_t k = 0; k < n; ++k) rte_pktmbuf_free(burst[k]);
  return sent;
}

}  // namespace

Result replay(const Plan& plan, const Options& o) {
  if (plan.requests.empty()) throw InputError("replay: the workloads make no request to a tenant with UDP ports");
  if (!(o.speed > 0)) throw InputError("--speed: must be > 0");
  Result res;
  res.per_endpoint.assign(plan.endpoints.size(), 0);
  std::optional<TempCapture> capture;
  std::string vdev;
  const char* name = nullptr;
  const bool answers = replay::answers(o.target);
  if (o.target == Target::kPcap) {
    capture.emplace(o.file);
    vdev = fmt::format("--vdev=net_pcap0,tx_pcap={}", capture->tmp());
    name = "net_pcap0";
  } else if (answers) {
    if (o.testbed == nullptr) throw InputError("replay: --target linux|kernel without its test bed");
    o.testbed->enter_generator();
    if (o.tap_device) {
      vdev = fmt::format("--vdev=net_tap0,iface={}", o.testbed->tap_name());
      name = "net_tap0";
    } else {
      vdev = fmt::format("--vdev=net_af_packet0,iface={}", o.testbed->interface());
      name = "net_af_packet0";
    }
  } else {
    vdev = "--vdev=net_null0";
    name = "net_null0";
  }
  {
    std::vector<std::string> args = {vdev};
    args.insert(args.end(), o.eal_args.begin(), o.eal_args.end());
    Eal eal(std::move(args), o.verbose);
    const Port port = open_port(eal, name, answers);
    const uint64_t hz = rte_get_tsc_hz();
    if (o.target == Target::kPcap) {
      paced(port, plan, o, res, nullptr);
    } else if (answers) {
      if (o.tap_device) o.testbed->bridge_tap();  // DPDK made the tap when the device started
      Receiver rx(port, plan, res);
      warm_up(port, plan, o, rx, res);
      if (!stopping(o)) paced(port, plan, o, res, &rx);
      // Replies still on their way: awaited until none is outstanding, or for the reply timeout.
      const uint64_t until = rte_get_tsc_cycles() +
                             static_cast<uint64_t>(static_cast<double>(o.reply_timeout.ns()) * 1e-9 * static_cast<double>(hz));
      while (rx.outstanding() > 0 && rte_get_tsc_cycles() < until && !stopping(o)) {
        if (rx.poll() == 0) rte_delay_us_sleep(20);
      }
      rx.finish();
      res.stopped = stopping(o);
    } else {
      const uint64_t t = rte_get_tsc_cycles();
      res.sent = unpaced(port, plan, o, 0, &res);
      res.elapsed_s = static_cast<double>(rte_get_tsc_cycles() - t) / static_cast<double>(hz);
      if (o.bench && !stopping(o)) {
        const uint64_t span = static_cast<uint64_t>(static_cast<double>(o.bench_time.ns()) * static_cast<double>(hz) / 1e9);
        uint64_t b = rte_get_tsc_cycles();
        uint64_t n = unpaced(port, plan, o, b + span, nullptr);
        res.bench_generate_pps = static_cast<double>(n) * static_cast<double>(hz) / static_cast<double>(rte_get_tsc_cycles() - b);
        b = rte_get_tsc_cycles();
        n = raw_tx(port, plan, o, b + span);
        res.bench_raw_pps = static_cast<double>(n) * static_cast<double>(hz) / static_cast<double>(rte_get_tsc_cycles() - b);
      }
      res.stopped = stopping(o);
    }
    eal.close_port();  // flushes the capture
    rte_mempool_free(port.pool);
  }
  res.pps = res.elapsed_s > 0 ? static_cast<double>(res.sent) / res.elapsed_s : 0;
  if (capture && !res.stopped) capture->commit();
  return res;
}

}  // namespace edgeos::replay
