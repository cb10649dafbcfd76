#include "edgeos/workloads/scenario.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/workloads/scenario_blob.hpp"
#include "edgeos/workloads/task_set.hpp"

namespace edgeos::scenario {

std::string Location::describe() const { return fmt::format("{}:{}:{}", file, line, column); }

std::vector<uint32_t> Server::domain_leaders() const {
  std::vector<uint32_t> leader(cpus);
  for (uint32_t c = 0; c < cpus; ++c) leader[c] = scheduling == "global" ? 0 : c;
  if (scheduling == "clustered") {
    for (const std::vector<uint32_t>& d : domains) {
      uint32_t low = cpus;
      for (uint32_t c : d) low = std::min(low, c);
      for (uint32_t c : d) leader[c] = low;
    }
  }
  return leader;
}

const char* workload_kind_name(WorkloadKind k) {
  switch (k) {
    case WorkloadKind::kPoisson: return "poisson";
    case WorkloadKind::kMmpp: return "mmpp";
    case WorkloadKind::kIot: return "iot";
    case WorkloadKind::kAr: return "ar";
    case WorkloadKind::kKv: return "kv";
    case WorkloadKind::kTrace: return "trace";
    case WorkloadKind::kAzure: return "azure";
    case WorkloadKind::kPcap: return "pcap";
    case WorkloadKind::kClients: return "clients";
  }
  return "unknown";
}

workloads::CostModel CostDist::model() const {
  return workloads::CostModel{kind, value.ns(), min.ns(), max.ns(), sd.ns(), static_cast<uint32_t>(std::llround(sigma * 1e6))};
}

Duration CostDist::sample(Rng& rng) const { return workloads::draw_cost(model(), rng); }

Duration CostDist::mean() const {
  switch (kind) {
    case Kind::kLogNormal:
      return Duration::nanoseconds(std::llround(static_cast<double>(value.ns()) * std::exp(sigma * sigma / 2)));
    default:
      return value;
  }
}

const Server* Scenario::find_server(const std::string& n) const {
  for (const Server& x : servers) {
    if (x.name == n) return &x;
  }
  return nullptr;
}
const Tenant* Scenario::find_tenant(const std::string& n) const {
  for (const Tenant& x : tenants) {
    if (x.name == n) return &x;
  }
  return nullptr;
}
const ThreadSpec* Scenario::find_thread(const std::string& n) const {
  for (const ThreadSpec& x : threads) {
    if (x.name == n) return &x;
  }
  return nullptr;
}

ThreadRef split_thread_ref(const std::string& ref) {
  const size_t hash = ref.rfind('#');
  if (hash == std::string::npos || hash + 1 == ref.size() || hash + 8 < ref.size()) return ThreadRef{ref, std::nullopt};
  uint32_t k = 0;
  for (size_t i = hash + 1; i < ref.size(); ++i) {
    if (ref[i] < '0' || ref[i] > '9') return ThreadRef{ref, std::nullopt};
    k = k * 10 + static_cast<uint32_t>(ref[i] - '0');
  }
  return ThreadRef{ref.substr(0, hash), k};
}

namespace {

[[noreturn]] void fail(const Location& at, const std::string& what) {
  throw InputError(fmt::format("{}: {}", at.describe(), what));
}

template <class T>
void unique_names(const std::vector<T>& items, const char* kind) {
  std::set<std::string> seen;
  for (const T& x : items) {
    if (!seen.insert(x.name).second) fail(x.where, fmt::format("{} \"{}\" is defined twice", kind, x.name));
  }
}

std::string names_of(const auto& items) {
  std::vector<std::string> n;
  for (const auto& x : items) n.push_back(x.name);
  return fmt::format("{}", fmt::join(n, ", "));
}

}  // namespace

// UDP ports bound to tenants (kernel backend): each port once; instance k of a tenant of n
// instances is bound to each of its ports + k; a bound tenant runs on a server with a NIC whose
// driver FWP is another tenant's (a thread running "nic-driver"), and has a sporadic thread for the
// datagrams to release.
void validate_network(const Scenario& s) {
  std::map<uint16_t, std::string> owner;
  for (const Tenant& t : s.tenants) {
    if (t.udp_ports.empty()) continue;
    const std::string what = fmt::format("tenant \"{}\": udp", t.name);
    for (const uint16_t p : t.udp_ports) {
      if (uint64_t{p} + t.instances - 1 > 65535) {
        fail(t.udp_where, fmt::format("{}: port {} + {} instances - 1 is past 65535 (instance k is bound to port + k)",
                                      what, p, t.instances));
      }
      for (uint32_t k = 0; k < t.instances; ++k) {
        const auto port = static_cast<uint16_t>(p + k);
        if (auto [it, fresh] = owner.emplace(port, t.name); !fresh) {
          fail(t.udp_where, t.instances == 1
                                ? fmt::format("{}: port {} is bound to tenant \"{}\" already", what, port, it->second)
                                : fmt::format("{}: port {} (of instance {}: port {} + {}) is bound to tenant \"{}\" already",
                                              what, port, k, p, k, it->second));
        }
      }
    }
    const Server* sv = s.find_server(t.server);
    if (sv == nullptr) continue;  // reported below
    if (sv->nic.model == "none") {
      fail(t.udp_where, fmt::format("{}: server \"{}\" has no NIC (give it nic = {{ model = \"virtio\" }})", what, sv->name));
    }
    std::vector<std::string> drivers;
    bool sporadic = false;
    for (const ThreadSpec& th : s.threads) {
      const Tenant* tn = s.find_tenant(th.tenant);
      if (tn == nullptr || tn->server != t.server) continue;
      if (th.program == blob::kProgramNicDriver && std::find(drivers.begin(), drivers.end(), tn->name) == drivers.end()) {
        drivers.push_back(tn->name);
      }
      if (tn == &t && th.release == ReleaseKind::kSporadic) sporadic = true;
    }
    if (drivers.size() != 1) {
      fail(t.udp_where, fmt::format("{}: server \"{}\" needs exactly one driver tenant (a thread with program = "
                                    "\"nic-driver\"), found {}", what, sv->name, drivers.size()));
    }
    if (drivers.front() == t.name) fail(t.udp_where, what + ": the driver's own tenant cannot be bound to ports");
    if (!sporadic) {
      fail(t.udp_where, what + ": the tenant needs a sporadic thread (release = \"sporadic\"): its datagrams release its jobs");
    }
  }
}

void validate(const Scenario& s) {
  unique_names(s.servers, "server");
  unique_names(s.templates, "template");
  unique_names(s.tenants, "tenant");
  unique_names(s.threads, "thread");
  unique_names(s.rings, "ring");
  unique_names(s.workloads, "workload");
  unique_names(s.devices, "device");
  if (s.tenants.empty()) throw InputError(fmt::format("{}: no [[tenant]]: nothing to run", s.file));
  if (s.threads.empty()) throw InputError(fmt::format("{}: no [[thread]]: nothing to run", s.file));

  validate_network(s);

  for (const Tenant& t : s.tenants) {
    if (s.find_server(t.server) == nullptr) {
      fail(t.where, fmt::format("tenant \"{}\": unknown server \"{}\" (servers: {})", t.name, t.server, names_of(s.servers)));
    }
    if (!t.tmpl.empty() && std::none_of(s.templates.begin(), s.templates.end(), [&](const Template& x) { return x.name == t.tmpl; })) {
      fail(t.where, fmt::format("tenant \"{}\": unknown template \"{}\" (templates: {})", t.name, t.tmpl, names_of(s.templates)));
    }
    // A per-client front: one FWP, with a port whose clients get the FWPs of its template.
    const auto pc = std::find_if(s.templates.begin(), s.templates.end(), [&](const Template& x) { return x.name == t.tmpl; });
    if (pc != s.templates.end() && pc->per_client && (t.udp_ports.empty() || t.instances != 1)) {
      fail(t.where, fmt::format("tenant \"{}\": its template \"{}\" is per_client: the tenant is the front of its "
                                "clients' FWPs and needs one instance and a `udp` port",
                                t.name, t.tmpl));
    }
  }

  auto server_of = [&](const std::string& tenant) { return s.find_server(s.find_tenant(tenant)->server); };
  auto tenant_known = [&](const Location& at, const std::string& what, const std::string& tenant) {
    if (s.find_tenant(tenant) == nullptr) {
      fail(at, fmt::format("{}: unknown tenant \"{}\" (tenants: {})", what, tenant, names_of(s.tenants)));
    }
  };

  for (const ThreadSpec& th : s.threads) {
    const std::string what = fmt::format("thread \"{}\"", th.name);
    if (th.name.find('#') != std::string::npos) fail(th.where, what + ": '#' is reserved for instance numbers");
    tenant_known(th.where, what, th.tenant);
    const Server& sv = *server_of(th.tenant);
    if (th.cpu >= sv.cpus) fail(th.where, fmt::format("{}: cpu {} does not exist on server \"{}\" (CPUs 0 to {})", what, th.cpu, sv.name, sv.cpus - 1));
    if (th.sched.server == ServerKind::kCbs && sv.policy != "edf") {
      fail(th.where, fmt::format("{}: a CBS server needs an EDF server (\"{}\" runs {})", what, sv.name, sv.policy));
    }
    if (th.sched.server != ServerKind::kNone && th.sched.budget < Duration::microseconds(1)) {
      fail(th.where, fmt::format("{}: budget {} is below the kernel's minimum budget of 1us", what, format_duration(th.sched.budget)));
    }
    if (!validate(th.sched).is_ok()) fail(th.where, what + ": impossible scheduling parameters");
    for (const CallSpec& c : th.calls) {
      tenant_known(c.where, what + " call", c.to);
      if (c.to == th.tenant) fail(c.where, fmt::format("{}: a call into its own tenant \"{}\"", what, c.to));
      if (server_of(c.to) != &sv) fail(c.where, fmt::format("{}: calls \"{}\", which runs on another server", what, c.to));
    }
  }
  for (const Invoke& i : s.invokes) {
    tenant_known(i.where, "invoke", i.from);
    tenant_known(i.where, "invoke", i.to);
    if (i.from == i.to) fail(i.where, fmt::format("invoke: \"{}\" invoking itself (calls stay within a tenant without one)", i.from));
    if (server_of(i.from) != server_of(i.to)) fail(i.where, "invoke: both tenants must run on the same server");
  }
  for (const RingSpec& r : s.rings) {
    tenant_known(r.where, fmt::format("ring \"{}\"", r.name), r.from);
    tenant_known(r.where, fmt::format("ring \"{}\"", r.name), r.to);
    if (server_of(r.from) != server_of(r.to)) fail(r.where, fmt::format("ring \"{}\": both tenants must run on the same server", r.name));
    if (r.from == r.to) fail(r.where, fmt::format("ring \"{}\": producer and consumer are the same tenant", r.name));
  }

  auto sporadic_thread = [&](const Location& at, const std::string& what, const std::string& name) {
    const ThreadRef ref = split_thread_ref(name);
    const ThreadSpec* th = s.find_thread(ref.thread);
    if (th == nullptr) fail(at, fmt::format("{}: unknown thread \"{}\" (threads: {})", what, name, names_of(s.threads)));
    if (th->release != ReleaseKind::kSporadic) {
      fail(at, fmt::format("{}: thread \"{}\" is periodic; a workload drives sporadic threads (release = \"sporadic\")", what, name));
    }
    const uint32_t instances = s.find_tenant(th->tenant)->instances;
    if (ref.instance && *ref.instance >= instances) {
      fail(at, fmt::format("{}: \"{}\": tenant \"{}\" has {} instance(s), numbered from 0", what, name, th->tenant, instances));
    }
  };
  for (const Workload& w : s.workloads) {
    const std::string what = fmt::format("workload \"{}\"", w.name);
    if (!w.target.empty()) sporadic_thread(w.where, what, w.target);
    for (const auto& [key, thread] : w.targets) sporadic_thread(w.where, what, thread);
    for (const std::string& thread : w.target_list) sporadic_thread(w.where, what, thread);
    for (const std::string& thread : w.stages) {
      sporadic_thread(w.where, what, thread);
      if (split_thread_ref(thread).instance) fail(w.where, fmt::format("{}: stage \"{}\": name the stage's thread without an instance", what, thread));
    }
    if (w.kind == WorkloadKind::kTrace || w.kind == WorkloadKind::kAzure || w.kind == WorkloadKind::kPcap) {
      // A file is replayed once: each of its destinations is one thread instance.
      auto single = [&](const std::string& ref) {
        const ThreadRef r = split_thread_ref(ref);
        const uint32_t n = s.find_tenant(s.find_thread(r.thread)->tenant)->instances;
        if (!r.instance && n > 1) {
          fail(w.where, fmt::format("{}: thread \"{}\" has {} instances (tenant \"{}\"); a trace drives one of them: "
                                    "name it \"{}#0\" ... \"{}#{}\"", what, ref, n, s.find_thread(r.thread)->tenant, ref, ref, n - 1));
        }
      };
      if (!w.target.empty()) single(w.target);
      for (const auto& [key, thread] : w.targets) single(thread);
      for (const std::string& thread : w.target_list) single(thread);
    }
    if (w.start >= s.duration) fail(w.where, fmt::format("{}: starts at {}, after the scenario ends ({})", what, format_duration(w.start), format_duration(s.duration)));
    if (!w.file.empty()) {
      // Not the throwing overload: a name the system refuses (a component over 255 bytes, a loop
      // of links) is bad input, not an internal error.
      std::error_code ec;
      const bool present = std::filesystem::exists(w.file, ec);
      if (ec) fail(w.where, fmt::format("{}: file \"{}\" cannot be used: {}", what, w.file, ec.message()));
      if (!present) fail(w.where, fmt::format("{}: file \"{}\" does not exist", what, w.file));
    }
    if (w.kind == WorkloadKind::kPcap) {
      for (const auto& [port, thread] : w.targets) {
        // Parsed without std::stoul, which throws std::out_of_range past 2^64 (found by tests/fuzz).
        uint32_t number = 0;
        const auto [end, ec] = std::from_chars(port.data(), port.data() + port.size(), number);
        if (port.empty() || ec != std::errc() || end != port.data() + port.size() || number > 65535) {
          fail(w.where, fmt::format("{}: \"{}\" is not a port number", what, port));
        }
      }
    }
    if (w.kind == WorkloadKind::kMmpp) {
      for (const std::vector<double>& row : w.transitions) {
        double sum = 0;
        for (double p : row) {
          if (p < 0) fail(w.where, what + ": transition probabilities must be >= 0");
          sum += p;
        }
        if (std::abs(sum - 1.0) > 1e-9) fail(w.where, what + ": each row of \"transitions\" must sum to 1");
      }
      for (size_t i = 0; i < w.transitions.size(); ++i) {
        if (w.transitions[i][i] != 0) fail(w.where, what + ": \"transitions\" must have zeros on its diagonal");
      }
    }
    if (w.kind == WorkloadKind::kIot && w.jitter > w.sensor_period) {
      fail(w.where, fmt::format("{}: jitter {} exceeds the reading period {} (a sensor's readings must stay in order)", what,
                                format_duration(w.jitter), format_duration(w.sensor_period)));
    }
    if (w.kind == WorkloadKind::kAr && w.jitter.ns() >= std::llround(1e9 / w.fps)) {
      fail(w.where, fmt::format("{}: jitter {} must be shorter than a frame period ({} fps)", what, format_duration(w.jitter), w.fps));
    }
    if (w.kind == WorkloadKind::kAr) {
      std::set<std::string> seen;
      for (const std::string& st : w.stages) {
        if (!seen.insert(st).second) fail(w.where, fmt::format("{}: stage \"{}\" appears twice", what, st));
        if (s.find_tenant(s.find_thread(st)->tenant)->instances != s.find_tenant(s.find_thread(w.stages[0])->tenant)->instances) {
          fail(w.where, what + ": all stages must belong to tenants with the same number of instances");
        }
      }
    }
  }

  std::set<std::string> carried;
  for (const DeviceGroup& d : s.devices) {
    const std::string what = fmt::format("device \"{}\"", d.name);
    const auto w = std::find_if(s.workloads.begin(), s.workloads.end(), [&](const Workload& x) { return x.name == d.workload; });
    if (w == s.workloads.end()) {
      fail(d.where, fmt::format("{}: unknown workload \"{}\" (workloads: {})", what, d.workload, names_of(s.workloads)));
    }
    if (w->kind == WorkloadKind::kAr) {
      fail(d.where, fmt::format("{}: workload \"{}\" is an AR pipeline; devices send the requests of the other kinds", what, d.workload));
    }
    if (!carried.insert(d.workload).second) fail(d.where, fmt::format("{}: workload \"{}\" is sent by another device group", what, d.workload));
    if (s.find_server(d.name) != nullptr) fail(d.where, fmt::format("{}: a server has this name too", what));
  }
}

ScenarioStats stats(const Scenario& s) {
  ScenarioStats st;
  for (const Tenant& t : s.tenants) st.fwps += t.instances;
  for (const ThreadSpec& th : s.threads) {
    const uint32_t n = s.find_tenant(th.tenant)->instances;
    st.threads += n;
    if (th.release == ReleaseKind::kPeriodic) {
      Duration c = th.cost.mean();
      for (const CallSpec& call : th.calls) c += call.cost.mean();
      st.utilisation += n * static_cast<double>(c.ns()) / static_cast<double>(th.period.ns());
    }
  }
  return st;
}

namespace {

// The largest value a cost can take, or zero if it has no bound.
Duration upper_bound(const CostDist& c) {
  switch (c.kind) {
    case CostDist::Kind::kFixed:
      return c.value;
    case CostDist::Kind::kUniform:
      return c.max;
    default:
      return c.max;  // zero: unbounded
  }
}

}  // namespace

TaskSet to_task_set(const Scenario& s, std::vector<std::string>* notes) {
  TaskSet set;
  set.name = s.name;
  std::map<std::string, uint32_t> first_cpu;
  uint32_t cpus = 0;
  for (const Server& sv : s.servers) {
    first_cpu[sv.name] = cpus;
    cpus += sv.cpus;
  }
  set.num_cpus = cpus;
  for (const ThreadSpec& th : s.threads) {
    const Tenant& tn = *s.find_tenant(th.tenant);
    const Server& sv = *s.find_server(tn.server);
    Duration c = upper_bound(th.cost);
    if (c == Duration::zero()) {
      fail(th.where, fmt::format("thread \"{}\": its {} cost has no upper bound; analysis needs one (add `max`)", th.name,
                                 th.cost.kind == CostDist::Kind::kNormal ? "normal" : th.cost.kind == CostDist::Kind::kLogNormal ? "lognormal" : "exponential"));
    }
    for (const CallSpec& call : th.calls) {
      const Duration b = upper_bound(call.cost);
      if (b == Duration::zero()) fail(call.where, fmt::format("thread \"{}\": a call's cost has no upper bound (add `max`)", th.name));
      c += b;
    }
    for (uint32_t k = 0; k < tn.instances; ++k) {
      TaskSpec t;
      t.name = tn.instances == 1 ? th.name : fmt::format("{}#{}", th.name, k);
      t.tenant = tn.instances == 1 ? tn.name : fmt::format("{}#{}", tn.name, k);
      t.cpu = first_cpu[sv.name] + (th.spread ? (th.cpu + k) % sv.cpus : th.cpu);
      t.kind = th.release == ReleaseKind::kPeriodic ? TaskKind::kPeriodic : TaskKind::kSporadic;
      t.priority = th.sched.priority;
      t.phase = th.phase;
      if (th.sched.server != ServerKind::kNone) {
        t.wcet = th.sched.budget;
        t.period = th.sched.period;
        t.deadline = th.sched.period;
        if (th.sched.server == ServerKind::kDeferrable) t.jitter = th.sched.period - th.sched.budget;
        if (k == 0) {
          notes->push_back(fmt::format("{}: analysed as its {} server ({} every {}{})", th.name, server_kind_name(th.sched.server),
                                       format_duration(th.sched.budget), format_duration(th.sched.period),
                                       t.jitter > Duration::zero() ? fmt::format(", release jitter {}", format_duration(t.jitter)) : ""));
        }
      } else {
        t.wcet = c;
        t.period = th.period;
        t.deadline = th.job_deadline();
        if (th.release == ReleaseKind::kSporadic && k == 0) {
          notes->push_back(fmt::format("{}: sporadic without a server: analysed with its declared minimum inter-arrival time {}",
                                       th.name, format_duration(th.period)));
        }
      }
      set.tasks.push_back(t);
    }
  }
  return set;
}

}  // namespace edgeos::scenario
