"""`python -m edgeos figures` writes every figure with its CSV and a manifest; twice gives the
same bytes."""

import hashlib
import json
import os
import subprocess
import sys

FIGS = ["gantt", "schedulability", "latency-vs-load"]


def make(out):
    p = subprocess.run([sys.executable, "-m", "edgeos", "figures", "--quick", "--out", str(out), "--only", *FIGS],
                       capture_output=True, text=True, timeout=600, env=dict(os.environ, MPLBACKEND="Agg"))
    assert p.returncode == 0, p.stderr


def test_figures_are_reproducible(tmp_path):
    a, b = tmp_path / "a", tmp_path / "b"
    make(a)
    make(b)
    files = sorted(os.listdir(a))
    assert files == sorted(os.listdir(b))
    for name in FIGS:
        for ext in ("svg", "png", "csv"):
            assert f"{name}.{ext}" in files
    for f in files:
        data = (a / f).read_bytes()
        assert len(data) > 100, f
        if f.endswith((".csv", ".svg", ".json")):
            assert data == (b / f).read_bytes(), f
    manifest = json.loads((a / "manifest.json").read_text())
    assert set(manifest["figures"]) == set(FIGS)
    assert manifest["versions"]["matplotlib"]
    for name, entry in manifest["figures"].items():
        for f, digest in entry["files"].items():
            assert hashlib.sha256((a / f).read_bytes()).hexdigest() == digest, f
    assert not [f for f in files if f.startswith(".")]  # no temporary file left behind


def test_unknown_figure_is_an_error(tmp_path):
    p = subprocess.run([sys.executable, "-m", "edgeos", "figures", "--out", str(tmp_path), "--only", "nope"],
                       capture_output=True, text=True, timeout=120)
    assert p.returncode == 2
    assert "unknown figure 'nope'" in p.stderr
