"""pyequus.run: a scenario's migrations and reconfigurations as DataFrames agree with its results.json."""

import json
import pathlib

import pyequus

SCENARIO = pathlib.Path(__file__).resolve().parents[2] / "scenarios" / "text_processing.json"


def test_migration_and_reconfiguration_frames_match_results_json(tmp_path):
    r = pyequus.run(SCENARIO, seed=3, out=tmp_path)
    results = json.loads((tmp_path / "results.json").read_text())
    migrations = r.tables["migrations"]
    assert len(migrations) == len(results["migrations"]) > 0
    for row, m in zip(migrations.to_dict("records"), results["migrations"]):
        assert row["name"] == m["name"] and row["to"] == m["to"]
        assert abs(row["elapsed_ms"] - m["elapsed_ms"]) < 1e-9 and abs(row["freeze_ms"] - m["freeze_ms"]) < 1e-9
    reconfigurations = r.tables["reconfigurations"]
    calls = results["reconfigurations"]["calls"]
    assert len(reconfigurations) == len(calls) == r.reconfigurations > 0
    assert reconfigurations["forwarded"].sum() == sum(c["forwarded"] for c in calls)
    assert list(reconfigurations["kind"]) == [c["kind"] for c in calls]
    assert any(f.endswith("trace.json") for f in r.files) and any(f.endswith(".dot") for f in r.files)


def test_run_without_out_still_gives_tables():
    r = pyequus.run(SCENARIO)
    assert not r.tables["incarnations"].empty
