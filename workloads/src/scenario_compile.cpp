#include "edgeos/workloads/scenario_compile.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <queue>

#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/scenario_arrivals.hpp"
#include "edgeos/workloads/scenario_blob.hpp"

namespace edgeos::scenario {

namespace {

// A section: its records appended in their wire form (scenario_wire.hpp), and how many.
class Out {
 public:
  template <class Rec>
  uint32_t add(const Rec& r) {
    return add_wire(blob::encode(r));
  }
  template <class Wire>
  uint32_t add_wire(const Wire& w) {
    const size_t at = b_.size();
    b_.resize(at + sizeof w);
    blob::store(reinterpret_cast<uint8_t*>(b_.data() + at), w);
    return count_++;
  }
  uint32_t count() const { return count_; }
  std::string& bytes() { return b_; }

 private:
  std::string b_;
  uint32_t count_ = 0;
};

blob::Cost cost(const CostDist& c) {
  const workloads::CostModel m = c.model();
  return blob::Cost{m.kind, m.sigma_ppm, c.value, c.min, c.max, c.sd};
}

template <class T>
uint32_t index_of(const std::vector<T>& items, const std::string& name) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].name == name) return static_cast<uint32_t>(i);
  }
  throw InputError(fmt::format("compile: \"{}\" does not resolve (validate the scenario first)", name));
}

// The workloads as the arrivals they produce until the scenario's end, merged in the order the
// simulator delivers them: by time, then by stream (workload by workload, instance by instance).
void compile_workloads(const Scenario& s, Out sec[]) {
  const ThreadInstances threads(s);
  MergedArrivals merged(s, s.seed, Instant::epoch() + s.duration, threads);
  const std::vector<WorkloadStream>& streams = merged.streams();
  std::vector<uint32_t> pipeline_of(streams.size(), kNoIndex);
  for (size_t i = 0; i < streams.size(); ++i) {
    const WorkloadStream& st = streams[i];
    if (st.stages.empty()) continue;
    pipeline_of[i] = sec[blob::kPipelines].add(blob::PipelineRec{sec[blob::kStages].count(),
                                                                 static_cast<uint32_t>(st.stages.size()),
                                                                 st.stage_deadline, st.e2e_deadline});
    for (const uint32_t t : st.stages) sec[blob::kStages].add_wire(blob::wire::Stage{t});
  }

  std::vector<uint32_t> last_of(threads.size(), kNoIndex);  // per target: its latest arrival
  Out& o = sec[blob::kArrivals];
  arrivals::Arrival a;
  uint32_t i = 0;
  while (merged.next(a, i)) {
    const uint32_t index = o.count();
    if (index >= blob::kMaxCount) {
      throw InputError(fmt::format("{}: the workloads produce more than {} arrivals in {} ns; a compiled scenario holds "
                                   "at most that many (shorten the run with --duration)",
                                   s.file, blob::kMaxCount, s.duration.ns()));
    }
    if (last_of[a.target] != kNoIndex) {  // the target's previous arrival links to this one
      blob::store(reinterpret_cast<uint8_t*>(o.bytes().data()) + size_t{last_of[a.target]} * sizeof(blob::wire::Arrival) +
                      offsetof(blob::wire::Arrival, next),
                  index);
    }
    last_of[a.target] = index;
    o.add(blob::ArrivalRec{a.time - Instant::epoch(), a.cost, a.deadline, a.target, pipeline_of[i],
                           kNoIndex,  // next, patched by the target's next arrival
                           a.size, a.kind});
  }
}

}  // namespace

std::string compile_scenario(const Scenario& s) {
  std::string strings;
  auto str = [&](const std::string& v) {
    const uint32_t off = static_cast<uint32_t>(strings.size());
    strings += v;
    strings += '\0';
    return off;
  };
  Out sec[blob::kNumSections];

  bool shared = false;  // a domain of several CPUs somewhere: the domains section lists every CPU's
  for (const Server& v : s.servers) {
    sec[blob::kServers].add(blob::ServerRec{str(v.name), v.cpus, static_cast<uint64_t>(std::llround(v.speed_hz)),
                                            static_cast<uint8_t>(v.policy == "edf" ? 1 : 0)});
    shared = shared || v.scheduling != "partitioned";
  }
  for (uint32_t first = 0; const Server& v : s.servers) {
    if (!shared) break;
    for (const uint32_t leader : v.domain_leaders()) sec[blob::kDomains].add_wire(blob::wire::Domain{first + leader});
    first += v.cpus;
  }
  auto add_template = [&](const std::string& name, uint32_t pool, uint32_t max_instances, uint64_t memory,
                          const Template* per_client) {
    return sec[blob::kTemplates].add(blob::TemplateRec{
        str(name), pool, max_instances, static_cast<uint32_t>(memory / 1024), per_client != nullptr,
        per_client != nullptr ? static_cast<uint32_t>(per_client->idle_timeout.ns() / 1'000'000) : 0});
  };
  for (const Template& t : s.templates) add_template(t.name, t.pool, t.max_instances, t.memory, t.per_client ? &t : nullptr);
  std::vector<uint32_t> tenant_template;
  for (const Tenant& t : s.tenants) {
    tenant_template.push_back(t.tmpl.empty() ? 0 : index_of(s.templates, t.tmpl));
  }
  for (size_t i = 0; i < s.tenants.size(); ++i) {
    if (s.tenants[i].tmpl.empty()) tenant_template[i] = add_template(s.tenants[i].name, 0, 0, s.tenants[i].memory, nullptr);
  }
  for (size_t i = 0; i < s.tenants.size(); ++i) {
    const Tenant& t = s.tenants[i];
    const uint32_t name = str(t.name);
    sec[blob::kTenants].add(blob::TenantRec{name, index_of(s.servers, t.server), tenant_template[i], t.instances});
  }
  for (const ThreadSpec& th : s.threads) {
    blob::ThreadRec r{};
    r.name = str(th.name);
    r.tenant = index_of(s.tenants, th.tenant);
    r.cpu = th.cpu;
    r.spread = th.spread;
    r.release = th.release;
    r.program = th.program;
    r.period = th.period;
    r.deadline = th.job_deadline();
    r.phase = th.phase;
    r.sched = th.sched;
    r.cost = cost(th.cost);
    r.first_call = sec[blob::kCalls].count();
    r.num_calls = static_cast<uint32_t>(th.calls.size());
    sec[blob::kThreads].add(r);
    for (const CallSpec& c : th.calls) sec[blob::kCalls].add(blob::CallRec{index_of(s.tenants, c.to), c.at, cost(c.cost)});
  }
  for (const Invoke& v : s.invokes) {
    sec[blob::kInvokes].add(blob::InvokeRec{index_of(s.tenants, v.from), index_of(s.tenants, v.to)});
  }
  for (const RingSpec& r : s.rings) {
    const uint32_t name = str(r.name);
    sec[blob::kRings].add(blob::RingRec{name, index_of(s.tenants, r.from), index_of(s.tenants, r.to), r.slots, r.slot_size});
  }
  for (size_t i = 0; i < s.servers.size(); ++i) {
    const Nic& n = s.servers[i].nic;
    if (n.model == "none") continue;
    blob::NicRec r{static_cast<uint32_t>(i), static_cast<uint8_t>(n.model == "virtio" ? 1 : 2), {}, n.ipv4};
    std::copy(std::begin(n.mac), std::end(n.mac), r.mac);
    sec[blob::kNics].add(r);
  }
  for (size_t i = 0; i < s.tenants.size(); ++i) {
    for (const uint16_t port : s.tenants[i].udp_ports) sec[blob::kPorts].add(blob::PortRec{static_cast<uint32_t>(i), port});
  }
  compile_workloads(s, sec);

  // The header, then the sections in order, each 8-byte aligned.
  blob::wire::Header head{};
  std::copy(std::begin(blob::kMagic), std::end(blob::kMagic), head.magic);
  head.version = blob::kVersion;
  head.header_size = blob::kHeaderSize;
  head.duration_ns = s.duration.ns();
  head.seed = s.seed;
  sec[blob::kStrings].bytes() = strings;
  std::string body;
  for (uint32_t i = 0; i < blob::kNumSections; ++i) {
    const uint32_t count = i == blob::kStrings ? static_cast<uint32_t>(strings.size()) : sec[i].count();
    if (count > blob::kMaxCount) throw InputError(fmt::format("compile: scenario \"{}\" is too large for the format", s.name));
    body.resize((body.size() + 7) / 8 * 8, '\0');
    head.sections[i] = blob::wire::SectionRef{static_cast<uint32_t>(blob::kHeaderSize + body.size()), count};
    body += sec[i].bytes();
  }
  head.total_size = static_cast<uint32_t>(blob::kHeaderSize + body.size());
  std::string bytes(blob::kHeaderSize, '\0');
  blob::store(reinterpret_cast<uint8_t*>(bytes.data()), head);
  bytes += body;
  head.checksum = blob::checksum(reinterpret_cast<const uint8_t*>(bytes.data()) + blob::kChecksummedFrom,
                                 bytes.size() - blob::kChecksummedFrom);
  blob::store(reinterpret_cast<uint8_t*>(bytes.data()), head);

  // The reader's checks are the format's definition: a scenario it refuses is reported here.
  blob::BlobError e = blob::BlobError::kOk;
  blob::ScenarioBlob::open(Span<const uint8_t>(reinterpret_cast<const uint8_t*>(bytes.data()), bytes.size()), &e);
  if (e != blob::BlobError::kOk) {
    throw InputError(fmt::format("{}: cannot compile scenario \"{}\": {} (e.g. a tenant needs more than {} capabilities)",
                                 s.file, s.name, blob::blob_error_name(e), kCapSlots));
  }
  return bytes;
}

void write_compiled_scenario(const std::string& path, const Scenario& s) { write_file_atomically(path, compile_scenario(s)); }

}  // namespace edgeos::scenario
