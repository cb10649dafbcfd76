"""Every analysis quantity against an independent computation in exact arithmetic.

The references below are written from the papers, in Python's unbounded integers and
fractions.Fraction, and share nothing with schedulers/analysis/analysis.cpp: utilisation (a sum of
fractions), the synchronous busy period (Spuri 1996), the QPA bound L_a (Zhang & Burns 2009), the
demand-bound function (Baruah, Rosier & Howell 1990), the processor-demand verdict by checking
every deadline up to L, and fixed-priority response times (Joseph & Pandya 1986). Random sets have
2-500 tasks and periods up to 10^9 ns, so the lowest common denominator of the utilisation sum runs
to thousands of bits: the regime where a 128-bit sum overflows.
"""

import random
import time
from fractions import Fraction
from math import ceil

from edgeos import analysis

CAP = 1 << 62  # the analyses' horizon cap (ns)


def random_set(rng, n, *, u_total=None, constrained=False, priorities=False):
    """n tasks with periods in [10^3, 10^9] ns (log-uniform) and utilisations summing to ~u_total."""
    u_total = u_total if u_total is not None else rng.uniform(0.3, 1.0)
    shares = [rng.random() for _ in range(n)]
    scale = u_total / sum(shares)
    tasks = []
    for i in range(n):
        period = int(10 ** rng.uniform(3, 9))
        wcet = max(1, int(period * shares[i] * scale))
        deadline = period
        if constrained:
            deadline = rng.randint(wcet, period)
        tasks.append((wcet, period, deadline))
    if priorities:  # deadline monotonic, ties by index: larger number runs first
        order = sorted(range(n), key=lambda i: (tasks[i][2], i))
        prio = [0] * n
        for rank, i in enumerate(order):
            prio[i] = n - rank
        return tasks, prio
    return tasks


def to_analysis(tasks, prio=None):
    return [analysis.Task(wcet=c, period=t, deadline=d, priority=(prio[i] if prio else 0))
            for i, (c, t, d) in enumerate(tasks)]


def exact_u(tasks):
    return sum((Fraction(c, t) for c, t, _ in tasks), Fraction(0))


def ref_busy_period(tasks):
    w = sum(c for c, _, _ in tasks)
    while True:
        if w > CAP:
            return None
        nxt = sum(-(-w // t) * c for c, t, _ in tasks)
        if nxt == w:
            return w
        w = nxt


def ref_la(tasks):
    u = exact_u(tasks)
    if u >= 1:
        return None
    s = sum((Fraction(max(0, t - d) * c, t) for c, t, d in tasks), Fraction(0))
    q = ceil(s / (1 - u))
    if q > CAP:
        return None
    return max(max(d - t for _, t, d in tasks), q)


def ref_dbf(tasks, at):
    return sum(((at - d) // t + 1) * c for c, t, d in tasks if at >= d)


def ref_rta(tasks, prio):
    """Response times (None above the deadline), priorities larger-first, ties by index."""
    out = []
    for i, (c, t, d) in enumerate(tasks):
        hp = [tasks[j] for j in range(len(tasks)) if prio[j] > prio[i] or (prio[j] == prio[i] and j < i)]
        w = c + sum(cj for cj, _, _ in hp)
        while True:
            if w > d:
                out.append(None)
                break
            nxt = c + sum(-(-w // tj) * cj for cj, tj, _ in hp)
            if nxt == w:
                out.append(w)
                break
            w = nxt
    return out


def deadlines_up_to(tasks, limit, budget):
    """Every absolute deadline <= limit, or None if there are more than `budget` of them."""
    count = sum((limit - d) // t + 1 for _, t, d in tasks if d <= limit)
    if count > budget:
        return None
    points = set()
    for _, t, d in tasks:
        k = d
        while k <= limit:
            points.add(k)
            k += t
    return sorted(points)


def test_utilisation_of_large_sets_is_exact():
    # The reported regression: a 100-task set's U was off by one task's share once the exact sum
    # outgrew 128 bits.
    rng = random.Random(20261207)
    for n in (8, 10, 50, 100, 500):
        for _ in range(20):
            tasks = random_set(rng, n, u_total=0.9)
            u = exact_u(tasks)
            got = analysis.utilisation(to_analysis(tasks))
            assert abs(got - float(u)) <= 1e-12 * float(u), (n, got, float(u))


def test_compare_utilisation_decides_at_one_part_in_10_18():
    # A long double cannot tell these bounds apart from U; the comparison must still be exact.
    rng = random.Random(7)
    den = 10 ** 18
    for _ in range(2000):
        tasks = random_set(rng, rng.randint(2, 500))
        u = exact_u(tasks)
        ts = to_analysis(tasks)
        lo = (u.numerator * den) // u.denominator  # floor(U * den)
        for num in (lo - 1, lo, lo + 1, lo + 2):
            want = (Fraction(num, den) < u) - (Fraction(num, den) > u)  # 1 if U > num/den
            assert analysis.compare_utilisation(ts, num, den) == want
        assert analysis.compare_utilisation(ts, 1, 1) == (u > 1) - (u < 1)


def test_busy_period_and_qpa_bound_exactly():
    rng = random.Random(11)
    deadline = time.monotonic() + 60
    checked = 0
    while checked < 2000 and time.monotonic() < deadline:
        tasks = random_set(rng, rng.randint(2, 120), u_total=rng.uniform(0.2, 0.99),
                           constrained=rng.random() < 0.5)
        ts = to_analysis(tasks)
        b, la = ref_busy_period(tasks), ref_la(tasks)
        assert analysis.busy_period(ts) == b
        h = analysis.demand_horizon(ts)
        assert h["busy_period"] == b and h["la"] == la
        present = [x for x in (b, la) if x is not None]
        assert h["l"] == (min(present) if present else None)
        checked += 1
    assert checked >= 200


def test_the_reported_busy_period():
    # (C=1ms, T=4ms), (C=2ms, T=6ms): the synchronous busy period is 3 ms; implicit deadlines give
    # L_a = 0, so U <= 1 alone decides, and the verdict says so instead of "L = 1ns".
    ms = 1_000_000
    ts = [analysis.Task(wcet=1 * ms, period=4 * ms), analysis.Task(wcet=2 * ms, period=6 * ms)]
    h = analysis.demand_horizon(ts)
    assert h == {"busy_period": 3 * ms, "la": 0, "l": 0}
    r = analysis.edf_demand(ts)
    assert r.schedulable and "L_b = 3ms" in r.detail and "1ns" not in r.detail


def test_demand_and_qpa_verdict_against_every_deadline():
    rng = random.Random(23)
    deadline = time.monotonic() + 90
    compared = unschedulable = 0
    while compared < 1500 and time.monotonic() < deadline:
        n = rng.randint(2, 40)
        tasks = random_set(rng, n, u_total=rng.uniform(0.5, 1.05), constrained=True)
        # Short periods keep the number of deadlines up to L small enough to enumerate.
        tasks = [(max(1, c // 1000), max(1, t // 1000), max(1, d // 1000)) for c, t, d in tasks]
        tasks = [(c, t, max(c, min(d, t))) for c, t, d in tasks]
        ts = to_analysis(tasks)
        r = analysis.edf_demand(ts)
        u = exact_u(tasks)
        if u > 1:
            assert r.verdict == "unschedulable"
            continue
        h = analysis.demand_horizon(ts)
        if h["l"] is None:
            continue
        points = deadlines_up_to(tasks, h["l"], 20_000)
        if points is None:
            continue
        for p in points[:: max(1, len(points) // 50)]:
            assert analysis.demand_bound(ts, p) == ref_dbf(tasks, p)
        feasible = all(ref_dbf(tasks, p) <= p for p in points)
        assert r.schedulable == feasible, (tasks, r)
        compared += 1
        unschedulable += not feasible
    assert compared >= 100 and unschedulable >= 5, (compared, unschedulable)


def test_response_times_exactly():
    rng = random.Random(31)
    deadline = time.monotonic() + 60
    sets = 0
    while sets < 1000 and time.monotonic() < deadline:
        n = rng.randint(2, 500 if sets % 10 == 0 else 60)
        tasks, prio = random_set(rng, n, u_total=rng.uniform(0.3, 0.95), constrained=True, priorities=True)
        r = analysis.response_time_analysis(to_analysis(tasks, prio))
        want = ref_rta(tasks, prio)
        got = r.response_times
        # The analysis reports tasks past a miss too; None marks a response beyond the deadline.
        assert got == want, (n, [i for i in range(n) if got[i] != want[i]][:3])
        assert r.schedulable == all(x is not None for x in want)
        sets += 1
    assert sets >= 50


def test_cli_reports_the_exact_utilisation(tmp_path):
    import os
    import re
    import subprocess
    rng = random.Random(5)
    tasks = random_set(rng, 100, u_total=0.9)
    csv = tmp_path / "set.csv"
    csv.write_text("name,wcet,period\n" + "".join(f"t{i},{c}ns,{t}ns\n" for i, (c, t, _) in enumerate(tasks)))
    out = subprocess.run([os.environ["EDGEOS_CLI"], "analyze", str(csv), "--policy", "edf"], capture_output=True,
                         text=True, timeout=60, check=True).stdout
    printed = [float(x) for x in re.findall(r"U = ([0-9.]+)", out)]
    assert printed and all(abs(p - float(exact_u(tasks))) < 1e-4 for p in printed), out
