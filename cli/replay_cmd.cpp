// edgeos replay: a scenario's workload arrivals sent as request packets through DPDK (docs/replay.md).
#include <fmt/format.h>

#include <unistd.h>

#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <stdexcept>
#include <system_error>
#include <memory>
#include <optional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "cli.hpp"
#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/workloads/replay.hpp"
#include "edgeos/workloads/scenario_toml.hpp"
#include "options.hpp"

namespace edgeos::cli {
namespace {

struct ReplayOptions {
  std::string file;
  std::vector<std::string> target;
  std::string speed = "1";
  std::string seed;
  std::string out;
  bool bench = false;
  std::string eal;
  bool verbose = false;
  std::string reply_timeout = "1s";
  std::string warmup = "60s";
  std::string kernel;
  std::string device = "af_packet";
  std::string launch;
  std::string memory;
};

std::vector<std::string> split_words(const std::string& text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    const size_t j = text.find(' ', i);
    const size_t end = j == std::string::npos ? text.size() : j;
    if (end > i) out.push_back(text.substr(i, end - i));
    i = end + 1;
  }
  return out;
}

std::string us_text(uint64_t ns) { return fmt::format("{:.1f}us", static_cast<double>(ns) / 1e3); }

std::string ipv4_text(uint32_t a) { return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff); }

#ifdef EDGEOS_REPLAY_EXEC
// In `edgeos` (and edgeos-simgrid): DPDK's libraries (dozens of shared objects) would cost every
// command their loading, so only edgeos-replay, built beside this executable from the same
// sources, links them; this replaces the process by it with the same command line (as
// simgrid_exec.cpp does for SimGrid).
[[noreturn]] void exec_replay() {
  std::error_code ec;
  const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
  if (ec) throw std::runtime_error("replay: cannot find this executable (/proc/self/exe): " + ec.message());
  const std::string helper = (self.parent_path() / "edgeos-replay").string();
  std::fflush(stdout);
  std::fflush(stderr);
  ::execv(helper.c_str(), command_line());
  throw std::runtime_error("replay runs " + helper + ", which could not be started: " + std::strerror(errno));
}
#endif

int run_replay(const ReplayOptions& o) {
#ifdef EDGEOS_REPLAY_EXEC
  exec_replay();
#endif
  // Everything the command line can get wrong is refused before DPDK starts.
  replay::Options ro;
  if (o.target.empty()) throw InputError("--target: give pcap FILE or null");
  if (o.target[0] == "pcap") {
    if (o.target.size() != 2 || o.target[1].empty()) throw InputError("--target pcap: name the capture file (--target pcap FILE)");
    ro.target = replay::Target::kPcap;
    ro.file = o.target[1];
  } else if (o.target[0] == "null") {
    if (o.target.size() != 1) throw InputError("--target null: takes no file");
    ro.target = replay::Target::kNull;
  } else if (o.target[0] == "linux" || o.target[0] == "kernel" || o.target[0] == "tap") {
    if (o.target.size() != 1) throw InputError(fmt::format("--target {}: takes no argument (the scenario says what to serve)", o.target[0]));
    ro.target = o.target[0] == "linux" ? replay::Target::kLinux : o.target[0] == "kernel" ? replay::Target::kKernel : replay::Target::kTap;
    if (ro.target == replay::Target::kTap && split_words(o.launch).empty()) {
      throw InputError("--target tap: give --launch CMD, the command that attaches the system under test to the tap "
                       "({tap} in it is the tap's name, {serve} the seconds to serve)");
    }
    if (::geteuid() != 0) {
      throw InputError(fmt::format("--target {}: needs root (it makes two network namespaces for the run, and removes them)",
                                   o.target[0]));
    }
  } else {
    throw InputError(fmt::format("--target: unknown target '{}'; the targets are: pcap FILE, null, linux, kernel, tap", o.target[0]));
  }
  if (!o.launch.empty() && ro.target != replay::Target::kTap) throw InputError("--launch: only with --target tap");
  if (!o.memory.empty() && ro.target != replay::Target::kKernel) throw InputError("--memory: only with --target kernel");
  if (o.device != "af_packet" && o.device != "tap") {
    throw InputError(fmt::format("--device: '{}' is neither af_packet nor tap", o.device));
  }
  if (o.device == "tap" && !replay::answers(ro.target)) {
    throw InputError("--device tap: only with --target linux, kernel or tap");
  }
  ro.tap_device = o.device == "tap";
  ro.reply_timeout = parse_duration(o.reply_timeout, "--reply-timeout");
  ro.warmup_timeout = parse_duration(o.warmup, "--warmup");
  if (ro.reply_timeout.ns() <= 0) throw InputError("--reply-timeout: must be > 0");
  if (ro.warmup_timeout.ns() <= 0) throw InputError("--warmup: must be > 0");
  ro.speed = parse_number(o.speed, "--speed");
  if (!(ro.speed > 0)) throw InputError("--speed: must be > 0");
  if (o.bench && ro.target != replay::Target::kNull) throw InputError("--bench: only with --target null");
  ro.bench = o.bench;
  ro.verbose = o.verbose;
  for (const std::string& a : split_words(o.eal)) ro.eal_args.push_back(a);
  if (!replay::dpdk_built()) {
    throw InputError("replay: this edgeos was built without DPDK (pkg-config found no libdpdk; on Debian install "
                     "libdpdk-dev and configure again)");
  }
  const scenario::Scenario s = scenario::load_scenario(o.file);
  const uint64_t seed = o.seed.empty() ? s.seed : parse_uint(o.seed, "--seed");
  replay::Plan plan = replay::plan(s, seed);
  if (plan.requests.empty()) {
    throw InputError(fmt::format("{}: no workload arrival reaches a thread of a tenant with UDP ports: nothing to send", s.file));
  }

  StopOnSignal stop;
  ro.stop = stop.flag();
  const bool answers = replay::answers(ro.target);
  std::optional<replay::Testbed> testbed;
  std::string boot_out;
  if (answers) {
    // Output to a reader that went away fails (an exception, the test bed removed on the way out)
    // instead of killing the process with what it made still there.
    std::signal(SIGPIPE, SIG_IGN);
    replay::Testbed::Config tc;
    tc.target = ro.target;
    tc.verbose = o.verbose;
    // A guest (kernel, tap) serves through the warm-up, the run at its speed, and the reply
    // timeout, with room.
    const double run_s = static_cast<double>((plan.requests.back().time - plan.requests.front().time).ns()) / 1e9 / ro.speed;
    tc.serve = ro.warmup_timeout + ro.reply_timeout + Duration::nanoseconds(static_cast<int64_t>(run_s * 1e9)) + Duration::seconds(30);
    if (ro.target == replay::Target::kKernel) {
      std::error_code ec;
      const std::filesystem::path self = std::filesystem::read_symlink("/proc/self/exe", ec);
      if (ec) throw std::runtime_error("replay: cannot find this executable (/proc/self/exe): " + ec.message());
      tc.edgeos = (self.parent_path() / "edgeos").string();
      tc.scenario_file = std::filesystem::absolute(o.file).string();
      boot_out = o.out.empty() ? fmt::format("out/replay-kernel-{}", ::getpid()) : o.out + "/kernel";
      tc.boot_out = std::filesystem::absolute(boot_out).string();
      tc.memory = o.memory;
    }
    if (ro.target == replay::Target::kTap) tc.launch = split_words(o.launch);
    testbed.emplace(plan, tc);
    ro.testbed = &*testbed;
    fmt::print(stderr, "replay: test bed: {}\n", testbed->describe());
  }
  const replay::Result r = replay::replay(plan, ro);
  if (testbed) testbed->stop_servers();
  // Stopped by a signal: what was sent and answered until then is still reported (and written to
  // replay.json, marked "complete": false); a capture is not kept (its tail would be missing).
  const int exit_stopped = 128 + (stop.signal() != 0 ? stop.signal() : SIGINT);
  if (r.stopped) {
    fmt::print(stderr, "edgeos replay: stopped by {} after {} of {} packets{}\n", signal_name(stop.signal()), r.sent,
               plan.requests.size(), o.out.empty() ? "" : "; replay.json has what was done, marked \"complete\": false");
  }

  const char* target = replay::target_name(ro.target);
  fmt::print("== replay {} | seed {} | {} requests -> {}{} ==\n", s.name, seed, plan.requests.size(), target,
             ro.target == replay::Target::kPcap ? fmt::format(" {} at speed {}x", ro.file, ro.speed) : "");
  nlohmann::json tenants = nlohmann::json::array();
  for (size_t e = 0; e < plan.endpoints.size(); ++e) {
    const replay::Endpoint& ep = plan.endpoints[e];
    fmt::print("  tenant {}: {} packets to {}:{}\n", ep.tenant, r.per_endpoint[e], ipv4_text(ep.ipv4), ep.port);
    nlohmann::json t = {{"tenant", ep.tenant}, {"ipv4", ipv4_text(ep.ipv4)}, {"port", ep.port}, {"packets", r.per_endpoint[e]}};
    if (answers) {
      const replay::TenantReplies& tr = r.replies[e];
      const replay::LatencyHistogram& h = tr.latency;
      fmt::print("    {} replies ({} malformed), {} lost, {} unmatched; latency p50 {} p99 {} p99.9 {} max {}\n", tr.replies,
                 tr.invalid, tr.lost, tr.unmatched, us_text(h.quantile(0.5)), us_text(h.quantile(0.99)),
                 us_text(h.quantile(0.999)), us_text(h.max()));
      nlohmann::json buckets = nlohmann::json::array();
      for (const auto& [upper, n] : h.buckets()) buckets.push_back({upper, n});
      t["replies"] = tr.replies;
      t["invalid_replies"] = tr.invalid;
      t["lost"] = tr.lost;
      t["unmatched"] = tr.unmatched;
      if (tr.hits + tr.misses + tr.wrong > 0) {
        t["memcached"] = {{"get_hits", tr.hits}, {"get_misses", tr.misses}, {"wrong_answers", tr.wrong}};
        fmt::print("    memcached: {} gets hit, {} missed; {} answers not the value set last\n", tr.hits, tr.misses, tr.wrong);
      }
      t["latency_ns"] = {{"count", h.count()}, {"min", h.min()},           {"p50", h.quantile(0.5)}, {"p99", h.quantile(0.99)},
                         {"p999", h.quantile(0.999)}, {"max", h.max()}, {"mean", h.mean()},        {"histogram", buckets}};
    }
    tenants.push_back(t);
  }
  if (plan.unbound != 0) fmt::print("  {} arrivals at threads of tenants without UDP ports: not sent\n", plan.unbound);
  nlohmann::json j = {{"scenario", s.name}, {"seed", seed}, {"target", target}, {"sent", r.sent},
                      {"unbound_arrivals", plan.unbound}, {"tenants", tenants}, {"elapsed_s", r.elapsed_s}, {"pps", r.pps}};
  j["complete"] = !r.stopped;
  j["planned"] = plan.requests.size();
  if (ro.target == replay::Target::kPcap) j["file"] = r.stopped ? nlohmann::json(nullptr) : nlohmann::json(ro.file);
  if (ro.target != replay::Target::kNull) j["speed"] = ro.speed;
  if (answers) {
    j["warmup_s"] = r.warmup_s;
    j["reply_timeout_s"] = static_cast<double>(ro.reply_timeout.ns()) / 1e9;
    fmt::print("  every tenant answered a probe after {:.2f} s; replies awaited {} after the last request\n", r.warmup_s,
               o.reply_timeout);
  }
  if (ro.target == replay::Target::kKernel) {
    j["kernel_out"] = boot_out;
    fmt::print("  the kernel's trace and summary: {}/\n", boot_out);
  }
  if (r.pacing) {
    fmt::print("  send-time error (host time): p50 {:.1f} us, p99 {:.1f} us, max {:.1f} us\n", r.pacing->p50_us,
               r.pacing->p99_us, r.pacing->max_us);
    j["pacing_error_us"] = {{"p50", r.pacing->p50_us}, {"p99", r.pacing->p99_us}, {"max", r.pacing->max_us}};
  } else {
    fmt::print("  {} packets in {:.6f} s: {:.0f} packets/s\n", r.sent, r.elapsed_s, r.pps);
  }
  if (r.bench_generate_pps && r.bench_raw_pps) {
    fmt::print("  bench ({} s each, net_null): generating {:.0f} packets/s, tx-only pre-built mbufs {:.0f} packets/s ({:.2f}x)\n",
               ro.bench_time.ns() / 1'000'000'000, *r.bench_generate_pps, *r.bench_raw_pps, *r.bench_generate_pps / *r.bench_raw_pps);
    j["bench"] = {{"seconds", static_cast<double>(ro.bench_time.ns()) / 1e9},
                  {"generate_pps", *r.bench_generate_pps},
                  {"raw_tx_pps", *r.bench_raw_pps}};
  }
  if (!o.out.empty()) {
    write_file_atomically(o.out + "/replay.json", j.dump(2) + "\n");
    fmt::print("  -> {}/replay.json\n", o.out);
  }
  return r.stopped ? exit_stopped : kExitOk;
}

}  // namespace

Action add_replay(CLI::App& app) {
  auto opt = std::make_shared<ReplayOptions>();
  CLI::App* cmd = app.add_subcommand(
      "replay",
      "Send a scenario's workload arrivals as request packets through DPDK (docs/replay.md): one UDP request per\n"
      "arrival at a thread of a tenant with UDP ports, to its first port (kv: memcached get, iot: CoAP GET, else echo).");
  cmd->add_option("scenario", opt->file, "scenario file (TOML)")->required();
  cmd->add_option("--target", opt->target,
                  "pcap FILE (paced against the arrival times), null (as fast as possible), linux (paced, to real\n"
                  "memcached -U / coap-server / UDP echo servers in a network namespace, replies matched), kernel\n"
                  "(paced, to the booted edgeos kernel serving the scenario on a tap in a namespace), or tap (the same,\n"
                  "to whatever --launch attaches to that tap: another OS in QEMU, say)")
      ->expected(1, 2)
      ->required();
  cmd->add_option("--speed", opt->speed, "pcap: compress time by this factor (100: a 1 s scenario in 10 ms)")->capture_default_str();
  cmd->add_option("--seed", opt->seed, "replace the scenario's seed (the arrivals `edgeos sim --seed` releases)");
  cmd->add_option("--out", opt->out, "also write OUT/replay.json (counts per tenant, send-time error)")->check(output_dir());
  cmd->add_flag("--bench", opt->bench, "null: then generate for 2 s, and send pre-built mbufs for 2 s (the baseline)");
  cmd->add_option("--eal", opt->eal, "more DPDK EAL arguments, space separated (e.g. \"-m 128\")");
  cmd->add_flag("--verbose", opt->verbose, "show DPDK's log (info level; errors only otherwise), and the servers' output");
  cmd->add_option("--reply-timeout", opt->reply_timeout, "linux, kernel, tap: how long replies are awaited after the last request")
      ->capture_default_str();
  cmd->add_option("--device", opt->device,
                  "linux, kernel, tap: the replayer's DPDK device, af_packet (net_af_packet on the veth) or tap (net_tap,\n"
                  "a tap bridged to the veth)")
      ->capture_default_str();
  cmd->add_option("--warmup", opt->warmup, "linux, kernel, tap: how long the targets get to answer a first probe")->capture_default_str();
  cmd->add_option("--memory", opt->memory, "kernel: the guest's memory, as edgeos boot --memory takes it (1G for 1,000 tenants)");
  cmd->add_option("--launch", opt->launch,
                  "tap: the command (its words space separated) that attaches the system under test to the tap, run\n"
                  "as root in the servers' namespace and stopped with SIGINT when the replay ends; {tap} in it is the\n"
                  "tap's name, {serve} the seconds to serve. The system answers at the scenario's NIC MAC and address,\n"
                  "from 10.0.2.99 (MAC 02:00:0a:00:02:63), which answers no ARP");
  cmd->footer(
      "DPDK runs without hugepages or PCI (--no-huge --no-pci, one lcore): the capture is written by the net_pcap\n"
      "virtual device, to a temporary file renamed into place when the run ends. Exit code 2 for bad input,\n"
      "a scenario without UDP bindings, or a DPDK that cannot start (the message says why). linux and kernel\n"
      "need root: they make two network namespaces (edgeos-rp<pid>-g, -s) joined by a veth pair, and remove them.");
  return [cmd, opt]() { return cmd->parsed() ? run_replay(*opt) : -1; };
}

}  // namespace edgeos::cli
