"""The transport seam: how the session's messages reach its frontends, and come back.

In a notebook the one transport is the widget's Jupyter comm (anywidget's custom messages).
Another frontend (a headless browser page, a test harness) plugs in beside it with
``session.attach_transport(transport)``: it gets every message the session sends to its
frontends, and hands what its frontend says to ``session.receive_frontend_message(content)``.
The messages are the same either way (``_bridge``'s kinds), so the frontend code is too.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Protocol, runtime_checkable


@runtime_checkable
class Transport(Protocol):
    """Carries the session's messages to frontends (one JSON-ready dict per message)."""

    def send(self, message: dict[str, Any]) -> None:
        """Deliver ``message`` to the frontends this transport serves."""


class Transports:
    """The transports a session sends through: its comm first, then any attached.

    A transport that fails to send never stops the others (a closed page must not cost a
    notebook view its instructions); ``report`` is told.
    """

    def __init__(self, comm: Callable[[dict[str, Any]], None],
                 report: Callable[[str], None]) -> None:
        self._comm = comm
        self._attached: list[Transport] = []
        self._report = report

    def attach(self, transport: Transport) -> Callable[[], None]:
        """Add ``transport``; return the function that detaches it again."""
        if not isinstance(transport, Transport):
            raise TypeError(f"transport must have a send(message) method, got {transport!r}")
        self._attached.append(transport)

        def detach() -> None:
            if transport in self._attached:
                self._attached.remove(transport)

        return detach

    @property
    def attached(self) -> list[Transport]:
        """The transports attached beside the comm."""
        return list(self._attached)

    def send(self, message: dict[str, Any]) -> None:
        """Send ``message`` through the comm and every attached transport."""
        self._comm(message)
        for transport in list(self._attached):
            try:
                transport.send(message)
            except Exception as err:  # one broken frontend must not silence the others
                self._report(f"a transport ({type(transport).__name__}) failed to send: "
                             f"{type(err).__name__}: {err}")
