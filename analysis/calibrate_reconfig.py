#!/usr/bin/python3
"""Fit the migration and reconfiguration parameters to their calibration cells (second stage).

Stage one (analysis/calibrate.py) fits the communication costs to Table A.1; those stay fixed here.
This stage fits, each group on its own cells listed in analysis/calibration_cells.json:
  A.4: kernel.migrate_setup, kernel.port_setup, kernel.migrate_per_page
  A.5: kernel.receive_timer, kernel.reconfig_op, kernel.forward_message
Every other cell of the two tables is a check (A.5's elapsed times with reconfigurations follow from
its fitted overheads); the forwarded counts of A.5 are predictions. Each
evaluation runs the real experiments (`equus reproduce --only A.4|A.5 --json`).

Usage: /usr/bin/python3 analysis/calibrate_reconfig.py [--equus build/equus] [--table A.4|A.5] [--write]
"""
import argparse
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
KERNEL = ROOT / "models/kernel/kernel.json"
GROUPS = {"A.4": ["migrate_setup", "port_setup", "migrate_per_page"],
          "A.5": ["receive_timer", "reconfig_op", "forward_message"]}


def simulate(equus, table, values, experiments):
    with tempfile.NamedTemporaryFile(suffix=".json") as tmp:
        cmd = [equus, "reproduce", "--only", table, "--json", tmp.name, "--experiments", str(experiments)]
        for name, v in values.items():
            cmd += ["--set", f"kernel.{name}={v:.6g}"]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL)
        cells = json.loads(Path(tmp.name).read_text())["cells"]
    return {(c["row"], c["column"]): (c["simulated"], c["published"]) for c in cells}


def fit(equus, table, iterations, experiments):
    doc = json.loads(KERNEL.read_text())["parameters"]
    names = GROUPS[table]
    calib = [tuple(rc) for rc in json.loads((ROOT / "analysis/calibration_cells.json").read_text())[table]]
    x = np.log([doc[n]["value"] for n in names])

    def residuals(xv):
        sim = simulate(equus, table, {n: float(np.exp(v)) for n, v in zip(names, xv)}, experiments)
        return np.array([sim[c][0] / sim[c][1] - 1.0 for c in calib]), sim

    r, sim = residuals(x)
    cost, lam = float(r @ r), 1e-2
    for it in range(iterations):
        J = np.zeros((len(r), len(x)))
        for j in range(len(x)):
            xp = x.copy()
            xp[j] += 0.1
            J[:, j] = (residuals(xp)[0] - r) / 0.1
        while True:
            A = J.T @ J + lam * np.diag(np.diag(J.T @ J) + 1e-9)
            step = np.clip(np.linalg.solve(A, -J.T @ r), -1.0, 1.0)
            rn, simn = residuals(x + step)
            if float(rn @ rn) < cost:
                x, r, sim, cost = x + step, rn, simn, float(rn @ rn)
                lam = max(lam / 3, 1e-4)
                break
            lam *= 4
            if lam > 1e4:
                break
        print(f"{table} iteration {it + 1}: worst calibration cell {100 * max(abs(v) for v in r):.2f}%", flush=True)
        if lam > 1e4 or max(abs(v) for v in r) < 0.002:
            break
    values = {n: float(np.exp(v)) for n, v in zip(names, x)}
    for n, v in values.items():
        print(f"  kernel.{n:<18} {doc[n]['value']:>10.4g} -> {v:.4g} {doc[n]['unit']}")
    for (row, col), (s, p) in sim.items():
        tag = "calibration" if (row, col) in calib else "check" if p is not None else "prediction"
        err = f"{100 * (s / p - 1):+6.2f}%" if p else ""
        print(f"  {row:<22} {col:>12} {s:10.3f} {p if p is not None else '':>10} {err}  {tag}")
    return values


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--equus", default=str(ROOT / "build" / "equus"))
    ap.add_argument("--table", choices=sorted(GROUPS), action="append")
    ap.add_argument("--iterations", type=int, default=8)
    ap.add_argument("--experiments", type=int, default=2)
    ap.add_argument("--write", action="store_true", help="write the fitted values into kernel.json")
    args = ap.parse_args()
    fitted = {}
    for table in args.table or sorted(GROUPS):
        fitted[table] = fit(args.equus, table, args.iterations, args.experiments)
    if args.write:
        doc = json.loads(KERNEL.read_text())
        for table, values in fitted.items():
            for n, v in values.items():
                e = doc["parameters"][n]
                e["value"] = float(f"{v:.4g}")
                e["provenance"] = f"fitted: analysis/calibrate_reconfig.py on the calibration cells of Table {table}"
        KERNEL.write_text(json.dumps(doc, indent=2) + "\n")
        print("written to models/kernel/kernel.json")
    return 0


if __name__ == "__main__":
    sys.exit(main())
