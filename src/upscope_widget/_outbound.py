"""The one outbound path.

Every instruction, whoever sends it, is checked, numbered, logged and told here.

A method call, ``send_instruction``, a tool call, the MCP endpoint, ``perform``, the
simulator's scripting handle and a replay's controls all call :meth:`Outbound.send`; a toolbar
click (posted by the frontend already) and a replay's recorded instructions (shown on the page,
never posted) call :meth:`Outbound.record`. So the log and ``on_instruction`` see every
instruction once, with its ``source``, in the order it was sent.

It knows nothing of widgets: the session hands it the log, a ``transport`` (how a message
reaches the frontends), a ``refuse`` rule (a replay is read-only, an ended session takes
nothing) and a ``notify`` callable (the ``on_instruction`` callbacks), so unit tests drive it
with plain functions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from ._bridge import KIND_INSTRUCTIONS, Outbox
from ._json import json_problem, short_repr
from ._lazy import lazy_module
from .log import SIMULATED_SOURCES, SOURCES

if TYPE_CHECKING:
    from . import protocol
    from .log import SessionLog
else:
    protocol = lazy_module("upscope_widget.protocol")  # pydantic: loaded with the first session

#: A replay's own controls (play, pause, seek) are not logged: a replay's log is the recording
#: again, as it was. They are numbered, sent and told like every other instruction.
UNLOGGED_SOURCES = frozenset({"replay"})

#: ``(action, params, source)``: what ``on_instruction`` callbacks are called with.
Notify = Callable[[str, dict[str, Any], str], None]
#: Returns the exception that refuses ``(message, source)``, or ``None`` to let it through.
Refuse = Callable[[dict[str, Any], str], "Exception | None"]
#: ``(message, source)`` of each instruction :meth:`Outbound.send` sent (not those recorded).
Sent = Callable[[dict[str, Any], str], None]


def check_source(source: object) -> str:
    """Return ``source`` if the session can send with it, else raise ``ValueError``.

    ``"toolbar"`` is not among them: only the frontend's toolbar posts those (see
    :meth:`Outbound.record`).
    """
    if source == "toolbar" or not isinstance(source, str) or source not in SOURCES:
        allowed = ", ".join(repr(s) for s in SOURCES if s != "toolbar")
        raise ValueError(f"source={short_repr(source)} is not allowed; use one of {allowed}")
    return source


def params_of(message: dict[str, Any]) -> dict[str, Any]:
    """Return an instruction's wire parameters (every key but ``action``)."""
    return {k: v for k, v in message.items() if k != "action"}


def check_control(message: object, prefix: str) -> dict[str, Any]:
    """Return a simulator / replay control message if it is one, else raise ``ValueError``.

    Their own handles check their parameters; here only their shape: an ``action`` with the
    simulator's ``prefix``, so that nothing sent as a control can reach the real service.
    """
    action = message.get("action") if isinstance(message, dict) else None
    if not isinstance(action, str) or not action.startswith(prefix):
        raise ValueError(f"a simulator control message needs an action starting with {prefix!r}, "
                         f"got {short_repr(message)}")
    assert isinstance(message, dict)
    problem = json_problem(message, name=action, safe_ints=True)
    if problem is not None:
        raise ValueError(problem)
    return message


class Outbound:
    """Sends instructions to the frontends: validated, numbered, logged, told, in that order.

    Args:
        log: where each instruction is logged with its source.
        transport: called with each ``{"kind": "instructions", "items": [[seq, message]]}``.
        refuse: the session's rule for what it cannot send now (read-only, ended).
        notify: the ``on_instruction`` callbacks.
        control_prefix: the action prefix of the simulator's own control messages.
        sent: told each instruction that went out through :meth:`send`, after ``notify``
            (a replay keeps what the automation under test sent apart from the recording).
    """

    def __init__(
        self,
        *,
        log: SessionLog,
        transport: Callable[[dict[str, Any]], None],
        refuse: Refuse,
        notify: Notify,
        control_prefix: str,
        sent: Sent | None = None,
    ) -> None:
        self.outbox = Outbox()
        self._log = log
        self._transport = transport
        self._refuse = refuse
        self._notify = notify
        self._prefix = control_prefix
        self._sent = sent

    def build(
        self, action: str, params: dict[str, Any], *, allow_unknown: bool = False
    ) -> dict[str, Any]:
        """Return the wire message for ``action`` with ``params``, or raise ``ValueError``."""
        return protocol.build_instruction(action, params, allow_unknown=allow_unknown)

    def send(self, message: dict[str, Any], source: str) -> int:
        """Send ``message`` and return the number it was given.

        ``message`` is a built instruction, or a control message for the simulator sources.
        Raises what ``refuse`` says, and
        ``ValueError`` for a bad source or a control message that is not one.
        """
        check_source(source)
        if source in SIMULATED_SOURCES:
            check_control(message, self._prefix)
        elif str(message.get("action", "")).startswith(self._prefix):
            raise ValueError(f"{message['action']!r} is a simulator control message; only the "
                             "simulator's own handle (session.simulator) sends those")
        refusal = self._refuse(message, source)
        if refusal is not None:
            raise refusal
        action = str(message["action"])
        if source not in UNLOGGED_SOURCES:
            self._log.add("out", action, message, source=source)
        seq = self.outbox.add(message)
        self._transport({"kind": KIND_INSTRUCTIONS, "items": [[seq, message]]})
        self._notify(action, params_of(message), source)
        if self._sent is not None:
            self._sent(message, source)
        return seq

    def record(self, message: dict[str, Any], source: str) -> None:
        """Log and tell an instruction that did not go out through :meth:`send`.

        The toolbar's clicks (``source="toolbar"``: the frontend posted them already) and a
        replay's recorded instructions (their recorded source, whatever version wrote it).
        """
        action = str(message["action"])
        self._log.add("out", action, dict(message), source=source)
        self._notify(action, params_of(message), source)
