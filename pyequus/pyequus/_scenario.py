"""Scenario runs from Python: one run in a fresh process (SimGrid allows one engine per process)."""

from __future__ import annotations

import dataclasses
import json
import operator
import os
import pathlib
import tempfile
import time
from typing import Any, Mapping, Union

import pandas as pd

from . import _manifest, _runner

Scenario = Union[str, os.PathLike[str], Mapping[str, Any]]  # a path, JSON text or a dict

MANIFEST = "manifest.json"


@dataclasses.dataclass(eq=False)  # DataFrames have no truth value: compare results by their fields
class Results:
    """What a scenario run reports.

    The summary's fields (name, seed, end_time, end_reason, counts, violations, failures, ...); `tables`:
    every CSV table the run wrote as a DataFrame, by name ("incarnations", "calls", "migrations",
    "reconfigurations", ...; also `results["migrations"]`), empty when nothing was written; `summary`: the
    run's results.json; `trace` and `graphs`: the paths of the Perfetto trace and the DOT files; `files`:
    everything written; `manifest`: scenario hash, overrides, seed, version, commit and wall time (also
    written as manifest.json beside the outputs).

    A run into a temporary directory (`pyequus.run` without `out`) keeps it as long as this object lives.
    """

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
    tables: dict[str, pd.DataFrame] = dataclasses.field(default_factory=dict)
    summary: dict[str, Any] = dataclasses.field(default_factory=dict)
    manifest: dict[str, Any] = dataclasses.field(default_factory=dict)
    trace: str | None = None
    graphs: list[str] = dataclasses.field(default_factory=list)
    _tmp: Any = dataclasses.field(default=None, repr=False)  # the TemporaryDirectory the outputs live in

    def __getitem__(self, table: str) -> pd.DataFrame:
        return self.tables[table]

    def __getstate__(self):
        # A pickled copy must not delete the directory when it dies; the tables travel with it.
        state = dict(self.__dict__)
        state["_tmp"] = None
        return state


ScenarioResult = Results  # its earlier name


def scenario_text(scenario: Scenario) -> str:
    """The facade's scenario argument: a path made absolute, or JSON text (from a dict or a JSON string)."""
    if isinstance(scenario, Mapping):
        return json.dumps(scenario)
    if isinstance(scenario, os.PathLike):
        return str(pathlib.Path(scenario).resolve())
    if not isinstance(scenario, str):
        raise TypeError(f"scenario must be a path, a dict or a JSON string, not {type(scenario).__name__}")
    if scenario.lstrip().startswith("{"):
        return scenario
    return str(pathlib.Path(scenario).resolve())


def validate(text: str) -> None:
    """Raises ValueError (with the file and JSON pointer) if the scenario is bad: in this process, before
    any simulation process or cluster starts."""
    from . import _core

    _core.validate_scenario(text)


def overrides_text(overrides: Mapping[str, Any] | None) -> dict[str, str]:
    """Overrides as the facade takes them, checked here (ValueError naming the parameter) rather than in a
    child process."""
    from . import _core

    text = {str(k): str(v) for k, v in (overrides or {}).items()}
    _core.model_params(text)
    return text


def seed_value(seed: Any) -> int | None:
    if seed is None:
        return None
    try:
        value = operator.index(seed)  # an int or a NumPy integer, not a float or a bool
    except TypeError:
        value = None
    if value is None or isinstance(seed, bool) or not 0 <= value < 2**64:
        raise ValueError(f"seed must be an integer in [0, 2^64), not {seed!r}")
    return value


def _simulate(args):
    """Child side: one engine, one run; returns the result's fields as a dict."""
    from . import _core

    r = _core.run_scenario(**args)
    out = {name: getattr(r, name) for name in _FIELDS}
    out["csv"] = dict(r.tables)
    return out


# The fields the facade reports (the rest of Results is filled in here from its files).
_FIELDS = ("name", "seed", "end_time", "incarnations_created", "records", "migrations", "reconfigurations",
           "violations", "blocked", "out_dir", "files", "failures", "errors", "cleared", "end_reason")


def read_table(path: str) -> pd.DataFrame:
    """A CSV table as written (docs/outputs.md): numeric columns numeric, each number the double that was
    written (pandas' default float parser may be off by an ulp), an empty field NaN (None), and no other
    text taken for a missing value (a name such as "NA" stays a name)."""
    if os.path.getsize(path) == 0:
        return pd.DataFrame()
    return pd.read_csv(path, keep_default_na=False, na_values=[""], float_precision="round_trip")


def run(scenario: Scenario, overrides=None, seed=None, out_dir=None, keep_temporary=False) -> Results:
    """One run (see pyequus.run_scenario). keep_temporary: out_dir None means a temporary directory that the
    Results keeps alive, rather than no outputs at all."""
    text = scenario_text(scenario)
    validate(text)  # a bad scenario, override or seed raises here, before any process starts
    overrides = overrides_text(overrides)
    seed = seed_value(seed)
    tmp = None
    if out_dir is None and keep_temporary:
        tmp = tempfile.TemporaryDirectory(prefix="equus-run-")
        out_dir = tmp.name
    if out_dir is not None:
        out_dir = str(pathlib.Path(out_dir).resolve())
        stale = pathlib.Path(out_dir, MANIFEST)
        stale_manifest = stale.is_file()
        if stale_manifest:
            stale.unlink()  # an earlier run's manifest must not pass for this one's
    args = {"scenario": text, "overrides": overrides, "seed": seed, "out_dir": out_dir}
    started = time.time()
    fields = _runner.in_child(_simulate, args)
    manifest = _manifest.manifest(_manifest.scenario_sha256(text), overrides, fields["seed"],
                                  time.time() - started, started)
    tables = {name: read_table(path) for name, path in sorted(fields.pop("csv").items())}
    r = Results(**fields, tables=tables, manifest=manifest, _tmp=tmp)
    if out_dir is not None:
        if stale_manifest:
            r.cleared = sorted(r.cleared + [MANIFEST])
        path = os.path.join(r.out_dir, MANIFEST)
        with open(path, "w", encoding="utf-8") as f:
            json.dump(manifest, f, indent=2)
            f.write("\n")
        r.files = r.files + [path]
        results = os.path.join(r.out_dir, "results.json")
        if results in r.files:
            with open(results, encoding="utf-8") as f:
                r.summary = json.load(f)
        r.trace = next((f for f in r.files if os.path.basename(f) == "trace.json"), None)
        r.graphs = [f for f in r.files if f.endswith(".dot")]
    return r
