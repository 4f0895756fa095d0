"""The inbound state mirror: parse a message, diff a snapshot, decide what to report.

:class:`StateMirror` holds the last snapshot applied (its raw wire values and its parsed
:class:`~upscope_widget.protocol.EmbeddedSessionState`) and turns each inbound message into an
:class:`Inbound`: the event, the changes to apply to the traits, and the problems worth
reporting. It sets no trait and calls no callback: the session does that with what it returns,
so unit tests drive the mirror without a widget.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ._lazy import lazy_module
from ._traits import strict_equal
from .errors import Problem

if TYPE_CHECKING:
    from . import protocol
    from .protocol import AnyEvent, EmbeddedSessionState
else:
    protocol = lazy_module("upscope_widget.protocol")  # pydantic: loaded with the first session

#: Fields whose current problem was reported (so that it is not reported again); bounded.
MAX_REPORTED = 64


@dataclass
class StateChange:
    """What a snapshot changed, ready for the traits."""

    state: EmbeddedSessionState
    """The new full state."""
    changed: frozenset[str]
    """The snake_case names of what changed (wire names for properties this version lacks)."""
    data: dict[str, Any]
    """The changed properties' new wire values (a property that went away is not here)."""
    traits: list[tuple[str, Any]]
    """``(trait name, value)`` for each documented property that changed, in documented order."""


@dataclass
class Inbound:
    """What one inbound message means for the session."""

    event: AnyEvent | None
    """The event, or ``None`` when nothing is to be applied (unusable, or a late snapshot)."""
    change: StateChange | None = None
    """For a snapshot that was applied."""
    reports: list[str] = field(default_factory=list)
    """Problem texts to report, each once until it changes."""


class ProblemReporter:
    """Decides which problems are news.

    A field's problem is reported once until it changes or goes away, so a bad property does
    not warn on every snapshot of a burst.
    """

    def __init__(self) -> None:
        self._reported: dict[str, str] = {}

    def __bool__(self) -> bool:
        return bool(self._reported)

    def news(self, problems: list[Problem], fields: Iterable[str] = ()) -> list[str]:
        """Return the texts of ``problems`` worth reporting.

        ``fields`` are the state properties of a snapshot being applied: those without a
        problem in it are well again, so their next problem is news.
        """
        current = {p.field for p in problems}
        wanted = set(fields)
        for name in [f for f in self._reported if f in wanted and f not in current]:
            del self._reported[name]
        texts: list[str] = []
        for problem in problems:
            if problem.field is not None:
                if self._reported.get(problem.field) == problem.text:
                    continue
                self._reported[problem.field] = problem.text
                while len(self._reported) > MAX_REPORTED:
                    del self._reported[next(iter(self._reported))]
            texts.append(problem.text)
        return texts

    def clear(self) -> None:
        """Forget what was reported (a new link)."""
        self._reported.clear()


class StateMirror:
    """The last snapshot applied, and how each next message changes it."""

    def __init__(self) -> None:
        self.raw: dict[str, Any] = {}
        """The raw wire values of the last snapshot applied."""
        self.state: EmbeddedSessionState | None = None
        """The last snapshot applied, parsed (``None`` before the first)."""
        self.ended = False
        """Whether the session ended (``sessionEnded`` or status ``terminated``)."""
        self.ended_reason: str | None = None
        """The ``sessionEnded`` reason, once one came."""
        self.problems = ProblemReporter()

    def reset(self) -> None:
        """Forget the session (a new link was loaded)."""
        self.raw = {}
        self.state = None
        self.ended = False
        self.ended_reason = None

    def receive(self, raw: Any) -> Inbound:
        """Parse one inbound message and update the mirror; never raises for bad input."""
        event, values, problems = protocol.parse_event(raw, self.raw, self.state)
        if isinstance(event, protocol.StateUpdateEvent) and values is not None:
            status = event.state.session_status
            if self.ended and status != "terminated":
                late = Problem("(ended)", f"ignored snapshots that came after the session "
                                          f"ended (sessionStatus={status!r})")
                return Inbound(None, reports=self.problems.news([late]))
            reports: list[str] = []
            if problems or self.problems:  # else there is nothing to report or forget
                reports = self.problems.news(problems, values.keys() | raw["state"].keys())
            return Inbound(event, self._apply(event.state, values), reports)
        reports = self.problems.news(problems)
        if event is None or isinstance(event, protocol.StateUpdateEvent):
            return Inbound(None, reports=reports)
        if isinstance(event, protocol.SessionEndedEvent):
            if self.ended_reason is not None:
                reports += self.problems.news([Problem(
                    None, f"ignored a second {event.type} (reason={event.reason!r}); the "
                          f"session ended already (reason={self.ended_reason!r})")])
                return Inbound(None, reports=reports)
            self.ended = True
            self.ended_reason = event.reason
        return Inbound(event, reports=reports)

    def _apply(self, state: EmbeddedSessionState, new: dict[str, Any]) -> StateChange:
        old = self.raw
        # An unchanged property is the very same object from one snapshot to the next (the
        # decoder keeps it): identity settles most of them before strict_equal is called.
        # A property that is gone counts as None.
        get = old.get
        changed_wire = [
            k for k, v in new.items() if get(k) is not v and not strict_equal(get(k), v)
        ]
        changed_wire += [k for k, v in old.items() if v is not None and k not in new]
        self.raw = new
        self.state = state
        if state.session_status == "terminated":
            self.ended = True
        to_field = protocol.WIRE_TO_FIELD
        order = protocol.WIRE_ORDER
        documented = [wire for wire in changed_wire if wire in order]
        if len(documented) > 1:
            documented.sort(key=order.__getitem__)  # announced in the documented order
        return StateChange(
            state=state,
            changed=frozenset(to_field.get(k, k) for k in changed_wire),
            data={k: new[k] for k in changed_wire if k in new},
            traits=[(to_field[wire], new.get(wire)) for wire in documented],
        )
