#include <cstdio>

#include "cli.hpp"
#include "edgeos/hosted/summary.hpp"

namespace edgeos::cli {

ProgressLine::~ProgressLine() {
  if (shown_) std::fputs("\n", stderr);
}

bool ProgressLine::due() {
  if (quiet_) return false;
  const auto now = Clock::now();
  if (now - start_ < std::chrono::seconds(1) || now - last_ < std::chrono::milliseconds(250)) return false;
  last_ = now;
  shown_ = true;
  return true;
}

void ProgressLine::time(Instant reached, Instant horizon) {
  if (!due()) return;
  const double pct = 100.0 * static_cast<double>(reached.ns()) / static_cast<double>(horizon.ns());
  std::fprintf(stderr, "\rsimulated %s of %s (%.0f%%)", format_duration_short(reached - Instant::epoch()).c_str(),
               format_duration_short(horizon - Instant::epoch()).c_str(), pct);
  std::fflush(stderr);
}

void ProgressLine::count(size_t done, size_t total, const char* what) {
  if (!due()) return;
  std::fprintf(stderr, "\r%zu of %zu %s (%.0f%%)", done, total, what, 100.0 * static_cast<double>(done) / static_cast<double>(total));
  std::fflush(stderr);
}

}  // namespace edgeos::cli
