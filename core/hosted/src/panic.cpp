// The hosted definition of core's panic hook: report and abort (a debugger or the test runner
// takes it from there).
#include <cstdio>
#include <cstdlib>

#include "edgeos/core/base.hpp"

namespace edgeos {

[[noreturn]] void panic(const char* what, const char* file, int line) {
  std::fprintf(stderr, "edgeos: panic: %s (%s:%d)\n", what, file, line);
  std::fflush(stderr);
  std::abort();
}

}  // namespace edgeos
