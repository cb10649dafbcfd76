"""Embarrassingly parallel work on this machine or on a Dask cluster, merged deterministically.

Sweeps (:func:`edgeos.sweep`), batches of scenarios (:func:`edgeos.sweeps.run_batch`) and the
paper's experiments (``python -m edgeos paper --dask``) cut their work into *tasks*: a module-level
function and the arguments it needs, all of them data (scenario text, seeds, parameters: never a
path on this machine, which a worker on another host could not read). :func:`run_tasks` runs
them in this process, in a local process pool, or on a ``dask.distributed`` cluster, and returns
the results by task key, so the caller merges them in its own order, never in completion order:
a run on a cluster gives the same bytes as a run in this process.

Where the work runs (:func:`connect`, the ``--dask`` option of the command lines):

* ``None`` / ``""``: here (or a local process pool of ``workers`` processes);
* ``"local"`` or ``"local:N"``: a ``LocalCluster`` of N worker *processes* (default: the CPU
  count), one thread each, started and stopped around the run;
* ``"tcp://HOST:PORT"``: the scheduler of an existing cluster (``dask-scheduler`` and
  ``dask-worker``s that can ``import edgeos``; README.md, "Experiments on a Dask cluster");
* a ``dask.distributed.Client``: used as it is.

Faults. A task that fails on bad input (``edgeos.InputError`` and the other ``ValueError``s,
``OSError``) is reported with its message and does not stop the others; it is not retried (it would
fail again). Any other exception is retried up to ``retries`` times (Dask's ``retries=``) before it
is reported. A worker that dies (killed, out of memory) loses its tasks to the scheduler, which
runs them again on the workers left (up to ``distributed.scheduler.allowed-failures`` deaths per
task, 3 by default); after that the task is reported failed, the others go on.

Progress: done / failed / remaining, with tqdm when it is installed (Debian's python3-tqdm),
otherwise a line on stderr at most four times a second.
"""

from __future__ import annotations

import concurrent.futures as cf
import contextlib
import os
import sys
import time
import uuid
from dataclasses import dataclass
from typing import Any, Callable, Dict, Iterator, List, Optional, Sequence, Tuple

__all__ = ["connect", "run_tasks", "Progress", "TaskFailure", "parse_dask_spec"]

ProgressCallback = Callable[[int, int, int], None]


@dataclass(frozen=True)
class TaskFailure:
    """A task that did not complete: its key and why (the message a user can act on)."""
    key: str
    message: str


@dataclass(frozen=True)
class _Failed:
    """What a task returns, instead of raising, when its input is bad (so that Dask does not retry it)."""
    message: str


def _input_error_types() -> Tuple[type, ...]:
    from . import _edgeos
    return (_edgeos.InputError, ValueError, OSError)


def _guarded(fn: Callable[..., Any], *args: Any) -> Any:
    """Runs fn(*args) in a worker: bad input becomes a _Failed value, anything else raises."""
    try:
        return fn(*args)
    except _input_error_types() as e:
        return _Failed(str(e) or type(e).__name__)


def _describe(exc: BaseException) -> str:
    name = type(exc).__name__
    if name == "KilledWorker":
        return (f"the task's worker died {1 + int(_allowed_failures())} times while running it (Dask KilledWorker: "
                f"{exc}); a task that kills its worker, or too few healthy workers")
    text = str(exc)
    if isinstance(exc, ModuleNotFoundError) and getattr(exc, "name", "") in ("edgeos", "edgeos._edgeos"):
        text += (" (on a worker: start dask-worker with PYTHONPATH set to an absolute path of the build's pybind "
                 "folder, built for the same Python version, or in the project's .venv)")
    return f"{name}: {text}" if text else name


def _allowed_failures() -> int:
    try:
        import dask
        return int(dask.config.get("distributed.scheduler.allowed-failures"))
    except Exception:  # noqa: BLE001 - only for a message
        return 3


# --- where the work runs ---------------------------------------------------------------------------

def parse_dask_spec(spec: str) -> Tuple[str, Optional[int]]:
    """'local' -> ('local', None); 'local:4' -> ('local', 4); 'tcp://h:8786' -> ('address', None)."""
    s = spec.strip()
    if s == "local" or s.startswith("local:"):
        if s == "local":
            return "local", None
        try:
            n = int(s[len("local:"):])
        except ValueError:
            n = 0
        if n < 1:
            raise ValueError(f"--dask: in {spec!r} the worker count must be a whole number >= 1 (e.g. local:2)")
        return "local", n
    if "://" in s or (":" in s and not s.startswith(":")):
        return "address", None
    raise ValueError(f"--dask: expected local, local:N (N worker processes on this machine) or the address of a "
                     f"running scheduler such as tcp://HOST:8786, got {spec!r}")


@contextlib.contextmanager
def connect(spec: Any, *, timeout: float = 30.0) -> Iterator[Any]:
    """A ``dask.distributed.Client`` for ``spec`` (see the module's documentation), or None for
    "run here". A LocalCluster started here is closed on exit; a Client passed in is left open."""
    if spec is None or (isinstance(spec, str) and not spec.strip()):
        yield None
        return
    if not isinstance(spec, str):
        if not hasattr(spec, "submit"):
            raise TypeError(f"client: expected a dask.distributed.Client, an address or 'local[:N]', got {spec!r}")
        yield spec
        return
    kind, n = parse_dask_spec(spec)
    try:
        import logging
        from dask.distributed import Client, LocalCluster
    except ImportError as e:
        raise RuntimeError(f"--dask needs dask.distributed ({e}); on Debian: apt-get install python3-distributed") from None
    if kind == "local":
        import warnings
        with warnings.catch_warnings():
            # Its scheduler's HTTP server moves off port 8787 when another cluster holds it: nothing to report.
            warnings.filterwarnings("ignore", message="Port .* is already in use", category=UserWarning)
            cluster = LocalCluster(n_workers=n or (os.cpu_count() or 1), threads_per_worker=1, processes=True,
                                   dashboard_address=None, silence_logs=logging.ERROR)
        try:
            with Client(cluster, timeout=timeout) as client:
                yield client
        finally:
            cluster.close()
        return
    try:
        client = Client(spec.strip(), timeout=timeout)
    except OSError as e:
        raise RuntimeError(f"--dask {spec}: no Dask scheduler answered within {timeout:.0f} s ({e}); start one with "
                           "dask-scheduler, or check the address and port") from None
    try:
        yield client
    finally:
        client.close()


# --- progress --------------------------------------------------------------------------------------

class Progress:
    """done / failed / remaining, on a tqdm bar if tqdm is installed, else a stderr line."""

    def __init__(self, total: int, desc: str, enabled: bool = True,
                 callback: Optional[ProgressCallback] = None) -> None:
        self.total, self.desc, self.done, self.failed = total, desc, 0, 0
        self.callback = callback
        self._bar = None
        self._plain = False
        self._last = 0.0
        if enabled:
            try:
                from tqdm import tqdm
                self._bar = tqdm(total=total, desc=desc, unit="task", file=sys.stderr, dynamic_ncols=True)
            except ImportError:
                self._plain = True

    @property
    def remaining(self) -> int:
        return self.total - self.done - self.failed

    def text(self) -> str:
        return f"{self.desc}: {self.done} done, {self.failed} failed, {self.remaining} remaining of {self.total}"

    def update(self, ok: bool) -> None:
        if ok:
            self.done += 1
        else:
            self.failed += 1
        if self._bar is not None:
            self._bar.set_postfix_str(f"failed={self.failed} remaining={self.remaining}", refresh=False)
            self._bar.update(1)
        elif self._plain:
            now = time.monotonic()
            if now - self._last >= 0.25 or self.remaining == 0:
                self._last = now
                print("\r" + self.text(), end="\n" if self.remaining == 0 else "", file=sys.stderr, flush=True)
        if self.callback is not None:
            self.callback(self.done, self.failed, self.remaining)

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
            self._bar = None
        elif self._plain and self.remaining != 0:
            print(file=sys.stderr, flush=True)


# --- running tasks ---------------------------------------------------------------------------------

def run_tasks(fn: Callable[..., Any], tasks: Sequence[Tuple[str, Tuple[Any, ...]]], *, client: Any = None,
              workers: int = 1, retries: int = 2, progress: bool = True, desc: str = "tasks",
              on_progress: Optional[ProgressCallback] = None) -> Tuple[Dict[str, Any], List[TaskFailure]]:
    """Runs ``fn(*args)`` for every ``(key, args)`` of ``tasks``; returns (results by key, failures
    in the order of ``tasks``). ``fn`` must be a module-level function (workers import it by
    name). Keys must be unique. client: a Dask client (see :func:`connect`), or None to run here:
    in this process if ``workers`` <= 1, else in a pool of ``workers`` processes.
    on_progress(done, failed, remaining) is called after each task ends, in this process."""
    keys = [k for k, _ in tasks]
    if len(set(keys)) != len(keys):
        raise ValueError("run_tasks: task keys must be unique")
    if retries < 0:
        raise ValueError("retries: must be >= 0")
    results: Dict[str, Any] = {}
    failed: Dict[str, str] = {}
    bar = Progress(len(tasks), desc, progress, on_progress)

    def finish(key: str, value: Any = None, error: Optional[str] = None) -> None:
        if error is None and isinstance(value, _Failed):
            error = value.message
        if error is None:
            results[key] = value
        else:
            failed[key] = error
        bar.update(error is None)

    try:
        if client is not None:
            from dask.distributed import as_completed
            # Keys unique to this call: the same task submitted twice to one scheduler is run twice.
            token = uuid.uuid4().hex[:12]
            futures = {client.submit(_guarded, fn, *args, key=f"edgeos-{desc}-{token}-{i}", pure=False,
                                     retries=retries): key for i, (key, args) in enumerate(tasks)}
            try:
                for fut in as_completed(futures):
                    key = futures[fut]
                    if fut.status == "finished":
                        finish(key, fut.result())
                        continue
                    try:
                        exc = fut.exception()
                    except Exception as e:  # noqa: BLE001 - cancelled (the scheduler lost it): that is the reason
                        exc = e
                    finish(key, error=_describe(exc))
            finally:
                for fut in futures:
                    fut.release()
        elif workers <= 1:
            for key, args in tasks:
                attempts = 0
                while True:
                    try:
                        finish(key, _guarded(fn, *args))
                        break
                    except Exception as e:  # noqa: BLE001 - reported, as on a cluster
                        attempts += 1
                        if attempts > retries:
                            finish(key, error=_describe(e))
                            break
        else:
            with cf.ProcessPoolExecutor(max_workers=workers) as pool:
                futs = {pool.submit(_guarded, fn, *args): key for key, args in tasks}
                for fut in cf.as_completed(futs):
                    exc = fut.exception()
                    finish(futs[fut], error=_describe(exc)) if exc is not None else finish(futs[fut], fut.result())
    finally:
        bar.close()
    return results, [TaskFailure(k, failed[k]) for k in keys if k in failed]
