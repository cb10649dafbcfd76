#!/bin/sh
# Runs every benchmark of a build and prints the summary of ratios.
# Usage: scripts/run-benchmarks.sh [BUILD_DIR] [extra Google Benchmark flags]
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
# Five repetitions of each, reported as mean/median/stddev; the summary uses the medians.
exec "$build/bench/edgeos_bench" --benchmark_min_time=0.2 --benchmark_repetitions=5 \
    --benchmark_report_aggregates_only=true "$@"
