// Linux process and thread creation on this host, for the record beside the kernel's FWP
// creation (bench/boot_bench.py prints both): what a tenant costs to start as a process. The
// operations are in linux_spawn.cpp, shared with `linux_spawn`, which times them one by one
// (medians and tails) for `python -m edgeos paper`.
#include <benchmark/benchmark.h>

#include "linux_spawn.hpp"

namespace edgeos::bench {
namespace {

// The smallest program there is to start: /bin/true.
char kTrue[] = "/bin/true";
char* const kArgv[] = {kTrue, nullptr};

void run(benchmark::State& state, SpawnMethod method) {
  for (auto _ : state) {
    if (spawn_and_wait(method, kArgv) != 0) state.SkipWithError("the child did not run /bin/true");
  }
}

void BM_LinuxPosixSpawn(benchmark::State& state) { run(state, SpawnMethod::kPosixSpawn); }
BENCHMARK(BM_LinuxPosixSpawn)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_LinuxForkExec(benchmark::State& state) { run(state, SpawnMethod::kForkExec); }
BENCHMARK(BM_LinuxForkExec)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_LinuxVforkExec(benchmark::State& state) { run(state, SpawnMethod::kVforkExec); }
BENCHMARK(BM_LinuxVforkExec)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_LinuxPthreadCreate(benchmark::State& state) {
  for (auto _ : state) {
    if (spawn_and_wait(SpawnMethod::kPthread, kArgv) != 0) state.SkipWithError("pthread_create failed");
  }
}
BENCHMARK(BM_LinuxPthreadCreate)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace edgeos::bench
