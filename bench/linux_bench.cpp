// Linux process and thread creation on this host, for the record beside the kernel's FWP
// creation (bench/boot_bench.py prints both): what a tenant costs to start as a process.
#include <benchmark/benchmark.h>
#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>

extern char** environ;

namespace edgeos::bench {
namespace {

// The smallest program there is to start: /bin/true.
char kTrue[] = "/bin/true";
char* const kArgv[] = {kTrue, nullptr};

void wait_ok(benchmark::State& state, pid_t pid) {
  int status = 0;
  if (pid < 0 || waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    state.SkipWithError("the child did not run /bin/true");
  }
}

void BM_LinuxPosixSpawn(benchmark::State& state) {
  for (auto _ : state) {
    pid_t pid = -1;
    if (posix_spawn(&pid, kTrue, nullptr, nullptr, kArgv, environ) != 0) pid = -1;
    wait_ok(state, pid);
  }
}
BENCHMARK(BM_LinuxPosixSpawn)->UseRealTime()->Unit(benchmark::kMicrosecond);

void BM_LinuxForkExec(benchmark::State& state) {
  for (auto _ : state) {
    const pid_t pid = fork();
    if (pid == 0) {
      execve(kTrue, kArgv, environ);
      _exit(127);
    }
    wait_ok(state, pid);
  }
}
BENCHMARK(BM_LinuxForkExec)->UseRealTime()->Unit(benchmark::kMicrosecond);

void* nothing(void*) { return nullptr; }

void BM_LinuxPthreadCreate(benchmark::State& state) {
  for (auto _ : state) {
    pthread_t t;
    if (pthread_create(&t, nullptr, nothing, nullptr) != 0 || pthread_join(t, nullptr) != 0) {
      state.SkipWithError("pthread_create failed");
    }
  }
}
BENCHMARK(BM_LinuxPthreadCreate)->UseRealTime()->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace edgeos::bench
