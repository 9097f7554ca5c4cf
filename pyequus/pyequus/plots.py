"""Figures of the dissertation redrawn from simulated tables, beside the published points.

- figure_a1(df), figure_a2(df): Figures A.1 and A.2, invocation times between nodes against extra data
  (0-1 kB and 0-64 kB), from Table A.1.
- figure_a3(df): Figure A.3, migration time against address-space size for 1 and 9 ports, with the
  simulated fit and the published regression lines, from Table A.4.

Each takes the DataFrame of pyequus.reproduce() (or of an `equus reproduce --json` file, read with
`cells_frame`) and returns a matplotlib Figure. `python3 -m pyequus.plots CELLS.json DIR` writes them as
PNG files (what `equus reproduce --plots DIR` runs).
"""

from __future__ import annotations

import os
import pathlib
import sys

import numpy as np
import pandas as pd
from matplotlib.figure import Figure  # no pyplot: no backend chosen for the caller, no display needed

from . import _runner

# Figure A.3's published regressions (Appendix A.2), in ms against s kB.
PUBLISHED_A3 = {"1_port": (20.27, 0.388), "9_ports": (30.17, 0.387)}
LABELS = {
    "inc_invoke_noreply": "inc_invoke",
    "inc_invoke_reply": "inc_invoke (R)",
    "inc_asinvoke_bufferlimit1": "inc_asinvoke",
    "inc_send": "inc_send",
    "inc_dgram": "inc_dgram",
    "inc_send_multicast_2_receivers": "inc_send (M)",
    "inc_dgram_multicast_2_receivers": "inc_dgram (M)",
}


def cells_frame(path: str | os.PathLike[str]) -> pd.DataFrame:
    """The DataFrame of reproduce() from an `equus reproduce --json` file."""
    return _runner.to_frame(pathlib.Path(path).read_text())


def _invocations(df, max_bytes, title):
    a1 = df[(df["table"] == "A.1") & (df["size_bytes"] <= max_bytes)]
    if a1.empty:
        raise ValueError("no Table A.1 cells: reproduce(only=['A.1']) first")
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    for i, (row, label) in enumerate(LABELS.items()):
        cells = a1[a1["row"] == row].sort_values("size_bytes")
        if cells.empty:
            continue
        colour = f"C{i}"
        kb = cells["size_bytes"] / 1024
        ax.plot(kb, cells["simulated"] / 1000, "-", color=colour, label=f"{label} (simulated)")
        pub = cells.dropna(subset=["published"])
        ax.errorbar(pub["size_bytes"] / 1024, pub["published"] / 1000, yerr=pub["published_sd"].fillna(0) / 1000,
                    fmt="o", color=colour, markerfacecolor="none")
    ax.set_xlabel("extra data (kB)")
    ax.set_ylabel("time per call (ms)")
    ax.set_title(title)
    ax.legend(fontsize=7, title="lines: simulated; circles: published (±1 sd)", title_fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


def figure_a1(df: pd.DataFrame) -> Figure:
    """Figure A.1: invocation times between nodes, 0-1 kB of extra data."""
    return _invocations(df, 1024, "Figure A.1: invocation times between nodes (0-1k extra data)")


def figure_a2(df: pd.DataFrame) -> Figure:
    """Figure A.2: invocation times between nodes, 0-64 kB of extra data."""
    return _invocations(df, 64 * 1024, "Figure A.2: invocation times between nodes (0-64k extra data)")


def figure_a3(df: pd.DataFrame) -> Figure:
    """Figure A.3: migration times against address-space size, 1 and 9 ports: simulated points and their
    least-squares line, published points (±1 sd) and the published regression."""
    a4 = df[df["table"] == "A.4"].dropna(subset=["size_bytes"])
    if a4.empty:
        raise ValueError("no Table A.4 cells: reproduce(only=['A.4']) first")
    fig = Figure(figsize=(7, 4.5))
    ax = fig.subplots()
    s = np.linspace(0, a4["size_bytes"].max() / 1024 * 1.05, 50)
    for i, (column, (a, b)) in enumerate(PUBLISHED_A3.items()):
        cells = a4[a4["column"] == column].sort_values("size_bytes")
        kb = cells["size_bytes"] / 1024
        colour = f"C{i}"
        name = column.replace("_", " ")
        ax.plot(kb, cells["simulated"], "s", color=colour, label=f"{name}: simulated")
        slope, intercept = np.polyfit(kb, cells["simulated"], 1)
        ax.plot(s, intercept + slope * s, "-", color=colour, label=f"  fit {intercept:.1f} + {slope:.3f}s")
        pub = cells.dropna(subset=["published"])
        ax.errorbar(pub["size_bytes"] / 1024, pub["published"], yerr=pub["published_sd"].fillna(0), fmt="o",
                    color=colour, markerfacecolor="none", label=f"{name}: published (±1 sd)")
        ax.plot(s, a + b * s, "--", color=colour, label=f"  published {a} + {b}s")
    ax.set_xlabel("address space s (kB)")
    ax.set_ylabel("migration time (ms)")
    ax.set_title("Figure A.3: migration times")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig


FIGURES = {"figure_A1": figure_a1, "figure_A2": figure_a2, "figure_A3": figure_a3}


def write_figures(df: pd.DataFrame, out_dir: str | os.PathLike[str]) -> list[str]:
    """Writes every figure whose table is in `df` as <out_dir>/figure_A<n>.png; returns the paths."""
    out = pathlib.Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for name, draw in FIGURES.items():
        try:
            fig = draw(df)
        except ValueError:
            continue  # its table was not reproduced
        path = out / f"{name}.png"
        fig.savefig(path, dpi=120)
        written.append(str(path))
    return written


def main(argv):
    if len(argv) != 3:
        print("usage: python3 -m pyequus.plots CELLS.json OUT_DIR", file=sys.stderr)
        return 2
    for path in write_figures(cells_frame(argv[1]), argv[2]):
        print(f"  wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
