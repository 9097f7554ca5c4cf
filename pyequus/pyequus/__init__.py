"""equus-sim from Python: reproduce the dissertation's figures as pandas DataFrames, sweep them on Dask, run
scenarios.

Each simulation runs in its own spawned process (SimGrid allows one engine per process), so scripts that
call these functions need the usual ``if __name__ == "__main__":`` guard.
"""

import pandas as pd

from . import _runner, _scenario
from ._runner import COLUMNS
from ._scenario import ScenarioResult

__all__ = ["COLUMNS", "ScenarioResult", "known_tables", "reproduce", "run_scenario", "sweep"]


def known_tables():
    """Names of the tables reproduce() knows, in print order."""
    from . import _core

    return list(_core.known_tables())


def reproduce(only=None, overrides=None, experiments=10, calls_scale=1.0, seed=1, jobs=0):
    """Runs the Appendix A experiments and returns one row per figure cell.

    only: table names (e.g. ["A.1"]; default all); overrides: {"m68030.trap_us": "120", ...};
    experiments: repeats per cell; calls_scale: scales per-experiment call counts; seed; jobs: worker
    processes (0 = cores). Columns: COLUMNS; rel_error = simulated/published - 1 (NaN without a published
    figure). Raises ValueError on bad input (unknown table, bad override).
    """
    opts = _runner.options(only, overrides, experiments, calls_scale, seed, jobs)
    return _runner.to_frame(_runner.run_json(opts))


def run_scenario(scenario, overrides=None, seed=None, out_dir=None):
    """Validates and runs a scenario; returns a ScenarioResult.

    scenario: a path to a scenario JSON file, a dict, or JSON text; overrides: model parameters over the
    scenario's own ({"m68030.context_switch": "120", ...}, in each file's unit); seed: replaces the
    scenario's; out_dir: where results (JSON, CSV), trace and graphs are written (None: nothing written,
    and no tables). The result's `tables` are the CSVs as DataFrames ("records", "messages", ...). Raises
    ValueError on a bad scenario or override, before anything runs.
    """
    return _scenario.run(scenario, overrides, seed, out_dir)


def sweep(param, values, only=None, overrides=None, experiments=10, calls_scale=1.0, seed=1, jobs=0,
          client=None):
    """Runs reproduce() once per value of `param` on Dask and concatenates the results.

    param: an override key ("m68030.trap_us") or one of experiments/calls_scale/seed/jobs. The result has
    a leading column named `param`. client: a dask.distributed.Client; default a LocalCluster of 2
    single-threaded worker processes. Each run is a separate process.
    """
    if param in COLUMNS:
        raise ValueError(f"sweep parameter {param!r} clashes with a result column")
    values = list(values)
    tasks = []
    for value in values:
        kwargs = dict(only=only, overrides=dict(overrides or {}), experiments=experiments,
                      calls_scale=calls_scale, seed=seed, jobs=jobs)
        if param in _runner.OPTION_NAMES:
            kwargs[param] = value
        else:
            kwargs["overrides"][param] = value
        tasks.append(_runner.options(**kwargs))

    if client is not None:
        texts = client.gather(client.map(_runner.sweep_task, tasks, pure=False))
    else:
        import dask
        from dask.distributed import Client, LocalCluster

        with dask.config.set({"distributed.worker.daemon": False}), \
                LocalCluster(n_workers=2, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as own_client:
            texts = own_client.gather(own_client.map(_runner.sweep_task, tasks, pure=False))

    frames = []
    for value, text in zip(values, texts):
        df = _runner.to_frame(text)
        df.insert(0, param, value)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=[param] + COLUMNS)
    return pd.concat(frames, ignore_index=True)
