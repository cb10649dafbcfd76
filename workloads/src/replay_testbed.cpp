// The test bed of `edgeos replay --target linux|kernel` (replay.hpp, Testbed): two network
// namespaces made for the run, joined by a veth pair, and the servers under test on one side.
// Everything is made with iproute2 (`ip`), run directly (no shell), and removed in reverse order
// on every exit path; deleting a namespace removes its interfaces.
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fmt/format.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <set>
#include <thread>

#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/replay.hpp"

extern char** environ;

namespace edgeos::replay {

namespace {

std::string ipv4_text(uint32_t a) { return fmt::format("{}.{}.{}.{}", a >> 24, (a >> 16) & 0xff, (a >> 8) & 0xff, a & 0xff); }

std::string mac_text(const uint8_t* m) {
  return fmt::format("{:02x}:{:02x}:{:02x}:{:02x}:{:02x}:{:02x}", m[0], m[1], m[2], m[3], m[4], m[5]);
}

std::string join(const std::vector<std::string>& argv) {
  std::string s;
  for (const std::string& a : argv) s += (s.empty() ? "" : " ") + a;
  return s;
}

// Starts argv[0] (looked up in PATH) with stdout and stderr to /dev/null unless `show`; -> pid.
pid_t start(const std::vector<std::string>& argv, bool show) {
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  if (!show) {
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
  }
  std::vector<char*> args;
  for (const std::string& a : argv) args.push_back(const_cast<char*>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  const int rc = posix_spawnp(&pid, args[0], &fa, nullptr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  if (rc != 0) throw InputError(fmt::format("replay: cannot start {}: {}", argv[0], std::strerror(rc)));
  return pid;
}

int wait_for(pid_t pid) {
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

// A UDP echo server for the echo protocol's endpoints on Linux (none ships with Debian's base).
constexpr const char* kEchoServer =
    "import socket,sys\n"
    "s=socket.socket(socket.AF_INET,socket.SOCK_DGRAM)\n"
    "s.bind((sys.argv[1],int(sys.argv[2])))\n"
    "while True:\n"
    "  d,a=s.recvfrom(65536)\n"
    "  s.sendto(d,a)\n";

}  // namespace

void Testbed::run(const std::vector<std::string>& argv) const {
  const int rc = wait_for(start(argv, config_.verbose));
  if (rc != 0) {
    throw InputError(fmt::format("replay: `{}` failed (exit {}): --target {} needs root (CAP_NET_ADMIN) and iproute2",
                                 join(argv), rc, target_name(config_.target)));
  }
}

int Testbed::spawn(const std::vector<std::string>& argv, bool quiet_output) {
  const pid_t pid = start(argv, config_.verbose || !quiet_output);
  servers_.push_back(pid);
  what_.push_back(join(argv));
  return pid;
}

Testbed::Testbed(Plan& plan, const Config& config) : config_(config) {
  const int pid = static_cast<int>(::getpid());
  gen_ns_ = fmt::format("edgeos-rp{}-g", pid);
  srv_ns_ = fmt::format("edgeos-rp{}-s", pid);
  gen_if_ = fmt::format("erpg{}", pid);  // interface names: 15 characters at most
  srv_if_ = fmt::format("erps{}", pid);
  try {
    run({"ip", "netns", "add", gen_ns_});
    made_gen_ = true;
    run({"ip", "netns", "add", srv_ns_});
    made_srv_ = true;
    run({"ip", "-n", gen_ns_, "link", "add", gen_if_, "type", "veth", "peer", "name", srv_if_, "netns", srv_ns_});
    run({"ip", "-n", gen_ns_, "link", "set", gen_if_, "up"});
    run({"ip", "-n", srv_ns_, "link", "set", "lo", "up"});
    const std::string src = ipv4_text(kSourceIpv4);
    if (config.target == Target::kLinux) {
      // The servers' interface answers for every endpoint: one MAC (the first endpoint's), each
      // address; the replayer is a static neighbour (it answers no ARP) with a host route.
      for (Endpoint& e : plan.endpoints) std::memcpy(e.mac, plan.endpoints.front().mac, 6);
      run({"ip", "-n", srv_ns_, "link", "set", srv_if_, "address", mac_text(plan.endpoints.front().mac)});
      std::set<uint32_t> addresses;
      for (const Endpoint& e : plan.endpoints) addresses.insert(e.ipv4);
      for (uint32_t a : addresses) run({"ip", "-n", srv_ns_, "addr", "add", ipv4_text(a) + "/32", "dev", srv_if_});
      run({"ip", "-n", srv_ns_, "link", "set", srv_if_, "up"});
      run({"ip", "-n", srv_ns_, "route", "add", src + "/32", "dev", srv_if_});
      run({"ip", "-n", srv_ns_, "neigh", "replace", src, "lladdr", mac_text(kSourceMac), "dev", srv_if_, "nud", "permanent"});
      for (size_t i = 0; i < plan.endpoints.size(); ++i) {
        const Endpoint& e = plan.endpoints[i];
        const Protocol proto = e.protocol;
        const std::string ip = ipv4_text(e.ipv4), port = std::to_string(e.port);
        std::vector<std::string> argv = {"ip", "netns", "exec", srv_ns_};
        switch (proto) {
          case Protocol::kMemcached:  // Debian's memcached: UDP on the port (TCP too), one thread
            argv.insert(argv.end(), {"memcached", "-U", port, "-p", port, "-l", ip, "-t", "1", "-m", "64", "-u", "nobody"});
            break;
          case Protocol::kCoap:  // libcoap's example server (libcoap3-bin)
            argv.insert(argv.end(), {"coap-server-notls", "-A", ip, "-p", port});
            break;
          case Protocol::kEcho:
            argv.insert(argv.end(), {"/usr/bin/python3", "-c", kEchoServer, ip, port});
            break;
        }
        spawn(argv, true);
      }
    } else {
      // The guest's NIC answers for itself (the scenario's MAC and address); the servers' end of
      // the veth and the tap QEMU attaches to are ports of one bridge.
      const std::string br = fmt::format("erpb{}", pid), tap = fmt::format("erpt{}", pid);
      run({"ip", "-n", srv_ns_, "link", "add", br, "type", "bridge"});
      run({"ip", "-n", srv_ns_, "tuntap", "add", "dev", tap, "mode", "tap"});
      run({"ip", "-n", srv_ns_, "link", "set", srv_if_, "master", br});
      run({"ip", "-n", srv_ns_, "link", "set", tap, "master", br});
      for (const std::string& i : {br, tap, srv_if_}) run({"ip", "-n", srv_ns_, "link", "set", i, "up"});
      const uint64_t seconds = static_cast<uint64_t>((config.serve.ns() + 999'999'999) / 1'000'000'000);
      if (config.target == Target::kTap) {
        std::vector<std::string> argv = {"ip", "netns", "exec", srv_ns_};
        for (std::string w : config.launch) {
          for (const auto& [key, value] : {std::pair<std::string, std::string>{"{tap}", tap}, {"{serve}", std::to_string(seconds)}}) {
            for (size_t at = w.find(key); at != std::string::npos; at = w.find(key, at + value.size())) w.replace(at, key.size(), value);
          }
          argv.push_back(w);
        }
        spawn(argv, false);
      } else {
        std::vector<std::string> argv = {"ip", "netns", "exec", srv_ns_, config.edgeos, "boot", config.scenario_file, "--net",
                                         "tap:" + tap, "--serve", fmt::format("{}s", seconds), "--out", config.boot_out, "--quiet"};
        if (!config.memory.empty()) argv.insert(argv.end(), {"--memory", config.memory});
        spawn(argv, false);
      }
    }
  } catch (...) {
    cleanup();
    throw;
  }
}

void Testbed::enter_generator() const {
  const std::string path = "/var/run/netns/" + gen_ns_;
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0 || ::setns(fd, CLONE_NEWNET) != 0) {
    const std::string why = std::strerror(errno);
    if (fd >= 0) ::close(fd);
    throw InputError(fmt::format("replay: cannot enter the network namespace {}: {}", gen_ns_, why));
  }
  ::close(fd);
}

std::string Testbed::tap_name() const { return fmt::format("erpd{}", static_cast<int>(::getpid())); }

void Testbed::bridge_tap() const {
  const std::string br = fmt::format("erpc{}", static_cast<int>(::getpid()));
  run({"ip", "-n", gen_ns_, "link", "add", br, "type", "bridge"});
  run({"ip", "-n", gen_ns_, "link", "set", gen_if_, "master", br});
  run({"ip", "-n", gen_ns_, "link", "set", tap_name(), "master", br});
  for (const std::string& i : {br, tap_name()}) run({"ip", "-n", gen_ns_, "link", "set", i, "up"});
}

std::string Testbed::ended() {
  for (size_t i = 0; i < servers_.size(); ++i) {
    int status = 0;
    if (::waitpid(servers_[i], &status, WNOHANG) != servers_[i]) continue;
    const std::string how = WIFEXITED(status) ? fmt::format("exited {}", WEXITSTATUS(status))
                                              : fmt::format("was killed by signal {}", WTERMSIG(status));
    const std::string what = what_[i];
    servers_.erase(servers_.begin() + static_cast<std::ptrdiff_t>(i));
    what_.erase(what_.begin() + static_cast<std::ptrdiff_t>(i));
    return fmt::format("`{}` {}", what.substr(what.find(srv_ns_) + srv_ns_.size() + 1), how);
  }
  return "";
}

void Testbed::stop_servers() {
  // SIGINT first (edgeos boot then writes what it served, marked incomplete; the servers end), a
  // SIGKILL for whatever is still there after 30 s. `ip netns exec` execs its command, so the pid
  // is the server's own.
  for (pid_t pid : servers_) ::kill(pid, SIGINT);
  const auto give_up = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  for (pid_t pid : servers_) {
    int status = 0;
    while (::waitpid(pid, &status, WNOHANG) == 0) {
      if (std::chrono::steady_clock::now() > give_up) {
        ::kill(pid, SIGKILL);
        ::waitpid(pid, &status, 0);
        break;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
  }
  servers_.clear();
}

void Testbed::cleanup() noexcept {
  try {
    stop_servers();
  } catch (...) {
  }
  for (const auto& [made, ns] : {std::pair{made_srv_, srv_ns_}, std::pair{made_gen_, gen_ns_}}) {
    if (!made) continue;
    try {
      wait_for(start({"ip", "netns", "del", ns}, config_.verbose));
    } catch (...) {
    }
  }
  made_gen_ = made_srv_ = false;
}

Testbed::~Testbed() { cleanup(); }

std::string Testbed::describe() const {
  std::string s = fmt::format("namespaces {} (replayer on {}) and {}", gen_ns_, gen_if_, srv_ns_);
  for (const std::string& w : what_) s += "\n    " + w.substr(w.find(srv_ns_) + srv_ns_.size() + 1);
  return s;
}

}  // namespace edgeos::replay
