"""Scheduling policies written in Python.

A policy orders the ready threads of one CPU; the kernel asks it for the best one and whether
that one preempts the running thread (core/include/edgeos/core/scheduler.hpp). Subclass:

* :class:`KeyScheduler` and return a sort key from ``key(thread)`` (smaller runs first; an int
  or a tuple of up to three ints). The ready queue itself stays in C++, so a decision costs one
  or two Python calls. Ties keep FIFO order, a preempted thread ahead of its equals.
* :class:`Scheduler` and implement ``enqueue``, ``dequeue``, ``pick`` and ``preempts``
  yourself, for policies that are not a sort order.

Either may also define event hooks ``on_<event>(thread_index, time_ns, value)`` for any trace
event of docs/trace.md (``on_release``, ``on_complete``, ``on_deadline_miss``,
``on_budget_exhausted``, ``on_replenish``, ...); they are called for the records of the
policy's CPU as the kernel emits them. A thread view shows the thread as it is now, and only
while the run lasts: keep ``thread.index``, not the view (a view used after its run raises
RuntimeError).

Each CPU needs its own policy object: give :func:`edgeos.simulate` the class (or a factory
``cpu -> policy``) rather than an instance when there is more than one CPU.
"""

from __future__ import annotations

from typing import Dict, List, Optional, Tuple, Union

from . import _edgeos

Thread = _edgeos.Thread
Key = Union[int, Tuple[int, ...]]

__all__ = ["Scheduler", "KeyScheduler", "EDF", "FixedPriority", "LeastLaxityFirst", "Thread"]


class Scheduler(_edgeos.Policy):
    """A policy that makes every decision in Python.

    Override ``enqueue(thread, head)``, ``dequeue(thread)``, ``pick() -> Thread | None`` and
    ``preempts(candidate, running) -> bool``. ``head`` is True for a preempted thread (it
    should run before its equals). ``pick`` must return a queued thread, or None when none is
    queued; anything else raises an error in the simulation, never a crash.
    """

    name = "python"
    #: True for deadline-ordered policies (CBS servers need one).
    orders_by_deadline = False

    def __init__(self) -> None:
        _edgeos.Policy.__init__(self)
        self._policy_name = type(self).name
        self._orders_by_deadline = type(self).orders_by_deadline


class KeyScheduler(_edgeos.KeyPolicy):
    """A policy given by a sort key: override ``key(thread)``; smaller keys run first.

    The default ``preempts(candidate, running)`` is ``key(candidate) < key(running)``, with the
    running thread's key asked anew (it may depend on how far its job has run).
    """

    name = "python-key"
    #: True for deadline-ordered policies (CBS servers need one).
    orders_by_deadline = False

    def __init__(self) -> None:
        _edgeos.KeyPolicy.__init__(self)
        self._policy_name = type(self).name
        self._orders_by_deadline = type(self).orders_by_deadline


class EDF(KeyScheduler):
    """Earliest deadline first, as the C++ EdfScheduler orders: by the scheduling context's
    absolute deadline, then the order the deadlines were set, then the thread index (Liu &
    Layland 1973). Gives the same trace as ``policy="edf"``."""

    name = "py-edf"
    orders_by_deadline = True

    def key(self, thread: Thread) -> Key:
        return (thread.deadline, thread.deadline_seq, thread.index)


class FixedPriority(KeyScheduler):
    """Fixed priorities, larger first, FIFO among equals; the same trace as ``policy="fp"``."""

    name = "py-fp"

    def key(self, thread: Thread) -> Key:
        return -thread.priority


class LeastLaxityFirst(KeyScheduler):
    """Least laxity first (Mok 1983; Dertouzos & Mok 1989): the job with the least slack
    ``deadline - now - remaining`` runs. While a thread waits its laxity falls as fast as every
    other waiting thread's, so waiting threads keep their order and the key
    ``deadline - remaining work`` (laxity plus now) orders them; only the running thread's key
    moves, and it is asked anew at each preemption check. Remaining work is the declared WCET
    minus what the job has run, so the policy needs each thread's WCET (ns, by thread index).

    Equal laxities go to the earlier deadline, then the lower thread index; preemption needs a
    strictly smaller key, which avoids pure LLF's thrashing between equal laxities.
    """

    name = "py-llf"

    def __init__(self, wcet: Dict[int, int]) -> None:
        super().__init__()
        self.wcet = dict(wcet)

    def key(self, thread: Thread) -> Key:
        remaining = max(self.wcet.get(thread.index, 0) - thread.job_exec, 0)
        return (thread.job_deadline - remaining, thread.job_deadline, thread.index)


