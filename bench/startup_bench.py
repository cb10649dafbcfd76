#!/usr/bin/env python3
"""Whole-process times of the edgeos command line against /bin/true, medians of N runs.

    python3 bench/startup_bench.py [build/cli/edgeos] [-n 50]

Times `edgeos --version`, `edgeos analyze` of a generated 100-task set, and `edgeos sim` of the
same 100 tasks as an EDF scenario (one CPU, U = 0.9, 1 s simulated) with --trace csv, both and none,
each run as its own process (fork + exec + exit, as a shell runs it). /bin/true is timed in the
same loop, interleaved, so that a loaded machine slows both alike. Prints the shared objects the
executable loads, too.
"""
import argparse
import csv
import os
import pathlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = pathlib.Path(__file__).resolve().parent


def default_cli() -> str:
    return os.environ.get("EDGEOS_CLI") or str(HERE.parent / "build" / "cli" / "edgeos")


def scenario_from_tasks(tasks_csv: pathlib.Path, out: pathlib.Path) -> None:
    """The task set as a scenario: one EDF CPU, one tenant, a periodic thread per task."""
    lines = ['[scenario]', 'name = "startup-100"', 'duration = "1s"', '',
             '[[server]]', 'name = "s0"', 'cpus = 1', 'policy = "edf"', '',
             '[[tenant]]', 'name = "t"', '']
    with open(tasks_csv, newline="") as f:
        rows = csv.DictReader(line for line in f if not line.startswith("#"))
        for r in rows:
            lines += ['[[thread]]', f'name = "{r["name"]}"', 'tenant = "t"', f'period = "{r["period"]}"',
                      f'deadline = "{r["deadline"]}"', f'cost = "{r["wcet"]}"', '']
    out.write_text("\n".join(lines))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("edgeos", nargs="?", default=default_cli())
    ap.add_argument("-n", type=int, default=50, help="runs of each command (default 50)")
    a = ap.parse_args()
    edgeos = os.path.abspath(a.edgeos)
    if not os.access(edgeos, os.X_OK):
        print(f"startup_bench: {edgeos} is not an executable: build it (make) or pass its path", file=sys.stderr)
        return 2
    true = shutil.which("true") or "/bin/true"
    with tempfile.TemporaryDirectory(prefix="edgeos-startup-") as d:
        work = pathlib.Path(d)
        tasks = work / "tasks.csv"
        subprocess.run([edgeos, "gen", "tasks", "--tasks", "100", "--utilisation", "0.9", "--seed", "1",
                        "--out", str(tasks)], check=True, stdout=subprocess.DEVNULL)
        scenario = work / "tasks.toml"
        scenario_from_tasks(tasks, scenario)
        commands = {
            "/bin/true": [true],
            "edgeos --version": [edgeos, "--version"],
            "edgeos analyze (100 tasks)": [edgeos, "analyze", str(tasks)],
        }
        for trace in ("none", "csv", "both"):
            commands[f"edgeos sim (100 tasks, EDF, U=0.9, 1s), --trace {trace}"] = [
                edgeos, "sim", str(scenario), "--quiet", "--trace", trace, "--out", str(work / f"out-{trace}")]
        for cmd in commands.values():  # once each, unmeasured: page cache, and fail early
            subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        times = {name: [] for name in commands}
        for _ in range(a.n):
            for name, cmd in commands.items():
                t0 = time.perf_counter_ns()
                subprocess.run(cmd, stdout=subprocess.DEVNULL)
                times[name].append((time.perf_counter_ns() - t0) / 1e6)
        csv_size = (work / "out-csv" / "trace.csv").stat().st_size
    libs = subprocess.run(["ldd", edgeos], capture_output=True, text=True).stdout.splitlines()
    print(f"{os.path.basename(edgeos)}: {len(libs)} shared objects (ldd); medians of {a.n} runs, interleaved; "
          f"trace.csv of the sim run: {csv_size / 1e6:.1f} MB")
    base = statistics.median(times["/bin/true"])
    for name, ts in times.items():
        med = statistics.median(ts)
        extra = "" if name == "/bin/true" else f"  ({med - base:+.2f} ms over /bin/true)"
        print(f"  {name:<58} {med:8.2f} ms  min {min(ts):7.2f}{extra}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
