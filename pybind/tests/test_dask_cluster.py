"""Sweeps and batches on real Dask clusters equal the same work run here, byte for byte.

The reference is always computed independently, in this process: `edgeos sweep` without Dask (the
C++ sweep) for sweeps, and edgeos.simulate per scenario and seed for batches. The clusters are a
LocalCluster of worker processes (`--dask local:2`) and a dask-scheduler with two dask-worker
processes on 127.0.0.1, started here on free ports; one of those workers is killed (SIGKILL) in
the middle of a sweep. Every process and folder started here is removed, also on failure, and
every wait is bounded.
"""

import os
import pathlib
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

import pandas as pd
import pytest

import edgeos
from edgeos import sweeps
from conftest import EXAMPLES, run_cli

distributed = pytest.importorskip("dask.distributed")

# Small enough to be quick; simulations and both outcomes, so the comparisons mean something.
SWEEP = dict(tests=["rta", "edf-qpa", "sim-fp", "sim-edf"], u_from=0.6, u_to=1.0, u_step=0.2, sets=12, tasks=6, seed=3,
             period_min="10ms", period_max="100ms", horizon="500ms")
SWEEP_ARGS = ["--tests", "rta,edf-qpa,sim-fp,sim-edf", "--util", "0.6:1.0:0.2", "--sets", "12", "--tasks", "6",
              "--seed", "3", "--periods", "10ms:100ms", "--horizon", "500ms"]
# For the worker kill: 24 chunks of 2 sets of simulations, each a measurable time (~0.1 s on a quiet
# core, more on a loaded one; 2.7 s in all, sequentially).
SLOW = dict(tests=["sim-fp", "sim-edf"], u_from=0.7, u_to=0.9, u_step=0.1, sets=16, tasks=20, seed=11,
            period_min="1ms", period_max="1s", horizon="30s", granularity="1ms")

BAD = '[scenario]\nname = "bad"\nduration = "many"\n\n[[server]]\ncpus = 1\n'


def local_sweep_csv(cli, tmp, args):
    out = tmp / "reference.csv"
    code, _, err = run_cli(cli, "sweep", *args, "--out", out, "--quiet")
    assert code == 0, err
    return out.read_text()


def nontrivial(csv_text):
    df = pd.read_csv(pd.io.common.StringIO(csv_text))
    assert 0 < df["accepted"].sum() < df["sets"].sum()


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def dask_command(name):
    """dask-scheduler / dask-worker: Debian's executables, else the modules behind them."""
    exe = shutil.which(name) or (f"/usr/bin/{name}" if os.path.exists(f"/usr/bin/{name}") else None)
    if exe:
        return [exe]
    module = {"dask-scheduler": "distributed.cli.dask_scheduler", "dask-worker": "distributed.cli.dask_worker"}[name]
    return [sys.executable, "-m", module]


def stop(procs):
    for p in procs:
        if p.poll() is None:
            p.kill()
    for p in procs:
        try:
            p.wait(timeout=10)
        except subprocess.TimeoutExpired:
            pass


@pytest.fixture(scope="module")
def tcp_cluster():
    """A dask-scheduler and two dask-worker processes (no nanny: killing one kills the worker) on
    127.0.0.1; yields (address, {worker name: process}, folder)."""
    procs, logs = [], []
    folder = tempfile.mkdtemp(prefix="edgeos-dask-test-")
    # The workers import edgeos from where this process does (an absolute path: they run elsewhere).
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(edgeos.__file__).resolve().parents[1]))
    try:
        port = free_port()
        address = f"tcp://127.0.0.1:{port}"
        log = open(os.path.join(folder, "scheduler.log"), "w")
        logs.append(log)
        # Its HTTP server (there even with --no-dashboard) on a free port too.
        scheduler = [*dask_command("dask-scheduler"), "--host", "127.0.0.1", "--port", str(port), "--no-dashboard",
                     "--dashboard-address", "127.0.0.1:0", "--no-show"]
        procs.append(subprocess.Popen(scheduler, cwd=folder, stdout=log, stderr=log, env=env))
        workers = {}
        for name in ("w0", "w1"):
            wlog = open(os.path.join(folder, f"{name}.log"), "w")
            logs.append(wlog)
            worker = [*dask_command("dask-worker"), address, "--name", name, "--nthreads", "1", "--no-nanny",
                      "--no-dashboard", "--dashboard-address", "127.0.0.1:0", "--host", "127.0.0.1",
                      "--local-directory", os.path.join(folder, name), "--death-timeout", "60"]
            p = subprocess.Popen(worker, cwd=folder, stdout=wlog, stderr=wlog, env=env)
            procs.append(p)
            workers[name] = p
        try:
            with distributed.Client(address, timeout=30) as client:
                client.wait_for_workers(2, timeout=45)
        except Exception as e:  # say why, from the processes' own logs
            tails = {f: pathlib.Path(folder, f).read_text()[-1500:] for f in ("scheduler.log", "w0.log", "w1.log")}
            raise RuntimeError(f"the test cluster did not start: {e}\n{tails}") from e
        yield address, workers, folder
    finally:
        stop(procs)
        for f in logs:
            f.close()
        shutil.rmtree(folder, ignore_errors=True)


# --- sweeps --------------------------------------------------------------------------------------

def test_local_cluster_sweep_equals_local_sweep(cli, tmp_path):
    """`edgeos sweep --dask local:2` (two worker processes) writes the C++ sweep's bytes."""
    reference = local_sweep_csv(cli, tmp_path, SWEEP_ARGS)
    nontrivial(reference)
    out = tmp_path / "dask.csv"
    code, _, err = run_cli(cli, "sweep", *SWEEP_ARGS, "--dask", "local:2", "--out", out, "--quiet")
    assert code == 0, err
    assert out.read_text() == reference


def test_tcp_cluster_sweep_equals_local_sweep(cli, tmp_path, tcp_cluster):
    address, _, _ = tcp_cluster
    reference = local_sweep_csv(cli, tmp_path, SWEEP_ARGS)
    # The Python API with a client ...
    with distributed.Client(address, timeout=30) as client:
        df = edgeos.sweep(**SWEEP, client=client, chunk=5, progress=False)
        ran_on = {w["name"] for w in client.scheduler_info()["workers"].values()}
    assert sweeps.sweep_csv(df) == reference
    assert ran_on == {"w0", "w1"}
    # ... and the command line with the scheduler's address.
    out = tmp_path / "dask.csv"
    code, _, err = run_cli(cli, "sweep", *SWEEP_ARGS, "--dask", address, "--out", out, "--quiet")
    assert code == 0, err
    assert out.read_text() == reference


def test_no_scheduler_and_bad_spec_are_refused(cli, tmp_path):
    code, _, err = run_cli(cli, "sweep", *SWEEP_ARGS, "--dask", "nowhere", "--out", tmp_path / "x.csv", "--quiet")
    assert code == 2 and "--dask" in err and "tcp://HOST:8786" in err
    code, _, err = run_cli(cli, "sweep", *SWEEP_ARGS, "--dask", "local:0", "--out", tmp_path / "x.csv", "--quiet")
    assert code == 2 and "local:2" in err
    assert not (tmp_path / "x.csv").exists()


# --- batches -------------------------------------------------------------------------------------

def scenario_folder(root):
    """Two example scenarios (one replaying trace files next to it) and a malformed one."""
    d = root / "scenarios"
    d.mkdir()
    for name in ("edge-server.toml", "replay.toml"):
        shutil.copy(EXAMPLES / name, d / name)
    shutil.copytree(EXAMPLES / "traces", d / "traces")
    (d / "bad.toml").write_text(BAD)
    return d


def simulate_here(folder, name, seed, duration):
    """A scenario simulated directly, here, named as a batch names it (its summary says "file": NAME)."""
    scenario = edgeos.parse_scenario((folder / name).read_text(), name, str(folder))
    return edgeos.simulate(scenario, seed=seed, duration=duration)


def reference_rows(folder, seeds, duration):
    """What each good scenario gives when simulated directly, here."""
    rows = {}
    for name in ("edge-server.toml", "replay.toml"):
        for seed in seeds:
            r = simulate_here(folder, name, seed, duration)
            t = r.summary["total"]
            rows[(name, seed)] = (len(r), t["released"], t["completed"], t["deadline_misses"], r.summary_json)
    return rows


def check_batch(res, expected):
    assert list(res.table["scenario"]) == ["edge-server.toml"] * 2 + ["replay.toml"] * 2
    for row in res.table.itertuples(index=False):
        records, released, completed, misses, summary = expected[(row.scenario, row.seed)]
        assert (row.records, row.released, row.completed, row.deadline_misses) == (records, released, completed, misses)
        assert res.summaries[(row.scenario, str(row.seed))] == summary
    assert list(res.failures["scenario"]) == ["bad.toml", "bad.toml"]
    for msg in res.failures["message"]:
        assert msg.startswith("bad.toml:3:") and '"duration"' in msg and "many" in msg, msg


def test_batch_on_tcp_cluster_reports_the_bad_scenario_and_runs_the_rest(tmp_path, tcp_cluster):
    address, _, _ = tcp_cluster
    folder = scenario_folder(tmp_path)
    seeds, duration = [1, 2], "40ms"
    expected = reference_rows(folder, seeds, duration)
    tasks = sweeps.scenario_tasks([folder])
    assert [t.name for t in tasks] == ["bad.toml", "edge-server.toml", "replay.toml"]
    shutil.rmtree(folder)  # the tasks carry the scenarios and their traces: nothing is read from disk now
    tasks = [tasks[1], tasks[0], tasks[2]]
    local = sweeps.run_batch(tasks, seeds, duration=duration, progress=False)
    check_batch(local, expected)
    with distributed.Client(address, timeout=30) as client:
        dist = sweeps.run_batch(tasks, seeds, duration=duration, client=client, progress=False, traces=True)
    check_batch(dist, expected)
    assert dist.csv() == local.csv() and dist.failures_csv() == local.failures_csv()
    assert all(len(t) > 0 for t in dist.traces.values()) and len(dist.traces) == 4


def test_batch_command_on_local_cluster(cli, tmp_path):
    """`edgeos batch FOLDER --dask local:2`: the same files as without Dask; exit 1 naming the bad one."""
    folder = scenario_folder(tmp_path)
    outs = {}
    for how, extra in (("here", []), ("dask", ["--dask", "local:2"])):
        out = tmp_path / how
        code, _, err = run_cli(cli, "batch", folder, "--seeds", "1,2", "--duration", "40ms", "--out", out, "--quiet",
                               *extra)
        assert code == 1, err
        assert "failed: bad.toml (seed 1): bad.toml:3:" in err and "failed: bad.toml (seed 2)" in err
        outs[how] = out
    for name in ("batch.csv", "failures.csv", "runs/replay.toml/seed-2/summary.json"):
        assert (outs["here"] / name).read_bytes() == (outs["dask"] / name).read_bytes(), name
    table = pd.read_csv(outs["dask"] / "batch.csv")
    assert list(table["scenario"]) == ["edge-server.toml"] * 2 + ["replay.toml"] * 2
    summary = simulate_here(folder, "edge-server.toml", 2, "40ms").summary_json
    assert (outs["dask"] / "runs/edge-server.toml/seed-2/summary.json").read_text() == summary


# --- a worker killed in the middle of a sweep (last: the cluster keeps one worker) -----------------

def test_worker_killed_mid_sweep(tcp_cluster):
    address, workers, _ = tcp_cluster
    reference = sweeps.sweep_csv(edgeos.sweep(**SLOW, workers=1, chunk=3, progress=False))
    nontrivial(reference)
    killed = {}
    with distributed.Client(address, timeout=30) as client:
        assert len(client.scheduler_info()["workers"]) == 2

        def kill_after_first_result(done, failed, remaining):
            if killed or remaining == 0:
                return
            # The first result is back: kill a worker that is running (or holds) tasks right now.
            names = {a: w["name"] for a, w in client.scheduler_info()["workers"].items()}
            busy = {names[a]: keys for a, keys in client.processing().items() if keys and a in names}
            assert busy, "no worker holds a task although tasks remain"
            victim = sorted(busy)[0]
            os.kill(workers[victim].pid, signal.SIGKILL)
            killed.update(name=victim, tasks=len(busy[victim]), remaining=remaining)

        t0 = time.monotonic()
        df = edgeos.sweep(**SLOW, client=client, chunk=2, progress=False, on_progress=kill_after_first_result)
        elapsed = time.monotonic() - t0
        workers[killed["name"]].wait(timeout=10)
        deadline = time.monotonic() + 20
        while len(client.scheduler_info()["workers"]) != 1 and time.monotonic() < deadline:
            time.sleep(0.2)
        left = {w["name"] for w in client.scheduler_info()["workers"].values()}
    assert killed["tasks"] >= 1 and killed["remaining"] >= 1
    assert workers[killed["name"]].returncode == -signal.SIGKILL
    assert left == {"w0", "w1"} - {killed["name"]}
    assert sweeps.sweep_csv(df) == reference, f"after the kill ({elapsed:.1f} s)"


# --- retries and progress (in this process: the same code decides for a cluster) ------------------

def test_retries_bad_input_and_progress_without_tqdm(tmp_path, monkeypatch, capsys):
    from edgeos import cluster
    calls = {"flaky": 0}

    def task(kind):
        if kind == "flaky":  # fails once, then works: a retry makes it
            calls["flaky"] += 1
            if calls["flaky"] == 1:
                raise RuntimeError("transient")
            return "ok after a retry"
        if kind == "bad":  # bad input: reported, never retried
            calls["bad"] = calls.get("bad", 0) + 1
            raise edgeos.InputError("bad.toml:1:1: broken")
        if kind == "crash":
            raise KeyError("always")
        return kind

    monkeypatch.setitem(sys.modules, "tqdm", None)  # the plain stderr line
    seen = []
    tasks = [(k, (k,)) for k in ("a", "flaky", "bad", "crash", "b")]
    results, failures = cluster.run_tasks(task, tasks, retries=1, desc="t", on_progress=lambda *x: seen.append(x))
    assert results == {"a": "a", "flaky": "ok after a retry", "b": "b"}
    assert [(f.key, f.message) for f in failures] == [("bad", "bad.toml:1:1: broken"), ("crash", "KeyError: 'always'")]
    assert calls == {"flaky": 2, "bad": 1}
    assert seen == [(1, 0, 4), (2, 0, 3), (2, 1, 2), (2, 2, 1), (3, 2, 0)]
    assert "t: 3 done, 2 failed, 0 remaining of 5" in capsys.readouterr().err
    calls["flaky"] = 0
    _, failures = cluster.run_tasks(task, [("flaky", ("flaky",))], retries=0, progress=False)
    assert [(f.key, f.message) for f in failures] == [("flaky", "RuntimeError: transient")]
