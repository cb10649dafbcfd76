"""``python -m edgeos sweep|batch``: sweeps and batches of scenarios on a Dask cluster.

``edgeos sweep --dask SPEC`` and ``edgeos batch`` (the C++ command line) run these, with the same
options; exit codes as the command line's: 0 success, 1 some tasks failed (named on stderr; a
batch still writes the runs that completed, with failures.csv), 2 bad usage or input.
"""

from __future__ import annotations

import argparse
import os
import pathlib
import sys
from typing import List, Optional, Tuple

from . import _edgeos
from .cluster import parse_dask_spec

DASK_HELP = ("where tasks run: local[:N] (a LocalCluster of N worker processes, default the CPU count) or "
             "tcp://HOST:PORT (a running dask-scheduler); without it, in this process")


def _split(text: str, what: str, n: int) -> List[str]:
    parts = text.split(":")
    if len(parts) != n or not all(parts):
        raise ValueError(f"{what}: expected {':'.join(['X'] * n)}, got {text!r}")
    return parts


def _float(text: str, what: str) -> float:
    try:
        return float(text)
    except ValueError:
        raise ValueError(f"{what}: expected a number, got {text!r}") from None


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> None:  # exit code 2, as the C++ command line
        self.print_usage(sys.stderr)
        print(f"{self.prog}: error: {message}", file=sys.stderr)
        sys.exit(2)


def _write(path: pathlib.Path, data: str) -> None:
    from .figures import _atomic_write
    if path.parent != pathlib.Path(""):
        path.parent.mkdir(parents=True, exist_ok=True)
    _atomic_write(path, data.encode())


def sweep_main(argv: List[str]) -> int:
    from .sweeps import sweep, sweep_csv
    ap = _Parser(prog="edgeos sweep", description="Schedulability-ratio sweep (the options of `edgeos sweep`), "
                                                   "its task sets spread over a Dask cluster.")
    ap.add_argument("--tasks", type=int, default=10)
    ap.add_argument("--cpus", type=int, default=1)
    ap.add_argument("--sets", type=int, default=100)
    ap.add_argument("--util", default="0.05:1:0.05", help="FROM:TO:STEP")
    ap.add_argument("--tests", default="rta,edf-qpa,sim-fp,sim-edf")
    ap.add_argument("--generator", default="uunifast")
    ap.add_argument("--periods", default="10ms:1s", help="MIN:MAX")
    ap.add_argument("--granularity", default="1ms")
    ap.add_argument("--deadlines", default="implicit")
    ap.add_argument("--fit", default="first")
    ap.add_argument("--horizon", default="1s")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", default="out/sweep.csv")
    ap.add_argument("--quiet", action="store_true")
    ap.add_argument("--dask", default="", help=DASK_HELP)
    ap.add_argument("--chunk", type=int, default=25, help="task sets per task (default 25)")
    ap.add_argument("--retries", type=int, default=2, help="times a task that raised is run again (default 2)")
    a = ap.parse_args(argv)
    try:
        if a.dask:
            parse_dask_spec(a.dask)
        u_from, u_to, u_step = (_float(x, "--util") for x in _split(a.util, "--util", 3))
        pmin, pmax = _split(a.periods, "--periods", 2)
        tests = [t for t in a.tests.split(",") if t]
        df = sweep(tests=tests, u_from=u_from, u_to=u_to, u_step=u_step, sets=a.sets, tasks=a.tasks, cpus=a.cpus,
                   seed=a.seed, horizon=a.horizon, period_min=pmin, period_max=pmax, granularity=a.granularity,
                   utilisations=a.generator, deadlines=a.deadlines, fit=a.fit, client=a.dask or None, workers=1,
                   chunk=a.chunk, retries=a.retries, progress=not a.quiet)
    except (_edgeos.InputError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    _write(pathlib.Path(a.out), sweep_csv(df))
    if not a.quiet:
        print(f"{'U/cpu':>6}" + "".join(f" {t:>13}" for t in tests))
        for u, group in df.groupby("utilisation", sort=False):
            print(f"{u:>6.3f}" + "".join(f" {r:>13.3f}" for r in group["ratio"]))
        print(f"acceptance ratios of {a.sets} sets of {a.tasks} tasks per point on {a.cpus} CPU(s) -> {a.out}")
    return 0


def _grid(specs: List[str]) -> List[Tuple[str, List[str]]]:
    out = []
    for s in specs:
        name, eq, values = s.partition("=")
        if not eq or not name or not values:
            raise ValueError(f"--grid: expected NAME=V1,V2,..., got {s!r}")
        out.append((name, values.split(",")))
    return out


def batch_main(argv: List[str]) -> int:
    from .sweeps import run_batch, scenario_grid, scenario_tasks
    ap = _Parser(prog="edgeos batch", description="Simulates scenario files (or every *.toml of folders) with "
                 "each seed, one task per scenario and seed, here or on a Dask cluster; writes OUT/batch.csv (one "
                 "row per run), OUT/failures.csv and OUT/runs/SCENARIO/seed-SEED/summary.json.")
    ap.add_argument("scenarios", nargs="+", help="scenario files or folders")
    ap.add_argument("--seeds", default="", help="comma-separated seeds (default: each scenario's own)")
    ap.add_argument("--duration", default=None, help="replace every scenario's duration (with a unit: 500ms)")
    ap.add_argument("--grid", action="append", default=[], metavar="NAME=V1,V2",
                    help="a parameter grid: every ${NAME} in the scenarios takes each value (repeatable)")
    ap.add_argument("--traces", action="store_true", help="also write each run's trace.csv")
    ap.add_argument("--out", default="out/batch", help="output directory (default out/batch)")
    ap.add_argument("--dask", default="", help=DASK_HELP)
    ap.add_argument("--retries", type=int, default=2, help="times a task that raised is run again (default 2)")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    try:
        if a.dask:
            parse_dask_spec(a.dask)
        seeds: List[Optional[int]] = [None]
        if a.seeds:
            try:
                seeds = [int(s) for s in a.seeds.split(",")]
            except ValueError:
                raise ValueError(f"--seeds: expected comma-separated whole numbers, got {a.seeds!r}") from None
        tasks = scenario_tasks(a.scenarios)
        grid = _grid(a.grid)
        if grid:
            tasks = [g for t in tasks for g in scenario_grid(t, **dict(grid))]
        res = run_batch(tasks, seeds, duration=a.duration, client=a.dask or None, retries=a.retries,
                        traces=a.traces, progress=not a.quiet)
    except (_edgeos.InputError, ValueError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    except RuntimeError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    res.write(a.out)
    for scenario, seed, message in res.failures.itertuples(index=False):
        print(f"failed: {scenario} (seed {seed}): {message}", file=sys.stderr)
    if not a.quiet:
        print(f"{len(res.table)} run(s) done, {len(res.failures)} failed -> {a.out}/batch.csv")
    return 0 if res.ok else 1


def main(argv: Optional[List[str]] = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if not argv or argv[0] not in ("sweep", "batch"):
        print("usage: python -m edgeos sweep|batch [options]  (--help for each)", file=sys.stderr)
        return 2
    return sweep_main(argv[1:]) if argv[0] == "sweep" else batch_main(argv[1:])


if __name__ == "__main__":
    sys.exit(main())
