from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from support.widget_harness import WidgetHarness


@pytest.fixture
def harness(browser: Any, origins: tuple[str, str, str]) -> Iterator[WidgetHarness]:
    context = browser.new_context()
    page = context.new_page()
    try:
        yield WidgetHarness(page, *origins)
    finally:
        context.close()
