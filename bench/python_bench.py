#!/usr/bin/env python3
"""Benchmarks of the Python package (pybind/), printed as a table; medians of repetitions.

  1. A C++ policy driven from Python (edgeos.simulate, trace handed over as numpy columns,
     summary built) against the same work driven from C++ (_bench_cpp_simulate: simulate +
     summarise in C++, no Python): target within 1.1x.
  2. A Python-defined policy: scheduling decisions per second (kernel entries: releases,
     completions, timer expiries, each ending in a decision) with edgeos.EDF (KeyScheduler:
     one or two Python calls per decision) and with an all-Python Scheduler; target >= 500k/s.
  3. A 10-million-record trace as a DataFrame: resident memory added by the frame on top of
     the records themselves (40 bytes each).

Run: PYTHONPATH=build/pybind /usr/bin/python3 bench/python_bench.py [--quick]
"""

import argparse
import bisect
import gc
import os
import statistics
import sys
import time

import edgeos
from edgeos import generators


def rss_bytes():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def task_set(n=100, cpus=4, seed=1):
    # As bench/sim_bench.cpp: 100 tasks on 4 CPUs, utilisation 0.7 per CPU.
    tasks = generators.generate(seed, tasks=n, utilisation=0.7 * cpus, utilisations="uunifast-discard",
                                period_min="1ms", period_max="100ms", granularity="100us")
    return generators.to_task_set(tasks, cpu=[i % cpus for i in range(n)], cpus=cpus, name="bench")


class ListEdf(edgeos.Scheduler):
    name = "list-edf"
    orders_by_deadline = True

    def __init__(self):
        super().__init__()
        self.queue, self.views = [], {}

    def enqueue(self, t, head):
        bisect.insort(self.queue, (t.deadline, t.deadline_seq, t.index))
        self.views[t.index] = t

    def dequeue(self, t):
        self.queue.remove((t.deadline, t.deadline_seq, t.index))
        del self.views[t.index]

    def pick(self):
        return self.views[self.queue[0][2]] if self.queue else None

    def preempts(self, c, r):
        return (c.deadline, c.deadline_seq, c.index) < (r.deadline, r.deadline_seq, r.index)


def median_time(fn, reps):
    times = []
    for _ in range(reps):
        gc.collect()
        t0 = time.perf_counter()
        out = fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times), out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true")
    args = ap.parse_args()
    reps = 3 if args.quick else 5
    ts = task_set()
    dur = 200_000_000 if args.quick else 1_000_000_000

    print("== 1. C++ policy, 100 tasks on 4 CPUs: driven from Python vs from C++ ==")
    long = dur * 5
    for policy in ("edf", "fp"):
        # Interleaved, so that both see the same machine (it is shared and noisy).
        t_cpp, t_py, t_frame = [], [], []
        for _ in range(reps + 2):
            gc.collect()
            t_cpp.append(edgeos._edgeos._bench_cpp_simulate(ts, policy, long)[0])
            gc.collect()
            t0 = time.perf_counter()
            res = edgeos.simulate(ts, policy=policy, duration=long)
            t_py.append(time.perf_counter() - t0)
            _ = res.trace
            t_frame.append(time.perf_counter() - t0)
            del res, _
        c, p, f = statistics.median(t_cpp), statistics.median(t_py), statistics.median(t_frame)
        res = edgeos.simulate(ts, policy=policy, duration=long)
        print(f"{policy}: {len(res)} records, {res.stats['events']} kernel entries; C++ {c*1e3:.1f} ms, "
              f"Python {p*1e3:.1f} ms ({p/c:.3f}x), with the DataFrame {f*1e3:.1f} ms ({f/c:.3f}x)")

    print("== 2. Python-defined policies: decisions per second ==")
    # Interleaved with the C++ EDF on the same set: end to end (simulator, trace and summary
    # included), and the policy's own cost per decision (the difference to the C++ run).
    pols = (("C++ EDF (reference)", "edf"), ("edgeos.EDF (KeyScheduler)", edgeos.EDF),
            ("all-Python ListEdf (Scheduler)", ListEdf))
    times = {label: [] for label, _ in pols}
    for _ in range(reps):
        for label, pol in pols:
            gc.collect()
            t0 = time.perf_counter()
            res = edgeos.simulate(ts, policy=pol, duration=dur)
            times[label].append(time.perf_counter() - t0)
    ev = res.stats["events"]
    ref = statistics.median(times["C++ EDF (reference)"])
    for label, _ in pols:
        t = statistics.median(times[label])
        own = (t - ref) / ev
        extra = f"; the policy's own cost {own*1e9:.0f} ns = {1/own/1e3:.0f}k decisions/s" if t > ref else ""
        print(f"{label}: {ev} decisions in {t*1e3:.1f} ms = {ev/t/1e3:.0f}k decisions/s end to end{extra}")

    print("== 3. a 10-million-record trace as a DataFrame ==")
    target = 2_000_000 if args.quick else 10_000_000
    per_s = len(edgeos.simulate(ts, policy="edf", duration="100ms")) * 10
    horizon = int(target / per_s * 1e9 * 1.06) + 1  # a little over the target
    gc.collect()
    before = rss_bytes()
    res = edgeos.simulate(ts, policy="edf", duration=horizon)
    after_sim = rss_bytes()
    t0 = time.perf_counter()
    df = res.trace
    t_df = time.perf_counter() - t0
    after_df = rss_bytes()
    n = len(df)
    print(f"{n} records: records {n*40/2**20:.0f} MiB (40 B each); RSS +{(after_sim-before)/2**20:.0f} MiB after the "
          f"run, +{(after_df-after_sim)/2**20:.0f} MiB more for the DataFrame ({(after_df-after_sim)/n:.2f} B/record), "
          f"built in {t_df*1e3:.0f} ms")
    return 0


if __name__ == "__main__":
    sys.exit(main())
