"""Sweeps spread over processes (or Dask) give the command line's sweep exactly."""

import pandas as pd
import pytest

import edgeos
from conftest import run_cli

PARAMS = dict(tests=["rta", "edf-qpa", "sim-fp", "sim-edf"], u_from=0.6, u_to=1.0, u_step=0.2, sets=12, tasks=6,
              seed=3, period_min="10ms", period_max="100ms", horizon="500ms")


@pytest.fixture(scope="module")
def cli_rows(cli, tmp_path_factory):
    out = tmp_path_factory.mktemp("sweep") / "sweep.csv"
    code, _, err = run_cli(cli, "sweep", "--tests", ",".join(PARAMS["tests"]), "--util", "0.6:1.0:0.2", "--sets", 12,
                           "--tasks", 6, "--seed", 3, "--periods", "10ms:100ms", "--horizon", "500ms", "--out", out,
                           "--quiet")
    assert code == 0, err
    return pd.read_csv(out)


def check(df, cli_rows):
    assert list(df.columns) == ["utilisation", "test", "accepted", "sets", "ratio"]
    assert len(df) == len(cli_rows) == 3 * 4
    assert df["test"].tolist() == cli_rows["test"].tolist()
    assert df["accepted"].tolist() == cli_rows["accepted"].tolist()
    assert df["sets"].tolist() == cli_rows["sets"].tolist()
    assert (abs(df["utilisation"] - cli_rows["utilisation"]) < 1e-9).all()
    # Not all-or-nothing: the comparison means something.
    assert 0 < df["accepted"].sum() < df["sets"].sum()


def test_process_pool_sweep_equals_cli(cli_rows):
    check(edgeos.sweep(**PARAMS, workers=2, chunk=5, progress=False), cli_rows)


def test_in_process_sweep_equals_cli(cli_rows):
    check(edgeos.sweep(**PARAMS, workers=1, chunk=7, progress=False), cli_rows)


def test_dask_sweep_equals_cli(cli_rows):
    distributed = pytest.importorskip("dask.distributed")
    with distributed.Client(processes=False, n_workers=1, threads_per_worker=2, dashboard_address=None) as client:
        check(edgeos.sweep(**PARAMS, client=client, chunk=4, progress=False), cli_rows)
