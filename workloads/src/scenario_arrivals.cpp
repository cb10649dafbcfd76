#include "edgeos/workloads/scenario_arrivals.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <map>
#include <optional>

#include "edgeos/hosted/error.hpp"

namespace edgeos::scenario {

namespace {

[[noreturn]] void fail_at(const Location& at, const std::string& what) {
  throw InputError(fmt::format("{}: {}", at.describe(), what));
}

}  // namespace

Rng stream(uint64_t seed, std::string_view label, uint64_t instance) {
  return workloads::StreamName().add(label.data(), label.size()).rng(seed, instance);
}

std::string instance_name(const std::string& base, uint32_t k, uint32_t instances) {
  return instances == 1 ? base : fmt::format("{}#{}", base, k);
}

std::vector<std::string> instance_names(const Scenario& s, const std::string& ref) {
  const ThreadRef r = split_thread_ref(ref);
  const ThreadSpec* th = s.find_thread(r.thread);
  if (th == nullptr) return {};
  const uint32_t n = s.find_tenant(th->tenant)->instances;
  if (r.instance) return {instance_name(th->name, *r.instance, n)};
  std::vector<std::string> out;
  for (uint32_t k = 0; k < n; ++k) out.push_back(instance_name(th->name, k, n));
  return out;
}

ThreadInstances::ThreadInstances(const Scenario& s) {
  for (const ThreadSpec& th : s.threads) {
    const uint32_t n = s.find_tenant(th.tenant)->instances;
    for (uint32_t k = 0; k < n; ++k) {
      sorted_.emplace_back(instance_name(th.name, k, n), static_cast<uint32_t>(names_.size()));
      names_.push_back(sorted_.back().first);
    }
  }
  std::sort(sorted_.begin(), sorted_.end());
}

uint32_t ThreadInstances::index(const std::string& name) const {
  const auto it = std::lower_bound(sorted_.begin(), sorted_.end(), std::make_pair(name, uint32_t{0}));
  if (it == sorted_.end() || it->first != name) throw InputError(fmt::format("no thread instance \"{}\"", name));
  return it->second;
}

WorkloadSource::WorkloadSource(std::unique_ptr<arrivals::Source> inner, Duration deadline, arrivals::CostFn cost,
                               Rng cost_rng)
    : inner_(std::move(inner)), deadline_(deadline), cost_(std::move(cost)), cost_rng_(cost_rng) {}

bool WorkloadSource::next(arrivals::Arrival& a) {
  if (!inner_->next(a)) return false;
  if (a.deadline == Duration::zero()) a.deadline = deadline_;
  if (a.cost == Duration::zero() && cost_) a.cost = cost_(cost_rng_, a.size);
  if (a.kind >= per_kind_.size()) per_kind_.resize(a.kind + 1u);
  ++per_kind_[a.kind];
  ++generated_;
  return true;
}

std::vector<WorkloadStream> workload_streams(const Scenario& s, size_t index, uint64_t seed, Instant end,
                                             const ThreadInstances& threads) {
  const Workload& w = s.workloads.at(index);
  const Instant start = Instant::epoch() + w.start;
  const Instant stop = std::min(end, w.stop == Duration::zero() ? end : Instant::epoch() + w.stop);
  const uint64_t base = w.seed != 0 ? w.seed : seed;
  const std::string label = w.seed != 0 ? std::string() : "workload/" + w.name;
  std::vector<WorkloadStream> out;

  auto single_target = [&](const std::string& ref) {
    const std::vector<std::string> names = instance_names(s, ref);
    if (names.size() != 1) {
      fail_at(w.where, fmt::format("workload \"{}\": \"{}\" has {} instances; a trace drives one, so name it "
                                   "(\"{}\")", w.name, ref, names.size(), names.front()));
    }
    return threads.index(names.front());
  };

  // Instance j's arrivals and its requests' costs come from two streams.
  auto arrival_rng = [&](uint32_t j) { return label.empty() ? Rng::derive(base, 2 * uint64_t{j}) : stream(base, label, j); };
  auto cost_rng = [&](uint32_t j) {
    return label.empty() ? Rng::derive(base, 2 * uint64_t{j} + 1) : stream(base, label + "/cost", j);
  };

  // The cost of a request without one of its own: the workload's "cost" (or kv/pcap "cost_base"),
  // plus "cost_per_kib" per KiB of payload; none of these: the thread's own cost model.
  arrivals::CostFn cost;
  if (w.cost || w.cost_base > Duration::zero() || w.cost_per_kib > Duration::zero()) {
    cost = [dist = w.cost, base_cost = w.cost_base, per_kib = w.cost_per_kib](Rng& rng, uint32_t size) {
      const Duration own = dist ? dist->sample(rng) : base_cost;
      const Duration d = own + Duration::nanoseconds(per_kib.ns() * int64_t{size} / 1024);
      return max(d, Duration::nanoseconds(1));
    };
  }

  auto add = [&](std::unique_ptr<arrivals::Source> src, uint32_t j) -> WorkloadStream& {
    WorkloadStream& st = out.emplace_back();
    st.source = std::make_unique<WorkloadSource>(std::move(src), w.deadline, cost, cost_rng(j));
    return st;
  };

  switch (w.kind) {
    case WorkloadKind::kPoisson:
    case WorkloadKind::kMmpp:
    case WorkloadKind::kIot:
    case WorkloadKind::kKv:
    case WorkloadKind::kClients: {
      const std::vector<std::string> names = instance_names(s, w.target);
      for (uint32_t j = 0; j < names.size(); ++j) {
        const uint32_t target = threads.index(names[j]);
        const Rng rng = arrival_rng(j);
        std::unique_ptr<arrivals::Source> src;
        switch (w.kind) {
          case WorkloadKind::kPoisson:
            src = arrivals::poisson(rng, w.rate, start, stop, target, nullptr);
            break;
          case WorkloadKind::kMmpp:
            src = arrivals::mmpp(rng, w.rates, w.sojourn, w.transitions, start, stop, target, nullptr);
            break;
          case WorkloadKind::kIot: {
            std::vector<arrivals::Burst> bursts;
            for (const Burst& b : w.bursts) bursts.push_back({Instant::epoch() + b.at, b.count, b.within});
            src = arrivals::iot(rng, w.sensors, w.sensor_period, w.jitter, bursts, start, stop, target, nullptr);
            break;
          }
          case WorkloadKind::kClients:
            src = arrivals::clients(rng, w.rate, w.requests, w.gap, start, stop, target, nullptr);
            break;
          default:
            src = arrivals::kv(rng, w.rate, w.get_ratio, start, stop, target, nullptr);
            break;
        }
        add(std::move(src), j);
      }
      break;
    }
    case WorkloadKind::kAr: {
      // One pipeline per instance of the stage tenants (validated: they have equally many).
      std::vector<std::vector<std::string>> stage_names;
      for (const std::string& st : w.stages) stage_names.push_back(instance_names(s, st));
      const Duration frame = Duration::nanoseconds(std::llround(1e9 / w.fps));
      for (uint32_t j = 0; j < stage_names[0].size(); ++j) {
        std::vector<uint32_t> stages;
        for (const std::vector<std::string>& names : stage_names) stages.push_back(threads.index(names[j]));
        WorkloadStream& st = add(arrivals::ar_frames(arrival_rng(j), w.fps, w.jitter, start, stop, stages[0]), j);
        st.stages = std::move(stages);
        st.stage_deadline = w.deadline;
        st.e2e_deadline = w.e2e_deadline > Duration::zero() ? w.e2e_deadline : frame;
      }
      break;
    }
    case WorkloadKind::kTrace: {
      arrivals::Mapping m;
      if (!w.target.empty()) m.all = single_target(w.target);
      for (const auto& [tenant, thread] : w.targets) m.by_tenant[tenant] = single_target(thread);
      add(arrivals::trace(w.file, std::move(m), start, stop), 0);
      break;
    }
    case WorkloadKind::kAzure: {
      std::vector<uint32_t> targets;
      for (const std::string& t : w.target_list) targets.push_back(single_target(t));
      add(arrivals::azure(w.file, std::move(targets), w.minute_from, w.minute_to, w.scale, arrival_rng(0), start, stop, nullptr),
          0);
      break;
    }
    case WorkloadKind::kPcap: {
      std::optional<uint32_t> all;
      std::map<uint16_t, uint32_t> ports;
      if (!w.target.empty()) all = single_target(w.target);
      for (const auto& [port, thread] : w.targets) ports[static_cast<uint16_t>(std::stoul(port))] = single_target(thread);
      add(arrivals::pcap(w.file, std::move(ports), all, start, stop), 0);
      break;
    }
  }
  return out;
}

MergedArrivals::MergedArrivals(const Scenario& s, uint64_t seed, Instant end, const ThreadInstances& threads)
    : file_(s.file) {
  for (size_t w = 0; w < s.workloads.size(); ++w) {
    for (WorkloadStream& st : workload_streams(s, w, seed, end, threads)) {
      streams_.push_back(std::move(st));
      workload_of_.push_back(w);
    }
  }
  next_.resize(streams_.size());
  for (uint32_t i = 0; i < streams_.size(); ++i) {
    if (streams_[i].source->next(next_[i])) due_.push_back(Due{next_[i].time, i});
  }
  std::make_heap(due_.begin(), due_.end(), std::greater<>());
}

bool MergedArrivals::next(arrivals::Arrival& a, uint32_t& stream) {
  if (due_.empty()) return false;
  std::pop_heap(due_.begin(), due_.end(), std::greater<>());
  const uint32_t i = due_.back().stream;
  due_.pop_back();
  a = next_[i];
  stream = i;
  if (streams_[i].source->next(next_[i])) {
    if (next_[i].time < a.time) throw InputError(fmt::format("{}: an arrival source went back in time", file_));
    due_.push_back(Due{next_[i].time, i});
    std::push_heap(due_.begin(), due_.end(), std::greater<>());
  }
  return true;
}

}  // namespace edgeos::scenario
