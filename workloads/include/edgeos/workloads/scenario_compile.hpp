// Compiling a scenario into the binary form the kernel boots with (scenario_blob.hpp).
#pragma once

#include <string>

#include "edgeos/workloads/scenario.hpp"

namespace edgeos::scenario {

// The compiled bytes of a validated scenario. Throws InputError for what the format cannot hold
// (a capability table over kCapSlots, counts beyond its limits).
std::string compile_scenario(const Scenario& s);
// compile_scenario, written atomically.
void write_compiled_scenario(const std::string& path, const Scenario& s);

}  // namespace edgeos::scenario
