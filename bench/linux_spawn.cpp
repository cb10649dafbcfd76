// The Linux side of the startup comparison (see linux_spawn.hpp). Nothing here allocates between
// the clock reads of a caller: the argument vector is built once by the caller.
#include "linux_spawn.hpp"

#include <cerrno>

#include <pthread.h>
#include <spawn.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

extern char** environ;

namespace edgeos::bench {
namespace {

int reap(pid_t pid) {
  if (pid < 0) return -1;
  int status = 0;
  pid_t r;
  do {
    r = waitpid(pid, &status, 0);
  } while (r < 0 && errno == EINTR);
  if (r != pid || !WIFEXITED(status)) return -1;
  return WEXITSTATUS(status);
}

void* nothing(void*) { return nullptr; }

}  // namespace

std::string_view spawn_method_name(SpawnMethod m) {
  switch (m) {
    case SpawnMethod::kPosixSpawn:
      return "posix_spawn";
    case SpawnMethod::kForkExec:
      return "fork_exec";
    case SpawnMethod::kVforkExec:
      return "vfork_exec";
    case SpawnMethod::kPthread:
      return "pthread";
  }
  return "?";
}

bool parse_spawn_method(std::string_view name, SpawnMethod& out) {
  for (SpawnMethod m : {SpawnMethod::kPosixSpawn, SpawnMethod::kForkExec, SpawnMethod::kVforkExec, SpawnMethod::kPthread}) {
    if (name == spawn_method_name(m)) {
      out = m;
      return true;
    }
  }
  return false;
}

int spawn_and_wait(SpawnMethod method, char* const argv[]) {
  switch (method) {
    case SpawnMethod::kPosixSpawn: {
      pid_t pid = -1;
      if (posix_spawn(&pid, argv[0], nullptr, nullptr, argv, environ) != 0) return -1;
      return reap(pid);
    }
    case SpawnMethod::kForkExec: {
      const pid_t pid = fork();
      if (pid == 0) {
        execve(argv[0], argv, environ);
        _exit(127);
      }
      return reap(pid);
    }
    case SpawnMethod::kVforkExec: {
      // The child borrows the parent's memory until execve: it may only exec or _exit.
      const pid_t pid = vfork();
      if (pid == 0) {
        execve(argv[0], argv, environ);
        _exit(127);
      }
      return reap(pid);
    }
    case SpawnMethod::kPthread: {
      pthread_t t;
      if (pthread_create(&t, nullptr, nothing, nullptr) != 0) return -1;
      return pthread_join(t, nullptr) == 0 ? 0 : -1;
    }
  }
  return -1;
}

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return static_cast<int64_t>(ts.tv_sec) * 1'000'000'000 + ts.tv_nsec;
}

}  // namespace edgeos::bench
