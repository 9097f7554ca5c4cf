"""Simulations run wherever Python runs: each in its own `python -m pyequus._child` process, so that the
caller's __main__ is never re-imported (issue 11: an unguarded script and standard input used to die in
multiprocessing's bootstrapping). The acceptance test: an unguarded script file, a -c one-liner and a
standard-input script, each calling reproduce and run."""

import os
import pathlib
import subprocess
import sys

import pytest

import pyequus

REPO = pathlib.Path(__file__).resolve().parents[2]
SCENARIO = REPO / "scenarios" / "printer_server.json"
# Top-level code with no main guard: re-importing this __main__ would run it again, in every child.
SCRIPT = f"""
import pyequus
df = pyequus.reproduce(only=["8.1"], experiments=1, calls_scale=0.05)
r = pyequus.run({str(SCENARIO)!r})
print("OK", len(df), df["table"].iloc[0], r.end_time > 0, r.name, (r.tables["records"]["key"] == "printed").sum())
"""


def _python(args, stdin=None, timeout=300):
    env = dict(os.environ)
    env["PYTHONPATH"] = os.path.dirname(os.path.dirname(pyequus.__file__))
    return subprocess.run(["/usr/bin/python3", *args], input=stdin, capture_output=True, text=True, env=env,
                          timeout=timeout, check=False)


def _check(proc):
    assert proc.returncode == 0, proc.stderr
    assert "OK 1 8.1 True printer_server 24" in proc.stdout, proc.stdout + proc.stderr  # 24 jobs printed
    assert "bootstrapping" not in proc.stderr


def test_an_unguarded_script_file(tmp_path):
    script = tmp_path / "unguarded.py"
    script.write_text(SCRIPT)
    _check(_python([str(script)]))


def test_a_command_line_one_liner():
    _check(_python(["-c", SCRIPT]))


def test_a_script_on_standard_input():
    _check(_python(["-"], stdin=SCRIPT))


def test_errors_in_the_child_keep_their_type_and_message():
    with pytest.raises(ValueError, match="no_such_param"):
        pyequus.run_scenario(str(SCENARIO), overrides={"kernel.no_such_param": 1})


def test_the_child_runs_pyequus_functions_only():
    proc = subprocess.run([sys.executable, "-m", "pyequus._child"], input='{"target": "os:system", "arg": "true"}',
                          capture_output=True, text=True, check=False,
                          env=dict(os.environ, PYTHONPATH=os.path.dirname(os.path.dirname(pyequus.__file__))))
    assert '"ok": false' in proc.stdout and "pyequus functions only" in proc.stdout


SWEEP = f"""
import pyequus
rows = pyequus.sweep_scenario({str(SCENARIO)!r}, {{"m68030.context_switch": [100, 400]}}, progress=False)
print("SWEPT", len(rows), rows["mean_call_ms"].nunique())
"""


@pytest.mark.parametrize("how", ["file", "stdin"])
def test_a_sweep_on_the_default_cluster_from_an_unguarded_script_or_standard_input(how, tmp_path):
    # Dask's worker processes start with multiprocessing's spawn, which re-imports __main__: the default
    # cluster's workers are threads, each waiting on its simulation's process.
    script = tmp_path / "sweep.py"
    script.write_text(SWEEP)
    proc = _python([str(script)], timeout=120) if how == "file" else _python(["-"], stdin=SWEEP, timeout=120)
    assert proc.returncode == 0, proc.stderr[-3000:]
    assert "SWEPT 2 2" in proc.stdout, proc.stdout + proc.stderr[-3000:]
    assert "spawn" not in proc.stderr and "bootstrapping" not in proc.stderr
