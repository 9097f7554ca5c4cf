"""Outputs of a run (see docs/outputs.md)."""

import json
import os

import pytest


@pytest.mark.skipif(not os.environ.get("EQUUS_TRACE_FILE"), reason="EQUUS_TRACE_FILE not set")
def test_trace_file_is_trace_event_json():
    with open(os.environ["EQUUS_TRACE_FILE"], encoding="utf-8") as f:
        trace = json.load(f)
    assert isinstance(trace, dict)
    assert isinstance(trace["traceEvents"], list)
