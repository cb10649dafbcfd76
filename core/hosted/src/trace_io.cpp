#include "edgeos/hosted/trace_io.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <cstring>
#include <fstream>
#include <map>
#include <string_view>

#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"

namespace edgeos {

std::string TraceNames::thread(uint32_t index) const {
  if (index < threads.size() && !threads[index].empty()) return threads[index];
  return fmt::format("thread {}", index);
}

std::string TraceNames::fwp(uint32_t index) const {
  if (index < fwps.size() && !fwps[index].empty()) return fwps[index];
  return fmt::format("fwp {}", index);
}

std::string TraceNames::cpu(uint32_t index) const {
  if (index < cpus.size() && !cpus[index].empty()) return cpus[index];
  return fmt::format("CPU {}", index);
}

// --- CSV ------------------------------------------------------------------------------------------

std::string trace_csv_header() { return "time_ns,cpu,event,fwp,thread,job,value\n"; }

namespace {

// The longest line: 20 characters for each 64-bit field, 11 for each 32-bit one, the longest event
// name, six commas and the newline; kCsvLineMax is a safe bound.
constexpr size_t kCsvLineMax = 192;
// The writer formats into a buffer of this size and hands it to the file when it is nearly full.
constexpr size_t kCsvBufferSize = size_t{1} << 20;

struct EventNames {
  std::string_view name[kNumTraceEvents + 1];  // the last: "unknown"
  EventNames() {
    for (size_t i = 0; i < kNumTraceEvents; ++i) name[i] = trace_event_name(static_cast<TraceEvent>(i));
    name[kNumTraceEvents] = "unknown";
  }
};

// Most fields of a record are small (CPU, FWP, thread, job numbers): one or two digits written
// directly, the rest by std::to_chars. The same text either way.
constexpr char kTwoDigits[] =
    "00010203040506070809101112131415161718192021222324252627282930313233343536373839"
    "40414243444546474849505152535455565758596061626364656667686970717273747576777879"
    "8081828384858687888990919293949596979899";
inline char* put_uint(char* p, uint64_t v) {
  if (v < 10) {
    *p = static_cast<char>('0' + v);
    return p + 1;
  }
  if (v < 100) {
    std::memcpy(p, kTwoDigits + 2 * v, 2);
    return p + 2;
  }
  return std::to_chars(p, p + 20, v).ptr;
}
inline char* put_int(char* p, int64_t v) {
  if (v >= 0) return put_uint(p, static_cast<uint64_t>(v));
  *p++ = '-';
  return put_uint(p, uint64_t{0} - static_cast<uint64_t>(v));
}

// One CSV line at p (at most kCsvLineMax bytes); returns its end. The same text as fmt's "{}" of
// each field: std::to_chars writes the shortest decimal form, as fmt does.
char* format_csv_line(char* p, const TraceRecord& r) {
  static const EventNames names;
  p = put_int(p, r.time_ns);
  *p++ = ',';
  if (r.cpu == kNoCpu) {
    *p++ = '-';
    *p++ = '1';
  } else {
    p = put_uint(p, r.cpu);
  }
  *p++ = ',';
  const auto e = static_cast<size_t>(r.event);
  const std::string_view event = names.name[e < kNumTraceEvents ? e : kNumTraceEvents];
  std::memcpy(p, event.data(), event.size());
  p += event.size();
  *p++ = ',';
  for (const uint32_t index : {r.fwp, r.thread}) {
    if (index == kNoIndex) {
      *p++ = '-';
      *p++ = '1';
    } else {
      p = put_uint(p, index);
    }
    *p++ = ',';
  }
  p = put_uint(p, r.job);
  *p++ = ',';
  p = put_int(p, r.value);
  *p++ = '\n';
  return p;
}

}  // namespace

void append_csv_line(std::string& out, const TraceRecord& r) {
  char line[kCsvLineMax];
  out.append(line, format_csv_line(line, r));
}

CsvTraceWriter::CsvTraceWriter(std::string path)
    : file_(std::make_unique<AtomicFile>(std::move(path))), buf_(std::make_unique<char[]>(kCsvBufferSize)) {
  const std::string header = trace_csv_header();
  std::memcpy(buf_.get(), header.data(), header.size());
  used_ = header.size();
}

CsvTraceWriter::~CsvTraceWriter() = default;

void CsvTraceWriter::write(const TraceRecord& r) {
  used_ = static_cast<size_t>(format_csv_line(buf_.get() + used_, r) - buf_.get());
  if (used_ > kCsvBufferSize - kCsvLineMax) {
    file_->write(std::string_view(buf_.get(), used_));
    used_ = 0;
  }
}

uint64_t CsvTraceWriter::bytes() const { return file_->bytes() + used_; }

void CsvTraceWriter::commit() {
  file_->write(std::string_view(buf_.get(), used_));
  used_ = 0;
  file_->commit();
}

void write_trace_csv(const std::string& path, const std::vector<TraceRecord>& records) {
  CsvTraceWriter w(path);
  for (const TraceRecord& r : records) w.write(r);
  w.commit();
}

namespace {

template <class T>
bool parse_int(std::string_view s, T* out) {
  const auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), *out);
  return ec == std::errc() && ptr == s.data() + s.size();
}

}  // namespace

std::vector<TraceRecord> read_trace_csv(const std::string& path) {
  std::ifstream in(path);
  if (!in) throw InputError(fmt::format("{}: cannot open", path));
  std::string line;
  if (!std::getline(in, line) || line + "\n" != trace_csv_header()) {
    throw InputError(fmt::format("{}:1: expected the header '{}'", path,
                                 std::string_view(trace_csv_header()).substr(0, trace_csv_header().size() - 1)));
  }
  static constexpr const char* kFields[] = {"time_ns", "cpu", "event", "fwp", "thread", "job", "value"};
  std::vector<TraceRecord> records;
  size_t line_no = 1;
  while (std::getline(in, line)) {
    ++line_no;
    if (line.empty()) continue;
    std::string_view f[7];
    size_t start = 0;
    size_t n = 0;
    for (size_t i = 0; i <= line.size() && n < 7; ++i) {
      if (i == line.size() || line[i] == ',') {
        f[n++] = std::string_view(line).substr(start, i - start);
        start = i + 1;
      }
    }
    if (n != 7 || start <= line.size()) {
      throw InputError(fmt::format("{}:{}: expected 7 comma-separated fields", path, line_no));
    }
    auto bad = [&](int field) {
      return InputError(fmt::format("{}:{}: field '{}': invalid value '{}'", path, line_no, kFields[field], f[field]));
    };
    TraceRecord r;
    int64_t cpu = 0, fwp = 0, thread = 0;
    if (!parse_int(f[0], &r.time_ns)) throw bad(0);
    if (!parse_int(f[1], &cpu) || cpu < -1 || cpu >= kNoCpu) throw bad(1);
    if (!trace_event_from_name(f[2].data(), f[2].size(), &r.event)) throw bad(2);
    if (!parse_int(f[3], &fwp) || fwp < -1 || fwp >= int64_t{kNoIndex}) throw bad(3);
    if (!parse_int(f[4], &thread) || thread < -1 || thread >= int64_t{kNoIndex}) throw bad(4);
    if (!parse_int(f[5], &r.job)) throw bad(5);
    if (!parse_int(f[6], &r.value)) throw bad(6);
    r.cpu = cpu < 0 ? kNoCpu : static_cast<uint16_t>(cpu);
    r.fwp = fwp < 0 ? kNoIndex : static_cast<uint32_t>(fwp);
    r.thread = thread < 0 ? kNoIndex : static_cast<uint32_t>(thread);
    records.push_back(r);
  }
  return records;
}

// --- Chrome / Perfetto trace-event JSON ------------------------------------------------------------

namespace {

// Trace-event timestamps are microseconds; print nanoseconds exactly as a decimal.
std::string micros(int64_t ns) {
  if (ns < 0) return fmt::format("-{}", micros(-ns));
  return fmt::format("{}.{:03}", ns / 1000, ns % 1000);
}

constexpr int kPid = 1;

std::string json_escape(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (const char ch : s) {
    switch (ch) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\t': out += "\\t"; break;
      default:
        if (static_cast<unsigned char>(ch) < 0x20) {
          out += fmt::format("\\u{:04x}", static_cast<unsigned>(ch));
        } else {
          out += ch;
        }
    }
  }
  return out;
}

}  // namespace

PerfettoOutput::PerfettoOutput(std::string path) {
  if (!path.empty()) file_ = std::make_unique<AtomicFile>(std::move(path));
  // Room for the 1 MiB flush_if_large() lets build up and the record that crosses it: the buffer
  // is never reallocated (and copied) on the way, and its pages are touched once.
  out_.reserve((1 << 20) + (64 << 10));
}

PerfettoOutput::~PerfettoOutput() = default;

void PerfettoOutput::flush_if_large() {
  if (file_ != nullptr && out_.size() > (1 << 20)) {
    file_->write(out_);
    out_.clear();
  }
}

uint64_t PerfettoOutput::bytes() const { return (file_ != nullptr ? file_->bytes() : 0) + out_.size(); }

PerfettoOutput::SliceEffect PerfettoOutput::slice_effect(TraceEvent e) {
  switch (e) {
    case TraceEvent::kStart:
    case TraceEvent::kResume:
      return SliceEffect::kOpens;
    case TraceEvent::kPreempt:
    case TraceEvent::kComplete:
    case TraceEvent::kBlock:
    case TraceEvent::kThreadExit:
    case TraceEvent::kBudgetExhausted:
      return SliceEffect::kCloses;
    default:
      return SliceEffect::kNone;
  }
}

const char* PerfettoOutput::instant_name(TraceEvent e) {
  switch (e) {
    case TraceEvent::kBudgetExhausted:
      return "budget exhausted";
    case TraceEvent::kRelease:
      return "release";
    case TraceEvent::kDeadlineMiss:
      return "DEADLINE MISS";
    default:
      return slice_effect(e) == SliceEffect::kNone ? trace_event_name(e) : nullptr;
  }
}

void PerfettoOutput::commit(Instant end) {
  finish(end);
  if (file_ == nullptr) return;
  file_->write(out_);
  out_.clear();
  file_->commit();
}

PerfettoWriter::PerfettoWriter(std::string path, TraceNames names, uint32_t num_cpus)
    : PerfettoOutput(std::move(path)), names_(std::move(names)), global_tid_(num_cpus) {
  out_ += "{\"displayTimeUnit\":\"ns\",\"traceEvents\":[\n";
  sep();
  fmt::format_to(std::back_inserter(out_), R"({{"name":"process_name","ph":"M","pid":{},"args":{{"name":"{}"}}}})", kPid,
                 json_escape(names_.run.empty() ? "edgeos" : names_.run));
  // One track (tid) per CPU; records not tied to a CPU (FWP life cycle) go to a track of their own.
  for (uint32_t c = 0; c < num_cpus; ++c) {
    sep();
    fmt::format_to(std::back_inserter(out_), R"({{"name":"thread_name","ph":"M","pid":{},"tid":{},"args":{{"name":"{}"}}}})",
                   kPid, c, json_escape(names_.cpu(c)));
    sep();
    fmt::format_to(std::back_inserter(out_),
                   R"({{"name":"thread_sort_index","ph":"M","pid":{},"tid":{},"args":{{"sort_index":{}}}}})", kPid, c, c);
  }
}

PerfettoWriter::~PerfettoWriter() = default;

void PerfettoWriter::sep() {
  if (!first_) out_ += ",\n";
  first_ = false;
}

std::string PerfettoWriter::job_name(uint32_t fwp, uint32_t thread, uint64_t job) const {
  return json_escape(fmt::format("{}/{} #{}", names_.fwp(fwp), names_.thread(thread), job));
}

void PerfettoWriter::close_slice(uint32_t cpu, const Slice& s, int64_t end_ns) {
  sep();
  fmt::format_to(std::back_inserter(out_),
                 R"({{"name":"{}","cat":"job","ph":"X","ts":{},"dur":{},"pid":{},"tid":{},)"
                 R"("args":{{"fwp":{},"thread":{},"job":{}}}}})",
                 job_name(s.fwp, s.thread, s.job), micros(s.start_ns), micros(end_ns - s.start_ns), kPid, cpu, s.fwp,
                 s.thread, s.job);
}

void PerfettoWriter::instant(uint32_t tid, const TraceRecord& r, std::string_view what, std::string_view scope) {
  sep();
  const std::string label = r.thread == kNoIndex ? fmt::format("{} {}", what, names_.fwp(r.fwp))
                                                 : fmt::format("{} {}", what, job_name(r.fwp, r.thread, r.job));
  fmt::format_to(std::back_inserter(out_),
                 R"({{"name":"{}","cat":"{}","ph":"i","s":"{}","ts":{},"pid":{},"tid":{},"args":{{"value":{}}}}})",
                 json_escape(label), trace_event_name(r.event), scope, micros(r.time_ns), kPid, tid, r.value);
}

void PerfettoWriter::write(const TraceRecord& r) {
  if (r.cpu == kNoCpu) {
    if (!global_named_) {
      global_named_ = true;
      sep();
      fmt::format_to(std::back_inserter(out_),
                     R"({{"name":"thread_name","ph":"M","pid":{},"tid":{},"args":{{"name":"FWP life cycle"}}}})", kPid,
                     global_tid_);
    }
    instant(global_tid_, r, trace_event_name(r.event), "t");
    flush_if_large();
    return;
  }
  switch (slice_effect(r.event)) {
    case SliceEffect::kOpens:
      open_[r.cpu] = Slice{r.time_ns, r.fwp, r.thread, r.job};
      break;
    case SliceEffect::kCloses:
      if (auto it = open_.find(r.cpu); it != open_.end() && it->second.thread == r.thread) {
        close_slice(r.cpu, it->second, r.time_ns);
        open_.erase(it);
      }
      break;
    case SliceEffect::kNone:
      break;
  }
  if (const char* name = instant_name(r.event)) instant(r.cpu, r, name, r.event == TraceEvent::kDeadlineMiss ? "p" : "t");
  flush_if_large();
}

void PerfettoWriter::finish(Instant end) {
  for (const auto& [cpu, s] : open_) close_slice(cpu, s, end.ns());
  open_.clear();
  out_ += "\n]}\n";
}

std::string perfetto_json(const std::vector<TraceRecord>& records, const TraceNames& names, Instant end) {
  uint32_t num_cpus = 0;
  for (const TraceRecord& r : records) {
    if (r.cpu != kNoCpu) num_cpus = std::max<uint32_t>(num_cpus, r.cpu + 1u);
  }
  PerfettoWriter w("", names, num_cpus);
  for (const TraceRecord& r : records) w.write(r);
  w.finish(end);
  return w.text();
}

void write_perfetto_json(const std::string& path, const std::vector<TraceRecord>& records,
                         const TraceNames& names, Instant end) {
  write_file_atomically(path, perfetto_json(records, names, end));
}

}  // namespace edgeos
