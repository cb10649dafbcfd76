// In-kernel unit tests, in the manner of Zircon's kernel unittests: a KTEST registers a function
// in the .ktests section; booting with the command line "ktest" runs every one of them on the
// bare machine (after the CPU, memory and clock are set up, before any scenario), reports each
// over the serial console, and leaves through isa-debug-exit with success only if all passed.
//
// They test what only the machine can: the frame allocator, page tables, user-pointer checks,
// the program image's sharing of code and copying of data, the clock. The core's logic is
// tested hosted (core/tests), where it is the same code.
#pragma once

#include "edgeos/core/base.hpp"

namespace edgeos::ktest {

struct Context {
  int failures = 0;
  const char* skipped = nullptr;  // why the test did not run, if it did not
  void fail(const char* file, int line, const char* what);
};

struct Case {
  const char* name;
  void (*run)(Context&);
};

// Runs every registered test; returns the number that failed. A skipped test (one that needs a
// CPU feature this machine lacks) is reported as such and is not a failure.
int run_all();

}  // namespace edgeos::ktest

#define KTEST(name)                                                                                   \
  static void ktest_##name(::edgeos::ktest::Context&);                                               \
  [[gnu::used, gnu::section(".ktests")]] static const ::edgeos::ktest::Case ktest_case_##name = {#name, \
                                                                                              ktest_##name}; \
  static void ktest_##name([[maybe_unused]] ::edgeos::ktest::Context& ktest_context)

// A failed expectation is reported with its file, line and text; the test goes on.
#define KEXPECT(cond) ((cond) ? (void)0 : ktest_context.fail(__FILE_NAME__, __LINE__, #cond))
// The test cannot run on this machine (say why): reported as skipped, neither passed nor failed.
#define KSKIP(why)                  \
  do {                              \
    ktest_context.skipped = (why);  \
    return;                         \
  } while (0)
// A failed assertion also ends the test (later steps would depend on it).
#define KASSERT(cond)                                     \
  do {                                                    \
    if (!(cond)) {                                        \
      ktest_context.fail(__FILE_NAME__, __LINE__, #cond);      \
      return;                                             \
    }                                                     \
  } while (0)
