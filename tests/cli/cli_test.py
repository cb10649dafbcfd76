#!/usr/bin/python3
"""End-to-end tests of the edgeos command line: what a user sees.

Run by ctest as `cli_test.py PATH_TO_EDGEOS`. Uses only the standard library.
"""
import csv
import json
import os
import subprocess
import struct
import sys
import tempfile
import unittest

EDGEOS = None


def run(*args):
    return subprocess.run([EDGEOS, *args], capture_output=True, text=True, timeout=120)


class BadInput(unittest.TestCase):
    """Every bad flag: exit code 2, a message naming the flag, and no output files."""

    CASES = [
        (["demo", "--duration", "10"], "--duration", "missing unit"),
        (["demo", "--duration", "-1s"], "--duration", "negative"),
        (["demo", "--duration", "0s"], "--duration", "must be > 0"),
        (["demo", "--duration", "3 parsecs"], "--duration", "unknown unit"),
        (["demo", "--seed", "-3"], "--seed", "non-negative integer"),
        (["demo", "--seed", "99999999999999999999999"], "--seed", "too large"),
        (["demo", "--policy", "lottery"], "--policy", "lottery"),
        (["demo", "--frobnicate"], "--frobnicate", ""),
        ([], "subcommand", ""),
    ]

    def test_bad_flags(self):
        for args, needle, detail in self.CASES:
            with self.subTest(args=args), tempfile.TemporaryDirectory() as out:
                r = run(*args, *(["--out", out] if args else []))
                self.assertEqual(r.returncode, 2, r.stderr)
                self.assertIn(needle, r.stderr + r.stdout)
                self.assertIn(detail, r.stderr + r.stdout)
                self.assertEqual(os.listdir(out), [], "nothing written on bad input")

    def test_usage_mistakes_are_explained(self):
        cases = [
            (["simulate", "x.toml"], ["edgeos: unknown subcommand 'simulate' (did you mean 'sim'?)",
                                      "the subcommands are: sim, check, boot, validate, analyze, gen, sweep, demo, replay"]),
            ([], ["edgeos: a subcommand is required, one of: sim, check,"]),
            (["gen", "poison"], ["edgeos gen: unknown subcommand 'poison' (did you mean 'poisson'?)", "tasks, poisson, mmpp"]),
            (["sim", "--seed"], ["edgeos sim: option --seed needs a value, none was given.", "--seed: replace the scenario's seed"]),
            (["demo", "--duration"], ["edgeos demo: option --duration needs a value", "simulated time, with a unit"]),
        ]
        for args, needles in cases:
            with self.subTest(args=args):
                r = run(*args)
                self.assertEqual(r.returncode, 2, r.stderr)
                for needle in needles:
                    self.assertIn(needle, r.stderr)
                self.assertNotIn("1 required TEXT missing", r.stderr)

    def test_unwritable_output_is_an_error(self):
        with tempfile.TemporaryDirectory() as d:
            blocker = os.path.join(d, "file")
            open(blocker, "w").close()
            r = run("demo", "--duration", "100ms", "--quiet", "--out", os.path.join(blocker, "sub"))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("cannot create directory", r.stderr)


class OutputNames(unittest.TestCase):
    """An empty or root output directory, an empty output file and a non-positive timeout are bad
    usage (exit 2, naming the option), not silently a default or a run writing into /."""

    CASES = [
        (["demo", "--duration", "100ms", "--out", ""], "--out: expected a directory, got an empty name"),
        (["demo", "--duration", "100ms", "--out", "/"], "--out: '/' is the root directory"),
        (["sim", "--duration", "100ms", "--out", ""], "--out: expected a directory, got an empty name"),
        (["sim", "--duration", "100ms", "--out", "//"], "--out: '//' is the root directory"),
        (["sim", "--duration", "100ms", "--out", "/tmp/.."], "--out: '/tmp/..' is the root directory"),
        (["boot", "s.toml", "--out", ""], "--out: expected a directory"),
        (["validate", "s.toml", "--out", "/"], "--out: '/' is the root directory"),
        (["check", "--compile", ""], "--compile: expected a file name, got an empty one"),
        (["check", "--compile", "/"], "--compile: '/' is a directory"),
        (["gen", "tasks", "--out", ""], "--out: expected a file name"),
        (["gen", "poisson", "--out", ""], "--out: expected a file name"),
        (["sweep", "--out", ""], "--out: expected a file name"),
        (["boot", "s.toml", "--timeout", "-1"], "--timeout: expected a whole number of seconds > 0, got '-1'"),
        (["boot", "s.toml", "--timeout", "0"], "--timeout: expected a whole number of seconds > 0, got '0'"),
        (["validate", "s.toml", "--timeout", "1.5"], "--timeout: expected a whole number of seconds > 0"),
    ]

    def test_refused(self):
        for args, needle in self.CASES:
            with self.subTest(args=args), tempfile.TemporaryDirectory() as cwd:
                r = subprocess.run([os.path.abspath(EDGEOS), *args], capture_output=True, text=True, timeout=120, cwd=cwd)
                self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
                self.assertIn(needle, r.stderr)
                self.assertEqual(os.listdir(cwd), [], "nothing written")


class Demo(unittest.TestCase):
    def test_writes_trace_summary_and_perfetto_json(self):
        with tempfile.TemporaryDirectory() as out:
            r = run("demo", "--duration", "1s", "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("policy EDF", r.stdout)
            self.assertIn("resp p99", r.stdout)
            for policy in ("edf", "fp"):
                d = os.path.join(out, policy)
                self.assertEqual(sorted(os.listdir(d)), ["summary.json", "trace.csv", "trace.perfetto.json"])
                with open(os.path.join(d, "trace.csv"), newline="") as f:
                    rows = list(csv.DictReader(f))
                self.assertEqual(list(rows[0].keys()), ["time_ns", "cpu", "event", "fwp", "thread", "job", "value"])
                times = [int(row["time_ns"]) for row in rows]
                self.assertEqual(times, sorted(times), "records are in time order")
                with open(os.path.join(d, "summary.json")) as f:
                    summary = json.load(f)
                completes = sum(1 for row in rows if row["event"] == "complete")
                self.assertEqual(summary["total"]["completed"], completes)
                with open(os.path.join(d, "trace.perfetto.json")) as f:
                    events = json.load(f)["traceEvents"]
                slices = [e for e in events if e["ph"] == "X"]
                self.assertGreater(len(slices), 100)
                # On each CPU track, job slices never overlap.
                by_track = {}
                for e in slices:
                    by_track.setdefault(e["tid"], []).append((e["ts"], e["ts"] + e["dur"]))
                for spans in by_track.values():
                    spans.sort()
                    for (a0, a1), (b0, _) in zip(spans, spans[1:]):
                        self.assertLessEqual(a1, b0 + 1e-9)

    def test_same_seed_same_bytes(self):
        with tempfile.TemporaryDirectory() as a, tempfile.TemporaryDirectory() as b:
            for out in (a, b):
                r = run("demo", "--duration", "500ms", "--seed", "9", "--quiet", "--out", out)
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertEqual(r.stdout, "")
            for name in ("edf/trace.csv", "fp/trace.csv", "edf/summary.json"):
                with open(os.path.join(a, name), "rb") as f1, open(os.path.join(b, name), "rb") as f2:
                    self.assertEqual(f1.read(), f2.read(), name)

    def test_help_explains_subcommands_and_exit_codes(self):
        r = run("--help")
        self.assertEqual(r.returncode, 0)
        self.assertIn("demo", r.stdout)
        self.assertIn("Exit codes", r.stdout)
        r = run("demo", "--help")
        self.assertIn("--duration", r.stdout)
        self.assertIn("--seed", r.stdout)


# Perfetto's trace schema, the part edgeos writes, transcribed by hand from Perfetto's published
# protos (proto2; perfetto/protos/perfetto/trace/trace.proto, trace_packet.proto,
# track_event/track_event.proto, track_event/track_descriptor.proto): field number -> (name, type,
# label). Anything else in a trace.perfetto-trace fails the check, so a field the writer starts to
# use must be transcribed here first, from the schema.
PERFETTO_SCHEMA = {
    "Trace": {1: ("packet", "TracePacket", "repeated")},
    "TracePacket": {
        8: ("timestamp", "uint64", "optional"),
        10: ("trusted_packet_sequence_id", "uint32", "optional"),  # oneof optional_trusted_packet_sequence_id
        11: ("track_event", "TrackEvent", "optional"),             # oneof data
        13: ("sequence_flags", "uint32", "optional"),              # SequenceFlags bits
        60: ("track_descriptor", "TrackDescriptor", "optional"),   # oneof data
    },
    "TrackEvent": {
        9: ("type", "enum Type", "optional"),
        11: ("track_uuid", "uint64", "optional"),
        23: ("name", "string", "optional"),                        # oneof name_field (name_iid = 10)
    },
    "TrackDescriptor": {
        1: ("uuid", "uint64", "optional"),
        2: ("name", "string", "optional"),                         # oneof static_or_dynamic_name
        5: ("parent_uuid", "uint64", "optional"),
        11: ("child_ordering", "enum ChildTracksOrdering", "optional"),
        12: ("sibling_order_rank", "int32", "optional"),
    },
}
PERFETTO_ENUMS = {
    "Type": {0: "TYPE_UNSPECIFIED", 1: "TYPE_SLICE_BEGIN", 2: "TYPE_SLICE_END", 3: "TYPE_INSTANT",
             4: "TYPE_COUNTER", 5: "TYPE_STATE"},
    "ChildTracksOrdering": {0: "UNKNOWN", 1: "LEXICOGRAPHIC", 2: "CHRONOLOGICAL", 3: "EXPLICIT"},
}
SEQ_INCREMENTAL_STATE_CLEARED, SEQ_NEEDS_INCREMENTAL_STATE = 1, 2  # TracePacket.SequenceFlags
# Protobuf's encoding (protobuf.dev/programming-guides/encoding): the wire type of each field type.
WIRE_TYPE = {"uint64": 0, "uint32": 0, "int32": 0, "int64": 0, "bool": 0, "enum": 0,
             "fixed64": 1, "double": 1, "string": 2, "bytes": 2, "message": 2, "fixed32": 5, "float": 5}


def protobuf_decode(data, message="Trace"):
    """Decodes `data` as the message `message` of PERFETTO_SCHEMA (protobuf's wire format: a varint
    key, field number << 3 | wire type, then a varint, 8 bytes, 4 bytes or a varint length and that
    many bytes; written here independently of the writer) into {name: value}, repeated fields as
    lists, messages as dicts. Raises AssertionError at anything the schema does not allow: an
    unknown field, a wrong wire type, a singular field twice, a value out of its type's range, an
    unknown enum value, a string that is not UTF-8, a truncated varint or length."""
    fields = PERFETTO_SCHEMA[message]
    out, i = {}, 0

    def varint():
        nonlocal i
        shift = value = 0
        for n in range(10):
            assert i < len(data), f"{message}: truncated varint"
            b = data[i]
            i += 1
            value |= (b & 0x7F) << shift
            shift += 7
            if b < 0x80:
                assert value < 1 << 64, f"{message}: varint over 64 bits"
                return value
        raise AssertionError(f"{message}: varint longer than 10 bytes")
    while i < len(data):
        key = varint()
        number, wire = key >> 3, key & 7
        assert number in fields, f"{message}: field {number} (wire type {wire}) is not in the schema"
        name, ftype, label = fields[number]
        kind = "enum" if ftype.startswith("enum ") else ftype if ftype in WIRE_TYPE else "message"
        assert wire == WIRE_TYPE[kind], f"{message}.{name}: wire type {wire}, the schema's {ftype} is {WIRE_TYPE[kind]}"
        if wire == 0:
            value = varint()
        elif wire == 2:
            n = varint()
            assert i + n <= len(data), f"{message}.{name}: length {n} past the end"
            value, i = data[i:i + n], i + n
        else:
            n = 8 if wire == 1 else 4
            assert i + n <= len(data), f"{message}.{name}: truncated"
            value, i = data[i:i + n], i + n
        if ftype == "uint32":
            assert value < 1 << 32, f"{message}.{name}: {value} is not a uint32"
        elif ftype == "int32":
            value = value - (1 << 64) if value >= 1 << 63 else value
            assert -(1 << 31) <= value < 1 << 31, f"{message}.{name}: {value} is not an int32"
        elif ftype == "int64":
            value = value - (1 << 64) if value >= 1 << 63 else value
        elif kind == "enum":
            assert value in PERFETTO_ENUMS[ftype[5:]], f"{message}.{name}: {value} is not a {ftype[5:]}"
        elif ftype == "string":
            value = value.decode("utf-8")  # raises on bad UTF-8
        elif kind == "message":
            value = protobuf_decode(value, ftype)
        if label == "repeated":
            out.setdefault(name, []).append(value)
        else:
            assert name not in out, f"{message}.{name}: a singular field written twice"
            out[name] = value
    return out


def perfetto_check(blob):
    """The trace as Perfetto's trace processor imports it, checked against what its documentation
    and the schema's comments require (trace_packet.proto, track_descriptor.proto, track_event.proto;
    the guide "Converting arbitrary timestamped data to Perfetto"). Returns (tracks, events):
    tracks {uuid: (name, parent_uuid or None, sibling_order_rank)}, events [(ts, uuid, type, name)]
    in the order the trace processor parses them (by timestamp, ties in file order). Also checks
    that the slices pair up on every track; an AssertionError says what is wrong."""
    assert blob[:1] == b"\x0a", "a proto trace starts with the tag of Trace.packet (field 1, bytes)"
    packets = protobuf_decode(blob)["packet"]
    tracks, events, seen_sequences = {}, [], set()
    last_ts = 0
    for n, p in enumerate(packets):
        where = f"packet {n}"
        # Packets without a sequence id are dropped by the track-event importer; 0 is "invalid".
        seq = p.get("trusted_packet_sequence_id", 0)
        assert seq != 0, f"{where}: no trusted_packet_sequence_id"
        flags = p.get("sequence_flags", 0)
        assert flags & ~(SEQ_INCREMENTAL_STATE_CLEARED | SEQ_NEEDS_INCREMENTAL_STATE) == 0, f"{where}: unknown flags"
        if seq not in seen_sequences:
            # A sequence's first packet says its incremental state starts cleared.
            assert flags & SEQ_INCREMENTAL_STATE_CLEARED, f"{where}: first packet of sequence {seq} without SEQ_INCREMENTAL_STATE_CLEARED"
            seen_sequences.add(seq)
        # No interned data or defaults are written: nothing needs incremental state.
        assert not flags & SEQ_NEEDS_INCREMENTAL_STATE, f"{where}: SEQ_NEEDS_INCREMENTAL_STATE without interning"
        assert ("track_event" in p) != ("track_descriptor" in p), f"{where}: one of track_event, track_descriptor (oneof data)"
        if "track_descriptor" in p:
            t = p["track_descriptor"]
            assert t.get("uuid", 0) != 0, f"{where}: a track descriptor needs a uuid (0 is the implicit global track)"
            assert t["uuid"] not in tracks, f"{where}: track {t['uuid']} described twice"
            assert t.get("name"), f"{where}: track {t['uuid']} has no name"
            parent = t.get("parent_uuid")
            assert parent is None or parent in tracks, f"{where}: parent {parent} not described before its child"
            tracks[t["uuid"]] = (t["name"], parent, t.get("sibling_order_rank", 0), t.get("child_ordering", 0))
            continue
        e = p["track_event"]
        # The importer drops a track event without a timestamp or with a negative one.
        assert "timestamp" in p and p["timestamp"] < 1 << 63, f"{where}: no timestamp"
        assert e.get("type") in (1, 2, 3), f"{where}: type {e.get('type')} (slices and instants only)"
        assert e.get("track_uuid", 0) in tracks, f"{where}: track {e.get('track_uuid')} not described before its events"
        assert (e.get("type") == 2) == ("name" not in e), f"{where}: a begin or an instant has a name, an end none"
        # Stronger than Perfetto needs (it sorts): the file is in time order, so the sorted order is
        # the file's order and the pairing below is the importer's.
        assert p["timestamp"] >= last_ts, f"{where}: timestamp {p['timestamp']} before {last_ts}"
        last_ts = p["timestamp"]
        events.append((p["timestamp"], e["track_uuid"], e["type"], e.get("name")))
    # Tracks are "merged by name" among siblings unless told otherwise: sibling names must differ.
    siblings = {}
    for uuid, (name, parent, _, _) in tracks.items():
        assert (parent, name) not in siblings, f"tracks {uuid} and {siblings[(parent, name)]}: same name {name!r} under one parent"
        siblings[(parent, name)] = uuid
    # Slices: on each track an end closes the slice its track has open (a stack; ends without a
    # begin are counted as misplaced by the importer); nothing is nested, nothing left open.
    open_slice = {}
    for ts, track, kind, name in events:
        if kind == 1:
            assert track not in open_slice, f"a slice begins at {ts} on track {track} inside {open_slice.get(track)}"
            open_slice[track] = (ts, name)
        elif kind == 2:
            assert track in open_slice, f"an end without a begin at {ts} on track {track}"
            del open_slice[track]
    assert not open_slice, f"slices never closed: {open_slice}"
    return tracks, events


def proto_slices(events):
    """[(begin, end, track, name)] of the slices in perfetto_check's events (already checked)."""
    out, begun = [], {}
    for ts, track, kind, name in events:
        if kind == 1:
            begun[track] = (ts, name)
        elif kind == 2:
            b = begun.pop(track)
            out.append((b[0], ts, track, b[1]))
    return out


def pb_varint(v):
    out = bytearray()
    while v >= 0x80:
        out.append(v & 0x7F | 0x80)
        v >>= 7
    out.append(v)
    return bytes(out)


def pb_field(number, value, wire=None):
    """One field of a message (tests of the checker itself): an int as a varint, bytes as bytes."""
    if isinstance(value, int):
        return pb_varint(number << 3 | (0 if wire is None else wire)) + pb_varint(value)
    return pb_varint(number << 3 | (2 if wire is None else wire)) + pb_varint(len(value)) + value


class PerfettoProto(unittest.TestCase):
    """`edgeos sim --perfetto-format proto`: the file decoded against a hand transcription of
    Perfetto's schema (every field number and wire type), checked against the rules of Perfetto's
    trace processor (perfetto_check), and against the JSON writer of the same run: a track per CPU
    named as in the JSON and in its order; every JSON slice ("ph": "X") a SLICE_BEGIN with its name
    at its start and a SLICE_END at its end on its CPU's track, and nothing else nested; every JSON
    instant an INSTANT with the same name and time."""

    def run_both(self, d, *args):
        outs = {}
        for fmt in ("json", "proto"):
            r = run("sim", *args, "--trace", "perfetto", "--perfetto-format", fmt, "--out", os.path.join(d, fmt), "--quiet")
            self.assertEqual(r.returncode, 0, r.stderr)
            outs[fmt] = os.path.join(d, fmt)
        self.assertEqual(sorted(os.listdir(outs["proto"])), ["summary.json", "trace.perfetto-trace"])
        with open(os.path.join(outs["json"], "trace.perfetto.json")) as f:
            events = json.load(f)["traceEvents"]
        with open(os.path.join(outs["proto"], "trace.perfetto-trace"), "rb") as f:
            blob = f.read()
        self.assertLess(len(blob), os.path.getsize(os.path.join(outs["json"], "trace.perfetto.json")) / 2)
        return events, blob

    def same_as_json(self, events, blob, lifecycle):
        tracks, proto_events = perfetto_check(blob)
        ns = lambda us: round(float(us) * 1000)
        # The tracks: the run's (a root), under it one per CPU and the FWP life cycle's, ordered
        # explicitly (CPU c has rank c, as the JSON's thread_sort_index).
        roots = [u for u, t in tracks.items() if t[1] is None]
        self.assertEqual(len(roots), 1)
        self.assertEqual(tracks[roots[0]][0], next(e["args"]["name"] for e in events if e.get("name") == "process_name"))
        self.assertEqual(tracks[roots[0]][3], 3, "child_ordering EXPLICIT")
        cpu_names = {e["tid"]: e["args"]["name"] for e in events if e.get("name") == "thread_name"}
        self.assertEqual(len(tracks), 1 + len(cpu_names))
        self.assertEqual("FWP life cycle" in cpu_names.values(), lifecycle)
        by_name = {t[0]: (u, t) for u, t in tracks.items()}
        tid_track = {}
        for tid, name in cpu_names.items():
            uuid, (_, parent, rank, _) = by_name[name]
            self.assertEqual((parent, rank), (roots[0], tid), name)
            tid_track[tid] = uuid
        want = sorted((ns(e["ts"]), ns(e["ts"]) + ns(e["dur"]), tid_track[e["tid"]], e["name"])
                      for e in events if e.get("ph") == "X")
        self.assertGreater(len(want), 100)
        self.assertEqual(sorted(proto_slices(proto_events)), want)
        want_instants = sorted((ns(e["ts"]), tid_track[e["tid"]], e["name"]) for e in events if e.get("ph") == "i")
        self.assertEqual(sorted((ts, track, name) for ts, track, kind, name in proto_events if kind == 3), want_instants)

    def test_same_schedule_as_the_json(self):
        with tempfile.TemporaryDirectory() as d:
            events, blob = self.run_both(d, "--duration", "200ms")
            self.same_as_json(events, blob, lifecycle=False)

    def test_eight_cpus(self):
        # kv-tenants: 8 CPUs. (The FWP life cycle's track is checked from Python, whose traces keep
        # the FWPs' creation at instantiation: pybind/tests/test_trace.py.)
        scenario = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "kv-tenants.toml")
        with tempfile.TemporaryDirectory() as d:
            events, blob = self.run_both(d, scenario, "--duration", "200ms")
            self.same_as_json(events, blob, lifecycle=False)

    def test_the_checker_refuses_what_perfetto_would(self):
        # The checker itself, on hand-made traces: a good one passes, each fault is caught.
        desc = lambda uuid, name, parent=None: pb_field(60, pb_field(1, uuid) + pb_field(2, name.encode()) +
                                                        (pb_field(5, parent) if parent else b""))
        ev = lambda ts, kind, track, name=None: pb_field(8, ts) + pb_field(11, pb_field(9, kind) + pb_field(11, track) +
                                                                         (pb_field(23, name.encode()) if name else b""))
        seq = lambda first=False: pb_field(10, 7) + (pb_field(13, 1) if first else b"")
        trace = lambda *packets: b"".join(pb_field(1, p) for p in packets)
        good = [seq(True) + desc(1, "run"), seq() + desc(2, "CPU 0", 1), seq() + ev(5, 1, 2, "a"), seq() + ev(5, 3, 2, "x"),
                seq() + ev(9, 2, 2), seq() + ev(9, 1, 2, "b"), seq() + ev(12, 2, 2)]
        tracks, events = perfetto_check(trace(*good))
        self.assertEqual(proto_slices(events), [(5, 9, 2, "a"), (9, 12, 2, "b")])
        bad = {
            "no trusted_packet_sequence_id": [desc(1, "run")] + good[1:],
            "first packet of sequence": [pb_field(10, 7) + desc(1, "run")] + good[1:],
            "not in the schema": good[:2] + [seq() + ev(5, 1, 2, "a") + pb_field(3, 1)] + good[3:],
            "wire type": good[:2] + [seq() + pb_field(8, 5, wire=1)[:-1] + b"\0" * 8 + pb_field(11, b"")] + good[3:],
            "not described": good[:2] + [seq() + ev(5, 1, 3, "a")] + good[3:],
            "end without a begin": good[:2] + good[4:],
            "inside": good[:4] + good[5:],
            "never closed": good[:-1],
            "before": good[:3] + [seq() + ev(4, 3, 2, "x")] + good[4:],
            "same name": good[:2] + [seq() + desc(3, "CPU 0", 1)] + good[2:],
            "not a Type": good[:2] + [seq() + ev(5, 9, 2, "a")] + good[3:],
            "written twice": [seq(True) + desc(1, "run") + pb_field(10, 7)] + good[1:],
        }
        for needle, packets in bad.items():
            with self.subTest(needle):
                with self.assertRaisesRegex(AssertionError, needle):
                    perfetto_check(trace(*packets))


class Analysis(unittest.TestCase):
    def test_gen_analyze_and_sweep(self):
        with tempfile.TemporaryDirectory() as d:
            tasks = os.path.join(d, "tasks.csv")
            r = run("gen", "tasks", "--tasks", "6", "--utilisation", "1.6", "--cpus", "2", "--seed", "3", "--out", tasks)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(tasks) as f:
                lines = [line for line in f if not line.startswith("#")]
            self.assertEqual(len(lines), 7)  # header + 6 tasks
            r = run("analyze", tasks, "--overheads", "5us,2us,3us,1us", "--reservation", "9ms/10ms")
            self.assertEqual(r.returncode, 0, r.stderr)
            for needle in ("CPU 0:", "CPU 1:", "response-time analysis", "EDF processor demand", "with overheads",
                           "inside the reservation"):
                self.assertIn(needle, r.stdout)
            out = os.path.join(d, "sweep.csv")
            args = ("sweep", "--sets", "5", "--tasks", "4", "--util", "0.5:1:0.5", "--tests", "rta,edf-qpa,sim-edf",
                    "--horizon", "200ms", "--seed", "7", "--quiet", "--out", out)
            self.assertEqual(run(*args).returncode, 0)
            with open(out, newline="") as f:
                rows = list(csv.DictReader(f))
            self.assertEqual(len(rows), 6)
            self.assertEqual(set(r["test"] for r in rows), {"rta", "edf-qpa", "sim-edf"})
            for row in rows:
                self.assertEqual(int(row["sets"]), 5)
                self.assertLessEqual(int(row["accepted"]), 5)
            with open(out, "rb") as f:
                first = f.read()
            self.assertEqual(run(*args).returncode, 0)
            with open(out, "rb") as f:
                self.assertEqual(f.read(), first, "same seed, same bytes")

    def test_analyze_demo(self):
        r = run("analyze", "--demo")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("unschedulable", r.stdout)  # FP cannot schedule CPU 0 of the demo
        self.assertIn("EDF utilisation bound              schedulable", r.stdout)

    def test_sweep_global(self):
        # Global tests and the global simulation on 2 CPUs: a sufficient test never accepts more
        # sets than the simulation finds schedulable (same sets for every test).
        with tempfile.TemporaryDirectory() as d:
            out = os.path.join(d, "g.csv")
            r = run("sweep", "--sets", "20", "--tasks", "5", "--cpus", "2", "--util", "0.3:0.9:0.3", "--periods", "10ms:100ms",
                    "--granularity", "10ms", "--tests", "gfb,baker,bcl-edf,bcl-fp,rta-gfp,sim-gfp,sim-gedf", "--out", out)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(out) as f:
                rows = list(csv.DictReader(f))
            by = {(row["utilisation"], row["test"]): int(row["accepted"]) for row in rows}
            for u in {row["utilisation"] for row in rows}:
                for t in ("gfb", "baker", "bcl-edf"):
                    self.assertLessEqual(by[(u, t)], by[(u, "sim-gedf")], (u, t))
                for t in ("bcl-fp", "rta-gfp"):
                    self.assertLessEqual(by[(u, t)], by[(u, "sim-gfp")], (u, t))
            self.assertGreater(by[("0.3000", "bcl-edf")], 0)

    def test_analyze_global(self):
        # Dhall's set on one global domain of 2 CPUs: every global test rejects it.
        with tempfile.TemporaryDirectory() as d:
            tasks = os.path.join(d, "dhall.csv")
            with open(tasks, "w") as f:
                f.write("name,wcet,period\nl0,2ms,40ms\nl1,2ms,40ms\nh,40ms,41ms\n")
            r = run("analyze", tasks, "--global", "--cpus", "2")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertIn("CPUs 0,1 (global, m = 2): 3 tasks", r.stdout)
            for test in ("G-EDF density bound (GFB)", "G-EDF Baker", "G-EDF BCL", "G-FP BCL", "G-FP RTA (Bertogna-Cirinei)"):
                self.assertRegex(r.stdout, test.replace("(", r"\(").replace(")", r"\)") + r" +inconclusive")
        # A scenario says it per server; it compiles for the kernel too (its domains section).
        scenario = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "examples", "global-servers.toml")
        r = run("analyze", scenario)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("CPUs 2,3 (global, m = 2)", r.stdout)
        self.assertIn("response-time bounds: detect 6ms track 9ms encode 30ms", r.stdout)
        with tempfile.TemporaryDirectory() as d:
            blob = os.path.join(d, "s.bin")
            r = run("check", scenario, "--compile", blob)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(blob, "rb") as f:
                data = f.read()
            # Section 13, domains: each of the 6 CPUs' leader ("pool" global on 0-1, "rack" in
            # clusters {2, 3} and {4, 5}).
            offset, count = struct.unpack_from("<II", data, 40 + 8 * 13)
            self.assertEqual(struct.unpack_from("<6I", data, offset), (0, 0, 2, 2, 4, 4))
            self.assertEqual(count, 6)

    def test_bad_analysis_input(self):
        with tempfile.TemporaryDirectory() as d:
            bad = os.path.join(d, "bad.csv")
            with open(bad, "w") as f:
                f.write("name,wcet,period\na,3,10ms\n")
            r = run("analyze", bad)
            self.assertEqual(r.returncode, 2)
            self.assertIn("bad.csv:2: column 'wcet'", r.stderr)
            self.assertEqual(run("analyze").returncode, 2)
            out = os.path.join(d, "s.csv")
            for args, needle in ((("--tests", "magic"), "unknown test 'magic'"),
                                 (("--util", "0.5:2:0.1"), "to <= 1"),
                                 (("--util", "0.5"), "FROM:TO:STEP"),
                                 (("--periods", "1s:10ms"), "MIN <= MAX"),
                                 (("--generator", "gauss"), "unknown generator"),
                                 (("--overheads", "1us,2us"), "RELEASE,SCHEDULE,SWITCH,TIMER")):
                r = run("sweep", "--out", out, *args)
                self.assertEqual(r.returncode, 2, args)
                self.assertIn(needle, r.stderr)
                self.assertFalse(os.path.exists(out))


if __name__ == "__main__":
    EDGEOS = sys.argv.pop(1)
    unittest.main(verbosity=1)
