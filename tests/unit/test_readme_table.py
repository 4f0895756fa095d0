"""The published performance tables are written from benchmarks/results.json, never by hand.

Also: the package's version is written once (``__version__``) and the metadata carries it.
"""

from __future__ import annotations

import copy
import importlib.metadata
import importlib.util
import json
import re
import sys
from pathlib import Path
from types import ModuleType

import pytest

import upscope_widget

ROOT = Path(__file__).resolve().parents[2]


def load_bench() -> ModuleType:
    """benchmarks/run.py is a script, not a package: load it from its path."""
    name = "upscope_benchmarks_run"
    if name in sys.modules:
        return sys.modules[name]
    if str(ROOT / "benchmarks") not in sys.path:  # as when it runs: its siblings import
        sys.path.insert(0, str(ROOT / "benchmarks"))
    spec = importlib.util.spec_from_file_location(name, ROOT / "benchmarks" / "run.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module  # dataclasses look their module up while the class is built
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    return load_bench()


@pytest.fixture(scope="module")
def results() -> dict:
    return json.loads((ROOT / "benchmarks" / "results.json").read_text())


def test_every_published_table_is_the_committed_results(bench, results):
    assert set(bench.TABLE_FILES) == {ROOT / "README.md", ROOT / "docs" / "performance.md"}
    for path, notes in bench.TABLE_FILES.items():
        text = path.read_text()
        expected = bench.with_table(text, bench.render_results(results, notes=notes), str(path))
        assert text == expected, (
            f"{path.relative_to(ROOT)}'s performance table is not what benchmarks/results.json "
            "says: never edit it by hand; run `python benchmarks/run.py --render` (or a full "
            "`make bench`) to rewrite it"
        )


def test_the_table_shows_every_row_of_the_results(bench, results):
    readme = (ROOT / "README.md").read_text()
    start, end = readme.index(bench.TABLE_START), readme.index(bench.TABLE_END)
    table = [line for line in readme[start:end].splitlines() if line.startswith("| ")]
    assert len(table) == 1 + len(results["rows"])  # the header, then one line per row
    for line, row in zip(table[1:], results["rows"], strict=True):
        assert line.startswith(f"| {row['case']} | {row['server']} | ")
    # a figure as a reader sees it: the first row's median, to one decimal, with its unit
    first = results["rows"][0]
    assert f"| {first['figure']:,.1f} {first['unit']} |" in table[1]


def test_a_hand_edit_is_caught(bench, results):
    readme = (ROOT / "README.md").read_text()
    row = results["rows"][0]
    shown = f"| {row['figure']:,.1f} {row['unit']} |"
    edited = readme.replace(shown, f"| {row['figure'] / 2:,.1f} {row['unit']} |", 1)
    assert edited != readme
    rendered = bench.render_results(results)
    assert bench.with_table(edited, rendered) != edited
    assert bench.with_table(edited, rendered) == readme


def test_new_rows_appear_without_changes_to_the_renderer(bench, results):
    more = copy.deepcopy(results)
    more["rows"].append({
        "case": "summary of 10,000 events", "server": "-", "figure": 12.34, "baseline": 40.0,
        "unit": "ms", "goal": "ratio <= 1", "note": "pandas groupby | baseline", "ratio": 0.3085,
    })
    more["rows"].append({
        "case": "rows saved", "server": "-", "figure": 10000.0, "baseline": None,
        "unit": "rows", "goal": "-", "note": "", "ratio": None,
    })
    lines = bench.render_results(more, notes=True).splitlines()
    assert lines[-2] == (
        "| summary of 10,000 events | - | 12.3 ms | 40 ms | 0.31 | ratio <= 1 | "
        "pandas groupby \\| baseline |"
    )
    assert lines[-1] == "| rows saved | - | 10,000 rows | - | - | - |  |"


def test_text_without_markers_is_refused(bench):
    with pytest.raises(ValueError, match="benchmarks:start"):
        bench.with_table("# no table here\n", "| a |", "notes.md")


def test_the_version_is_written_once():
    pyproject = (ROOT / "pyproject.toml").read_text()
    project = pyproject.split("\n[project]\n", 1)[1].split("\n[", 1)[0]
    assert not re.search(r"^version\s*=", project, re.M), "the version belongs in _version.py"
    assert 'dynamic = ["version"]' in project
    assert '[tool.hatch.version]\npath = "src/upscope_widget/_version.py"' in pyproject
    assert importlib.metadata.version("upscope-widget") == upscope_widget.__version__
