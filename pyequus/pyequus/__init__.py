"""equus-sim from Python: reproduce the dissertation's figures as pandas DataFrames, run scenarios, sweep
either on Dask.

Each simulation runs in its own process, ``python -m pyequus._child`` (SimGrid allows one engine per
process), which never re-imports the caller's ``__main__``: scripts with or without a main guard, standard
input, ``-c``, notebooks and Dask workers all work.
"""

import pandas as pd

from . import _runner, _scenario, _sweep
from ._runner import COLUMNS
from ._scenario import ScenarioResult
from ._version import __commit__, __version__

__all__ = ["COLUMNS", "ScenarioResult", "__version__", "known_tables", "params", "reproduce", "run", "run_scenario",
           "sweep", "sweep_scenario"]


def params(overrides=None):
    """Every model parameter as a DataFrame (name, value, unit, value_si, provenance, description), with
    `overrides` applied ({"m68030.context_switch": 120}); a bad name or value raises ValueError."""
    from . import _core

    rows = _core.model_params({str(k): str(v) for k, v in (overrides or {}).items()})
    return pd.DataFrame(rows, columns=["name", "value", "unit", "value_si", "provenance", "description"])


sweep_scenario = _sweep.sweep_scenario


def run(scenario, overrides=None, seed=None, out=None):
    """Runs a scenario and returns its ScenarioResult: the summary, `tables` (one DataFrame per output
    table: incarnations, calls, records, node_load, messages, migrations with their phases and freeze
    times, reconfigurations with forwarded counts), and `files` (results.json, the Perfetto trace, the
    configuration graphs). `out`: where the outputs go (default: a fresh temporary directory, so that the
    tables are always there). Same arguments otherwise as run_scenario()."""
    import tempfile

    return run_scenario(scenario, overrides, seed, out if out is not None else tempfile.mkdtemp(prefix="equus-run-"))


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
    if param not in _runner.OPTION_NAMES:
        _sweep.validate_overrides([{**(overrides or {}), param: v} for v in values])  # before any cluster
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
