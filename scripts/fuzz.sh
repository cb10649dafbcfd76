#!/bin/sh
# make fuzz: builds the libFuzzer harnesses (the `fuzz` preset: clang++-14, build-fuzz/) and runs
# each one, FUZZ_JOBS at a time, for FUZZ_SECONDS seconds or FUZZ_RUNS executions, starting from
# its committed corpus (tests/fuzz/README.md). Prints, per target, the executions, the edges
# covered (libFuzzer's cov), the corpus size and the crashes. A crash, leak, timeout or
# out-of-memory input is minimised (-minimize_crash) into tests/fuzz/crashes/<target>/: commit it
# with the fix, and `ctest -L fuzz` replays it from then on.
#
#   FUZZ_SECONDS  seconds per target (default 120: about 15 minutes in all on 2 cores, build included)
#   FUZZ_RUNS     executions per target instead of a time limit
#   FUZZ_JOBS     targets fuzzed side by side (default 2)
#   FUZZ_TARGETS  which targets (default: all)
#   FUZZ_MERGE=1  merge what was found into the committed corpora (minimised with -merge=1)
#
# Work files (new inputs, logs, raw crash artifacts) go to build-fuzz/fuzz/<target>/.
set -eu

root=$(cd "$(dirname "$0")/.." && pwd)
build=$root/build-fuzz
fuzz=$root/tests/fuzz
all="scenario blob cli trace_csv trace_jsonl trace_azure trace_pcap net"

# binary, -max_len and dictionary of a target.
binary() {
  if [ "$1" = net ]; then echo "$build/kernel_backend/net/edgeos-net-fuzz"; else echo "$build/tests/fuzz/edgeos-fuzz-$1"; fi
}
max_len() {
  case $1 in
    scenario) echo 8192 ;;
    blob) echo 65536 ;;
    cli) echo 256 ;;
    trace_azure) echo 16384 ;;
    net) echo 1600 ;;
    *) echo 4096 ;;
  esac
}

# Runs one target; writes build-fuzz/fuzz/<target>/summary.
run_one() {
  t=$1
  bin=$(binary "$t")
  work=$build/fuzz/$t
  rm -rf "$work"
  mkdir -p "$work/new" "$work/artifacts"
  set -- -max_len="$(max_len "$t")" -timeout=20 -rss_limit_mb=2560 -print_final_stats=1 -artifact_prefix="$work/artifacts/"
  [ -f "$fuzz/dict/$t.dict" ] && set -- "$@" -dict="$fuzz/dict/$t.dict"
  if [ -n "${FUZZ_RUNS:-}" ]; then set -- "$@" -runs="$FUZZ_RUNS"; else set -- "$@" -max_total_time="${FUZZ_SECONDS:-120}"; fi
  set -- "$@" "$work/new"
  [ -d "$fuzz/corpus/$t" ] && set -- "$@" "$fuzz/corpus/$t"
  "$bin" "$@" >"$work/log" 2>&1 || true

  execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -n 1)
  [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\).*cov:.*/\1/p' "$work/log" | tail -n 1)
  edges=$(sed -n 's/.*cov: \([0-9]*\).*/\1/p' "$work/log" | tail -n 1)
  corpus=$(sed -n 's/.*corp: \([0-9]*\)\/.*/\1/p' "$work/log" | tail -n 1)
  crashes=0
  for a in "$work"/artifacts/crash-* "$work"/artifacts/leak-* "$work"/artifacts/timeout-* "$work"/artifacts/oom-*; do
    [ -f "$a" ] || continue
    crashes=$((crashes + 1))
    mkdir -p "$fuzz/crashes/$t"
    name=$(basename "$a")
    "$bin" -minimize_crash=1 -max_total_time=60 -timeout=20 -exact_artifact_path="$fuzz/crashes/$t/$name" "$a" \
      >"$work/minimize-$name.log" 2>&1 || true
    [ -f "$fuzz/crashes/$t/$name" ] || cp "$a" "$fuzz/crashes/$t/$name"
    echo "$t: $name -> tests/fuzz/crashes/$t/$name (log: $work/log)" >&2
  done
  if [ "${FUZZ_MERGE:-0}" = 1 ] && [ "$crashes" = 0 ]; then
    rm -rf "$work/merged"
    mkdir -p "$work/merged"
    # Edges only (-use_counters=0): the fewest inputs that keep every edge, not every hit count.
    set -- -merge=1 -use_counters=0 -max_len="$(max_len "$t")" "$work/merged"
    [ -d "$fuzz/corpus/$t" ] && set -- "$@" "$fuzz/corpus/$t"
    if "$bin" "$@" "$work/new" >"$work/merge.log" 2>&1; then
      rm -rf "$fuzz/corpus/$t"
      mv "$work/merged" "$fuzz/corpus/$t"
      corpus="$corpus->$(ls "$fuzz/corpus/$t" | wc -l)"  # found -> committed after merging
    fi
  fi
  echo "$t ${execs:-?} ${edges:-?} ${corpus:-?} $crashes" >"$work/summary"
}

if [ "${1:-}" = --one ]; then
  run_one "$2"
  exit 0
fi

command -v clang++-14 >/dev/null || { echo "make fuzz: needs clang++-14 (Debian's clang-14 package)" >&2; exit 1; }
ls /usr/lib/llvm-14/lib/clang/*/lib/linux/libclang_rt.fuzzer-x86_64.a >/dev/null 2>&1 ||
  { echo "make fuzz: needs clang-14's libFuzzer runtime (Debian's libclang-rt-14-dev)" >&2; exit 1; }
# The trace harnesses rewrite a scratch file per input: in memory, not on disk.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then TMPDIR=/dev/shm; export TMPDIR; fi
start=$(date +%s)
cmake --preset fuzz --log-level=WARNING >/dev/null
cmake --build --preset fuzz -j "${FUZZ_JOBS:-2}"
built=$(date +%s)
targets=${FUZZ_TARGETS:-$all}
printf '%s\n' $targets | xargs -P "${FUZZ_JOBS:-2}" -I{} "$0" --one {}

status=0
printf '\n%-12s %12s %8s %10s %8s\n' target executions edges corpus crashes
for t in $targets; do
  if [ -f "$build/fuzz/$t/summary" ]; then
    read -r name execs edges corpus crashes <"$build/fuzz/$t/summary"
    printf '%-12s %12s %8s %10s %8s\n' "$name" "$execs" "$edges" "$corpus" "$crashes"
    [ "$crashes" = 0 ] || status=1
  else
    printf '%-12s (did not run: see %s)\n' "$t" "$build/fuzz/$t/log"
    status=1
  fi
done
end=$(date +%s)
echo "make fuzz: built in $((built - start))s, fuzzed in $((end - built))s; logs in build-fuzz/fuzz/<target>/log"
[ "$status" = 0 ] || echo "make fuzz: crashes were saved under tests/fuzz/crashes/ (see above)" >&2
exit "$status"
