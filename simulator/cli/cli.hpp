// The edgeos command line: one registration function per subcommand. Each parses its options
// with CLI11 and, when run, throws InputError for bad input (exit code 2).
#pragma once

#include <CLI/CLI.hpp>
#include <chrono>
#include <functional>
#include <string>

#include "edgeos/core/time.hpp"

namespace edgeos::cli {

inline constexpr int kExitOk = 0;
inline constexpr int kExitInternal = 1;
inline constexpr int kExitBadInput = 2;
// edgeos validate: the simulator and the kernel disagree.
inline constexpr int kExitDiffers = 3;

// A subcommand's action, run after parsing when it was selected.
using Action = std::function<int()>;

Action add_demo(CLI::App& app);
Action add_analyze(CLI::App& app);
Action add_sweep(CLI::App& app);
Action add_gen(CLI::App& app);
Action add_sim(CLI::App& app);
Action add_check(CLI::App& app);
Action add_boot(CLI::App& app);
Action add_validate(CLI::App& app);

// "simulated 3.2s of 10s (32%)" or "42 of 100 sets (42%)" on stderr, at most four times a
// second and only once the work has taken more than a second.
class ProgressLine {
 public:
  explicit ProgressLine(bool quiet) : quiet_(quiet), start_(Clock::now()), last_(start_) {}
  ~ProgressLine();
  void time(Instant reached, Instant horizon);
  void count(size_t done, size_t total, const char* what);

 private:
  using Clock = std::chrono::steady_clock;
  bool due();
  bool quiet_;
  bool shown_ = false;
  Clock::time_point start_, last_;
};

}  // namespace edgeos::cli
