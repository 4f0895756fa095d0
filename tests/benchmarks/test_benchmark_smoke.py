"""The benchmark runs end to end with tiny counts, so that it cannot rot."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[2]

pytestmark = pytest.mark.jupyter


def test_benchmark_quick_run(tmp_path):
    out = tmp_path / "results.json"
    proc = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "run.py"), "--quick", "--out", str(out)],
        capture_output=True, text=True, timeout=600,
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    result = json.loads(out.read_text())
    cases = [(r["case"], r["server"]) for r in result["rows"]]
    for server in ("stock", "TCP_NODELAY"):
        for case in ("round trip, median", "round trip, p95",
                     "burst of 50: arrived in order", "burst of 50: first post -> last observer",
                     "burst of 50, kernel idle: first post -> last on_state_change",
                     "burst of 50, kernel idle, cross-site iframe: first post -> last "
                     "on_state_change",
                     "websocket frame, one-field change"):
            assert (case, server) in cases
    for case in ("headless: run_headless() -> viewerReady", "headless: round trip, median",
                 "headless: memory per extra session"):
        assert (case, "headless") in cases
    headless_trip = next(r for r in result["rows"] if r["case"] == "headless: round trip, median")
    jupyter_trip = next(r for r in result["rows"]
                        if (r["case"], r["server"]) == ("round trip, median", "stock"))
    assert headless_trip["baseline"] == jupyter_trip["figure"]  # beside JupyterLab's, same run
    assert ("JS bundle, minified", "-") in cases
    assert ("import time", "-") in cases
    assert any(c.startswith("kernel memory after") for c, _ in cases)
    for row in result["rows"]:
        assert row["figure"] is not None and row["figure"] > 0, row
    bursts = [r for r in result["rows"] if r["case"] == "burst of 50: arrived in order"]
    assert all(r["figure"] == 50 for r in bursts)  # every snapshot, in order
    assert result["versions"]["anywidget"] != "-"
    assert "round trip, median" in proc.stdout  # the table was printed
