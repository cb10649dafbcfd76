// linux_spawn: times process (and thread) creation on this host one sample at a time, for
// `python -m edgeos paper` (medians and tails, where Google Benchmark's edgeos_bench gives means).
//
//   linux_spawn [--reps N] [--warmup W] [--methods M,M,...] -- PROGRAM [ARG...]
//
// Methods: posix_spawn, fork_exec, vfork_exec (PROGRAM started and waited for), pthread (a
// thread that returns at once, created and joined; PROGRAM unused). Each repetition runs every
// method once, in the order given (interleaved, so that a noisy machine hits every method
// alike), after W untimed warm-up rounds. Prints CSV on standard output, one line per sample
// as it is taken:
//
//   method,rep,ns,status
//
// ns: CLOCK_MONOTONIC nanoseconds from just before the creation call until waitpid (or
// pthread_join) returned; status: the child's exit status, or -1 if it could not be started or
// did not exit normally. Exit code: 0 if every sample had status 0, 3 if some did not, 2 on bad
// usage.
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <string_view>
#include <vector>

#include "linux_spawn.hpp"

using edgeos::bench::SpawnMethod;

namespace {

int usage(const char* why) {
  std::fprintf(stderr,
               "linux_spawn: %s\nusage: linux_spawn [--reps N] [--warmup W] [--methods posix_spawn,fork_exec,"
               "vfork_exec,pthread] -- PROGRAM [ARG...]\n",
               why);
  return 2;
}

bool parse_count(const char* text, long& out) {
  char* end = nullptr;
  const long v = std::strtol(text, &end, 10);
  if (end == text || *end != '\0' || v < 0 || v > 100'000'000) return false;
  out = v;
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  long reps = 1000;
  long warmup = 3;
  std::vector<SpawnMethod> methods = {SpawnMethod::kPosixSpawn, SpawnMethod::kForkExec, SpawnMethod::kVforkExec,
                                      SpawnMethod::kPthread};
  int i = 1;
  for (; i < argc; ++i) {
    const std::string_view a = argv[i];
    if (a == "--") {
      ++i;
      break;
    }
    if (i + 1 >= argc) return usage("an option without its value");
    if (a == "--reps") {
      if (!parse_count(argv[++i], reps) || reps == 0) return usage("--reps: expected a count >= 1");
    } else if (a == "--warmup") {
      if (!parse_count(argv[++i], warmup)) return usage("--warmup: expected a count >= 0");
    } else if (a == "--methods") {
      methods.clear();
      std::string_view list = argv[++i];
      while (!list.empty()) {
        const size_t comma = list.find(',');
        SpawnMethod m;
        if (!edgeos::bench::parse_spawn_method(list.substr(0, comma), m)) return usage("--methods: unknown method");
        methods.push_back(m);
        list = comma == std::string_view::npos ? std::string_view{} : list.substr(comma + 1);
      }
      if (methods.empty()) return usage("--methods: none given");
    } else {
      return usage("unknown option");
    }
  }
  if (i >= argc) return usage("no PROGRAM after --");
  if (argv[i][0] != '/') return usage("PROGRAM: an absolute path (no PATH search)");
  char* const* child = argv + i;  // argv ends with nullptr, as execve wants

  for (long w = 0; w < warmup; ++w) {
    for (SpawnMethod m : methods) (void)edgeos::bench::spawn_and_wait(m, child);
  }
  std::printf("method,rep,ns,status\n");
  bool all_ok = true;
  for (long r = 0; r < reps; ++r) {
    for (SpawnMethod m : methods) {
      const int64_t t0 = edgeos::bench::monotonic_ns();
      const int status = edgeos::bench::spawn_and_wait(m, child);
      const int64_t t1 = edgeos::bench::monotonic_ns();
      all_ok = all_ok && status == 0;
      const std::string_view name = edgeos::bench::spawn_method_name(m);
      std::printf("%.*s,%ld,%lld,%d\n", static_cast<int>(name.size()), name.data(), r,
                  static_cast<long long>(t1 - t0), status);
    }
    std::fflush(stdout);  // outside the timed region: the reader shows progress
  }
  return all_ok ? 0 : 3;
}
