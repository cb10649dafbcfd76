// The JSON form of summary figures, shared by every writer of summary.json (the trace summary,
// the scenario runner, the SimGrid backend) so that one statistic is spelled one way.
#pragma once

#include <nlohmann/json.hpp>

#include "edgeos/hosted/summary.hpp"

namespace edgeos {

// {"count", "min_ns", "p50_ns", "p99_ns", "max_ns", "mean_ns"}.
nlohmann::ordered_json response_stats_json(const ResponseStats& r);
// summary.json's document (summary_json() is its dump(2) and a newline), for writers that add keys.
nlohmann::ordered_json summary_to_json(const Summary& s);

}  // namespace edgeos
