#!/bin/sh
# Regenerates the sample traces of this folder (deterministic: fixed seeds).
#   examples/traces/make-samples.sh [path/to/edgeos]
set -eu
edgeos=${1:-build/cli/edgeos}
here=$(dirname "$0")

"$edgeos" gen iot --sensors 50 --period 100ms --jitter 5ms --burst 1s:300:100ms --duration 2s \
  --tenant plant --seed 11 --out "$here/iot-sample.jsonl"
"$edgeos" gen kv --rate 1k/s --cost-base 3us --cost-per-kib 1us --deadline 1ms --duration 2s \
  --tenant cache --seed 12 --out "$here/kv-sample.csv"
"$edgeos" gen pcap --rate 500/s --port 11211 --duration 2s --seed 13 --out "$here/sample.pcap"

# A slice in the format of the Azure Functions trace (invocations_per_function_md.anon.dNN.csv,
# Shahrad et al., ATC 2020): one row per function, one column per minute of the day. Counts are
# synthetic: a diurnal curve per function, with Poisson noise from a fixed seed.
/usr/bin/python3 - "$here/azure-sample.csv" <<'PY'
import math, random, sys
rng = random.Random(14)
triggers = ["http", "timer", "queue", "http", "event"]
lines = ["HashOwner,HashApp,HashFunction,Trigger," + ",".join(str(m) for m in range(1, 1441))]
for f, trigger in enumerate(triggers):
    base = [600, 60, 240, 1500, 30][f]
    counts = []
    for m in range(1440):
        mean = base * (1.0 + 0.5 * math.sin(2 * math.pi * (m - 360) / 1440))
        # Poisson by inversion of the exponential gaps (no numpy needed).
        n, t = 0, rng.expovariate(1.0)
        while t < mean:
            n += 1
            t += rng.expovariate(1.0)
        counts.append(str(n))
    lines.append(f"owner{f:02d},app{f:02d},func{f:02d},{trigger}," + ",".join(counts))
open(sys.argv[1], "w").write("\n".join(lines) + "\n")
PY
echo "samples written to $here"
