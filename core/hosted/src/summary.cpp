#include "edgeos/hosted/summary.hpp"
#include "edgeos/hosted/summary_json.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <nlohmann/json.hpp>

namespace edgeos {

namespace {
// The index in sorted order of the nearest-rank percentile p of n values: rank ceil(p * n / 100).
size_t rank_index(uint64_t n, int p) { return std::max<uint64_t>((static_cast<uint64_t>(p) * n + 99) / 100, 1) - 1; }
}  // namespace

Duration percentile(const std::vector<Duration>& sorted, int p) {
  if (sorted.empty()) return Duration::zero();
  return sorted[rank_index(sorted.size(), p)];
}

ResponseStats response_stats(std::vector<Duration> values) {
  ResponseStats s;
  s.count = values.size();
  if (values.empty()) return s;
  // The values at the ranks sorting would put there, without sorting (linear, not n log n): the
  // 99th percentile's by selection, then the median's among the values before it.
  int128_t sum = 0;
  Duration lo = values.front(), hi = values.front();
  for (Duration d : values) {
    sum += d.ns();
    lo = std::min(lo, d);
    hi = std::max(hi, d);
  }
  s.min = lo;
  s.max = hi;
  const size_t i99 = rank_index(values.size(), 99), i50 = rank_index(values.size(), 50);
  std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(i99), values.end());
  s.p99 = values[i99];
  if (i50 < i99) {
    std::nth_element(values.begin(), values.begin() + static_cast<ptrdiff_t>(i50), values.begin() + static_cast<ptrdiff_t>(i99));
  }
  s.p50 = values[i50];
  s.mean = Duration::nanoseconds(static_cast<int64_t>(sum / static_cast<int128_t>(values.size())));
  return s;
}

namespace {

std::string cause_name(const Summary& s, int64_t cause) {
  const char* name = s.drop_cause_name != nullptr ? s.drop_cause_name(cause) : nullptr;
  return name != nullptr ? std::string(name) : fmt::format("cause_{}", cause);
}

JobStats finish_acc(SummaryBuilder::Acc& a) {
  a.stats.response = response_stats(std::move(a.responses));
  return a.stats;
}

}  // namespace

void SummaryBuilder::close(uint32_t cpu, int64_t at) {
  const Open* open = running_.find(cpu);
  if (open == nullptr) return;
  const Duration d = Duration::nanoseconds(at - open->since);
  busy_[cpu] += d;
  threads_[open->thread].stats.cpu_time += d;
  tenants_[open->fwp].stats.cpu_time += d;
  total_.stats.cpu_time += d;
  running_.erase(cpu);
}

void SummaryBuilder::write(const TraceRecord& r) {
  if (r.thread == kNoIndex) return;
  Acc& th = threads_[r.thread];
  Acc& tn = tenants_[r.fwp];
  switch (r.event) {
    case TraceEvent::kRelease:
      ++th.stats.released;
      ++tn.stats.released;
      ++total_.stats.released;
      break;
    case TraceEvent::kComplete: {
      ++th.stats.completed;
      ++tn.stats.completed;
      ++total_.stats.completed;
      const Duration rt = Duration::nanoseconds(r.value);
      th.responses.push_back(rt);
      tn.responses.push_back(rt);
      total_.responses.push_back(rt);
      close(r.cpu, r.time_ns);
      break;
    }
    case TraceEvent::kDeadlineMiss:
      ++th.stats.misses;
      ++tn.stats.misses;
      ++total_.stats.misses;
      break;
    case TraceEvent::kStart:
    case TraceEvent::kResume:
      close(r.cpu, r.time_ns);
      running_[r.cpu] = Open{r.time_ns, r.thread, r.fwp};
      break;
    case TraceEvent::kPktRx:
    case TraceEvent::kPktTx: {
      const bool in = r.event == TraceEvent::kPktRx;
      const uint64_t bytes = r.value > 0 ? static_cast<uint64_t>(r.value) : 0;
      for (JobStats* st : {&tn.stats, &total_.stats}) {
        ++(in ? st->packets_in : st->packets_out);
        (in ? st->bytes_in : st->bytes_out) += bytes;
      }
      break;
    }
    case TraceEvent::kPktDrop:
      for (JobStats* st : {&tn.stats, &total_.stats}) {
        ++st->packets_dropped;
        ++st->drops[r.value];
      }
      break;
    case TraceEvent::kPreempt:
    case TraceEvent::kBlock:
    case TraceEvent::kThreadExit:
    case TraceEvent::kBudgetExhausted:
      close(r.cpu, r.time_ns);
      break;
    default:
      break;
  }
}

Summary SummaryBuilder::finish(const TraceNames& names, Instant start, Instant end) {
  Summary s;
  s.run = names.run;
  s.start = start;
  s.end = end;
  std::vector<uint32_t> open_cpus;
  running_.for_each([&](uint32_t cpu, const Open&) { open_cpus.push_back(cpu); });
  for (uint32_t cpu : open_cpus) close(cpu, end.ns());

  if (!group_names_.empty()) {
    std::vector<Acc> groups(group_names_.size());
    std::vector<bool> seen(group_names_.size(), false);
    tenants_.for_each([&](uint32_t index, const Acc& a) {
      const uint32_t g = index < group_of_fwp_.size() ? group_of_fwp_[index] : kNoIndex;
      if (g >= groups.size()) return;
      seen[g] = true;
      groups[g].stats.released += a.stats.released;
      groups[g].stats.completed += a.stats.completed;
      groups[g].stats.misses += a.stats.misses;
      groups[g].stats.cpu_time += a.stats.cpu_time;
      groups[g].stats.packets_in += a.stats.packets_in;
      groups[g].stats.packets_out += a.stats.packets_out;
      groups[g].stats.bytes_in += a.stats.bytes_in;
      groups[g].stats.bytes_out += a.stats.bytes_out;
      groups[g].stats.packets_dropped += a.stats.packets_dropped;
      for (const auto& [cause, n] : a.stats.drops) groups[g].stats.drops[cause] += n;
      groups[g].responses.insert(groups[g].responses.end(), a.responses.begin(), a.responses.end());
    });
    for (size_t g = 0; g < groups.size(); ++g) {
      groups[g].stats.index = static_cast<uint32_t>(g);
      groups[g].stats.name = group_names_[g];
      if (seen[g]) s.groups.push_back(finish_acc(groups[g]));
    }
  }
  tenants_.for_each([&](uint32_t index, Acc& a) {
    a.stats.index = index;
    a.stats.name = names.fwp(index);
    s.tenants.push_back(finish_acc(a));
  });
  threads_.for_each([&](uint32_t index, Acc& a) {
    a.stats.index = index;
    a.stats.name = names.thread(index);
    s.threads.push_back(finish_acc(a));
  });
  total_.stats.name = "total";
  s.total = finish_acc(total_);
  const int64_t span = (end - start).ns();
  busy_.for_each([&](uint32_t cpu, Duration b) {
    s.cpus.push_back(CpuStats{cpu, b, span > 0 ? static_cast<double>(b.ns()) / static_cast<double>(span) : 0.0});
  });
  *this = SummaryBuilder{};
  return s;
}

Summary summarize(const std::vector<TraceRecord>& records, const TraceNames& names, Instant start, Instant end) {
  SummaryBuilder b;
  for (const TraceRecord& r : records) b.write(r);
  return b.finish(names, start, end);
}

std::string format_duration_short(Duration d) {
  const int64_t ns = d.ns();
  if (ns < 1'000) return fmt::format("{}ns", ns);
  struct Scale {
    double ns;
    const char* name;
  };
  constexpr Scale kScales[] = {{1e9, "s"}, {1e6, "ms"}, {1e3, "us"}};
  for (const Scale& s : kScales) {
    if (static_cast<double>(ns) >= s.ns) {
      std::string text = fmt::format("{:.3f}", static_cast<double>(ns) / s.ns);
      while (text.back() == '0') text.pop_back();
      if (text.back() == '.') text.pop_back();
      return text + s.name;
    }
  }
  return fmt::format("{}ns", ns);
}

std::string format_summary_table(const Summary& s) {
  std::string out;
  auto it = std::back_inserter(out);
  size_t width = 6;
  const std::vector<JobStats>& rows = s.groups.empty() ? s.tenants : s.groups;
  for (const JobStats& t : rows) width = std::max(width, t.name.size());
  fmt::format_to(it, "{:<{}}  {:>8} {:>8} {:>7} {:>10} {:>10} {:>10}\n", "tenant", width, "released", "complete",
                 "misses", "resp p50", "resp p99", "resp max");
  auto row = [&](const JobStats& t) {
    const bool any = t.response.count > 0;
    fmt::format_to(it, "{:<{}}  {:>8} {:>8} {:>7} {:>10} {:>10} {:>10}\n", t.name, width, t.released, t.completed,
                   t.misses, any ? format_duration_short(t.response.p50) : "-",
                   any ? format_duration_short(t.response.p99) : "-",
                   any ? format_duration_short(t.response.max) : "-");
  };
  for (const JobStats& t : rows) row(t);
  row(s.total);
  for (const CpuStats& c : s.cpus) {
    fmt::format_to(it, "CPU {}: busy {} of {} ({:.1f}%)\n", c.cpu, format_duration_short(c.busy),
                   format_duration_short(s.end - s.start), 100.0 * c.utilisation);
  }
  const JobStats& t = s.total;
  if (t.packets_in + t.packets_out + t.packets_dropped > 0) {
    fmt::format_to(it, "packets: {} in ({} bytes), {} out ({} bytes), {} dropped", t.packets_in, t.bytes_in,
                   t.packets_out, t.bytes_out, t.packets_dropped);
    const char* sep = " (";
    for (const auto& [cause, n] : t.drops) {
      fmt::format_to(it, "{}{} {}", sep, cause_name(s, cause), n);
      sep = ", ";
    }
    fmt::format_to(it, "{}\n", t.drops.empty() ? "" : ")");
  }
  return out;
}

nlohmann::ordered_json response_stats_json(const ResponseStats& r) {
  nlohmann::ordered_json j;
  j["count"] = r.count;
  j["min_ns"] = r.min.ns();
  j["p50_ns"] = r.p50.ns();
  j["p99_ns"] = r.p99.ns();
  j["max_ns"] = r.max.ns();
  j["mean_ns"] = r.mean.ns();
  return j;
}

namespace {
nlohmann::ordered_json to_json(const Summary& s, const JobStats& t) {
  nlohmann::ordered_json j;
  j["name"] = t.name;
  j["index"] = t.index;
  j["released"] = t.released;
  j["completed"] = t.completed;
  j["deadline_misses"] = t.misses;
  j["cpu_time_ns"] = t.cpu_time.ns();
  j["response_time"] = response_stats_json(t.response);
  j["packets_in"] = t.packets_in;
  j["packets_out"] = t.packets_out;
  j["bytes_in"] = t.bytes_in;
  j["bytes_out"] = t.bytes_out;
  j["packets_dropped"] = t.packets_dropped;
  j["drops"] = nlohmann::ordered_json::object();
  for (const auto& [cause, n] : t.drops) j["drops"][cause_name(s, cause)] = n;
  return j;
}
}  // namespace

nlohmann::ordered_json summary_to_json(const Summary& s) {
  nlohmann::ordered_json j;
  j["run"] = s.run;
  j["start_ns"] = s.start.ns();
  j["end_ns"] = s.end.ns();
  j["total"] = to_json(s, s.total);
  j["tenants"] = nlohmann::ordered_json::array();
  for (const JobStats& t : s.tenants) j["tenants"].push_back(to_json(s, t));
  if (!s.groups.empty()) {
    j["tenant_groups"] = nlohmann::ordered_json::array();
    for (const JobStats& t : s.groups) j["tenant_groups"].push_back(to_json(s, t));
  }
  j["threads"] = nlohmann::ordered_json::array();
  for (const JobStats& t : s.threads) j["threads"].push_back(to_json(s, t));
  j["cpus"] = nlohmann::ordered_json::array();
  for (const CpuStats& c : s.cpus) {
    nlohmann::ordered_json cj;
    cj["cpu"] = c.cpu;
    cj["busy_ns"] = c.busy.ns();
    cj["utilisation"] = c.utilisation;
    j["cpus"].push_back(cj);
  }
  return j;
}

std::string summary_json(const Summary& s) { return summary_to_json(s).dump(2) + "\n"; }

}  // namespace edgeos
