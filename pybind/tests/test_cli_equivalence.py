"""Python and the edgeos command line give the same trace and summary for the same scenario and
seed. The command line is an independent path: it streams records through its own CSV writer and
summary builder, and here its files are parsed by pandas/json, not by edgeos."""

import json

import numpy as np
import pandas as pd
import pytest

import edgeos
from conftest import run_cli

CASES = [
    ("edge-server.toml", 3, "300ms"),
    ("kv-tenants.toml", 11, "200ms"),
    ("fp-servers.toml", 5, "500ms"),
    ("replay.toml", 2, "300ms"),
]


@pytest.mark.parametrize("name,seed,duration", CASES)
def test_scenario_matches_cli(cli, examples, tmp_path, name, seed, duration):
    path = examples / name
    code, _, err = run_cli(cli, "sim", path, "--seed", seed, "--duration", duration, "--out", tmp_path,
                           "--trace", "csv", "--quiet")
    assert code == 0, err
    res = edgeos.simulate(path, seed=seed, duration=duration)

    expected = pd.read_csv(tmp_path / "trace.csv")
    assert list(expected.columns) == edgeos.TRACE_COLUMNS
    got = res.trace
    assert len(got) == len(expected) > 100
    for col in edgeos.TRACE_COLUMNS:
        if col == "event":
            assert (got[col].astype(str).to_numpy() == expected[col].to_numpy()).all()
        else:
            np.testing.assert_array_equal(got[col].to_numpy(dtype=np.int64), expected[col].to_numpy(dtype=np.int64))

    with open(tmp_path / "summary.json") as f:
        assert res.summary == json.load(f)

    # The CSV the package writes is the command line's, byte for byte.
    res.to_csv(tmp_path / "py.csv")
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "trace.csv").read_bytes()


def test_seed_changes_trace_and_same_seed_repeats(examples):
    path = examples / "kv-tenants.toml"
    a = edgeos.simulate(path, seed=1, duration="100ms")
    b = edgeos.simulate(path, seed=1, duration="100ms")
    c = edgeos.simulate(path, seed=2, duration="100ms")
    assert a.trace.equals(b.trace)
    assert not (len(a) == len(c) and a.trace.equals(c.trace))


def test_policy_override_matches_cli_after_editing_the_file(cli, examples, tmp_path):
    # policy="fp" on a scenario equals the command line on the same file with every server set
    # to FP (the edit is made here, on the text).
    src = (examples / "fp-servers.toml").read_text()
    assert 'policy = "fp"' in src
    edited = tmp_path / "edf.toml"
    edited.write_text(src.replace('policy = "fp"', 'policy = "edf"'))
    code, _, err = run_cli(cli, "sim", edited, "--seed", 4, "--duration", "300ms", "--out", tmp_path,
                           "--trace", "csv", "--quiet")
    assert code == 0, err
    res = edgeos.simulate(examples / "fp-servers.toml", policy="edf", seed=4, duration="300ms")
    res.to_csv(tmp_path / "py.csv")
    assert (tmp_path / "py.csv").read_bytes() == (tmp_path / "trace.csv").read_bytes()


def test_task_set_csv_round_trip(tmp_path):
    ts = edgeos.TaskSet([edgeos.Task("a", wcet="1ms", period="4ms", priority=2),
                         edgeos.Task("b", wcet="2ms", period="6ms", priority=1),
                         edgeos.Task("c", wcet="1ms", period="12ms", priority=0)])
    ts.write_csv(str(tmp_path / "set.csv"))
    back = edgeos.read_task_set_csv(str(tmp_path / "set.csv"))
    assert [(t.name, t.wcet, t.period, t.priority) for t in back.tasks] == \
           [(t.name, t.wcet, t.period, t.priority) for t in ts.tasks]
