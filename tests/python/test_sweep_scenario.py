"""Scenario sweeps: a grid x seeds on Dask gives the same rows whatever the number of workers, each with
its manifest; a mistyped parameter fails at once, before any cluster starts."""

import json
import pathlib
import sys
import time

import pytest

import pyequus
from pyequus import _manifest, _sweep

SCENARIO = pathlib.Path(__file__).resolve().parents[2] / "scenarios" / "printer_server.json"
GRID = {"m68030.context_switch": [100, 400], "vme.transaction_latency": [1, 10]}


def _client(workers):
    from dask.distributed import Client, LocalCluster
    import dask

    dask.config.set({"distributed.worker.daemon": False})
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True, dashboard_address=None)
    return cluster, Client(cluster)


def test_a_grid_by_seeds_gives_the_same_rows_on_one_or_two_workers(capsys):
    frames = []
    for workers in (1, 2):
        cluster, client = _client(workers)
        try:
            frames.append(pyequus.sweep_scenario(SCENARIO, GRID, seeds=[1, 2], client=client,
                                                 progress=workers == 2))
        finally:
            client.close()
            cluster.close()
    one, two = frames
    assert "scenario runs" in capsys.readouterr().err  # tqdm's bar (Debian's python3-tqdm)
    # Everything but the wall times is the same, the manifests included.
    assert one.drop(columns="manifest").equals(two.drop(columns="manifest"))
    timeless = [{k: v for k, v in json.loads(m).items() if k not in ("wall_s", "started")} for m in one["manifest"]]
    assert timeless == [{k: v for k, v in json.loads(m).items() if k not in ("wall_s", "started")}
                        for m in two["manifest"]]
    assert len(one) == 8
    assert list(one.columns[:2]) == list(GRID)
    results = ["end_time", "incarnations_created", "migrations", "reconfigurations", "violations", "seed",
               "kernel_messages", "calls", "mean_call_ms"]
    assert one[list(GRID) + results].equals(two[list(GRID) + results])
    assert one["seed"].tolist() == [1, 2] * 4
    assert one["mean_call_ms"].nunique() > 1  # the parameters change the run
    slow = one[(one["m68030.context_switch"] == 400) & (one["vme.transaction_latency"] == 10)]
    fast = one[(one["m68030.context_switch"] == 100) & (one["vme.transaction_latency"] == 1)]
    assert (slow["mean_call_ms"].values > fast["mean_call_ms"].values).all()
    manifest = json.loads(one["manifest"][3])
    assert manifest["overrides"] == {"m68030.context_switch": "100", "vme.transaction_latency": "10"}
    assert manifest["seed"] == 2
    assert manifest["version"] == pyequus.__version__
    assert manifest["scenario_sha256"] == _manifest.scenario_sha256(str(SCENARIO))
    assert manifest["commit"] == _manifest.commit() and manifest["wall_s"] > 0


def test_a_mistyped_parameter_fails_before_any_cluster_starts():
    # A cluster's start alone takes seconds (the mistyped parameter failed after 24 s).
    start = time.monotonic()
    with pytest.raises(ValueError, match="kernel.no_such_param"):
        pyequus.sweep_scenario(SCENARIO, {"m68030.context_switch": [100], "kernel.no_such_param": [1, 2]})
    with pytest.raises(ValueError, match="m68030.context_switch"):
        pyequus.sweep_scenario(SCENARIO, {"m68030.context_switch": [100, "fast"]})
    with pytest.raises(ValueError, match="seed"):
        pyequus.sweep_scenario(SCENARIO, GRID, seeds=[1, -2])
    with pytest.raises(ValueError, match="kernel.no_such_param"):
        pyequus.sweep("kernel.no_such_param", [1, 2], only=["8.1"])
    assert time.monotonic() - start < 5


def test_no_progress_bar_without_tqdm(monkeypatch):
    monkeypatch.setitem(sys.modules, "tqdm", None)  # import tqdm raises ImportError
    monkeypatch.setitem(sys.modules, "tqdm.auto", None)
    assert _sweep._progress_bar(3, "runs") is None


def test_a_bad_scenario_fails_before_any_cluster_starts():
    with pytest.raises(ValueError, match="/rdcs"):
        pyequus.sweep_scenario({"name": "x", "modules": {}, "rdcs": 3}, {"m68030.context_switch": [1]}, progress=False)
