#!/usr/bin/env python3
"""Whole-process times of `edgeos sim` on a 100-task EDF set against the goals of issue 20.

    python3 bench/sim_goals.py [build/cli/edgeos] [-n 21]

The set: `edgeos gen tasks --tasks 100 --utilisation 0.9 --periods 1ms:100ms --seed 3` (UUniFast,
log-uniform periods, implicit deadlines) as a one-CPU EDF scenario, 1 s simulated (about 22k
jobs), and the same over 10 s (about 220k jobs). Each command is its own process (fork + exec +
exit, as a shell runs it), run N times, interleaved with its baselines so that a loaded machine
slows them alike: /bin/true (process start-up), `cat` of the run's trace files into one file of
the same size (writing as many bytes), and the no-trace run. Prints medians of wall time and of
CPU time (user + system, from wait4), the ratios, and each goal met or missed.
"""
import argparse
import json
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from startup_bench import default_cli, scenario_from_tasks  # noqa: E402

GEN = ["--tasks", "100", "--utilisation", "0.9", "--periods", "1ms:100ms", "--seed", "3"]


def timed(cmd, stdout=subprocess.DEVNULL):
    """(wall s, CPU s) of one process."""
    t0 = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=stdout)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    if p.returncode != 0:
        raise SystemExit(f"sim_goals: {' '.join(map(str, cmd))} exited with {p.returncode}")
    return wall, ru.ru_utime + ru.ru_stime


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("edgeos", nargs="?", default=default_cli())
    ap.add_argument("-n", type=int, default=21, help="runs of each command (default 21)")
    a = ap.parse_args()
    edgeos = os.path.abspath(a.edgeos)
    if not os.access(edgeos, os.X_OK):
        print(f"sim_goals: {edgeos} is not an executable: build it (make) or pass its path", file=sys.stderr)
        return 2
    true = shutil.which("true") or "/bin/true"
    cat = shutil.which("cat") or "/bin/cat"
    with tempfile.TemporaryDirectory(prefix="edgeos-goals-") as d:
        work = pathlib.Path(d)
        tasks = work / "tasks.csv"
        subprocess.run([edgeos, "gen", "tasks", *GEN, "--out", str(tasks)], check=True, stdout=subprocess.DEVNULL)
        scenario = work / "tasks.toml"
        scenario_from_tasks(tasks, scenario)
        sim = lambda horizon, trace: [edgeos, "sim", str(scenario), "--quiet", "--duration", horizon, "--trace", trace,
                                      "--out", str(work / f"out-{horizon}-{trace}")]
        runs = {}
        for horizon in ("1s", "10s"):
            runs[f"{horizon} none"] = sim(horizon, "none")
            runs[f"{horizon} both"] = sim(horizon, "both")
        for cmd in runs.values():  # once each, unmeasured: page cache, and fail early
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        jobs, traces = {}, {}
        for horizon in ("1s", "10s"):
            out = work / f"out-{horizon}-both"
            jobs[horizon] = json.loads((out / "summary.json").read_text())["total"]["released"]
            traces[horizon] = sorted(p for p in out.iterdir() if p.name.startswith("trace."))
        sizes = {h: ", ".join(f"{p.name} {p.stat().st_size / 1e6:.1f} MB" for p in ps) for h, ps in traces.items()}
        times = {name: [] for name in ["/bin/true", *runs, "cat 1s traces", "cat 10s traces"]}
        for _ in range(a.n):
            times["/bin/true"].append(timed([true]))
            for name, cmd in runs.items():
                times[name].append(timed(cmd))
            for horizon in ("1s", "10s"):
                with open(work / "cat.out", "wb") as sink:
                    times[f"cat {horizon} traces"].append(timed([cat, *map(str, traces[horizon])], stdout=sink))
    med = {name: (statistics.median(w for w, _ in ts), statistics.median(c for _, c in ts)) for name, ts in times.items()}
    print(f"{os.path.basename(edgeos)} sim: 100 tasks (gen tasks {' '.join(GEN)}), one CPU under EDF; "
          f"{jobs['1s']} jobs in 1 s, {jobs['10s']} in 10 s; medians of {a.n} interleaved runs")
    print(f"  traces: 1 s: {sizes['1s']}; 10 s: {sizes['10s']}")
    print(f"  {'':<34} {'wall':>9} {'CPU':>9}")
    for name, (w, c) in med.items():
        print(f"  {name:<34} {w * 1e3:7.2f}ms {c * 1e3:7.2f}ms")
    true_w = med["/bin/true"][0]
    rows = []
    for horizon, goal in (("1s", 0.040), ("10s", 0.2)):
        both_w, both_c = med[f"{horizon} both"]
        none_w, none_c = med[f"{horizon} none"]
        cat_w = med[f"cat {horizon} traces"][0]
        print(f"  {horizon}: both traces add {100 * (both_w / none_w - 1):+.0f}% wall ({100 * (both_c / none_c - 1):+.0f}% CPU) "
              f"to the no-trace run; the traces' extra {1e3 * (both_w - none_w):.2f} ms is "
              f"{(both_w - none_w) / max(cat_w - true_w, 1e-9):.1f}x cat's writing of as many bytes "
              f"({1e3 * (cat_w - true_w):.2f} ms over /bin/true); no-trace run {1e3 * (none_w - true_w):.2f} ms over /bin/true")
        rows.append((f"{horizon}, both traces, whole process", both_w, both_c, goal))
        if horizon == "1s":
            rows.append(("1s, no trace, whole process", none_w, none_c, 0.008))
            rows.append(("1s, both traces / no trace", both_w / none_w, both_c / none_c, 1.30))
    print("  goals (wall time; CPU time beside it, which a loaded machine inflates less):")
    verdict = lambda got, goal: "met" if got <= goal else f"missed by {100 * (got / goal - 1):.0f}%"
    for what, wall, cpu, goal in rows:
        unit = "" if what.endswith("no trace") else " s"
        print(f"    {what:<34} {wall:8.4f}{unit} (goal <= {goal}{unit}): {verdict(wall, goal):<15} CPU {cpu:.4f}{unit}: "
              f"{verdict(cpu, goal)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
