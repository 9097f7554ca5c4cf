"""Runs one simulation in a fresh process (SimGrid allows one engine per process)."""

import json
import math
import os
import subprocess
import sys

import pandas as pd

COLUMNS = ["table", "row", "column", "simulated", "published", "published_sd", "unit", "role", "rel_error",
           "size_bytes"]
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


_ERRORS = {"ValueError": ValueError, "TypeError": TypeError, "KeyError": KeyError, "RuntimeError": RuntimeError,
           "FileNotFoundError": FileNotFoundError, "OSError": OSError}


def in_child(fn, arg):
    """Runs fn(arg) in a fresh process, `python -m pyequus._child`, speaking JSON over pipes: the caller's
    __main__ is never re-imported, so this works from scripts with or without a main guard, standard
    input, -c, notebooks and Dask workers. fn must be a module-level function of pyequus and arg and its
    result plain JSON data. An error in the child re-raises here with its type and message; a crash says
    so, with the child's last stderr lines."""
    package_parent = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
    env = dict(os.environ)
    env["PYTHONPATH"] = package_parent + (os.pathsep + env["PYTHONPATH"] if env.get("PYTHONPATH") else "")
    request = json.dumps({"target": f"{fn.__module__}:{fn.__qualname__}", "arg": arg})
    proc = subprocess.run([sys.executable, "-m", "pyequus._child"], input=request.encode(),
                          capture_output=True, env=env, check=False)
    err = proc.stderr.decode(errors="replace")
    if err:
        sys.stderr.write(err)  # the simulation's own messages (logs, warnings), as the CLI shows them
    try:
        reply = json.loads(proc.stdout.decode())
    except ValueError:
        tail = "\n".join(err.strip().splitlines()[-10:])
        how = f"signal {-proc.returncode}" if proc.returncode < 0 else f"exit status {proc.returncode}"
        raise RuntimeError(f"the equus simulation process crashed ({how}); its last messages:\n{tail}") from None
    if reply["ok"]:
        return reply["result"]
    raise _ERRORS.get(reply["type"], RuntimeError)(reply["message"])


def run_json(opts):
    """Runs _simulate(opts) in a fresh process."""
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
    df = pd.DataFrame(rows, columns=COLUMNS[:-2])
    df["rel_error"] = df["simulated"] / df["published"] - 1.0
    df["size_bytes"] = [size_bytes(t, r, c) for t, r, c in zip(df["table"], df["row"], df["column"])]
    return df


def size_bytes(table, row, column):
    """The cell's message or address-space size as a number (Table A.1's columns "0", "1k", "64k"; Table
    A.4's rows in kB), so that sizes sort and plot as numbers; NaN where a cell has none."""
    text = column if table == "A.1" else row if table == "A.4" else ""
    text = text.strip().lower()
    scale = 1024 if table == "A.4" else 1
    if text.endswith("k"):
        text, scale = text[:-1], 1024
    try:
        return float(text) * scale
    except ValueError:
        return math.nan


def sweep_task(opts):
    """Dask task: one simulation (itself in a fresh process); returns the JSON."""
    return run_json(opts)
