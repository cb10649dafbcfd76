#include "options.hpp"

#include <fmt/format.h>

#include <cctype>
#include <charconv>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <system_error>

#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"

namespace edgeos::cli {

std::vector<std::string> split_list(const std::string& text) {
  std::vector<std::string> out;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i == text.size() || text[i] == ',' || text[i] == ':') {
      out.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  }
  return out;
}

std::pair<Duration, Duration> parse_duration_range(const std::string& text, const char* what) {
  const size_t colon = text.find(':');
  if (colon == std::string::npos) throw InputError(fmt::format("{}: expected MIN:MAX, e.g. 10ms:1s, got '{}'", what, text));
  const Duration lo = parse_duration(text.substr(0, colon), what);
  const Duration hi = parse_duration(text.substr(colon + 1), what);
  if (lo <= Duration::zero() || hi < lo) throw InputError(fmt::format("{}: need 0 < MIN <= MAX, got '{}'", what, text));
  return {lo, hi};
}

double parse_number(const std::string& text, const char* what) {
  char* end = nullptr;
  const double v = std::strtod(text.c_str(), &end);
  if (text.empty() || end != text.c_str() + text.size() || !std::isfinite(v)) {
    throw InputError(fmt::format("{}: expected a number, got '{}'", what, text));
  }
  return v;
}

Steps parse_steps(const std::string& text, const char* what) {
  const std::vector<std::string> parts = split_list(text);
  if (parts.size() != 3) throw InputError(fmt::format("{}: expected FROM:TO:STEP, e.g. 0.05:1:0.05, got '{}'", what, text));
  return Steps{parse_number(parts[0], what), parse_number(parts[1], what), parse_number(parts[2], what)};
}

analysis::Overheads parse_overheads(const std::string& text, const char* what) {
  const std::vector<std::string> parts = split_list(text);
  if (parts.size() != 4) {
    throw InputError(fmt::format("{}: expected RELEASE,SCHEDULE,SWITCH,TIMER, e.g. 5us,2us,3us,1us, got '{}'", what, text));
  }
  analysis::Overheads o;
  o.release = parse_duration(parts[0], what);
  o.schedule = parse_duration(parts[1], what);
  o.context_switch = parse_duration(parts[2], what);
  o.timer = parse_duration(parts[3], what);
  return o;
}

sim::OverheadModel parse_sim_overheads(const std::string& text, const char* what) {
  const std::vector<std::string> parts = split_list(text);
  if (parts.size() < 4 || parts.size() > 6) {
    throw InputError(fmt::format(
        "{}: expected RELEASE,SCHEDULE,SWITCH,TIMER[,INVOCATION[,MIGRATION]], e.g. 5us,2us,3us,1us,1us,4us, got '{}'", what,
        text));
  }
  constexpr Overhead kOrder[] = {Overhead::kRelease, Overhead::kSchedule,   Overhead::kContextSwitch,
                                 Overhead::kTimer,   Overhead::kInvocation, Overhead::kMigration};
  sim::OverheadModel m;
  for (size_t i = 0; i < parts.size(); ++i) {
    const Duration d = parse_duration(parts[i], what);
    if (d < Duration::zero()) throw InputError(fmt::format("{}: '{}': an overhead cannot be negative", what, parts[i]));
    m[kOrder[i]] = d;
  }
  return m;
}

analysis::Fit parse_fit(const std::string& text, const char* what) {
  if (text == "first") return analysis::Fit::kFirst;
  if (text == "best") return analysis::Fit::kBest;
  if (text == "worst") return analysis::Fit::kWorst;
  throw InputError(fmt::format("{}: expected first, best or worst, got '{}'", what, text));
}

uint64_t parse_byte_size(const std::string& text, const char* what) {
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.')) ++i;
  const std::string number = text.substr(0, i);
  const std::string unit = text.substr(i);
  char* end = nullptr;
  const double v = number.empty() ? 0 : std::strtod(number.c_str(), &end);
  static const std::pair<const char*, double> kUnits[] = {
      {"", 1},          {"B", 1},         {"K", 0x1p10},    {"KiB", 0x1p10}, {"kB", 1e3},   {"M", 0x1p20},
      {"MiB", 0x1p20},  {"MB", 1e6},      {"G", 0x1p30},    {"GiB", 0x1p30}, {"GB", 1e9},   {"T", 0x1p40},
      {"TiB", 0x1p40},  {"TB", 1e12}};
  double scale = 0;
  for (const auto& [name, factor] : kUnits) {
    if (unit == name) scale = factor;
  }
  if (number.empty() || end != number.c_str() + number.size() || scale == 0) {
    throw InputError(fmt::format("{}: expected a size such as 500M, 2G or 1GiB (units B, K, M, G, T, KiB ... TiB, kB ... TB), "
                                 "got '{}'",
                                 what, text));
  }
  const double bytes = std::floor(v * scale);
  if (!(bytes >= 1) || bytes >= 0x1p63) throw InputError(fmt::format("{}: must be at least 1 byte and below 8 EiB, got '{}'", what, text));
  return static_cast<uint64_t>(bytes);
}

CLI::Validator output_dir() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        if (v.empty()) return "expected a directory, got an empty name";
        namespace fs = std::filesystem;
        std::error_code ec;
        const fs::path resolved = fs::weakly_canonical(fs::absolute(v, ec), ec);
        if (fs::path(v).lexically_normal() == "/" || (!ec && resolved == resolved.root_path())) {
          return "'" + v + "' is the root directory; name a directory to write into (e.g. out/run1)";
        }
        return "";
      },
      "DIR");
}

CLI::Validator output_file() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        if (v.empty()) return "expected a file name, got an empty one";
        std::error_code ec;
        if (v.back() == '/' || std::filesystem::is_directory(v, ec)) return "'" + v + "' is a directory; name a file";
        return "";
      },
      "FILE");
}

CLI::Validator positive_seconds() {
  return CLI::Validator(
      [](std::string& v) -> std::string {
        long long n = 0;
        const auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
        if (ec != std::errc() || p != v.data() + v.size() || n <= 0 || n > 1'000'000'000) {
          return "expected a whole number of seconds > 0, got '" + v + "'";
        }
        return "";
      },
      "SECONDS");
}

gen::TaskSetParams GeneratorOptions::params() const {
  gen::TaskSetParams p;
  if (tasks == 0) throw InputError("--tasks: must be >= 1");
  p.tasks = tasks;
  p.utilisations = gen::parse_utilisations(generator, "--generator");
  const auto [lo, hi] = parse_duration_range(periods, "--periods");
  p.period_min = lo;
  p.period_max = hi;
  p.granularity = parse_duration(granularity, "--granularity");
  if (p.granularity <= Duration::zero() || p.granularity > lo) {
    throw InputError(fmt::format("--granularity: must be in (0, {}] (the shortest period)", format_duration(lo)));
  }
  p.deadlines = gen::parse_deadlines(deadlines, "--deadlines");
  return p;
}

}  // namespace edgeos::cli
