"""Every notebook in notebooks/ runs headless (nbclient: a kernel and no browser) without error."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).parents[2] / "notebooks").glob("*.ipynb"))


def test_there_are_notebooks():
    assert [p.name for p in NOTEBOOKS] == ["demo.ipynb"] or len(NOTEBOOKS) >= 1


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes_headless(path, monkeypatch, tmp_path):
    # the "python3" kernel runs `python` from PATH: make it this interpreter
    monkeypatch.setenv("PATH", str(Path(sys.executable).parent) + os.pathsep + os.environ["PATH"])
    monkeypatch.setenv("IPYTHONDIR", str(tmp_path / "ipython"))
    nb = nbformat.read(path, as_version=4)
    NotebookClient(nb, timeout=120, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert errors == []
    if path.name == "demo.ipynb":
        text = "".join(o.get("text", "") for c in nb.cells if c.cell_type == "code"
                       for o in c.get("outputs", []))
        assert "running headless" in text
        assert "refused: setMode: mode='laser'" in text
    if path.name == "analysis.ipynb":
        text = "".join(o.get("text", "") + o.get("data", {}).get("text/plain", "")
                       for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []))
        assert "SessionSummary 'shop_session'" in text and "True" in text  # same bytes
        assert "at 20.0 of" in text and "cannot be scripted" in text
        assert "sent to the replay: [('setMode', 'python')]" in text
        images = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
                  if "image/png" in o.get("data", {})]
        assert len(images) == 1  # the plot, shown once
