#!/usr/bin/python3
"""edgeos replay end to end: a scenario's arrivals as request packets in a pcap, read back with scapy;
against real Linux servers and the booted kernel in network namespaces the command makes (as root).

Run by ctest as `replay_test.py PATH_TO_EDGEOS`. Needs Debian's python3-scapy. Exit code 77 (skipped)
when edgeos was built without DPDK.
"""
import csv
import json
import os
import re
import statistics
import subprocess
import sys
import tempfile
import unittest

EDGEOS = None
SPEED = 20

# A virtio NIC with its driver tenant; a memcached tenant (kv workload) and a sensors tenant (iot
# workload, CoAP) bound to UDP ports; a tenant without a port whose arrivals are not sent.
SCENARIO = """
[scenario]
name = "replay-test"
duration = "1s"
seed = 7

[[server]]
name = "edge"
policy = "fp"
nic = { model = "virtio" }

[[tenant]]
name = "net"

[[tenant]]
name = "cache"
udp = [11211]

[[tenant]]
name = "sensors"
udp = [5683]

[[tenant]]
name = "batch"

[[thread]]
name = "driver"
tenant = "net"
program = "nic-driver"
period = "1ms"
cost = "20us"
priority = 9

[[thread]]
name = "memcached"
tenant = "cache"
release = "sporadic"
period = "1us"
deadline = "5ms"
cost = "5us"
priority = 5

[[thread]]
name = "coap"
tenant = "sensors"
release = "sporadic"
period = "1us"
deadline = "5ms"
cost = "5us"
priority = 4

[[thread]]
name = "jobs"
tenant = "batch"
release = "sporadic"
period = "1us"
deadline = "5ms"
cost = "5us"
priority = 3

[[workload]]
name = "gets"
kind = "kv"
target = "memcached"
rate = "300/s"
cost = "5us"

[[workload]]
name = "readings"
kind = "iot"
target = "coap"
sensors = 4
period = "50ms"
jitter = "5ms"

[[workload]]
name = "other"
kind = "poisson"
target = "jobs"
rate = "100/s"
"""

NO_UDP = SCENARIO.replace('udp = [11211]', '').replace('udp = [5683]', '')


# The edgeos processes this file started: network_state() looks at their namespaces and
# interfaces only (named after the process: edgeos-rp<pid>-g, erpg<pid>...), not at those of a
# replay another test runs meanwhile (make paper's density experiment does).
STARTED = set()


def start(*args):
    proc = subprocess.Popen([EDGEOS, *args], stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    STARTED.add(proc.pid)
    return proc


def run(*args):
    proc = start(*args)
    try:
        out, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.communicate()
        raise
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def write(directory, name, text):
    path = os.path.join(directory, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def releases(directory, scenario):
    """The release times (ns) per thread name that `edgeos sim` gives the scenario."""
    r = run("sim", scenario, "--out", directory, "--trace", "csv", "--quiet")
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    with open(os.path.join(directory, "summary.json")) as f:
        names = {str(t["index"]): t["name"] for t in json.load(f)["threads"]}
    out = {name: [] for name in names.values()}
    with open(os.path.join(directory, "trace.csv")) as f:
        for row in csv.DictReader(f):
            if row["event"] == "release":
                out[names[row["thread"]]].append(int(row["time_ns"]))
    return out


class Pcap(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        from scapy.all import rdpcap
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.scenario = write(d, "scenario.toml", SCENARIO)
        cls.released = releases(os.path.join(d, "sim"), cls.scenario)
        cls.pcap = os.path.join(d, "replay.pcap")
        cls.result = run("replay", cls.scenario, "--target", "pcap", cls.pcap, "--speed", str(SPEED),
                         "--out", os.path.join(d, "out"))
        cls.packets = rdpcap(cls.pcap) if cls.result.returncode == 0 else []
        with open(os.path.join(d, "out", "replay.json")) as f:
            cls.summary = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_exit_and_summary(self):
        self.assertEqual(self.result.returncode, 0, self.result.stderr)
        self.assertIn("tenant cache:", self.result.stdout)
        self.assertIn("send-time error", self.result.stdout)
        self.assertEqual(os.listdir(self.tmp.name + "/out"), ["replay.json"])
        self.assertFalse([n for n in os.listdir(self.tmp.name) if ".tmp." in n], "no temporary file left")

    def test_one_packet_per_released_arrival(self):
        from scapy.all import UDP
        by_port = {}
        for p in self.packets:
            by_port[p[UDP].dport] = by_port.get(p[UDP].dport, 0) + 1
        self.assertGreater(len(self.released["memcached"]), 200)
        self.assertEqual(by_port.get(11211), len(self.released["memcached"]))
        self.assertEqual(by_port.get(5683), len(self.released["coap"]))
        self.assertEqual(set(by_port), {11211, 5683}, "nothing for the tenant without UDP ports")
        counts = {t["tenant"]: t["packets"] for t in self.summary["tenants"]}
        self.assertEqual(counts, {"cache": by_port[11211], "sensors": by_port[5683]})
        self.assertEqual(self.summary["unbound_arrivals"], len(self.released["jobs"]))

    def test_send_times_follow_the_arrivals(self):
        # Packet i is arrival i of the bound threads, merged by time, due at start + time_i / SPEED
        # in host time and never sent early: with start estimated as the earliest send_i - due_i,
        # each packet's lateness is what replay.json reports as the send-time error.
        arrivals = sorted(self.released["memcached"] + self.released["coap"])
        sent = [float(p.time) for p in self.packets]
        self.assertEqual(len(sent), len(arrivals))
        self.assertEqual(sent, sorted(sent))
        start = min(s - a / 1e9 / SPEED for s, a in zip(sent, arrivals))
        late_us = [(s - a / 1e9 / SPEED - start) * 1e6 for s, a in zip(sent, arrivals)]
        pacing = self.summary["pacing_error_us"]
        self.assertLessEqual(pacing["p50"], pacing["p99"])
        self.assertLessEqual(pacing["p99"], pacing["max"])
        # The capture's timestamps agree with the sender's own measure (within 1 ms of host time).
        self.assertLessEqual(max(late_us), pacing["max"] + 1000)
        # Tolerances in host time, so SPEED times as much in scenario time: loose, for a shared
        # 2-core machine where another process can hold the CPU for milliseconds.
        self.assertLess(statistics.median(late_us), 10_000, late_us[:20])
        self.assertLess(max(late_us), 50_000)

    def test_every_packet_parses_with_valid_checksums(self):
        from scapy.all import Ether, IP, UDP, Raw
        from scapy.contrib.coap import CoAP
        kinds = set()
        for i, p in enumerate(self.packets):
            with self.subTest(packet=i):
                self.assertEqual(p[Ether].dst, "52:54:00:12:34:56")
                self.assertEqual(p[IP].src, "10.0.2.99")
                self.assertEqual(p[IP].dst, "10.0.2.15")
                # scapy recomputes the checksums of a copy without them.
                fresh = p.copy()
                del fresh[IP].chksum
                del fresh[UDP].chksum
                fresh = Ether(bytes(fresh))
                self.assertEqual(p[IP].chksum, fresh[IP].chksum)
                self.assertEqual(p[UDP].chksum, fresh[UDP].chksum)
                payload = bytes(p[UDP].payload)
                if p[UDP].dport == 11211:
                    # memcached's protocol.txt: the UDP frame header (request id = the sequence
                    # number mod 2^16, datagram 0 of 1), then a get or a set of one of 100 keys.
                    rid = int.from_bytes(payload[0:2], "big")
                    self.assertEqual(rid, i & 0xffff, "request ids are sequence numbers")
                    self.assertEqual(payload[2:8], b"\x00\x00\x00\x01\x00\x00")
                    text = payload[8:]
                    m = re.fullmatch(rb"get key:(\d+)\r\n|set key:(\d+) 0 0 (\d+)\r\n(.*)\r\n", text, re.S)
                    self.assertIsNotNone(m, text[:80])
                    self.assertLess(int(m.group(1) or m.group(2)), 100)
                    if m.group(3):
                        self.assertEqual(len(m.group(4)), int(m.group(3)))
                        self.assertTrue(0 < int(m.group(3)) <= 1024)
                    kinds.add(text[:3])
                else:
                    c = CoAP(payload)
                    self.assertEqual((c.ver, c.type, c.code, c.tkl), (1, 0, 1, 4))
                    self.assertEqual(int.from_bytes(c.token, "big"), i)
                    self.assertEqual(c.msg_id, i & 0xffff)
                    self.assertEqual([(o[0], o[1]) for o in c.options], [("Uri-Path", b"temp")])
        self.assertEqual(kinds, {b"get", b"set"}, "the kv model's gets and sets")


class Instances(unittest.TestCase):
    """A tenant of three instances bound to port 12000: instance k is bound to 12000 + k, and its
    thread instance's arrivals go there, as many as `edgeos sim` releases at "memcached#k"."""

    def test_each_instance_gets_its_own_port(self):
        from scapy.all import UDP, rdpcap
        with tempfile.TemporaryDirectory() as d:
            text = SCENARIO.replace('name = "cache"\nudp = [11211]', 'name = "cache"\ninstances = 3\nudp = [12000]')
            self.assertIn("instances = 3", text)
            scenario = write(d, "scenario.toml", text)
            released = releases(os.path.join(d, "sim"), scenario)
            pcap = os.path.join(d, "replay.pcap")
            r = run("replay", scenario, "--target", "pcap", pcap, "--speed", str(SPEED), "--out", os.path.join(d, "out"))
            self.assertEqual(r.returncode, 0, r.stderr)
            by_port = {}
            for p in rdpcap(pcap):
                by_port[p[UDP].dport] = by_port.get(p[UDP].dport, 0) + 1
            for k in range(3):
                self.assertGreater(len(released[f"memcached#{k}"]), 50)
                self.assertEqual(by_port.get(12000 + k), len(released[f"memcached#{k}"]), k)
            self.assertEqual(by_port.get(5683), len(released["coap"]))
            with open(os.path.join(d, "out", "replay.json")) as f:
                counts = {t["tenant"]: t["packets"] for t in json.load(f)["tenants"]}
            self.assertEqual(counts, {"cache#0": by_port[12000], "cache#1": by_port[12001], "cache#2": by_port[12002],
                                      "sensors": by_port[5683]})


class NullTarget(unittest.TestCase):
    def test_generation_rate(self):
        with tempfile.TemporaryDirectory() as d:
            scenario = write(d, "s.toml", SCENARIO)
            r = run("replay", scenario, "--target", "null")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("packets/s", r.stdout)


KERNEL_SCENARIO = SCENARIO.replace('name = "memcached"\ntenant = "cache"\n',
                                   'name = "memcached"\ntenant = "cache"\nprogram = "memcached"\n').replace(
    'name = "coap"\ntenant = "sensors"\n', 'name = "coap"\ntenant = "sensors"\nprogram = "coap"\n')


def network_state():
    """The namespaces and interfaces of the edgeos replay runs this file started (edgeos-rp<pid>-*,
    erp?<pid>) on this host: a run must leave none behind."""
    import re
    ns = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout.split()
    links = subprocess.run(["ip", "-o", "link"], capture_output=True, text=True).stdout
    names = [l.split(":")[1].strip().split("@")[0] for l in links.splitlines() if ":" in l]
    ours = lambda pattern, n: (m := re.fullmatch(pattern, n)) is not None and int(m.group(1)) in STARTED
    return (sorted(n for n in ns if ours(r"edgeos-rp(\d+)-\w+", n)),
            sorted(n for n in names if ours(r"erp[a-z](\d+)", n)))


def can_make_namespaces():
    import shutil
    return os.geteuid() == 0 and shutil.which("ip") is not None


class AgainstServers:
    """The scenario's arrivals paced to real servers in a namespace the command makes, every reply
    matched: as many replies per tenant as `edgeos sim` releases jobs at the bound thread
    (computed here from the simulator's trace), none lost or malformed, a latency histogram that
    adds up, and the host's namespaces and interfaces as they were."""

    TARGET = None
    SCENARIO_TEXT = None

    @classmethod
    def extra_args(cls, d):
        return []

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        d = cls.tmp.name
        cls.scenario = write(d, "scenario.toml", cls.SCENARIO_TEXT)
        cls.released = releases(os.path.join(d, "sim"), cls.scenario)
        cls.before = network_state()
        cls.result = run("replay", cls.scenario, "--target", cls.TARGET, "--speed", "2", "--out", os.path.join(d, "out"),
                         *cls.extra_args(d))
        cls.after = network_state()
        cls.summary = None
        if cls.result.returncode == 0:
            with open(os.path.join(d, "out", "replay.json")) as f:
                cls.summary = json.load(f)

    @classmethod
    def tearDownClass(cls):
        cls.tmp.cleanup()

    def test_every_request_answered(self):
        self.assertEqual(self.result.returncode, 0, self.result.stdout + self.result.stderr)
        tenants = {t["tenant"]: t for t in self.summary["tenants"]}
        for tenant, thread in (("cache", "memcached"), ("sensors", "coap")):
            t = tenants[tenant]
            with self.subTest(tenant=tenant):
                self.assertEqual(t["packets"], len(self.released[thread]))
                self.assertEqual((t["replies"], t["lost"], t["invalid_replies"]), (t["packets"], 0, 0), t)
                lat = t["latency_ns"]
                self.assertEqual(sum(n for _, n in lat["histogram"]), t["replies"])
                self.assertTrue(0 < lat["min"] <= lat["p50"] <= lat["p99"] <= lat["p999"] <= lat["max"], lat)
                self.assertLess(lat["max"], 5e9)
        # Memcached, real or the tenant, answers each set STORED and each get with the value the
        # last set of its key stored (the replayer checks each answer: wrong_answers), some hit.
        mc = tenants["cache"]["memcached"]
        self.assertEqual(mc["wrong_answers"], 0, mc)
        self.assertGreater(mc["get_hits"], 0, mc)
        self.assertGreater(mc["get_misses"], 0, mc)

    def test_nothing_left_behind(self):
        self.assertEqual(self.after, ([], []))
        self.assertEqual(self.before, self.after)


@unittest.skipUnless(can_make_namespaces(), "needs root and iproute2 (network namespaces)")
class Linux(AgainstServers, unittest.TestCase):
    """Debian's memcached -U and libcoap's coap-server as the targets (memcached's answers to
    gets of keys never set: misses, each with its request id)."""
    TARGET = "linux"
    SCENARIO_TEXT = SCENARIO

    def test_through_a_tap_device(self):
        """The same run with DPDK's net_tap as the replayer's device (a tap bridged to the veth):
        every request answered, as many as `edgeos sim` releases."""
        d = os.path.join(self.tmp.name, "tap")
        r = run("replay", self.scenario, "--target", "linux", "--device", "tap", "--speed", "4", "--out", d)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        with open(os.path.join(d, "replay.json")) as f:
            tenants = {t["tenant"]: t for t in json.load(f)["tenants"]}
        for tenant, thread in (("cache", "memcached"), ("sensors", "coap")):
            t = tenants[tenant]
            self.assertEqual((t["packets"], t["replies"], t["lost"]), (len(self.released[thread]),) * 2 + (0,), t)
        self.assertEqual(tenants["cache"]["memcached"]["wrong_answers"], 0)
        self.assertEqual(network_state(), ([], []))

    def test_ctrl_c_writes_what_was_done(self):
        """SIGINT in the middle of a run slowed down 20 times (20 s): exit 130, replay.json marked
        incomplete with fewer requests sent than planned, each answered or counted lost, and the
        namespaces and servers gone."""
        import signal
        import time
        d = os.path.join(self.tmp.name, "stopped")
        proc = start("replay", self.scenario, "--target", "linux", "--speed", "0.05", "--out", d)
        try:
            time.sleep(3)
            proc.send_signal(signal.SIGINT)
            out, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                proc.kill()
        self.assertEqual(proc.returncode, 128 + signal.SIGINT, out + err)
        self.assertIn("stopped by SIGINT", err)
        with open(os.path.join(d, "replay.json")) as f:
            j = json.load(f)
        self.assertIs(j["complete"], False)
        self.assertLess(j["sent"], j["planned"])
        self.assertGreater(j["sent"], 0)
        for t in j["tenants"]:
            self.assertEqual(t["replies"] + t["lost"], t["packets"], t)
        self.assertEqual(network_state(), ([], []))

    @classmethod
    def setUpClass(cls):
        import shutil
        if shutil.which("memcached") is None or shutil.which("coap-server-notls") is None:
            raise unittest.SkipTest("needs Debian's memcached and libcoap3-bin")
        super().setUpClass()


def have_qemu():
    import shutil
    return shutil.which("qemu-system-x86_64") is not None


@unittest.skipUnless(can_make_namespaces() and have_qemu(), "needs root, iproute2 and QEMU")
class Kernel(AgainstServers, unittest.TestCase):
    """The booted edgeos kernel as the target: its memcached and CoAP tenants behind the driver
    FWP, on a tap bridged to the replayer. The kernel's own summary (from its trace) agrees: each
    tenant's datagrams in and out are at least the replies matched here."""
    TARGET = "kernel"
    SCENARIO_TEXT = KERNEL_SCENARIO

    def test_the_kernel_counted_them(self):
        self.assertEqual(self.result.returncode, 0, self.result.stdout + self.result.stderr)
        with open(os.path.join(self.tmp.name, "out", "kernel", "summary.json")) as f:
            kernel = {g["name"]: g for g in json.load(f)["tenant_groups"]}
        for t in self.summary["tenants"]:
            self.assertGreaterEqual(kernel[t["tenant"]]["packets_in"], t["replies"], t["tenant"])
            self.assertGreaterEqual(kernel[t["tenant"]]["packets_out"], t["replies"], t["tenant"])

    def test_a_tenant_no_request_reaches_is_probed_in_its_protocol(self):
        """The kv workload drives the memcached tenant but, at 0.001/s, sends it nothing in this
        run: its probes are still memcached requests (an echo probe goes unanswered by the
        memcached program), so the warm-up ends and the run completes."""
        with tempfile.TemporaryDirectory() as d:
            scenario = write(d, "quiet.toml", KERNEL_SCENARIO.replace('rate = "300/s"', 'rate = "0.001/s"'))
            r = run("replay", scenario, "--target", "kernel", "--warmup", "30s", "--out", os.path.join(d, "out"))
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            with open(os.path.join(d, "out", "replay.json")) as f:
                cache = next(t for t in json.load(f)["tenants"] if t["tenant"] == "cache")
            self.assertEqual(cache["packets"], 0)
            self.assertEqual(network_state(), ([], []))

    def test_a_silent_target_is_an_error_and_cleaned_up(self):
        # Tenants without programs answer nothing: the warm-up gives up, names them, exit 2, and
        # the namespaces, the bridge, the tap and the guest are gone.
        with tempfile.TemporaryDirectory() as d:
            scenario = write(d, "silent.toml", SCENARIO)
            r = run("replay", scenario, "--target", "kernel", "--warmup", "3s", "--out", os.path.join(d, "out"))
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn("no answer from tenant(s) cache, sensors", r.stderr)
            self.assertEqual(network_state(), ([], []))
            self.assertFalse(os.path.exists(os.path.join(d, "out", "replay.json")))
            ps = subprocess.run(["pgrep", "-f", scenario], capture_output=True, text=True).stdout
            self.assertEqual(ps, "", "the guest is still running")


@unittest.skipUnless(can_make_namespaces() and have_qemu(), "needs root, iproute2 and QEMU")
class Tap(AgainstServers, unittest.TestCase):
    """--target tap: whatever --launch attaches to the tap is the target. Launched here: the edgeos
    kernel itself (edgeos boot --net tap:{tap}), so the same checks hold, and the guest's own
    summary counts the datagrams; `make paper` launches Debian's Linux this way."""
    TARGET = "tap"
    SCENARIO_TEXT = KERNEL_SCENARIO

    @classmethod
    def extra_args(cls, d):
        cls.boot_out = os.path.join(d, "launched")
        return ["--launch", f"{EDGEOS} boot {os.path.join(d, 'scenario.toml')} --net tap:{{tap}} --serve {{serve}}s "
                            f"--quiet --out {cls.boot_out}"]

    def test_a_target_that_ends_is_an_error_at_once(self):
        """A launched target that exits is reported when it does (exit 2, the command and its exit
        status), not after the warm-up; the namespaces are gone."""
        import time
        with tempfile.TemporaryDirectory() as d:
            scenario = write(d, "s.toml", KERNEL_SCENARIO)
            t0 = time.monotonic()
            r = run("replay", scenario, "--target", "tap", "--launch", "false", "--warmup", "120s", "--out",
                    os.path.join(d, "out"))
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn("the target ended before every tenant answered: `false` exited 1", r.stderr)
            self.assertLess(time.monotonic() - t0, 60)
            self.assertEqual(network_state(), ([], []))
            self.assertFalse(os.path.exists(os.path.join(d, "out", "replay.json")))

    def test_the_launched_kernel_counted_them(self):
        self.assertEqual(self.result.returncode, 0, self.result.stdout + self.result.stderr)
        self.assertEqual(self.summary["target"], "tap")
        with open(os.path.join(self.boot_out, "summary.json")) as f:
            kernel = {g["name"]: g for g in json.load(f)["tenant_groups"]}
        for t in self.summary["tenants"]:
            self.assertGreaterEqual(kernel[t["tenant"]]["packets_in"], t["replies"], t["tenant"])


class BadInput(unittest.TestCase):
    """Exit code 2, a message that says what is wrong, and nothing written."""

    def check(self, args, needle, scenario_text=SCENARIO):
        with tempfile.TemporaryDirectory() as d:
            scenario = write(d, "s.toml", scenario_text)
            out = os.path.join(d, "out")
            os.mkdir(out)
            argv = [a.replace("SCENARIO", scenario).replace("OUT", out) for a in args]
            r = run(*argv, "--out", out)
            self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
            self.assertIn(needle, r.stderr)
            self.assertEqual(os.listdir(out), [])
            self.assertEqual(sorted(os.listdir(d)), ["out", "s.toml"])

    def test_unknown_target(self):
        self.check(["replay", "SCENARIO", "--target", "tcp"], "unknown target 'tcp'")

    def test_pcap_without_file(self):
        self.check(["replay", "SCENARIO", "--target", "pcap"], "name the capture file")

    def test_missing_scenario(self):
        self.check(["replay", "OUT/nope.toml", "--target", "pcap", "OUT/x.pcap"], "nope.toml")

    def test_no_udp_bindings(self):
        self.check(["replay", "SCENARIO", "--target", "pcap", "OUT/x.pcap"], "no tenant binds a UDP port", NO_UDP)

    def test_bad_speed(self):
        self.check(["replay", "SCENARIO", "--target", "pcap", "OUT/x.pcap", "--speed", "0"], "--speed")

    def test_bad_eal_setup(self):
        self.check(["replay", "SCENARIO", "--target", "pcap", "OUT/x.pcap", "--eal", "--no-such-eal-option"],
                   "DPDK's EAL did not start")

    def test_linux_takes_no_argument(self):
        self.check(["replay", "SCENARIO", "--target", "linux", "x"], "takes no argument")

    def test_tap_device_needs_a_server_target(self):
        self.check(["replay", "SCENARIO", "--target", "pcap", "OUT/x.pcap", "--device", "tap"], "only with --target linux")

    def test_tap_target_needs_a_launch_command(self):
        self.check(["replay", "SCENARIO", "--target", "tap"], "give --launch CMD")

    def test_launch_only_with_the_tap_target(self):
        self.check(["replay", "SCENARIO", "--target", "linux", "--launch", "qemu {tap}"], "--launch: only with --target tap")

    def test_bad_reply_timeout(self):
        self.check(["replay", "SCENARIO", "--target", "pcap", "OUT/x.pcap", "--reply-timeout", "0s"], "--reply-timeout")

    def test_path_dpdk_cannot_carry(self):
        self.check(["replay", "SCENARIO", "--target", "pcap", "OUT/a,b.pcap"], "may not contain")


def main():
    global EDGEOS
    EDGEOS = sys.argv.pop(1)
    probe = subprocess.run([EDGEOS, "replay", "/nonexistent.toml", "--target", "null"], capture_output=True, text=True)
    if "built without DPDK" in probe.stderr:
        print("skipped: edgeos was built without DPDK")
        sys.exit(77)
    unittest.main(verbosity=2)


if __name__ == "__main__":
    main()
