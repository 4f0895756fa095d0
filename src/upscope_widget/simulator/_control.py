"""The scripting handle of a simulated session: ``session.simulator``.

Every method validates its arguments in Python (raising :class:`ValueError` before anything is
sent) and then posts one *control message* to the simulator page through the session's
instruction channel. Control messages look like protocol instructions but their ``action``
starts with :data:`CONTROL_PREFIX`, so the real Upscope service would never see one.
"""

from __future__ import annotations

import json
import secrets
from collections.abc import Callable, Mapping
from types import MappingProxyType
from typing import Any, Final

from .. import urls
from .._json import json_problem, short_repr

__all__ = [
    "CONTROL_ACTIONS",
    "CONTROL_PREFIX",
    "END_REASONS",
    "MAX_LATENCY_MS",
    "REPLAY_ACTIONS",
    "SimulatorControl",
    "check_json_object",
    "check_url",
]

CONTROL_PREFIX: Final = "upscope-sim:"
"""Prefix of every simulator control action; protocol instructions never start with it."""

CONTROL_ACTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "visitor_sends": "upscope-sim:visitorSends",
        "open_tab": "upscope-sim:openTab",
        "close_tab": "upscope-sim:closeTab",
        "navigate": "upscope-sim:navigate",
        "raise_error": "upscope-sim:raiseError",
        "disconnect": "upscope-sim:disconnect",
        "set_latency": "upscope-sim:setLatency",
        "end": "upscope-sim:end",
    }
)
"""Python method name -> wire ``action`` of its control message (js/simulator/wire.ts spells
the same; tests/unit/test_simulator_source.py fails if they drift)."""

REPLAY_ACTIONS: Final[Mapping[str, str]] = MappingProxyType(
    {
        "play": "upscope-sim:replayPlay",  # {"from": seconds}: play on (from at least there)
        "pause": "upscope-sim:replayPause",
        "seek": "upscope-sim:replaySeek",  # {"to": seconds}: post the state at that time
    }
)
"""``ReplaySession`` method name -> ``action`` of its control message (as js/simulator/wire.ts)."""

END_REASONS: Final = ("ended", "error")
"""Reasons :meth:`SimulatorControl.end` accepts (the ``sessionEnded`` event's reasons)."""

MAX_LATENCY_MS: Final = 600_000
"""Largest simulated latency accepted, in milliseconds (10 minutes)."""



def _show(value: object) -> str:
    return short_repr(value, 80)


def check_json_object(value: object, name: str) -> dict[str, Any]:
    """Return a copy of ``value`` if it is a bounded JSON object, else raise ``ValueError``.

    The package's one JSON check applies (``upscope_widget._json.json_problem``); ``name``
    starts the path in the error message, which points at the offending item.
    """
    if not isinstance(value, dict):
        raise ValueError(f"{name} must be a JSON object (a dict with str keys), got {_show(value)}")
    problem = json_problem(value, name=name, safe_ints=True)
    if problem is not None:
        raise ValueError(problem)
    copied: dict[str, Any] = json.loads(json.dumps(value))  # checked: bounded, no cycles
    return copied


def check_url(url: object, name: str = "url") -> str:
    """Return ``url`` if it is an absolute ``http:``/``https:`` page URL (the one URL policy)."""
    return urls.check_url(url, "page", what=name)


def _check_text(value: object, name: str, limit: int = 200) -> str:
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        raise ValueError(
            f"{name} must be a non-empty str of at most {limit} characters, got {_show(value)}"
        )
    return value


class SimulatorControl:
    """Script the simulated visitor and service of a simulated session.

    A user gets one as ``session.simulator`` after ``UpscopeSession.simulate(...)``. Each
    method validates its arguments, raising :class:`ValueError` (and posting nothing) when one
    is wrong, then posts a control message ``{"action": "upscope-sim:<verb>", ...}`` with
    camelCase parameters through ``post``. Like protocol instructions, control messages are
    fire-and-forget: their effects show up as events from the simulator page.

    Args:
        post: Called with each control message; the session's instruction channel to the
            simulator iframe.
    """

    def __init__(self, post: Callable[[dict[str, Any]], None]) -> None:
        if not callable(post):
            raise TypeError(f"post must be callable, got {_show(post)}")
        self._post = post

    def __repr__(self) -> str:
        return f"{type(self).__name__}(post={self._post!r})"

    def _send(self, method: str, **params: Any) -> None:
        self._post({"action": CONTROL_ACTIONS[method], **params})

    def visitor_sends(self, message: dict[str, Any]) -> None:
        """Make the visitor's SDK send a custom message (a ``customMessage`` event).

        Args:
            message: A JSON object (``dict`` with ``str`` keys and JSON values); it arrives
                unchanged as the event's ``message``.
        """
        self._send("visitor_sends", message=check_json_object(message, "message"))

    def open_tab(self, url: str) -> str:
        """Make the visitor open a new tab (a new connection) at ``url``.

        The new connection appears in ``connections`` but does not become the active one,
        unless there was no connection left (then it also brings the visitor back online).

        Args:
            url: An absolute ``http:``/``https:`` URL.

        Returns:
            The new connection's id (``"conn-"`` followed by 8 hex digits), for
            :meth:`close_tab` or the ``setActiveConnection`` instruction.
        """
        checked = check_url(url)
        connection_id = f"conn-{secrets.token_hex(4)}"
        self._send("open_tab", url=checked, connectionId=connection_id)
        return connection_id

    def close_tab(self, connection_id: str) -> None:
        """Make the visitor close the tab of ``connection_id``.

        If it was the active connection, the one before it (else the first) becomes active; if
        it was the last one, the visitor goes offline (``connected`` false and an ``error``
        event ``connection:user_not_online``). An unknown id is ignored by the page.
        """
        self._send("close_tab", connectionId=_check_text(connection_id, "connection_id"))

    def navigate(self, url: str) -> None:
        """Make the visitor navigate their active tab to ``url`` (an absolute http(s) URL)."""
        self._send("navigate", url=check_url(url))

    def raise_error(self, code: str) -> None:
        """Make the page post an ``error`` event with ``code``.

        Args:
            code: Any non-empty string. The protocol's codes (``connection:data``,
                ``remote_control:inactive``, ...) are the realistic ones, but unknown codes
                are allowed so that handlers of unexpected errors can be tested.
        """
        self._send("raise_error", code=_check_text(code, "code"))

    def disconnect(self) -> None:
        """Make the visitor go offline (network lost).

        The page posts an ``error`` event ``connection:user_not_online`` and a state with
        ``connected`` false; the session is not ended. While offline, instructions that need
        the visitor are answered with that error. The visitor comes back online with
        :meth:`navigate`, :meth:`open_tab` or :meth:`visitor_sends`.
        """
        self._send("disconnect")

    def set_latency(self, ms: int) -> None:
        """Delay the page's answers to later instructions by ``ms`` milliseconds.

        Args:
            ms: An ``int`` from 0 to 600000; not scaled by ``time_scale``.
        """
        if type(ms) is not int or not 0 <= ms <= MAX_LATENCY_MS:
            raise ValueError(
                f"ms must be an int from 0 to {MAX_LATENCY_MS} (milliseconds), got {_show(ms)}"
            )
        self._send("set_latency", ms=ms)

    def end(self, reason: str = "ended") -> None:
        """End the session from the service side.

        Args:
            reason: ``"ended"`` (a normal end) or ``"error"`` (the page first posts an
                ``error`` event ``connection:data``). Then comes a ``terminated`` state and a
                ``sessionEnded`` event with this reason.
        """
        if not isinstance(reason, str) or reason not in END_REASONS:
            raise ValueError(
                f"reason must be one of {', '.join(map(repr, END_REASONS))}, got {_show(reason)}"
            )
        self._send("end", reason=reason)
