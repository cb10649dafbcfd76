// Reading scenarios from TOML (toml++). Errors name file, line, column and key, and suggest the
// nearest valid key for a misspelt one.
#pragma once

#include <string>
#include <string_view>

#include "edgeos/workloads/scenario.hpp"

namespace edgeos::scenario {

// Parses and validates. Relative paths in the scenario (platform files, traces) are resolved
// against the directory of `path`. Throws InputError.
Scenario load_scenario(const std::string& path);
// The same from text; `name` is used in messages and `base_dir` to resolve relative paths.
Scenario parse_scenario(std::string_view text, const std::string& name, const std::string& base_dir);

// Units shared with other inputs: "500/s", "2k/s", "1.5kHz", "100/ms" (per second); "2.4GHz",
// "800MHz"; "256B", "4KiB", "1MiB". Throw InputError naming `what`.
double parse_rate(std::string_view text, std::string_view what);
double parse_frequency(std::string_view text, std::string_view what);
uint64_t parse_size(std::string_view text, std::string_view what);

// The closest of `candidates` to `word` by edit distance, or "" if none is close.
std::string nearest(std::string_view word, const std::vector<std::string_view>& candidates);

}  // namespace edgeos::scenario
