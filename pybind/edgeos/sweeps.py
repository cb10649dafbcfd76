"""Acceptance-ratio sweeps (the schedulability figure of real-time papers), in parallel.

A sweep draws ``sets`` task sets per utilisation step and counts how many each test accepts
(simulator/include/edgeos/simulator/sweep.hpp). The work is cut into chunks of sets, each run
by the C++ core in a worker: a local process pool by default, or a Dask cluster when a
``dask.distributed.Client`` is given. Task set k of step s is drawn from (seed, s, k) whatever
the chunking, so the result equals ``edgeos sweep`` with the same parameters.
"""

from __future__ import annotations

import concurrent.futures as cf
import os
from typing import Any, Dict, List, Optional, Sequence, Tuple

import pandas as pd

from . import _edgeos

__all__ = ["sweep", "sweep_tests"]


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
          progress: bool = True) -> pd.DataFrame:
    """Runs a sweep; returns a DataFrame with columns utilisation, test, accepted, sets, ratio.

    client: a ``dask.distributed.Client`` to run the chunks on; otherwise a local process pool
      of ``workers`` processes (default: the CPU count; 1 runs in this process).
    chunk: task sets per unit of work. progress: a tqdm bar over the chunks.
    """
    params: Dict[str, Any] = dict(tests=list(tests), u_from=u_from, u_to=u_to, u_step=u_step, sets=sets, tasks=tasks,
                                  cpus=cpus, seed=seed, horizon=horizon, period_min=period_min,
                                  period_max=period_max, granularity=granularity, utilisations=utilisations,
                                  deadlines=deadlines, fit=fit)
    if chunk < 1:
        raise ValueError("chunk: must be >= 1")
    steps = _edgeos.sweep_steps(params)  # validates the parameters here, before any worker starts
    jobs = [(s, first, min(chunk, sets - first)) for s in range(len(steps)) for first in range(0, sets, chunk)]
    bar = None
    if progress:
        from tqdm.auto import tqdm
        bar = tqdm(total=len(jobs), desc="sweep", unit="chunk")
    results: List[List[Tuple[float, str, int, int]]] = [[] for _ in jobs]
    try:
        if client is not None:
            from dask.distributed import as_completed
            futures = {client.submit(_chunk, params, *job, pure=False): i for i, job in enumerate(jobs)}
            for fut in as_completed(futures):
                results[futures[fut]] = fut.result()
                if bar is not None:
                    bar.update(1)
        else:
            n = workers if workers is not None else (os.cpu_count() or 1)
            if n <= 1:
                for i, job in enumerate(jobs):
                    results[i] = _chunk(params, *job)
                    if bar is not None:
                        bar.update(1)
            else:
                with cf.ProcessPoolExecutor(max_workers=n) as pool:
                    futs = {pool.submit(_chunk, params, *job): i for i, job in enumerate(jobs)}
                    for fut in cf.as_completed(futs):
                        results[futs[fut]] = fut.result()
                        if bar is not None:
                            bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    totals: Dict[Tuple[int, str], List[int]] = {}
    for (s, _, _), rows in zip(jobs, results):
        for (_, test, accepted, count) in rows:
            acc = totals.setdefault((s, test), [0, 0])
            acc[0] += accepted
            acc[1] += count
    out = [(steps[s], test, a, n, a / n if n else 0.0) for s in range(len(steps)) for test in params["tests"]
           for a, n in [totals[(s, test)]]]
    return pd.DataFrame(out, columns=["utilisation", "test", "accepted", "sets", "ratio"])
