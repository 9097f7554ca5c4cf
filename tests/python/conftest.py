"""Puts the built pyequus package on sys.path: $EQUUS_PYTHONPATH, else <repo>/build/python."""

import os
import pathlib
import sys

_REPO = pathlib.Path(__file__).resolve().parents[2]
_PATH = os.environ.get("EQUUS_PYTHONPATH") or str(_REPO / "build" / "python")
if _PATH not in sys.path:
    sys.path.insert(0, _PATH)
