// Trace readers (CSV, JSON Lines, Azure Functions, pcap) and writers. See arrivals.hpp and
// docs/traces.md for the formats.
#include <fmt/format.h>
#include <pcap/pcap.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <nlohmann/json.hpp>

#include "edgeos/hosted/atomic_file.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/arrivals.hpp"
#include "edgeos/workloads/generators.hpp"

namespace edgeos::arrivals {

namespace {

// "ns", "us", "ms", "s" -> nanoseconds per unit; 0 if unknown.
double unit_ns(std::string_view u) {
  if (u == "ns") return 1;
  if (u == "us") return 1e3;
  if (u == "ms") return 1e6;
  if (u == "s") return 1e9;
  return 0;
}

// Times, costs and deadlines are signed 64-bit nanoseconds: at most 2^63 - 1 (about 292 years).
constexpr const char* kRangeNote = "at most 2^63 - 1 ns, about 292 years";

enum class Scaled { kOk, kMalformed, kOutOfRange };

// Nanoseconds from a non-negative number of units of `scale` ns, or why not.
Scaled scale_double(double v, double scale, int64_t* ns) {
  if (!std::isfinite(v) || v < 0) return Scaled::kMalformed;
  const double x = v * scale;
  if (!(x < 0x1p63)) return Scaled::kOutOfRange;  // 2^63 is exact in a double; anything below rounds into range
  *ns = std::llround(x);
  return Scaled::kOk;
}

// Parses a non-negative decimal into nanoseconds given the unit's size.
Scaled parse_scaled(std::string_view s, double scale, int64_t* ns) {
  if (s.empty()) return Scaled::kMalformed;
  const char* b = s.data();
  const char* e = s.data() + s.size();
  if (*b == '-') return Scaled::kMalformed;
  uint64_t whole = 0;
  auto [p, ec] = std::from_chars(b, e, whole);
  if (ec == std::errc() && p == e) {
    // Whole numbers scale exactly (every unit is a whole number of nanoseconds).
    if (whole > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(static_cast<int64_t>(whole), static_cast<int64_t>(scale), ns)) {
      return Scaled::kOutOfRange;
    }
    return Scaled::kOk;
  }
  double v = 0;
  auto [q, ec2] = std::from_chars(b, e, v);
  if (q != e) return Scaled::kMalformed;
  if (ec2 == std::errc::result_out_of_range) {  // beyond a double, or below its smallest: 1e400, 1e-400
    return s.find_first_of("-") == std::string_view::npos ? Scaled::kOutOfRange : Scaled::kMalformed;
  }
  if (ec2 != std::errc()) return Scaled::kMalformed;
  return scale_double(v, scale, ns);
}

// Reads a file line by line through a large buffer: the trace replay path must sustain millions
// of records per second without allocating per line.
class LineReader {
 public:
  explicit LineReader(const std::string& path) : path_(path), f_(std::fopen(path.c_str(), "rb")) {
    if (f_ == nullptr) throw InputError(fmt::format("{}: cannot open trace: {}", path, std::strerror(errno)));
    // 1 MiB, or less for a smaller file: zeroing a buffer the file cannot fill costs more than
    // reading a small trace (next() grows it for a longer line, whatever the file's size).
    std::error_code ec;
    const uintmax_t size = std::filesystem::file_size(path, ec);
    buf_.resize(!ec && size < (1u << 20) ? std::max<size_t>(static_cast<size_t>(size) + 1, 4096) : size_t{1} << 20);
  }
  ~LineReader() {
    if (f_ != nullptr) std::fclose(f_);
  }
  LineReader(const LineReader&) = delete;
  LineReader& operator=(const LineReader&) = delete;

  // The next line without its newline; false at the end of the file.
  bool next(std::string_view* line) {
    for (;;) {
      const char* start = buf_.data() + pos_;
      const char* nl = static_cast<const char*>(std::memchr(start, '\n', end_ - pos_));
      if (nl != nullptr) {
        *line = std::string_view(start, static_cast<size_t>(nl - start));
        pos_ = static_cast<size_t>(nl - buf_.data()) + 1;
        ++line_no_;
        if (!line->empty() && line->back() == '\r') line->remove_suffix(1);
        return true;
      }
      if (eof_) {
        if (pos_ == end_) return false;
        *line = std::string_view(start, end_ - pos_);  // a last line without a newline
        pos_ = end_;
        ++line_no_;
        return true;
      }
      // Move the partial line to the front and read more.
      std::memmove(buf_.data(), start, end_ - pos_);
      end_ -= pos_;
      pos_ = 0;
      if (end_ == buf_.size()) buf_.resize(buf_.size() * 2);  // a line longer than the buffer
      const size_t n = std::fread(buf_.data() + end_, 1, buf_.size() - end_, f_);
      if (n == 0) {
        if (std::ferror(f_)) throw InputError(fmt::format("{}: read error", path_));
        eof_ = true;
      }
      end_ += n;
    }
  }
  size_t line() const { return line_no_; }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::FILE* f_;
  std::vector<char> buf_;
  size_t pos_ = 0, end_ = 0;
  bool eof_ = false;
  size_t line_no_ = 0;
};

// Maps a record's tenant to a target, or says why not.
uint32_t map_tenant(const Mapping& m, std::string_view tenant, const LineReader& in) {
  if (m.all) return *m.all;
  const auto it = m.by_tenant.find(std::string(tenant));
  if (it == m.by_tenant.end()) {
    std::vector<std::string> known;
    for (const auto& [k, v] : m.by_tenant) known.push_back(k);
    throw InputError(fmt::format("{}:{}: tenant \"{}\" is not mapped to a thread (workload \"targets\": {})", in.path(),
                                 in.line(), tenant, fmt::join(known, ", ")));
  }
  return it->second;
}

class CsvTrace final : public Source {
 public:
  CsvTrace(const std::string& path, Mapping mapping, Instant start, Instant stop)
      : in_(path), mapping_(std::move(mapping)), start_(start), stop_(stop) {
    std::string_view line;
    while (in_.next(&line)) {
      if (line.empty() || line[0] == '#') continue;
      parse_header(line);
      return;
    }
    throw InputError(fmt::format("{}: empty trace (no header line)", path));
  }

  bool next(Arrival& a) override {
    std::string_view line;
    while (in_.next(&line)) {
      if (line.empty() || line[0] == '#') continue;
      std::string_view f[8];
      size_t n = 0;
      size_t s = 0;
      for (size_t i = 0; i <= line.size(); ++i) {
        if (i == line.size() || line[i] == ',') {
          if (n == 8) fail(fmt::format("expected {} fields, got more", fields_));
          f[n++] = line.substr(s, i - s);
          s = i + 1;
        }
      }
      if (n != fields_) fail(fmt::format("expected {} fields, got {} (truncated or malformed line)", fields_, n));
      int64_t t = 0;
      scaled(parse_scaled(f[time_], time_scale_, &t), time_name_, f[time_]);
      a = Arrival{};
      a.time = start_ + Duration::nanoseconds(t);
      if (a.time < last_) {
        fail(fmt::format("unsorted trace: time {} is before the previous record's; sort it by time", f[time_]));
      }
      last_ = a.time;
      if (a.time >= stop_) return false;
      a.target = map_tenant(mapping_, f[tenant_], in_);
      if (kind_ >= 0) a.kind = kind_index(f[kind_]);
      if (size_ >= 0) {
        uint32_t v = 0;
        const auto [p, ec] = std::from_chars(f[size_].data(), f[size_].data() + f[size_].size(), v);
        if (ec != std::errc() || p != f[size_].data() + f[size_].size()) field_error("size_bytes", f[size_]);
        a.size = v;
      }
      int64_t v = 0;
      if (cost_ >= 0) {
        scaled(parse_scaled(f[cost_], cost_scale_, &v), cost_name_, f[cost_]);
        a.cost = Duration::nanoseconds(v);
      }
      if (deadline_ >= 0) {
        scaled(parse_scaled(f[deadline_], deadline_scale_, &v), deadline_name_, f[deadline_]);
        a.deadline = Duration::nanoseconds(v);
      }
      return true;
    }
    return false;
  }
  std::vector<std::string> kinds() const override { return kinds_; }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw InputError(fmt::format("{}:{}: {}", in_.path(), in_.line(), why));
  }
  static std::string shown(std::string_view value) {
    std::string out(value.substr(0, 40));
    for (char& c : out) {
      if (static_cast<unsigned char>(c) < 0x20 || static_cast<unsigned char>(c) > 0x7e) c = '?';
    }
    return out;
  }
  [[noreturn]] void field_error(std::string_view name, std::string_view value) const {
    fail(fmt::format("field '{}': invalid value '{}'", name, shown(value)));
  }
  void scaled(Scaled result, std::string_view name, std::string_view value) const {
    if (result == Scaled::kMalformed) field_error(name, value);
    if (result == Scaled::kOutOfRange) fail(fmt::format("field '{}': value '{}' is out of range ({})", name, shown(value), kRangeNote));
  }
  uint16_t kind_index(std::string_view k) {
    for (size_t i = 0; i < kinds_.size(); ++i) {
      if (kinds_[i] == k) return static_cast<uint16_t>(i);
    }
    if (kinds_.size() >= 65535) fail("more than 65535 distinct kinds");
    kinds_.emplace_back(k);
    return static_cast<uint16_t>(kinds_.size() - 1);
  }
  void parse_header(std::string_view line) {
    size_t s = 0;
    int idx = 0;
    for (size_t i = 0; i <= line.size(); ++i) {
      if (i != line.size() && line[i] != ',') continue;
      const std::string_view col = line.substr(s, i - s);
      s = i + 1;
      auto unit_of = [&](std::string_view prefix, int* index, double* scale, std::string* name) {
        if (col.substr(0, prefix.size()) != prefix) return false;
        *scale = unit_ns(col.substr(prefix.size()));
        if (*scale == 0) fail(fmt::format("column '{}': unknown unit (use {}ns, {}us, {}ms or {}s)", col, prefix, prefix, prefix, prefix));
        *index = idx;
        *name = std::string(col);
        return true;
      };
      if (unit_of("time_", &time_, &time_scale_, &time_name_) || unit_of("cost_", &cost_, &cost_scale_, &cost_name_) ||
          unit_of("deadline_", &deadline_, &deadline_scale_, &deadline_name_)) {
      } else if (col == "tenant") {
        tenant_ = idx;
      } else if (col == "kind") {
        kind_ = idx;
      } else if (col == "size_bytes") {
        size_ = idx;
      } else {
        fail(fmt::format("unknown column '{}' (columns: time_<unit>, tenant, kind, size_bytes, cost_<unit>, deadline_<unit>; "
                         "a unit is ns, us, ms or s)",
                         col));
      }
      ++idx;
    }
    if (time_ < 0) fail("missing column time_<unit> (e.g. time_us)");
    if (tenant_ < 0) fail("missing column tenant");
    if (idx > 8) fail("too many columns");
    fields_ = static_cast<size_t>(idx);
  }

  LineReader in_;
  Mapping mapping_;
  Instant start_, stop_, last_ = Instant::epoch();
  size_t fields_ = 0;
  int time_ = -1, tenant_ = -1, kind_ = -1, size_ = -1, cost_ = -1, deadline_ = -1;
  double time_scale_ = 0, cost_scale_ = 0, deadline_scale_ = 0;
  std::string time_name_, cost_name_, deadline_name_;
  std::vector<std::string> kinds_ = {""};
};

class JsonlTrace final : public Source {
 public:
  JsonlTrace(const std::string& path, Mapping mapping, Instant start, Instant stop)
      : in_(path), mapping_(std::move(mapping)), start_(start), stop_(stop) {
    std::string_view line;
    if (!in_.next(&line)) throw InputError(fmt::format("{}: empty trace (no header line)", path));
    const nlohmann::json h = parse(line);
    // Fields are compared and type-checked here, not read with json::value(), which throws a
    // json exception (not an InputError) for a field of another type (found by tests/fuzz).
    if (!h.is_object() || !h.contains("format") || h["format"] != "edgeos-arrivals") {
      fail("the first line must be the header {\"format\": \"edgeos-arrivals\", \"version\": 1, \"units\": {...}}");
    }
    if (!h.contains("version") || h["version"] != 1) fail("unsupported version (this reader knows version 1)");
    const nlohmann::json units = h.contains("units") ? h["units"] : nlohmann::json::object();
    if (!units.is_object()) fail("units: expected an object, e.g. {\"time\": \"us\"}");
    auto scale = [&](const char* key, double* out) {
      if (units.contains(key) && !units[key].is_string()) fail(fmt::format("units.{}: expected a unit (ns, us, ms or s)", key));
      const std::string u = units.contains(key) ? units[key].get<std::string>() : "ns";
      *out = unit_ns(u);
      if (*out == 0) fail(fmt::format("units.{}: unknown unit \"{}\" (ns, us, ms or s)", key, u));
    };
    scale("time", &time_scale_);
    scale("cost", &cost_scale_);
    scale("deadline", &deadline_scale_);
  }

  bool next(Arrival& a) override {
    std::string_view line;
    while (in_.next(&line)) {
      if (line.empty()) continue;
      const nlohmann::json r = parse(line);
      if (!r.is_object()) fail("expected a JSON object");
      a = Arrival{};
      a.time = start_ + Duration::nanoseconds(number(r, "time", time_scale_, true));
      if (a.time < last_) fail("unsorted trace: a record is earlier than the previous one; sort it by time");
      last_ = a.time;
      if (a.time >= stop_) return false;
      if (!r.contains("tenant") || !r["tenant"].is_string()) fail("field 'tenant': missing or not a string");
      a.target = map_tenant(mapping_, r["tenant"].get<std::string>(), in_);
      if (r.contains("kind")) {
        if (!r["kind"].is_string()) fail("field 'kind': not a string");
        a.kind = kind_index(r["kind"].get<std::string>());
      }
      if (r.contains("size")) {
        if (!r["size"].is_number_unsigned() || r["size"].get<uint64_t>() > UINT32_MAX) {
          fail("field 'size': expected a non-negative integer (bytes) below 2^32");
        }
        a.size = r["size"].get<uint32_t>();
      }
      a.cost = Duration::nanoseconds(number(r, "cost", cost_scale_, false));
      a.deadline = Duration::nanoseconds(number(r, "deadline", deadline_scale_, false));
      for (auto it = r.begin(); it != r.end(); ++it) {
        if (it.key() != "time" && it.key() != "tenant" && it.key() != "kind" && it.key() != "size" && it.key() != "cost" &&
            it.key() != "deadline") {
          fail(fmt::format("unknown field '{}'", it.key()));
        }
      }
      return true;
    }
    return false;
  }
  std::vector<std::string> kinds() const override { return kinds_; }

 private:
  [[noreturn]] void fail(const std::string& why) const {
    throw InputError(fmt::format("{}:{}: {}", in_.path(), in_.line(), why));
  }
  nlohmann::json parse(std::string_view line) const {
    try {
      return nlohmann::json::parse(line);
    } catch (const nlohmann::json::exception& e) {
      fail(fmt::format("not valid JSON ({})", e.what()));
    }
  }
  int64_t number(const nlohmann::json& r, const char* key, double scale, bool required) const {
    if (!r.contains(key)) {
      if (required) fail(fmt::format("field '{}': missing", key));
      return 0;
    }
    const nlohmann::json& v = r[key];
    if (!v.is_number() || (v.is_number_integer() && !v.is_number_unsigned() && v.get<int64_t>() < 0)) {
      fail(fmt::format("field '{}': expected a non-negative number", key));
    }
    int64_t ns = 0;
    Scaled result = Scaled::kOk;
    if (v.is_number_unsigned()) {
      // Integers scale exactly (a double would round 2^63 - 1 up, out of range).
      const uint64_t u = v.get<uint64_t>();
      if (u > static_cast<uint64_t>(INT64_MAX) || __builtin_mul_overflow(static_cast<int64_t>(u), static_cast<int64_t>(scale), &ns)) {
        result = Scaled::kOutOfRange;
      }
    } else {
      result = scale_double(v.get<double>(), scale, &ns);
    }
    if (result == Scaled::kMalformed) fail(fmt::format("field '{}': expected a non-negative number", key));
    if (result == Scaled::kOutOfRange) fail(fmt::format("field '{}': {} is out of range ({})", key, v.dump(), kRangeNote));
    return ns;
  }
  uint16_t kind_index(const std::string& k) {
    for (size_t i = 0; i < kinds_.size(); ++i) {
      if (kinds_[i] == k) return static_cast<uint16_t>(i);
    }
    if (kinds_.size() >= 65535) fail("more than 65535 distinct kinds");
    kinds_.push_back(k);
    return static_cast<uint16_t>(kinds_.size() - 1);
  }

  LineReader in_;
  Mapping mapping_;
  Instant start_, stop_, last_ = Instant::epoch();
  double time_scale_ = 1, cost_scale_ = 1, deadline_scale_ = 1;
  std::vector<std::string> kinds_ = {""};
};

class AzureTrace final : public Source {
 public:
  AzureTrace(const std::string& path, std::vector<uint32_t> targets, uint32_t from, uint32_t to, double scale, Rng rng,
             Instant start, Instant stop, CostFn cost)
      : rng_(rng), from_(from), start_(start), stop_(stop), cost_(std::move(cost)), minutes_(to - from) {
    LineReader in(path);
    std::string_view line;
    if (!in.next(&line)) throw InputError(fmt::format("{}: empty file", path));
    // HashOwner,HashApp,HashFunction,Trigger,1,2,...,1440
    std::vector<std::string_view> head = split(line);
    size_t first = 0;
    while (first < head.size() && head[first] != "1") ++first;
    if (first == head.size() || head.size() - first != 1440) {
      throw InputError(fmt::format("{}:1: not an Azure Functions invocation file (expected columns HashOwner, HashApp, "
                                   "HashFunction, Trigger, then 1 to 1440)",
                                   path));
    }
    // The minutes the run reaches (each lasts 60 s from `start`) and their arrivals so far.
    const uint64_t reached =
        stop == Instant::never() ? minutes_.size()
                                 : std::min<uint64_t>(minutes_.size(), stop <= start ? 0 : ((stop - start).ns() + 59'999'999'999) / 60'000'000'000);
    std::vector<uint64_t> totals(minutes_.size(), 0);
    auto too_many = [&](uint32_t m) {
      throw InputError(fmt::format("{}:{}: minute {}: with scale {} the minute's invocations make more than {} arrivals, "
                                   "the most one minute of an azure workload may hold (docs/traces.md); lower \"scale\" "
                                   "or replay fewer functions",
                                   path, in.line(), m + 1, scale, kMaxAzureArrivalsPerMinute));
    };
    size_t row = 0;
    while (in.next(&line)) {
      if (line.empty()) continue;
      const std::vector<std::string_view> f = split(line);
      if (f.size() != head.size()) {
        throw InputError(fmt::format("{}:{}: expected {} fields, got {}", path, in.line(), head.size(), f.size()));
      }
      const uint32_t target = targets[row++ % targets.size()];
      for (uint32_t m = from; m < to; ++m) {
        const std::string_view cell = f[first + m];
        double c = 0;
        const auto [p, ec] = std::from_chars(cell.data(), cell.data() + cell.size(), c);
        if (ec != std::errc() || p != cell.data() + cell.size() || c < 0 || !std::isfinite(c)) {
          throw InputError(fmt::format("{}:{}: minute {}: invalid count '{}'", path, in.line(), m + 1, cell));
        }
        if (m - from >= reached) continue;  // after the run's end: never replayed
        const double x = c * scale;
        if (x > static_cast<double>(kMaxAzureArrivalsPerMinute)) too_many(m);
        const uint64_t n = static_cast<uint64_t>(std::llround(x));
        if (n == 0) continue;
        if ((totals[m - from] += n) > kMaxAzureArrivalsPerMinute) too_many(m);
        minutes_[m - from].push_back({target, n});
      }
    }
  }

  bool next(Arrival& a) override {
    while (pos_ == buffer_.size()) {
      if (minute_ >= minutes_.size()) return false;
      // Every invocation of this minute, at uniformly random instants of it, in time order.
      buffer_.clear();
      pos_ = 0;
      const Instant base = start_ + Duration::seconds(60) * static_cast<int64_t>(minute_);
      for (const auto& [target, count] : minutes_[minute_]) {
        for (uint64_t i = 0; i < count; ++i) {
          buffer_.push_back({base + Duration::nanoseconds(rng_.between(0, 60'000'000'000 - 1)), target});
        }
      }
      std::sort(buffer_.begin(), buffer_.end());
      std::vector<std::pair<uint32_t, uint64_t>>().swap(minutes_[minute_]);
      ++minute_;
    }
    const auto [t, target] = buffer_[pos_++];
    if (t >= stop_) return false;
    a = Arrival{};
    a.time = t;
    a.target = target;
    if (cost_) a.cost = cost_(rng_, 0);
    return true;
  }

 private:
  static std::vector<std::string_view> split(std::string_view line) {
    std::vector<std::string_view> out;
    size_t s = 0;
    for (size_t i = 0; i <= line.size(); ++i) {
      if (i == line.size() || line[i] == ',') {
        out.push_back(line.substr(s, i - s));
        s = i + 1;
      }
    }
    return out;
  }

  Rng rng_;
  uint32_t from_;
  Instant start_, stop_;
  CostFn cost_;
  std::vector<std::vector<std::pair<uint32_t, uint64_t>>> minutes_;  // per minute: (target, count), non-zero only
  size_t minute_ = 0;
  std::vector<std::pair<Instant, uint32_t>> buffer_;
  size_t pos_ = 0;
};

class PcapTrace final : public Source {
 public:
  PcapTrace(const std::string& path, std::map<uint16_t, uint32_t> ports, std::optional<uint32_t> all, Instant start,
            Instant stop)
      : path_(path), ports_(std::move(ports)), all_(all), start_(start), stop_(stop) {
    char err[PCAP_ERRBUF_SIZE] = {};
    p_ = pcap_open_offline_with_tstamp_precision(path.c_str(), PCAP_TSTAMP_PRECISION_NANO, err);
    if (p_ == nullptr) throw InputError(fmt::format("{}: not a readable pcap file: {}", path, err));
    link_ = pcap_datalink(p_);
    if (link_ != DLT_EN10MB && link_ != DLT_RAW && link_ != DLT_IPV4 && link_ != DLT_IPV6 && link_ != DLT_LINUX_SLL) {
      pcap_close(p_);
      throw InputError(fmt::format("{}: link type {} is not supported (Ethernet, raw IP, Linux cooked)", path, link_));
    }
  }
  ~PcapTrace() override { pcap_close(p_); }

  bool next(Arrival& a) override {
    pcap_pkthdr* h = nullptr;
    const u_char* data = nullptr;
    for (;;) {
      const int r = pcap_next_ex(p_, &h, &data);
      if (r == PCAP_ERROR_BREAK) return false;
      if (r != 1) throw InputError(fmt::format("{}: packet {}: {}", path_, packets_ + 1, pcap_geterr(p_)));
      ++packets_;
      // Nanosecond precision. A pcapng timestamp has 64 bits: seconds * 10^9 may not fit (found
      // by tests/fuzz).
      int64_t ts = 0;
      if (h->ts.tv_sec < 0 || h->ts.tv_usec < 0 ||
          __builtin_mul_overflow(static_cast<int64_t>(h->ts.tv_sec), int64_t{1'000'000'000}, &ts) ||
          __builtin_add_overflow(ts, static_cast<int64_t>(h->ts.tv_usec), &ts)) {
        throw InputError(fmt::format("{}: packet {}: timestamp out of range", path_, packets_));
      }
      if (first_ < 0) first_ = ts;
      if (ts < last_) throw InputError(fmt::format("{}: packet {} is earlier than the one before", path_, packets_));
      last_ = ts;
      uint32_t target = 0;
      if (all_) {
        target = *all_;
      } else {
        const int port = dst_port(data, h->caplen);
        const auto it = port < 0 ? ports_.end() : ports_.find(static_cast<uint16_t>(port));
        if (it == ports_.end()) continue;  // not addressed to a mapped port
        target = it->second;
      }
      a = Arrival{};
      a.time = start_ + Duration::nanoseconds(ts - first_);
      if (a.time >= stop_) return false;
      a.target = target;
      a.size = h->len;
      return true;
    }
  }

 private:
  // The UDP or TCP destination port of a packet, or -1.
  int dst_port(const u_char* d, uint32_t len) const {
    uint32_t off = 0;
    int ethertype = 0;
    if (link_ == DLT_EN10MB) {
      if (len < 14) return -1;
      ethertype = (d[12] << 8) | d[13];
      off = 14;
    } else if (link_ == DLT_LINUX_SLL) {
      if (len < 16) return -1;
      ethertype = (d[14] << 8) | d[15];
      off = 16;
    } else {
      if (len < 1) return -1;
      ethertype = (d[0] >> 4) == 6 ? 0x86dd : 0x0800;
    }
    int proto = 0;
    if (ethertype == 0x0800) {
      if (len < off + 20) return -1;
      const uint32_t ihl = (d[off] & 0x0f) * 4u;
      proto = d[off + 9];
      off += ihl;
    } else if (ethertype == 0x86dd) {
      if (len < off + 40) return -1;
      proto = d[off + 6];
      off += 40;
    } else {
      return -1;
    }
    if ((proto != 6 && proto != 17) || len < off + 4) return -1;
    return (d[off + 2] << 8) | d[off + 3];
  }

  std::string path_;
  pcap_t* p_ = nullptr;
  int link_ = 0;
  std::map<uint16_t, uint32_t> ports_;
  std::optional<uint32_t> all_;
  Instant start_, stop_;
  int64_t first_ = -1, last_ = 0;
  uint64_t packets_ = 0;
};

}  // namespace

std::unique_ptr<Source> trace(const std::string& path, Mapping mapping, Instant start, Instant stop) {
  if (path.size() >= 6 && path.substr(path.size() - 6) == ".jsonl") return std::make_unique<JsonlTrace>(path, std::move(mapping), start, stop);
  if (path.size() >= 4 && path.substr(path.size() - 4) == ".csv") return std::make_unique<CsvTrace>(path, std::move(mapping), start, stop);
  throw InputError(fmt::format("{}: unknown trace format (use a .csv or .jsonl file)", path));
}

std::unique_ptr<Source> azure(const std::string& path, std::vector<uint32_t> targets, uint32_t minute_from,
                              uint32_t minute_to, double scale, Rng rng, Instant start, Instant stop, CostFn cost) {
  if (targets.empty()) throw InputError("azure: no target threads");
  if (minute_to <= minute_from || minute_to > 1440) throw InputError("azure: need minutes FROM < TO <= 1440");
  return std::make_unique<AzureTrace>(path, std::move(targets), minute_from, minute_to, scale, rng, start, stop, std::move(cost));
}

std::unique_ptr<Source> pcap(const std::string& path, std::map<uint16_t, uint32_t> ports, std::optional<uint32_t> all,
                             Instant start, Instant stop) {
  return std::make_unique<PcapTrace>(path, std::move(ports), all, start, stop);
}

// --- writers ------------------------------------------------------------------------------------

struct TraceWriter::Impl {
  AtomicFile file;
  std::string buf;
  bool jsonl;
  explicit Impl(std::string path) : file(path), jsonl(path.size() >= 6 && path.substr(path.size() - 6) == ".jsonl") {}
};

TraceWriter::TraceWriter(std::string path) {
  const bool csv = path.size() >= 4 && path.substr(path.size() - 4) == ".csv";
  const bool jsonl = path.size() >= 6 && path.substr(path.size() - 6) == ".jsonl";
  if (!csv && !jsonl) throw InputError(fmt::format("{}: a trace file ends in .csv or .jsonl", path));
  impl_ = std::make_unique<Impl>(std::move(path));
  impl_->buf = impl_->jsonl
                   ? "{\"format\":\"edgeos-arrivals\",\"version\":1,\"units\":{\"time\":\"ns\",\"cost\":\"ns\",\"deadline\":\"ns\"}}\n"
                   : "# edgeos arrival trace (docs/traces.md)\ntime_ns,tenant,kind,size_bytes,cost_ns,deadline_ns\n";
}

TraceWriter::~TraceWriter() = default;

void TraceWriter::add(const Arrival& a, const std::string& tenant, const std::string& kind) {
  if (tenant.empty() || tenant.find_first_of(",\"\\\n\r") != std::string::npos ||
      kind.find_first_of(",\"\\\n\r") != std::string::npos) {
    throw InputError(fmt::format("trace writer: tenant and kind names must be non-empty and free of , \" \\ and newlines "
                                 "(got \"{}\", \"{}\")", tenant, kind));
  }
  if (impl_->jsonl) {
    fmt::format_to(std::back_inserter(impl_->buf), "{{\"time\":{},\"tenant\":\"{}\"", a.time.ns(), tenant);
    if (!kind.empty()) fmt::format_to(std::back_inserter(impl_->buf), ",\"kind\":\"{}\"", kind);
    fmt::format_to(std::back_inserter(impl_->buf), ",\"size\":{},\"cost\":{},\"deadline\":{}}}\n", a.size, a.cost.ns(),
                   a.deadline.ns());
  } else {
    fmt::format_to(std::back_inserter(impl_->buf), "{},{},{},{},{},{}\n", a.time.ns(), tenant, kind, a.size, a.cost.ns(),
                   a.deadline.ns());
  }
  ++written_;
  if (impl_->buf.size() > (1 << 20)) {
    impl_->file.write(impl_->buf);
    impl_->buf.clear();
  }
}

void TraceWriter::commit() {
  impl_->file.write(impl_->buf);
  impl_->buf.clear();
  impl_->file.commit();
}

void write_pcap(const std::string& path, const std::vector<Packet>& packets) {
  // Like a capture with a 64-byte snap length: each record keeps the Ethernet, IPv4 and UDP
  // headers (what a reader needs for the port) and the packet's full length, not its payload.
  constexpr uint32_t kSnap = 64;
  std::string out;
  auto u32 = [&](uint32_t v) { out.append(reinterpret_cast<const char*>(&v), 4); };
  auto u16 = [&](uint16_t v) { out.append(reinterpret_cast<const char*>(&v), 2); };
  u32(0xa1b23c4d);  // classic pcap, nanosecond timestamps, host byte order
  u16(2);
  u16(4);
  u32(0);
  u32(0);
  u32(kSnap);
  u32(1);  // Ethernet
  for (const Packet& p : packets) {
    const uint32_t len = 14 + 20 + 8 + p.payload;
    const uint32_t caplen = std::min(len, kSnap);
    u32(static_cast<uint32_t>(p.time.ns() / 1'000'000'000));
    u32(static_cast<uint32_t>(p.time.ns() % 1'000'000'000));
    u32(caplen);
    u32(len);
    std::string frame(caplen, '\0');
    frame[12] = 0x08;  // IPv4
    frame[14] = 0x45;
    frame[14 + 2] = static_cast<char>((len - 14) >> 8);  // IP total length
    frame[14 + 3] = static_cast<char>((len - 14) & 0xff);
    frame[14 + 9] = 17;  // UDP
    frame[34 + 2] = static_cast<char>(p.dst_port >> 8);
    frame[34 + 3] = static_cast<char>(p.dst_port & 0xff);
    out += frame;
  }
  write_file_atomically(path, out);
}

}  // namespace edgeos::arrivals
