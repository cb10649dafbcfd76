// libFuzzer entry point: the value parsers of the command line and of scenario values
// (core/hosted parse.hpp, workloads' parse_rate/parse_frequency/parse_size and the generator
// options, cli/options.cpp). The first byte of an input picks the parser (its value
// modulo kParsers), the rest is the text given to it.
//
// Findings: any exception but InputError, a sanitizer report, or a value that breaks what the
// parser promises: a duration is >= 0 and formats back to itself (format_duration), an integer
// is the decimal the text spells, rates, frequencies and numbers are finite and positive where
// required, ranges are ordered, overheads are non-negative, and generated task sets have
// 0 < C <= D <= T with T near the requested range.
#include <charconv>
#include <cmath>
#include <cstring>
#include <string>
#include <string_view>

#include "edgeos/core/rng.hpp"
#include "edgeos/hosted/error.hpp"
#include "edgeos/hosted/parse.hpp"
#include "edgeos/simulator/core_sim.hpp"
#include "edgeos/workloads/generators.hpp"
#include "edgeos/workloads/scenario_toml.hpp"
#include "fuzz.hpp"
#include "options.hpp"

namespace edgeos::fuzz {
namespace {

constexpr int kParsers = 17;

void check_duration(Duration d) {
  EDGEOS_FUZZ_CHECK(d >= Duration::zero() && !d.is_infinite());
  EDGEOS_FUZZ_CHECK(parse_duration(format_duration(d), "again") == d);
}

// "generator|periods|granularity|deadlines", as `edgeos gen tasks` and `edgeos sweep` take them.
void generator_options(const std::string& text) {
  const std::vector<std::string> parts = [&] {
    std::vector<std::string> out;
    size_t start = 0;
    for (size_t i = 0; i <= text.size(); ++i) {
      if (i == text.size() || text[i] == '|') {
        out.push_back(text.substr(start, i - start));
        start = i + 1;
      }
    }
    return out;
  }();
  if (parts.size() != 4) return;
  cli::GeneratorOptions o;
  o.tasks = 4;
  o.generator = parts[0];
  o.periods = parts[1];
  o.granularity = parts[2];
  o.deadlines = parts[3];
  gen::TaskSetParams p = o.params();
  p.utilisation = 0.75;
  Rng rng(1);
  for (const analysis::Task& t : gen::generate(rng, p)) {
    EDGEOS_FUZZ_CHECK(t.wcet > Duration::zero() && t.wcet <= t.deadline && t.deadline <= t.period);
    EDGEOS_FUZZ_CHECK(t.period >= p.granularity);
    EDGEOS_FUZZ_CHECK(t.period + p.granularity >= p.period_min && t.period <= p.period_max + p.granularity);
  }
}

void run(int parser, const std::string& text) {
  switch (parser) {
    case 0: check_duration(parse_duration(text, "--duration")); break;
    case 1: {
      const uint64_t v = parse_uint(text, "--seed");
      uint64_t w = 0;
      const auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), w);
      EDGEOS_FUZZ_CHECK(ec == std::errc() && p == text.data() + text.size() && v == w);
      break;
    }
    case 2: {
      const double r = scenario::parse_rate(text, "--rate");
      EDGEOS_FUZZ_CHECK(std::isfinite(r) && r > 0);
      break;
    }
    case 3: {
      const double f = scenario::parse_frequency(text, "speed");
      EDGEOS_FUZZ_CHECK(std::isfinite(f) && f > 0);
      break;
    }
    case 4: EDGEOS_FUZZ_CHECK(scenario::parse_size(text, "slot_size") <= 4'000'000'000u); break;
    case 5: {
      const auto [lo, hi] = cli::parse_duration_range(text, "--periods");
      EDGEOS_FUZZ_CHECK(lo > Duration::zero() && lo <= hi);
      check_duration(lo);
      check_duration(hi);
      break;
    }
    case 6: {
      const cli::Steps s = cli::parse_steps(text, "--util");
      EDGEOS_FUZZ_CHECK(std::isfinite(s.from) && std::isfinite(s.to) && std::isfinite(s.step));
      break;
    }
    case 7: EDGEOS_FUZZ_CHECK(std::isfinite(cli::parse_number(text, "--utilisation"))); break;
    case 8: {
      const analysis::Overheads o = cli::parse_overheads(text, "--overheads");
      for (const Duration d : {o.release, o.schedule, o.context_switch, o.timer}) check_duration(d);
      break;
    }
    case 9: {
      const sim::OverheadModel m = cli::parse_sim_overheads(text, "--overheads");
      for (const Duration d : m.cost) check_duration(d);
      break;
    }
    case 10: (void)cli::parse_fit(text, "--fit"); break;
    case 11: (void)gen::parse_utilisations(text, "--generator"); break;
    case 12: (void)gen::parse_deadlines(text, "--deadlines"); break;
    case 13: (void)sim::parse_policy(text, "--policy"); break;
    case 14: {
      size_t separators = 0;
      for (const char c : text) separators += c == ',' || c == ':';
      EDGEOS_FUZZ_CHECK(cli::split_list(text).size() == separators + 1);
      break;
    }
    case 15: generator_options(text); break;
    case 16: {
      // Any duration formats to text that parses back to it (negative ones keep their sign).
      int64_t ns = 0;
      std::memcpy(&ns, text.data(), std::min(text.size(), sizeof ns));
      const Duration d = Duration::nanoseconds(ns);
      if (d.is_infinite()) break;
      const std::string s = format_duration(d);
      if (ns >= 0) {
        EDGEOS_FUZZ_CHECK(parse_duration(s, "formatted") == d);
      } else {
        EDGEOS_FUZZ_CHECK(s[0] == '-' && (ns == INT64_MIN || parse_duration(s.substr(1), "formatted") == -d));
      }
      break;
    }
  }
}

}  // namespace
}  // namespace edgeos::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return edgeos::fuzz::kKeep;
  const std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  try {
    edgeos::fuzz::run(data[0] % edgeos::fuzz::kParsers, text);
  } catch (const edgeos::InputError&) {
  }
  return edgeos::fuzz::kKeep;
}
