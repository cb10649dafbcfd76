#!/usr/bin/python3
"""The SimGrid backend (edgeos sim --backend simgrid), end to end.

Run by ctest as `simgrid_test.py PATH_TO_EDGEOS EXAMPLES_DIR`. Standard library only.

Every expectation is computed here, independently of the backend: equivalence against the
core-only backend (a separate implementation of the run: its own event loop and clock); network
times from latency + size / bandwidth; energy from the hosts' power parameters.
"""
import json
import os
import random
import signal
import subprocess
import sys
import tempfile
import time
import unittest

EDGEOS = None
sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "cli"))
from cli_test import perfetto_check  # noqa: E402  Perfetto's schema and its trace processor's rules
EXAMPLES = None


def run(*args, timeout=300):
    return subprocess.run([EDGEOS, *args], capture_output=True, text=True, timeout=timeout)


def sim(scenario, out, *extra, backend="core"):
    r = run("sim", scenario, "--out", out, "--quiet", "--backend", backend, *extra)
    return r


def read(path):
    with open(path, "rb") as f:
        return f.read()


def write(path, text):
    with open(path, "w") as f:
        f.write(text)
    return path


# --- random single-server scenarios with budgets and synchronous calls -----------------------------

def random_scenario(seed):
    """A scenario the core-only backend accepts: 1 server, 1-3 CPUs, FP or EDF, periodic and
    sporadic threads, every server kind, synchronous calls between tenants."""
    rng = random.Random(seed)
    policy = rng.choice(["edf", "fp"])
    cpus = rng.randint(1, 3)
    tenants = [f"t{i}" for i in range(rng.randint(2, 4))]
    lines = [f'[scenario]\nname = "gen{seed}"\nduration = "{rng.choice([200, 400, 700])}ms"\nseed = {seed}\n',
             f'[[server]]\nname = "edge"\ncpus = {cpus}\npolicy = "{policy}"\n']
    for t in tenants:
        lines.append(f'[[tenant]]\nname = "{t}"\n')
    kinds = ["none", "sporadic", "deferrable", "polling"] + (["cbs"] if policy == "edf" else [])
    n = 0
    for t in tenants:
        for _ in range(rng.randint(1, 3)):
            n += 1
            name = f"th{n}"
            period = rng.choice([5, 7, 10, 12, 20, 25, 40])
            cost_us = rng.randint(200, period * 400)
            sporadic = rng.random() < 0.35
            th = [f'[[thread]]\nname = "{name}"\ntenant = "{t}"\ncpu = {rng.randrange(cpus)}\n']
            if sporadic:
                th.append(f'release = "sporadic"\ndeadline = "{period}ms"\n')
            else:
                th.append(f'period = "{period}ms"\n')
                if rng.random() < 0.3:
                    th.append(f'phase = "{rng.randint(0, period)}ms"\n')
            if rng.random() < 0.4:
                th.append(f'cost = {{ dist = "uniform", min = "{max(1, cost_us // 2)}us", max = "{cost_us}us" }}\n')
            else:
                th.append(f'cost = "{cost_us}us"\n')
            if policy == "fp":
                th.append(f"priority = {rng.randint(0, 40)}\n")
            kind = rng.choice(kinds)
            if kind != "none":
                sp = rng.choice([5, 10, 20])
                th.append(f'server = "{kind}"\nbudget = "{rng.randint(2, 2 * sp) * 500}us"\nserver_period = "{sp * 1000}us"\n')
            others = [o for o in tenants if o != t]
            if others and rng.random() < 0.35:
                th.append(f'[[thread.call]]\nto = "{rng.choice(others)}"\nat = "{rng.randint(0, cost_us)}us"\n'
                          f'cost = "{rng.randint(20, 800)}us"\n')
            lines.append("".join(th))
            if sporadic:
                lines.append(f'[[workload]]\nname = "w{n}"\nkind = "poisson"\ntarget = "{name}"\n'
                             f'rate = "{rng.choice([50, 100, 300, 800])}/s"\n')
    return "\n".join(lines)


def budgets_fit(text):
    """Budgets must not exceed the server period (the scenario parser's rule)."""
    import re
    for b, p in re.findall(r'budget = "(\d+)us"\nserver_period = "(\d+)us"', text):
        if int(b) > int(p):
            return False
    return True


class Equivalence(unittest.TestCase):
    """One server, no network: the SimGrid backend's trace is the core-only backend's, byte for
    byte (same events, same instants, same order), and so is the summary's schedule part."""

    def check(self, scenario, d, label, devices=False):
        rc = sim(scenario, os.path.join(d, "core"))
        self.assertEqual(rc.returncode, 0, f"{label}: {rc.stderr}")
        rs = sim(scenario, os.path.join(d, "sg"), backend="simgrid")
        self.assertEqual(rs.returncode, 0, f"{label}: {rs.stderr}")
        a = read(os.path.join(d, "core", "trace.csv"))
        b = read(os.path.join(d, "sg", "trace.csv"))
        self.assertGreater(a.count(b"\n"), 10, f"{label}: a trivial trace proves nothing")
        self.assertTrue(a == b, f"{label}: traces differ")
        ja = json.loads(read(os.path.join(d, "core", "summary.json")))
        jb = json.loads(read(os.path.join(d, "sg", "summary.json")))
        if devices:
            # A request reaching its server is not one of the core's own events (timer, segment
            # end, arrival from a source): the SimGrid backend counts it as an arrival only.
            ja["counters"].pop("kernel_events")
            jb["counters"].pop("kernel_events")
        for key in ("tenants", "threads", "cpus", "total", "workloads", "counters"):
            self.assertEqual(ja.get(key), jb.get(key), f"{label}: summary {key} differs")
        return a

    def test_examples(self):
        names = [f for f in sorted(os.listdir(EXAMPLES)) if f.endswith(".toml") and f != "edge-cluster.toml"]
        self.assertGreaterEqual(len(names), 5)
        for name in names:
            with self.subTest(scenario=name), tempfile.TemporaryDirectory() as d:
                self.check(os.path.join(EXAMPLES, name), d, name)

    def test_generated(self):
        checked = 0
        seen = {"budget": 0, "call": 0, "fp": 0, "edf": 0}
        seed = 0
        while checked < 22 and seed < 200:
            seed += 1
            text = random_scenario(seed)
            if not budgets_fit(text):
                continue
            with self.subTest(seed=seed), tempfile.TemporaryDirectory() as d:
                path = write(os.path.join(d, "s.toml"), text)
                if run("check", path).returncode != 0:
                    continue  # the generator's rare invalid draw (e.g. a call at more than the cost)
                checked += 1
                trace = self.check(path, d, f"generated seed {seed}")
                seen["budget"] += b",budget_exhausted," in trace or b",replenish," in trace
                seen["call"] += b",ipc_call," in trace
                seen["fp" if 'policy = "fp"' in text else "edf"] += 1
        self.assertEqual(checked, 22)
        # The set exercises what it claims to.
        for k, v in seen.items():
            self.assertGreater(v, 2, f"too few generated scenarios with {k}: {seen}")

    def test_generated_through_devices(self):
        # The same, with every workload's arrivals sent by devices over a network of zero latency
        # and (all but) infinite bandwidth: a 1-byte request takes 1e-15 s, under a nanosecond, so
        # each job is released at its arrival's instant, as in the core-only backend.
        import re
        checked = seed = 0
        while checked < 12 and seed < 100:
            seed += 1
            text = random_scenario(seed)
            workloads = re.findall(r'name = "(w\d+)"\nkind', text)
            if not budgets_fit(text) or not workloads:
                continue
            for w in workloads:
                text += f'\n[[device]]\nname = "d{w}"\ncount = 3\nworkload = "{w}"\nbandwidth = "1000000GBps"\n'
            with self.subTest(seed=seed), tempfile.TemporaryDirectory() as d:
                path = write(os.path.join(d, "s.toml"), text)
                if run("check", path).returncode != 0:
                    continue
                checked += 1
                self.check(path, d, f"generated seed {seed} with devices", devices=True)
                j = json.loads(read(os.path.join(d, "sg", "summary.json")))
                self.assertGreater(sum(t.get("delivered", 0) for t in j["simgrid"]["tenants"]), 0)
        self.assertEqual(checked, 12)


class Determinism(unittest.TestCase):
    def test_same_seed_same_bytes_with_devices_and_network(self):
        scenario = os.path.join(EXAMPLES, "edge-cluster.toml")
        with tempfile.TemporaryDirectory() as d:
            outs = []
            for k in range(2):
                r = sim(scenario, os.path.join(d, str(k)), "--duration", "400ms", "--seed", "11", backend="simgrid")
                self.assertEqual(r.returncode, 0, r.stderr)
                outs.append(os.path.join(d, str(k)))
            for f in ("trace.csv", "summary.json", "trace.perfetto-trace"):
                self.assertTrue(read(os.path.join(outs[0], f)) == read(os.path.join(outs[1], f)), f)
            r = sim(scenario, os.path.join(d, "other"), "--duration", "400ms", "--seed", "12", backend="simgrid")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertNotEqual(read(os.path.join(outs[0], "trace.csv")), read(os.path.join(d, "other", "trace.csv")))


NETWORK_SCENARIO = """
[scenario]
name = "net"
duration = "1s"

[[server]]
name = "edge"
{server_extra}

[[tenant]]
name = "svc"

[[thread]]
name = "handler"
tenant = "svc"
release = "sporadic"
deadline = "100ms"
cost = "{cost_us}us"

[[workload]]
name = "readings"
kind = "iot"
target = "handler"
sensors = {sensors}
period = "50ms"
stop = "900ms"

[[device]]
name = "dev"
count = {sensors}
workload = "readings"
request = "{request}B"
response = "{response}B"
latency = "{latency_us}us"
bandwidth = "{bandwidth_Bps}Bps"
"""

NETWORK_PLATFORM = """<?xml version='1.0'?>
<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">
<platform version="4.1">
  <zone id="z" routing="Full">
    <host id="edge" speed="1Gf" core="1"/>
    <host id="dev-0" speed="1Gf"/>
    <link id="radio" bandwidth="{bandwidth_Bps}Bps" latency="{latency_us}us"/>
    <route src="dev-0" dst="edge"><link_ctn id="radio"/></route>
  </zone>
</platform>
"""


class Network(unittest.TestCase):
    """A request alone on an idle platform: network (L + S/B each way) plus the job's cost."""

    L_US, B, S, R, C_US = 3000, 1_000_000, 1000, 500, 2000  # 3 ms, 1 MB/s, 1000 B, 500 B, 2 ms

    def expected_ns(self):
        # CM02 with latency/bandwidth factors 1, no TCP window bound, no cross traffic: a transfer
        # of S bytes takes L + S/B (SimGrid: "Configuring SimGrid", network/* options).
        one_way = lambda size: self.L_US * 1e3 + size / self.B * 1e9
        return one_way(self.S) + self.C_US * 1e3 + one_way(self.R)

    def run_net(self, d, platform=None):
        extra = f'platform = "{platform}"' if platform else ""
        path = write(os.path.join(d, "net.toml"), NETWORK_SCENARIO.format(
            server_extra=extra, cost_us=self.C_US, sensors=1, request=self.S, response=self.R, latency_us=self.L_US,
            bandwidth_Bps=self.B))
        r = sim(path, os.path.join(d, "out"), backend="simgrid")
        self.assertEqual(r.returncode, 0, r.stderr)
        j = json.loads(read(os.path.join(d, "out", "summary.json")))
        return j["simgrid"]["tenants"][0], j

    def test_generated_platform(self):
        with tempfile.TemporaryDirectory() as d:
            t, j = self.run_net(d)
            self.assertEqual(t["requests"], 18)  # one reading every 50 ms for 900 ms
            self.assertEqual(t["answered"], t["requests"])
            e = t["e2e_latency"]
            self.assertLessEqual(abs(e["min_ns"] - self.expected_ns()), 2, e)
            self.assertLessEqual(abs(e["max_ns"] - self.expected_ns()), 2, e)
            # Link accounting: every byte of every request and response crossed the radio link.
            link = [l for l in j["simgrid"]["links"] if l["link"] == "dev-0-link"][0]
            self.assertEqual(link["bytes"], 18 * (self.S + self.R))

    def test_platform_file(self):
        with tempfile.TemporaryDirectory() as d:
            write(os.path.join(d, "p.xml"), NETWORK_PLATFORM.format(bandwidth_Bps=self.B, latency_us=self.L_US))
            t, _ = self.run_net(d, "p.xml")
            e = t["e2e_latency"]
            self.assertLessEqual(abs(e["min_ns"] - self.expected_ns()), 2, e)
            self.assertLessEqual(abs(e["max_ns"] - self.expected_ns()), 2, e)

    def test_server_release_is_network_delay_after_send(self):
        # The job is released when the request's last byte arrives: the response time the trace
        # records is the cost alone (an idle server), while the device sees the network too.
        with tempfile.TemporaryDirectory() as d:
            self.run_net(d)
            lines = read(os.path.join(d, "out", "trace.csv")).decode().splitlines()[1:]
            completes = [int(l.split(",")[6]) for l in lines if l.split(",")[2] == "complete"]
            self.assertTrue(completes)
            self.assertEqual(set(completes), {self.C_US * 1000})


ENERGY_PLATFORM = """<?xml version='1.0'?>
<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">
<platform version="4.1">
  <zone id="z" routing="Full">
    <host id="busy" speed="1Gf" core="1"><prop id="wattage_per_state" value="{busy}"/></host>
    <host id="idle" speed="1Gf" core="1"><prop id="wattage_per_state" value="{idle}"/></host>
    <host id="half" speed="1Gf" core="2"><prop id="wattage_per_state" value="{half}"/></host>
  </zone>
</platform>
"""

ENERGY_SCENARIO = """
[scenario]
name = "energy"
duration = "{seconds}s"

[[server]]
name = "busy"
platform = "e.xml"
[[server]]
name = "idle"
platform = "e.xml"
[[server]]
name = "half"
cpus = 2
platform = "e.xml"

[[tenant]]
name = "full"
server = "busy"
[[tenant]]
name = "halftime"
server = "half"

[[thread]]
name = "spin"
tenant = "full"
period = "10ms"
cost = "10ms"

[[thread]]
name = "work"
tenant = "halftime"
period = "10ms"
cost = "5ms"
"""


class Energy(unittest.TestCase):
    """Energy of a fully loaded, an idle and a half-loaded host over a known interval, from the
    power parameters (SimGrid 3.32 host energy plugin documentation: wattage_per_state is
    "Idle:Epsilon:AllCores"; with k of N cores busy, k > 0, a host draws
    Epsilon + (k/N) (AllCores - Epsilon), and Idle with none)."""

    def test_energy(self):
        T = 2.0
        busy, idle, half = (100.0, 200.0, 200.0), (40.0, 90.0, 90.0), (100.0, 150.0, 200.0)
        fmt = lambda w: ":".join(f"{x}" for x in w)
        with tempfile.TemporaryDirectory() as d:
            write(os.path.join(d, "e.xml"), ENERGY_PLATFORM.format(busy=fmt(busy), idle=fmt(idle), half=fmt(half)))
            path = write(os.path.join(d, "e.toml"), ENERGY_SCENARIO.format(seconds=int(T)))
            r = sim(path, os.path.join(d, "out"), backend="simgrid")
            self.assertEqual(r.returncode, 0, r.stderr)
            j = json.loads(read(os.path.join(d, "out", "summary.json")))
            e = {s["server"]: s["energy_j"] for s in j["simgrid"]["servers"]}
            expect = {
                "busy": busy[2] * T,                         # one core, busy all the time
                "idle": idle[0] * T,                         # nothing runs
                # one of two cores busy half the time
                "half": (half[0] * 0.5 + (half[1] + 0.5 * (half[2] - half[1])) * 0.5) * T,
            }
            for k, v in expect.items():
                self.assertAlmostEqual(e[k], v, delta=1e-6 * v, msg=k)
            # Per tenant: the server's energy above idle, all of it to the only tenant running there.
            t = {x["tenant"]: x["dynamic_energy_j"] for x in j["simgrid"]["tenants"]}
            self.assertAlmostEqual(t["full"], (busy[2] - busy[0]) * T, delta=1e-6)
            self.assertAlmostEqual(t["halftime"], (half[1] + 0.5 * (half[2] - half[1]) - half[0]) * 0.5 * T, delta=1e-6)


def busy_profile(trace_lines, cpus, end):
    """Seconds during which exactly k of `cpus` are busy, k = 0..len(cpus), from the trace: a CPU
    runs from a start/resume until a preempt, complete, block, budget_exhausted or thread_exit
    on it (docs/trace.md)."""
    opens, closes = {"start", "resume"}, {"preempt", "complete", "block", "budget_exhausted", "thread_exit"}
    changes = []  # (time, cpu, busy)
    for line in trace_lines:
        t, cpu, ev = line.split(",")[:3]
        if cpu in cpus and (ev in opens or ev in closes):
            changes.append((int(t), cpu, ev in opens))
    busy = {c: False for c in cpus}
    time_at = [0] * (len(cpus) + 1)
    last = 0
    for t, cpu, b in changes:  # in trace order: time order, decisions at one instant in order
        time_at[sum(busy.values())] += t - last
        last = t
        busy[cpu] = b
    time_at[sum(busy.values())] += end - last
    return [x * 1e-9 for x in time_at]


SPEED_PLATFORM = """<?xml version='1.0'?>
<!DOCTYPE platform SYSTEM "https://simgrid.org/simgrid.dtd">
<platform version="4.1">
  <zone id="z" routing="Full">
    <host id="slow" speed="{slow}f" core="1"/>
    <host id="fast" speed="{fast}f" core="1"/>
  </zone>
</platform>
"""

SPEED_SCENARIO = """
[scenario]
name = "speed"
duration = "100ms"

[[server]]
name = "slow"
speed = "{speed}Hz"
platform = "s.xml"
[[server]]
name = "fast"
speed = "{speed}Hz"
platform = "s.xml"

[[tenant]]
name = "a"
server = "slow"
[[tenant]]
name = "lib"
server = "slow"
[[tenant]]
name = "b"
server = "fast"

[[thread]]
name = "ta"
tenant = "a"
period = "20ms"
cost = "{cost_us}us"
[[thread.call]]
to = "lib"
at = "{at_us}us"
cost = "{call_us}us"

[[thread]]
name = "tb"
tenant = "b"
period = "20ms"
cost = "{cost_us}us"
"""


class HostSpeed(unittest.TestCase):
    """Costs are work at the server's `speed`: on a host of another speed a job alone on its CPU
    takes cost x speed / host speed (its calls too)."""

    def test_slower_and_faster_hosts(self):
        speed, slow, fast = 1e9, 0.5e9, 4e9
        cost_us, at_us, call_us = 2000, 500, 600
        with tempfile.TemporaryDirectory() as d:
            write(os.path.join(d, "s.xml"), SPEED_PLATFORM.format(slow=int(slow), fast=int(fast)))
            path = write(os.path.join(d, "s.toml"), SPEED_SCENARIO.format(speed=int(speed), cost_us=cost_us, at_us=at_us,
                                                                         call_us=call_us))
            r = sim(path, os.path.join(d, "out"), backend="simgrid")
            self.assertEqual(r.returncode, 0, r.stderr)
            j = json.loads(read(os.path.join(d, "out", "summary.json")))
            threads = {t["name"]: t for t in j["threads"]}
            for name, host, work_us in (("ta", slow, cost_us + call_us), ("tb", fast, cost_us)):
                want = round(work_us * 1000 * speed / host)
                rt = threads[name]["response_time"]
                self.assertEqual(threads[name]["completed"], 5)
                self.assertEqual((rt["min_ns"], rt["max_ns"]), (want, want), name)


class ClusterExample(unittest.TestCase):
    def test_energy_follows_the_schedule(self):
        # Each server's joules from SimGrid's plugin against the power model applied to the busy
        # CPUs the trace shows, instant by instant.
        import re
        xml = read(os.path.join(EXAMPLES, "platforms", "edge-cluster.xml")).decode()
        idle, eps, full = map(float, re.search(r'wattage_per_state" value="([\d.]+):([\d.]+):([\d.]+)"', xml).groups())
        cores = int(re.search(r'<host id="edge0" speed="[^"]+" core="(\d+)"', xml).group(1))
        example = read(os.path.join(EXAMPLES, "edge-cluster.toml")).decode()
        # With devices (SimGrid's clock visits every event instant), and without them (it visits
        # only the instants where a host's load changes).
        no_devices = re.sub(r"\[\[device\]\][^\[]*", "", example).replace(
            'platform = "platforms/', f'platform = "{EXAMPLES}/platforms/')
        self.assertNotIn("[[device]]", no_devices)
        for label, text in (("devices", example), ("no devices", no_devices)):
            with self.subTest(label), tempfile.TemporaryDirectory() as d:
                path = os.path.join(EXAMPLES, "edge-cluster.toml") if text is example else write(os.path.join(d, "s.toml"), text)
                r = sim(path, os.path.join(d, "out"), "--duration", "300ms", backend="simgrid")
                self.assertEqual(r.returncode, 0, r.stderr)
                j = json.loads(read(os.path.join(d, "out", "summary.json")))
                lines = read(os.path.join(d, "out", "trace.csv")).decode().splitlines()[1:]
                end = j["end_ns"]
                for sv in j["scenario"]["servers"]:
                    cpus = {str(c) for c in range(sv["first_cpu"], sv["first_cpu"] + sv["cpus"])}
                    t = busy_profile(lines, cpus, end)
                    expect = idle * t[0] + sum((eps + k / cores * (full - eps)) * t[k] for k in range(1, len(t)))
                    got = [x for x in j["simgrid"]["servers"] if x["server"] == sv["name"]][0]["energy_j"]
                    self.assertGreater(sum(t[1:]), 0.01)
                    self.assertAlmostEqual(got, expect, delta=1e-6 * expect, msg=sv["name"])


    def test_edge_cluster_writes_everything(self):
        with tempfile.TemporaryDirectory() as d:
            r = run("sim", os.path.join(EXAMPLES, "edge-cluster.toml"), "--backend", "simgrid", "--duration", "500ms",
                    "--out", d)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(sorted(os.listdir(d)), ["summary.json", "trace.csv", "trace.perfetto-trace"])
            j = json.loads(read(os.path.join(d, "summary.json")))
            self.assertTrue(j["complete"])
            self.assertEqual(j["backend"], "simgrid")
            self.assertEqual(len(j["simgrid"]["servers"]), 8)
            self.assertTrue(all(s["metered"] and s["energy_j"] > 0 for s in j["simgrid"]["servers"]))
            ingest = [t for t in j["simgrid"]["tenants"] if t["tenant"].startswith("ingest")]
            self.assertEqual(len(ingest), 8)
            for t in ingest:
                self.assertGreater(t["requests"], 0)
                self.assertGreater(t["e2e_latency"]["count"], 0)
                # Never faster than the radio's latency both ways plus the metro link's.
                self.assertGreater(t["e2e_latency"]["min_ns"], 2 * (4e6 + 2e6))
            self.assertIn("misses", json.dumps(j["tenants"]))
            self.assertTrue(any(l["link"] == "metro" for l in j["simgrid"]["links"]))
            perfetto_check(read(os.path.join(d, "trace.perfetto-trace")))
            self.assertIn("e2e p99", r.stdout)


class BadInput(unittest.TestCase):
    """Errors before the run: exit code 2, a message naming the file and the element, no output."""

    BASE = """
[scenario]
name = "bad"
duration = "100ms"

[[server]]
name = "edge0"
{server}

[[tenant]]
name = "svc"

[[thread]]
name = "handler"
tenant = "svc"
release = "sporadic"
deadline = "10ms"
cost = "1ms"

[[workload]]
name = "readings"
kind = "iot"
target = "{target}"
sensors = 4
period = "50ms"

[[device]]
name = "headsets"
count = {count}
workload = "{workload}"
request = "100B"
"""

    def expect_error(self, d, text, needles, xml=None):
        if xml is not None:
            write(os.path.join(d, "p.xml"), xml)
        path = write(os.path.join(d, "bad.toml"), text)
        out = os.path.join(d, "out")
        r = sim(path, out, backend="simgrid")
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        for n in needles:
            self.assertIn(n, r.stderr)
        self.assertFalse(os.path.exists(out) and os.listdir(out), "nothing written on bad input")
        self.assertNotIn("core dumped", r.stderr)

    def scenario(self, server="", target="handler", count=4, workload="readings"):
        return self.BASE.format(server=server, target=target, count=count, workload=workload)

    def test_unknown_server_host(self):
        with tempfile.TemporaryDirectory() as d:
            xml = read(os.path.join(EXAMPLES, "platforms", "edge-server.xml")).decode()
            self.expect_error(d, self.scenario('platform = "p.xml"\nhost = "nope"'), ["bad.toml:6:1", '"nope"', "p.xml"], xml)

    def test_unknown_device_host(self):
        with tempfile.TemporaryDirectory() as d:
            xml = read(os.path.join(EXAMPLES, "platforms", "edge-server.xml")).decode()
            self.expect_error(d, self.scenario('platform = "p.xml"', count=5), ["bad.toml:", 'device "headsets"', '"headsets-4"'], xml)

    def test_too_many_device_actors(self):
        """Every device of a group is an actor for every thread instance its workload drives: 300
        instances x 100 devices would be 30,000 stacks, past what SimGrid can map (it used to abort
        in mmap); refused with the numbers and the way out."""
        text = self.scenario(count=100).replace('name = "svc"', 'name = "svc"\ninstances = 300')
        with tempfile.TemporaryDirectory() as d:
            self.expect_error(d, text, ["bad.toml:28:1", 'device "headsets"', "300 thread instances", "30000 device actors",
                                        "its own workload and device group"])

    def test_platform_simgrid_refuses(self):
        head = "<?xml version='1.0'?>\n<!DOCTYPE platform SYSTEM \"https://simgrid.org/simgrid.dtd\">\n"
        cases = [
            # (platform, what the message must name)
            (head + "<platform version='4.1'><zone id='z' routing='Full'><host id='edge0' core='1'/></zone></platform>", "speed"),
            (head + "<platform version='4.1'><zone id='z' routing='Full'><host id='edge0' speed='1Gf'></zone></platform>", "p.xml:3"),
            ("not xml at all", "p.xml:1"),
            (head + "<platform version='4.1'><zone id='z' routing='Full'><host id='edge0' speed='1Gf'/>"
             "<route src='edge0' dst='ghost'><link_ctn id='nolink'/></route></zone></platform>", "ghost"),
            (head + "<platform version='4.1'><zone id='z' routing='Full'><host id='edge0' speed='fast'/></zone></platform>", "fast"),
        ]
        for xml, needle in cases:
            with self.subTest(xml=xml), tempfile.TemporaryDirectory() as d:
                self.expect_error(d, self.scenario('platform = "p.xml"'), ["p.xml", "not a valid SimGrid platform", needle], xml)

    def test_missing_platform_file(self):
        with tempfile.TemporaryDirectory() as d:
            self.expect_error(d, self.scenario('platform = "absent.xml"'), ["bad.toml:6:1", "absent.xml", "does not exist"])

    def test_device_workload_missing(self):
        with tempfile.TemporaryDirectory() as d:
            self.expect_error(d, self.scenario(workload="ghost"), ["bad.toml:", 'device "headsets"', '"ghost"'])

    def test_workload_targets_missing_thread(self):
        with tempfile.TemporaryDirectory() as d:
            self.expect_error(d, self.scenario(target="ghost"), ["bad.toml:", 'workload "readings"', "ghost"])


class Interrupt(unittest.TestCase):
    def test_sigint_writes_a_partial_result_marked_incomplete(self):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.Popen([EDGEOS, "sim", os.path.join(EXAMPLES, "edge-cluster.toml"), "--backend", "simgrid",
                                  "--duration", "600s", "--out", d], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(2.0)
            p.send_signal(signal.SIGINT)
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 130, err)
            self.assertIn("INTERRUPTED", out)
            self.assertIn("simulated ", err)  # the progress line: simulated X of 600s (N%)
            self.assertIn("of 600s", err)
            j = json.loads(read(os.path.join(d, "summary.json")))
            self.assertFalse(j["complete"])
            end = j["simulated_end_ns"]
            self.assertGreater(end, 0)
            self.assertLess(end, 600 * 10**9)
            lines = read(os.path.join(d, "trace.csv")).decode().splitlines()
            self.assertEqual(lines[0], "time_ns,cpu,event,fwp,thread,job,value")
            self.assertGreater(len(lines), 100)
            self.assertLessEqual(max(int(l.split(",")[0]) for l in lines[1:]), end)
            perfetto_check(read(os.path.join(d, "trace.perfetto-trace")))
            self.assertEqual([f for f in os.listdir(d) if ".tmp." in f], [])

    def test_sigterm_does_the_same_with_exit_code_143(self):
        with tempfile.TemporaryDirectory() as d:
            p = subprocess.Popen([EDGEOS, "sim", os.path.join(EXAMPLES, "edge-cluster.toml"), "--backend", "simgrid",
                                  "--duration", "600s", "--out", d], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            time.sleep(2.0)
            p.send_signal(signal.SIGTERM)
            out, err = p.communicate(timeout=120)
            self.assertEqual(p.returncode, 143, err)
            self.assertIn("INTERRUPTED", out)
            self.assertFalse(json.loads(read(os.path.join(d, "summary.json")))["complete"])
            self.assertEqual(sorted(os.listdir(d)), ["summary.json", "trace.csv", "trace.perfetto-trace"])


if __name__ == "__main__":
    EDGEOS = os.path.abspath(sys.argv[1])
    EXAMPLES = os.path.abspath(sys.argv[2])
    unittest.main(argv=[sys.argv[0], "-v", *sys.argv[3:]])
