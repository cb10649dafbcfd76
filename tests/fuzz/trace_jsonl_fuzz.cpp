// libFuzzer entry point: the JSON Lines arrival-trace reader (docs/traces.md;
// workloads/src/traces.cpp, JsonlTrace), through arrivals::trace as a scenario's trace workload
// opens it. Each input is the file's contents; it is read twice: every record to one thread from
// time zero, and by tenant (plant, cache, a, t) shifted by 1s until 10s.
//
// Findings: any exception but InputError, a sanitizer report, or an arrival that breaks
// trace_drain.hpp's checks.
#include <nlohmann/json.hpp>
#include <string_view>

#include "edgeos/hosted/error.hpp"
#include "edgeos/workloads/arrivals.hpp"
#include "fuzz.hpp"
#include "trace_drain.hpp"

namespace edgeos::fuzz {
namespace {

// Known issue, fixed on another branch: a time, cost or deadline of 2^63 ns or more (after its
// unit) does not fit the reader's int64 conversion. Inputs with one are skipped.
bool known_huge_number(std::string_view text) {
  size_t pos = 0;
  double scale[3] = {1, 1, 1};  // time, cost, deadline: ns unless the header says otherwise
  const char* keys[3] = {"time", "cost", "deadline"};
  bool header = true;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    const nlohmann::json j = nlohmann::json::parse(text.substr(pos, nl - pos), nullptr, false);
    pos = nl + 1;
    if (!j.is_object()) {
      header = false;
      continue;
    }
    if (header) {
      header = false;
      const auto units = j.find("units");
      if (units == j.end() || !units->is_object()) continue;
      for (int k = 0; k < 3; ++k) {
        const auto u = units->find(keys[k]);
        if (u == units->end() || !u->is_string()) continue;
        const std::string& s = u->get_ref<const std::string&>();
        scale[k] = s == "us" ? 1e3 : s == "ms" ? 1e6 : s == "s" ? 1e9 : 1;
      }
      continue;
    }
    for (int k = 0; k < 3; ++k) {
      const auto v = j.find(keys[k]);
      if (v != j.end() && v->is_number() && v->get<double>() * scale[k] >= 9.2e18) return true;
    }
  }
  return false;
}

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
  if (edgeos::fuzz::known_huge_number(std::string_view(reinterpret_cast<const char*>(data), size))) {
    return edgeos::fuzz::kReject;
  }
  static edgeos::fuzz::ScratchFile file(".jsonl");
  const std::string& path = file.write(data, size);
  edgeos::fuzz::run_one(path, false);
  edgeos::fuzz::run_one(path, true);
  return edgeos::fuzz::kKeep;
}
