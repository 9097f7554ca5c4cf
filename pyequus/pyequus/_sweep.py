"""Sweeps on Dask: a grid of parameter values (and seeds), one simulation process per point, validated
before any cluster starts, with a progress bar and a manifest per run."""

import contextlib
import hashlib
import itertools
import json
import os
import tempfile
import time

import pandas as pd

from . import _runner, _scenario


def grid_points(grid):
    """Every combination of the grid's values, as a list of {name: value} (names in the grid's order)."""
    names = list(grid)
    for name in names:
        if isinstance(grid[name], (str, bytes)) or not hasattr(grid[name], "__iter__"):
            raise ValueError(f"grid[{name!r}] must be a list of values")
    return [dict(zip(names, values)) for values in itertools.product(*(list(grid[n]) for n in names))]


def validate_overrides(points):
    """Raises ValueError naming the first bad parameter or value, in this process and before any cluster
    starts (a mistyped name used to cost a cluster's start-up)."""
    from . import _core

    for point in points:
        _core.model_params({str(k): str(v) for k, v in point.items()})


@contextlib.contextmanager
def client_or_local(client):
    """The given Dask client, else a LocalCluster of 2 single-threaded worker processes."""
    if client is not None:
        yield client
        return
    import dask
    from dask.distributed import Client, LocalCluster

    with dask.config.set({"distributed.worker.daemon": False}), \
            LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
            Client(cluster) as own:
        yield own


def gather(client, fn, tasks, progress, what):
    """Maps fn over tasks on the client, in order, with a progress bar (tqdm) when asked."""
    from dask.distributed import as_completed

    futures = client.map(fn, tasks, pure=False)
    if progress:
        from tqdm.auto import tqdm

        with tqdm(total=len(futures), desc=what, unit="run") as bar:
            for _ in as_completed(futures):
                bar.update(1)
    return client.gather(futures)


def measures(out_dir):
    """What a sweep row reports of a run's outputs: kernel messages, and the mean time of the Equus calls
    made (weighted by count), overall and of the migrations."""
    with open(os.path.join(out_dir, "results.json")) as f:
        results = json.load(f)
    calls = results["calls"]
    count = sum(c["count"] for c in calls)
    migrations = results["migrations"]
    return {
        "kernel_messages": results["messages"]["count"],
        "calls": count,
        "mean_call_ms": sum(c["mean_ms"] * c["count"] for c in calls) / count if count else float("nan"),
        "mean_migration_ms": (sum(m["elapsed_ms"] for m in migrations) / len(migrations)
                              if migrations else float("nan")),
    }


def scenario_task(args):
    """Dask task: one scenario run in its own process; its summary, measures and manifest."""
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="equus-sweep-") as out:
        fields = _runner.in_child(_scenario._simulate, {**args["run"], "out_dir": out})
        fields.pop("csv", None)
        fields.update(measures(out))
        fields["out_dir"] = ""
        fields["files"] = []
    from ._version import __commit__, __version__

    fields["manifest"] = {
        "scenario_sha256": args["scenario_sha256"],
        "overrides": args["run"]["overrides"],
        "seed": fields["seed"],
        "version": __version__,
        "commit": __commit__,
        "wall_s": time.time() - started,
    }
    return fields


def sweep_scenario(scenario, grid=None, seeds=(None,), client=None, progress=True):
    """Runs `scenario` at every point of `grid` ({param: [values]}) for every seed; one row per run with
    the grid's columns, the seed, the run's summary, its measures (kernel_messages, calls, mean_call_ms,
    mean_migration_ms) and its manifest (scenario hash, overrides, seed, version, commit, wall time). The
    same grid gives the same rows whatever the number of workers."""
    points = grid_points(grid or {})
    validate_overrides(points)
    text = _scenario.scenario_text(scenario)
    _scenario.validate(text)
    digest = hashlib.sha256((text if text.lstrip().startswith("{") else open(text, "rb").read().decode())
                            .encode()).hexdigest()
    tasks, keys = [], []
    for point in points:
        for seed in seeds:
            run = {"scenario": text, "overrides": {str(k): str(v) for k, v in point.items()},
                   "seed": None if seed is None else int(seed), "out_dir": None}
            tasks.append({"run": run, "scenario_sha256": digest})
            keys.append((point, seed))
    with client_or_local(client) as c:
        results = gather(c, scenario_task, tasks, progress, "scenario runs")
    rows = []
    for (point, _), fields in zip(keys, results):
        row = dict(point)
        manifest = fields.pop("manifest")
        row.update({k: v for k, v in fields.items() if not isinstance(v, (dict, list))})
        row["violations"] = len(fields["violations"])
        row["manifest"] = json.dumps(manifest, sort_keys=True)
        rows.append(row)
    return pd.DataFrame(rows)
