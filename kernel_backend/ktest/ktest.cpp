#include "ktest.hpp"

#include "../kernel/console.hpp"

extern "C" const edgeos::ktest::Case __ktests_start[], __ktests_end[];

namespace edgeos::ktest {

void Context::fail(const char* file, int line, const char* what) {
  ++failures;
  kernel::kprintf("    %s:%d: expected %s\n", file, line, what);
}

int run_all() {
  const int total = static_cast<int>(__ktests_end - __ktests_start);
  int failed = 0, skipped = 0;
  kernel::kprintf("ktest: %d tests\n", total);
  for (const Case* c = __ktests_start; c != __ktests_end; ++c) {
    Context ctx;
    c->run(ctx);
    if (ctx.failures != 0) {
      ++failed;
      kernel::kprintf("ktest: %-48s FAILED\n", c->name);
    } else if (ctx.skipped != nullptr) {
      ++skipped;
      kernel::kprintf("ktest: %-48s skipped (%s)\n", c->name, ctx.skipped);
    } else {
      kernel::kprintf("ktest: %-48s ok\n", c->name);
    }
  }
  kernel::kprintf("ktest: %d of %d passed, %d skipped\n", total - failed - skipped, total, skipped);
  return failed;
}

}  // namespace edgeos::ktest
