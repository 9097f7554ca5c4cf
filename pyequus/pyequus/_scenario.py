"""Scenario runs from Python: one run in a fresh process (SimGrid allows one engine per process)."""

import dataclasses
import json
import os
import pathlib

import pandas as pd

from . import _runner


@dataclasses.dataclass
class ScenarioResult:
    """What a scenario run reports; `tables` holds its CSV outputs as DataFrames (empty without out_dir)."""

    name: str
    seed: int
    end_time: float
    incarnations_created: int
    records: dict
    migrations: int
    reconfigurations: int
    violations: list
    blocked: str
    out_dir: str
    files: list
    failures: list = dataclasses.field(default_factory=list)  # what the scenario asked for that failed
    errors: list = dataclasses.field(default_factory=list)  # op programs stopped on a bad computed value
    cleared: list = dataclasses.field(default_factory=list)  # an earlier run's files removed from out_dir
    end_reason: str = "finished"  # or "deadlock" (nothing could happen any more), or "duration"
    tables: dict = dataclasses.field(default_factory=dict)


def scenario_text(scenario):
    """The facade's scenario argument: a path made absolute, or JSON text (from a dict or a JSON string)."""
    if isinstance(scenario, dict):
        return json.dumps(scenario)
    if isinstance(scenario, os.PathLike):
        return str(pathlib.Path(scenario).resolve())
    if not isinstance(scenario, str):
        raise TypeError(f"scenario must be a path, a dict or a JSON string, not {type(scenario).__name__}")
    if scenario.lstrip().startswith("{"):
        return scenario
    return str(pathlib.Path(scenario).resolve())


def validate(text):
    """Raises ValueError (with the file and JSON pointer) if the scenario is bad: in this process, before
    any simulation process or cluster starts."""
    from . import _core

    _core.validate_scenario(text)


def _simulate(args):
    """Child side: one engine, one run; returns the result's fields as a dict."""
    from . import _core

    r = _core.run_scenario(**args)
    names = [f.name for f in dataclasses.fields(ScenarioResult) if f.name != "tables"]
    out = {name: getattr(r, name) for name in names}
    out["csv"] = dict(r.tables)
    return out


def run(scenario, overrides=None, seed=None, out_dir=None):
    args = {
        "scenario": scenario_text(scenario),
        "overrides": {str(k): str(v) for k, v in (overrides or {}).items()},
        "seed": None if seed is None else int(seed),
        "out_dir": None if out_dir is None else str(pathlib.Path(out_dir).resolve()),
    }
    fields = _runner.in_child(_simulate, args)
    tables = {name: pd.read_csv(path) for name, path in sorted(fields.pop("csv").items())}
    return ScenarioResult(**fields, tables=tables)
