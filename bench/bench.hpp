// Shared helpers of the benchmark binary: results are collected by name so that main() can print
// ratios between runs of the same process (e.g. 100k vs 1k ready threads).
#pragma once

#include <map>
#include <string>

namespace edgeos::bench {

// name of a benchmark run (as Google Benchmark prints it) -> nanoseconds per iteration (CPU time).
std::map<std::string, double>& results();
// name -> a rate counter value (items per second), for throughput benchmarks.
std::map<std::string, double>& rates();
// name -> trace records per second.
std::map<std::string, double>& record_rates();

}  // namespace edgeos::bench
