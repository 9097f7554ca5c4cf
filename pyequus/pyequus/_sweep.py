"""Sweeps on Dask: a grid of parameter values (and seeds), one simulation process per point, validated
before any cluster starts, with a progress bar and a manifest per run."""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import tempfile
import time
from typing import Any, Callable, Iterable, Mapping, Sequence

import pandas as pd

from . import _manifest, _runner, _scenario


def grid_points(grid: Mapping[str, Iterable[Any]]) -> list[dict[str, Any]]:
    """Every combination of the grid's values, as a list of {name: value} (names in the grid's order)."""
    names = list(grid)
    for name in names:
        if isinstance(grid[name], (str, bytes)) or not hasattr(grid[name], "__iter__"):
            raise ValueError(f"grid[{name!r}] must be a list of values")
    return [dict(zip(names, values)) for values in itertools.product(*(list(grid[n]) for n in names))]


def validate_overrides(points: Iterable[Mapping[str, Any]]) -> None:
    """Raises ValueError naming the first bad parameter or value, in this process and before any cluster
    starts (a mistyped name used to cost a cluster's start-up)."""
    for point in points:
        _scenario.overrides_text(point)


@contextlib.contextmanager
def client_or_local(client):
    """The given Dask client, else a LocalCluster of one worker in this process with a thread per core.

    Threads, not worker processes: each task only waits on its own simulation process, and Dask starts
    worker processes with multiprocessing's spawn, which re-imports the caller's __main__ (an unguarded
    script ran again in every worker; a script on standard input could not start one at all)."""
    if client is not None:
        yield client
        return
    from dask.distributed import Client, LocalCluster

    threads = max(2, os.cpu_count() or 1)
    with LocalCluster(n_workers=1, threads_per_worker=threads, processes=False, dashboard_address=None) as cluster, \
            Client(cluster) as own:
        yield own


def _progress_bar(total: int, what: str):
    """A tqdm bar if tqdm is installed (Debian's python3-tqdm), else None: progress is a comfort, not a
    dependency."""
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    try:
        import ipywidgets  # noqa: F401 - tqdm.auto's notebook bar needs it, and warns in a notebook without

        from tqdm.auto import tqdm
    except ImportError:
        pass  # the text bar, in a notebook too
    return tqdm(total=total, desc=what, unit="run")


def gather(client, fn: Callable, tasks: Sequence[Any], progress: bool, what: str) -> list:
    """Maps fn over tasks on the client; the results in the tasks' order, with a progress bar when asked."""
    from dask.distributed import as_completed

    futures = client.map(fn, tasks, pure=False)
    bar = _progress_bar(len(futures), what) if progress else None
    if bar is not None:
        with bar:
            for _ in as_completed(futures):
                bar.update(1)
    return client.gather(futures)


def measures(out_dir: str) -> dict[str, float]:
    """What a sweep row reports of a run's outputs: kernel messages, and the mean time of the Equus calls
    made (weighted by count), overall and of the migrations."""
    with open(os.path.join(out_dir, "results.json"), encoding="utf-8") as f:
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


def scenario_task(args: dict) -> dict:
    """Dask task: one scenario run in its own process; its summary, measures, start and wall time."""
    started = time.time()
    with tempfile.TemporaryDirectory(prefix="equus-sweep-") as out:
        fields = _runner.in_child(_scenario._simulate, {**args, "out_dir": out})
        fields.pop("csv", None)
        fields.update(measures(out))
        fields["out_dir"] = ""
        fields["files"] = []
    fields["started"] = started
    fields["wall_s"] = time.time() - started
    return fields


def sweep_scenario(scenario: _scenario.Scenario, grid: Mapping[str, Iterable[Any]] | None = None,
                   seeds: Iterable[int | None] = (None,), client: Any = None, progress: bool = True) -> pd.DataFrame:
    """Runs `scenario` at every point of `grid` ({param: [values]}) for every seed; one row per run with
    the grid's columns, the seed, the run's summary, its measures (kernel_messages, calls, mean_call_ms,
    mean_migration_ms) and its manifest as JSON (scenario hash, overrides, seed, version, commit, wall
    time). The same grid gives the same rows whatever the number of workers. The grid, the seeds and the
    scenario are checked here (ValueError naming the parameter or JSON pointer) before any cluster starts.
    client: a dask.distributed.Client (default: a LocalCluster in this process, a thread per core, each
    run in its own process); progress: a bar if tqdm is installed."""
    points = grid_points(grid or {})
    overrides = [_scenario.overrides_text(point) for point in points]
    seeds = [_scenario.seed_value(seed) for seed in seeds]
    text = _scenario.scenario_text(scenario)
    _scenario.validate(text)
    digest = _manifest.scenario_sha256(text)
    tasks, keys = [], []
    for point, point_overrides in zip(points, overrides):
        for seed in seeds:
            tasks.append({"scenario": text, "overrides": point_overrides, "seed": seed})
            keys.append(point)
    results = []
    if tasks:
        with client_or_local(client) as c:
            results = gather(c, scenario_task, tasks, progress, "scenario runs")
    rows = []
    for point, task, fields in zip(keys, tasks, results):
        row = dict(point)
        manifest = _manifest.manifest(digest, task["overrides"], fields["seed"], fields.pop("wall_s"),
                                      fields.pop("started"))
        row.update({k: v for k, v in fields.items() if not isinstance(v, (dict, list))})
        row["violations"] = len(fields["violations"])
        row["manifest"] = json.dumps(manifest, sort_keys=True)
        rows.append(row)
    return pd.DataFrame(rows)
