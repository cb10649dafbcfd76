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

// Appends little-endian integers to a record.
class Out {
 public:
  void u8(uint8_t v) { b_.push_back(static_cast<char>(v)); }
  void u32(uint32_t v) {
    for (int i = 0; i < 4; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void u64(uint64_t v) {
    for (int i = 0; i < 8; ++i) u8(static_cast<uint8_t>(v >> (8 * i)));
  }
  void dur(Duration d) { u64(static_cast<uint64_t>(d.ns())); }
  void pad(size_t to) { b_.resize(to, '\0'); }
  size_t size() const { return b_.size(); }
  std::string& bytes() { return b_; }

 private:
  std::string b_;
};

void cost(Out& o, const CostDist& c) {
  o.u8(static_cast<uint8_t>(c.kind));
  o.u8(0);
  o.u8(0);
  o.u8(0);
  o.u32(static_cast<uint32_t>(std::llround(c.sigma * 1e6)));
  o.dur(c.value);
  o.dur(c.min);
  o.dur(c.max);
  o.dur(c.sd);
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
void compile_workloads(const Scenario& s, Out sec[], uint32_t count[]) {
  const ThreadInstances threads(s);
  MergedArrivals merged(s, s.seed, Instant::epoch() + s.duration, threads);
  const std::vector<WorkloadStream>& streams = merged.streams();
  std::vector<uint32_t> pipeline_of(streams.size(), kNoIndex);
  for (size_t i = 0; i < streams.size(); ++i) {
    const WorkloadStream& st = streams[i];
    if (st.stages.empty()) continue;
    Out& o = sec[blob::kPipelines];
    o.u32(count[blob::kStages]);
    o.u32(static_cast<uint32_t>(st.stages.size()));
    o.dur(st.stage_deadline);
    o.dur(st.e2e_deadline);
    pipeline_of[i] = count[blob::kPipelines]++;
    for (const uint32_t t : st.stages) {
      sec[blob::kStages].u32(t);
      ++count[blob::kStages];
    }
  }

  std::vector<uint32_t> last_of(threads.size(), kNoIndex);  // per target: its latest arrival
  Out& o = sec[blob::kArrivals];
  arrivals::Arrival a;
  uint32_t i = 0;
  while (merged.next(a, i)) {
    const uint32_t index = count[blob::kArrivals];
    if (index >= blob::kMaxCount) {
      throw InputError(fmt::format("{}: the workloads produce more than {} arrivals in {} ns; a compiled scenario holds "
                                   "at most that many (shorten the run with --duration)",
                                   s.file, blob::kMaxCount, s.duration.ns()));
    }
    if (last_of[a.target] != kNoIndex) {
      std::string& b = o.bytes();
      for (int k = 0; k < 4; ++k) b[size_t{last_of[a.target]} * 48 + 32 + k] = static_cast<char>(index >> (8 * k));
    }
    last_of[a.target] = index;
    o.dur(a.time - Instant::epoch());
    o.dur(a.cost);
    o.dur(a.deadline);
    o.u32(a.target);
    o.u32(pipeline_of[i]);
    o.u32(kNoIndex);  // next, patched by the target's next arrival
    o.u32(a.size);
    o.u8(static_cast<uint8_t>(a.kind));
    o.u8(static_cast<uint8_t>(a.kind >> 8));
    o.pad(size_t{index + 1} * blob::kRecordSize[blob::kArrivals]);
    ++count[blob::kArrivals];
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
  uint32_t count[blob::kNumSections] = {};

  for (const Server& v : s.servers) {
    // FIXME: the kernel backend schedules partitioned only; the blob has no domains yet (the core
    // supports them; the kernel needs cross-CPU dispatch with IPIs first).
    if (v.scheduling != "partitioned") {
      throw InputError(fmt::format("{}: server \"{}\": scheduling = \"{}\" runs in the simulators only; the kernel backend "
                                   "schedules partitioned",
                                   v.where.describe(), v.name, v.scheduling));
    }
    Out& o = sec[blob::kServers];
    const size_t start = o.size();
    o.u32(str(v.name));
    o.u32(v.cpus);
    o.u64(static_cast<uint64_t>(std::llround(v.speed_hz)));
    o.u8(v.policy == "edf" ? 1 : 0);
    o.pad(start + blob::kRecordSize[blob::kServers]);
    ++count[blob::kServers];
  }
  auto add_template = [&](const std::string& name, uint32_t pool, uint32_t max_instances) {
    Out& o = sec[blob::kTemplates];
    const size_t start = o.size();
    o.u32(str(name));
    o.u32(pool);
    o.u32(max_instances);
    o.pad(start + blob::kRecordSize[blob::kTemplates]);
    return count[blob::kTemplates]++;
  };
  for (const Template& t : s.templates) add_template(t.name, t.pool, t.max_instances);
  std::vector<uint32_t> tenant_template;
  for (const Tenant& t : s.tenants) {
    tenant_template.push_back(t.tmpl.empty() ? 0 : index_of(s.templates, t.tmpl));
  }
  for (size_t i = 0; i < s.tenants.size(); ++i) {
    if (s.tenants[i].tmpl.empty()) tenant_template[i] = add_template(s.tenants[i].name, 0, 0);
  }
  for (size_t i = 0; i < s.tenants.size(); ++i) {
    const Tenant& t = s.tenants[i];
    Out& o = sec[blob::kTenants];
    const size_t start = o.size();
    o.u32(str(t.name));
    o.u32(index_of(s.servers, t.server));
    o.u32(tenant_template[i]);
    o.u32(t.instances);
    o.pad(start + blob::kRecordSize[blob::kTenants]);
    ++count[blob::kTenants];
  }
  for (const ThreadSpec& th : s.threads) {
    Out& o = sec[blob::kThreads];
    const size_t start = o.size();
    o.u32(str(th.name));
    o.u32(index_of(s.tenants, th.tenant));
    o.u32(th.cpu);
    o.u8(th.spread ? 1 : 0);
    o.u8(static_cast<uint8_t>(th.release));
    o.u8(th.sched.priority);
    o.u8(static_cast<uint8_t>(th.sched.server));
    o.u8(th.sched.max_refills);
    o.u8(th.program);
    o.pad(start + 24);
    o.dur(th.period);
    o.dur(th.job_deadline());
    o.dur(th.sched.relative_deadline);
    o.dur(th.sched.budget);
    o.dur(th.sched.period);
    o.dur(th.phase);
    cost(o, th.cost);
    o.u32(count[blob::kCalls]);
    o.u32(static_cast<uint32_t>(th.calls.size()));
    o.pad(start + blob::kRecordSize[blob::kThreads]);
    ++count[blob::kThreads];
    for (const CallSpec& c : th.calls) {
      Out& oc = sec[blob::kCalls];
      const size_t cs = oc.size();
      oc.u32(index_of(s.tenants, c.to));
      oc.u32(0);
      oc.dur(c.at);
      cost(oc, c.cost);
      oc.pad(cs + blob::kRecordSize[blob::kCalls]);
      ++count[blob::kCalls];
    }
  }
  for (const Invoke& v : s.invokes) {
    Out& o = sec[blob::kInvokes];
    o.u32(index_of(s.tenants, v.from));
    o.u32(index_of(s.tenants, v.to));
    ++count[blob::kInvokes];
  }
  for (const RingSpec& r : s.rings) {
    Out& o = sec[blob::kRings];
    const size_t start = o.size();
    o.u32(str(r.name));
    o.u32(index_of(s.tenants, r.from));
    o.u32(index_of(s.tenants, r.to));
    o.u32(r.slots);
    o.u32(r.slot_size);
    o.pad(start + blob::kRecordSize[blob::kRings]);
    ++count[blob::kRings];
  }
  for (size_t i = 0; i < s.servers.size(); ++i) {
    const Nic& n = s.servers[i].nic;
    if (n.model == "none") continue;
    Out& o = sec[blob::kNics];
    const size_t start = o.size();
    o.u32(static_cast<uint32_t>(i));
    o.u8(n.model == "virtio" ? 1 : 2);
    o.u8(0);
    for (const uint8_t b : n.mac) o.u8(b);
    o.u32(n.ipv4);
    o.pad(start + blob::kRecordSize[blob::kNics]);
    ++count[blob::kNics];
  }
  for (size_t i = 0; i < s.tenants.size(); ++i) {
    for (const uint16_t port : s.tenants[i].udp_ports) {
      Out& o = sec[blob::kPorts];
      o.u32(static_cast<uint32_t>(i));
      o.u8(static_cast<uint8_t>(port));
      o.u8(static_cast<uint8_t>(port >> 8));
      o.u8(0);
      o.u8(0);
      ++count[blob::kPorts];
    }
  }
  compile_workloads(s, sec, count);
  sec[blob::kStrings].bytes() = strings;
  count[blob::kStrings] = static_cast<uint32_t>(strings.size());

  // Header, then the sections, each 8-byte aligned.
  Out out;
  out.pad(blob::kHeaderSize);
  uint32_t offset[blob::kNumSections] = {};
  std::string body;
  for (uint32_t i = 0; i < blob::kNumSections; ++i) {
    if (count[i] > blob::kMaxCount) throw InputError(fmt::format("compile: scenario \"{}\" is too large for the format", s.name));
    body.resize((body.size() + 7) / 8 * 8, '\0');
    offset[i] = static_cast<uint32_t>(blob::kHeaderSize + body.size());
    body += sec[i].bytes();
  }
  Out head;
  for (const char c : std::string("EDGEOSSC")) head.u8(static_cast<uint8_t>(c));
  head.u8(blob::kVersion & 0xff);
  head.u8(blob::kVersion >> 8);
  head.u8(blob::kHeaderSize & 0xff);
  head.u8(blob::kHeaderSize >> 8);
  head.u32(static_cast<uint32_t>(blob::kHeaderSize + body.size()));
  head.u32(0);  // checksum, below
  head.u32(0);
  head.dur(s.duration);
  head.u64(s.seed);
  for (uint32_t i = 0; i < blob::kNumSections; ++i) {
    head.u32(offset[i]);
    head.u32(count[i]);
  }
  std::string bytes = head.bytes() + body;
  const uint32_t sum = blob::checksum(reinterpret_cast<const uint8_t*>(bytes.data()) + 20, bytes.size() - 20);
  for (int i = 0; i < 4; ++i) bytes[16 + i] = static_cast<char>(sum >> (8 * i));

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
