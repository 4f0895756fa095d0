"""Awaitables for automations: resolve when the session reaches a condition or sends an event.

A notebook cell can ``await`` them: ipykernel (7.x) keeps delivering the widget's custom
messages while a cell awaits, whereas a ``time.sleep`` loop blocks them.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

from ._json import short_repr

if TYPE_CHECKING:
    import asyncio


def check_timeout(timeout: float | None) -> float | None:
    """Return ``timeout`` as seconds (a float), or ``None``; raise ``ValueError`` if it is none.

    Allowed: a positive finite number of seconds, ``None`` or ``math.inf`` (both wait
    forever). Everything else raises ``ValueError`` naming the value: zero, negative numbers,
    NaN, booleans, non-numbers, and integers too large for a float (``10**400``), which would
    otherwise raise ``OverflowError`` wherever the timeout meets a clock.
    """
    if timeout is None:
        return None
    seconds: float | None = None
    if isinstance(timeout, (int, float)) and not isinstance(timeout, bool):
        try:
            seconds = float(timeout)
        except OverflowError:
            seconds = None
    if seconds is None or math.isnan(seconds) or seconds <= 0:
        raise ValueError(
            f"timeout must be a positive number of seconds, or None (or math.inf) to wait "
            f"forever; got {short_repr(timeout)}"
        )
    return seconds


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

        The wait is registered first, then ``check(None)`` is tried (the condition may hold
        already): an event that another thread delivers meanwhile resolves it instead of being
        missed. If the condition does not hold, ``before_waiting(remaining)`` is awaited (events
        arriving during it count too), the condition is tried again, then events are watched.
        The whole wait, ``before_waiting`` included, raises ``TimeoutError`` with
        ``describe()`` after ``timeout`` seconds.
        """
        import asyncio  # here, not at import time: only automations need it

        seconds = check_timeout(timeout)
        loop = asyncio.get_running_loop()
        deadline = None if seconds is None or math.isinf(seconds) else loop.time() + seconds
        future: asyncio.Future[Any] = loop.create_future()
        entry = (check, future)
        self._pending.append(entry)
        try:
            if check(None):
                return result(None)
            if before_waiting is not None:
                await before_waiting(
                    None if deadline is None else max(0.0, deadline - loop.time())
                )
                if not future.done() and check(None):
                    return result(None)
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
        if not self._pending:
            return
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
