"""Awaitables for automations: resolve when the session reaches a condition or sends an event.

A notebook cell can ``await`` them: ipykernel (7.x) keeps delivering the widget's custom
messages while a cell awaits, whereas a ``time.sleep`` loop blocks them.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import asyncio


def check_timeout(timeout: float | None) -> None:
    """Raise ``ValueError`` unless ``timeout`` is a positive number of seconds or ``None``."""
    if timeout is not None and (
        isinstance(timeout, bool) or not isinstance(timeout, (int, float)) or timeout <= 0
    ):
        raise ValueError(f"timeout must be a positive number of seconds or None, got {timeout!r}")


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
        before_waiting: Callable[[], Awaitable[None]] | None = None,
    ) -> Any:
        """Wait until ``check(event)`` holds; return ``result(event)``.

        ``check(None)`` is tried first (the condition may hold already); if it fails,
        ``before_waiting()`` is awaited, then events are watched. Raise ``TimeoutError`` with
        ``describe()`` after ``timeout`` seconds.
        """
        import asyncio  # here, not at import time: only automations need it

        check_timeout(timeout)
        if check(None):
            return result(None)
        if before_waiting is not None:
            await before_waiting()
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        entry = (check, future)
        self._pending.append(entry)
        try:
            event = await asyncio.wait_for(future, timeout)
        except asyncio.TimeoutError:
            raise TimeoutError(f"timed out after {timeout} s: {describe()}") from None
        finally:
            if entry in self._pending:
                self._pending.remove(entry)
        return result(event)

    def notify(self, event: Any) -> None:
        """Resolve every waiter whose condition ``event`` fulfils."""
        for check, future in list(self._pending):
            if future.done():
                continue
            try:
                hit = check(event)
            except Exception as err:  # a user predicate failed: fail its await, not the widget
                future.set_exception(err)
                continue
            if hit:
                future.set_result(event)
