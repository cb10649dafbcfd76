#include "schedule.hpp"

#include <algorithm>
#include <map>

namespace edgeos::testing {

std::ostream& operator<<(std::ostream& os, const Slice& s) {
  return os << "run " << s.task << " " << s.job << " " << s.start << " " << s.end << " " << s.how
            << " (cpu " << s.cpu << ")";
}

std::ostream& operator<<(std::ostream& os, const Response& r) {
  return os << "response " << r.task << " " << r.job << " " << r.value;
}

std::ostream& operator<<(std::ostream& os, const Miss& m) {
  return os << "miss " << m.task << " " << m.job << " " << m.at;
}

std::vector<Slice> slices_of(const std::vector<TraceRecord>& records, const TraceNames& names, int64_t unit_ns,
                             int64_t horizon_ns) {
  std::vector<Slice> out;
  std::map<uint32_t, Slice> open;
  for (const TraceRecord& r : records) {
    if (r.cpu == kNoCpu) continue;
    switch (r.event) {
      case TraceEvent::kStart:
      case TraceEvent::kResume: {
        Slice s;
        s.task = names.thread(r.thread);
        s.job = r.job;
        s.cpu = r.cpu;
        s.start = r.time_ns / unit_ns;
        open[r.cpu] = s;
        break;
      }
      case TraceEvent::kComplete:
      case TraceEvent::kPreempt:
      case TraceEvent::kBlock:
      case TraceEvent::kThreadExit:
      case TraceEvent::kBudgetExhausted: {
        auto it = open.find(r.cpu);
        if (it == open.end() || it->second.task != names.thread(r.thread)) break;
        it->second.end = r.time_ns / unit_ns;
        it->second.how = trace_event_name(r.event);
        out.push_back(it->second);
        open.erase(it);
        break;
      }
      default:
        break;
    }
  }
  for (auto& [cpu, s] : open) {
    s.end = horizon_ns / unit_ns;
    s.how = "end";
    out.push_back(s);
  }
  std::stable_sort(out.begin(), out.end(), [](const Slice& a, const Slice& b) {
    return a.start != b.start ? a.start < b.start : a.cpu < b.cpu;
  });
  return out;
}

std::vector<Miss> misses_of(const std::vector<TraceRecord>& records, const TraceNames& names, int64_t unit_ns) {
  std::vector<Miss> out;
  for (const TraceRecord& r : records) {
    if (r.event == TraceEvent::kDeadlineMiss) out.push_back(Miss{names.thread(r.thread), r.job, r.time_ns / unit_ns});
  }
  return out;
}

std::vector<Response> responses_of(const std::vector<TraceRecord>& records, const TraceNames& names, int64_t unit_ns) {
  std::vector<Response> out;
  for (const TraceRecord& r : records) {
    if (r.event == TraceEvent::kComplete) out.push_back(Response{names.thread(r.thread), r.job, r.value / unit_ns});
  }
  return out;
}

}  // namespace edgeos::testing
