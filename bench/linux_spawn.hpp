// Linux process and thread creation, timed one at a time: the operations bench/linux_bench.cpp
// runs under Google Benchmark (means) and bench/linux_spawn_main.cpp (`linux_spawn`) runs as
// individual samples (medians and tails, for `python -m edgeos paper`).
#pragma once

#include <cstdint>
#include <string_view>

namespace edgeos::bench {

enum class SpawnMethod : uint8_t { kPosixSpawn, kForkExec, kVforkExec, kPthread };

// "posix_spawn", "fork_exec", "vfork_exec", "pthread"; parse_spawn_method returns false on anything else.
std::string_view spawn_method_name(SpawnMethod m);
bool parse_spawn_method(std::string_view name, SpawnMethod& out);

// Starts argv[0] (an absolute path; argv ends with nullptr) with `method` and waits for it to
// exit; kPthread instead creates a thread that returns at once and joins it (argv unused).
// Returns the child's exit status (0-255), or -1 if it could not be started, did not exit
// normally or (pthread) could not be created or joined.
int spawn_and_wait(SpawnMethod method, char* const argv[]);

// Monotonic clock in nanoseconds (CLOCK_MONOTONIC).
int64_t monotonic_ns();

}  // namespace edgeos::bench
