"""Every published figure, regenerated reproducibly: ``python -m edgeos figures --out figures``.

Each figure is written as SVG and PNG with the CSV of exactly what it draws, and
``manifest.json`` records, per figure, the inputs (scenario file hashes, seeds, parameters) and
the SHA-256 of each output, plus the git commit and library versions. Running twice gives
byte-identical CSVs and SVGs: SVG ids are salted with a constant (``svg.hashsalt``), no date is
written, and every input is seeded. Files are written to a temporary name and renamed, so an
interrupted run leaves no partial file.
"""

from __future__ import annotations

import argparse
import hashlib
import io
import json
import os
import pathlib
import platform
import subprocess
import sys
from typing import Any, Callable, Dict, List, Optional

import numpy as np
import pandas as pd

from . import _edgeos
from .policies import LeastLaxityFirst
from .simulation import SimResult, load_scenario, simulate
from .sweeps import sweep

__all__ = ["FIGURES", "generate", "main", "example_task_set", "examples_dir"]


def examples_dir() -> pathlib.Path:
    """The repository's examples/ (EDGEOS_SOURCE_DIR, or found from this file in a checkout)."""
    env = os.environ.get("EDGEOS_SOURCE_DIR")
    if env:
        return pathlib.Path(env) / "examples"
    here = pathlib.Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "examples" / "edge-server.toml").exists():
            return parent / "examples"
    raise FileNotFoundError("cannot find the edgeos examples/ directory; set EDGEOS_SOURCE_DIR")


def _atomic_write(path: pathlib.Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.tmp{os.getpid()}")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def example_task_set() -> _edgeos.TaskSet:
    """Three tasks on one CPU whose EDF, FP (rate monotonic) and LLF schedules differ."""
    tasks = [_edgeos.Task("sensor", wcet="2ms", period="5ms", tenant="iot"),
             _edgeos.Task("camera", wcet="4ms", period="10ms", deadline="9ms", tenant="ar"),
             _edgeos.Task("batch", wcet="3ms", period="15ms", tenant="analytics")]
    return _edgeos.rate_monotonic(_edgeos.TaskSet(tasks, name="three-tasks"))


def _wcet(ts: _edgeos.TaskSet) -> Dict[int, int]:
    return {i: t.wcet for i, t in enumerate(ts.tasks)}


class _Output:
    """Collects one figure's files in memory, then writes them."""

    def __init__(self, name: str) -> None:
        self.name = name
        self.files: Dict[str, bytes] = {}
        self.inputs: Dict[str, Any] = {}

    def csv(self, df: pd.DataFrame, suffix: str = "") -> None:
        self.files[f"{self.name}{suffix}.csv"] = df.to_csv(index=False, float_format="%.6g",
                                                           lineterminator="\n").encode()

    def figure(self, fig) -> None:
        import matplotlib.pyplot as plt
        for fmt, meta in (("svg", {"Date": None}), ("png", {"Software": None})):
            buf = io.BytesIO()
            fig.savefig(buf, format=fmt, metadata=meta, dpi=110)
            self.files[f"{self.name}.{fmt}"] = buf.getvalue()
        plt.close(fig)


def fig_gantt(out: _Output, quick: bool) -> None:
    import matplotlib.pyplot as plt
    from . import plots
    ts = example_task_set()
    window = 30_000_000
    results = {"EDF": simulate(ts, policy="edf", duration="60ms"),
               "FP (RM)": simulate(ts, policy="fp", duration="60ms"),
               "LLF (Python)": simulate(ts, policy=lambda cpu: LeastLaxityFirst(_wcet(ts)), duration="60ms")}
    fig, axes = plt.subplots(len(results), 1, figsize=(9, 5.4), sharex=True)
    frames = []
    for ax, (label, res) in zip(axes, results.items()):
        plots.gantt(res, 0, window, ax=ax, title=label)
        sl = plots.execution_slices(res, 0, window)
        sl.insert(0, "policy", label)
        sl["task"] = [res.thread_name(int(i)) for i in sl["thread"]]
        frames.append(sl)
    fig.tight_layout()
    out.figure(fig)
    out.csv(pd.concat(frames, ignore_index=True))
    out.inputs = {"task_set": ts.to_csv(), "duration_ns": 60_000_000, "window_ns": window, "seed": 1}


def fig_response_cdf(out: _Output, quick: bool) -> None:
    import matplotlib.pyplot as plt
    from . import plots
    path = examples_dir() / "edge-server.toml"
    duration = "300ms" if quick else "2s"
    results = {"EDF": simulate(path, seed=1, duration=duration)}
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    plots.response_cdf(results, ax=ax, groups=["ar", "kv", "analytics"])
    ax.set_xscale("log")
    ax.set_title(f"edge-server under EDF: response times per tenant ({duration})")
    fig.tight_layout()
    out.figure(fig)
    frames = []
    for label, res in results.items():
        rt = plots.response_times(res)
        rt.insert(0, "policy", label)
        frames.append(rt)
    out.csv(pd.concat(frames, ignore_index=True))
    out.inputs = {"scenario": "examples/edge-server.toml", "scenario_sha256": _sha256(path.read_bytes()),
                  "seed": 1, "duration": duration}


def fig_schedulability(out: _Output, quick: bool) -> None:
    import matplotlib.pyplot as plt
    from . import plots
    params = dict(tests=["ll-bound", "rta", "edf-qpa", "sim-fp", "sim-edf"], u_from=0.5, u_to=1.0, u_step=0.1 if quick else 0.05,
                  sets=20 if quick else 200, tasks=8, seed=7, horizon="1s", period_min="10ms", period_max="100ms")
    df = sweep(**params, progress=False)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    plots.schedulability(df, ax=ax)
    ax.set_title(f"acceptance ratio, {params['tasks']} tasks, {params['sets']} sets per point")
    fig.tight_layout()
    out.figure(fig)
    out.csv(df)
    out.inputs = params


def latency_vs_load_data(quick: bool) -> pd.DataFrame:
    """p99 response time / period of generated sets under EDF, FP and Python LLF, by utilisation."""
    rows = []
    loads = [0.3, 0.5, 0.7, 0.9] if quick else [0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95]
    sets = 3 if quick else 20
    for u in loads:
        for k in range(sets):
            seed = int(round(u * 1000)) * 1000 + k
            tasks = _edgeos.generators.generate(seed, tasks=6, utilisation=u, period_min="5ms", period_max="50ms",
                                               granularity="1ms")
            ts = _edgeos.generators.to_task_set(tasks)
            periods = np.array([t.period for t in ts.tasks])
            for label, pol in (("EDF", "edf"), ("FP (DM)", "fp"),
                               ("LLF (Python)", (lambda cpu, w=_wcet(ts): LeastLaxityFirst(w)))):
                res = simulate(ts, policy=pol, duration="200ms", seed=seed)
                df = res.trace
                done = df[df["event"] == "complete"]
                norm = done["value"].to_numpy() / periods[done["thread"].to_numpy()]
                rows.append((u, k, label, float(np.percentile(norm, 99)) if len(norm) else float("nan"),
                             int((df["event"] == "deadline_miss").sum())))
    raw = pd.DataFrame(rows, columns=["load", "set", "series", "p99_norm", "misses"])
    return raw.groupby(["series", "load"], sort=False, as_index=False).agg(p99_norm=("p99_norm", "mean"),
                                                                           misses=("misses", "sum"))


def fig_latency_vs_load(out: _Output, quick: bool) -> None:
    import matplotlib.pyplot as plt
    from . import plots
    data = latency_vs_load_data(quick)
    fig, ax = plt.subplots(figsize=(6.5, 4.2))
    plots.latency_vs_load(data, x="load", y="p99_norm", ax=ax)
    ax.set_ylabel("p99 response time / period (mean over sets)")
    ax.set_xlabel("utilisation")
    fig.tight_layout()
    out.figure(fig)
    out.csv(data)
    out.inputs = {"generator": "uunifast, 6 tasks, periods 5-50ms", "duration_ns": 200_000_000,
                  "seeds": "round(u*1000)*1000 + k"}


FIGURES: Dict[str, Callable[[_Output, bool], None]] = {
    "gantt": fig_gantt,
    "response-cdf": fig_response_cdf,
    "schedulability": fig_schedulability,
    "latency-vs-load": fig_latency_vs_load,
}


def _git_commit() -> str:
    try:
        src = examples_dir().parent
        r = subprocess.run(["git", "-C", str(src), "rev-parse", "HEAD"], capture_output=True, text=True, timeout=10)
        return r.stdout.strip() if r.returncode == 0 else "unknown"
    except (OSError, subprocess.SubprocessError, FileNotFoundError):
        return "unknown"


def generate(out_dir: os.PathLike, quick: bool = False, only: Optional[List[str]] = None,
             progress: bool = True) -> Dict[str, Any]:
    """Writes the figures (all, or `only`) into out_dir; returns the manifest."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    plt.rcParams["svg.hashsalt"] = "edgeos"
    plt.rcParams["svg.fonttype"] = "none"
    plt.rcParams["path.simplify"] = False
    names = list(FIGURES) if not only else only
    for n in names:
        if n not in FIGURES:
            raise ValueError(f"unknown figure {n!r} (known: {', '.join(FIGURES)})")
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    manifest: Dict[str, Any] = {
        "git_commit": _git_commit(),
        "size": "quick" if quick else "full",
        "versions": {"edgeos": "0.1.0", "python": platform.python_version(), "numpy": np.__version__,
                     "pandas": pd.__version__, "matplotlib": matplotlib.__version__},
        "figures": {},
    }
    for n in names:
        if progress:
            print(f"figure {n} ...", file=sys.stderr, flush=True)
        o = _Output(n)
        FIGURES[n](o, quick)
        for fname, data in o.files.items():
            _atomic_write(out / fname, data)
        manifest["figures"][n] = {"inputs": o.inputs,
                                  "files": {f: _sha256(d) for f, d in sorted(o.files.items())}}
    _atomic_write(out / "manifest.json", (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode())
    return manifest


def main(argv: Optional[List[str]] = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m edgeos figures", description=__doc__.splitlines()[0])
    ap.add_argument("--out", default="figures", help="output directory (default: figures)")
    ap.add_argument("--quick", action="store_true", help="reduced sizes (what the tests run)")
    ap.add_argument("--only", nargs="*", help=f"figures to make (default: all of {', '.join(FIGURES)})")
    args = ap.parse_args(argv)
    try:
        m = generate(args.out, quick=args.quick, only=args.only)
    except (ValueError, FileNotFoundError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    print(f"{len(m['figures'])} figure(s) -> {args.out}/ (manifest.json lists inputs and hashes)")
    return 0
