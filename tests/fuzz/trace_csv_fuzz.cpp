// libFuzzer entry point: the CSV arrival-trace reader (docs/traces.md; workloads/src/traces.cpp,
// CsvTrace), through arrivals::trace as a scenario's trace workload opens it. Each input is the
// file's contents; it is read twice: every record to one thread from time zero, and by tenant
// (plant, cache, a, t) shifted by 1s until 10s.
//
// Findings: any exception but InputError, a sanitizer report, or an arrival that breaks
// trace_drain.hpp's checks.
#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/arrivals.hpp"
#include "fuzz.hpp"
#include "trace_drain.hpp"

namespace edgeos::fuzz {
namespace {

void run_one(const std::string& path, bool by_tenant) {
  arrivals::Mapping m;
  Instant start = Instant::epoch(), stop = Instant::never();
  if (by_tenant) {
    m.by_tenant = {{"plant", 0}, {"cache", 1}, {"a", 2}, {"t", 3}};
    start = Instant::epoch() + Duration::seconds(1);
    stop = Instant::epoch() + Duration::seconds(10);
  } else {
    m.all = 0;
  }
  try {
    const std::unique_ptr<arrivals::Source> src = arrivals::trace(path, m, start, stop);
    drain(*src, start, stop, 4);
  } catch (const InputError&) {
  }
}

}  // namespace
}  // namespace edgeos::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static edgeos::fuzz::ScratchFile file(".csv");
  const std::string& path = file.write(data, size);
  edgeos::fuzz::run_one(path, false);
  edgeos::fuzz::run_one(path, true);
  return edgeos::fuzz::kKeep;
}
