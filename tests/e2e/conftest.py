"""Fixtures for end-to-end tests against a real Jupyter server, kernel and headless Chromium.

* ``lab_server`` / ``notebook_server``: one started :class:`JupyterServer` each per test
  session (stock settings: no TCP_NODELAY patch), started only when first used.
* ``jupyter_server``: parametrized over ``["lab", "notebook"]``; a test using it runs in both.
* ``page``: a fresh Playwright page in a new browser context per test, closed afterwards.
* ``make_notebook``: ``make_notebook(server, cells, name=None) -> NotebookPage``; writes a
  notebook named after the test into ``server.root_dir``, opens it in ``page`` and waits for
  an idle kernel; closes it (and shuts its kernel down) after the test.

Every test collected under ``tests/e2e`` is marked ``jupyter``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest

from support.jupyter import (
    JupyterServer,
    MakeNotebook,
    NotebookPage,
    ServerKind,
    open_notebook,
    write_notebook,
)

E2E_DIR = Path(__file__).parent

SERVER_KINDS: list[ServerKind] = ["lab", "notebook"]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    for item in items:
        if E2E_DIR in Path(str(item.path)).parents:
            item.add_marker(pytest.mark.jupyter)


def _server(tmp_path_factory: pytest.TempPathFactory, kind: ServerKind) -> Iterator[JupyterServer]:
    base = tmp_path_factory.mktemp(f"{kind}-server")
    with JupyterServer(base / "root", kind, base_dir=base / "jupyter") as server:
        yield server


@pytest.fixture(scope="session")
def lab_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A JupyterLab 4 server for the whole session."""
    yield from _server(tmp_path_factory, "lab")


@pytest.fixture(scope="session")
def notebook_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[JupyterServer]:
    """A Notebook 7 server for the whole session."""
    yield from _server(tmp_path_factory, "notebook")


@pytest.fixture(params=SERVER_KINDS)
def jupyter_server(request: pytest.FixtureRequest) -> JupyterServer:
    """The Lab or the Notebook 7 server: a test using this runs once with each."""
    server: JupyterServer = request.getfixturevalue(f"{request.param}_server")
    return server


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A fresh Playwright page in its own browser context."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    try:
        yield context.new_page()
    finally:
        context.close()


@pytest.fixture
def make_notebook(request: pytest.FixtureRequest, page: Any) -> Iterator[MakeNotebook]:
    """Factory: write a notebook of code cells, open it in ``page``, wait for its kernel."""
    opened: list[NotebookPage] = []
    stem = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.name)[:80]

    def make(
        server: JupyterServer, cells: Sequence[str], name: str | None = None, timeout: float = 60.0
    ) -> NotebookPage:
        nb_name = name or f"{stem}-{len(opened)}.ipynb"
        path = write_notebook(server.root_dir, nb_name, cells)
        nb = open_notebook(page, server, path.relative_to(server.root_dir), timeout=timeout)
        opened.append(nb)
        return nb

    yield make
    for nb in reversed(opened):
        nb.close()
