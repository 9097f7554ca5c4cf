"""pyequus.run_scenario: a scenario run from Python (each run in its own spawned process)."""

import json
import pathlib

import pandas as pd
import pytest

import pyequus

PRINTER = pathlib.Path(__file__).resolve().parents[2] / "scenarios" / "printer_server.json"
JOBS = 24  # clients 1 and 2 print 10 jobs each, client 3 four


@pytest.fixture(scope="module")
def default_run(tmp_path_factory):
    return pyequus.run_scenario(PRINTER, out_dir=tmp_path_factory.mktemp("default"))


@pytest.fixture(scope="module")
def changed_run(tmp_path_factory):
    out = tmp_path_factory.mktemp("changed")
    return pyequus.run_scenario(str(PRINTER), overrides={"m68030.context_switch": 500}, seed=7, out_dir=out)


def test_result_and_tables(default_run):
    r = default_run
    assert isinstance(r, pyequus.ScenarioResult)
    assert r.name == "printer_server"
    assert r.seed == 1
    assert 2.5 <= r.end_time < 5.0
    assert r.records["printed"] == JOBS
    assert r.reconfigurations == 1
    assert r.violations == []
    assert {"records", "messages", "calls", "incarnations"} <= set(r.tables)
    records = r.tables["records"]
    assert isinstance(records, pd.DataFrame)
    assert (records["key"] == "printed").sum() == JOBS
    assert sorted(records.loc[records["key"] == "printed", "value"]) == sorted(
        [100 * c + j for c in (1, 2) for j in range(1, 11)] + [300 + j for j in range(1, 5)])
    assert str(pathlib.Path(r.out_dir) / "results.json") in r.files


def test_override_and_seed_change_the_run(default_run, changed_run):
    r = changed_run
    assert r.seed == 7
    assert json.loads((pathlib.Path(r.out_dir) / "results.json").read_text())["seed"] == 7
    assert r.records["printed"] == JOBS  # the same work, done at another speed
    # Slower context switches: the same calls, taking longer.
    calls, calls0 = r.tables["calls"], default_run.tables["calls"]
    assert calls["count"].sum() > 0
    assert not calls["mean_ms"].equals(calls0["mean_ms"])
    printed = r.tables["records"].query("key == 'printed'")["time_s"]
    printed0 = default_run.tables["records"].query("key == 'printed'")["time_s"]
    assert printed.mean() > printed0.mean()


def test_dict_and_text_scenarios_without_outputs(default_run):
    doc = json.loads(PRINTER.read_text())
    r = pyequus.run_scenario(doc)
    assert r.out_dir == "" and r.tables == {} and r.files == []
    assert r.end_time == default_run.end_time
    assert r.records == default_run.records


def test_bad_override_is_value_error(tmp_path):
    with pytest.raises(ValueError, match="m68030.no_such_param"):
        pyequus.run_scenario(PRINTER, overrides={"m68030.no_such_param": "1"}, out_dir=tmp_path / "out")
    assert not (tmp_path / "out").exists()  # nothing ran


def test_bad_scenario_is_value_error():
    with pytest.raises(ValueError, match="modules"):
        pyequus.run_scenario('{"name": "x", "duration_s": 1}')


def test_failed_operations_and_cleared_files_are_reported(tmp_path):
    # Issue 14: a declared incarnation on a node outside the user's groups failed with E_DENIED, seen
    # only in records.csv; an earlier run's files stayed beside the new ones.
    denied = pathlib.Path(__file__).resolve().parents[1] / "sim" / "scenarios" / "run" / "denied-create.json"
    (tmp_path / "graph-9.dot").write_text("stale\n")
    r = pyequus.run_scenario(denied, out_dir=tmp_path)
    assert len(r.failures) == 1 and "create_failed:w: E_DENIED (-7)" in r.failures[0]
    assert r.errors == [] and r.cleared == ["graph-9.dot"]
    assert not (tmp_path / "graph-9.dot").exists()
    ok = pyequus.run_scenario(json.loads(PRINTER.read_text()))
    assert ok.failures == [] and ok.errors == [] and ok.cleared == []


def test_a_deadlock_ends_the_run_and_names_the_waiters(tmp_path):
    # Issue 14: two incarnations invoking each other ran to the scenario's 10^6 s; now the run ends
    # at once, says so, and results.json lists who waits on what under the scenario's names.
    deadlock = pathlib.Path(__file__).resolve().parents[1] / "sim" / "scenarios" / "run" / "deadlock.json"
    r = pyequus.run_scenario(deadlock, out_dir=tmp_path)
    assert r.end_reason == "deadlock" and r.end_time < 5
    assert [f.split(": ")[1] for f in r.failures] == ["deadlock", "deadlock"]
    waiting = json.loads((tmp_path / "results.json").read_text())["waiting"]
    assert sorted(w["incarnation"] for w in waiting) == ["alice", "bob"]


@pytest.fixture
def no_process(monkeypatch):
    """Fails the test if a simulation process is started."""
    from pyequus import _runner

    def started(*args, **kwargs):
        raise AssertionError(f"a process was started: {args[0] if args else kwargs}")

    monkeypatch.setattr(_runner.subprocess, "run", started)


@pytest.mark.parametrize("entry", ["run", "run_scenario"])
def test_a_bad_dict_scenario_names_the_json_pointer_before_any_process_starts(entry, no_process, tmp_path):
    doc = json.loads(PRINTER.read_text())
    module = next(iter(doc["modules"]))
    doc["modules"][module]["size"] = "x"
    with pytest.raises(ValueError, match=f"/modules/{module}/size"):
        getattr(pyequus, entry)(doc, **{"out" if entry == "run" else "out_dir": tmp_path / "out"})
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize("kwargs, message", [
    ({"overrides": {"kernel.no_such_param": 1}}, "no_such_param"),
    ({"overrides": {"m68030.context_switch": "fast"}}, "m68030.context_switch"),
    ({"seed": -1}, "seed"),
    ({"seed": 1.5}, "seed"),
])
def test_bad_overrides_and_seeds_fail_before_any_process_starts(kwargs, message, no_process):
    with pytest.raises(ValueError, match=message):
        pyequus.run(PRINTER, **kwargs)
