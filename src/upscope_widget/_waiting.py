"""Awaitables for automations: resolve when the session reaches a condition or sends an event.

A notebook cell can ``await`` them: ipykernel (7.x) keeps delivering the widget's custom
messages while a cell awaits, whereas a ``time.sleep`` loop blocks them.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio


def check_timeout(timeout: float | None) -> None:
    """Raise ``ValueError`` unless ``timeout`` is a positive number of seconds or ``None``."""
    if timeout is not None and (
        isinstance(timeout, bool)
        or not isinstance(timeout, (int, float))
        or math.isnan(timeout)
        or timeout <= 0
    ):
        raise ValueError(
            f"timeout must be a positive number of seconds, or None to wait forever; "
            f"got {timeout!r}"
        )


class Waiters:
    """Pending ``await``s, checked after every event the session applies."""

    def __init__(self) -> None:
        self._pending: list[tuple[Callable[[Any], bool], asyncio.Future[Any]]] = []

    async def wait(
        self,
        check: Callable[[Any], bool],
        result: Callable[[Any], Any],
        timeout: float | None,
        describe: Callable[[], str],
        before_waiting: Callable[[float | None], Awaitable[None]] | None = None,
    ) -> Any:
        """Wait until ``check(event)`` holds; return ``result(event)``.

        ``check(None)`` is tried first (the condition may hold already); if it fails,
        ``before_waiting(remaining)`` is awaited, the condition is tried again (it may have come
        true meanwhile), then events are watched. The whole wait, ``before_waiting`` included,
        raises ``TimeoutError`` with ``describe()`` after ``timeout`` seconds.
        """
        import asyncio  # here, not at import time: only automations need it

        check_timeout(timeout)
        if check(None):
            return result(None)
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None or math.isinf(timeout) else loop.time() + timeout
        if before_waiting is not None:
            await before_waiting(None if deadline is None else max(0.0, deadline - loop.time()))
            if check(None):
                return result(None)
        future: asyncio.Future[Any] = loop.create_future()
        entry = (check, future)
        self._pending.append(entry)
        remaining = None if deadline is None else max(0.0, deadline - loop.time())
        try:
            event = await asyncio.wait_for(future, remaining)
        except asyncio.TimeoutError:
            raise TimeoutError(f"timed out after {timeout} s: {describe()}") from None
        finally:
            if entry in self._pending:
                self._pending.remove(entry)
        return result(event)

    def notify(self, event: Any) -> None:
        """Resolve every waiter whose condition ``event`` fulfils.

        May be called from any thread: JupyterLab with ipykernel 7 handles widget messages on a
        subshell thread while a cell awaits on the main one, and a future resolved from another
        thread would not wake its loop until something else did.
        """
        for check, future in list(self._pending):
            if future.done():
                continue
            try:
                hit = check(event)
            except Exception as err:  # a user predicate failed: fail its await, not the widget
                _resolve(future, err, failed=True)
                continue
            if hit:
                _resolve(future, event)


def _resolve(future: asyncio.Future[Any], value: Any, *, failed: bool = False) -> None:
    import asyncio

    def settle() -> None:
        if not future.done():
            if failed:
                future.set_exception(value)
            else:
                future.set_result(value)

    loop = future.get_loop()
    try:
        running = asyncio.get_running_loop()
    except RuntimeError:
        running = None
    if running is loop:
        settle()
    else:
        loop.call_soon_threadsafe(settle)
