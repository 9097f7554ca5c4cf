"""pyequus.run returns Results (issue 11): every table the run wrote as a DataFrame, agreeing with its
results.json (the migrations with their phases and freeze times, the reconfigurations with their forwarded
counts); the summary, trace, graphs and manifest; a temporary output directory that lives as long as the
Results."""

import gc
import json
import os
import pathlib
import pickle
import subprocess

import pandas as pd
import pytest

import pyequus
from pyequus import _manifest

REPO = pathlib.Path(__file__).resolve().parents[2]
SCENARIO = REPO / "scenarios" / "text_processing.json"  # a migration and stream rebindings


@pytest.fixture(scope="module")
def done(tmp_path_factory):
    out = tmp_path_factory.mktemp("text_processing")
    return pyequus.run(SCENARIO, seed=3, out=out), out


def _same_rows(frame, rows):
    """The DataFrame holds exactly these results.json rows: same columns in the same order, same values
    (both files write numbers in their shortest exact form), null as NaN, numbers in numeric columns."""
    assert len(frame) == len(rows)
    if rows:
        assert list(frame.columns) == list(rows[0])
    for got, want in zip(frame.to_dict("records"), rows):
        for key, value in want.items():
            if value is None:
                assert pd.isna(got[key]), key
            else:
                assert got[key] == value, (key, got[key], value)
    for column in frame.columns:
        values = [row[column] for row in rows if row[column] is not None]
        if values and all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in values):
            assert pd.api.types.is_numeric_dtype(frame[column]), column


def test_migration_and_reconfiguration_frames_match_results_json(done):
    r, out = done
    assert isinstance(r, pyequus.Results)
    results = json.loads((out / "results.json").read_text())
    migrations = r.tables["migrations"]
    assert r.migrations == len(migrations) > 0
    _same_rows(migrations, results["migrations"])
    # The phases of Figure 7.1 are there, in order, and the freeze is the frozen-to-restart span.
    for m in migrations.itertuples():
        assert m.start_s <= m.pincdata_s <= m.text_s <= m.frozen_s <= m.restart_s
        assert m.freeze_ms == pytest.approx((m.restart_s - m.frozen_s) * 1000)
    reconfigurations = r["reconfigurations"]
    calls = results["reconfigurations"]["calls"]
    assert r.reconfigurations == len(reconfigurations) > 0
    _same_rows(reconfigurations, calls)
    assert reconfigurations["forwarded"].sum() == sum(c["forwarded"] for c in calls) > 0
    assert set(reconfigurations["kind"]) >= {"migrate", "rebind_stream"}


def test_every_table_written_is_a_frame(done):
    # Loaded generically: whatever CSV a run writes (jobs, policy decisions, ...) is a table.
    r, out = done
    assert set(r.tables) == {p.stem for p in out.glob("*.csv")} >= {"incarnations", "calls", "records"}
    results = json.loads((out / "results.json").read_text())
    compared = [name for name in r.tables if isinstance(results.get(name), list)]
    assert {"incarnations", "calls", "records", "node_load", "migrations"} <= set(compared)
    for name in compared:
        _same_rows(r.tables[name], results[name])
    assert len(r.tables["messages"]) == results["messages"]["count"]


def test_summary_trace_graphs_and_end_reason(done):
    r, out = done
    assert r.summary == json.loads((out / "results.json").read_text())
    assert r.end_reason == r.summary["end_reason"] and r.seed == r.summary["seed"] == 3
    assert r.trace == str(out / "trace.json") and "traceEvents" in json.loads(pathlib.Path(r.trace).read_text())
    assert sorted(r.graphs) == sorted(str(p) for p in out.glob("graph-*.dot")) != []
    assert all(pathlib.Path(f).exists() for f in r.files) and str(out / "manifest.json") in r.files


def test_the_manifest_says_how_to_run_it_again(done, tmp_path):
    r, out = done
    m = r.manifest
    assert json.loads((out / "manifest.json").read_text()) == m
    assert m["seed"] == 3 and m["overrides"] == {} and m["version"] == pyequus.__version__
    assert m["wall_s"] > 0 and m["started"]
    head = subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True, text=True,
                          check=False).stdout.strip()
    package = pathlib.Path(pyequus.__file__).resolve()
    if head and REPO in package.parents:  # the build's copy or the sources of this checkout
        assert m["commit"] == head
    # The same scenario as a dict with its keys in another order has the same hash; an earlier
    # manifest in the output directory is replaced, and said to be.
    doc = json.loads(SCENARIO.read_text())
    (tmp_path / "manifest.json").write_text('{"seed": 99}')
    again = pyequus.run(dict(reversed(list(doc.items()))), overrides={"m68030.context_switch": 150}, out=tmp_path)
    assert again.manifest["scenario_sha256"] == m["scenario_sha256"]
    assert again.manifest["overrides"] == {"m68030.context_switch": "150"}
    assert again.manifest["seed"] == doc["seed"]
    assert "manifest.json" in again.cleared
    assert json.loads((tmp_path / "manifest.json").read_text()) == again.manifest
    changed = dict(doc, duration_s=doc.get("duration_s", 10) + 1)
    assert _manifest.scenario_sha256(json.dumps(changed)) != m["scenario_sha256"]


def test_a_temporary_output_directory_lives_as_long_as_its_results():
    r = pyequus.run(SCENARIO)
    out = r.out_dir
    assert pathlib.Path(r.trace).is_file() and pathlib.Path(out, "results.json").is_file()
    copy = pickle.loads(pickle.dumps(r))  # a copy does not own the directory; its tables travel with it
    del r
    gc.collect()
    assert not os.path.exists(out)
    assert not copy.tables["incarnations"].empty and copy.summary["migrations"]
