"""Simulation on the core-only and SimGrid backends, with the trace as a pandas DataFrame."""

from __future__ import annotations

import json
import os
import pathlib
import shutil
import subprocess
import tempfile
from typing import Any, Callable, Dict, Optional, Union

import numpy as np
import pandas as pd

from . import _edgeos
from .policies import KeyScheduler, Scheduler

TRACE_EVENTS = list(_edgeos.TRACE_EVENTS)
TRACE_COLUMNS = ["time_ns", "cpu", "event", "fwp", "thread", "job", "value"]
_EVENT_DTYPE = pd.CategoricalDtype(TRACE_EVENTS)

PolicyArg = Union[None, str, type, Callable[[int], Any], Scheduler, KeyScheduler]
Duration = Union[int, str]

__all__ = ["simulate", "SimResult", "load_scenario", "BACKENDS"]

#: Simulation backends: the core-only simulator, and SimGrid (simulator/README.md).
BACKENDS = ("core", "simgrid")


def load_scenario(path: Union[str, os.PathLike]) -> _edgeos.Scenario:
    """Reads and validates a scenario TOML file (docs/scenario.md). Errors name file, line and key."""
    return _edgeos.load_scenario(os.fspath(path))


class SimResult:
    """The outcome of one run.

    ``trace`` is a DataFrame with the columns of trace.csv (docs/trace.md): ``event`` is a
    categorical of the event names, ``cpu``/``fwp``/``thread`` are -1 for "none". Its numeric
    columns share the memory of the C++ records (no per-event Python object); ``columns``
    gives them as numpy arrays. ``summary`` is the content of summary.json.
    """

    def __init__(self, raw: Dict[str, Any], policy: str) -> None:
        self._data = raw["trace"]
        self.names: Dict[str, Any] = raw["names"]
        self.stats: Dict[str, int] = raw["stats"]
        self.num_cpus: int = raw["num_cpus"]
        self.seed: int = raw["seed"]
        self.policy = policy
        self._summary_json: str = raw["summary_json"]
        self._frame: Optional[pd.DataFrame] = None

    @property
    def end_ns(self) -> int:
        return int(self.stats["end_ns"])

    @property
    def columns(self) -> Dict[str, np.ndarray]:
        """Read-only numpy views of the records: time_ns, cpu, event (codes), fwp, thread, job, value."""
        return self._data.columns()

    @property
    def trace(self) -> pd.DataFrame:
        if self._frame is None:
            self._frame = trace_frame(self._data.columns())
        return self._frame

    @property
    def summary(self) -> Dict[str, Any]:
        return json.loads(self._summary_json)

    @property
    def summary_json(self) -> str:
        return self._summary_json

    def __len__(self) -> int:
        return len(self._data)

    def to_csv(self, path: Union[str, os.PathLike]) -> None:
        """Writes trace.csv byte for byte as ``edgeos sim`` does."""
        self._data.write_csv(os.fspath(path))

    def to_perfetto(self, path: Union[str, os.PathLike], format: Optional[str] = None) -> None:
        """Writes the trace for https://ui.perfetto.dev as ``edgeos sim`` does: ``format="proto"``,
        Perfetto's native protobuf (``trace.perfetto-trace``), or ``"json"``, Chrome trace-event
        JSON (``trace.perfetto.json``). By default, JSON for a path ending in ``.json``, else proto."""
        path = os.fspath(path)
        if format is None:
            format = "json" if path.endswith(".json") else "proto"
        self._data.write_perfetto(path, self.names, self.end_ns, format)

    def thread_name(self, index: int) -> str:
        names = self.names["threads"]
        return names[index] if 0 <= index < len(names) and names[index] else f"thread{index}"

    def fwp_name(self, index: int) -> str:
        names = self.names["fwps"]
        return names[index] if 0 <= index < len(names) and names[index] else f"fwp{index}"

    def __repr__(self) -> str:
        return f"<SimResult {self.names['run']!r} ({self.policy}): {len(self)} records, {self.num_cpus} CPU(s)>"


def trace_frame(cols: Dict[str, np.ndarray]) -> pd.DataFrame:
    """A DataFrame over the numpy columns without copying the numeric ones."""
    event = pd.Categorical.from_codes(cols["event"], dtype=_EVENT_DTYPE)
    data = {name: cols[name] for name in TRACE_COLUMNS if name != "event"}
    frame = pd.DataFrame(data, copy=False)
    frame.insert(2, "event", event)
    return frame


def _policy_factory(policy: PolicyArg, cpus: int) -> Union[None, str, Callable[[int], Any]]:
    if policy is None or isinstance(policy, str):
        return policy
    if isinstance(policy, type):
        if not issubclass(policy, (Scheduler, KeyScheduler, _edgeos.Policy)):
            raise TypeError(f"policy class {policy.__name__} is not an edgeos.Scheduler or edgeos.KeyScheduler")
        return lambda cpu: policy()
    if isinstance(policy, _edgeos.Policy):
        if cpus != 1:
            raise ValueError(
                f"one policy object cannot schedule {cpus} CPUs: pass its class or a factory (cpu -> policy)")
        return lambda cpu: policy
    if callable(policy):
        return policy
    raise TypeError(f"policy must be 'fp', 'edf', a Scheduler class, instance or factory, got {policy!r}")


def _policy_label(policy: PolicyArg) -> str:
    if policy is None:
        return "scenario"
    if isinstance(policy, str):
        return policy
    if isinstance(policy, type):
        return getattr(policy, "name", policy.__name__)
    return str(getattr(policy, "name", getattr(policy, "__name__", "python")))


def _check_backend(backend: str) -> None:
    if backend not in BACKENDS:
        raise ValueError(f"backend: unknown backend {backend!r} (available: {', '.join(BACKENDS)})")


def _edgeos_cli() -> str:
    """The edgeos command line of this build (EDGEOS_CLI overrides; then the build tree the
    package lives in; then PATH)."""
    explicit = os.environ.get("EDGEOS_CLI")
    if explicit:
        return explicit
    beside = pathlib.Path(__file__).resolve().parents[2] / "cli" / "edgeos"
    if beside.is_file():
        return str(beside)
    found = shutil.which("edgeos")
    if found:
        return found
    raise RuntimeError("backend='simgrid' runs the edgeos command line, which was not found: build it "
                       "(make) or set EDGEOS_CLI to its path")


def _simulate_simgrid(what: Any, policy: PolicyArg, duration: Optional[Duration], seed: Optional[int]) -> SimResult:
    """The SimGrid backend, run by the edgeos command line in a process of its own (SimGrid
    allows one simulation per process), its outputs read back."""
    if policy is not None:
        raise ValueError("backend='simgrid' runs each server's own policy (policy must be None); Python-defined "
                         "policies run on backend='core'")
    if isinstance(what, _edgeos.TaskSet):
        raise TypeError("backend='simgrid' simulates scenarios (a TOML file or a Scenario read from one), not task sets")
    path = os.fspath(what) if isinstance(what, (str, os.PathLike)) else getattr(what, "file", "")
    if not path:
        raise ValueError("backend='simgrid' needs a scenario read from a file")
    scenario = load_scenario(path)
    args = [_edgeos_cli(), "sim", path, "--backend", "simgrid", "--trace", "csv", "--quiet"]
    if seed is not None:
        args += ["--seed", str(int(seed))]
    if duration is not None:
        args += ["--duration", f"{_edgeos.duration(duration)}ns"]
    with tempfile.TemporaryDirectory(prefix="edgeos-simgrid-") as out:
        r = subprocess.run([*args, "--out", out], capture_output=True, text=True)
        if r.returncode == 2:
            raise _edgeos.InputError(r.stderr.strip())
        if r.returncode != 0:
            raise RuntimeError(f"edgeos sim --backend simgrid failed (exit {r.returncode}): {r.stderr.strip()}")
        data = _edgeos.load_trace_csv(os.path.join(out, "trace.csv"))
        with open(os.path.join(out, "summary.json")) as f:
            summary_json = f.read()
    summary = json.loads(summary_json)
    counters = summary["counters"]
    raw = {
        "trace": data,
        "names": _edgeos.scenario_names(scenario),
        "stats": {"events": counters["kernel_events"], "records": len(data), "arrivals": counters["arrivals"],
                  "dropped_arrivals": counters["dropped_arrivals"], "end_ns": summary["end_ns"]},
        "summary_json": summary_json,
        "num_cpus": sum(s["cpus"] for s in scenario.servers),
        "seed": summary["scenario"]["seed"],
    }
    return SimResult(raw, "scenario")


def simulate(what: Union[_edgeos.TaskSet, _edgeos.Scenario, str, os.PathLike], *,
             policy: PolicyArg = None, duration: Optional[Duration] = None, seed: Optional[int] = None,
             backend: str = "core", check_invariants: bool = False) -> SimResult:
    """Simulates a task set or a scenario (a Scenario or the path of a TOML file).

    policy: "fp" or "edf" (every CPU), a Scheduler/KeyScheduler subclass (one instance per
      CPU), a factory ``cpu -> policy``, or an instance (one CPU only). For a scenario, None
      keeps each server's policy.
    duration: int nanoseconds or a string with a unit ("2s"); required for task sets, for a
      scenario it replaces the file's.
    seed: replaces the scenario's seed (task sets: default 1). Same inputs, same trace.
    backend: "core" (the deterministic core-only simulator) or "simgrid" (servers, devices, links
      and energy in SimGrid: scenarios from a file, each server's own policy; the summary gains
      a "simgrid" section with energy and link use).
    check_invariants: check every kernel invariant after each event (slow).
    """
    _check_backend(backend)
    if backend == "simgrid":
        return _simulate_simgrid(what, policy, duration, seed)
    if isinstance(what, (str, os.PathLike)):
        what = load_scenario(what)
    dur = None if duration is None else _edgeos.duration(duration)
    if isinstance(what, _edgeos.TaskSet):
        if dur is None:
            raise ValueError("duration: required when simulating a task set (e.g. duration='1s')")
        factory = _policy_factory("edf" if policy is None else policy, what.cpus)
        raw = _edgeos.simulate_task_set(what, factory, dur, 1 if seed is None else seed, check_invariants)
        return SimResult(raw, _policy_label("edf" if policy is None else policy))
    if isinstance(what, _edgeos.Scenario):
        cpus = sum(s["cpus"] for s in what.servers)
        factory = _policy_factory(policy, cpus)
        raw = _edgeos.simulate_scenario(what, factory, seed, dur, check_invariants)
        return SimResult(raw, _policy_label(policy))
    raise TypeError(f"simulate: expected a TaskSet, a Scenario or a scenario path, got {type(what).__name__}")
