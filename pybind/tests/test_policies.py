"""Python-defined policies run in the same simulator as the C++ ones: a Python EDF or FP gives
the C++ policy's trace record for record, on random task sets."""

import bisect

import numpy as np
import pytest

import edgeos
from edgeos import generators


def random_task_set(seed):
    """A random set on 1 or 2 CPUs, some sporadic with variable costs, from 50% to 110% load."""
    rng = np.random.default_rng(seed)
    cpus = int(rng.integers(1, 3))
    n = int(rng.integers(2, 9))
    u = float(rng.uniform(0.5, 1.1)) * cpus
    tasks = generators.generate(seed, tasks=n, utilisation=u, utilisations="uunifast-discard" if u > 1 else "uunifast",
                                period_min="1ms", period_max="40ms", granularity="100us")
    if cpus > 1:
        cpu = [i % cpus for i in range(n)]
    else:
        cpu = [0] * n
    specs = []
    for i, t in enumerate(tasks):
        sporadic = rng.random() < 0.4
        specs.append(edgeos.Task(f"t{i}", wcet=t.wcet, period=t.period, deadline=t.deadline, cpu=cpu[i],
                                 priority=t.priority, tenant=f"tenant{i % 3}",
                                 kind="sporadic" if sporadic else "periodic",
                                 max_extra=t.period // 2 if sporadic else 0,
                                 bcet=max(1, t.wcet // 2) if rng.random() < 0.5 else 0,
                                 phase=int(rng.integers(0, 3)) * 100_000))
    return edgeos.TaskSet(specs, cpus=cpus, name=f"random{seed}")


def same_trace(a, b):
    ca, cb = a.columns, b.columns
    return len(a) == len(b) and all(np.array_equal(ca[k], cb[k]) for k in ca)


@pytest.mark.parametrize("block", range(4))
def test_python_edf_equals_cpp_edf_on_100_random_sets(block):
    misses = 0
    for seed in range(block * 25, block * 25 + 25):
        ts = random_task_set(seed)
        cpp = edgeos.simulate(ts, policy="edf", duration="150ms", seed=seed)
        py = edgeos.simulate(ts, policy=edgeos.EDF, duration="150ms", seed=seed)
        assert len(cpp) > 0
        assert same_trace(cpp, py), f"task set {seed}"
        misses += int((cpp.trace["event"] == "deadline_miss").sum())
    assert misses > 0  # the sets include overloads, so the miss path is compared too


def test_python_fp_equals_cpp_fp():
    for seed in range(100, 130):
        ts = random_task_set(seed)
        cpp = edgeos.simulate(ts, policy="fp", duration="150ms", seed=seed)
        py = edgeos.simulate(ts, policy=edgeos.FixedPriority, duration="150ms", seed=seed)
        assert same_trace(cpp, py), f"task set {seed}"


class ListEdf(edgeos.Scheduler):
    """EDF with every decision in Python: a sorted list of (deadline, seq, index)."""

    name = "list-edf"
    orders_by_deadline = True

    def __init__(self):
        super().__init__()
        self.queue = []
        self.views = {}

    def enqueue(self, thread, head):
        bisect.insort(self.queue, (thread.deadline, thread.deadline_seq, thread.index))
        self.views[thread.index] = thread

    def dequeue(self, thread):
        self.queue.remove((thread.deadline, thread.deadline_seq, thread.index))
        del self.views[thread.index]

    def pick(self):
        return self.views[self.queue[0][2]] if self.queue else None

    def preempts(self, candidate, running):
        return (candidate.deadline, candidate.deadline_seq, candidate.index) < \
               (running.deadline, running.deadline_seq, running.index)


def test_full_python_scheduler_equals_cpp_edf():
    for seed in range(200, 215):
        ts = random_task_set(seed)
        cpp = edgeos.simulate(ts, policy="edf", duration="100ms", seed=seed)
        py = edgeos.simulate(ts, policy=ListEdf, duration="100ms", seed=seed)
        assert same_trace(cpp, py), f"task set {seed}"


def test_python_policy_on_a_scenario_equals_cpp(examples):
    cpp = edgeos.simulate(examples / "kv-tenants.toml", policy="edf", seed=3, duration="100ms")
    py = edgeos.simulate(examples / "kv-tenants.toml", policy=edgeos.EDF, seed=3, duration="100ms")
    assert same_trace(cpp, py)
    assert cpp.summary["tenants"] == py.summary["tenants"]


class Counting(edgeos.EDF):
    def __init__(self):
        super().__init__()
        self.seen = {"complete": [], "release": [], "deadline_miss": []}

    def on_complete(self, thread, time_ns, value):
        self.seen["complete"].append((thread, time_ns, value))

    def on_release(self, thread, time_ns, value):
        self.seen["release"].append((thread, time_ns, value))

    def on_deadline_miss(self, thread, time_ns, value):
        self.seen["deadline_miss"].append((thread, time_ns, value))


def test_event_hooks_see_every_record_of_their_cpu():
    ts = random_task_set(7)
    made = []

    def factory(cpu):
        made.append(Counting())
        return made[-1]

    res = edgeos.simulate(ts, policy=factory, duration="100ms", seed=7)
    assert len(made) == ts.cpus
    df = res.trace
    for cpu, pol in enumerate(made):
        for event, seen in pol.seen.items():
            sel = df[(df["event"] == event) & (df["cpu"] == cpu)]
            expected = list(zip(sel["thread"].tolist(), sel["time_ns"].tolist(), sel["value"].tolist()))
            assert seen == expected
    assert sum(len(p.seen["complete"]) for p in made) > 0


def test_least_laxity_first_preempts_only_for_smaller_laxity():
    # Checked from the trace alone: at each preemption, the laxity (deadline - now - remaining
    # WCET) of the preempting thread is smaller than the preempted one's (equal laxity: an
    # earlier deadline), with the executed time of each job summed from its execution slices.
    ts = edgeos.TaskSet([edgeos.Task("a", wcet="3ms", period="10ms"), edgeos.Task("b", wcet="4ms", period="14ms"),
                         edgeos.Task("c", wcet="2ms", period="6ms", deadline="5ms")])
    wcet = {i: t.wcet for i, t in enumerate(ts.tasks)}
    res = edgeos.simulate(ts, policy=lambda cpu: edgeos.LeastLaxityFirst(wcet), duration="420ms")
    df = res.trace
    executed = {}
    deadline = {}
    running = None
    since = 0
    preemptions = 0
    for r in df.itertuples():
        if running is not None:
            executed[running] = executed.get(running, 0) + r.time_ns - since
            since = r.time_ns
        if r.event == "release":
            executed[(r.thread, r.job)] = 0
            deadline[(r.thread, r.job)] = r.value
        elif r.event in ("start", "resume"):
            running, since = (r.thread, r.job), r.time_ns
        elif r.event == "complete":
            running = None
        elif r.event == "preempt":
            victim = (r.thread, r.job)
            winner_thread = int(r.value)
            winner = max(k for k in executed if k[0] == winner_thread)
            order = lambda k: (deadline[k] - r.time_ns - (wcet[k[0]] - executed[k]), deadline[k], k[0])
            assert order(winner) < order(victim)
            preemptions += 1
            running = None
    assert preemptions > 0
    assert (df["event"] == "complete").sum() > 50


class EdfViaSuper(edgeos.EDF):
    """Overrides preempts but defers to the base rule: must not recurse into itself."""

    def __init__(self):
        super().__init__()
        self.checks = 0

    def preempts(self, candidate, running):
        self.checks += 1
        return super().preempts(candidate, running)


def test_overridden_preempts_can_call_the_base_rule():
    ts = random_task_set(11)
    made = []
    cpp = edgeos.simulate(ts, policy="edf", duration="100ms", seed=11)
    py = edgeos.simulate(ts, policy=lambda cpu: made.append(EdfViaSuper()) or made[-1], duration="100ms", seed=11)
    assert same_trace(cpp, py)
    assert sum(p.checks for p in made) > 0


class BudgetWatch:
    """Mixin: records budget events through the hooks."""

    def on_budget_exhausted(self, thread, time_ns, value):
        self.budget.append(("budget_exhausted", thread, time_ns, value))

    def on_replenish(self, thread, time_ns, value):
        self.budget.append(("replenish", thread, time_ns, value))


class WatchedFp(BudgetWatch, edgeos.FixedPriority):
    def __init__(self):
        super().__init__()
        self.budget = []


class WatchedEdf(BudgetWatch, edgeos.EDF):
    def __init__(self):
        super().__init__()
        self.budget = []


def test_per_cpu_python_policies_with_servers_equal_the_scenario_run(examples):
    # fp-servers.toml has an FP server and an EDF server with sporadic, deferrable and polling
    # servers: Python FP and EDF on the matching CPUs give the C++ run, and the budget hooks
    # see every budget record of their CPU.
    path = examples / "fp-servers.toml"
    scenario = edgeos.load_scenario(path)
    kinds = [s["policy"] for s in scenario.servers for _ in range(s["cpus"])]
    assert set(kinds) == {"fp", "edf"}
    made = []

    def factory(cpu):
        made.append(WatchedFp() if kinds[cpu] == "fp" else WatchedEdf())
        return made[-1]

    cpp = edgeos.simulate(scenario, seed=9, duration="500ms")
    py = edgeos.simulate(scenario, policy=factory, seed=9, duration="500ms")
    assert same_trace(cpp, py)
    df = py.trace
    total = 0
    for cpu, pol in enumerate(made):
        sel = df[df["event"].isin(["budget_exhausted", "replenish"]) & (df["cpu"] == cpu)]
        expected = list(zip(sel["event"].astype(str), sel["thread"], sel["time_ns"], sel["value"]))
        assert pol.budget == expected
        total += len(expected)
    assert total > 0
