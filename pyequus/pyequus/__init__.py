"""equus-sim from Python: reproduce the dissertation's figures as pandas DataFrames, run scenarios, sweep
either on Dask.

Each simulation runs in its own process, ``python -m pyequus._child`` (SimGrid allows one engine per
process), which never re-imports the caller's ``__main__``: scripts with or without a main guard, standard
input, ``-c``, notebooks and Dask workers all work.
"""

from __future__ import annotations

import os
from typing import Any, Iterable, Mapping, Sequence

import pandas as pd

from . import _runner, _scenario, _sweep
from ._manifest import __commit__, __version__  # noqa: F401 - the commit the package was built from
from ._runner import COLUMNS
from ._scenario import Results, Scenario, ScenarioResult

__all__ = ["COLUMNS", "Results", "ScenarioResult", "__version__", "known_tables", "params", "reproduce", "run",
           "run_scenario", "sweep", "sweep_scenario"]

Overrides = Mapping[str, Any]  # {"m68030.context_switch": 120, ...}: values in each data file's unit


def params(overrides: Overrides | None = None) -> pd.DataFrame:
    """Every model parameter as a DataFrame (name, value, unit, value_si, provenance, description), with
    `overrides` applied ({"m68030.context_switch": 120}); a bad name or value raises ValueError."""
    from . import _core

    rows = _core.model_params({str(k): str(v) for k, v in (overrides or {}).items()})
    return pd.DataFrame(rows, columns=["name", "value", "unit", "value_si", "provenance", "description"])


sweep_scenario = _sweep.sweep_scenario


def run(scenario: Scenario, overrides: Overrides | None = None, seed: int | None = None,
        out: str | os.PathLike[str] | None = None) -> Results:
    """Runs a scenario and returns its Results: the summary's fields, `tables` (a DataFrame per CSV table
    the run wrote: incarnations, calls, records, node_load, messages, migrations with their phases and
    freeze times, reconfigurations with forwarded counts, and any other), `summary` (results.json),
    `end_reason`, `trace` and `graphs` (paths), `manifest`. `out`: where the outputs go; by default a
    temporary directory that lives as long as the Results. Same arguments otherwise as run_scenario()."""
    return _scenario.run(scenario, overrides, seed, out, keep_temporary=True)


def known_tables() -> list[str]:
    """Names of the tables reproduce() knows, in print order."""
    from . import _core

    return list(_core.known_tables())


def reproduce(only: str | Sequence[str] | None = None, overrides: Overrides | None = None, experiments: int = 10,
              calls_scale: float = 1.0, seed: int = 1, jobs: int = 0) -> pd.DataFrame:
    """Runs the Appendix A experiments and returns one row per figure cell.

    only: table names (e.g. ["A.1"]; default all); overrides: {"m68030.trap_us": "120", ...};
    experiments: repeats per cell; calls_scale: scales per-experiment call counts; seed; jobs: worker
    processes (0 = cores). Columns: COLUMNS; rel_error = simulated/published - 1 (NaN without a published
    figure). Raises ValueError on bad input (unknown table, bad override).
    """
    opts = _runner.options(only, overrides, experiments, calls_scale, seed, jobs)
    return _runner.to_frame(_runner.run_json(opts))


def run_scenario(scenario: Scenario, overrides: Overrides | None = None, seed: int | None = None,
                 out_dir: str | os.PathLike[str] | None = None) -> Results:
    """Validates and runs a scenario; returns its Results.

    scenario: a path to a scenario JSON file, a dict, or JSON text; overrides: model parameters over the
    scenario's own ({"m68030.context_switch": "120", ...}, in each file's unit); seed: replaces the
    scenario's; out_dir: where results (JSON, CSV), trace, graphs and the manifest are written (None:
    nothing written, and no tables). Raises ValueError on a bad scenario (naming the JSON pointer),
    override or seed, in this process and before any simulation process starts.
    """
    return _scenario.run(scenario, overrides, seed, out_dir)


def sweep(param: str, values: Iterable[Any], only: str | Sequence[str] | None = None,
          overrides: Overrides | None = None, experiments: int = 10, calls_scale: float = 1.0, seed: int = 1,
          jobs: int = 0, client: Any = None, progress: bool = True) -> pd.DataFrame:
    """Runs reproduce() once per value of `param` on Dask and concatenates the results.

    param: an override key ("m68030.trap_us") or one of experiments/calls_scale/seed/jobs. The result has
    a leading column named `param`. client: a dask.distributed.Client; default a LocalCluster in this
    process with a thread per core (each run is a separate process). progress: a progress bar if tqdm is
    installed.
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

    texts = []
    if tasks:
        with _sweep.client_or_local(client) as c:
            texts = _sweep.gather(c, _runner.sweep_task, tasks, progress, "reproductions")

    frames = []
    for value, text in zip(values, texts):
        df = _runner.to_frame(text)
        df.insert(0, param, value)
        frames.append(df)
    if not frames:
        return pd.DataFrame(columns=[param] + COLUMNS)
    return pd.concat(frames, ignore_index=True)
