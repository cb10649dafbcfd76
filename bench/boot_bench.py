#!/usr/bin/python3
"""Microbenchmarks of the x86-64 kernel under QEMU, against Linux on this host.

    bench/boot_bench.py [--build DIR] [--live 10,100,1000,10000] [--accel tcg|kvm] [--cpus N]

For each number of live FWPs, boots a scenario (edgeos boot) whose threads run the kernel's
benchmark programs (kernel_backend/fwp/programs.cpp):

  FWP create      an FWP spawned from its template (fresh page tables, shared code, copied data)
  from checkpoint the same once the template holds a checkpoint of 16 KiB of heap and a data page
                  (kSysReady): the new FWP gets copies of those five pages
  pool activate   an FWP taken from the template's pool of pre-created ones
  switch          a yield to a thread of equal priority in another FWP (system call, schedule,
                  address-space switch, return to user mode)
  call + reply    a synchronous invocation into another FWP and back (empty callee)
  timer -> user   from the timer interrupt's handler to user mode in the thread the core chose
  null syscall    an unknown system call number: the floor under every system call

Then boots a global EDF set on four CPUs (tests/kernel's class Global: U = 2.86, jobs migrating
every few milliseconds) and reports, from the same boot, the latency of a migration (from the
core's decision to run a thread on another CPU to its return to user mode there: the IPI to both
CPUs, the wait for the one it leaves to save its registers, the kernel lock) and of a dispatch
another CPU decided, against that boot's timer-to-user-mode latency as the baseline. Under -icount
the four CPUs share one instruction clock, so these TSC figures count the other CPUs' instructions
too: they are the emulated machine's time, not one CPU's path length.

With --cpus N the machine has N CPUs (the benchmark threads run on CPU 0, the others idle): the
kernel then takes its lock at every entry, which it skips on one CPU.

Under TCG with -icount (the default) QEMU advances its TSC by one tick per guest instruction, so
the figures are guest instructions: exact and reproducible, but not time. With --accel kvm (on
a host where KVM runs this kernel) they are TSC cycles of real hardware.

Then runs Google Benchmark's Linux process and thread creation (edgeos_bench --benchmark_filter=
Linux) for the record, and prints the ratio of Linux's wall time to the FWP's instruction count
read at one nanosecond per instruction (a 1 GHz core at one instruction per cycle: a pessimistic
reading for any current x86-64 core).
"""
import argparse
import json
import os
import re
import subprocess
import sys
import tempfile

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def scenario(live, cpus=1):
    """The benchmark scenario with `live` idle FWPs besides the benchmark's own."""
    return f'''[scenario]
name = "boot-bench-{live}"
duration = "60ms"

[[server]]
cpus = {cpus}
policy = "fp"

[[template]]
name = "spawned"
pool = 201          # the spawner's own FWP, then 200 activations; creations after that

[[tenant]]
name = "idle"
instances = {live}

[[tenant]]
name = "y1"
[[tenant]]
name = "y2"
[[tenant]]
name = "caller"
[[tenant]]
name = "server"
[[tenant]]
name = "spawner"
template = "spawned"
[[tenant]]
name = "tick"

[[invoke]]
from = "caller"
to = "server"

[[thread]]
name = "y1"
tenant = "y1"
program = "bench-yield"
period = "1s"
cost = "1ms"
priority = 5

[[thread]]
name = "y2"
tenant = "y2"
program = "bench-yield"
period = "1s"
cost = "1ms"
priority = 5

[[thread]]
name = "caller"
tenant = "caller"
program = "bench-call"
period = "1s"
cost = "1ms"
priority = 4

[[thread]]
name = "spawner"
tenant = "spawner"
program = "bench-spawn"
period = "1s"
cost = "1ms"
priority = 3

# Periodic work after the benchmarks, for the timer-to-user-mode figure.
[[thread]]
name = "tick"
tenant = "tick"
period = "1ms"
phase = "30ms"
cost = "100us"
priority = 1
'''


def run_boot(edgeos, name, out_name, text, accel, work, *flags):
    """Writes scenario `text` into `work` as NAME.toml and boots it into OUT_NAME (`accel` "tcg":
    TCG with -icount); returns the output directory and the kernel's console, or exits saying
    what failed."""
    path = os.path.join(work, f"{name}.toml")
    with open(path, "w") as f:
        f.write(text)
    out = os.path.join(work, out_name)
    args = [edgeos, "boot", path, "--out", out, "--quiet", *flags]
    args += ["--icount"] if accel == "tcg" else ["--accel", accel]
    r = subprocess.run(args, capture_output=True, text=True)
    if r.returncode != 0:
        sys.exit(f"boot_bench: edgeos boot of {name} failed:\n{r.stderr}")
    with open(os.path.join(out, "serial.log")) as f:
        return out, f.read()


def boot(edgeos, live, accel, work, cpus, trace="none"):
    """Boots the benchmark scenario once; returns the per-operation figures (see main) and the
    run's conditions: `accel` (what QEMU really used; "auto" may fall back to TCG),
    `wall_seconds` (host time of the QEMU run, from summary.json), `tsc_hz` and `out` (the
    output directory, with trace.csv when `trace` is "csv": the kernel's own record of every FWP
    created and activated). `accel` "tcg" means TCG with -icount."""
    memory = "2G" if live > 2000 else "512M"
    out, serial = run_boot(edgeos, f"bench-{live}", f"out-{live}", scenario(live, cpus), accel, work, "--trace", trace, "--memory", memory)
    found = {}
    for name, rounds, cycles in re.findall(r"\] bench (\S+) (\d+) (\d+)", serial):
        found.setdefault(name, (int(rounds), int(cycles)))  # the first report of each
    m = re.search(r"timer to user mode: (\d+) dispatches, mean (\d+), max (\d+)", serial)
    if m is None or len(found) < 5:
        sys.exit(f"boot_bench: missing results for {live} live FWPs:\n{serial}")
    per = {name: cycles / rounds for name, (rounds, cycles) in found.items() if rounds > 0}
    with open(os.path.join(out, "summary.json")) as f:
        summary = json.load(f)
    hz = re.search(r"time: TSC (\d+) Hz", serial)
    return {
        "accel": summary.get("accel", accel),
        "wall_seconds": summary.get("wall_seconds"),
        "tsc_hz": int(hz.group(1)) if hz else None,
        "out": out,
        "create": per.get("spawn-second"),
        "create_checkpoint": per.get("spawn-checkpoint"),
        # A copy's first access to its four checkpointed heap pages (copied then), over a call that
        # reads them again: the call's own cost cancels out.
        "first_access": (per["touch-first"] - per["touch-again"]) if "touch-first" in per and "touch-again" in per else None,
        "activate": per.get("spawn-first"),
        "switch": per["yield"] / 2,  # each round trip of the two yielding threads is two switches
        "call": per["call"],
        "null": per["null"],
        "timer": int(m.group(2)),
        "timer_max": int(m.group(3)),
        "spawned": (found["spawn-first"][0], found["spawn-second"][0]),
    }


GLOBAL = '''[scenario]
name = "boot-bench-global"
duration = "240ms"

[[server]]
cpus = 4
policy = "edf"
scheduling = "global"

[[tenant]]
name = "g"
''' + "".join(f'''
[[thread]]
name = "g{i}"
tenant = "g"
cpu = {cpu}
period = "{period}"
phase = "{phase}"
cost = "{cost}"
''' for i, (cpu, period, phase, cost) in enumerate([(3, "12ms", "300us", "4500us"), (1, "8ms", "0ms", "6400us"),
                                                   (2, "12ms", "300us", "6000us"), (2, "10ms", "0ms", "1600us"),
                                                   (2, "12ms", "0ms", "8800us"), (0, "20ms", "300us", "5800us")]))


def global_latencies(edgeos, accel, work):
    """Boots GLOBAL; returns {name: (count, mean, max)} for the timer-to-user, migration and
    remote-dispatch latencies the kernel reports at the run's end, and the trace's migrations."""
    out, serial = run_boot(edgeos, "global", "out-global", GLOBAL, accel, work)
    found = {}
    for name, pattern in (("timer", r"timer to user mode: (\d+) dispatches"),
                          ("migration", r"migration, decision to user mode on the new CPU: (\d+) migrations"),
                          ("remote", r"remote dispatch, decision to user mode: (\d+) dispatches decided on another CPU")):
        m = re.search(pattern + r", mean (\d+), max (\d+)", serial)
        if m is None:
            sys.exit(f"boot_bench: the global boot reported no {name} latency:\n{serial}")
        found[name] = tuple(int(x) for x in m.groups())
    with open(os.path.join(out, "trace.csv")) as f:
        found["traced_migrations"] = sum(1 for line in f if ",migrate," in line)
    return found


def linux(bench):
    if not os.path.exists(bench):
        return {}
    with tempfile.TemporaryDirectory() as work:
        out = os.path.join(work, "linux.json")
        r = subprocess.run([bench, "--benchmark_filter=Linux", "--benchmark_min_time=0.2", f"--benchmark_out={out}",
                            "--benchmark_out_format=json"], capture_output=True, text=True)
        if r.returncode != 0 or not os.path.exists(out):
            return {}
        with open(out) as f:
            runs = json.load(f)["benchmarks"]
    scale = {"ns": 1, "us": 1e3, "ms": 1e6, "s": 1e9}
    return {b["name"]: b["real_time"] * scale[b.get("time_unit", "ns")] for b in runs}  # ns


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--build", default=os.path.join(ROOT, "build"))
    ap.add_argument("--live", default="10,100,1000,10000", help="numbers of live FWPs, comma-separated")
    ap.add_argument("--accel", default="tcg", choices=["tcg", "kvm"])
    ap.add_argument("--cpus", type=int, default=1, help="CPUs of the machine (1-16; the benchmarks run on CPU 0)")
    a = ap.parse_args()
    if not 1 <= a.cpus <= 16:
        ap.error("--cpus: between 1 and 16")
    edgeos = os.path.join(a.build, "cli", "edgeos")
    unit = "guest instructions (TCG, -icount)" if a.accel == "tcg" else "TSC cycles (KVM)"
    rows = []
    with tempfile.TemporaryDirectory() as work:
        for live in [int(x) for x in a.live.split(",")]:
            print(f"booting with {live} live FWPs...", file=sys.stderr, flush=True)
            rows.append((live, boot(edgeos, live, a.accel, work, a.cpus)))
    print(f"\nedgeos kernel, {a.cpus} CPU{'s' if a.cpus > 1 else ''}, per operation, in {unit}:")
    print(f"{'live FWPs':>10} {'FWP create':>11} {'from checkpoint':>16} {'pool activate':>14} {'switch':>8} "
          f"{'call+reply':>11} {'timer->user':>12} {'null syscall':>13}")
    for live, r in rows:
        cp = r.get("create_checkpoint") or 0
        print(f"{live:>10} {r['create']:>11.0f} {cp:>16.0f} {r['activate']:>14.0f} {r['switch']:>8.0f} {r['call']:>11.0f} "
              f"{r['timer']:>12.0f} {r['null']:>13.0f}")
    print("(create/activate include the system call; each row's spawns: "
          + ", ".join(f"{live}: {r['spawned'][0]}+{r['spawned'][1]}" for live, r in rows) + ")")
    for live, r in rows:
        if r.get("first_access") is not None and r.get("create_checkpoint"):
            print(f"{live:>10} live: from a checkpoint of 16 KiB of heap, creation {r['create_checkpoint']:.0f} + first "
                  f"access to its 4 heap pages {r['first_access']:.0f} = {r['create_checkpoint'] + r['first_access']:.0f}")
    first, last = rows[0][1], rows[-1][1]
    print(f"flatness, {rows[-1][0]} vs {rows[0][0]} live FWPs: create x{last['create'] / first['create']:.2f}, "
          f"switch x{last['switch'] / first['switch']:.2f}, call+reply x{last['call'] / first['call']:.2f}")
    print(f"targets (issue 8): create <= 3000 instructions, call+reply <= 1000")

    with tempfile.TemporaryDirectory() as work:
        print("booting the global EDF set on 4 CPUs...", file=sys.stderr, flush=True)
        g = global_latencies(edgeos, a.accel, work)
    base = g["timer"][1]
    print(f"\nglobal EDF on 4 CPUs ({g['traced_migrations']} migrations traced), decision to user mode, in TSC cycles "
          f"of the emulated machine ({'shared by its 4 CPUs under -icount' if a.accel == 'tcg' else 'KVM'}):")
    for name, label in (("timer", "timer -> user (baseline)"), ("migration", "migration"), ("remote", "remote dispatch")):
        n, mean, mx = g[name]
        print(f"  {label:<26} {n:>6} times, mean {mean:>7}, max {mx:>7}, x{mean / base:.2f} of the baseline")

    l = linux(os.path.join(a.build, "bench", "edgeos_bench"))
    if l:
        print("\nLinux on this host, wall time per operation (Google Benchmark):")
        for name, ns in l.items():
            print(f"  {name:<32} {ns / 1000:10.1f} us")
        create = min(r["create"] for _, r in rows)
        for name, ns in l.items():
            print(f"  {name} / FWP create at 1 ns per instruction: x{ns / create:,.0f}")
    else:
        print("\n(Linux figures: build edgeos_bench first, make bench)")


if __name__ == "__main__":
    main()
