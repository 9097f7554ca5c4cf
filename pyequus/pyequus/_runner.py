"""Runs one simulation in a fresh spawned process (SimGrid allows one engine per process)."""

import concurrent.futures
import contextlib
import json
import math
import multiprocessing

import pandas as pd

COLUMNS = ["table", "row", "column", "simulated", "published", "published_sd", "unit", "role", "rel_error"]
OPTION_NAMES = ("experiments", "calls_scale", "seed", "jobs")


def options(only=None, overrides=None, experiments=10, calls_scale=1.0, seed=1, jobs=0):
    """Normalises reproduce() arguments into a picklable dict."""
    if isinstance(only, str):
        only = [only]
    return {
        "only": [str(t) for t in (only or [])],
        "overrides": {str(k): str(v) for k, v in (overrides or {}).items()},
        "experiments": experiments,
        "calls_scale": calls_scale,
        "seed": seed,
        "jobs": jobs,
    }


def _simulate(opts):
    """Child side: one engine, one run; returns the facade's JSON."""
    from . import _core

    o = _core.ReproduceOptions()
    for name, value in opts.items():
        setattr(o, name, value)
    return _core.cells_to_json(_core.reproduce(o))


@contextlib.contextmanager
def _may_have_children():
    """Dask workers are daemonic by default, and daemonic processes may not start children."""
    proc = multiprocessing.current_process()
    was_daemon = proc.daemon
    if was_daemon:
        proc.daemon = False
    try:
        yield
    finally:
        if was_daemon:
            proc.daemon = True


def in_child(fn, arg):
    """Runs fn(arg) in a fresh spawned process (the caller's __main__ is not re-imported: fn lives in this
    package); errors re-raise here with their type and message."""
    ctx = multiprocessing.get_context("spawn")
    with _may_have_children(), concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=ctx) as pool:
        try:
            return pool.submit(fn, arg).result()
        except concurrent.futures.process.BrokenProcessPool:
            raise RuntimeError("the equus simulation process died (crash or abort); see its stderr") from None


def run_json(opts):
    """Runs _simulate(opts) in a fresh spawned process."""
    return in_child(_simulate, opts)


def _number(value):
    return math.nan if value is None else float(value)


def to_frame(text):
    """DataFrame (COLUMNS) from the {"cells": [...]} JSON of cells_to_json."""
    rows = []
    for c in json.loads(text)["cells"]:
        published = _number(c.get("published")) if c.get("has_published", True) else math.nan
        sd = _number(c.get("published_sd"))
        rows.append({
            "table": c["table"],
            "row": c["row"],
            "column": c["column"],
            "simulated": float(c["simulated"]),
            "published": published,
            "published_sd": math.nan if math.isnan(published) or sd < 0 else sd,
            "unit": c.get("unit", ""),
            "role": c.get("role", ""),
        })
    df = pd.DataFrame(rows, columns=COLUMNS[:-1])
    df["rel_error"] = df["simulated"] / df["published"] - 1.0
    return df


def sweep_task(opts):
    """Dask task: one simulation (itself in a fresh process); returns the JSON."""
    return run_json(opts)
