// libFuzzer entry point: the packet-capture arrival reader (docs/traces.md;
// workloads/src/traces.cpp, PcapTrace, over Debian's libpcap), through arrivals::pcap as a
// scenario's pcap workload opens it. Each input is the file's contents; it is read twice: every
// packet to one thread from time zero, and by UDP/TCP destination port (11211, 5683, 53) shifted
// by 1s until 10s.
//
// Findings: any exception but InputError, a sanitizer report, or an arrival that breaks
// trace_drain.hpp's checks.
#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/arrivals.hpp"
#include "fuzz.hpp"
#include "trace_drain.hpp"

namespace edgeos::fuzz {
namespace {

void run_one(const std::string& path, bool by_port) {
  std::map<uint16_t, uint32_t> ports;
  std::optional<uint32_t> all;
  Instant start = Instant::epoch(), stop = Instant::never();
  if (by_port) {
    ports = {{11211, 0}, {5683, 1}, {53, 2}};
    start = Instant::epoch() + Duration::seconds(1);
    stop = Instant::epoch() + Duration::seconds(10);
  } else {
    all = 0;
  }
  try {
    const std::unique_ptr<arrivals::Source> src = arrivals::pcap(path, ports, all, start, stop);
    drain(*src, start, stop, 3);
  } catch (const InputError&) {
  }
}

}  // namespace
}  // namespace edgeos::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static edgeos::fuzz::ScratchFile file(".pcap");
  const std::string& path = file.write(data, size);
  edgeos::fuzz::run_one(path, false);
  edgeos::fuzz::run_one(path, true);
  return edgeos::fuzz::kKeep;
}
