"""Acceptance-ratio sweeps (the schedulability figure of real-time papers) and batches of
scenarios, in parallel: in this process, a local process pool, or a Dask cluster.

A sweep draws ``sets`` task sets per utilisation step and counts how many each test accepts
(simulator/include/edgeos/simulator/sweep.hpp). The work is cut into chunks of sets, each run
by the C++ core in a worker. Task set k of step s is drawn from (seed, s, k) whatever the
chunking, so the result equals ``edgeos sweep`` with the same parameters.

A batch (:func:`run_batch`) simulates scenarios, each with each of a list of seeds: one task per
(scenario, seed). A task carries the scenario's text and the bytes of the files it refers to by
relative paths (replayed traces: :class:`ScenarioTask`), never a path on this machine, so any
worker can run it. Results come back as data and are merged in task order (scenario, then seed),
whatever order they complete in: :meth:`BatchResult.csv` is the same bytes on a cluster as here.
A scenario that fails (malformed, a missing trace) is reported with its name and message and the
others complete. How the work is spread and how faults are handled: :mod:`edgeos.cluster`.
"""

from __future__ import annotations

import io
import itertools
import json
import os
import pathlib
import string
import tempfile
from dataclasses import dataclass, field
from typing import Any, Callable, Dict, Iterable, List, Optional, Sequence, Tuple, Union

import pandas as pd

from . import _edgeos
from .cluster import TaskFailure, connect, run_tasks

__all__ = ["sweep", "sweep_tests", "sweep_csv", "ScenarioTask", "scenario_task", "scenario_tasks", "scenario_grid",
           "run_batch", "BatchResult", "BATCH_COLUMNS"]

ProgressCallback = Callable[[int, int, int], None]


def sweep_tests() -> List[str]:
    """The tests a sweep can run (analyses, and sim-fp / sim-edf simulations)."""
    return list(_edgeos.sweep_tests())


def _chunk(params: Dict[str, Any], step: int, first: int, count: int) -> List[Tuple[float, str, int, int]]:
    return [tuple(r) for r in _edgeos.sweep_sets(params, step, first, count)]


def sweep(*, tests: Sequence[str] = ("rta", "edf-qpa", "sim-fp", "sim-edf"), u_from: float = 0.05, u_to: float = 1.0,
          u_step: float = 0.05, sets: int = 100, tasks: int = 10, cpus: int = 1, seed: int = 1,
          horizon: Any = "1s", period_min: Any = "10ms", period_max: Any = "1s", granularity: Any = "1ms",
          utilisations: str = "uunifast", deadlines: str = "implicit", fit: str = "first",
          client: Optional[Any] = None, workers: Optional[int] = None, chunk: int = 25,
          progress: bool = True, retries: int = 2, on_progress: Optional[ProgressCallback] = None) -> pd.DataFrame:
    """Runs a sweep; returns a DataFrame with columns utilisation, test, accepted, sets, ratio.

    client: where the chunks run: a ``dask.distributed.Client``, ``"local[:N]"`` (a LocalCluster
      of N worker processes, started for this sweep) or ``"tcp://HOST:PORT"`` (a running
      scheduler); otherwise a local process pool of ``workers`` processes (default: the CPU
      count; 1 runs in this process).
    chunk: task sets per unit of work. progress: done / failed / remaining over the chunks.
    retries: times a chunk that raised is run again (a lost worker's chunks are rescheduled by
      Dask anyway). on_progress(done, failed, remaining): called after each chunk ends.
    Raises RuntimeError naming the chunks that failed, if any did (a partial sweep is not a sweep).
    """
    params: Dict[str, Any] = dict(tests=list(tests), u_from=u_from, u_to=u_to, u_step=u_step, sets=sets, tasks=tasks,
                                  cpus=cpus, seed=seed, horizon=horizon, period_min=period_min,
                                  period_max=period_max, granularity=granularity, utilisations=utilisations,
                                  deadlines=deadlines, fit=fit)
    if chunk < 1:
        raise ValueError("chunk: must be >= 1")
    steps = _edgeos.sweep_steps(params)  # validates the parameters here, before any worker starts
    jobs = [(s, first, min(chunk, sets - first)) for s in range(len(steps)) for first in range(0, sets, chunk)]
    tasks_ = [(f"u{s}-sets{first}", (params, s, first, count)) for s, first, count in jobs]
    with connect(client) as c:
        n = 1 if c is not None else (workers if workers is not None else (os.cpu_count() or 1))
        results, failures = run_tasks(_chunk, tasks_, client=c, workers=n, retries=retries, progress=progress,
                                      desc="sweep", on_progress=on_progress)
    if failures:
        raise RuntimeError(f"sweep: {len(failures)} of {len(jobs)} chunks failed: "
                           + "; ".join(f"{f.key}: {f.message}" for f in failures))
    totals: Dict[Tuple[int, str], List[int]] = {}
    for (key, _), (s, _, _) in zip(tasks_, jobs):
        for (_, test, accepted, count) in results[key]:
            acc = totals.setdefault((s, test), [0, 0])
            acc[0] += accepted
            acc[1] += count
    out = [(steps[s], test, a, n_, a / n_ if n_ else 0.0) for s in range(len(steps)) for test in params["tests"]
           for a, n_ in [totals[(s, test)]]]
    return pd.DataFrame(out, columns=["utilisation", "test", "accepted", "sets", "ratio"])


def sweep_csv(df: pd.DataFrame) -> str:
    """The sweep as ``edgeos sweep --out`` writes it, byte for byte (sweep_csv in sweep.cpp)."""
    lines = ["utilisation,test,accepted,sets,ratio\n"]
    for u, test, accepted, sets, ratio in df[["utilisation", "test", "accepted", "sets", "ratio"]].itertuples(index=False):
        lines.append(f"{float(u):.4f},{test},{int(accepted)},{int(sets)},{float(ratio):.6f}\n")
    return "".join(lines)


# --- batches of scenarios --------------------------------------------------------------------------

@dataclass(frozen=True)
class ScenarioTask:
    """A scenario as a worker gets it: everything needed, nothing to read from this machine.

    name: how messages and results name it (its file name, or the grid point).
    text: the TOML text.
    files: (path as written in the scenario, bytes) of each file it refers to (the ``file`` of
      trace, azure and pcap workloads; a server's SimGrid ``platform``), relative to the scenario.
    error: set when the task could not be prepared (a referenced file missing or absolute); the
      worker then reports it as the scenario's failure.
    """
    name: str
    text: str
    files: Tuple[Tuple[str, bytes], ...] = ()
    error: Optional[str] = None


def _referenced_files(text: str) -> List[Tuple[str, str]]:
    """(key, path) of every file a scenario text refers to; [] if it is not TOML (the worker's
    parser reports that, with the line)."""
    import tomllib
    try:
        root = tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return []

    def tables(key: str) -> List[Dict[str, Any]]:
        node = root.get(key)
        if isinstance(node, dict):
            return [node]
        return [t for t in node if isinstance(t, dict)] if isinstance(node, list) else []

    out = [("workload.file", t["file"]) for t in tables("workload") if isinstance(t.get("file"), str)]
    out += [("server.platform", t["platform"]) for t in tables("server") if isinstance(t.get("platform"), str)]
    return [(k, p) for k, p in out if p]


def scenario_task(path: Union[str, os.PathLike], name: Optional[str] = None, text: Optional[str] = None) -> ScenarioTask:
    """Reads a scenario file and the files it refers to into a :class:`ScenarioTask`.

    text: use this instead of the file's content (files are still found relative to ``path``)."""
    p = pathlib.Path(path)
    name = name or p.name
    if text is None:
        text = p.read_text()
    files: Dict[str, bytes] = {}
    for key, ref in _referenced_files(text):
        if os.path.isabs(ref):
            return ScenarioTask(name, text, (), f"{name}: {key} = \"{ref}\" is an absolute path, which a worker on "
                                                "another host cannot read: write it relative to the scenario file, "
                                                "and the file is sent with the task")
        try:
            files[ref] = (p.parent / ref).read_bytes()
        except OSError as e:
            return ScenarioTask(name, text, (), f"{name}: {key} = \"{ref}\" cannot be read next to the scenario "
                                                f"({e.strerror or e}); fix the path (relative to {p.name})")
    return ScenarioTask(name, text, tuple(sorted(files.items())))


def scenario_tasks(paths: Iterable[Union[str, os.PathLike]]) -> List[ScenarioTask]:
    """Scenario files, and the ``*.toml`` files of folders (sorted by name), as tasks. Names must
    be unique (a folder's files are named by their path below it)."""
    out: List[ScenarioTask] = []
    for path in paths:
        p = pathlib.Path(path)
        if p.is_dir():
            found = sorted(p.rglob("*.toml"))
            if not found:
                raise ValueError(f"{p}: no scenario files (*.toml) in this folder")
            out += [scenario_task(f, name=f.relative_to(p).as_posix()) for f in found]
        elif p.is_file():
            out.append(scenario_task(p))
        else:
            raise ValueError(f"{p}: no such scenario file or folder")
    names = [t.name for t in out]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ValueError(f"two scenarios are named {dup[0]!r}: give them different file names")
    return out


def scenario_grid(base: Union[ScenarioTask, str, os.PathLike], **values: Sequence[Any]) -> List[ScenarioTask]:
    """One task per point of a parameter grid: the scenario's text has ``${name}`` placeholders
    (string.Template), replaced by every combination of ``values`` (in the order given, the last
    name varying fastest). Each task is named ``file[name=value,...]``."""
    task = base if isinstance(base, ScenarioTask) else scenario_task(base)
    if not values:
        return [task]
    template = string.Template(task.text)
    missing = [k for k in values if f"${k}" not in task.text and f"${{{k}}}" not in task.text]
    if missing:
        raise ValueError(f"{task.name}: grid parameter {missing[0]!r} does not appear in the scenario (write "
                         f"${{{missing[0]}}} where its value goes)")
    names = list(values)
    out = []
    for combo in itertools.product(*(list(values[k]) for k in names)):
        point = dict(zip(names, combo))
        try:
            text = template.substitute(point)
        except (KeyError, ValueError) as e:
            raise ValueError(f"{task.name}: the placeholder {e} has no value in the grid (give it one, or write $$ "
                             "for a literal $)") from None
        label = ",".join(f"{k}={v}" for k, v in point.items())
        out.append(ScenarioTask(f"{task.name}[{label}]", text, task.files, task.error))
    return out


#: Columns of :meth:`BatchResult.table` (and batch.csv): the run's identity and its summary's totals.
BATCH_COLUMNS = ["scenario", "seed", "run", "end_ns", "records", "events", "arrivals", "dropped_arrivals", "released",
                 "completed", "deadline_misses", "cpu_time_ns", "rt_p50_ns", "rt_p99_ns", "rt_max_ns"]


def _materialise(task: ScenarioTask, tmp: str) -> str:
    """Writes the task's files below tmp; returns the folder standing for the scenario's own."""
    ups = max([len(pathlib.PurePath(os.path.normpath(ref)).parts) for ref, _ in task.files] + [1])
    base = os.path.join(tmp, *(["s"] * ups))
    os.makedirs(base, exist_ok=True)
    for ref, data in task.files:
        target = os.path.normpath(os.path.join(base, ref))
        if not target.startswith(tmp + os.sep):
            raise _edgeos.InputError(f"{task.name}: file {ref!r} lies outside the task's folder")
        os.makedirs(os.path.dirname(target), exist_ok=True)
        with open(target, "wb") as f:
            f.write(data)
    return base


def _simulate_task(task: ScenarioTask, seed: Optional[int], duration: Optional[int],
                   keep_trace: bool) -> Dict[str, Any]:
    """A batch task, run by a worker: the scenario parsed from its text, simulated on the core backend."""
    from .simulation import simulate
    if task.error:
        raise _edgeos.InputError(task.error)
    with tempfile.TemporaryDirectory(prefix="edgeos-task-") as tmp:
        base = _materialise(task, tmp)
        try:
            scenario = _edgeos.parse_scenario(task.text, task.name, base)
            res = simulate(scenario, seed=seed, duration=duration)
            trace = b""
            if keep_trace:
                path = os.path.join(tmp, "trace.csv")
                res.to_csv(path)
                trace = pathlib.Path(path).read_bytes()
        except (_edgeos.InputError, ValueError, OSError) as e:
            # Messages name the files as the scenario does, not as this worker's temporary folder.
            raise _edgeos.InputError(str(e).replace(base + os.sep, "").replace(tmp + os.sep, "")) from None
        return {"summary_json": res.summary_json, "stats": dict(res.stats), "seed": int(res.seed), "trace": trace}


@dataclass
class BatchResult:
    """The outcome of :func:`run_batch`, in task order (scenarios as given, then seeds).

    table: one row per run that completed (:data:`BATCH_COLUMNS`).
    failures: one row per run that did not: scenario, seed, message.
    summaries: (scenario, seed) -> summary.json text. traces: (scenario, seed) -> trace.csv bytes
      (with ``traces=True``), as ``edgeos sim`` writes them.
    """
    table: pd.DataFrame
    failures: pd.DataFrame
    summaries: Dict[Tuple[str, str], str] = field(default_factory=dict)
    traces: Dict[Tuple[str, str], bytes] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.failures.empty

    def csv(self) -> str:
        return self.table.to_csv(index=False, lineterminator="\n")

    def failures_csv(self) -> str:
        return self.failures.to_csv(index=False, lineterminator="\n")

    def write(self, out_dir: Union[str, os.PathLike]) -> List[pathlib.Path]:
        """batch.csv, failures.csv, and runs/SCENARIO/seed-SEED/summary.json (and trace.csv)."""
        from .figures import _atomic_write
        out = pathlib.Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        written = []
        for name, data in (("batch.csv", self.csv()), ("failures.csv", self.failures_csv())):
            _atomic_write(out / name, data.encode())
            written.append(out / name)
        for (scenario, seed), summary in self.summaries.items():
            d = out / "runs" / _safe(scenario) / f"seed-{seed}"
            d.mkdir(parents=True, exist_ok=True)
            _atomic_write(d / "summary.json", summary.encode())
            written.append(d / "summary.json")
            if (scenario, seed) in self.traces:
                _atomic_write(d / "trace.csv", self.traces[(scenario, seed)])
                written.append(d / "trace.csv")
        return written


def _safe(name: str) -> str:
    return "".join(c if c.isalnum() or c in "-_.=,[]" else "_" for c in name)


def run_batch(scenarios: Sequence[Union[ScenarioTask, str, os.PathLike]], seeds: Sequence[Optional[int]] = (None,), *,
              duration: Any = None, client: Any = None, workers: int = 1, retries: int = 2, traces: bool = False,
              progress: bool = True, on_progress: Optional[ProgressCallback] = None) -> BatchResult:
    """Simulates every scenario with every seed (None: the scenario's own), one task each.

    scenarios: :class:`ScenarioTask` (see :func:`scenario_task`, :func:`scenario_grid`) or paths
      of scenario files or folders. duration: replaces every scenario's (e.g. "100ms").
    client: as for :func:`sweep`: a Client, "local[:N]", "tcp://HOST:PORT", or None (this
      process, or a pool of ``workers`` processes). traces: also bring back each trace.csv.
    A run that fails is a row of ``failures`` (its message names the scenario), never an
    exception: check :attr:`BatchResult.ok`.
    """
    items: List[ScenarioTask] = []
    paths = [s for s in scenarios if not isinstance(s, ScenarioTask)]
    loaded = iter(scenario_tasks(paths)) if paths else iter(())
    for s in scenarios:
        items.append(s if isinstance(s, ScenarioTask) else next(loaded))
    names = [t.name for t in items]
    if len(set(names)) != len(names):
        raise ValueError("run_batch: two scenarios have the same name; names identify results")
    seeds = list(seeds) or [None]
    dur = None if duration is None else _edgeos.duration(duration)
    tasks = [(f"{t.name}#{'scenario' if s is None else s}", (t, s, dur, traces)) for t in items for s in seeds]
    with connect(client) as c:
        results, failures = run_tasks(_simulate_task, tasks, client=c, workers=1 if c is not None else workers,
                                      retries=retries, progress=progress, desc="batch", on_progress=on_progress)
    rows, fail_rows = [], []
    out = BatchResult(pd.DataFrame(), pd.DataFrame())
    by_key = {f.key: f.message for f in failures}
    for key, (t, s, _, _) in tasks:
        seed_label = "scenario" if s is None else str(s)
        if key in by_key:
            fail_rows.append((t.name, seed_label, by_key[key]))
            continue
        r = results[key]
        summary = json.loads(r["summary_json"])
        total, rt = summary.get("total", {}), summary.get("total", {}).get("response_time", {})
        st = r["stats"]
        rows.append((t.name, r["seed"], summary.get("run", ""), st["end_ns"], st["records"], st["events"],
                     st["arrivals"], st["dropped_arrivals"], total.get("released"), total.get("completed"),
                     total.get("deadline_misses"), total.get("cpu_time_ns"), rt.get("p50_ns"), rt.get("p99_ns"),
                     rt.get("max_ns")))
        out.summaries[(t.name, str(r["seed"]))] = r["summary_json"]
        if traces:
            out.traces[(t.name, str(r["seed"]))] = r["trace"]
    out.table = pd.DataFrame(rows, columns=BATCH_COLUMNS)
    out.failures = pd.DataFrame(fail_rows, columns=["scenario", "seed", "message"])
    return out
