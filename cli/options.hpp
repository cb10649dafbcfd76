// Parsing of the composite options several subcommands share.
#pragma once

#include <CLI/CLI.hpp>
#include <string>
#include <utility>
#include <vector>

#include "edgeos/analysis/analysis.hpp"
#include "edgeos/core/time.hpp"
#include "edgeos/simulator/core_sim.hpp"
#include "edgeos/workloads/generators.hpp"

namespace edgeos::cli {

// "10ms:1s" -> (10ms, 1s).
std::pair<Duration, Duration> parse_duration_range(const std::string& text, const char* what);
// "0.05:1:0.05" -> (from, to, step).
struct Steps {
  double from, to, step;
};
Steps parse_steps(const std::string& text, const char* what);
double parse_number(const std::string& text, const char* what);
// "5us,2us,3us,1us" -> release, schedule, context switch, timer.
analysis::Overheads parse_overheads(const std::string& text, const char* what);
// "5us,2us,3us,1us[,1us]" -> the simulator's overhead model: release, schedule, context switch,
// timer, and optionally invocation (each call and reply); as `edgeos validate` prints it.
sim::OverheadModel parse_sim_overheads(const std::string& text, const char* what);
analysis::Fit parse_fit(const std::string& text, const char* what);
std::vector<std::string> split_list(const std::string& text);

// "1G", "500M", "2GiB", "1.5GB", "4096": bytes. K, M, G, T and KiB, MiB, GiB, TiB are powers of
// 1024; kB, MB, GB, TB powers of 1000; B or no unit, bytes. Must be > 0. Throws InputError.
uint64_t parse_byte_size(const std::string& text, const char* what);

// Checks of output names, run by CLI11 as it parses (a refusal is bad usage, exit code 2):
// an output directory must be named and not be the root directory (a run would write its files
// into /); an output file must be named and not be a directory.
CLI::Validator output_dir();
CLI::Validator output_file();
// Seconds of wall time: a whole number > 0.
CLI::Validator positive_seconds();

// The generator options shared by `sweep` and `gen tasks`.
struct GeneratorOptions {
  size_t tasks = 10;
  std::string generator = "uunifast";
  std::string periods = "10ms:1s";
  std::string granularity = "1ms";
  std::string deadlines = "implicit";
  gen::TaskSetParams params() const;  // throws InputError
};

}  // namespace edgeos::cli
