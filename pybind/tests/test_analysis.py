"""Analyses and generators from Python, against values worked out by hand and against simulation."""

import math

import pytest

import edgeos
from edgeos import analysis, generators

MS = 1_000_000


def textbook():
    # Rate monotonic: (C, T) = (1, 4), (2, 6), (3, 10) ms. By hand: R1 = 1; R2 = 2 + 1 = 3;
    # R3 = 3 + ceil(R/4) + 2 ceil(R/6): 6, 7, 9, 10, 10 -> 10 = D3. U = 0.8833.
    return [analysis.Task(wcet="1ms", period="4ms", priority=3), analysis.Task(wcet="2ms", period="6ms", priority=2),
            analysis.Task(wcet="3ms", period="10ms", priority=1)]


def test_response_time_analysis_by_hand():
    r = analysis.response_time_analysis(textbook())
    assert r.schedulable and r.verdict == "schedulable"
    assert r.response_times == [1 * MS, 3 * MS, 10 * MS]


def test_bounds_and_edf():
    tasks = textbook()
    assert math.isclose(analysis.utilisation(tasks), 1 / 4 + 2 / 6 + 3 / 10)
    # Liu & Layland for n = 3: 3 (2^(1/3) - 1) = 0.7798 < 0.8833: inconclusive.
    assert analysis.liu_layland_bound(tasks).verdict == "inconclusive"
    # Hyperbolic: (1.25)(1.3333)(1.3) = 2.1667 > 2: inconclusive too.
    assert analysis.hyperbolic_bound(tasks).verdict == "inconclusive"
    assert analysis.edf_utilisation(tasks).schedulable
    assert analysis.edf_demand(tasks).schedulable
    over = tasks + [analysis.Task(wcet="1ms", period="8ms")]  # U = 1.0083
    assert not analysis.edf_demand(over).schedulable
    assert not analysis.response_time_analysis(analysis.rate_monotonic(over)).schedulable


def test_rta_equals_the_simulated_first_job_response():
    # From the synchronous release the first job of each task sees the worst case (critical
    # instant, Liu & Layland 1973), so simulation and analysis must agree exactly.
    tasks = textbook()
    ts = generators.to_task_set(tasks)
    res = edgeos.simulate(ts, policy="fp", duration="30ms")
    df = res.trace
    first = df[(df["event"] == "complete") & (df["job"] == 0)].sort_values("thread")
    assert first["value"].tolist() == analysis.response_time_analysis(tasks).response_times


def test_generators_are_seeded():
    u = generators.uunifast(5, 8, 0.75)
    assert len(u) == 8 and math.isclose(sum(u), 0.75) and min(u) > 0
    assert generators.uunifast(5, 8, 0.75) == u
    assert generators.uunifast(6, 8, 0.75) != u
    a = generators.generate(3, tasks=6, utilisation=0.6)
    b = generators.generate(3, tasks=6, utilisation=0.6)
    assert [(t.wcet, t.period) for t in a] == [(t.wcet, t.period) for t in b]
    assert math.isclose(analysis.utilisation(a), 0.6, rel_tol=1e-3)
    cpus = generators.partition(generators.generate(4, tasks=12, utilisation=1.5, utilisations="uunifast-discard"), 2)
    assert cpus is not None and set(cpus) <= {0, 1}


def test_analysis_argument_errors():
    with pytest.raises(edgeos.InputError, match="task #0: field \"wcet\""):
        analysis.response_time_analysis([analysis.Task(wcet=0, period="4ms")])
    with pytest.raises(edgeos.InputError, match="utilisation"):
        generators.generate(1, tasks=3, utilisation=5.0)
    with pytest.raises(TypeError):
        analysis.Task(wcet=1.5, period="4ms")


def test_global_tests_by_hand():
    # Dhall's set on 2 CPUs (G-EDF misses it): every global test rejects it.
    dhall = [analysis.Task(wcet="2ms", period="40ms"), analysis.Task(wcet="2ms", period="40ms"),
             analysis.Task(wcet="40ms", period="41ms")]
    for test in (analysis.gedf_density, analysis.gedf_baker, analysis.gedf_bcl):
        assert test(dhall, 2).verdict == "inconclusive"
    # Two heavy (6, 8) and a light (1, 8) task: BCL accepts; GFB (0.75+0.75+0.125+0.75 > 2) does not.
    heavy = [analysis.Task(wcet="6ms", period="8ms", priority=3), analysis.Task(wcet="6ms", period="8ms", priority=2),
             analysis.Task(wcet="1ms", period="8ms", priority=1)]
    assert analysis.gedf_bcl(heavy, 2).schedulable
    assert not analysis.gedf_density(heavy, 2).schedulable
    # Global FP response-time bounds: 6, 6 and 7 ms (worked out in schedulers/tests/analysis_test.cpp).
    r = analysis.gfp_rta(heavy, 2)
    assert r.schedulable and r.response_times == [6 * MS, 6 * MS, 7 * MS]
    assert analysis.gfp_bcl(heavy, 3).schedulable
