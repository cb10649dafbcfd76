"""The trace reaches Python without a copy: DataFrame columns are views of the C++ records."""

import numpy as np
import pandas as pd
import pytest

import edgeos


@pytest.fixture(scope="module")
def result(examples):
    return edgeos.simulate(examples / "edge-server.toml", seed=1, duration="200ms")


def test_columns_share_the_records_memory(result):
    cols = result.columns
    df = result.trace
    base = cols["time_ns"]
    assert base.strides == (40,)  # one 40-byte record per row (core/trace.hpp)
    for name in ("time_ns", "cpu", "fwp", "thread", "job", "value"):
        assert np.shares_memory(df[name].to_numpy(), cols[name]), name
        assert cols[name].base is base.base, name  # all views of the one C++ buffer
    assert not cols["time_ns"].flags.writeable


def test_frame_types_and_values(result):
    df = result.trace
    assert list(df.columns) == edgeos.TRACE_COLUMNS
    assert isinstance(df["event"].dtype, pd.CategoricalDtype)
    assert list(df["event"].cat.categories) == edgeos.TRACE_EVENTS
    assert df["time_ns"].is_monotonic_increasing
    assert len(df) == result.stats["records"]
    # FWP life-cycle records have no CPU: -1, as in trace.csv.
    assert (df.loc[df["event"] == "fwp_create", "cpu"] == -1).all()



def test_response_times_match_release_and_completion_instants():
    # With no deadline miss every release is recorded at its nominal instant, so each
    # completion's value is its time minus its job's release record.
    ts = edgeos.TaskSet([edgeos.Task("a", wcet="1ms", period="5ms"), edgeos.Task("b", wcet="3ms", period="7ms"),
                         edgeos.Task("c", wcet="2ms", period="11ms", bcet="1ms")])
    df = edgeos.simulate(ts, policy="edf", duration="1s").trace
    assert (df["event"] == "deadline_miss").sum() == 0
    rel = df[df["event"] == "release"].set_index(["thread", "job"])["time_ns"]
    done = df[df["event"] == "complete"]
    joined = done.join(rel.rename("released"), on=["thread", "job"])
    assert len(joined) > 100
    assert ((joined["time_ns"] - joined["released"]) == joined["value"]).all()


def test_frame_outlives_the_result(examples):
    df = edgeos.simulate(examples / "kv-tenants.toml", seed=2, duration="50ms").trace
    import gc
    gc.collect()
    assert int(df["time_ns"].iloc[-1]) <= 50_000_000
    assert df["time_ns"].sum() > 0


def test_summary_is_a_dict(result):
    s = result.summary
    assert s["scenario"]["seed"] == 1
    tenants = {t["name"]: t for t in s["tenants"]}
    df = result.trace
    completes = df[df["event"] == "complete"]
    assert sum(t["completed"] for t in tenants.values()) == len(completes)


def test_perfetto_export_is_perfettos_protobuf(result, tmp_path, examples):
    # Checked with the command line tests' decoder of Perfetto's schema and its trace processor's
    # rules. Python's trace keeps the FWPs' creation at instantiation (records without a CPU, which
    # `edgeos sim`'s writer joins too late to see): they go to the FWP life cycle's track.
    import importlib.util
    spec = importlib.util.spec_from_file_location("cli_test", examples.parent / "tests" / "cli" / "cli_test.py")
    cli_test = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(cli_test)
    result.to_perfetto(tmp_path / "trace.perfetto-trace")
    tracks, events = cli_test.perfetto_check((tmp_path / "trace.perfetto-trace").read_bytes())
    names = {uuid: t[0] for uuid, t in tracks.items()}
    assert sorted(names.values()) == ["CPU 0", "CPU 1", "CPU 2", "CPU 3", "FWP life cycle", "edge-server"]
    lifecycle = [name for ts, track, kind, name in events if names[track] == "FWP life cycle"]
    df = result.trace
    assert len(lifecycle) == (df["cpu"] == -1).sum() > 0
    assert all(kind == 3 for ts, track, kind, name in events if names[track] == "FWP life cycle")
    import json
    result.to_perfetto(tmp_path / "t.json")
    json_slices = [e for e in json.loads((tmp_path / "t.json").read_text())["traceEvents"] if e.get("ph") == "X"]
    assert len(cli_test.proto_slices(events)) == len(json_slices) > 0
    with pytest.raises(ValueError, match="format"):
        result.to_perfetto(tmp_path / "x", format="svg")


def test_perfetto_export_is_chrome_trace_json(result, tmp_path):
    import json
    result.to_perfetto(tmp_path / "t.json")
    doc = json.loads((tmp_path / "t.json").read_text())
    events = doc["traceEvents"] if isinstance(doc, dict) else doc
    slices = [e for e in events if e.get("ph") == "X"]
    starts = (result.trace["event"].isin(["start", "resume"])).sum()
    assert 0 < len(slices) <= starts
