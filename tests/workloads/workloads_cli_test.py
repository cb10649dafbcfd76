#!/usr/bin/python3
"""Scenarios, workloads and traces through the edgeos command line, as a user meets them.

Run by ctest as `workloads_cli_test.py PATH_TO_EDGEOS`. Uses only the standard library.
"""
import csv
import hashlib
import json
import os
import signal
import struct
import subprocess
import sys
import tempfile
import time
import unittest

EDGEOS = None
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "cli"))
from cli_test import perfetto_check  # noqa: E402  Perfetto's schema and its trace processor's rules
ROOT = os.path.dirname(os.path.dirname(HERE))
EXAMPLES = os.path.join(ROOT, "examples")
MALFORMED = os.path.join(HERE, "malformed")


def run(*args, cwd=None):
    return subprocess.run([EDGEOS, *args], capture_output=True, text=True, timeout=300, cwd=cwd)


def files_under(d):
    return [os.path.join(p, f) for p, _, fs in os.walk(d) for f in fs]


def read_csv(path):
    with open(path, newline="") as f:
        return list(csv.DictReader(row for row in f if not row.startswith("#")))


# A scenario that replays one trace file into a sporadic thread `w` with a 1ms relative deadline.
REPLAY = """
[scenario]
name = "replay"
duration = "{duration}"
[[tenant]]
name = "t"
[[thread]]
name = "w"
tenant = "t"
release = "sporadic"
period = "1ns"
deadline = "1ms"
cost = "1ns"
[[workload]]
name = "replayed"
{workload}
"""


def replay_workload(path):
    name = os.path.basename(path)
    if name.startswith("not-azure"):
        return f'kind = "azure"\nfile = "{path}"\ntargets = ["w"]\ncost = "1us"'
    if name.endswith(".pcap"):
        return f'kind = "pcap"\nfile = "{path}"\ntarget = "w"'
    return f'kind = "trace"\nfile = "{path}"\ntargets = {{ t = "w" }}'


class Malformed(unittest.TestCase):
    """Each broken input of malformed/cases.txt: exit code 2, the documented message naming the
    file and where in it, and no output file left behind."""

    def cases(self):
        with open(os.path.join(MALFORMED, "cases.txt")) as f:
            for line in f:
                if line.strip() and not line.startswith("#"):
                    name, expected = (x.strip() for x in line.split("|", 1))
                    yield name, expected

    def test_the_table_is_large_and_complete(self):
        listed = {name for name, _ in self.cases()}
        present = set(os.listdir(MALFORMED)) - {"cases.txt"}
        self.assertEqual(listed, present, "every file in malformed/ has a row in cases.txt and vice versa")
        self.assertGreaterEqual(len(listed), 25)

    def test_each_case(self):
        for name, expected in self.cases():
            with self.subTest(file=name), tempfile.TemporaryDirectory() as tmp:
                out = os.path.join(tmp, "out")
                path = os.path.join(MALFORMED, name)
                if name.endswith(".toml"):
                    # Relative to the working directory, as a user would type it.
                    commands = [("sim", name, "--out", out, "--quiet"), ("check", name, "--compile", os.path.join(out, "s.bin"))]
                    cwd, shown = MALFORMED, name
                else:
                    scenario = os.path.join(tmp, "replay.toml")
                    with open(scenario, "w") as f:
                        f.write(REPLAY.format(duration="1s", workload=replay_workload(path)))
                    commands = [("sim", scenario, "--out", out, "--quiet"), ("check", scenario)]
                    cwd, shown = None, path
                for args in commands:
                    r = run(*args, cwd=cwd)
                    self.assertEqual(r.returncode, 2, f"{args}: {r.stdout}{r.stderr}")
                    self.assertTrue(r.stderr.startswith("edgeos: error: "), r.stderr)
                    self.assertIn(shown + expected, r.stderr, f"{args}")
                    leftovers = [f for f in files_under(tmp) if not f.endswith("replay.toml")]
                    self.assertEqual(leftovers, [], "no partial output")



class Hostile(unittest.TestCase):
    """Inputs a mutation probe found crashing or misreported (issue 22): each must exit with code 2,
    an error naming the file, where in it and the field, and leave no file behind."""

    def expect_refused(self, tmp, scenario, needles, commands=("sim", "check")):
        out = os.path.join(tmp, "out")
        for cmd in commands:
            args = [cmd, scenario] + (["--out", out, "--quiet"] if cmd == "sim" else ["--compile", os.path.join(out, "s.bin")])
            r = run(*args)
            self.assertEqual(r.returncode, 2, f"{cmd}: {r.stdout}{r.stderr}")
            self.assertTrue(r.stderr.startswith("edgeos: error: "), r.stderr)
            for needle in needles:
                self.assertIn(needle, r.stderr, cmd)
            self.assertFalse(os.path.exists(out), f"{cmd}: no partial output, not even its directory")

    def test_deep_dotted_keys_and_table_headers(self):
        deep = ".".join(["a"] * 40000)
        cases = [
            (f"[{deep}]\n", "deep.toml:1:1: key nested 40000 levels deep, more than the 256 allowed"),
            (f"[scenario]\nname = 'x'\nduration = '1s'\n{deep} = 1\n", "deep.toml:4:1: key nested 40001 levels deep"),
            (f"[scenario]\nname = 'x'\nx = {{ {deep} = 1 }}\n", "deep.toml:3:7: key nested 40002 levels deep"),
        ]
        for text, needle in cases:
            with self.subTest(needle=needle), tempfile.TemporaryDirectory() as tmp:
                scenario = os.path.join(tmp, "deep.toml")
                with open(scenario, "w") as f:
                    f.write(text)
                self.expect_refused(tmp, scenario, [needle])


    def test_file_name_the_system_refuses(self):
        # A path component over 255 bytes: ENAMETOOLONG is bad input (exit 2), not an internal error.
        long = "x" * 300
        for name in (long + ".csv", long + "/t.csv"):
            with self.subTest(name=name[-8:]), tempfile.TemporaryDirectory() as tmp:
                scenario = os.path.join(tmp, "s.toml")
                with open(scenario, "w") as f:
                    f.write(REPLAY.format(duration="1s", workload=f'kind = "trace"\nfile = "{name}"\ntarget = "w"'))
                self.expect_refused(tmp, scenario, ['s.toml:14:1: workload "replayed": file "', '" cannot be used: File name too long'])


    def test_azure_expansion_is_bounded_before_allocating(self):
        # scale = 1e6 on the sample (within the documented 1e-9..1e9), and a count of 1e12: refused
        # at once (they ended in std::bad_alloc, or took seconds to expand, before).
        with open(os.path.join(EXAMPLES, "traces", "azure-sample.csv")) as f:
            rows = f.read().splitlines()
        first = rows[0].split(",").index("1")
        cells = rows[1].split(",")
        cells[first] = "1e12"
        corrupt = "\n".join([rows[0], ",".join(cells)] + rows[2:]) + "\n"
        sample = os.path.join(EXAMPLES, "traces", "azure-sample.csv")
        for label, trace_text, scale in (("scale", None, "1e6"), ("count", corrupt, "1.0")):
            with self.subTest(case=label), tempfile.TemporaryDirectory() as tmp:
                path = sample
                if trace_text is not None:
                    path = os.path.join(tmp, "azure.csv")
                    with open(path, "w") as f:
                        f.write(trace_text)
                scenario = os.path.join(tmp, "s.toml")
                with open(scenario, "w") as f:
                    f.write(REPLAY.format(duration="1s", workload=f'kind = "azure"\nfile = "{path}"\ntargets = ["w"]\n'
                                                                  f'cost = "1us"\nscale = {scale}'))
                started = time.monotonic()
                self.expect_refused(tmp, scenario, [path + ":2: minute 1: with scale", "more than 10000000 arrivals"])
                self.assertLess(time.monotonic() - started, 10)


class Sim(unittest.TestCase):
    def test_default_scenario(self):
        with tempfile.TemporaryDirectory() as out:
            r = run("sim", "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("edge-server", r.stdout)
            self.assertIn("camera", r.stdout)
            self.assertEqual(sorted(os.listdir(out)), ["summary.json", "trace.csv", "trace.perfetto-trace"])
            with open(os.path.join(out, "summary.json")) as f:
                s = json.load(f)
            self.assertEqual(s["scenario"]["name"], "edge-server")
            self.assertEqual(s["scenario"]["duration_ns"], 2_000_000_000)
            camera = next(w for w in s["workloads"] if w["name"] == "camera")
            self.assertEqual(camera["generated"], 120)  # 60 fps for 2 s
            self.assertEqual({g["name"] for g in s["tenant_groups"]}, {"ar", "iot", "kv", "analytics"})
            rows = read_csv(os.path.join(out, "trace.csv"))
            self.assertEqual(sum(1 for x in rows if x["event"] == "release"), s["total"]["released"])
            self.assertEqual(len(rows), s["counters"]["trace_records"])
            with open(os.path.join(out, "trace.perfetto-trace"), "rb") as f:
                tracks, events = perfetto_check(f.read())
            self.assertEqual(len(tracks), 1 + 4)  # the run and its 4 CPUs
            self.assertGreater(len(events), 1000)

    def test_flags(self):
        with tempfile.TemporaryDirectory() as out:
            r = run("sim", os.path.join(EXAMPLES, "fp-servers.toml"), "--duration", "500ms", "--seed", "9", "--trace", "none",
                    "--quiet", "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(r.stdout, "")
            self.assertEqual(os.listdir(out), ["summary.json"])
            with open(os.path.join(out, "summary.json")) as f:
                s = json.load(f)
            self.assertEqual(s["scenario"]["seed"], 9)
            self.assertEqual(s["end_ns"], 500_000_000)
            # loop-fast: 5ms period, 500ms -> 100 jobs
            self.assertEqual(next(t for t in s["threads"] if t["name"] == "loop-fast")["released"], 100)
        r = run("sim", "--backend", "quantum")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--backend quantum: unknown backend", r.stderr)
        r = run("sim", "--platform", "p.xml")
        self.assertEqual(r.returncode, 2)
        self.assertIn("--platform: only with --backend simgrid", r.stderr)

    def test_same_seed_same_bytes(self):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            for d in (a, b):
                self.assertEqual(run("sim", os.path.join(EXAMPLES, "replay.toml"), "--quiet", "--out", d).returncode, 0)
            for name in ("trace.csv", "trace.perfetto-trace", "summary.json"):
                with open(os.path.join(a, name), "rb") as x, open(os.path.join(b, name), "rb") as y:
                    self.assertEqual(x.read(), y.read(), name)

    def test_check_and_compile(self):
        with tempfile.TemporaryDirectory() as out:
            blob = os.path.join(out, "edge.bin")
            r = run("check", os.path.join(EXAMPLES, "edge-server.toml"), "--compile", blob)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("is valid", r.stdout)
            with open(blob, "rb") as f:
                data = f.read()
            magic, version, header, total = struct.unpack_from("<8sHHI", data)
            self.assertEqual((magic, version, header, total), (b"EDGEOSSC", 5, 152, len(data)))
            # The workloads travel as arrivals (section 8: offset, count at 40 + 8 * 8).
            _, arrivals = struct.unpack_from("<II", data, 40 + 8 * 8)
            self.assertGreater(arrivals, 0)


def digests(d):
    out = {}
    for name in sorted(os.listdir(d)):
        with open(os.path.join(d, name), "rb") as f:
            out[name] = hashlib.sha256(f.read()).hexdigest()
    return out


class StoppedRuns(unittest.TestCase):
    """A core run interrupted by a signal, or stopped by --max-trace-size, removes its temporary
    files and leaves the complete files of an earlier run in --out as they were."""

    def previous_run(self, out):
        r = run("sim", "--duration", "200ms", "--quiet", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        return digests(out)

    def test_signals(self):
        for sig, code, name in ((signal.SIGINT, 130, "SIGINT"), (signal.SIGTERM, 143, "SIGTERM")):
            with self.subTest(signal=name), tempfile.TemporaryDirectory() as out:
                before = self.previous_run(out)
                p = subprocess.Popen([EDGEOS, "sim", "--duration", "600s", "--out", out], stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, text=True)
                time.sleep(1.0)
                self.assertTrue(any(".tmp." in f for f in os.listdir(out)), "the run is writing")
                p.send_signal(sig)
                _, err = p.communicate(timeout=120)
                self.assertEqual(p.returncode, code, err)
                self.assertIn(f"edgeos: interrupted ({name}) at ", err)
                self.assertIn("nothing written", err)
                self.assertEqual(digests(out), before, "no temporary file left, the earlier files untouched")

    def test_max_trace_size(self):
        with tempfile.TemporaryDirectory() as tmp:
            out = os.path.join(tmp, "out")
            before = self.previous_run(out)
            r = run("sim", "--duration", "2s", "--max-trace-size", "1M", "--out", out)
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("edgeos: error: --max-trace-size 1M: the trace files reached the limit at ", r.stderr)
            self.assertIn("the run stopped and wrote nothing", r.stderr)
            self.assertEqual(digests(out), before)
            # Into a new directory: not even the directory is left.
            fresh = os.path.join(tmp, "new", "run")
            self.assertEqual(run("sim", "--duration", "2s", "--max-trace-size", "500K", "--quiet", "--out", fresh).returncode, 2)
            self.assertEqual(os.listdir(tmp), ["out"])
            # Within the limit, the same run as without it.
            r = run("sim", "--duration", "200ms", "--max-trace-size", "1G", "--quiet", "--out", fresh)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(digests(fresh), before)
            for bad in ("0", "12X", "", "-5M", "lots", "0.5"):
                with self.subTest(size=bad):
                    r = run("sim", "--duration", "200ms", "--max-trace-size", bad, "--out", os.path.join(tmp, "bad"))
                    self.assertEqual(r.returncode, 2, r.stderr)
                    self.assertIn("edgeos: error: --max-trace-size: ", r.stderr)
                    self.assertFalse(os.path.exists(os.path.join(tmp, "bad")))


class GenAndReplay(unittest.TestCase):
    """A trace written by `edgeos gen` and replayed yields exactly its arrivals: each release in
    the run's trace carries its job's absolute deadline, i.e. the arrival time plus the relative
    deadline (the record's, or the thread's 1ms), whether the thread was idle or busy."""

    KINDS = [
        ("poisson", "csv", ["--rate", "2k/s"]),
        ("mmpp", "jsonl", ["--rates", "100/s,3k/s", "--sojourn", "200ms,50ms"]),
        ("iot", "csv", ["--sensors", "30", "--period", "50ms", "--jitter", "2ms", "--burst", "300ms:200:20ms"]),
        ("ar", "jsonl", ["--fps", "60", "--jitter", "1ms"]),
        ("kv", "csv", ["--rate", "5k/s", "--cost-base", "2us", "--cost-per-kib", "1us", "--deadline", "500us"]),
        ("poisson", "jsonl", ["--rate", "500/s", "--cost", "20us", "--deadline", "2ms"]),
    ]

    def test_replay_is_exact(self):
        for kind, ext, extra in self.KINDS:
            with self.subTest(kind=kind, ext=ext), tempfile.TemporaryDirectory() as tmp:
                trace = os.path.join(tmp, f"{kind}.{ext}")
                r = run("gen", kind, "--duration", "1s", "--seed", "5", "--tenant", "t", "--out", trace, *extra)
                self.assertEqual(r.returncode, 0, r.stderr)
                if ext == "csv":
                    records = [(int(x["time_ns"]), int(x["deadline_ns"]), int(x["cost_ns"])) for x in read_csv(trace)]
                else:
                    with open(trace) as f:
                        lines = [json.loads(x) for x in f.read().splitlines()[1:]]
                    records = [(x["time"], x["deadline"], x["cost"]) for x in lines]
                self.assertGreater(len(records), 10)
                scenario = os.path.join(tmp, "s.toml")
                with open(scenario, "w") as f:
                    f.write(REPLAY.format(duration="2s", workload=replay_workload(trace)))
                out = os.path.join(tmp, "out")
                r = run("sim", scenario, "--quiet", "--out", out)
                self.assertEqual(r.returncode, 0, r.stderr)
                rows = read_csv(os.path.join(out, "trace.csv"))
                deadlines = sorted(int(x["value"]) for x in rows if x["event"] == "release")
                expected = sorted(t + (d if d > 0 else 1_000_000) for t, d, _ in records)
                self.assertEqual(deadlines, expected)
                with open(os.path.join(out, "summary.json")) as f:
                    s = json.load(f)
                self.assertEqual(s["workloads"][0]["generated"], len(records))
                # Per-arrival costs: the run's CPU time is their sum (the thread's own 1ns where none).
                self.assertEqual(s["total"]["cpu_time_ns"], sum(c if c > 0 else 1 for _, _, c in records))

    def test_pcap(self):
        with tempfile.TemporaryDirectory() as tmp:
            cap = os.path.join(tmp, "c.pcap")
            r = run("gen", "pcap", "--rate", "1k/s", "--duration", "1s", "--port", "4789", "--out", cap)
            self.assertEqual(r.returncode, 0, r.stderr)
            # Read the capture independently: classic pcap, nanosecond magic, 16-byte record headers.
            times = []
            with open(cap, "rb") as f:
                data = f.read()
            self.assertEqual(struct.unpack_from("<I", data)[0], 0xA1B23C4D)
            off = 24
            while off < len(data):
                sec, nsec, caplen, _ = struct.unpack_from("<IIII", data, off)
                times.append(sec * 1_000_000_000 + nsec)
                off += 16 + caplen
            scenario = os.path.join(tmp, "s.toml")
            with open(scenario, "w") as f:
                f.write(REPLAY.format(duration="2s", workload=f'kind = "pcap"\nfile = "{cap}"\nports = {{ "4789" = "w" }}'))
            out = os.path.join(tmp, "out")
            self.assertEqual(run("sim", scenario, "--quiet", "--out", out).returncode, 0)
            rows = read_csv(os.path.join(out, "trace.csv"))
            deadlines = sorted(int(x["value"]) for x in rows if x["event"] == "release")
            self.assertEqual(deadlines, [t - times[0] + 1_000_000 for t in times])


# A per-client front: every client of `front` gets an FWP of its own from template "client".
PER_CLIENT = """
[scenario]
name = "per-client"
duration = "{duration}"
[[server]]
policy = "fp"
nic = {{ model = "virtio" }}
[[template]]
name = "client"
per_client = true
idle_timeout = "{idle}"
max_instances = {max_instances}
create_cost = "{create}"
[[tenant]]
name = "front"
template = "client"
udp = [5683]
[[tenant]]
name = "net"
[[thread]]
name = "driver"
tenant = "net"
program = "nic-driver"
period = "1ms"
cost = "20us"
priority = 1
[[thread]]
name = "serve"
tenant = "front"
priority = 9
release = "sporadic"
period = "1ns"
deadline = "10ms"
cost = "1us"
[[workload]]
name = "clients"
kind = "clients"
target = "serve"
rate = "{rate}"
requests = {requests}
gap = "{gap}"
"""


class PerClient(unittest.TestCase):
    """Per-client FWPs in the simulator, against the kernel's rules (kernel/flows.cpp) written again
    here: a client's first request makes its FWP, a flow idle for the timeout is recycled at the
    next request, and a front with no room left refuses new clients."""

    def sim(self, tmp, **kw):
        params = dict(duration="1s", idle="20ms", max_instances=100000, create="0ns", rate="500/s", requests=1, gap="5ms")
        params.update(kw)
        path = os.path.join(tmp, "pc.toml")
        with open(path, "w") as f:
            f.write(PER_CLIENT.format(**params))
        out = os.path.join(tmp, "out")
        r = run("sim", path, "--quiet", "--out", out)
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(os.path.join(out, "summary.json")) as f:
            summary = json.load(f)
        return summary, read_csv(os.path.join(out, "trace.csv"))

    def test_idle_flows_recycled_at_the_next_request(self):
        with tempfile.TemporaryDirectory() as tmp:
            s, rows = self.sim(tmp)  # one request per client: every request makes an FWP
        creates = [int(x["time_ns"]) for x in rows if x["event"] == "fwp_create" and int(x["time_ns"]) > 0]
        destroys = [int(x["time_ns"]) for x in rows if x["event"] == "fwp_destroy"]
        idle = 20_000_000
        live, expected, peak = [], [], 0
        for t in creates:  # the reference: flows are (last use); recycled, oldest first, at a request
            while live and live[0] + idle <= t:
                expected.append(t)
                live.pop(0)
            live.append(t)
            peak = max(peak, len(live))
        self.assertGreater(len(creates), 400)
        self.assertEqual(destroys, expected)
        pc = s["per_client"][0]
        self.assertEqual((pc["tenant"], pc["made"], pc["recycled"], pc["live"], pc["peak_live"], pc["refused"]),
                         ("front", len(creates), len(expected), len(live), peak, 0))
        clients = next(w for w in s["workloads"] if w["name"] == "clients")
        self.assertEqual(clients["generated"], len(creates))

    def test_a_repeat_within_the_timeout_finds_its_flow_and_after_it_a_new_one(self):
        with tempfile.TemporaryDirectory() as tmp:
            warm, _ = self.sim(tmp, requests=3, gap="5ms", idle="50ms")
            cold, _ = self.sim(tmp, requests=2, gap="30ms", idle="10ms")
        w = next(x for x in warm["workloads"] if x["name"] == "clients")
        self.assertEqual(warm["per_client"][0]["made"], w["by_kind"]["first"])
        self.assertEqual(w["generated"], w["by_kind"]["first"] + w["by_kind"]["repeat"])
        self.assertLessEqual(2 * w["by_kind"]["first"] - w["by_kind"]["repeat"], 30)  # only the run's end cuts repeats
        c = next(x for x in cold["workloads"] if x["name"] == "clients")
        self.assertEqual(cold["per_client"][0]["made"], c["generated"])  # every repeat came after its flow went

    def test_the_creation_cost_is_paid_by_the_first_request(self):
        with tempfile.TemporaryDirectory() as tmp:
            s, rows = self.sim(tmp, requests=2, gap="5ms", idle="50ms", create="40us", rate="100/s")
        start, took = {}, []
        for x in rows:
            if x["thread"] != "1":
                continue
            key = x["job"]
            if x["event"] == "start":
                start[key] = int(x["time_ns"])
            elif x["event"] == "complete":
                took.append(int(x["time_ns"]) - start[key])
        made = s["per_client"][0]["made"]
        self.assertEqual(sorted(set(took)), [1_000, 41_000])
        self.assertEqual(took.count(41_000), made)
        by_kind = next(w for w in s["workloads"] if w["name"] == "clients")["response_by_kind"]
        self.assertEqual((by_kind["first"]["count"], by_kind["first"]["min_ns"]), (made, 41_000))
        self.assertEqual(by_kind["repeat"]["p50_ns"], 1_000)  # light load: no queueing

    def test_no_room_refuses_new_clients(self):
        with tempfile.TemporaryDirectory() as tmp:
            s, rows = self.sim(tmp, max_instances=4, idle="100ms", rate="1k/s")
        pc = s["per_client"][0]
        clients = next(w for w in s["workloads"] if w["name"] == "clients")
        self.assertEqual(pc["peak_live"], 3)  # the front is the template's fourth instance
        self.assertGreater(pc["refused"], 500)
        self.assertEqual(pc["made"] + pc["refused"], clients["generated"])
        self.assertEqual(clients["dropped"], pc["refused"])
        self.assertEqual(sum(1 for x in rows if x["event"] == "release" and x["thread"] == "1"), pc["made"])

    def test_bad_keys(self):
        cases = [
            ('per_client = true\nidle_timeout = "{idle}"\n', 'per_client = false\n', "create_cost",
             "only a per_client template"),
            ('gap = "{gap}"', 'gap = "0s"', "gap", "must be > 0"),
            ('requests = {requests}', 'requests = 0', "requests", ""),
            ('kind = "clients"', 'kind = "clients"\nsensors = 4', "sensors", ""),
        ]
        for old, new, key, words in cases:
            with self.subTest(key=key), tempfile.TemporaryDirectory() as tmp:
                path = os.path.join(tmp, "bad.toml")
                with open(path, "w") as f:
                    f.write(PER_CLIENT.replace(old, new).format(duration="1s", idle="20ms", max_instances=10, create="1us",
                                                                 rate="10/s", requests=1, gap="5ms"))
                out = os.path.join(tmp, "out")
                r = run("sim", path, "--out", out)
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn("bad.toml:", r.stderr)
                self.assertIn(key, r.stderr)
                self.assertIn(words, r.stderr)
                self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    EDGEOS = os.path.abspath(sys.argv.pop(1))
    unittest.main(verbosity=2)
