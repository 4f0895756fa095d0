"""Fixtures shared by the whole suite: one headless Chromium per test session."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from support.chromium import LAUNCH_ARGS, find_chromium


@pytest.fixture(scope="session")
def browser() -> Iterator[Any]:
    """A headless system Chromium driven by Playwright (sync API)."""
    try:
        executable = find_chromium()
    except RuntimeError as err:
        pytest.fail(str(err), pytrace=False)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=executable, headless=True, args=LAUNCH_ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture(scope="session")
def origins() -> Iterator[tuple[str, str, str]]:
    """Three distinct 127.0.0.1 origins serving tests/browser/pages: host, session iframe, other."""
    from support.widget_harness import serve

    with serve() as a, serve() as b, serve() as c:
        yield a, b, c
