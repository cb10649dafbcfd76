#include "golden.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "edgeos/hosted/error.hpp"

namespace edgeos::testing {

namespace {

int64_t to_int(const std::string& s, const std::string& where) {
  int64_t v = 0;
  const auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size()) throw InputError(fmt::format("{}: not an integer: '{}'", where, s));
  return v;
}

std::vector<int64_t> to_list(const std::string& s, const std::string& where) {
  std::vector<int64_t> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(to_int(item, where));
  return out;
}

}  // namespace

GoldenCase load_golden(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open", path));
  GoldenCase g;
  g.file = std::filesystem::path(path).filename().string();
  std::string line;
  int line_no = 0;
  while (std::getline(in, line)) {
    ++line_no;
    const std::string where = fmt::format("{}:{}", path, line_no);
    if (const size_t hash = line.find('#'); hash != std::string::npos) line.resize(hash);
    std::stringstream ss(line);
    std::vector<std::string> w;
    for (std::string tok; ss >> tok;) w.push_back(tok);
    if (w.empty()) continue;
    const std::string& key = w[0];
    auto need = [&](size_t n) {
      if (w.size() != n) throw InputError(fmt::format("{}: '{}' takes {} fields, got {}", where, key, n - 1, w.size() - 1));
    };
    if (key == "name") {
      g.name = line.substr(line.find("name") + 5);
    } else if (key == "policy") {
      need(2);
      g.policy = w[1];
      if (g.policy != "fp" && g.policy != "edf") throw InputError(where + ": policy must be fp or edf");
    } else if (key == "cpus") {
      need(2);
      g.cpus = static_cast<uint32_t>(to_int(w[1], where));
    } else if (key == "unit") {
      need(2);
      if (w[1] == "ms") {
        g.unit_ns = 1'000'000;
      } else if (w[1] == "us") {
        g.unit_ns = 1'000;
      } else if (w[1] == "ns") {
        g.unit_ns = 1;
      } else {
        throw InputError(where + ": unit must be ms, us or ns");
      }
    } else if (key == "horizon") {
      need(2);
      g.horizon = to_int(w[1], where);
    } else if (key == "task") {
      if (w.size() < 2) throw InputError(where + ": task needs a name");
      GoldenTask t;
      t.name = w[1];
      t.tenant = w[1];
      for (size_t i = 2; i < w.size(); ++i) {
        const size_t eq = w[i].find('=');
        const std::string k = w[i].substr(0, eq);
        const std::string v = eq == std::string::npos ? "" : w[i].substr(eq + 1);
        if (k == "sporadic") {
          t.sporadic = true;
        } else if (k == "C" || k == "costs") {
          t.costs = to_list(v, where);
        } else if (k == "T") {
          t.period = to_int(v, where);
        } else if (k == "D") {
          t.deadline = to_int(v, where);
        } else if (k == "phase") {
          t.phase = to_int(v, where);
        } else if (k == "prio") {
          t.priority = static_cast<uint8_t>(to_int(v, where));
        } else if (k == "cpu") {
          t.cpu = static_cast<uint32_t>(to_int(v, where));
        } else if (k == "tenant") {
          t.tenant = v;
        } else if (k == "arrivals") {
          t.arrivals = to_list(v, where);
        } else if (k == "server") {
          if (v != "sporadic" && v != "deferrable" && v != "polling" && v != "cbs") {
            throw InputError(fmt::format("{}: unknown server '{}'", where, v));
          }
          t.server = v;
        } else if (k == "budget") {
          t.budget = to_int(v, where);
        } else if (k == "sc_period") {
          t.server_period = to_int(v, where);
        } else if (k == "refills") {
          t.refills = static_cast<int>(to_int(v, where));
        } else {
          throw InputError(fmt::format("{}: unknown task field '{}'", where, k));
        }
      }
      if (t.costs.empty() || t.period <= 0) throw InputError(where + ": a task needs C and T");
      if (!t.server.empty() && (t.budget <= 0 || t.server_period <= 0)) {
        throw InputError(where + ": a server needs budget and sc_period");
      }
      g.tasks.push_back(t);
    } else if (key == "run") {
      need(6);
      Slice s;
      s.task = w[1];
      s.job = static_cast<uint64_t>(to_int(w[2], where));
      s.start = to_int(w[3], where);
      s.end = to_int(w[4], where);
      s.how = w[5];
      const auto task = std::find_if(g.tasks.begin(), g.tasks.end(), [&](const GoldenTask& t) { return t.name == s.task; });
      if (task == g.tasks.end()) throw InputError(fmt::format("{}: run of unknown task '{}'", where, s.task));
      s.cpu = task->cpu;
      g.runs.push_back(s);
    } else if (key == "miss") {
      need(4);
      g.misses.push_back(Miss{w[1], static_cast<uint64_t>(to_int(w[2], where)), to_int(w[3], where)});
    } else if (key == "exhausted") {
      need(3);
      g.exhausted.push_back(BudgetEvent{w[1], to_int(w[2], where), 0});
    } else if (key == "replenish") {
      need(4);
      g.replenished.push_back(BudgetEvent{w[1], to_int(w[2], where), to_int(w[3], where)});
    } else if (key == "response") {
      need(4);
      g.responses.push_back(Response{w[1], static_cast<uint64_t>(to_int(w[2], where)), to_int(w[3], where)});
    } else {
      throw InputError(fmt::format("{}: unknown directive '{}'", where, key));
    }
  }
  if (g.policy.empty() || g.horizon <= 0 || g.tasks.empty()) {
    throw InputError(fmt::format("{}: needs policy, horizon and at least one task", path));
  }
  std::stable_sort(g.runs.begin(), g.runs.end(), [](const Slice& a, const Slice& b) {
    return a.start != b.start ? a.start < b.start : a.cpu < b.cpu;
  });
  return g;
}

std::ostream& operator<<(std::ostream& os, const BudgetEvent& e) {
  return os << e.task << " at " << e.at << " amount " << e.amount;
}

std::vector<BudgetEvent> budget_events_of(const std::vector<TraceRecord>& records, const TraceNames& names,
                                          TraceEvent which, int64_t unit_ns) {
  std::vector<BudgetEvent> out;
  for (const TraceRecord& r : records) {
    if (r.event != which) continue;
    const int64_t amount = which == TraceEvent::kReplenish ? r.value / unit_ns : 0;
    out.push_back(BudgetEvent{names.thread(r.thread), r.time_ns / unit_ns, amount});
  }
  return out;
}

std::vector<std::string> golden_files(const std::string& dir) {
  std::vector<std::string> out;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".golden") out.push_back(e.path().string());
  }
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace edgeos::testing
