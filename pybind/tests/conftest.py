"""Shared fixtures. ctest sets EDGEOS_CLI (the edgeos binary) and EDGEOS_SOURCE_DIR; PYTHONPATH
points at the package in the build tree."""

import os
import pathlib
import subprocess

import pytest

SOURCE_DIR = pathlib.Path(os.environ.get("EDGEOS_SOURCE_DIR", pathlib.Path(__file__).resolve().parents[2]))
EXAMPLES = SOURCE_DIR / "examples"


@pytest.fixture(scope="session")
def cli():
    path = os.environ.get("EDGEOS_CLI")
    if not path or not os.path.exists(path):
        pytest.skip("EDGEOS_CLI is not set (run through ctest)")
    return path


@pytest.fixture(scope="session")
def examples():
    return EXAMPLES


def run_cli(cli_path, *args):
    """Runs the edgeos command line; returns (exit code, stdout, stderr)."""
    p = subprocess.run([cli_path, *map(str, args)], capture_output=True, text=True, timeout=600)
    return p.returncode, p.stdout, p.stderr
