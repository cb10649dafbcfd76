#!/usr/bin/python3
"""The system-call fuzzer against the booted kernel, several seeds (part of `make fuzz`).

    syscall_fuzz.py EDGEOS KERNEL_ELF [--seeds 1-10] [--calls 100000] [--jobs 2] [--no-invariants]

Each seed boots the fuzzing scenario of tests/kernel/kernel_test.py (`fuzz_toml`: two periodic
tenants on one CPU under fixed priority, the fuzzer at the lowest priority with a peer to call and
rings both ways) under QEMU TCG with -icount and `--check-invariants` (the core checks every
invariant after every event and panics on a broken one), with the scenario's seed as the fuzzer's
seed and CALLS system calls; then, for the schedule comparison, once more without the checks (they
cost tens of microseconds of guest time per event, which would count as the fuzzer's delay), and
the same scenario without the fuzzing thread. A seed passes when
the kernel completes the run (no panic, no kernel fault, no hang: the boot is bounded by a timeout),
the fuzzer finishes all its calls with no finding of its own (a canary it passed as a pointer
changed by a call that must not write there, an undefined result), and the other tenants' releases,
completion order and deadline misses are those of the run without the fuzzer (each at most 100 us
later: what a system call in progress holds up; the kernel is not preemptible).

Prints a line per seed and the totals by system call and result; exits 1 on any finding, and keeps
the failing seed's serial log. A finding is reproduced by booting the same scenario with the same
seed (the boot is deterministic under -icount); the kernel's report of a panic or fault names the
system call in progress and its index in the fuzzer's sequence (r8).
"""
import argparse
import collections
import concurrent.futures
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "kernel"))
import kernel_test as kt  # noqa: E402  (the scenario and the trace helpers)

MS = kt.MS
LINE = re.compile(r"\[fuzz\] syscall-fuzz: sys (\S+) (\d+): (.*)")


def boot(edgeos, kernel, toml, workdir, name, invariants):
    path = os.path.join(workdir, f"{name}.toml")
    with open(path, "w") as f:
        f.write(toml)
    out = os.path.join(workdir, name)
    flags = ["--check-invariants"] if invariants else []
    try:
        r = subprocess.run([edgeos, "boot", path, "--icount", "--kernel", kernel, "--out", out, "--quiet", *flags],
                           capture_output=True, text=True, timeout=900)
        status, err = r.returncode, r.stderr
    except subprocess.TimeoutExpired:
        status, err = None, "timed out (a hang?)"
    serial_path = os.path.join(out, "serial.log")
    serial = open(serial_path, errors="replace").read() if os.path.exists(serial_path) else ""
    return out, status, err, serial


def run_seed(edgeos, kernel, seed, calls, invariants, keep):
    """Returns (seed, problems, summary dict)."""
    # 3.5-8 us of the fuzzer's CPU time per call under -icount (invariants checked), and it gets
    # about a third of the CPU.
    end = max(100 * MS, calls * 30_000 // 1000 * 1000)
    work = tempfile.mkdtemp(prefix=f"edgeos-syscall-fuzz-{seed}-")
    started = time.monotonic()
    problems, summary = [], {"calls": 0, "ok": 0, "errors": 0, "rows": {}}
    out, status, err, serial = boot(edgeos, kernel, kt.fuzz_toml(seed, calls, end), work, "fuzz", invariants)
    summary["seconds"] = time.monotonic() - started
    if status != 0:
        problems.append(f"boot exit status {status}: {err.strip()[-300:]}")
    for bad in ("KERNEL PANIC", "KERNEL FAULT", "FINDING", "[fuzz] killed"):
        if bad in serial:
            problems.append(next(l for l in serial.splitlines() if bad in l))
    m = kt.FUZZ_SUMMARY.search(serial)
    if m is None:
        problems.append("the fuzzer did not finish")
    else:
        summary.update(calls=int(m.group(1)), ok=int(m.group(3)), errors=int(m.group(4)))
        if int(m.group(1)) != calls:
            problems.append(f"{m.group(1)} calls of {calls}")
    if "syscall-fuzz: findings: canary 0, odd results 0" not in serial and m is not None:
        problems.append(next((l for l in serial.splitlines() if "findings:" in l), "no findings line"))
    for l in serial.splitlines():
        g = LINE.search(l)
        if g:
            summary["rows"][g.group(1)] = (int(g.group(2)), g.group(3))
    # The other tenants, against the run without the fuzzer: both without invariant checks, which
    # cost tens of microseconds of guest time per event and would be counted as the fuzzer's delay.
    summary["unchanged"] = False
    if status == 0 and m is not None:
        if invariants:
            out, status, err, serial2 = boot(edgeos, kernel, kt.fuzz_toml(seed, calls, end), work, "timed", False)
            if status != 0 or kt.FUZZ_SUMMARY.search(serial2) is None:
                problems.append(f"the run without invariant checks failed: {err.strip()[-300:]}")
        base, bstatus, berr, _ = boot(edgeos, kernel, kt.fuzz_toml(seed, calls, end, fuzzer=False), work, "base", False)
        if bstatus != 0:
            problems.append(f"the run without the fuzzer failed: {berr.strip()[-300:]}")
        elif status == 0:
            names = {t.name for t in kt.FUZZ_TASKS}
            got, want = kt.others_records(out, names), kt.others_records(base, names)
            rel_same = [x[:3] for x in got if x[0] == "release"] == [x[:3] for x in want if x[0] == "release"]
            ord_same = [x[:3] for x in got if x[0] != "release"] == [x[:3] for x in want if x[0] != "release"]
            late = [g[3] - w[3] for g, w in zip(got, want) if g[:3] == w[:3]]
            summary["late_us"] = max(late, default=0) / 1000
            summary["jobs"] = sum(1 for x in got if x[0] == "complete")
            if not rel_same:
                problems.append("the other tenants' releases changed")
            if not ord_same:
                problems.append("the other tenants' completions or misses changed")
            # Never earlier, but for the timer's granularity (an idle CPU wakes from `hlt`, a busy
            # one takes the interrupt at an instruction boundary: a few ns).
            if late and max(late) > 100_000:
                problems.append(f"an event of the others {max(late)} ns later than without the fuzzer")
            if late and min(late) < -1000:
                problems.append(f"an event of the others {-min(late)} ns earlier than without the fuzzer")
            summary["unchanged"] = rel_same and ord_same and not problems
    summary["seconds_total"] = time.monotonic() - started
    if problems:
        os.makedirs(keep, exist_ok=True)
        dest = os.path.join(keep, f"seed-{seed}.serial.log")
        with open(dest, "w") as f:
            f.write(serial)
        problems.append(f"serial log kept in {dest}")
    shutil.rmtree(work, True)
    return seed, problems, summary


def seeds_of(text):
    out = []
    for part in text.split(","):
        a, _, b = part.partition("-")
        out.extend(range(int(a), int(b or a) + 1))
    return out


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("edgeos")
    p.add_argument("kernel")
    p.add_argument("--seeds", default="1-10", help="seeds, e.g. 1-10 or 3,7 (default 1-10)")
    p.add_argument("--calls", type=int, default=100_000, help="system calls per boot (default 100000)")
    p.add_argument("--jobs", type=int, default=2, help="boots side by side (default 2)")
    p.add_argument("--no-invariants", action="store_true", help="boot without --check-invariants")
    p.add_argument("--keep", default=os.path.join(tempfile.gettempdir(), "edgeos-syscall-fuzz"),
                   help="where the serial logs of failing seeds go")
    a = p.parse_args()
    if shutil.which("qemu-system-x86_64") is None:
        print("syscall fuzz: SKIP: qemu-system-x86_64 is not installed (Debian package qemu-system-x86)")
        return 0
    edgeos, kernel = os.path.abspath(a.edgeos), os.path.abspath(a.kernel)
    seeds = seeds_of(a.seeds)
    started = time.monotonic()
    results = []
    print(f"syscall fuzz: {len(seeds)} seeds x {a.calls} calls, {'no ' if a.no_invariants else ''}invariant checks, "
          f"{a.jobs} at a time")
    print(f"{'seed':>6} {'calls':>8} {'ok':>8} {'errors':>8} {'others':>10} {'late max':>9} {'seconds':>8}  problems")
    with concurrent.futures.ThreadPoolExecutor(max_workers=a.jobs) as pool:
        futures = [pool.submit(run_seed, edgeos, kernel, s, a.calls, not a.no_invariants, a.keep) for s in seeds]
        for f in futures:
            seed, problems, s = f.result()
            results.append((seed, problems, s))
            others = "unchanged" if s.get("unchanged") else "CHANGED" if "jobs" in s else "-"
            print(f"{seed:>6} {s['calls']:>8} {s['ok']:>8} {s['errors']:>8} {others:>10} {s.get('late_us', 0):>7.1f}us "
                  f"{s['seconds_total']:>8.1f}  {'; '.join(problems) or '-'}", flush=True)
    rows = collections.OrderedDict()
    for _, _, s in results:
        for name, (n, detail) in s["rows"].items():
            total, parts = rows.get(name, (0, collections.Counter()))
            for item in detail.split(", "):
                k, _, v = item.rpartition(" ")
                parts[k] += int(v)
            rows[name] = (total + n, parts)
    print("\ntotals by system call and result (ok, or the error's value: -1 invalid_argument, -2 out_of_capacity,"
          "\n-3 not_found, -4 stale, -5 bad_state, -6 busy, -7 unsupported, -8 would_block, -9 denied; ? a callee's reply)")
    for name, (total, parts) in rows.items():
        print(f"  {name:<13} {total:>9}  " + ", ".join(f"{k} {v}" for k, v in parts.items()))
    calls = sum(s["calls"] for _, _, s in results)
    failed = [seed for seed, problems, _ in results if problems]
    unchanged = sum(1 for _, _, s in results if s.get("unchanged"))
    panics = sum(1 for _, problems, _ in results for x in problems if "PANIC" in x)
    faults = sum(1 for _, problems, _ in results for x in problems if "FAULT" in x or "timed out" in x)
    print(f"\nsyscall fuzz: {calls} calls in {len(results)} boots, {time.monotonic() - started:.0f} s; kernel panics "
          f"(invariant violations included) {panics}, kernel faults or hangs {faults}, other tenants unchanged in "
          f"{unchanged} of {len(results)}; failing seeds: {failed or 'none'}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
