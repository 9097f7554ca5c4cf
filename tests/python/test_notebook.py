"""The example notebook executes from top to bottom (Debian's jupyter-nbconvert and ipykernel) and shows
its figures."""

import os
import pathlib
import subprocess

import nbformat

import pyequus

EXAMPLES = pathlib.Path(__file__).resolve().parents[2] / "examples"


def test_what_if_notebook_executes_and_draws(tmp_path):
    env = dict(os.environ, PYTHONPATH=str(pathlib.Path(pyequus.__file__).resolve().parents[1]),
               PYDEVD_DISABLE_FILE_VALIDATION="1")
    proc = subprocess.run(["/usr/bin/python3", "-m", "nbconvert", "--to", "notebook", "--execute", "what_if.ipynb",
                           "--output-dir", str(tmp_path), "--output", "executed.ipynb"],
                          cwd=EXAMPLES, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert proc.returncode == 0, proc.stderr[-3000:]
    nb = nbformat.read(tmp_path / "executed.ipynb", as_version=4)
    outputs = [o for c in nb.cells if c.cell_type == "code" for o in c.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    assert sum("image/png" in o.get("data", {}) for o in outputs) >= 2  # Figure A.3 and the sweep
    assert any("reconfigurations" in o.get("text", "") for o in outputs)
    # No warnings shown (tqdm's notebook bar warned where ipywidgets is missing); the sweep's bar is there.
    stderr = "".join(o.get("text", "") for o in outputs if o.get("name") == "stderr")
    assert "Warning" not in stderr and "reproductions" in stderr
