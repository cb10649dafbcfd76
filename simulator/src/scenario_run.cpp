#include "edgeos/simulator/scenario_run.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_map>

#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/hosted/summary_json.hpp"
#include "edgeos/workloads/arrivals.hpp"

namespace edgeos::sim {

using scenario::instance_name;
using scenario::Scenario;
using scenario::stream;
using scenario::ThreadSpec;
using scenario::Workload;
using scenario::WorkloadKind;

namespace {

size_t index_of(const auto& items, const std::string& name) {
  for (size_t i = 0; i < items.size(); ++i) {
    if (items[i].name == name) return i;
  }
  panic("scenario: a validated reference does not resolve", __FILE__, __LINE__);
}

[[noreturn]] void fail_at(const scenario::Location& at, const std::string& what) {
  throw InputError(fmt::format("{}: {}", at.describe(), what));
}

[[noreturn]] void check(const scenario::Location& at, const std::string& what, Error e) {
  fail_at(at, fmt::format("{}: {} ({})", what, e == Error::kOutOfCapacity ? "out of capacity" : "refused by the kernel",
                          error_name(e)));
}

}  // namespace

// One instance of an AR pipeline: its stages' targets and threads, and its frames in flight.
struct ScenarioRun::Pipeline {
  std::vector<uint32_t> targets;           // stage -> target index
  std::unordered_map<uint32_t, size_t> stage_of;  // thread index -> stage
  Duration stage_deadline;
  Duration e2e_deadline;
  std::unordered_map<uint64_t, Instant> born;  // frame -> arrival, for frames past stage 0
  uint64_t done = 0, late = 0;
  uint64_t dropped = 0;  // hand-offs refused by a full stage queue
  std::vector<Duration> e2e;
};

ScenarioRun::ScenarioRun(const Scenario& s, const ScenarioOptions& options, TraceSink& sink)
    : s_(s), options_(options), seed_(options.seed.value_or(s.seed)),
      end_(Instant::epoch() + options.duration.value_or(s.duration)) {
  if (end_ <= Instant::epoch()) throw InputError("the simulated duration must be > 0");
  size_t fwps = 0, threads = 0, rings = 0, pools = 0;
  uint32_t cpus = 0;
  for (const scenario::Server& sv : s.servers) cpus += sv.cpus;
  for (const scenario::Tenant& t : s.tenants) fwps += t.instances;
  for (const scenario::Template& t : s.templates) pools += t.pool + (t.per_client ? t.max_instances : 0);
  for (const ThreadSpec& th : s.threads) threads += s.find_tenant(th.tenant)->instances;
  for (const scenario::RingSpec& r : s.rings) rings += s.find_tenant(r.from)->instances;
  if (cpus >= kNoCpu) throw InputError(fmt::format("{}: {} CPUs in all; at most {}", s.file, cpus, kNoCpu - 1));

  SimConfig config;
  config.num_cpus = cpus;
  bool shared = false;
  for (const scenario::Server& sv : s.servers) {
    const Policy p = parse_policy(sv.policy, "server policy");
    const CpuId first = static_cast<CpuId>(config.cpu_policies.size());
    config.cpu_policies.insert(config.cpu_policies.end(), sv.cpus, p);
    for (uint32_t leader : sv.domain_leaders()) config.domains.push_back(first + leader);
    shared = shared || sv.scheduling != "partitioned";
  }
  if (!shared) config.domains.clear();  // partitioned everywhere: the kernel's default
  config.overheads = options.overheads;
  config.check_invariants = options.check_invariants;
  config.max_threads = static_cast<uint32_t>(threads + 1);
  config.max_fwps = static_cast<uint32_t>(fwps + pools + 1);
  config.max_templates = static_cast<uint32_t>(s.templates.size() + s.tenants.size() + 1);
  config.max_notifications = 1;
  config.max_rings = static_cast<uint32_t>(rings + 1);
  config.max_pending_arrivals = options.max_pending_arrivals;
  config.scheduler_factory = options.scheduler_factory;
  sim_ = std::make_unique<CoreSimulator>(config, sink);
  instantiate();
  instances_ = std::make_unique<scenario::ThreadInstances>(s);
  for (const std::vector<ThreadId>& ids : layout_.threads) {
    for (const ThreadId id : ids) {
      sim_->add_target(id);
      target_threads_.push_back(id);
    }
  }
  // Per-client fronts: the threads of a tenant made from a per_client template take its clients.
  fronts_ = std::make_unique<PerClientFronts>(sim_->kernel());
  for (size_t th = 0, target = 0; th < s.threads.size(); target += layout_.threads[th].size(), ++th) {
    const scenario::Tenant& t = *s.find_tenant(s.threads[th].tenant);
    if (t.tmpl.empty()) continue;
    const size_t ti = index_of(s.templates, t.tmpl);
    const scenario::Template& tp = s.templates[ti];
    if (!tp.per_client) continue;
    for (size_t i = 0; i < layout_.threads[th].size(); ++i) {
      fronts_->add(static_cast<uint32_t>(target + i), t.name, layout_.templates[ti], tp.idle_timeout, tp.create_cost);
    }
  }
  if (!fronts_->empty()) sim_->on_deliver([this](arrivals::Arrival& a) { return fronts_->admit(a); });
  for (size_t i = 0; i < s.workloads.size(); ++i) add_workload(i);
  sim_->on_complete([this](ThreadId t, const JobInfo& job) { on_complete(t, job); });
}

ScenarioRun::~ScenarioRun() = default;

uint32_t ScenarioRun::num_cpus() const { return sim_->config().num_cpus; }

void ScenarioRun::instantiate() {
  const Scenario& s = s_;
  SimKernel& k = sim_->kernel();
  names_.run = s.name;

  // 1. CPUs.
  uint32_t cpu = 0;
  for (const scenario::Server& sv : s.servers) {
    layout_.server_first_cpu.push_back(cpu);
    for (uint32_t c = 0; c < sv.cpus; ++c) {
      names_.cpus.push_back(s.servers.size() == 1 ? fmt::format("CPU {}", c) : fmt::format("{} CPU {}", sv.name, c));
    }
    cpu += sv.cpus;
  }

  // 2. Templates.
  for (size_t i = 0; i < s.templates.size(); ++i) {
    const scenario::Template& t = s.templates[i];
    TemplateParams p;
    p.image = i;
    p.pool_limit = t.pool;
    p.max_instances = t.max_instances;
    const Result<TemplateId> id = k.template_create(p);
    if (!id) check(t.where, fmt::format("template \"{}\"", t.name), id.error());
    if (t.pool > 0) {
      const Status st = k.fwp_prefill(*id, t.pool);
      if (!st) check(t.where, fmt::format("template \"{}\": prefilling its pool", t.name), st.error());
    }
    layout_.templates.push_back(*id);
  }
  std::vector<TemplateId> tenant_template;
  for (const scenario::Tenant& t : s.tenants) {
    if (!t.tmpl.empty()) {
      tenant_template.push_back(layout_.templates[index_of(s.templates, t.tmpl)]);
      continue;
    }
    TemplateParams p;
    p.image = layout_.templates.size();
    const Result<TemplateId> id = k.template_create(p);
    if (!id) check(t.where, fmt::format("tenant \"{}\": its template", t.name), id.error());
    layout_.templates.push_back(*id);
    tenant_template.push_back(*id);
  }

  // 3. FWPs.
  for (size_t ti = 0; ti < s.tenants.size(); ++ti) {
    const scenario::Tenant& t = s.tenants[ti];
    std::vector<FwpId>& ids = layout_.fwps.emplace_back();
    for (uint32_t i = 0; i < t.instances; ++i) {
      const Result<FwpId> f = k.fwp_spawn(tenant_template[ti]);
      if (!f) {
        check(t.where, fmt::format("tenant \"{}\": instance {}{}", t.name, i,
                                   f.error() == Error::kOutOfCapacity && !t.tmpl.empty()
                                       ? fmt::format(" (template \"{}\" allows {} instances)", t.tmpl,
                                                     s.templates[index_of(s.templates, t.tmpl)].max_instances)
                                       : ""),
              f.error());
      }
      ids.push_back(*f);
      if (names_.fwps.size() <= f->index) names_.fwps.resize(f->index + 1);
      names_.fwps[f->index] = instance_name(t.name, i, t.instances);
      if (layout_.tenant_of_fwp.size() <= f->index) layout_.tenant_of_fwp.resize(f->index + 1, kNoIndex);
      layout_.tenant_of_fwp[f->index] = static_cast<uint32_t>(ti);
    }
  }

  // 4. Rings, with storage for their slots.
  struct RingEnd {
    RingId ring;
    FwpId producer, consumer;
  };
  std::vector<std::vector<RingEnd>> ring_ends(s.rings.size());
  for (size_t ri = 0; ri < s.rings.size(); ++ri) {
    const scenario::RingSpec& r = s.rings[ri];
    const std::vector<FwpId>& from = layout_.fwps[index_of(s.tenants, r.from)];
    const std::vector<FwpId>& to = layout_.fwps[index_of(s.tenants, r.to)];
    for (size_t i = 0; i < from.size(); ++i) {
      std::vector<uint8_t>& storage = ring_storage_.emplace_back(size_t{r.slots} * (4 + size_t{r.slot_size}));
      const Result<RingId> id = k.ring_create(Span<uint8_t>(storage.data(), storage.size()), r.slot_size, r.slots);
      if (!id) check(r.where, fmt::format("ring \"{}\"", r.name), id.error());
      layout_.rings.push_back(*id);
      ring_ends[ri].push_back(RingEnd{*id, from[i], to[i % to.size()]});
    }
  }

  // 5. Capabilities, FWP by FWP. The slot of an invoke capability is the same in every instance
  // of a tenant (same grant order), so a thread spec's calls resolve per tenant.
  std::map<std::pair<size_t, size_t>, CapSlot> invoke_slot;  // (caller tenant, callee tenant)
  for (size_t ti = 0; ti < s.tenants.size(); ++ti) {
    const scenario::Tenant& t = s.tenants[ti];
    std::vector<size_t> callees;
    auto mention = [&](const std::string& callee) {
      const size_t c = index_of(s.tenants, callee);
      if (std::find(callees.begin(), callees.end(), c) == callees.end()) callees.push_back(c);
    };
    for (const ThreadSpec& th : s.threads) {
      if (th.tenant != t.name) continue;
      for (const scenario::CallSpec& c : th.calls) mention(c.to);
    }
    for (const scenario::Invoke& inv : s.invokes) {
      if (inv.from == t.name) mention(inv.to);
    }
    for (uint32_t i = 0; i < t.instances; ++i) {
      const FwpId f = layout_.fwps[ti][i];
      auto overflow = [&](Error e) {
        if (e == Error::kOutOfCapacity) {
          fail_at(t.where, fmt::format("tenant \"{}\" needs more than {} capabilities (invoke targets and ring ends)",
                                       t.name, kCapSlots));
        }
        check(t.where, fmt::format("tenant \"{}\": granting a capability", t.name), e);
      };
      for (const size_t c : callees) {
        const std::vector<FwpId>& callee = layout_.fwps[c];
        const Result<CapSlot> slot = k.grant_invoke(f, callee[i % callee.size()]);
        if (!slot) overflow(slot.error());
        invoke_slot[{ti, c}] = *slot;
      }
      for (const std::vector<RingEnd>& ends : ring_ends) {
        for (const RingEnd& e : ends) {
          if (e.producer == f) {
            const Result<CapSlot> slot = k.grant_ring(f, e.ring, CapKind::kRingSend);
            if (!slot) overflow(slot.error());
          }
          if (e.consumer == f) {
            const Result<CapSlot> slot = k.grant_ring(f, e.ring, CapKind::kRingReceive);
            if (!slot) overflow(slot.error());
          }
        }
      }
    }
  }

  // 6. Threads.
  for (const ThreadSpec& th : s.threads) {
    const size_t ti = index_of(s.tenants, th.tenant);
    const scenario::Tenant& tenant = s.tenants[ti];
    const size_t si = index_of(s.servers, tenant.server);
    const scenario::Server& sv = s.servers[si];
    std::vector<ThreadId>& ids = layout_.threads.emplace_back();
    for (uint32_t i = 0; i < tenant.instances; ++i) {
      const std::string name = instance_name(th.name, i, tenant.instances);
      ThreadParams p;
      p.fwp = layout_.fwps[ti][i];
      p.cpu = static_cast<CpuId>(layout_.server_first_cpu[si] + (th.spread ? (th.cpu + i) % sv.cpus : th.cpu));
      p.sched = th.sched;
      p.release = th.release;
      p.period = th.period;
      p.relative_deadline = th.job_deadline();
      p.first_release = Instant::epoch() + th.phase;
      CostFn cost = [dist = th.cost, rng = stream(seed_, "cost/" + name)](uint64_t) mutable { return dist.sample(rng); };
      const Result<ThreadId> id = sim_->add_thread(p, std::move(cost));
      if (!id) check(th.where, fmt::format("thread \"{}\"", name), id.error());
      ids.push_back(*id);
      if (names_.threads.size() <= id->index) names_.threads.resize(id->index + 1);
      names_.threads[id->index] = name;
      if (!th.calls.empty()) {
        std::vector<CallPlan> plans;
        for (const scenario::CallSpec& c : th.calls) {
          plans.push_back(CallPlan{c.at, [dist = c.cost](Rng& rng) { return dist.sample(rng); },
                                   invoke_slot.at({ti, index_of(s.tenants, c.to)})});
        }
        const Status st = sim_->set_calls(*id, std::move(plans), stream(seed_, "call/" + name));
        if (!st) check(th.where, fmt::format("thread \"{}\": its calls", name), st.error());
      }
    }
  }
}

void ScenarioRun::add_workload(size_t index) {
  WorkloadState& state = workloads_.emplace_back();
  const bool carried = index < options_.carried_workloads.size() && options_.carried_workloads[index];
  // Targets were registered in canonical order (instantiate), so a canonical thread-instance
  // index is the simulator's target index.
  for (scenario::WorkloadStream& st : scenario::workload_streams(s_, index, seed_, end_, *instances_)) {
    scenario::WorkloadSource* raw = st.source.get();
    if (carried) {
      // The backend delivers these itself (validation keeps AR pipelines off devices).
      const uint32_t ci = static_cast<uint32_t>(carried_.size());
      carried_.push_back(Carried{index, std::move(st.source), {}});
      state.sources.push_back(kCarriedSource | ci);
      state.counters.push_back(raw);
      continue;
    }
    const uint32_t si = sim_->add_source(std::move(st.source));
    state.sources.push_back(si);
    state.counters.push_back(raw);
    if (s_.workloads[index].kind == WorkloadKind::kClients) {
      if (clients_workload_of_source_.size() <= si) clients_workload_of_source_.resize(si + 1, kNoIndex);
      clients_workload_of_source_[si] = static_cast<uint32_t>(index);
    }
    if (pipeline_of_source_.size() <= si) pipeline_of_source_.resize(si + 1, nullptr);
    if (st.stages.empty()) continue;
    auto p = std::make_unique<Pipeline>();
    p->targets = st.stages;
    for (size_t stage = 0; stage < st.stages.size(); ++stage) p->stage_of[target_threads_[st.stages[stage]].index] = stage;
    p->stage_deadline = st.stage_deadline;
    p->e2e_deadline = st.e2e_deadline;
    pipeline_of_source_[si] = p.get();
    state.pipelines.push_back(p.get());
    pipelines_.push_back(std::move(p));
  }
}

bool ScenarioRun::deliver_carried(uint32_t i, const arrivals::Arrival& a) {
  const bool ok = sim_->deliver(a, kCarriedSource | i);
  ++(ok ? carried_[i].counts.delivered : carried_[i].counts.dropped);
  return ok;
}

void ScenarioRun::on_complete(ThreadId thread, const JobInfo& job) {
  if (extra_hook_) extra_hook_(thread, job);
  if (job.source < clients_workload_of_source_.size() && clients_workload_of_source_[job.source] != kNoIndex) {
    if (responses_by_kind_.size() < s_.workloads.size()) responses_by_kind_.resize(s_.workloads.size());
    std::vector<std::vector<Duration>>& per_kind = responses_by_kind_[clients_workload_of_source_[job.source]];
    if (per_kind.size() <= job.kind) per_kind.resize(job.kind + 1u);
    per_kind[job.kind].push_back(sim_->now() - job.arrival);
  }
  if (job.source >= pipeline_of_source_.size() || pipeline_of_source_[job.source] == nullptr) return;
  Pipeline& p = *pipeline_of_source_[job.source];
  const auto it = p.stage_of.find(thread.index);
  if (it == p.stage_of.end()) return;
  const size_t stage = it->second;
  const Instant now = sim_->now();
  Instant born = job.arrival;
  if (stage > 0) {
    const auto b = p.born.find(job.tag);
    if (b == p.born.end()) return;  // cannot happen: stage 0 recorded it
    born = b->second;
  }
  if (stage + 1 == p.targets.size()) {
    if (stage > 0) p.born.erase(job.tag);
    const Duration e2e = now - born;
    ++p.done;
    if (e2e > p.e2e_deadline) ++p.late;
    p.e2e.push_back(e2e);
    return;
  }
  if (stage == 0) p.born[job.tag] = born;
  arrivals::Arrival next;
  next.time = now;
  next.target = p.targets[stage + 1];
  next.deadline = p.stage_deadline;
  next.tag = job.tag;
  if (!sim_->deliver(next, job.source)) ++p.dropped;
}

uint64_t ScenarioRun::scan_traces() {
  uint64_t n = 0;
  for (size_t i = 0; i < workloads_.size(); ++i) {
    const WorkloadKind k = s_.workloads[i].kind;
    if (k != WorkloadKind::kTrace && k != WorkloadKind::kAzure && k != WorkloadKind::kPcap) continue;
    for (const uint32_t si : workloads_[i].sources) {
      if ((si & kCarriedSource) != 0) {
        arrivals::Arrival a;
        while (carried_[si & ~kCarriedSource].source->next(a)) ++n;
      } else {
        n += sim_->drain_source(si);
      }
    }
  }
  return n;
}

RunStats ScenarioRun::run_until(Instant until) { return sim_->run_until(std::min(until, end_)); }

RunStats ScenarioRun::run(const ProgressFn& progress, const std::atomic<bool>* stop) {
  sim_->set_stop(stop);
  if (!progress) return run_until(end_);
  constexpr int kSteps = 100;
  RunStats stats;
  const Duration span = end_ - Instant::epoch();
  for (int step = 1; step <= kSteps && !sim_->stopped(); ++step) {
    stats = run_until(step == kSteps ? end_ : Instant::epoch() + span / kSteps * step);
    progress(stats.end, end_);
  }
  return stats;
}

std::vector<WorkloadResult> ScenarioRun::workload_results() const {
  std::vector<WorkloadResult> out;
  for (size_t i = 0; i < workloads_.size(); ++i) {
    const Workload& w = s_.workloads[i];
    const WorkloadState& st = workloads_[i];
    WorkloadResult r;
    r.name = w.name;
    r.kind = scenario::workload_kind_name(w.kind);
    r.sources = static_cast<uint32_t>(st.sources.size());
    std::vector<uint64_t> per_kind;
    std::vector<std::string> kinds;
    for (size_t j = 0; j < st.sources.size(); ++j) {
      const scenario::WorkloadSource& c = *st.counters[j];
      r.generated += c.generated();
      const uint32_t si = st.sources[j];
      const CoreSimulator::SourceCounts& counts =
          (si & kCarriedSource) != 0 ? carried_[si & ~kCarriedSource].counts : sim_->source_counts(si);
      r.delivered += counts.delivered;
      r.dropped += counts.dropped;
      kinds = c.kinds();
      if (per_kind.size() < c.per_kind().size()) per_kind.resize(c.per_kind().size());
      for (size_t k = 0; k < c.per_kind().size(); ++k) per_kind[k] += c.per_kind()[k];
    }
    for (size_t k = 0; k < per_kind.size(); ++k) {
      if (per_kind[k] > 0 && k < kinds.size() && !kinds[k].empty()) r.by_kind.emplace_back(kinds[k], per_kind[k]);
    }
    if (w.kind == WorkloadKind::kAr) {
      std::vector<Duration> e2e;
      for (const Pipeline* p : st.pipelines) {
        r.dropped += p->dropped;
        r.frames_done += p->done;
        r.frames_late += p->late;
        r.e2e_deadline = p->e2e_deadline;
        e2e.insert(e2e.end(), p->e2e.begin(), p->e2e.end());
      }
      r.e2e = response_stats(std::move(e2e));
    }
    if (w.kind == WorkloadKind::kClients) {
      for (size_t k = 0; k < kinds.size(); ++k) {
        const bool seen = i < responses_by_kind_.size() && k < responses_by_kind_[i].size();
        r.response_by_kind.emplace_back(kinds[k], response_stats(seen ? responses_by_kind_[i][k] : std::vector<Duration>{}));
      }
    }
    out.push_back(std::move(r));
  }
  return out;
}

void group_by_tenant(const ScenarioRun& run, SummaryBuilder& builder) {
  std::vector<std::string> names;
  for (const scenario::Tenant& t : run.scenario().tenants) names.push_back(t.name);
  builder.set_groups(run.layout().tenant_of_fwp, std::move(names));
}

std::string scenario_summary_json(const ScenarioRun& run, const Summary& summary, const RunStats& stats) {
  using Json = nlohmann::ordered_json;
  const Scenario& s = run.scenario();
  Json j = summary_to_json(summary);
  Json sc;
  sc["name"] = s.name;
  sc["file"] = s.file;
  sc["seed"] = run.seed();
  sc["duration_ns"] = (run.end() - Instant::epoch()).ns();
  sc["servers"] = Json::array();
  for (size_t i = 0; i < s.servers.size(); ++i) {
    Json sv;
    sv["name"] = s.servers[i].name;
    sv["policy"] = s.servers[i].policy;
    sv["first_cpu"] = run.layout().server_first_cpu[i];
    sv["cpus"] = s.servers[i].cpus;
    sc["servers"].push_back(sv);
  }
  j["scenario"] = sc;
  Json counters;
  counters["kernel_events"] = stats.events;
  counters["trace_records"] = stats.records;
  counters["arrivals"] = stats.arrivals;
  counters["dropped_arrivals"] = stats.dropped_arrivals;
  j["counters"] = counters;
  j["workloads"] = Json::array();
  for (const WorkloadResult& w : run.workload_results()) {
    Json x;
    x["name"] = w.name;
    x["kind"] = w.kind;
    x["sources"] = w.sources;
    x["generated"] = w.generated;
    x["delivered"] = w.delivered;
    x["dropped"] = w.dropped;
    Json kinds = Json::object();
    for (const auto& [k, n] : w.by_kind) kinds[k] = n;
    x["by_kind"] = kinds;
    if (w.kind == "ar") {
      x["frames_done"] = w.frames_done;
      x["frames_late"] = w.frames_late;
      x["e2e_deadline_ns"] = w.e2e_deadline.ns();
      x["e2e_latency"] = response_stats_json(w.e2e);
    }
    if (!w.response_by_kind.empty()) {
      Json by = Json::object();
      for (const auto& [k, r] : w.response_by_kind) by[k] = response_stats_json(r);
      x["response_by_kind"] = by;
    }
    j["workloads"].push_back(x);
  }
  for (const PerClientFronts::Front& f : run.per_client().fronts()) {
    Json x;
    x["tenant"] = f.tenant;
    x["made"] = f.counts.made;
    x["recycled"] = f.counts.recycled;
    x["refused"] = f.counts.refused;
    x["live"] = f.live();
    x["peak_live"] = f.counts.peak_live;
    x["idle_timeout_ns"] = f.idle_timeout.ns();
    x["create_cost_ns"] = f.create_cost.ns();
    j["per_client"].push_back(x);
  }
  return j.dump(2) + "\n";
}

std::string format_workloads_table(const std::vector<WorkloadResult>& workloads) {
  if (workloads.empty()) return {};
  std::string out;
  auto it = std::back_inserter(out);
  size_t width = 8;
  for (const WorkloadResult& w : workloads) width = std::max(width, w.name.size());
  fmt::format_to(it, "{:<{}}  {:<7} {:>9} {:>9} {:>8}  {}\n", "workload", width, "kind", "arrivals", "accepted", "dropped",
                 "notes");
  for (const WorkloadResult& w : workloads) {
    std::string notes;
    for (const auto& [k, n] : w.by_kind) notes += fmt::format("{}{} {}", notes.empty() ? "" : ", ", n, k);
    if (w.kind == "ar") {
      notes = fmt::format("{} frames through the pipeline, {} later than {}", w.frames_done, w.frames_late,
                          format_duration_short(w.e2e_deadline));
      if (w.e2e.count > 0) {
        notes += fmt::format("; end-to-end p50 {} p99 {} max {}", format_duration_short(w.e2e.p50),
                             format_duration_short(w.e2e.p99), format_duration_short(w.e2e.max));
      }
    }
    if (w.sources > 1) notes += fmt::format("{}{} instances", notes.empty() ? "" : "; ", w.sources);
    fmt::format_to(it, "{:<{}}  {:<7} {:>9} {:>9} {:>8}  {}\n", w.name, width, w.kind, w.generated, w.delivered, w.dropped,
                   notes);
  }
  return out;
}

}  // namespace edgeos::sim
