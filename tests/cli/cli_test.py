#!/usr/bin/python3
"""End-to-end tests of the edgeos command line: what a user sees.

Run by ctest as `cli_test.py PATH_TO_EDGEOS`. Uses only the standard library.
"""
import csv
import json
import os
import subprocess
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

    def test_unwritable_output_is_an_error(self):
        with tempfile.TemporaryDirectory() as d:
            blocker = os.path.join(d, "file")
            open(blocker, "w").close()
            r = run("demo", "--duration", "100ms", "--quiet", "--out", os.path.join(blocker, "sub"))
            self.assertEqual(r.returncode, 2, r.stderr)
            self.assertIn("cannot create directory", r.stderr)


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


if __name__ == "__main__":
    EDGEOS = sys.argv.pop(1)
    unittest.main(verbosity=1)
