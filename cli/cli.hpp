// The edgeos command line: one registration function per subcommand. Each parses its options
// with CLI11 and, when run, throws InputError for bad input (exit code 2).
#pragma once

#include <CLI/CLI.hpp>
#include <signal.h>

#include <atomic>
#include <chrono>
#include <functional>
#include <string>
#include <vector>

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
Action add_replay(CLI::App& app);
Action add_batch(CLI::App& app);

// Replaces this process by `python3 -m edgeos ARGS...` (python_exec.cpp): the commands that run on
// a Dask cluster. Throws if the interpreter cannot be started.
[[noreturn]] void exec_python_module(const std::vector<std::string>& args);

// The command line main() was given (argv, null-terminated), for a command that re-runs it in
// another executable.
char* const* command_line();

// Signals (SIGINT, SIGTERM, SIGHUP; not those the process started ignoring). By default one
// removes the temporary files of the outputs being written (AtomicFile) and ends the process as
// the signal would: an output file is then either whole from this run or as it was before.
// main() installs this; a library that installs its own (SimGrid does, for SIGINT) must be
// followed by another call.
void install_signal_handlers();

// While one is in scope, the first signal only sets flag() (and signal()), for a run that polls it
// to stop between two instants; a second signal ends the process as above. Construct it before
// creating the outputs. request_stop() sets the flag for another reason (an output limit).
class StopOnSignal {
 public:
  StopOnSignal();
  ~StopOnSignal();
  StopOnSignal(const StopOnSignal&) = delete;
  StopOnSignal& operator=(const StopOnSignal&) = delete;
  const std::atomic<bool>* flag() const;
  void request_stop();
  int signal() const;  // the signal received, 0 if none
};

// Holds signals back while in scope (e.g. while renaming several outputs into place, so that they
// all change or none does); they are delivered when it ends.
class SignalsHeld {
 public:
  SignalsHeld();
  ~SignalsHeld();
  SignalsHeld(const SignalsHeld&) = delete;
  SignalsHeld& operator=(const SignalsHeld&) = delete;

 private:
  sigset_t old_;
};

// "SIGINT", "SIGTERM", "SIGHUP".
const char* signal_name(int sig);

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
