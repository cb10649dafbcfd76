"""edgeos: real-time scheduling for multi-tenant edge servers, from Python.

A thin facade over the C++ core (the private ``_edgeos`` extension):

* :func:`load_scenario`, :class:`TaskSet`/:class:`Task`, :mod:`edgeos.generators`,
  :mod:`edgeos.analysis` -- inputs and schedulability tests;
* :func:`simulate` -- the core-only simulator with the C++ policies ("fp", "edf") or a policy
  written in Python (:class:`Scheduler`, :class:`KeyScheduler`); the trace is a DataFrame;
* :func:`sweep`, :func:`run_batch` -- acceptance-ratio sweeps and batches of scenarios (one task per
  scenario and seed) over a process pool or a Dask cluster (:mod:`edgeos.cluster`);
* :mod:`edgeos.plots` -- Gantt charts, response-time CDFs, schedulability and latency curves;
* :mod:`edgeos.figures` -- every published figure, reproducibly (``python -m edgeos figures``).

Times are integer nanoseconds; where an argument is a duration a string with a unit ("5ms")
works too. Errors from the C++ side raise :class:`InputError` (a ValueError) with its message.
"""

from __future__ import annotations

from . import _edgeos
from ._edgeos import (InputError, Scenario, Task, TaskSet, TraceData, duration, format_duration, parse_scenario,
                      read_task_set_csv, rate_monotonic, deadline_monotonic)
from ._edgeos import analysis, generators
from .policies import EDF, FixedPriority, KeyScheduler, LeastLaxityFirst, Scheduler, Thread
from .simulation import BACKENDS, TRACE_COLUMNS, TRACE_EVENTS, SimResult, load_scenario, simulate, trace_frame
from .sweeps import run_batch, sweep
from . import figures, plots

__version__ = "0.1.0"

__all__ = [
    "InputError", "Scenario", "Task", "TaskSet", "TraceData", "duration", "format_duration", "parse_scenario",
    "read_task_set_csv", "rate_monotonic", "deadline_monotonic", "analysis", "generators",
    "EDF", "FixedPriority", "KeyScheduler", "LeastLaxityFirst", "Scheduler", "Thread",
    "BACKENDS", "TRACE_COLUMNS", "TRACE_EVENTS", "SimResult", "load_scenario", "simulate", "trace_frame", "sweep",
    "run_batch",
]
