"""Plots (matplotlib): Gantt charts, response-time CDFs, schedulability and latency curves.

Every function draws on ``ax`` (a new figure when None) and returns the Axes; the data behind a
plot comes from the helpers here (``execution_slices``, ``response_times``), so a figure's CSV
holds exactly what was drawn.
"""

from __future__ import annotations

from typing import Dict, Iterable, Mapping, Optional, Sequence

import numpy as np
import pandas as pd

from .simulation import SimResult

__all__ = ["execution_slices", "response_times", "gantt", "response_cdf", "schedulability", "latency_vs_load"]

_ENDS = {"preempt", "complete", "block", "budget_exhausted", "thread_exit", "ipc_call", "ipc_reply"}


def execution_slices(result: SimResult, start: int = 0, end: Optional[int] = None) -> pd.DataFrame:
    """Contiguous executions of jobs: cpu, thread, fwp, job, start_ns, end_ns (clipped to the window)."""
    end = result.end_ns if end is None else end
    df = result.trace
    df = df[df["cpu"] >= 0]
    open_: Dict[int, tuple] = {}
    rows = []
    times = df["time_ns"].to_numpy()
    cpus = df["cpu"].to_numpy()
    events = df["event"].astype(str).to_numpy()
    threads = df["thread"].to_numpy()
    fwps = df["fwp"].to_numpy()
    jobs = df["job"].to_numpy()
    for t, c, e, th, f, j in zip(times, cpus, events, threads, fwps, jobs):
        if t > end:
            break
        if e in ("start", "resume"):
            if c in open_:
                o = open_.pop(c)
                rows.append((c, o[1], o[2], o[3], o[0], t))
            open_[c] = (t, th, f, j)
        elif e in _ENDS and c in open_ and open_[c][1] == th:
            o = open_.pop(c)
            rows.append((c, o[1], o[2], o[3], o[0], t))
    for c, o in open_.items():
        rows.append((c, o[1], o[2], o[3], o[0], end))
    out = pd.DataFrame(rows, columns=["cpu", "thread", "fwp", "job", "start_ns", "end_ns"])
    out = out[(out["end_ns"] > start) & (out["start_ns"] < end)].copy()
    out["start_ns"] = out["start_ns"].clip(lower=start)
    out["end_ns"] = out["end_ns"].clip(upper=end)
    return out.sort_values(["cpu", "start_ns", "thread"], kind="stable").reset_index(drop=True)


def response_times(result: SimResult, by: str = "tenant") -> pd.DataFrame:
    """One row per completed job: group (tenant or thread name), thread, job, response_ns."""
    df = result.trace
    done = df[df["event"] == "complete"]
    names = result.fwp_name if by == "tenant" else result.thread_name
    key = done["fwp"] if by == "tenant" else done["thread"]
    return pd.DataFrame({"group": [names(int(i)) for i in key], "thread": done["thread"].to_numpy(),
                         "job": done["job"].to_numpy(), "response_ns": done["value"].to_numpy()})


def _axes(ax, figsize=(8, 3)):
    if ax is not None:
        return ax
    import matplotlib.pyplot as plt
    _, ax = plt.subplots(figsize=figsize)
    return ax


def gantt(result: SimResult, start: int = 0, end: Optional[int] = None, ax=None, title: Optional[str] = None):
    """Per-CPU schedule: one bar per execution, coloured by thread; releases (^), deadlines (v),
    deadline misses (red x) and budget exhaustion (orange |) marked on the CPU of the thread."""
    import matplotlib.pyplot as plt
    end = result.end_ns if end is None else end
    sl = execution_slices(result, start, end)
    ax = _axes(ax, figsize=(9, 1.0 + 0.9 * result.num_cpus))
    cmap = plt.get_cmap("tab20")
    scale = 1e-6  # ms
    for row in sl.itertuples():
        ax.broken_barh([((row.start_ns) * scale, (row.end_ns - row.start_ns) * scale)], (row.cpu - 0.35, 0.7),
                       facecolors=cmap(int(row.thread) % 20), edgecolor="black", linewidth=0.3)
    df = result.trace
    win = df[(df["time_ns"] >= start) & (df["time_ns"] <= end) & (df["cpu"] >= 0)]
    marks = [("release", "^", "tab:green", 0.45), ("deadline_miss", "x", "red", 0.0),
             ("budget_exhausted", "|", "tab:orange", 0.0)]
    for event, marker, color, dy in marks:
        sel = win[win["event"] == event]
        if len(sel):
            ax.scatter(sel["time_ns"] * scale, sel["cpu"] + dy, marker=marker, color=color, s=30, zorder=3, label=event)
    rel = win[(win["event"] == "release") & (win["value"] >= 0) & (win["value"] <= end)]
    if len(rel):
        ax.scatter(rel["value"] * scale, rel["cpu"] - 0.45, marker="v", color="tab:blue", s=22, zorder=3,
                   label="deadline")
    ax.set_yticks(range(result.num_cpus))
    ax.set_yticklabels(result.names["cpus"])
    ax.set_ylim(-0.7, result.num_cpus - 0.3)
    ax.set_xlim(start * scale, end * scale)
    ax.set_xlabel("time (ms)")
    ax.set_title(title or f"{result.names['run']} ({result.policy})")
    ax.legend(loc="upper right", fontsize="x-small", ncol=4)
    return ax


def response_cdf(results: Mapping[str, SimResult], by: str = "tenant", ax=None, groups: Optional[Iterable[str]] = None):
    """Empirical CDF of response times per tenant (or thread), one line style per result."""
    ax = _axes(ax, figsize=(6, 4))
    styles = ["-", "--", ":", "-."]
    wanted = None if groups is None else set(groups)
    for i, (label, res) in enumerate(results.items()):
        rt = response_times(res, by)
        for g, sub in rt.groupby("group", sort=True):
            if wanted is not None and g not in wanted:
                continue
            x = np.sort(sub["response_ns"].to_numpy()) * 1e-6
            y = np.arange(1, len(x) + 1) / len(x)
            ax.step(x, y, where="post", linestyle=styles[i % len(styles)], label=f"{g} ({label})")
    ax.set_xlabel("response time (ms)")
    ax.set_ylabel("fraction of jobs")
    ax.set_ylim(0, 1.02)
    ax.legend(fontsize="x-small")
    return ax


def schedulability(sweep: pd.DataFrame, ax=None, tests: Optional[Sequence[str]] = None):
    """Acceptance ratio against utilisation per CPU, one line per test (edgeos.sweep's output)."""
    ax = _axes(ax, figsize=(6, 4))
    for test in (tests or list(dict.fromkeys(sweep["test"]))):
        sub = sweep[sweep["test"] == test]
        ax.plot(sub["utilisation"], sub["ratio"], marker="o", markersize=3, label=test)
    ax.set_xlabel("utilisation per CPU")
    ax.set_ylabel("acceptance ratio")
    ax.set_ylim(-0.02, 1.02)
    ax.legend(fontsize="small")
    return ax


def latency_vs_load(data: pd.DataFrame, x: str = "load", y: str = "p99_ms", series: str = "series", ax=None):
    """A latency statistic against offered load, one line per series."""
    ax = _axes(ax, figsize=(6, 4))
    for name, sub in data.groupby(series, sort=False):
        ax.plot(sub[x], sub[y], marker="o", markersize=3, label=str(name))
    ax.set_xlabel(x)
    ax.set_ylabel(y)
    ax.legend(fontsize="small")
    return ax
