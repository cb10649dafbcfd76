"""`python -m edgeos paper --quick`: every figure and CSV, a complete manifest, the documented
columns, and counts checked independently of the code that wrote them: the samples against the
repetitions asked for, the kernel's own trace against what its bench program reports."""

import hashlib
import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time

import pandas as pd
import pytest

from edgeos import paper


@pytest.fixture(scope="module")
def quick(tmp_path_factory):
    out = tmp_path_factory.mktemp("paper")
    if not os.environ.get("EDGEOS_CLI"):
        pytest.skip("EDGEOS_CLI is not set (run through ctest)")
    build = pathlib.Path(os.environ["EDGEOS_CLI"]).resolve().parents[1]  # build/cli/edgeos
    if not (build / "kernel_backend" / "edgeos-kernel.elf").exists() or not (build / "bench" / "linux_spawn").exists():
        pytest.skip("the kernel image or bench/linux_spawn is not built")
    if not os.path.exists(paper.BUSYBOX):
        pytest.skip(f"{paper.BUSYBOX} is missing (Debian's busybox-static)")
    t0 = time.monotonic()
    p = subprocess.run([sys.executable, "-m", "edgeos", "paper", "--quick", "--out", str(out)], capture_output=True,
                       text=True, timeout=300, env=dict(os.environ, MPLBACKEND="Agg"))
    assert p.returncode == 0, p.stderr
    assert time.monotonic() - t0 < 240, "the quick run must stay small (about a minute here)"
    assert "[startup]" in p.stderr  # progress lines
    return out, json.loads((out / "manifest.json").read_text())


def test_every_file_and_a_complete_manifest(quick):
    out, m = quick
    for key in ("command", "git_commit", "versions", "machine", "size", "experiments"):
        assert m[key], key
    assert m["size"] == "quick" and "--quick" in m["command"]
    assert m["machine"]["cpu_model"] and m["machine"]["cores"] >= 1
    for tool in ("python", "numpy", "pandas", "matplotlib", "qemu", "busybox", "runc", "crun"):
        assert m["versions"][tool], tool
    e = m["experiments"]["startup"]
    assert e["status"] == "done"
    assert isinstance(e["kvm_used"], bool) and e["seeds"] and e["inputs"] and e["commands"] and e["claims"]
    assert any("linux_spawn" in c for c in e["commands"]) and any(" boot " in c for c in e["commands"])
    for f in ("startup.svg", "startup.png", "startup.csv", "startup_samples.csv", "startup_fwp_events.csv"):
        assert f in e["files"], f
        data = (out / f).read_bytes()
        assert len(data) > 100, f
        assert hashlib.sha256(data).hexdigest() == e["files"][f], f
    assert e["figures"] == ["startup"]
    report = (out / "REPORT.md").read_text()
    assert "170x faster than a Linux process" in report and "10^5x" in report
    assert "not comparable as wall time" in report
    svg = (out / "startup.svg").read_text()
    assert "guest-ns" in svg and "icount" in svg and "host ns" in svg  # units on the figure itself
    assert not [f for f in os.listdir(out) if f.startswith(".")]


def test_columns_as_documented(quick):
    out, _ = quick
    df = pd.read_csv(out / "startup.csv")
    assert list(df.columns) == paper.STARTUP_COLUMNS
    documented = set()  # the first column of the module's documentation table ("median, p99" is two)
    for line in paper.__doc__.split("column         meaning")[1].split("\n=")[1].splitlines()[1:]:
        if line[:15].strip():
            documented.update(name.strip() for name in line[:15].split(","))
    assert documented == set(paper.STARTUP_COLUMNS)
    assert list(pd.read_csv(out / "startup_samples.csv").columns) == paper.SAMPLE_COLUMNS
    assert list(pd.read_csv(out / "startup_fwp_events.csv").columns) == paper.EVENT_COLUMNS
    assert set(df["unit"]) <= {"guest_ns_icount", "host_ns", "host_ns_bound", "tsc_cycles"}
    assert set(df["status"]) <= {"ok", "failed", "not_run"}
    failed = df[df["status"] != "ok"]
    assert failed["note"].notna().all()  # a series that could not run says why


def test_counts_equal_the_repetitions_requested(quick):
    out, m = quick
    inputs = m["experiments"]["startup"]["inputs"]
    df = pd.read_csv(out / "startup.csv")
    samples = pd.read_csv(out / "startup_samples.csv")
    linux = df[df["side"] == "linux"]
    assert len(linux) == 4 and (linux["status"] == "ok").all()
    containers = df[(df["side"] == "container") & (df["status"] == "ok")]
    if os.geteuid() == 0:
        assert len(containers) >= 1  # as root, at least one runtime runs here
    for _, row in pd.concat([linux, containers]).iterrows():
        want = inputs["linux_reps"] if row["side"] == "linux" else inputs["container_reps"]
        mine = samples[samples["series"] == row["series"]]
        assert row["requested"] == want
        assert len(mine) == want, row["series"]                     # one sample per repetition
        assert sorted(mine["rep"]) == list(range(want))
        assert row["n"] == (mine["status"] == 0).sum() == want
        ns = mine["ns"].to_numpy()
        assert row["median"] == pytest.approx(float(pd.Series(ns).median()), rel=1e-5)
        assert row["min"] <= row["median"] <= row["p99"] <= row["max"]


def test_density_every_tenant_answered_and_memory_from_every_side(quick):
    """The density experiment: on each side (edgeos, Linux under the same QEMU, Linux on the host)
    every tenant answered the client's own values (checked by the client against what it stored),
    and the memory figures come from independent sources: the kernel's report for edgeos, /proc's
    PSS for Linux, read inside the guest and on the host (the processes are gone now, so bounds are
    checked)."""
    out, m = quick
    e = m["experiments"]["density"]
    assert e["status"] == "done" and e["figures"] == ["density", "density_load"]
    df = pd.read_csv(out / "density.csv")
    assert list(df.columns) == paper.DENSITY_COLUMNS
    tenants = e["inputs"]["tenants"]
    assert sorted(df["tenants"].unique()) == sorted(tenants)
    assert set(df["side"]) == set(paper.DENSITY_SIDES)
    for side in paper.DENSITY_SIDES:
        rows = df[df["side"] == side]
        assert len(rows) == len(tenants)
        for _, r in rows.iterrows():
            assert r["status"] == "ok", r["note"]
            assert r["answered"] == r["tenants"]
            assert 0 < r["get_rtt_median_us"] <= r["get_rtt_p99_us"]
    edgeos = df[df["side"] == "edgeos"]
    # A stack (16 KiB) and its rings at least; under EdgeOS's 256 KiB a tenant.
    assert ((edgeos["memory_kib_per_tenant"] >= 16) & (edgeos["memory_kib_per_tenant"] < 256)).all()
    assert (edgeos["memory_system_kib_per_tenant"] == edgeos["memory_kib_per_tenant"]).all()
    linux = df[df["side"] != "edgeos"]
    assert (linux["memory_kib_per_tenant"] > 100).all()  # a memcached process is more
    guest = df[df["side"] == "linux_qemu"]
    assert (guest["memory_system_kib_per_tenant"] > 100).all()  # the guest's MemAvailable fell by the tenants
    assert "linux_qemu" in e["inputs"] and any("-initrd" in c and "virtio-net-pci" in c for c in e["commands"])
    assert (df[df["side"] != "linux_native"]["rtt_unit"] == "host_us_tcg").all()  # emulated: said in the data
    claims = {c["claim"]: c for c in e["claims"]}
    assert "Linux under the same QEMU" in claims["1000x lower latency than Linux processes"]["measured"]


def test_density_under_load_the_same_requests_everywhere(quick):
    """The density experiment under open-loop load: edgeos replay sent each system the same requests,
    as many as the simulator releases for the same scenario and seed; every one was answered, and
    rightly (the replayer checks each get against the last set), so the get hits are the same on
    all three systems."""
    out, m = quick
    e = m["experiments"]["density"]
    assert "density_load" in e["figures"]
    both = pd.read_csv(out / "density_load.csv")
    assert list(both.columns) == paper.DENSITY_LOAD_COLUMNS
    assert set(both["side"]) == set(paper.DENSITY_SIDES) | {"simulated"}
    assert (both["status"] == "ok").all(), both["note"].tolist()
    df, sim = both[both["side"] != "simulated"], both[both["side"] == "simulated"]
    # The simulator got the same arrivals: as many requests; at this light load a job takes the
    # kernel's measured request path plus the overheads its release pays before it runs (a release
    # and a scheduling decision), as edgeos validate fitted them to the booted kernel; with them the
    # simulator's per-job response times matched the kernel's within a microsecond on average.
    assert sorted(sim["requests"]) == sorted(df[df["side"] == "edgeos"]["requests"])
    assert (sim["lost"] == 0).all()
    fit = e["inputs"]["load_validate"]
    o = fit["overheads_ns"]
    assert fit["jobs_compared"] > 100 and o["schedule"] > 0
    assert abs(fit["kernel_minus_sim_mean_ns_after"]) < 1000 < abs(fit["kernel_minus_sim_mean_ns_before"])
    assert fit["sim_option"] == "--overheads " + ",".join(
        f"{o[k]}ns" for k in ("release", "schedule", "switch", "timer", "invocation", "migration"))
    expected_us = (e["inputs"]["load_simulated_cost_ns"] + o["release"] + o["schedule"] + o["switch"]) / 1e3
    assert all(v == pytest.approx(expected_us, abs=0.002) for v in sim["p50_us"]), (sim["p50_us"].tolist(), expected_us)
    assert (df["replies"] == df["requests"]).all() and (df["lost"] == 0).all() and (df["wrong_answers"] == 0).all()
    for (n, rate), g in df.groupby(["tenants", "rate_per_s"]):
        assert g["requests"].nunique() == 1 and g["get_hits"].nunique() == 1 and g["get_misses"].nunique() == 1
        with tempfile.TemporaryDirectory() as tmp:
            path = os.path.join(tmp, "load.toml")
            with open(path, "w") as f:
                f.write(paper.density_load_scenario(int(n), float(rate), e["inputs"]["load_seconds"]))
            r = subprocess.run([os.environ["EDGEOS_CLI"], "sim", path, "--quiet", "--trace", "none", "--out", tmp + "/o"],
                               capture_output=True, text=True)
            assert r.returncode == 0, r.stderr
            released = sum(t["released"] for t in json.load(open(tmp + "/o/summary.json"))["threads"]
                           if t["name"].startswith("memcached"))
        assert int(g["requests"].iloc[0]) == released
    assert (df["p50_us"] <= df["p99_us"]).all() and (df["p99_us"] <= df["p999_us"]).all() and (df["p999_us"] <= df["max_us"]).all()


def test_churn_every_client_had_its_own_fwp(quick):
    """The churn experiment: every client read back its own value (all under one key: one shared
    store would answer the last value to all), and the kernel's own counts agree with the client's:
    an FWP made per client (and one for the warm-up request), the recycled ones the made ones not
    live at the end."""
    out, m = quick
    e = m["experiments"]["churn"]
    assert e["status"] == "done" and e["figures"] == ["churn"]
    df = pd.read_csv(out / "churn.csv")
    assert list(df.columns) == paper.CHURN_COLUMNS
    booted, sim = df[df["side"] == "edgeos"], df[df["side"] == "simulated"]
    assert sorted(booted["rate_flows_per_s"]) == sorted(e["inputs"]["rates_flows_per_s"])
    assert sorted(sim["rate_flows_per_s"]) == sorted(e["inputs"]["simulated_rates_flows_per_s"])
    assert len(booted) + len(sim) == len(df)
    for _, r in booted.iterrows():
        assert r["status"] == "ok", r["note"]
        assert r["flows"] == r["rate_flows_per_s"] * e["inputs"]["seconds_per_rate"]
        assert r["answered"] == r["flows"]
        assert r["fwps_made"] == r["flows"] + 1
        assert r["fwps_recycled"] == r["fwps_made"] - r["fwps_live"]
        assert 16 <= r["kib_per_fwp"] < 256
        assert 0 < r["first_rtt_median_us"] <= r["first_rtt_p99_us"] and 0 < r["warm_rtt_median_us"] <= r["warm_rtt_p99_us"]
    assert (booted["rtt_unit"] == "host_us_tcg").all()
    # The simulated side: the same scenario with the kernel's measured costs. Light load: every
    # client made one FWP and its second request, 1 ms later, found it; the first request's median
    # is the request plus the creation (no queueing), the second's the request alone.
    request_us, create_us = e["inputs"]["request_ns"] / 1e3, e["inputs"]["create_ns"] / 1e3
    assert 1 < request_us < 100 and 0.1 < create_us < 100
    light = sim.sort_values("rate_flows_per_s").iloc[0]
    assert light["status"] == "ok" and light["fwps_refused"] == 0 and light["requests_dropped"] == 0
    assert light["fwps_made"] == light["flows"]
    assert 0 <= light["flows"] - light["answered"] <= 2  # only clients whose second request falls past the end
    assert light["fwps_recycled"] == light["fwps_made"] - light["fwps_live"]
    assert light["first_rtt_median_us"] == pytest.approx(request_us + create_us, abs=0.01)
    assert light["warm_rtt_median_us"] == pytest.approx(request_us, abs=0.01)
    mean = light["rate_flows_per_s"] * e["inputs"]["simulated_seconds_per_rate"]
    assert abs(light["flows"] - mean) < 5 * mean ** 0.5 + 2                       # Poisson clients
    again = paper._churn_sim_point(paper.churn_sim_scenario(light["rate_flows_per_s"],
                                                            e["inputs"]["simulated_seconds_per_rate"],
                                                            e["inputs"]["request_ns"], e["inputs"]["create_ns"]))
    assert again["fwps_made"] == light["fwps_made"] and again["flows"] == light["flows"]  # deterministic


def test_scaleout_against_the_network_model_and_a_rerun(quick):
    """The scale-out prediction: its costs are the kernel's measured path (every request answered,
    the parts summing to the cost used), the lightest point's median round trip is the platform's
    route computed here by hand (latencies plus size over bandwidth, no queueing), the CPU time is
    the requests' costs, the request counts are Poisson's, and a point run again is the same."""
    out, m = quick
    e = m["experiments"]["scaleout"]
    assert e["status"] == "done" and e["figures"] == ["scaleout"]
    inputs = e["inputs"]
    df = pd.read_csv(out / "scaleout.csv")
    costs = pd.read_csv(out / "scaleout_costs.csv")
    assert list(df.columns) == paper.SCALEOUT_COLUMNS
    assert list(costs.columns) == paper.SCALEOUT_COST_COLUMNS
    assert (costs["answered"] == costs["requests"]).all()
    assert sorted(costs["part"].unique()) == sorted(paper.NET_PARTS)
    top = costs[costs["tenants"] == max(inputs["measured_tenants"])]
    assert top["guest_instructions"].sum() == inputs["cost_ns"] and (df["cost_ns"] == inputs["cost_ns"]).all()
    assert 1000 < inputs["cost_ns"] < 100000
    seconds = float(inputs["duration"].rstrip("ms")) / 1e3
    cost_us = inputs["cost_ns"] / 1e3
    # examples/platforms/edge-10gbe.xml: access 100 Mbps + 1 ms, uplink 100 us, server link 5 us, both ways.
    route_us = 2 * (1000 + 100 + 5) + (64 + 1100) * 8 / 100e6 * 1e6
    assert sorted(zip(df["tenants"], df["rate_per_tenant"])) == sorted(
        (n, r) for n in inputs["tenants"] for r in inputs["rates_per_tenant"])
    for _, r in df.iterrows():
        mean = r["tenants"] * r["rate_per_tenant"] * seconds
        assert abs(r["requests"] - mean) < 5 * mean ** 0.5 + 2, r.to_dict()      # Poisson counts
        assert r["answered"] <= r["requests"] and r["deadline_misses"] == 0
        assert r["server_p50_us"] >= cost_us - 1e-3 and r["server_p99_us"] >= r["server_p50_us"]
        assert r["e2e_p50_us"] >= route_us + cost_us - 0.01
        busy = r["cpu_utilisation"] * paper.SCALEOUT_CPUS * seconds * 1e6
        assert busy == pytest.approx(r["requests"] * cost_us, rel=0.05)            # CPU time is the costs
    light = df.sort_values(["tenants", "rate_per_tenant"]).iloc[0]
    assert light["e2e_p50_us"] == pytest.approx(route_us + cost_us, abs=0.5)
    assert light["server_p99_us"] == pytest.approx(cost_us, abs=1e-3)
    platform = (paper.examples_dir() / "platforms" / "edge-10gbe.xml").read_text()
    text = paper.scaleout_scenario(int(light["tenants"]), float(light["rate_per_tenant"]), inputs["cost_ns"],
                                   inputs["duration"])
    again = paper._scaleout_point(text, platform)
    for k, v in again.items():
        assert v == pytest.approx(light[k], rel=1e-5), k                          # deterministic


def test_a_rerun_writes_the_deterministic_rows_byte_for_byte(quick, tmp_path):
    """make paper run again: the simulated lines and the -icount instruction counts (the rows named
    by DETERMINISTIC_ROWS) are the same bytes; the host-time rows may differ."""
    out, _ = quick
    p = subprocess.run([sys.executable, "-m", "edgeos", "paper", "--quick", "--out", str(tmp_path)],
                       capture_output=True, text=True, timeout=300, env=dict(os.environ, MPLBACKEND="Agg"))
    assert p.returncode == 0, p.stderr
    for name, select in paper.DETERMINISTIC_ROWS.items():
        first, again = paper.deterministic_lines(out / name), paper.deterministic_lines(tmp_path / name)
        assert len(first) > 1, f"{name}: no deterministic row to compare"
        assert first == again, name
        if select is not None:  # the selection is a part of the file, not all of it
            assert len(first) < len((out / name).read_text().splitlines()), name


def test_kernel_counts_equal_what_the_bench_program_reports(quick):
    out, _ = quick
    df = pd.read_csv(out / "startup.csv")
    ev = pd.read_csv(out / "startup_fwp_events.csv")
    live = df["live_fwps"].dropna().min()
    rows = df[(df["live_fwps"] == live) & (df["status"] == "ok")].set_index("series")
    # Counted here from the trace alone, by time: the kernel instantiates the scenario at guest
    # time 0 (the bench template's pool of 201 FWPs among it); bench-spawn runs later. Its
    # creations are the template's fwp_create events after time 0; each is followed by its
    # activation, and the pool activations are the template's other activations after time 0.
    creates = ev[ev["event"] == "fwp_create"]
    templates = set(creates[creates["time_ns"] > 0]["value"])
    assert len(templates) == 1  # only bench-spawn creates FWPs after boot
    template = templates.pop()
    assert (creates[creates["value"] == template]["time_ns"] == 0).sum() == 201  # its pool (boot_bench.scenario)
    later = ev[(ev["time_ns"] > 0) & (ev["value"] == template)]
    # bench-spawn's third round (creations from a checkpoint) follows its marker: not counted here.
    marks = ev[ev["event"] == "marker"]["time_ns"]
    if len(marks) > 0:
        later = later[later["time_ns"] < marks.min()]
    created = int((later["event"] == "fwp_create").sum())
    from_pool = int((later["event"] == "fwp_activate").sum()) - created
    assert rows.loc["edgeos_create_icount", "n"] == created == rows.loc["edgeos_create_icount", "kernel_count"]
    assert rows.loc["edgeos_activate_icount", "n"] == from_pool == rows.loc["edgeos_activate_icount", "kernel_count"]
    assert created == 200 and from_pool == 200  # bench-spawn's rounds (kernel_backend/fwp/programs.cpp)
    # Every boot (two in the quick run, the second with 1,000 idle FWPs of another template).
    icount = df[df["unit"] == "guest_ns_icount"]
    assert len(icount) == 2 * len(m_inputs(out)["live_fwps"])
    assert (icount["n"] == icount["kernel_count"]).all() and (icount["n"] == 200).all()
    bound = rows.loc["edgeos_host_bound"]
    assert bound["n"] == len(creates) and bound["mean"] > 0


def m_inputs(out):
    return json.loads((out / "manifest.json").read_text())["experiments"]["startup"]["inputs"]


def test_interrupted_run_keeps_completed_experiments(tmp_path, monkeypatch):
    def first(run):
        run.csv(pd.DataFrame({"x": [1]}), "first")
        run.claim("c", "m", "r", "k")

    def second(run):
        raise KeyboardInterrupt

    def third(run):
        raise AssertionError("must not run after an interrupt")

    table = {n: paper.Experiment(n, n, fn) for n, fn in (("first", first), ("second", second), ("third", third))}
    monkeypatch.setattr(paper, "EXPERIMENTS", table)
    monkeypatch.setattr(paper, "tool_versions", lambda: {"python": "x"})
    with pytest.raises(KeyboardInterrupt):
        paper.generate(tmp_path, quick=True, progress=False, command="test")
    m = json.loads((tmp_path / "manifest.json").read_text())
    assert [(n, e["status"]) for n, e in m["experiments"].items()] == [("first", "done"), ("second", "missing"),
                                                                      ("third", "missing")]
    assert (tmp_path / "first.csv").exists()
    report = (tmp_path / "REPORT.md").read_text()
    assert "interrupted" in report and "| first | done |" in report


def test_failed_experiment_is_reported_and_the_next_runs(tmp_path, monkeypatch):
    def broken(run):
        raise paper.ExperimentError("no such runtime here")

    def fine(run):
        run.note("ran")

    table = {n: paper.Experiment(n, n, fn) for n, fn in (("broken", broken), ("fine", fine))}
    monkeypatch.setattr(paper, "EXPERIMENTS", table)
    monkeypatch.setattr(paper, "tool_versions", lambda: {"python": "x"})
    m = paper.generate(tmp_path, quick=True, progress=False, command="test")
    assert m["experiments"]["broken"]["status"] == "failed"
    assert m["experiments"]["broken"]["reason"] == "no such runtime here"
    assert m["experiments"]["fine"]["status"] == "done"


def test_unknown_experiment_is_an_error(tmp_path):
    p = subprocess.run([sys.executable, "-m", "edgeos", "paper", "--out", str(tmp_path), "--only", "nope"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "unknown experiment 'nope'" in p.stderr


def test_kernel_boots_on_a_dask_cluster_equal_the_boots_here():
    """The startup experiment's boots as run.map points: on a LocalCluster of 2 worker processes,
    the same guest-instruction figures and the same kernel FWP events as one after the other here
    (QEMU -icount is deterministic; only the host wall time may differ)."""
    pytest.importorskip("dask.distributed")
    from edgeos import cluster
    if not os.environ.get("EDGEOS_CLI"):
        pytest.skip("EDGEOS_CLI is not set (run through ctest)")
    tools = paper.Tools.find()
    if not (tools.build_dir / "kernel_backend" / "edgeos-kernel.elf").exists():
        pytest.skip("the kernel image is not built")
    bench = paper._bench_module(tools, "boot_bench")
    source = (tools.source_dir / "bench" / "boot_bench.py").read_text()
    points = [(f"live={n}", (source, bench.scenario(n), n, "tcg")) for n in (10, 1000)]
    here = paper.Run("startup", True, tools, show_progress=False).map(paper._boot_point, points, "boots")
    with cluster.connect("local:2") as client:
        there = paper.Run("startup", True, tools, show_progress=False, client=client).map(paper._boot_point, points,
                                                                                         "boots")
    for a, b in zip(here, there):
        ra, rb = ({k: v for k, v in x["result"].items() if k != "wall_seconds"} for x in (a, b))
        assert ra == rb
        assert ra["spawned"] == (200, 200) and ra["create"] > 0
        pd.testing.assert_frame_equal(a["events"], b["events"])
        assert paper.kernel_counts(b["events"])["create"] == ra["spawned"][1]
    # A point that cannot run is named with its reason, as an ExperimentError (the experiment fails, the next runs).
    bad = [("live=bad", (source, "not a scenario", 10, "tcg"))]
    with pytest.raises(paper.ExperimentError, match="live=bad"):
        paper.Run("startup", True, tools, show_progress=False).map(paper._boot_point, bad, "boots")
