#include "edgeos/simulator/validate.hpp"

#include <fmt/format.h>

#include <Eigen/Dense>
#include <algorithm>
#include <array>
#include <cmath>
#include <cstdlib>

#include "edgeos/hosted/error.hpp"

namespace edgeos::sim {

namespace {

RunJobs jobs_without(const std::vector<TraceRecord>& records, const std::set<uint32_t>& ignore) {
  RunJobs run;
  for (const TraceRecord& r : records) {
    if (r.thread == kNoIndex || r.cpu == kNoCpu || ignore.count(r.thread) != 0) continue;
    const JobKey key{r.thread, r.job};
    switch (r.event) {
      case TraceEvent::kRelease: {
        JobLife& j = run.jobs[key];
        j.cpu = r.cpu;
        j.release = Instant::from_ns(r.time_ns);
        break;
      }
      case TraceEvent::kComplete: {
        JobLife& j = run.jobs[key];
        j.cpu = r.cpu;
        j.completion = Instant::from_ns(r.time_ns);
        j.response = Duration::nanoseconds(r.value);
        run.order[r.cpu].push_back(key);
        break;
      }
      case TraceEvent::kDeadlineMiss:
        run.jobs[key].missed = true;
        break;
      default:
        break;
    }
  }
  return run;
}

}  // namespace

RunJobs jobs_of(const std::vector<TraceRecord>& records) { return jobs_without(records, {}); }

ResponseStats response_stats(std::vector<int64_t> d) {
  ResponseStats s;
  s.jobs = d.size();
  if (d.empty()) return s;
  std::sort(d.begin(), d.end());
  double sum = 0, sum_abs = 0;
  for (const int64_t v : d) {
    sum += static_cast<double>(v);
    sum_abs += std::abs(static_cast<double>(v));
  }
  s.mean_ns = sum / static_cast<double>(d.size());
  s.mean_abs_ns = sum_abs / static_cast<double>(d.size());
  const auto at = [&d](double q) { return d[static_cast<size_t>(q * static_cast<double>(d.size() - 1) + 0.5)]; };
  s.min_ns = d.front();
  s.p50_ns = at(0.5);
  s.p99_ns = at(0.99);
  s.max_ns = d.back();
  return s;
}

namespace {

std::string key_text(const JobKey& k) { return fmt::format("{}#{}", k.first, k.second); }

}  // namespace

Comparison compare_runs(const std::vector<TraceRecord>& got_records, const std::vector<TraceRecord>& want_records,
                        const std::set<uint32_t>& ignore) {
  const RunJobs got = jobs_without(got_records, ignore), want = jobs_without(want_records, ignore);
  Comparison c;
  std::set<uint16_t> cpus;
  for (const auto& [cpu, order] : want.order) cpus.insert(cpu);
  for (const auto& [cpu, order] : got.order) cpus.insert(cpu);
  for (const uint16_t cpu : cpus) {
    static const std::vector<JobKey> kNone;
    const auto w = want.order.find(cpu), g = got.order.find(cpu);
    const std::vector<JobKey>& wo = w == want.order.end() ? kNone : w->second;
    const std::vector<JobKey>& go = g == got.order.end() ? kNone : g->second;
    c.completions += wo.size();
    if (!c.same_order) continue;  // report the first divergence only
    const size_t n = std::min(wo.size(), go.size());
    size_t i = 0;
    while (i < n && wo[i] == go[i]) ++i;
    if (i < n || wo.size() != go.size()) {
      c.same_order = false;
      c.diverge_cpu = cpu;
      c.diverge_index = i;
      c.diverge_want = i < wo.size() ? key_text(wo[i]) : "end";
      c.diverge_got = i < go.size() ? key_text(go[i]) : "end";
    }
  }
  for (const auto& [key, j] : want.jobs) {
    const auto other = got.jobs.find(key);
    const bool got_missed = other != got.jobs.end() && other->second.missed;
    const bool got_done = other != got.jobs.end() && !other->second.completion.is_never();
    if (j.missed && !got_missed) c.missed_only_by_want.push_back(key);
    if (!j.completion.is_never() && !got_done) c.completed_only_by_want.push_back(key);
    if (!j.completion.is_never() && got_done) {
      c.response_differences.emplace_back(key, (other->second.response - j.response).ns());
    }
  }
  for (const auto& [key, j] : got.jobs) {
    const auto other = want.jobs.find(key);
    const bool want_missed = other != want.jobs.end() && other->second.missed;
    const bool want_done = other != want.jobs.end() && !other->second.completion.is_never();
    if (j.missed && !want_missed) c.missed_only_by_got.push_back(key);
    if (!j.completion.is_never() && !want_done) c.completed_only_by_got.push_back(key);
  }
  return c;
}

namespace {

// The kernel work the simulation shows on one CPU, as sorted instants of each kind.
struct CpuWork {
  std::vector<int64_t> entries, releases, dispatches, invocations, migrations;
  // To count a dispatch only when the thread changes, as the kernel charges it: the thread last
  // dispatched (kNoIndex: none, the CPU went idle), and whether the CPU went idle at `at`.
  uint32_t dispatched = kNoIndex;
  bool idle_at_instant = false;
  int64_t at = -1;

  // How many of `v` lie in [from, to).
  static double count(const std::vector<int64_t>& v, int64_t from, int64_t to) {
    return static_cast<double>(std::lower_bound(v.begin(), v.end(), to) - std::lower_bound(v.begin(), v.end(), from));
  }
};

constexpr Overhead kFitted[] = {Overhead::kSchedule, Overhead::kRelease, Overhead::kContextSwitch, Overhead::kInvocation,
                                Overhead::kMigration};
constexpr int kKinds = 5;

}  // namespace

OverheadFit fit_overheads(const std::vector<TraceRecord>& simulated, const Comparison& c) {
  OverheadFit fit;
  std::map<uint16_t, CpuWork> work;
  for (const TraceRecord& r : simulated) {
    if (r.cpu == kNoCpu) continue;
    CpuWork& w = work[r.cpu];
    if (r.time_ns != w.at) {
      if (w.idle_at_instant) w.dispatched = kNoIndex;  // the last instant left the CPU idle
      w.idle_at_instant = false;
      w.at = r.time_ns;
    }
    // One kernel entry, with its scheduling decision, per instant at which the CPU has records
    // (they come in time order); a call or a reply alone takes no decision (the invocation fast
    // path), so its records make none.
    const bool invocation = r.event == TraceEvent::kIpcCall || r.event == TraceEvent::kIpcReply;
    if (!invocation && (w.entries.empty() || w.entries.back() != r.time_ns)) w.entries.push_back(r.time_ns);
    switch (r.event) {
      case TraceEvent::kRelease:
        w.releases.push_back(r.time_ns);
        break;
      case TraceEvent::kStart:
      case TraceEvent::kResume:
        if (r.thread != w.dispatched) w.dispatches.push_back(r.time_ns);
        w.dispatched = r.thread;
        w.idle_at_instant = false;
        break;
      case TraceEvent::kComplete:
      case TraceEvent::kBlock:
      case TraceEvent::kBudgetExhausted:
      case TraceEvent::kThreadExit:
        w.idle_at_instant = true;  // unless a dispatch follows at the same instant
        break;
      case TraceEvent::kIpcCall:
      case TraceEvent::kIpcReply:
        w.invocations.push_back(r.time_ns);
        break;
      case TraceEvent::kMigrate:  // on the CPU the thread moves to, as the kernel charges it
        w.migrations.push_back(r.time_ns);
        break;
      default:
        break;
    }
  }
  // Each job's life as the instants something happened to it, with the CPU it happened on.
  std::map<JobKey, std::vector<std::pair<int64_t, uint16_t>>> life;
  for (const TraceRecord& r : simulated) {
    if (r.thread == kNoIndex || r.cpu == kNoCpu) continue;
    switch (r.event) {
      case TraceEvent::kRelease:
      case TraceEvent::kStart:
      case TraceEvent::kResume:
      case TraceEvent::kPreempt:
      case TraceEvent::kMigrate:
      case TraceEvent::kBlock:
      case TraceEvent::kWakeup:
      case TraceEvent::kComplete:
        life[JobKey{r.thread, r.job}].emplace_back(r.time_ns, r.cpu);
        break;
      default:
        break;
    }
  }
  // One equation per job completed in both runs: the work on its CPU from its release to its
  // completion (exclusive: what the completing entry does delays the next job, not this one).
  // A job that migrates (global scheduling) has several CPUs: each stretch between two instants
  // of its life counts the work on the CPU of the later one, where it ran, or ran next after
  // waiting (the CPU whose work it waited for). With one CPU the stretches make up the window.
  std::vector<std::array<double, kKinds>> rows;
  std::vector<double> y;
  for (const auto& [key, difference] : c.response_differences) {
    const auto l = life.find(key);
    if (l == life.end() || l->second.front().first > l->second.back().first) continue;
    const std::vector<std::pair<int64_t, uint16_t>>& at = l->second;
    std::array<double, kKinds> row{};
    for (size_t i = 1; i < at.size(); ++i) {
      const CpuWork& w = work[at[i].second];
      const int64_t from = at[i - 1].first, to = at[i].first;
      const double counts[kKinds] = {CpuWork::count(w.entries, from, to), CpuWork::count(w.releases, from, to),
                                     CpuWork::count(w.dispatches, from, to), CpuWork::count(w.invocations, from, to),
                                     CpuWork::count(w.migrations, from, to)};
      for (int k = 0; k < kKinds; ++k) row[k] += counts[k];
    }
    rows.push_back(row);
    y.push_back(static_cast<double>(difference));
  }
  fit.equations = rows.size();
  if (rows.empty()) return fit;
  // Least squares, non-negative by elimination: solve on the kinds still in; drop the one with
  // the most negative cost; again, until none is negative. A kind never seen is out from the start.
  std::vector<bool> in(kKinds, false);
  for (int k = 0; k < kKinds; ++k) {
    for (const auto& row : rows) in[k] = in[k] || row[k] != 0;
  }
  std::array<double, kKinds> cost{};
  for (;;) {
    std::vector<int> cols;
    for (int k = 0; k < kKinds; ++k) {
      if (in[k]) cols.push_back(k);
    }
    cost = {};
    if (cols.empty()) break;
    Eigen::MatrixXd a(static_cast<Eigen::Index>(rows.size()), static_cast<Eigen::Index>(cols.size()));
    Eigen::VectorXd b(static_cast<Eigen::Index>(rows.size()));
    for (size_t i = 0; i < rows.size(); ++i) {
      for (size_t k = 0; k < cols.size(); ++k) a(static_cast<Eigen::Index>(i), static_cast<Eigen::Index>(k)) = rows[i][cols[k]];
      b(static_cast<Eigen::Index>(i)) = y[i];
    }
    const Eigen::VectorXd x = a.colPivHouseholderQr().solve(b);
    int worst = -1;
    for (size_t k = 0; k < cols.size(); ++k) {
      cost[cols[k]] = x(static_cast<Eigen::Index>(k));
      if (cost[cols[k]] < 0 && (worst < 0 || cost[cols[k]] < cost[worst])) worst = cols[k];
    }
    if (worst < 0) break;
    in[worst] = false;
  }
  for (int k = 0; k < kKinds; ++k) {
    fit.model[kFitted[k]] = Duration::nanoseconds(static_cast<int64_t>(std::llround(std::max(0.0, cost[k]))));
  }
  fit.solved = true;
  return fit;
}

std::string format_overheads(const OverheadModel& m) {
  return fmt::format("{}ns,{}ns,{}ns,{}ns,{}ns,{}ns", m[Overhead::kRelease].ns(), m[Overhead::kSchedule].ns(),
                     m[Overhead::kContextSwitch].ns(), m[Overhead::kTimer].ns(), m[Overhead::kInvocation].ns(),
                     m[Overhead::kMigration].ns());
}

std::string job_name(const JobKey& k, const TraceNames& names) { return fmt::format("{}#{}", names.thread(k.first), k.second); }

Plans kernel_plans(const std::string& serial) {
  Plans plans;
  size_t line_no = 0;
  for (size_t at = 0; at < serial.size();) {
    size_t end = serial.find('\n', at);
    if (end == std::string::npos) end = serial.size();
    std::string line = serial.substr(at, end - at);
    at = end + 1;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    ++line_no;
    // A line the console cut where its buffer overflowed ("[console: N characters were lost...]")
    // is left out; the plans it lost are then planned by the simulator only.
    if (line.rfind("plan: ", 0) != 0 || line.find("characters were lost") != std::string::npos) continue;
    std::vector<int64_t> fields;
    for (size_t p = 6; p < line.size();) {
      const size_t q = line.find(' ', p);
      const std::string word = line.substr(p, q == std::string::npos ? std::string::npos : q - p);
      p = q == std::string::npos ? line.size() : q + 1;
      if (word.empty()) continue;
      char* stop = nullptr;
      const long long v = std::strtoll(word.c_str(), &stop, 10);
      if (*stop != '\0' || v < 0) throw InputError(fmt::format("kernel console line {}: \"{}\" is not a job plan", line_no, line));
      fields.push_back(v);
    }
    // The thread, the job, then an odd number of segments (own work around each call).
    if (fields.size() < 3 || fields.size() % 2 != 1) {
      throw InputError(fmt::format("kernel console line {}: \"{}\" is not a job plan", line_no, line));
    }
    plans[{static_cast<uint32_t>(fields[0]), static_cast<uint64_t>(fields[1])}] = {fields.begin() + 2, fields.end()};
  }
  return plans;
}

PlanComparison compare_plans(const Plans& got, const Plans& want) {
  PlanComparison c;
  for (const auto& [key, segments] : got) {
    const auto it = want.find(key);
    if (it == want.end()) {
      ++c.only_got;
      continue;
    }
    ++c.compared;
    if (segments != it->second && c.differing++ == 0) {
      c.first_difference = key;
      c.first_got = segments;
      c.first_want = it->second;
    }
  }
  c.only_want = want.size() - c.compared;
  return c;
}

}  // namespace edgeos::sim
