#include "edgeos/workloads/scenario_toml.hpp"

#include <fmt/format.h>

#include <algorithm>
#include <map>
#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <toml++/toml.h>

#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/scenario_blob.hpp"
#include "edgeos/hosted/parse.hpp"

namespace edgeos::scenario {

namespace {

size_t edit_distance(std::string_view a, std::string_view b) {
  std::vector<size_t> prev(b.size() + 1), cur(b.size() + 1);
  for (size_t j = 0; j <= b.size(); ++j) prev[j] = j;
  for (size_t i = 1; i <= a.size(); ++i) {
    cur[0] = i;
    for (size_t j = 1; j <= b.size(); ++j) {
      cur[j] = std::min({prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1)});
    }
    std::swap(prev, cur);
  }
  return prev[b.size()];
}

// A number and the rest of the text: "2.4GHz" -> (2.4, "GHz").
std::pair<double, std::string_view> number_and_unit(std::string_view text, std::string_view what, const char* example) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  if (i == 0) throw InputError(fmt::format("{}: expected a number with a unit (e.g. {}), got '{}'", what, example, text));
  const std::string num(text.substr(0, i));
  char* end = nullptr;
  const double v = std::strtod(num.c_str(), &end);
  if (end != num.c_str() + num.size() || !std::isfinite(v)) {
    throw InputError(fmt::format("{}: invalid number in '{}'", what, text));
  }
  return {v, text.substr(i)};
}

}  // namespace

std::string nearest(std::string_view word, const std::vector<std::string_view>& candidates) {
  std::string best;
  size_t best_d = std::max<size_t>(2, word.size() / 3) + 1;
  for (std::string_view c : candidates) {
    const size_t d = edit_distance(word, c);
    if (d < best_d) {
      best_d = d;
      best = std::string(c);
    }
  }
  return best;
}

double parse_rate(std::string_view text, std::string_view what) {
  const auto [v, unit] = number_and_unit(text, what, "500/s or 2kHz");
  double per_second = 0;
  if (unit == "/s" || unit == "Hz") {
    per_second = v;
  } else if (unit == "k/s" || unit == "kHz") {
    per_second = v * 1e3;
  } else if (unit == "M/s" || unit == "MHz") {
    per_second = v * 1e6;
  } else if (unit == "/ms") {
    per_second = v * 1e3;
  } else if (unit == "/us") {
    per_second = v * 1e6;
  } else if (unit == "/min") {
    per_second = v / 60.0;
  } else {
    throw InputError(fmt::format("{}: unknown rate unit in '{}' (use /s, k/s, M/s, /ms, /us, /min, Hz, kHz, MHz)", what, text));
  }
  if (per_second <= 0) throw InputError(fmt::format("{}: rate must be > 0, got '{}'", what, text));
  return per_second;
}

double parse_frequency(std::string_view text, std::string_view what) {
  const auto [v, unit] = number_and_unit(text, what, "2.4GHz");
  double hz = 0;
  if (unit == "Hz") {
    hz = v;
  } else if (unit == "kHz") {
    hz = v * 1e3;
  } else if (unit == "MHz") {
    hz = v * 1e6;
  } else if (unit == "GHz") {
    hz = v * 1e9;
  } else {
    throw InputError(fmt::format("{}: unknown frequency unit in '{}' (use Hz, kHz, MHz, GHz)", what, text));
  }
  if (hz <= 0) throw InputError(fmt::format("{}: frequency must be > 0, got '{}'", what, text));
  return hz;
}

uint64_t parse_size(std::string_view text, std::string_view what) {
  const auto [v, unit] = number_and_unit(text, what, "256B or 4KiB");
  double bytes = 0;
  if (unit == "B") {
    bytes = v;
  } else if (unit == "KiB") {
    bytes = v * 1024;
  } else if (unit == "MiB") {
    bytes = v * 1024 * 1024;
  } else if (unit == "kB") {
    bytes = v * 1000;
  } else if (unit == "MB") {
    bytes = v * 1e6;
  } else {
    throw InputError(fmt::format("{}: unknown size unit in '{}' (use B, KiB, MiB, kB, MB)", what, text));
  }
  if (bytes != std::floor(bytes) || bytes > 4e9) throw InputError(fmt::format("{}: invalid size '{}'", what, text));
  return static_cast<uint64_t>(bytes);
}

namespace {

// Reads one TOML table with a fixed set of keys, turning every problem into an InputError that
// names file:line:column, the table and the key.
class Reader {
 public:
  Reader(const toml::table& t, std::string context, const std::string& file, std::vector<std::string_view> keys)
      : t_(t), context_(std::move(context)), file_(file), keys_(std::move(keys)) {
    for (auto&& [k, v] : t_) {
      if (std::find(keys_.begin(), keys_.end(), k.str()) == keys_.end()) {
        const std::string hint = nearest(k.str(), keys_);
        throw InputError(fmt::format("{}: {}: unknown key \"{}\"{}", where(k.source()), context_, k.str(),
                                     hint.empty() ? fmt::format(" (keys: {})", fmt::join(keys_, ", "))
                                                  : fmt::format(" (did you mean \"{}\"?)", hint)));
      }
    }
  }

  // Value parsers are called with the name "value"; the key names it better here.
  [[noreturn]] void fail(std::string_view key, std::string_view why) const {
    if (why.substr(0, 7) == "value: ") why.remove_prefix(7);
    throw InputError(fmt::format("{}: {}: key \"{}\": {}", where(key), context_, key, why));
  }
  [[noreturn]] void fail_table(const std::string& why) const {
    throw InputError(fmt::format("{}: {}: {}", where(t_.source()), context_, why));
  }

  std::string where(std::string_view key) const {
    const toml::node* n = t_.get(key);
    return where(n != nullptr ? n->source() : t_.source());
  }
  std::string where(const toml::source_region& r) const {
    return fmt::format("{}:{}:{}", file_, r.begin.line, r.begin.column);
  }
  Location location(std::string_view key = {}) const {
    const toml::node* n = key.empty() ? nullptr : t_.get(key);
    const toml::source_region r = n != nullptr ? n->source() : t_.source();
    return Location{file_, static_cast<int>(r.begin.line), static_cast<int>(r.begin.column)};
  }
  bool has(std::string_view key) const { return t_.contains(key); }

  std::optional<std::string> str(std::string_view key) const {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return std::nullopt;
    if (!n->is_string()) fail(key, fmt::format("expected a string, got {}", type_name(*n)));
    return std::string(*n->value<std::string_view>());
  }
  std::string required_str(std::string_view key) const {
    std::optional<std::string> s = str(key);
    if (!s) fail_table(fmt::format("missing key \"{}\"", key));
    if (s->empty()) fail(key, "must not be empty");
    return *s;
  }
  // Durations are strings with a unit: a bare number is refused.
  std::optional<Duration> duration(std::string_view key) const {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return std::nullopt;
    if (n->is_integer() || n->is_floating_point()) {
      fail(key, fmt::format("a bare number is not a duration; write it with a unit, e.g. \"{}ms\"", *n->value<double>()));
    }
    if (!n->is_string()) fail(key, fmt::format("expected a duration string like \"2ms\", got {}", type_name(*n)));
    try {
      return parse_duration(*n->value<std::string_view>(), "value");
    } catch (const InputError& e) {
      fail(key, e.what());
    }
  }
  Duration required_duration(std::string_view key) const {
    std::optional<Duration> d = duration(key);
    if (!d) fail_table(fmt::format("missing key \"{}\"", key));
    return *d;
  }
  int64_t integer(std::string_view key, int64_t fallback, int64_t lo, int64_t hi) const {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return fallback;
    if (!n->is_integer()) fail(key, fmt::format("expected an integer, got {}", type_name(*n)));
    const int64_t v = *n->value<int64_t>();
    if (v < lo || v > hi) fail(key, fmt::format("must be in [{}, {}], got {}", lo, hi, v));
    return v;
  }
  double number(std::string_view key, double fallback, double lo, double hi) const {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return fallback;
    if (!n->is_integer() && !n->is_floating_point()) fail(key, fmt::format("expected a number, got {}", type_name(*n)));
    const double v = *n->value<double>();
    if (!std::isfinite(v) || v < lo || v > hi) fail(key, fmt::format("must be in [{}, {}], got {}", lo, hi, v));
    return v;
  }
  bool boolean(std::string_view key, bool fallback) const {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return fallback;
    if (!n->is_boolean()) fail(key, fmt::format("expected true or false, got {}", type_name(*n)));
    return *n->value<bool>();
  }
  template <class F>
  auto converted(std::string_view key, F&& parse) const -> std::optional<decltype(parse(std::string_view{}))> {
    std::optional<std::string> s = str(key);
    if (!s) return std::nullopt;
    try {
      return parse(*s);
    } catch (const InputError& e) {
      fail(key, e.what());
    }
  }
  std::vector<std::string> strings(std::string_view key) const {
    const toml::node* n = t_.get(key);
    std::vector<std::string> out;
    if (n == nullptr) return out;
    const toml::array* a = n->as_array();
    if (a == nullptr) fail(key, "expected an array of strings");
    for (const toml::node& e : *a) {
      if (!e.is_string()) fail(key, "expected an array of strings");
      out.emplace_back(*e.value<std::string_view>());
    }
    return out;
  }
  const toml::array* array(std::string_view key) const {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return nullptr;
    if (!n->is_array()) fail(key, "expected an array");
    return n->as_array();
  }
  const toml::table* table(std::string_view key) const {
    const toml::node* n = t_.get(key);
    if (n == nullptr) return nullptr;
    if (!n->is_table()) fail(key, "expected a table");
    return n->as_table();
  }
  const toml::node* node(std::string_view key) const { return t_.get(key); }
  const std::string& file() const { return file_; }
  const std::string& context() const { return context_; }

  static const char* type_name(const toml::node& n) {
    if (n.is_string()) return "a string";
    if (n.is_integer()) return "an integer";
    if (n.is_floating_point()) return "a number";
    if (n.is_boolean()) return "a boolean";
    if (n.is_table()) return "a table";
    if (n.is_array()) return "an array";
    return "a date or time";
  }

 private:
  const toml::table& t_;
  std::string context_;
  std::string file_;
  std::vector<std::string_view> keys_;
};

// A cost: "2ms", "4.8Mcycles", or { dist = "uniform", min = "1ms", max = "3ms" } (docs/scenario.md).
// Cycles are converted with `speed_hz`.
Duration parse_cost_value(std::string_view text, double speed_hz, std::string_view what) {
  const size_t c = text.find("cycles");
  if (c == std::string_view::npos) {
    const Duration d = parse_duration(text, what);
    if (d <= Duration::zero()) throw InputError(fmt::format("{}: a cost must be > 0", what));
    return d;
  }
  if (c + 6 != text.size()) throw InputError(fmt::format("{}: invalid cycle count '{}'", what, text));
  auto [v, prefix] = number_and_unit(text.substr(0, c), what, "4.8Mcycles");
  if (prefix == "k") {
    v *= 1e3;
  } else if (prefix == "M") {
    v *= 1e6;
  } else if (prefix == "G") {
    v *= 1e9;
  } else if (!prefix.empty()) {
    throw InputError(fmt::format("{}: unknown cycle prefix in '{}' (k, M or G)", what, text));
  }
  const double ns = std::ceil(v / speed_hz * 1e9);
  if (ns < 1 || ns > 9e18) throw InputError(fmt::format("{}: cost '{}' is out of range", what, text));
  return Duration::nanoseconds(static_cast<int64_t>(ns));
}

CostDist parse_cost(const Reader& r, std::string_view key, double speed_hz) {
  const toml::node* n = r.node(key);
  CostDist d;
  if (n->is_string()) {
    try {
      d.value = parse_cost_value(*n->value<std::string_view>(), speed_hz, "value");
    } catch (const InputError& e) {
      r.fail(key, e.what());
    }
    return d;
  }
  if (!n->is_table()) r.fail(key, "expected a cost like \"2ms\" or a table { dist = ..., ... }");
  const Reader t(*n->as_table(), fmt::format("{} \"{}\"", r.context(), key), r.file(),
                 {"dist", "value", "min", "max", "mean", "sd", "median", "sigma"});
  const std::string dist = t.required_str("dist");
  // Each distribution takes its own keys; one that belongs to another is a mistake, not a no-op.
  static const std::map<std::string_view, std::vector<std::string_view>> kKeys = {
      {"fixed", {"dist", "value"}},
      {"uniform", {"dist", "min", "max"}},
      {"normal", {"dist", "mean", "sd", "min", "max"}},
      {"lognormal", {"dist", "median", "sigma", "min", "max"}},
      {"exponential", {"dist", "mean", "max"}},
  };
  if (const auto allowed = kKeys.find(dist); allowed != kKeys.end()) {
    for (auto&& [k, v] : *n->as_table()) {
      if (std::find(allowed->second.begin(), allowed->second.end(), k.str()) == allowed->second.end()) {
        t.fail(k.str(), fmt::format("does not apply to dist \"{}\" (its keys: {})", dist, fmt::join(allowed->second, ", ")));
      }
    }
  }
  auto cost = [&](std::string_view k) -> std::optional<Duration> {
    return t.converted(k, [&](std::string_view s) { return parse_cost_value(s, speed_hz, "value"); });
  };
  auto need = [&](std::string_view k) {
    std::optional<Duration> v = cost(k);
    if (!v) t.fail_table(fmt::format("dist \"{}\" needs key \"{}\"", dist, k));
    return *v;
  };
  if (dist == "fixed") {
    d.value = need("value");
  } else if (dist == "uniform") {
    d.kind = CostDist::Kind::kUniform;
    d.min = need("min");
    d.max = need("max");
    if (d.max < d.min) t.fail("max", "must be >= min");
    d.value = d.min + (d.max - d.min) / 2;
  } else if (dist == "normal") {
    d.kind = CostDist::Kind::kNormal;
    d.value = need("mean");
    d.sd = need("sd");
    d.min = cost("min").value_or(Duration::nanoseconds(1));
    d.max = cost("max").value_or(Duration::zero());
  } else if (dist == "lognormal") {
    d.kind = CostDist::Kind::kLogNormal;
    d.value = need("median");
    d.sigma = t.number("sigma", -1, 0, 10);
    if (d.sigma < 0) t.fail_table("dist \"lognormal\" needs key \"sigma\"");
    d.min = cost("min").value_or(Duration::nanoseconds(1));
    d.max = cost("max").value_or(Duration::zero());
  } else if (dist == "exponential") {
    d.kind = CostDist::Kind::kExponential;
    d.value = need("mean");
    d.max = cost("max").value_or(Duration::zero());
  } else {
    const std::string hint = nearest(dist, {"fixed", "uniform", "normal", "lognormal", "exponential"});
    t.fail("dist", fmt::format("unknown distribution \"{}\"{}", dist, hint.empty() ? "" : fmt::format(" (did you mean \"{}\"?)", hint)));
  }
  if (d.max != Duration::zero() && d.max < d.min) t.fail("max", "must be >= min");
  return d;
}

std::vector<const toml::table*> tables(const toml::table& root, std::string_view key, const std::string& file) {
  std::vector<const toml::table*> out;
  const toml::node* n = root.get(key);
  if (n == nullptr) return out;
  if (const toml::table* t = n->as_table()) {
    out.push_back(t);
  } else if (const toml::array* a = n->as_array(); a != nullptr && a->is_array_of_tables()) {
    for (const toml::node& e : *a) out.push_back(e.as_table());
  } else {
    throw InputError(fmt::format("{}:{}:{}: \"{}\" must be a table ([{}]) or tables ([[{}]])", file, n->source().begin.line,
                                 n->source().begin.column, key, key, key));
  }
  return out;
}

ServerKind parse_server_kind(const Reader& r, std::string_view key, const std::string& text) {
  if (text == "none") return ServerKind::kNone;
  if (text == "sporadic") return ServerKind::kSporadic;
  if (text == "deferrable") return ServerKind::kDeferrable;
  if (text == "polling") return ServerKind::kPolling;
  if (text == "cbs") return ServerKind::kCbs;
  const std::string hint = nearest(text, {"none", "sporadic", "deferrable", "polling", "cbs"});
  r.fail(key, fmt::format("unknown server kind \"{}\"{}", text, hint.empty() ? " (none, sporadic, deferrable, polling, cbs)"
                                                                                : fmt::format(" (did you mean \"{}\"?)", hint)));
}

std::string resolve(const std::string& base_dir, const std::string& p) {
  if (p.empty() || base_dir.empty() || std::filesystem::path(p).is_absolute()) return p;
  return (std::filesystem::path(base_dir) / p).lexically_normal().string();
}

// How messages name a table: by its "name" key when it has a usable one, else by position.
std::string context_of(const toml::table& t, std::string_view kind, size_t index) {
  const toml::node* n = t.get("name");
  if (n != nullptr && n->is_string() && !n->value<std::string_view>()->empty()) {
    return fmt::format("{} \"{}\"", kind, *n->value<std::string_view>());
  }
  return fmt::format("{} #{}", kind, index);
}

// A server's `nic` table: model, MAC ("52:54:00:12:34:56") and IPv4 address ("10.0.2.15").
Nic parse_nic(const toml::table& t, const std::string& context, const std::string& file) {
  const Reader r(t, context, file, {"model", "mac", "ipv4"});
  Nic nic;
  nic.model = r.str("model").value_or("virtio");
  if (nic.model != "none" && nic.model != "virtio" && nic.model != "e1000") {
    r.fail("model", fmt::format("expected \"virtio\", \"e1000\" or \"none\", got \"{}\"", nic.model));
  }
  if (const std::optional<std::string> mac = r.str("mac")) {
    unsigned b[6];
    char tail = 0;
    if (std::sscanf(mac->c_str(), "%2x:%2x:%2x:%2x:%2x:%2x%c", &b[0], &b[1], &b[2], &b[3], &b[4], &b[5], &tail) != 6 ||
        mac->size() != 17) {
      r.fail("mac", fmt::format("expected six hexadecimal bytes like \"52:54:00:12:34:56\", got \"{}\"", *mac));
    }
    if ((b[0] & 1) != 0) r.fail("mac", "a group (multicast) address; a NIC's own address has bit 0 of its first byte clear");
    for (int i = 0; i < 6; ++i) nic.mac[i] = static_cast<uint8_t>(b[i]);
  }
  if (const std::optional<std::string> ip = r.str("ipv4")) {
    unsigned a[4];
    char tail = 0;
    if (std::sscanf(ip->c_str(), "%3u.%3u.%3u.%3u%c", &a[0], &a[1], &a[2], &a[3], &tail) != 4 || a[0] > 255 ||
        a[1] > 255 || a[2] > 255 || a[3] > 255) {
      r.fail("ipv4", fmt::format("expected a dotted IPv4 address like \"10.0.2.15\", got \"{}\"", *ip));
    }
    nic.ipv4 = (a[0] << 24) | (a[1] << 16) | (a[2] << 8) | a[3];
  }
  nic.where = r.location();
  return nic;
}

constexpr std::string_view kTopLevel[] = {"scenario", "server", "template", "tenant", "thread",
                                          "invoke",   "ring",   "workload", "device"};

// "100Mbps", "1Gbps", "54Mbps", "12.5MBps": a bandwidth in bits (bps) or bytes (Bps) per second,
// with an optional k, M or G (powers of 1000); returned in bytes per second.
double parse_bandwidth(std::string_view text) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  const std::string number(text.substr(0, i));
  std::string_view unit = text.substr(i);
  double scale = 1;
  if (!unit.empty() && (unit[0] == 'k' || unit[0] == 'M' || unit[0] == 'G')) {
    scale = unit[0] == 'k' ? 1e3 : unit[0] == 'M' ? 1e6 : 1e9;
    unit.remove_prefix(1);
  }
  char* end = nullptr;
  const double v = number.empty() ? 0 : std::strtod(number.c_str(), &end);
  if (number.empty() || end != number.c_str() + number.size() || (unit != "bps" && unit != "Bps") || !(v > 0)) {
    throw InputError(fmt::format("value: \"{}\" is not a bandwidth (e.g. \"100Mbps\", \"1Gbps\", \"12.5MBps\")", text));
  }
  return unit == "bps" ? v * scale / 8 : v * scale;
}

// toml++ builds and destroys tables recursively, one stack frame (or more) per level: a dotted key
// or table header of some tens of thousands of parts exhausts the stack. It bounds arrays and
// inline tables (TOML_MAX_NESTED_VALUES) but not keys, so keys are measured here first, without
// recursion: the depth of a key is the number of parts of its table header, plus the parts of the
// key, plus those of the keys of the arrays and inline tables it is inside.
constexpr size_t kMaxKeyDepth = 256;

void check_key_depth(std::string_view text, const std::string& name) {
  const size_t n = text.size();
  size_t i = 0;
  auto fail = [&](size_t at, size_t depth) {
    size_t line = 1, line_start = 0;
    for (size_t j = 0; j < at; ++j) {
      if (text[j] == '\n') {
        ++line;
        line_start = j + 1;
      }
    }
    throw InputError(fmt::format("{}:{}:{}: key nested {} levels deep, more than the {} allowed (each part of a dotted key "
                                 "or table header is a level, as is each array or inline table around it)",
                                 name, line, at - line_start + 1, depth, kMaxKeyDepth));
  };
  auto bare = [](char c) {
    return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-';
  };
  // Skips a string starting at i (a quote); multi-line strings too.
  auto skip_string = [&] {
    const char q = text[i];
    const bool multi = i + 2 < n && text[i + 1] == q && text[i + 2] == q;
    i += multi ? 3 : 1;
    while (i < n) {
      const char c = text[i];
      if (c == '\\' && q == '"') {
        i += 2;
      } else if (c == q && (!multi || (i + 2 < n && text[i + 1] == q && text[i + 2] == q))) {
        i += multi ? 3 : 1;
        if (multi) {
          while (i < n && text[i] == q) ++i;  // up to two quotes may end the content
        }
        return;
      } else if (c == '\n' && !multi) {
        return;  // unterminated: toml++ reports it
      } else {
        ++i;
      }
    }
  };
  // Counts the parts of the key starting at i: a.b."c".'d', with blanks around the dots.
  auto key_parts = [&] {
    size_t parts = 0;
    for (;;) {
      if (i < n && (text[i] == '"' || text[i] == '\'')) {
        skip_string();
      } else if (i < n && bare(text[i])) {
        while (i < n && bare(text[i])) ++i;
      } else {
        return parts;
      }
      ++parts;
      size_t j = i;
      while (j < n && (text[j] == ' ' || text[j] == '\t')) ++j;
      if (j >= n || text[j] != '.') return parts;
      ++j;
      while (j < n && (text[j] == ' ' || text[j] == '\t')) ++j;
      i = j;
    }
  };
  struct Open {
    bool inline_table;
    size_t depth;  // of the array or inline table itself
  };
  std::vector<Open> open;  // the arrays and inline tables around i
  size_t table_depth = 0;  // of the last table header
  size_t value_depth = 0;  // of the value about to be read
  bool want_key = true;
  while (i < n) {
    const char c = text[i];
    if (c == '\n') {
      ++i;
      if (open.empty()) want_key = true;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < n && text[i] != '\n') ++i;
      continue;
    }
    if (want_key) {
      want_key = false;
      const size_t at = i;
      if (open.empty() && c == '[') {  // [table] or [[array of tables]]
        ++i;
        const bool array = i < n && text[i] == '[';
        if (array) ++i;
        while (i < n && (text[i] == ' ' || text[i] == '\t')) ++i;
        table_depth = key_parts() + (array ? 1 : 0);
        if (table_depth > kMaxKeyDepth) fail(at, table_depth);
        continue;
      }
      if (c == '"' || c == '\'' || bare(c)) {
        const size_t depth = (open.empty() ? table_depth : open.back().depth) + key_parts();
        if (depth > kMaxKeyDepth) fail(at, depth);
        value_depth = depth;
        continue;
      }
    }
    switch (c) {
      case '"':
      case '\'':
        skip_string();
        break;
      case '[':
        open.push_back({false, value_depth});
        value_depth = value_depth + 1;
        ++i;
        break;
      case '{':
        open.push_back({true, value_depth});
        want_key = true;
        ++i;
        break;
      case ']':
      case '}':
        if (!open.empty()) open.pop_back();
        ++i;
        break;
      case ',':
        if (!open.empty()) {
          if (open.back().inline_table) {
            want_key = true;
          } else {
            value_depth = open.back().depth + 1;
          }
        }
        ++i;
        break;
      default:
        ++i;
        break;
    }
  }
}

// --- The sections of a scenario file, one function each, in the order parse_scenario reads them.

toml::table parse_toml(std::string_view text, const std::string& name) {
  try {
    return toml::parse(text, name);
  } catch (const toml::parse_error& e) {
    throw InputError(fmt::format("{}:{}:{}: {}", name, e.source().begin.line, e.source().begin.column, e.description()));
  }
}

void check_top_level(const toml::table& root, const std::string& name) {
  for (auto&& [k, v] : root) {
    if (std::find(std::begin(kTopLevel), std::end(kTopLevel), k.str()) == std::end(kTopLevel)) {
      const std::string hint = nearest(k.str(), {std::begin(kTopLevel), std::end(kTopLevel)});
      throw InputError(fmt::format("{}:{}:{}: unknown table \"{}\"{}", name, k.source().begin.line, k.source().begin.column,
                                   k.str(), hint.empty() ? " (scenario, server, template, tenant, thread, invoke, ring, workload, device)"
                                                         : fmt::format(" (did you mean \"{}\"?)", hint)));
    }
  }
}

// [scenario]: name, duration, seed.
void parse_head(const toml::table& root, const std::string& name, Scenario& s) {
  const std::vector<const toml::table*> head = tables(root, "scenario", name);
  if (head.size() != 1) throw InputError(fmt::format("{}: needs exactly one [scenario] table with name and duration", name));
  const Reader r(*head[0], "[scenario]", name, {"name", "duration", "seed"});
  s.name = r.required_str("name");
  s.duration = r.required_duration("duration");
  if (s.duration <= Duration::zero()) r.fail("duration", "must be > 0");
  s.seed = static_cast<uint64_t>(r.integer("seed", 1, 0, INT64_MAX));
}

// A server's `domains` (clustered scheduling): every CPU of the server in at most one domain.
std::vector<std::vector<uint32_t>> parse_domains(const Reader& r, const toml::array& domains, uint32_t num_cpus) {
  std::vector<std::vector<uint32_t>> out;
  std::vector<bool> seen(num_cpus, false);
  for (const toml::node& d : domains) {
    const toml::array* cpus = d.as_array();
    if (cpus == nullptr || cpus->empty()) r.fail("domains", "expected an array of non-empty arrays of CPU numbers, e.g. [[0, 1], [2, 3]]");
    std::vector<uint32_t> domain;
    for (const toml::node& c : *cpus) {
      // An integer before it is read as one (see "udp" in parse_tenant).
      const std::optional<int64_t> cpu = c.is_integer() ? c.value<int64_t>() : std::nullopt;
      if (!cpu || *cpu < 0 || *cpu >= static_cast<int64_t>(num_cpus)) {
        r.fail("domains", fmt::format("expected CPU numbers of this server, 0 to {}", num_cpus - 1));
      }
      if (seen[static_cast<size_t>(*cpu)]) r.fail("domains", fmt::format("CPU {} is in two domains (or twice in one)", *cpu));
      seen[static_cast<size_t>(*cpu)] = true;
      domain.push_back(static_cast<uint32_t>(*cpu));
    }
    out.push_back(std::move(domain));
  }
  return out;
}

// [[server]] number `index`.
Server parse_server(const toml::table& t, size_t index, const std::string& name, const std::string& base_dir) {
  const Reader r(t, context_of(t, "server", index), name,
                 {"name", "cpus", "speed", "policy", "scheduling", "domains", "platform", "host", "nic"});
  Server v;
  v.name = r.str("name").value_or(fmt::format("server{}", index));
  v.cpus = static_cast<uint32_t>(r.integer("cpus", 1, 1, 1024));
  if (auto hz = r.converted("speed", [](std::string_view x) { return parse_frequency(x, "value"); })) v.speed_hz = *hz;
  v.policy = r.str("policy").value_or("edf");
  if (v.policy != "fp" && v.policy != "edf") r.fail("policy", fmt::format("expected \"fp\" or \"edf\", got \"{}\"", v.policy));
  if (const toml::array* domains = r.array("domains")) v.domains = parse_domains(r, *domains, v.cpus);
  v.scheduling = r.str("scheduling").value_or(v.domains.empty() ? "partitioned" : "clustered");
  if (v.scheduling != "partitioned" && v.scheduling != "global" && v.scheduling != "clustered") {
    r.fail("scheduling", fmt::format("expected \"partitioned\", \"global\" or \"clustered\", got \"{}\"", v.scheduling));
  }
  if (v.scheduling == "clustered" && v.domains.empty()) r.fail("scheduling", "\"clustered\" needs the key \"domains\"");
  if (v.scheduling != "clustered" && !v.domains.empty()) {
    r.fail("domains", fmt::format("only with scheduling = \"clustered\" (this server's is \"{}\")", v.scheduling));
  }
  v.platform = resolve(base_dir, r.str("platform").value_or(""));
  v.host = r.str("host").value_or("");
  if (const toml::table* nic = r.table("nic")) v.nic = parse_nic(*nic, r.context() + ".nic", name);
  v.where = r.location();
  return v;
}

// The server of a file without [[server]].
Server default_server(const std::string& name) {
  Server v;
  v.name = "server0";
  v.where = Location{name, 1, 1};
  return v;
}

// A template's (or an implicit template's tenant's) `memory`: a size of at least 4KiB, e.g. "256KiB";
// whole KiB, as the compiled scenario carries it.
uint64_t parse_memory_budget(const Reader& r) {
  if (!r.has("memory")) return 0;
  const uint64_t bytes = *r.converted("memory", [](std::string_view x) { return parse_size(x, "value"); });
  if (bytes < 4096 || bytes % 1024 != 0) r.fail("memory", "expected a size of at least 4KiB in whole KiB, e.g. \"256KiB\"");
  return bytes;
}

// [[template]] number `index`.
Template parse_template(const toml::table& t, size_t index, const std::string& name) {
  const Reader r(t, context_of(t, "template", index), name,
                 {"name", "pool", "max_instances", "memory", "per_client", "idle_timeout", "create_cost"});
  Template v;
  v.name = r.required_str("name");
  v.pool = static_cast<uint32_t>(r.integer("pool", 0, 0, 1 << 20));
  v.max_instances = static_cast<uint32_t>(r.integer("max_instances", 0, 0, 1 << 20));
  v.memory = parse_memory_budget(r);
  v.per_client = r.boolean("per_client", false);
  if (r.has("idle_timeout")) {
    if (!v.per_client) r.fail("idle_timeout", "only a per_client template recycles its FWPs when idle");
    v.idle_timeout = r.duration("idle_timeout").value_or(v.idle_timeout);
    if (v.idle_timeout < Duration::milliseconds(1) || v.idle_timeout > Duration::seconds(86'400)) {
      r.fail("idle_timeout", "expected 1ms to 24h, e.g. \"10s\"");
    }
  }
  if (r.has("create_cost")) {
    if (!v.per_client) r.fail("create_cost", "only a per_client template makes FWPs as clients arrive");
    v.create_cost = r.duration("create_cost").value_or(Duration::zero());
    if (v.create_cost < Duration::zero() || v.create_cost > Duration::seconds(1)) {
      r.fail("create_cost", "expected 0 to 1s, e.g. \"2572ns\" (the kernel's creation from a checkpoint)");
    }
  }
  if (v.per_client && v.max_instances == 0) {
    r.fail("per_client", "a per_client template needs max_instances: the most clients with an FWP at once, plus its front");
  }
  v.where = r.location();
  return v;
}

// [[tenant]] number `index`; without `server`, it runs on `first_server`.
Tenant parse_tenant(const toml::table& t, size_t index, const std::string& name, const std::string& first_server) {
  const Reader r(t, context_of(t, "tenant", index), name, {"name", "server", "template", "instances", "udp", "memory"});
  Tenant v;
  v.name = r.required_str("name");
  v.server = r.str("server").value_or(first_server);
  v.tmpl = r.str("template").value_or("");
  v.memory = parse_memory_budget(r);
  if (v.memory != 0 && !v.tmpl.empty()) {
    r.fail("memory", fmt::format("the tenant's FWPs are made from template \"{}\": set `memory` there", v.tmpl));
  }
  v.instances = static_cast<uint32_t>(r.integer("instances", 1, 1, 1 << 20));
  if (const toml::array* ports = r.array("udp")) {
    for (const toml::node& p : *ports) {
      // An integer before it is read as one: toml++ converts a float to int64_t without a range
      // check, undefined for 5e83 (found by tests/fuzz).
      const std::optional<int64_t> port = p.is_integer() ? p.value<int64_t>() : std::nullopt;
      if (!port || *port < 1 || *port > 65535) r.fail("udp", "expected an array of UDP port numbers (1 to 65535)");
      v.udp_ports.push_back(static_cast<uint16_t>(*port));
    }
    v.udp_where = r.location("udp");
  }
  v.where = r.location();
  return v;
}

// A thread's cycles convert with its tenant's server speed (1 GHz if either is not declared yet:
// validate() reports that).
double speed_of_tenant(const Scenario& s, const std::string& tenant) {
  const Tenant* tn = s.find_tenant(tenant);
  const Server* sv = tn != nullptr ? s.find_server(tn->server) : nullptr;
  return sv != nullptr ? sv->speed_hz : 1e9;
}

// A thread's release: `release`, `period`, `deadline`, `phase`.
void parse_release(const Reader& named, ThreadSpec& v) {
  const std::string release = named.str("release").value_or("periodic");
  if (release == "periodic") {
    v.release = ReleaseKind::kPeriodic;
  } else if (release == "sporadic") {
    v.release = ReleaseKind::kSporadic;
  } else {
    named.fail("release", fmt::format("expected \"periodic\" or \"sporadic\", got \"{}\"", release));
  }
  v.period = named.duration("period").value_or(Duration::zero());
  if (v.release == ReleaseKind::kPeriodic && !named.has("period")) named.fail_table("a periodic thread needs key \"period\"");
  if (v.release == ReleaseKind::kSporadic && !named.has("period")) v.period = Duration::nanoseconds(1);
  if (v.period <= Duration::zero()) named.fail("period", "must be > 0");
  v.deadline = named.duration("deadline").value_or(Duration::zero());
  if (named.has("deadline") && v.deadline <= Duration::zero()) named.fail("deadline", "must be > 0");
  if (v.release == ReleaseKind::kSporadic && !named.has("deadline")) {
    named.fail_table("a sporadic thread needs key \"deadline\" (its period is only a minimum inter-arrival)");
  }
  v.phase = named.duration("phase").value_or(Duration::zero());
  if (v.phase < Duration::zero()) named.fail("phase", "must be >= 0");
  if (named.has("phase") && v.release == ReleaseKind::kSporadic) {
    named.fail("phase", "applies to periodic threads only (a sporadic thread's jobs come from its workload)");
  }
}

// A thread's scheduling context: `priority`, `sched_deadline`, and its server's keys.
void parse_sched(const Reader& named, ThreadSpec& v) {
  v.sched.priority = static_cast<uint8_t>(named.integer("priority", 0, 0, 255));
  v.sched.relative_deadline = named.duration("sched_deadline").value_or(v.job_deadline());
  if (v.sched.relative_deadline <= Duration::zero()) named.fail("sched_deadline", "must be > 0");
  v.sched.server = parse_server_kind(named, "server", named.str("server").value_or("none"));
  if (v.sched.server != ServerKind::kNone) {
    if (!named.has("budget") || !named.has("server_period")) {
      named.fail_table(fmt::format("server \"{}\" needs keys \"budget\" and \"server_period\"", server_kind_name(v.sched.server)));
    }
    v.sched.budget = named.required_duration("budget");
    v.sched.period = named.required_duration("server_period");
    if (v.sched.budget <= Duration::zero()) named.fail("budget", "must be > 0");
    if (v.sched.period <= Duration::zero()) named.fail("server_period", "must be > 0 (a zero period has no budget to give)");
    if (v.sched.budget > v.sched.period) {
      named.fail("budget", fmt::format("must be <= server_period ({}), got {}", format_duration(v.sched.period),
                                       format_duration(v.sched.budget)));
    }
    v.sched.max_refills = static_cast<uint8_t>(named.integer("refills", kMaxRefills, 1, kMaxRefills));
  } else {
    for (const char* k : {"budget", "server_period", "refills"}) {
      if (named.has(k)) named.fail(k, "only a thread with a server (server = \"sporadic\", ...) has a budget");
    }
  }
}

// A thread's `program` (kernel backend), by name.
void parse_program(const Reader& named, ThreadSpec& v) {
  const std::optional<std::string> program = named.str("program");
  if (!program) return;
  std::vector<std::string_view> names;
  bool found = false;
  for (const blob::ProgramName& p : blob::kPrograms) {
    names.push_back(p.name);
    if (*program == p.name) {
      v.program = p.id;
      found = true;
    }
  }
  if (!found) {
    const std::string hint = nearest(*program, names);
    named.fail("program", fmt::format("unknown program \"{}\"{}", *program,
                                      hint.empty() ? fmt::format(" (programs: {})", fmt::join(names, ", "))
                                                   : fmt::format(" (did you mean \"{}\"?)", hint)));
  }
}

// A thread's [[thread.call]] tables.
void parse_calls(const Reader& named, const std::string& name, double speed_hz, ThreadSpec& v) {
  const toml::array* calls = named.array("call");
  if (calls == nullptr) return;
  for (const toml::node& c : *calls) {
    if (!c.is_table()) named.fail("call", "expected [[thread.call]] tables");
    const Reader cr(*c.as_table(), fmt::format("thread \"{}\" call #{}", v.name, v.calls.size()), name, {"to", "at", "cost"});
    CallSpec call;
    call.to = cr.required_str("to");
    call.at = cr.duration("at").value_or(Duration::zero());
    if (call.at < Duration::zero()) cr.fail("at", "must be >= 0");
    if (!cr.has("cost")) cr.fail_table("missing key \"cost\"");
    call.cost = parse_cost(cr, "cost", speed_hz);
    call.where = cr.location();
    v.calls.push_back(call);
  }
}

// [[thread]] number `index`, after the servers and tenants of `s`.
ThreadSpec parse_thread(const toml::table& t, size_t index, const std::string& name, const Scenario& s) {
  const Reader named(t, context_of(t, "thread", index), name,
                     {"name", "tenant", "cpu", "spread", "release", "period", "deadline", "phase", "cost", "priority",
                      "sched_deadline", "server", "budget", "server_period", "refills", "call", "program"});
  ThreadSpec v;
  v.name = named.required_str("name");
  v.tenant = named.required_str("tenant");
  v.cpu = static_cast<uint32_t>(named.integer("cpu", 0, 0, 1023));
  v.spread = named.boolean("spread", false);
  parse_release(named, v);
  if (!named.has("cost")) named.fail_table("missing key \"cost\"");
  v.cost = parse_cost(named, "cost", speed_of_tenant(s, v.tenant));
  parse_sched(named, v);
  parse_program(named, v);
  parse_calls(named, name, speed_of_tenant(s, v.tenant), v);
  v.where = named.location();
  return v;
}

// [[invoke]] number `index`.
Invoke parse_invoke(const toml::table& t, size_t index, const std::string& name) {
  const Reader r(t, fmt::format("invoke #{}", index), name, {"from", "to"});
  return Invoke{r.required_str("from"), r.required_str("to"), r.location()};
}

// [[ring]] number `index`.
RingSpec parse_ring(const toml::table& t, size_t index, const std::string& name) {
  const Reader r(t, context_of(t, "ring", index), name, {"name", "from", "to", "slots", "slot_size"});
  RingSpec v;
  v.name = r.required_str("name");
  v.from = r.required_str("from");
  v.to = r.required_str("to");
  v.slots = static_cast<uint32_t>(r.integer("slots", 64, 1, 1 << 20));
  if (r.has("slot_size")) {
    const toml::node* n = r.node("slot_size");
    v.slot_size = n->is_integer() ? static_cast<uint32_t>(r.integer("slot_size", 256, 1, 1 << 24))
                                  : static_cast<uint32_t>(*r.converted("slot_size", [](std::string_view x) { return parse_size(x, "value"); }));
    if (v.slot_size == 0 || v.slot_size > (1u << 24)) r.fail("slot_size", "must be in [1B, 16MiB]");
  }
  v.where = r.location();
  return v;
}

// A workload's `name` and `kind`, read before its keys are known (they depend on the kind).
void parse_workload_kind(const toml::table& t, size_t index, const std::string& name, Workload& w) {
  const Reader probe(t, context_of(t, "workload", index), name,
                     {"name", "kind", "target", "start", "stop", "cost", "deadline", "seed", "rate", "rates", "sojourn",
                      "transitions", "sensors", "period", "jitter", "burst", "stages", "fps", "e2e_deadline", "get_ratio",
                      "cost_base", "cost_per_kib", "file", "targets", "minutes", "scale", "ports", "requests", "gap"});
  w.name = probe.required_str("name");
  const std::string kind = probe.required_str("kind");
  const std::vector<std::string_view> kinds = {"poisson", "mmpp", "iot", "ar", "kv", "trace", "azure", "pcap", "clients"};
  if (std::find(kinds.begin(), kinds.end(), kind) == kinds.end()) {
    const std::string hint = nearest(kind, kinds);
    probe.fail("kind", fmt::format("unknown workload kind \"{}\"{}", kind,
                                   hint.empty() ? " (poisson, mmpp, iot, ar, kv, trace, azure, pcap, clients)"
                                                : fmt::format(" (did you mean \"{}\"?)", hint)));
  }
  w.kind = static_cast<WorkloadKind>(std::find(kinds.begin(), kinds.end(), kind) - kinds.begin());
}

// The keys a workload of `kind` may have.
std::vector<std::string_view> workload_keys(WorkloadKind kind) {
  std::vector<std::string_view> keys = {"name", "kind", "start", "stop", "cost", "deadline", "seed"};
  switch (kind) {
    case WorkloadKind::kPoisson: keys.insert(keys.end(), {"target", "rate"}); break;
    case WorkloadKind::kMmpp: keys.insert(keys.end(), {"target", "rates", "sojourn", "transitions"}); break;
    case WorkloadKind::kIot: keys.insert(keys.end(), {"target", "sensors", "period", "jitter", "burst"}); break;
    case WorkloadKind::kAr:
      // A frame's work is its stages' threads' costs: no per-arrival cost.
      keys.erase(std::find(keys.begin(), keys.end(), "cost"));
      keys.insert(keys.end(), {"stages", "fps", "e2e_deadline", "jitter"});
      break;
    case WorkloadKind::kKv: keys.insert(keys.end(), {"target", "rate", "get_ratio", "cost_base", "cost_per_kib"}); break;
    case WorkloadKind::kTrace: keys.insert(keys.end(), {"file", "target", "targets"}); break;
    case WorkloadKind::kAzure: keys.insert(keys.end(), {"file", "targets", "minutes", "scale"}); break;
    case WorkloadKind::kPcap: keys.insert(keys.end(), {"file", "target", "ports", "cost_base", "cost_per_kib"}); break;
    case WorkloadKind::kClients: keys.insert(keys.end(), {"target", "rate", "requests", "gap"}); break;
  }
  return keys;
}

// An MMPP's states: `rates`, `sojourn`, `transitions`.
void parse_mmpp(const Reader& r, Workload& w) {
  for (const std::string& x : r.strings("rates")) {
    try {
      w.rates.push_back(parse_rate(x, "value"));
    } catch (const InputError& e) {
      r.fail("rates", e.what());
    }
  }
  for (const std::string& x : r.strings("sojourn")) {
    try {
      const Duration d = parse_duration(x, "value");
      if (d <= Duration::zero()) throw InputError("a sojourn time must be > 0");
      w.sojourn.push_back(d);
    } catch (const InputError& e) {
      r.fail("sojourn", e.what());
    }
  }
  if (w.rates.size() < 2) r.fail_table("an MMPP needs \"rates\" for at least two states");
  if (w.sojourn.size() != w.rates.size()) r.fail("sojourn", fmt::format("needs one mean holding time per state ({})", w.rates.size()));
  if (const toml::array* m = r.array("transitions")) {
    for (const toml::node& row : *m) {
      const toml::array* a = row.as_array();
      if (a == nullptr || a->size() != w.rates.size()) r.fail("transitions", "expected a square matrix, one row per state");
      std::vector<double> p;
      for (const toml::node& x : *a) {
        if (!x.is_number()) r.fail("transitions", "expected numbers");
        p.push_back(*x.value<double>());
      }
      w.transitions.push_back(p);
    }
    if (w.transitions.size() != w.rates.size()) r.fail("transitions", "expected one row per state");
  }
}

// An IoT fleet: `sensors`, `period`, `jitter`, and its [[workload.burst]] tables.
void parse_iot(const Reader& r, const std::string& name, Workload& w) {
  w.sensors = static_cast<uint32_t>(r.integer("sensors", 0, 1, 10'000'000));
  if (w.sensors == 0) r.fail_table("missing key \"sensors\"");
  w.sensor_period = r.required_duration("period");
  if (w.sensor_period <= Duration::zero()) r.fail("period", "must be > 0");
  w.jitter = r.duration("jitter").value_or(Duration::zero());
  if (w.jitter < Duration::zero()) r.fail("jitter", "must be >= 0");
  if (const toml::array* bursts = r.array("burst")) {
    for (const toml::node& b : *bursts) {
      if (!b.is_table()) r.fail("burst", "expected [[workload.burst]] tables");
      const Reader br(*b.as_table(), fmt::format("workload \"{}\" burst", w.name), name, {"at", "count", "within"});
      Burst x;
      x.at = br.required_duration("at");
      x.count = static_cast<uint32_t>(br.integer("count", 0, 1, 100'000'000));
      if (x.count == 0) br.fail_table("missing key \"count\"");
      x.within = br.required_duration("within");
      if (x.within <= Duration::zero()) br.fail("within", "must be > 0");
      w.bursts.push_back(x);
    }
  }
}

// A recorded workload's `file` and where its records go: `target` (every record) or the table
// `key` (`pair` = "thread", one thread per tenant or port), not both.
void parse_file_and_targets(const Reader& r, const std::string& base_dir, std::string_view every, std::string_view key,
                            std::string_view pair, Workload& w) {
  w.file = resolve(base_dir, r.required_str("file"));
  if (const toml::table* m = r.table(key)) {
    for (auto&& [k, v] : *m) {
      if (!v.is_string()) r.fail(key, fmt::format("expected {} = \"thread\" pairs", pair));
      w.targets[std::string(k.str())] = std::string(*v.value<std::string_view>());
    }
  }
  if (w.target.empty() == w.targets.empty()) {
    r.fail_table(fmt::format("needs either \"target\" ({}) or \"{}\" ({} = \"thread\"), not both", every, key, pair));
  }
}

// An Azure Functions trace: `file`, `targets`, `minutes`, `scale`.
void parse_azure(const Reader& r, const std::string& base_dir, Workload& w) {
  w.file = resolve(base_dir, r.required_str("file"));
  w.target_list = r.strings("targets");
  if (w.target_list.empty()) r.fail_table("missing key \"targets\" (threads that the trace's functions map onto)");
  if (const std::optional<std::string> m = r.str("minutes")) {
    const size_t colon = m->find(':');
    try {
      if (colon == std::string::npos) throw InputError("expected FROM:TO");
      w.minute_from = static_cast<uint32_t>(parse_uint(m->substr(0, colon), "value"));
      w.minute_to = static_cast<uint32_t>(parse_uint(m->substr(colon + 1), "value"));
      if (w.minute_to <= w.minute_from || w.minute_to > 1440) throw InputError("need FROM < TO <= 1440");
    } catch (const InputError& e) {
      r.fail("minutes", e.what());
    }
  }
  w.scale = r.number("scale", 1.0, 1e-9, 1e9);
  if (!r.has("cost")) r.fail_table("an azure workload needs \"cost\" (the trace has no per-invocation cost)");
}

// The keys of a workload's kind.
void parse_workload_model(const Reader& r, const std::string& name, const std::string& base_dir, Workload& w) {
  auto rate = [&](std::string_view k) {
    return *r.converted(k, [](std::string_view x) { return parse_rate(x, "value"); });
  };
  auto need_target = [&] {
    if (w.target.empty()) r.fail_table("missing key \"target\" (the sporadic thread that serves the arrivals)");
  };
  switch (w.kind) {
    case WorkloadKind::kPoisson:
      need_target();
      if (!r.has("rate")) r.fail_table("missing key \"rate\"");
      w.rate = rate("rate");
      break;
    case WorkloadKind::kClients:
      need_target();
      if (!r.has("rate")) r.fail_table("missing key \"rate\" (new clients per second)");
      w.rate = rate("rate");
      w.requests = static_cast<uint32_t>(r.integer("requests", 2, 1, 1'000'000));
      w.gap = r.duration("gap").value_or(w.gap);
      if (w.gap <= Duration::zero()) r.fail("gap", "must be > 0 (the time between a client's requests)");
      break;
    case WorkloadKind::kMmpp:
      need_target();
      parse_mmpp(r, w);
      break;
    case WorkloadKind::kIot:
      need_target();
      parse_iot(r, name, w);
      break;
    case WorkloadKind::kAr:
      w.stages = r.strings("stages");
      if (w.stages.empty()) r.fail_table("missing key \"stages\" (the pipeline's threads, in order)");
      w.fps = r.number("fps", 0, 0.001, 10000);
      if (w.fps == 0) r.fail_table("missing key \"fps\"");
      w.e2e_deadline = r.duration("e2e_deadline").value_or(Duration::zero());
      w.jitter = r.duration("jitter").value_or(Duration::zero());
      if (w.jitter < Duration::zero()) r.fail("jitter", "must be >= 0");
      break;
    case WorkloadKind::kKv:
      need_target();
      if (!r.has("rate")) r.fail_table("missing key \"rate\" (mean request rate; the ETC inter-arrival shape is kept)");
      w.rate = rate("rate");
      w.get_ratio = r.number("get_ratio", 30.0 / 31.0, 0, 1);
      w.cost_base = r.duration("cost_base").value_or(Duration::zero());
      w.cost_per_kib = r.duration("cost_per_kib").value_or(Duration::zero());
      if (!r.has("cost") && w.cost_base == Duration::zero() && w.cost_per_kib == Duration::zero()) {
        r.fail_table("a kv workload needs a per-request cost: \"cost\", \"cost_base\" or \"cost_per_kib\" (or several)");
      }
      break;
    case WorkloadKind::kTrace:
      parse_file_and_targets(r, base_dir, "one thread for every arrival", "targets", "tenant", w);
      break;
    case WorkloadKind::kAzure:
      parse_azure(r, base_dir, w);
      break;
    case WorkloadKind::kPcap:
      parse_file_and_targets(r, base_dir, "every packet", "ports", "\"port\"", w);
      w.cost_base = r.duration("cost_base").value_or(Duration::zero());
      w.cost_per_kib = r.duration("cost_per_kib").value_or(Duration::zero());
      break;
  }
}

// [[workload]] number `index`, after the threads of `s`.
Workload parse_workload(const toml::table& t, size_t index, const std::string& name, const std::string& base_dir,
                        const Scenario& s) {
  Workload w;
  parse_workload_kind(t, index, name, w);
  const Reader r(t, fmt::format("workload \"{}\" ({})", w.name, workload_kind_name(w.kind)), name, workload_keys(w.kind));
  w.start = r.duration("start").value_or(Duration::zero());
  w.stop = r.duration("stop").value_or(Duration::zero());
  if (w.start < Duration::zero()) r.fail("start", "must be >= 0");
  if (r.has("stop") && w.stop <= w.start) r.fail("stop", "must be after start");
  w.deadline = r.duration("deadline").value_or(Duration::zero());
  if (r.has("deadline") && w.deadline <= Duration::zero()) r.fail("deadline", "must be > 0");
  w.seed = static_cast<uint64_t>(r.integer("seed", 0, 0, INT64_MAX));
  w.target = r.str("target").value_or("");
  parse_workload_model(r, name, base_dir, w);
  // Cycles convert with the speed of the server of the threads the workload drives.
  if (r.has("cost")) {
    std::vector<std::string> driven = {w.target};
    for (const auto& [key, thread] : w.targets) driven.push_back(thread);
    driven.insert(driven.end(), w.target_list.begin(), w.target_list.end());
    double speed = 1e9;
    for (const std::string& d : driven) {
      if (const ThreadSpec* th = s.find_thread(split_thread_ref(d).thread)) {
        speed = speed_of_tenant(s, th->tenant);
        break;
      }
    }
    w.cost = parse_cost(r, "cost", speed);
  }
  w.where = r.location();
  return w;
}

// [[device]] number `index`.
DeviceGroup parse_device(const toml::table& t, size_t index, const std::string& name) {
  const Reader r(t, context_of(t, "device", index), name,
                 {"name", "hosts", "first", "count", "workload", "request", "response", "latency", "bandwidth"});
  DeviceGroup d;
  d.name = r.required_str("name");
  d.prefix = r.str("hosts").value_or(d.name);
  d.first = static_cast<uint32_t>(r.integer("first", 0, 0, 1 << 24));
  d.count = static_cast<uint32_t>(r.integer("count", 1, 1, 1 << 20));
  d.workload = r.required_str("workload");
  auto size = [&](std::string_view k) {
    return r.converted(k, [](std::string_view x) { return parse_size(x, "value"); }).value_or(0);
  };
  d.request_bytes = size("request");
  d.response_bytes = size("response");
  d.latency = r.duration("latency").value_or(Duration::zero());
  if (auto bw = r.converted("bandwidth", [](std::string_view x) { return parse_bandwidth(x); })) d.bandwidth_bps = *bw;
  d.where = r.location();
  return d;
}

}  // namespace

Scenario parse_scenario(std::string_view text, const std::string& name, const std::string& base_dir) {
  check_key_depth(text, name);
  const toml::table root = parse_toml(text, name);
  check_top_level(root, name);
  Scenario s;
  s.file = name;
  parse_head(root, name, s);
  for (const toml::table* t : tables(root, "server", name)) s.servers.push_back(parse_server(*t, s.servers.size(), name, base_dir));
  if (s.servers.empty()) s.servers.push_back(default_server(name));
  for (const toml::table* t : tables(root, "template", name)) s.templates.push_back(parse_template(*t, s.templates.size(), name));
  for (const toml::table* t : tables(root, "tenant", name)) {
    s.tenants.push_back(parse_tenant(*t, s.tenants.size(), name, s.servers.front().name));
  }
  for (const toml::table* t : tables(root, "thread", name)) s.threads.push_back(parse_thread(*t, s.threads.size(), name, s));
  for (const toml::table* t : tables(root, "invoke", name)) s.invokes.push_back(parse_invoke(*t, s.invokes.size(), name));
  for (const toml::table* t : tables(root, "ring", name)) s.rings.push_back(parse_ring(*t, s.rings.size(), name));
  for (const toml::table* t : tables(root, "workload", name)) {
    s.workloads.push_back(parse_workload(*t, s.workloads.size(), name, base_dir, s));
  }
  for (const toml::table* t : tables(root, "device", name)) s.devices.push_back(parse_device(*t, s.devices.size(), name));
  validate(s);
  return s;
}

Scenario load_scenario(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw InputError(fmt::format("{}: cannot open scenario file", path));
  std::ostringstream text;
  text << in.rdbuf();
  return parse_scenario(text.str(), path, std::filesystem::path(path).parent_path().string());
}

}  // namespace edgeos::scenario
