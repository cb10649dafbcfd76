#include "edgeos/hosted/parse.hpp"

#include <fmt/format.h>

#include <limits>

#include "edgeos/hosted/error.hpp"

namespace edgeos {

namespace {

struct Unit {
  std::string_view name;
  int64_t ns;
};

// Longest names first so that "ms" is not read as "m" + "s".
constexpr Unit kUnits[] = {
    {"min", 60'000'000'000}, {"ns", 1}, {"us", 1'000}, {"ms", 1'000'000}, {"s", 1'000'000'000},
    {"h", 3'600'000'000'000},
};

[[noreturn]] void fail(std::string_view what, std::string_view text, std::string_view why) {
  throw InputError(fmt::format("{}: invalid duration '{}': {} (write a number and a unit: "
                               "ns, us, ms, s, min or h, e.g. '2ms' or '1.5s')",
                               what, text, why));
}

}  // namespace

Duration parse_duration(std::string_view text, std::string_view what) {
  size_t i = 0;
  if (i < text.size() && (text[i] == '+' || text[i] == '-')) {
    if (text[i] == '-') fail(what, text, "must not be negative");
    ++i;
  }
  int128_t whole = 0;
  int128_t frac = 0;
  int128_t frac_scale = 1;
  size_t digits = 0;
  for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
    whole = whole * 10 + (text[i] - '0');
    if (whole > std::numeric_limits<int64_t>::max()) fail(what, text, "too large");
  }
  if (i < text.size() && text[i] == '.') {
    ++i;
    for (; i < text.size() && text[i] >= '0' && text[i] <= '9'; ++i, ++digits) {
      if (frac_scale < 1'000'000'000'000'000'000LL) {
        frac = frac * 10 + (text[i] - '0');
        frac_scale *= 10;
      } else if (text[i] != '0') {
        fail(what, text, "more decimals than nanoseconds resolve");
      }
    }
  }
  if (digits == 0) fail(what, text, "no number");
  const std::string_view unit_text = text.substr(i);
  if (unit_text.empty()) fail(what, text, "missing unit");
  for (const Unit& u : kUnits) {
    if (unit_text == u.name) {
      const int128_t ns_whole = whole * u.ns;
      const int128_t ns_frac_num = frac * u.ns;
      if (ns_frac_num % frac_scale != 0) fail(what, text, "not a whole number of nanoseconds");
      const int128_t total = ns_whole + ns_frac_num / frac_scale;
      if (total >= std::numeric_limits<int64_t>::max()) fail(what, text, "too large");
      return Duration::nanoseconds(static_cast<int64_t>(total));
    }
  }
  fail(what, text, fmt::format("unknown unit '{}'", unit_text));
}

std::string format_duration(Duration d) {
  if (d.is_infinite()) return "inf";
  // The magnitude as unsigned: -INT64_MIN does not fit int64_t.
  const std::string sign = d.ns() < 0 ? "-" : "";
  const uint64_t ns = d.ns() < 0 ? 0 - static_cast<uint64_t>(d.ns()) : static_cast<uint64_t>(d.ns());
  struct Scale {
    uint64_t ns;
    const char* name;
  };
  constexpr Scale kScales[] = {{1'000'000'000, "s"}, {1'000'000, "ms"}, {1'000, "us"}};
  for (const Scale& s : kScales) {
    if (ns >= s.ns) {
      const uint64_t whole = ns / s.ns;
      const uint64_t rest = ns % s.ns;
      if (rest == 0) return fmt::format("{}{}{}", sign, whole, s.name);
      // Exact decimal: strip trailing zeros from the fractional part.
      int width = 0;
      for (uint64_t v = s.ns; v > 1; v /= 10) ++width;
      std::string frac = fmt::format("{:0{}}", rest, width);
      while (!frac.empty() && frac.back() == '0') frac.pop_back();
      return fmt::format("{}{}.{}{}", sign, whole, frac, s.name);
    }
  }
  return fmt::format("{}{}ns", sign, ns);
}

uint64_t parse_uint(std::string_view text, std::string_view what) {
  if (text.empty()) throw InputError(fmt::format("{}: expected a non-negative integer, got ''", what));
  uint64_t v = 0;
  for (const char ch : text) {
    if (ch < '0' || ch > '9') {
      throw InputError(fmt::format("{}: expected a non-negative integer, got '{}'", what, text));
    }
    const uint64_t digit = static_cast<uint64_t>(ch - '0');
    if (v > (std::numeric_limits<uint64_t>::max() - digit) / 10) {
      throw InputError(fmt::format("{}: '{}' is too large", what, text));
    }
    v = v * 10 + digit;
  }
  return v;
}

}  // namespace edgeos
