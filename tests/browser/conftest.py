from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.widget_harness import WidgetHarness, serve


@pytest.fixture(scope="session")
def origins() -> Iterator[tuple[str, str, str]]:
    """Three distinct origins: the host page, the session iframe, and a third one."""
    with serve() as a, serve() as b, serve() as c:
        yield a, b, c


@pytest.fixture
def harness(browser: Any, origins: tuple[str, str, str]) -> Iterator[WidgetHarness]:
    context = browser.new_context()
    page = context.new_page()
    try:
        yield WidgetHarness(page, *origins)
    finally:
        context.close()
