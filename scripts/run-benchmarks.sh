#!/bin/sh
# Runs every benchmark of a build and prints the summary of ratios; then the kernel's
# microbenchmarks under QEMU (bench/boot_bench.py), where the kernel and QEMU are there.
# Usage: scripts/run-benchmarks.sh [BUILD_DIR] [extra Google Benchmark flags]
set -eu
build=${1:-build}
[ $# -gt 0 ] && shift
# Five repetitions of each, interleaved at random (a noisy VM then hits every benchmark alike),
# reported as mean/median/stddev; the summary uses the medians.
"$build/bench/edgeos_bench" --benchmark_min_time=0.2 --benchmark_repetitions=5 --benchmark_enable_random_interleaving=true \
    --benchmark_report_aggregates_only=true "$@"
# The SimGrid backend (one simulation per process).
"$build/bench/simgrid_bench" single
"$build/bench/simgrid_bench" cluster
if [ -f "$build/kernel_backend/edgeos-kernel.elf" ] && command -v qemu-system-x86_64 >/dev/null 2>&1; then
    /usr/bin/python3 "$(dirname "$0")/../bench/boot_bench.py" --build "$build"
else
    echo "(kernel microbenchmarks skipped: no kernel image or no qemu-system-x86_64)"
fi
