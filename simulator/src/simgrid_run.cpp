#include "edgeos/simulator/simgrid_run.hpp"

#include <fmt/format.h>
#include <simgrid/plugins/energy.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <xbt/log.h>

#include <algorithm>
#include <cmath>
#include <deque>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <nlohmann/json.hpp>
#include <simgrid/Exception.hpp>
#include <simgrid/s4u.hpp>
#include <unordered_map>

#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/summary_json.hpp"

namespace sg4 = simgrid::s4u;

namespace edgeos::sim {

namespace {

// The most device actors one run creates (see the check in SimGridRun's constructor).
constexpr uint64_t kMaxDeviceActors = 20000;

double seconds(Instant t) { return static_cast<double>(t.ns()) * 1e-9; }
// SimGrid's clock to the core's: to the nearest nanosecond (SimGrid's own timing precision is
// 1e-9 s, its `precision/timing` default).
Instant clock_instant() { return Instant::epoch() + Duration::nanoseconds(std::llround(sg4::Engine::get_clock() * 1e9)); }

// The network model whose transfer time is plain latency + size / bandwidth (see the header).
void configure_engine() {
  sg4::Engine::set_config("network/model:CM02");
  sg4::Engine::set_config("network/latency-factor:1");
  sg4::Engine::set_config("network/bandwidth-factor:1");
  sg4::Engine::set_config("network/TCP-gamma:0");
  sg4::Engine::set_config("network/crosstraffic:0");
}

// SimGrid reports a platform it cannot load by throwing, and for some errors by xbt_die (an
// abort). Loading it first in a child process turns both into an error message for the user,
// and the parent never aborts (nor dumps core).
void validate_platform_file(const std::string& path, const std::string& where) {
  std::error_code ec;
  if (!std::filesystem::is_regular_file(path, ec)) {
    throw InputError(fmt::format("{}platform file \"{}\" does not exist or is not a file", where, path));
  }
  if (!std::ifstream(path)) throw InputError(fmt::format("{}platform file \"{}\" cannot be read", where, path));
  int fds[2];
  if (pipe(fds) != 0) throw std::runtime_error("pipe failed");
  std::fflush(nullptr);
  const pid_t pid = fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    dup2(fds[1], STDERR_FILENO);
    dup2(fds[1], STDOUT_FILENO);
    close(fds[0]);
    int argc = 3;
    char arg0[] = "edgeos";
    char arg1[] = "--log=root.fmt:%m%n";
    char arg2[] = "--log=xbt_cfg.thresh:warning";
    char* argv[] = {arg0, arg1, arg2, nullptr};
    try {
      sg4::Engine e(&argc, argv);
      configure_engine();
      e.load_platform(path);
    } catch (const std::exception& ex) {
      std::fprintf(stderr, "%s\n", ex.what());
      std::fflush(stderr);
      _exit(3);
    }
    _exit(0);
  }
  close(fds[1]);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = read(fds[0], buf, sizeof buf)) > 0) out.append(buf, static_cast<size_t>(n));
  close(fds[0]);
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return;
  // SimGrid's last few lines name the element (and often the line) it refused.
  std::vector<std::string> lines;
  size_t from = 0;
  while (from < out.size()) {
    size_t to = out.find('\n', from);
    if (to == std::string::npos) to = out.size();
    std::string line = out.substr(from, to - from);
    if (!line.empty() && line.find("Backtrace") == std::string::npos && line.rfind("  ", 0) != 0) lines.push_back(line);
    from = to + 1;
  }
  std::string why;
  for (size_t i = lines.size() > 3 ? lines.size() - 3 : 0; i < lines.size(); ++i) why += (why.empty() ? "" : "; ") + lines[i];
  if (why.empty()) why = WIFSIGNALED(status) ? fmt::format("SimGrid aborted (signal {})", WTERMSIG(status)) : "SimGrid refused it";
  throw InputError(fmt::format("{}platform file \"{}\" is not a valid SimGrid platform: {}", where, path, why));
}

// The first number of a wattage_per_state property: pstate 0's idle power.
double idle_watts(const char* prop) {
  if (prop == nullptr) return 0;
  return std::strtod(prop, nullptr);
}

}  // namespace

struct SimGridRun::Impl final : SwitchObserver {
  const scenario::Scenario& s;
  ScenarioRun* run = nullptr;
  std::unique_ptr<sg4::Engine> engine;
  std::string platform;  // file, or "generated"

  std::vector<sg4::Host*> server_host;  // by server
  std::vector<uint32_t> server_of_cpu;  // by global CPU

  // The exec occupying a core of the CPU's host while a thread runs on it; `busy` is what the
  // core last decided, applied to the execs before the driver next waits.
  struct CpuMirror {
    sg4::ExecPtr exec;
    bool busy = false;
    bool dirty = false;
  };
  std::vector<CpuMirror> cpus;
  std::vector<uint32_t> dirty_cpus;

  // Devices: a fleet per carried source (one per thread instance a device group's workload
  // drives), one actor per device. Arrival i of the source is device i mod count's: the fleet
  // reads the source for all of them and queues each arrival for its device.
  struct Fleet {
    uint32_t carried = 0;
    const scenario::DeviceGroup* group = nullptr;
    std::vector<sg4::Host*> hosts;
    sg4::Host* server = nullptr;
    uint32_t tenant = 0;
    uint64_t read = 0;      // arrivals read from the source
    bool exhausted = false;
    std::vector<std::deque<arrivals::Arrival>> queued;   // per device: read, not yet sent
    std::vector<std::vector<sg4::CommPtr>> inflight;     // per device: requests on their way
  };
  std::vector<Fleet> fleets;
  struct Request {
    uint32_t fleet;
    uint32_t device;
    Instant born;  // when the device sent it
  };
  std::unordered_map<uint64_t, Request> requests;  // by request id (the job's tag), until answered
  uint64_t next_request = 0;
  struct Delivery {
    uint32_t fleet;
    arrivals::Arrival arrival;
  };
  std::deque<Delivery> inbox;  // requests that reached their server, not yet given to the core
  sg4::MutexPtr mutex;
  sg4::ConditionVariablePtr wakeup;
  struct Response {
    sg4::CommPtr comm;
    Instant born;
    uint32_t tenant;
    const sg4::Host* from;
    const sg4::Host* to;
    double bytes;
  };
  std::deque<Response> responses;
  std::vector<DeviceTraffic> traffic;             // by tenant
  std::vector<std::vector<Duration>> latencies;   // by tenant

  std::map<std::pair<const sg4::Host*, const sg4::Host*>, std::vector<sg4::Link*>> routes;
  std::map<const sg4::Link*, double> link_bytes;

  bool finished = false;  // the driver reached the end: device actors stop
  const ProgressFn* progress = nullptr;
  const std::atomic<bool>* stop = nullptr;
  SimGridResult result;

  explicit Impl(const scenario::Scenario& sc) : s(sc) {}

  void on_switch(CpuId cpu, const Thread*, const Thread* to) override {
    CpuMirror& c = cpus[cpu];
    c.busy = to != nullptr;
    // Only a change between idle and busy changes the host's load (one thread after another on
    // a CPU keeps its exec).
    if (!c.dirty && c.busy != static_cast<bool>(c.exec)) {
      c.dirty = true;
      dirty_cpus.push_back(cpu);
    }
  }

  // Starts or cancels execs so that each host has one busy core per running CPU.
  void mirror_cpus() {
    for (const uint32_t cpu : dirty_cpus) {
      CpuMirror& c = cpus[cpu];
      c.dirty = false;
      if (c.busy && !c.exec) {
        // Far more work than any run: the exec ends when the core says so (cancel), not by itself.
        c.exec = sg4::Exec::init()->set_flops_amount(1e300)->set_host(server_host[server_of_cpu[cpu]]);
        c.exec->start();
      } else if (!c.busy && c.exec) {
        c.exec->cancel();
        c.exec = nullptr;
      }
    }
    dirty_cpus.clear();
  }

  void count_bytes(const sg4::Host* from, const sg4::Host* to, double bytes) {
    if (bytes <= 0) return;
    auto it = routes.find({from, to});
    if (it == routes.end()) {
      std::vector<sg4::Link*> links;
      double latency = 0;
      from->route_to(to, links, &latency);
      it = routes.emplace(std::make_pair(from, to), std::move(links)).first;
    }
    for (const sg4::Link* l : it->second) link_bytes[l] += bytes;
  }

  // Device k's next arrival, reading the shared source ahead as far as needed.
  bool next_for(Fleet& f, uint32_t k, arrivals::Arrival& a) {
    while (f.queued[k].empty() && !f.exhausted) {
      arrivals::Arrival x;
      if (!run->carried_source(f.carried).next(x)) {
        f.exhausted = true;
        break;
      }
      f.queued[f.read++ % f.group->count].push_back(x);
    }
    if (f.queued[k].empty()) return false;
    a = f.queued[k].front();
    f.queued[k].pop_front();
    return true;
  }

  // A device: sends each of its arrivals to the server when it is due, and hands each request
  // whose transfer ended to the driver.
  void device_actor(uint32_t fi, uint32_t k) {
    Fleet& f = fleets[fi];
    std::vector<sg4::CommPtr>& inflight = f.inflight[k];
    std::vector<arrivals::Arrival> sent;  // parallel to inflight
    arrivals::Arrival a;
    bool has = next_for(f, k, a);
    for (;;) {
      if (finished || (!has && inflight.empty())) return;
      ssize_t done = -1;
      if (has && seconds(a.time) <= sg4::Engine::get_clock()) {
        done = -1;  // the next request is due now
      } else if (inflight.empty()) {
        sg4::this_actor::sleep_until(seconds(a.time));
      } else {
        try {
          done = sg4::Comm::wait_any_for(inflight, has ? seconds(a.time) - sg4::Engine::get_clock() : -1.0);
        } catch (const simgrid::Exception&) {
          return;  // the run is over: the driver cancelled what was still on its way
        }
        if (done < 0) continue;  // timed out: the next request is due
      }
      if (done >= 0) {
        // A request reached its server: the driver gives it to the core.
        std::unique_lock<sg4::Mutex> lock(*mutex);
        count_bytes(f.hosts[k], f.server, static_cast<double>(std::max<uint64_t>(1, f.group->request_bytes)));
        inbox.push_back(Delivery{fi, sent[static_cast<size_t>(done)]});  // its tag: the request id
        inflight.erase(inflight.begin() + done);
        sent.erase(sent.begin() + done);
        wakeup->notify_one();
        continue;
      }
      const uint64_t id = next_request++;
      requests[id] = Request{fi, k, a.time};
      ++traffic[f.tenant].requests;
      // A request of no size travels as one byte: SimGrid 3.32 never completes a sendto of zero
      // bytes (seen here; one byte costs 1/B more).
      inflight.push_back(sg4::Comm::sendto_async(f.hosts[k], f.server, std::max<uint64_t>(1, f.group->request_bytes)));
      a.tag = id;
      sent.push_back(a);
      has = next_for(f, k, a);
    }
  }

  void deliver_inbox() {
    while (!inbox.empty()) {
      Delivery d = inbox.front();
      inbox.pop_front();
      d.arrival.time = run->simulator().now();
      const Fleet& f = fleets[d.fleet];
      if (run->deliver_carried(f.carried, d.arrival)) {
        ++traffic[f.tenant].delivered;
      } else {
        requests.erase(d.arrival.tag);
      }
    }
  }

  // A job released by a device's request completed: its response goes back to the device.
  void on_complete(const JobInfo& job) {
    if (job.source == kNoIndex || (job.source & kCarriedSource) == 0) return;  // not from a device
    const auto it = requests.find(job.tag);
    if (it == requests.end()) return;
    const Request r = it->second;
    requests.erase(it);
    const Fleet& f = fleets[r.fleet];
    if (f.group->response_bytes == 0) {
      ++traffic[f.tenant].answered;
      latencies[f.tenant].push_back(run->simulator().now() - r.born);
      return;
    }
    responses.push_back(Response{sg4::Comm::sendto_async(f.server, f.hosts[r.device], f.group->response_bytes), r.born,
                                 f.tenant, f.server, f.hosts[r.device], static_cast<double>(f.group->response_bytes)});
  }

  // Responses the devices have received by `end`, in order of sending while they are done.
  void sweep_responses(bool all, Instant end) {
    for (auto it = responses.begin(); it != responses.end();) {
      if (!it->comm->test()) {
        if (!all) return;
        ++it;
        continue;
      }
      const Instant at = Instant::epoch() + Duration::nanoseconds(std::llround(it->comm->get_finish_time() * 1e9));
      if (at <= end) {
        count_bytes(it->from, it->to, it->bytes);
        ++traffic[it->tenant].answered;
        latencies[it->tenant].push_back(at - it->born);
      }
      it = responses.erase(it);
    }
  }

  // Lets SimGrid's clock reach t (it may lag behind the core's; see driver_actor).
  static void catch_up(Instant t) {
    if (seconds(t) > sg4::Engine::get_clock()) sg4::this_actor::sleep_until(seconds(t));
  }

  void driver_actor() {
    CoreSimulator& sim = run->simulator();
    const Instant end = run->end();
    uint64_t steps = 0;
    bool stopped = false;
    for (;;) {
      if (stop != nullptr && stop->load(std::memory_order_relaxed)) {
        stopped = true;
        break;
      }
      deliver_inbox();
      const CoreSimulator::NextEvent e = sim.next_event();
      const Instant target = std::min(e.when, end);
      if (target > sim.now() && fleets.empty()) {
        // Without devices nothing but the core acts, and host loads only change where a CPU
        // goes from idle to busy or back: SimGrid's clock needs to be at those instants only
        // (the energy plugin integrates constant load in between), which saves a context
        // switch to SimGrid's kernel at most instants.
        if (!dirty_cpus.empty()) {
          catch_up(sim.now());
          mirror_cpus();
        }
      } else if (target > sim.now()) {
        mirror_cpus();
        {
          std::unique_lock<sg4::Mutex> lock(*mutex);
          if (inbox.empty()) wakeup->wait_until(lock, seconds(target));
        }
        const Instant t = std::clamp(clock_instant(), sim.now(), target);
        if (!inbox.empty() && t < target) {
          // A request arrived first: deliver it at its instant, then look again.
          sim.advance_clock(t);
          continue;
        }
      }
      if (target >= end) break;
      // Every event at this instant, in the core's order; requests arriving now come after them.
      sim.process_before(target + Duration::nanoseconds(1));
      if (!responses.empty()) sweep_responses(false, end);
      if (progress != nullptr && *progress && (++steps & 0xfff) == 0) (*progress)(sim.now(), end);
    }
    result.complete = !stopped;
    result.end = stopped ? sim.now() : end;
    catch_up(sim.now());
    mirror_cpus();  // what the last instant changed (if the loop stopped before applying it)
    result.stats = sim.run_until(result.end);
    catch_up(result.end);
    if (progress != nullptr && *progress) (*progress)(result.end, end);
    sweep_responses(true, result.end);
    sg_host_energy_update_all();
    // Cancel what is still under way (SimGrid warns about activities dropped while running),
    // then end the device actors.
    finished = true;
    for (Fleet& f : fleets) {
      for (const std::vector<sg4::CommPtr>& device : f.inflight) {
        for (const sg4::CommPtr& c : device) c->cancel();
      }
    }
    for (const Response& r : responses) r.comm->cancel();
    responses.clear();
    for (CpuMirror& c : cpus) {
      if (c.exec) c.exec->cancel();
      c.exec = nullptr;
    }
    sg4::Actor::kill_all();
  }
};

SimGridRun::SimGridRun(const scenario::Scenario& s, const ScenarioOptions& options, const SimGridOptions& sg, TraceSink& sink)
    : impl_(std::make_unique<Impl>(s)) {
  Impl& im = *impl_;
  // The platform file: --platform, else the servers' `platform` key (one file for all).
  std::string file = sg.platform;
  std::string where;
  if (file.empty()) {
    for (const scenario::Server& sv : s.servers) {
      if (sv.platform.empty()) continue;
      if (!file.empty() && sv.platform != file) {
        throw InputError(fmt::format("{}: server \"{}\": platform \"{}\" differs from another server's \"{}\" (one platform "
                                     "file per scenario)", sv.where.describe(), sv.name, sv.platform, file));
      }
      file = sv.platform;
      where = sv.where.describe() + ": ";
    }
  }
  if (!file.empty()) validate_platform_file(file, where);

  int argc = 2;
  static char arg0[] = "edgeos";
  static char arg1[] = "--log=root.thresh:critical";
  char* argv[] = {arg0, arg1, nullptr};
  im.engine = std::make_unique<sg4::Engine>(&argc, argv);
  configure_engine();
  sg_host_energy_plugin_init();

  auto server_host_name = [](const scenario::Server& sv) { return sv.host.empty() ? sv.name : sv.host; };
  auto device_host_name = [](const scenario::DeviceGroup& d, uint32_t k) { return fmt::format("{}-{}", d.prefix, d.first + k); };
  if (!file.empty()) {
    im.engine->load_platform(file);
    im.platform = file;
  } else {
    // A generated platform: one host per server (its speed, one core per CPU); each device has
    // its own access link (the group's latency and bandwidth) to every server.
    im.platform = "generated";
    sg4::NetZone* zone = sg4::create_full_zone("edgeos");
    std::vector<sg4::Host*> servers;
    for (const scenario::Server& sv : s.servers) {
      servers.push_back(zone->create_host(server_host_name(sv), sv.speed_hz)->set_core_count(static_cast<int>(sv.cpus))->seal());
    }
    for (const scenario::DeviceGroup& d : s.devices) {
      for (uint32_t k = 0; k < d.count; ++k) {
        if (im.engine->host_by_name_or_null(device_host_name(d, k)) != nullptr) {
          throw InputError(fmt::format("{}: device \"{}\": host \"{}\" exists already (another group or a server has it)",
                                       d.where.describe(), d.name, device_host_name(d, k)));
        }
        sg4::Host* h = zone->create_host(device_host_name(d, k), 1e9)->seal();
        sg4::Link* l = zone->create_link(device_host_name(d, k) + "-link", d.bandwidth_bps)->set_latency(seconds(Instant::epoch() + d.latency))->seal();
        for (sg4::Host* sh : servers) {
          zone->add_route(h->get_netpoint(), sh->get_netpoint(), nullptr, nullptr, {sg4::LinkInRoute(l)}, true);
        }
      }
    }
    zone->seal();
  }
  const std::string platform_name = file.empty() ? "the generated platform" : fmt::format("platform file \"{}\"", file);

  // Servers are hosts with at least as many cores as CPUs.
  for (const scenario::Server& sv : s.servers) {
    sg4::Host* h = im.engine->host_by_name_or_null(server_host_name(sv));
    if (h == nullptr) {
      std::vector<std::string> names;
      for (const sg4::Host* x : im.engine->get_all_hosts()) names.push_back(x->get_name());
      std::sort(names.begin(), names.end());
      if (names.size() > 12) {
        names.resize(12);
        names.push_back("...");
      }
      throw InputError(fmt::format("{}: server \"{}\": {} has no host \"{}\" (hosts: {})", sv.where.describe(), sv.name,
                                   platform_name, server_host_name(sv), fmt::join(names, ", ")));
    }
    if (h->get_core_count() < static_cast<int>(sv.cpus)) {
      throw InputError(fmt::format("{}: server \"{}\": host \"{}\" of {} has {} cores for {} CPUs", sv.where.describe(), sv.name,
                                   h->get_name(), platform_name, h->get_core_count(), sv.cpus));
    }
    if (std::find(im.server_host.begin(), im.server_host.end(), h) != im.server_host.end()) {
      throw InputError(fmt::format("{}: server \"{}\": host \"{}\" already plays another server", sv.where.describe(), sv.name, h->get_name()));
    }
    im.server_host.push_back(h);
  }

  // The scenario, on the same simulator the core-only backend uses; device workloads are carried.
  ScenarioOptions opt = options;
  opt.carried_workloads.assign(s.workloads.size(), false);
  for (const scenario::DeviceGroup& d : s.devices) {
    for (size_t i = 0; i < s.workloads.size(); ++i) {
      if (s.workloads[i].name == d.workload) opt.carried_workloads[i] = true;
    }
  }
  run_ = std::make_unique<ScenarioRun>(s, opt, sink);
  im.run = run_.get();
  for (size_t si = 0; si < s.servers.size(); ++si) im.server_of_cpu.insert(im.server_of_cpu.end(), s.servers[si].cpus, static_cast<uint32_t>(si));
  // Costs are work at the server's `speed`; on a host of another speed (flop/s taken as cycles/s)
  // every job takes proportionally longer or shorter.
  for (const std::vector<ThreadId>& ids : run_->layout().threads) {
    for (const ThreadId id : ids) {
      const uint32_t si = im.server_of_cpu[(*run_->simulator().kernel().thread(id))->cpu];
      const double scale = s.servers[si].speed_hz / im.server_host[si]->get_speed();
      if (scale != 1.0 && !run_->simulator().set_time_scale(id, scale)) {
        throw InputError(fmt::format("{}: server \"{}\": host speed {} flop/s cannot scale its costs", s.servers[si].where.describe(),
                                     s.servers[si].name, im.server_host[si]->get_speed()));
      }
    }
  }
  im.cpus.resize(im.server_of_cpu.size());
  im.traffic.resize(s.tenants.size());
  im.latencies.resize(s.tenants.size());
  for (size_t t = 0; t < s.tenants.size(); ++t) im.traffic[t].tenant = s.tenants[t].name;

  // One S4U actor per device of every fleet, each with its own stack mapping and guard page:
  // past a few tens of thousands SimGrid aborts when mmap fails (vm.max_map_count, 65,530 by
  // default), so a scenario that asks for more is refused here, saying how to shrink it.
  {
    std::map<std::string, uint64_t> actors;  // by device group
    for (uint32_t ci = 0; ci < run_->num_carried(); ++ci) {
      const scenario::Workload& w = s.workloads[run_->carried_workload(ci)];
      for (const scenario::DeviceGroup& d : s.devices) {
        if (d.workload == w.name) actors[d.name] += d.count;
      }
    }
    uint64_t total = 0;
    for (const auto& [name, n] : actors) total += n;
    if (total > kMaxDeviceActors) {
      const auto worst = std::max_element(actors.begin(), actors.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
      const scenario::DeviceGroup& g =
          *std::find_if(s.devices.begin(), s.devices.end(), [&](const scenario::DeviceGroup& d) { return d.name == worst->first; });
      throw InputError(fmt::format(
          "{}: device \"{}\": {} devices for each of the {} thread instances its workload \"{}\" drives make {} device actors "
          "({} in all); SimGrid runs at most {} here (each actor has a stack of its own): give each instance its own workload "
          "and device group (target \"thread#k\", first = k), or fewer devices",
          g.where.describe(), g.name, g.count, worst->second / g.count, g.workload, worst->second, total, kMaxDeviceActors));
    }
  }

  for (uint32_t ci = 0; ci < run_->num_carried(); ++ci) {
    const scenario::Workload& w = s.workloads[run_->carried_workload(ci)];
    const auto g = std::find_if(s.devices.begin(), s.devices.end(), [&](const scenario::DeviceGroup& d) { return d.workload == w.name; });
    Impl::Fleet f;
    f.carried = ci;
    f.group = &*g;
    for (uint32_t k = 0; k < g->count; ++k) {
      sg4::Host* h = im.engine->host_by_name_or_null(device_host_name(*g, k));
      if (h == nullptr) {
        throw InputError(fmt::format("{}: device \"{}\": {} has no host \"{}\" (the group's devices are the hosts {} .. {})",
                                     g->where.describe(), g->name, platform_name, device_host_name(*g, k), device_host_name(*g, 0),
                                     device_host_name(*g, g->count - 1)));
      }
      f.hosts.push_back(h);
    }
    f.queued.resize(g->count);
    f.inflight.resize(g->count);
    im.fleets.push_back(std::move(f));
  }
  // Each carried source names its target in its arrivals; the driven thread is the workload's
  // target instance j, found through the run's layout.
  for (Impl::Fleet& f : im.fleets) {
    const scenario::Workload& w = s.workloads[run_->carried_workload(f.carried)];
    // Carried sources of a workload are its instances in order: instance j is the j-th carried
    // source of that workload.
    uint32_t j = 0;
    for (uint32_t c = 0; c < f.carried; ++c) j += run_->carried_workload(c) == run_->carried_workload(f.carried) ? 1 : 0;
    std::vector<std::string> names = instance_names(s, w.target);
    if (names.empty() && !w.targets.empty()) names = instance_names(s, w.targets.begin()->second);
    if (names.empty() && !w.target_list.empty()) names = instance_names(s, w.target_list.front());
    if (names.empty()) throw InputError(fmt::format("{}: device \"{}\": workload \"{}\" drives no thread", f.group->where.describe(), f.group->name, w.name));
    const std::string base = scenario::split_thread_ref(names[std::min<size_t>(j, names.size() - 1)]).thread;
    const scenario::ThreadSpec* th = s.find_thread(base);
    const size_t ti = static_cast<size_t>(s.find_tenant(th->tenant) - s.tenants.data());
    const size_t si = static_cast<size_t>(s.find_server(s.tenants[ti].server) - s.servers.data());
    f.server = im.server_host[si];
    f.tenant = static_cast<uint32_t>(ti);
  }
  im.mutex = sg4::Mutex::create();
  im.wakeup = sg4::ConditionVariable::create();
  run_->on_job_complete([&im](ThreadId, const JobInfo& job) { im.on_complete(job); });
  run_->simulator().set_switch_observer(&im);
}

SimGridRun::~SimGridRun() {
  if (run_) run_->simulator().set_switch_observer(nullptr);
}

SimGridResult SimGridRun::run(const ProgressFn& progress, const std::atomic<bool>* stop) {
  Impl& im = *impl_;
  im.progress = &progress;
  im.stop = stop;
  sg4::Actor::create("edgeos-driver", im.server_host[0], [&im] { im.driver_actor(); });
  for (uint32_t fi = 0; fi < im.fleets.size(); ++fi) {
    for (uint32_t k = 0; k < im.fleets[fi].hosts.size(); ++k) {
      sg4::Actor::create(im.fleets[fi].hosts[k]->get_name(), im.fleets[fi].hosts[k], [&im, fi, k] { im.device_actor(fi, k); });
    }
  }
  im.engine->run();

  SimGridResult& r = im.result;
  r.platform = im.platform;
  const double duration = seconds(r.end);
  for (size_t si = 0; si < im.s.servers.size(); ++si) {
    const sg4::Host* h = im.server_host[si];
    ServerEnergy e;
    e.server = im.s.servers[si].name;
    e.host = h->get_name();
    const char* watts = h->get_property("wattage_per_state");
    e.metered = watts != nullptr;
    e.joules = e.metered ? sg_host_get_consumed_energy(h) : 0;
    e.idle_watts = idle_watts(watts);
    r.servers.push_back(e);
  }
  for (const sg4::Link* l : im.engine->get_all_links()) {
    LinkUse u;
    u.name = l->get_name();
    u.bandwidth = l->get_bandwidth();
    u.latency = l->get_latency();
    const auto it = im.link_bytes.find(l);
    u.bytes = it == im.link_bytes.end() ? 0 : it->second;
    u.utilisation = duration > 0 && u.bandwidth > 0 ? u.bytes / (u.bandwidth * duration) : 0;
    r.links.push_back(u);
  }
  std::sort(r.links.begin(), r.links.end(), [](const LinkUse& a, const LinkUse& b) { return a.name < b.name; });
  for (size_t t = 0; t < im.traffic.size(); ++t) {
    DeviceTraffic d = im.traffic[t];
    d.e2e = response_stats(std::move(im.latencies[t]));
    r.devices.push_back(std::move(d));
  }
  return r;
}

namespace {

// Per tenant: its server's dynamic energy (above idle power over the run) shared by CPU time.
// A host's power is linear in its busy cores (SimGrid's energy model), so each busy core-second
// costs the same on one server, and CPU time attributes the dynamic energy exactly.
std::vector<double> tenant_joules(const SimGridRun& run, const Summary& summary, const SimGridResult& r) {
  const scenario::Scenario& s = run.scenario_run().scenario();
  std::vector<double> busy(s.servers.size(), 0);
  for (const CpuStats& c : summary.cpus) {
    size_t si = 0;
    while (si + 1 < s.servers.size() && run.scenario_run().layout().server_first_cpu[si + 1] <= c.cpu) ++si;
    busy[si] += static_cast<double>(c.busy.ns());
  }
  std::vector<double> out(s.tenants.size(), 0);
  const double duration = static_cast<double>((r.end - Instant::epoch()).ns()) * 1e-9;
  for (size_t t = 0; t < s.tenants.size(); ++t) {
    const size_t si = static_cast<size_t>(s.find_server(s.tenants[t].server) - s.servers.data());
    const ServerEnergy& e = r.servers[si];
    if (!e.metered || busy[si] <= 0) continue;
    double cpu = 0;
    for (const JobStats& g : summary.groups) {
      if (g.name == s.tenants[t].name) cpu = static_cast<double>(g.cpu_time.ns());
    }
    out[t] = std::max(0.0, e.joules - e.idle_watts * duration) * cpu / busy[si];
  }
  return out;
}

}  // namespace

std::string simgrid_summary_json(const SimGridRun& run, const Summary& summary, const SimGridResult& r) {
  using Json = nlohmann::ordered_json;
  Json j = Json::parse(scenario_summary_json(run.scenario_run(), summary, r.stats));
  j["backend"] = "simgrid";
  j["complete"] = r.complete;
  j["simulated_end_ns"] = (r.end - Instant::epoch()).ns();
  Json g;
  g["platform"] = r.platform == "generated" ? r.platform : std::filesystem::path(r.platform).filename().string();
  g["servers"] = Json::array();
  for (const ServerEnergy& e : r.servers) {
    Json x;
    x["server"] = e.server;
    x["host"] = e.host;
    x["metered"] = e.metered;
    x["energy_j"] = e.joules;
    g["servers"].push_back(x);
  }
  const std::vector<double> tj = tenant_joules(run, summary, r);
  const scenario::Scenario& s = run.scenario_run().scenario();
  g["tenants"] = Json::array();
  for (size_t t = 0; t < s.tenants.size(); ++t) {
    Json x;
    x["tenant"] = s.tenants[t].name;
    x["dynamic_energy_j"] = tj[t];
    const DeviceTraffic& d = r.devices[t];
    if (d.requests > 0) {
      x["requests"] = d.requests;
      x["delivered"] = d.delivered;
      x["answered"] = d.answered;
      x["e2e_latency"] = response_stats_json(d.e2e);
    }
    g["tenants"].push_back(x);
  }
  g["links"] = Json::array();
  for (const LinkUse& l : r.links) {
    if (l.bytes <= 0) continue;
    Json x;
    x["link"] = l.name;
    x["bandwidth_Bps"] = l.bandwidth;
    x["latency_s"] = l.latency;
    x["bytes"] = l.bytes;
    x["utilisation"] = l.utilisation;
    g["links"].push_back(x);
  }
  j["simgrid"] = g;
  return j.dump(2) + "\n";
}

std::string format_simgrid_tables(const SimGridRun& run, const Summary& summary, const SimGridResult& r) {
  std::string out;
  auto it = std::back_inserter(out);
  fmt::format_to(it, "platform: {}\n", r.platform == "generated" ? "generated from the scenario" : r.platform);
  for (const ServerEnergy& e : r.servers) {
    if (e.metered) {
      fmt::format_to(it, "server {} (host {}): {:.3f} J\n", e.server, e.host, e.joules);
    } else {
      fmt::format_to(it, "server {} (host {}): no power model (wattage_per_state)\n", e.server, e.host);
    }
  }
  const std::vector<double> tj = tenant_joules(run, summary, r);
  const scenario::Scenario& s = run.scenario_run().scenario();
  for (size_t t = 0; t < tj.size(); ++t) {
    if (tj[t] > 0) fmt::format_to(it, "  tenant {}: {:.3f} J above idle (by CPU time)\n", s.tenants[t].name, tj[t]);
  }
  bool any = false;
  for (const DeviceTraffic& d : r.devices) {
    if (d.requests == 0) continue;
    if (!any) fmt::format_to(it, "\n{:<12} {:>9} {:>9} {:>9}  {:>10} {:>10} {:>10}\n", "devices->", "requests", "delivered", "answered", "e2e p50", "e2e p99", "e2e max");
    any = true;
    fmt::format_to(it, "{:<12} {:>9} {:>9} {:>9}  {:>10} {:>10} {:>10}\n", d.tenant, d.requests, d.delivered, d.answered,
                   format_duration_short(d.e2e.p50), format_duration_short(d.e2e.p99), format_duration_short(d.e2e.max));
  }
  size_t used = 0;
  for (const LinkUse& l : r.links) used += l.bytes > 0 ? 1 : 0;
  if (used > 0) {
    fmt::format_to(it, "\n{} links carried traffic; busiest:\n", used);
    std::vector<const LinkUse*> top;
    for (const LinkUse& l : r.links) {
      if (l.bytes > 0) top.push_back(&l);
    }
    std::stable_sort(top.begin(), top.end(), [](const LinkUse* a, const LinkUse* b) { return a->utilisation > b->utilisation; });
    for (size_t i = 0; i < std::min<size_t>(5, top.size()); ++i) {
      fmt::format_to(it, "  {:<24} {:>12.0f} B  {:6.2f}%\n", top[i]->name, top[i]->bytes, 100 * top[i]->utilisation);
    }
  }
  return out;
}

}  // namespace edgeos::sim
