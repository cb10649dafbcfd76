"""The SimGrid backend from Python: it runs the edgeos command line in a process of its own (SimGrid
allows one simulation per process) and reads its outputs back into the same SimResult."""

import numpy as np

import edgeos


def test_without_network_the_simgrid_backend_gives_the_core_backends_trace(examples):
    # With no devices, nothing crosses a network: the backends must agree record for record
    # (the SimGrid backend's own equivalence tests check this from the command line).
    core = edgeos.simulate(examples / "kv-tenants.toml", seed=4, duration="300ms")
    sg = edgeos.simulate(examples / "kv-tenants.toml", seed=4, duration="300ms", backend="simgrid")
    assert len(sg) == len(core) > 100
    for name, column in core.columns.items():
        assert np.array_equal(sg.columns[name], column), name
    assert sg.summary["backend"] == "simgrid"
    assert "simgrid" in sg.summary and "simgrid" not in core.summary
    assert sg.names == core.names
    assert sg.end_ns == core.end_ns == 300_000_000


def test_devices_over_the_network_report_energy_and_links(examples):
    r = edgeos.simulate(examples / "edge-cluster.toml", duration="100ms", backend="simgrid")
    sg = r.summary["simgrid"]
    assert r.summary["complete"] is True
    assert len(sg["servers"]) == 8
    assert all(s["energy_j"] > 0 for s in sg["servers"])
    assert any(link["bytes"] > 0 for link in sg["links"])
    frame = r.trace
    assert (frame["event"] == "release").sum() > 0
    assert frame["time_ns"].max() < 100_000_000
