"""The notebooks run headless (reduced size; EDGEOS_FULL=1 for full size) and save their figures."""

import os
import pathlib

import nbformat
import pytest
from nbclient import NotebookClient

from conftest import SOURCE_DIR

NOTEBOOKS = {
    "01-prototype-a-scheduler": ["01-gantt", "01-response-cdf"],
    "02-replay-iot-ar-traces": ["02-gantt", "02-response-cdf"],
    "03-schedulability": ["03-schedulability", "03-llf", "03-partitioned-vs-global"],
    # The paper's experiments at --quick size (boots the kernel and a Linux guest, starts containers).
    "04-the-edgeos-evaluation": ["04-startup", "04-density", "04-churn", "04-scaleout"],
}


@pytest.mark.parametrize("name", sorted(NOTEBOOKS))
def test_notebook_runs_and_saves_its_figures(name, tmp_path, monkeypatch):
    out = tmp_path / "out"
    monkeypatch.setenv("EDGEOS_NOTEBOOK_OUT", str(out))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(SOURCE_DIR / "notebooks" / f"{name}.ipynb", as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(tmp_path)}}).execute()
    for fig in NOTEBOOKS[name]:
        for ext in ("svg", "png"):
            f = out / f"{fig}.{ext}"
            assert f.exists() and f.stat().st_size > 1000, f
