"""Run a coroutine to completion from a test, whatever the main thread is doing.

Playwright's sync API (the session-scoped ``browser`` fixture) leaves an event loop running
in the main thread, where ``asyncio.run`` then refuses to start; a fresh thread has none.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run(coro: Coroutine[Any, Any, T]) -> T:
    """``asyncio.run(coro)`` in a new thread; returns its result or raises its exception."""
    outcome: dict[str, Any] = {}

    def target() -> None:
        try:
            outcome["value"] = asyncio.run(coro)
        except BaseException as err:
            outcome["error"] = err

    thread = threading.Thread(target=target, name="test-asyncio")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome["value"]  # type: ignore[no-any-return]
