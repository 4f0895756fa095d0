"""Replays: a saved session played again, through the simulator page or in plain Python.

``UpscopeSession.replay(log, speed)`` returns a ``ReplaySession``: a session on the
simulator page in *replay mode*, whose kernel side is a :class:`ReplayPlayer` (a plain class,
so that this module never imports the session: features depend on the core). The page is
given the recorded timeline when it is built and owns the clock that plays it (a browser timer
keeps running whatever the kernel is doing); it posts each recorded event to the notebook on
cue, so that replayed states enter Python through the same path as live ones (iframe
``postMessage`` → the widget's gate → the kernel). Python steers the page with three control
messages (play, pause, seek) and keeps a model of the page's clock, :class:`ReplayClock`, for
``ReplaySession.position``.

``log.replay_states()`` needs no browser: it rebuilds the states from the log in Python.
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from .. import protocol
from .._entries import SIMULATED_SOURCES, LogEntry
from ..errors import ReplayError as ReplayError
from ..errors import UpscopeProtocolWarning
from ._control import REPLAY_ACTIONS
from ._page import SimulatorOptions, build_page

if TYPE_CHECKING:
    from ..log import SessionLog

__all__ = [
    "MAX_SPEED",
    "ReplayClock",
    "ReplayError",
    "ReplayPlayer",
    "ReplayedState",
    "Timeline",
    "build_timeline",
    "replay_states",
]

MAX_SPEED = 1000.0
"""The fastest replay speed accepted (besides 0, which means as fast as possible)."""


class ReplayedState(NamedTuple):
    """One state of a replayed session, as ``on_state_change`` saw it when it was recorded."""

    offset: float
    """Seconds since the log's first entry."""
    time: float
    """When the state arrived, in seconds since the epoch."""
    state: protocol.EmbeddedSessionState
    """The full snapshot."""
    changed: frozenset[str]
    """The snake_case names of the properties that changed."""


def _wire_name(name: str) -> str:
    # ``changed`` holds documented properties by snake_case name, unknown ones by wire name
    return protocol.STATE_FIELDS.get(name, name)


def _states(log: SessionLog) -> Iterator[tuple[LogEntry, dict[str, Any]]]:
    """Each state entry with the full wire state it leaves behind (accumulated)."""
    state: dict[str, Any] = {}
    session: str | None = None
    for entry in log:
        if entry.session != session:
            session, state = entry.session, {}
        if entry.direction != "in" or entry.kind != protocol.STATE_UPDATE:
            continue
        state = {**state, **entry.data}
        for name in entry.changed:
            wire = _wire_name(name)
            if wire not in entry.data:
                state.pop(wire, None)
        yield entry, state


def replay_states(log: SessionLog) -> Iterator[ReplayedState]:
    """Yield the states of ``log`` in order: the ones ``on_state_change`` saw (something changed).

    Properties of the wrong type are reported as :class:`UpscopeProtocolWarning` and left
    out, as they were when the session was live.
    """
    entries = list(log)
    start = entries[0].time if entries else 0.0
    for entry, state in _states(log):
        if not entry.changed:
            continue
        parsed, _values, problems = protocol.parse_state(state)
        for problem in problems:
            warnings.warn(problem.text, UpscopeProtocolWarning, stacklevel=2)
        yield ReplayedState(entry.time - start, entry.time, parsed, entry.changed)


@dataclass(frozen=True)
class Timeline:
    """A log turned into what the replay page plays.

    ``items`` are, in order: ``[offset, "s", changed_data, removed_wire_keys]`` for a state
    update, ``[offset, "e", message]`` for any other event (posted as recorded) and
    ``[offset, "i", message, source]`` for an instruction (shown on the page, never posted).
    Offsets are seconds since the first entry, never decreasing.
    """

    items: list[list[Any]]
    duration: float
    first_event: float | None

    def page_data(self, speed: float) -> dict[str, Any]:
        """Return the ``replay`` object of the page's options."""
        return {"timeline": self.items, "speed": speed, "duration": self.duration}


def build_timeline(log: SessionLog) -> Timeline:
    """Turn ``log`` (one session) into a :class:`Timeline`."""
    entries = list(log)
    start = entries[0].time if entries else 0.0
    items: list[list[Any]] = []
    first_event: float | None = None
    last = 0.0
    for entry in entries:
        # a wall clock can step back: keep the recorded order, never a negative wait
        offset = last = max(last, round(entry.time - start, 6))
        if entry.direction == "out":
            if entry.source not in SIMULATED_SOURCES:  # the simulator's own, not the service's
                items.append([offset, "i", entry.data, entry.source])
            continue
        if first_event is None:
            first_event = offset
        if entry.kind == protocol.STATE_UPDATE:
            removed = sorted(_wire_name(n) for n in entry.changed
                             if _wire_name(n) not in entry.data)
            items.append([offset, "s", entry.data, removed])
        else:
            message = entry.data if "type" in entry.data else {"type": entry.kind, **entry.data}
            items.append([offset, "e", message])
    return Timeline(items, last, first_event)


class ReplayClock:
    """The kernel's model of the replay page's clock: where in the recording it is.

    It starts when the first replayed event reaches Python (:meth:`arrived`), then runs at
    ``speed`` recorded seconds per second of ``clock()`` until :meth:`pause`, and stops at the
    recording's end. It is never behind an event that has arrived (:meth:`arrived` tells it
    where that event was recorded): what reached Python has been played. ``speed=0`` means as
    fast as possible: once running, it is at the end.

    Args:
        duration: the recording's length in seconds.
        speed: recorded seconds per real second (0: as fast as possible).
        clock: the time source in seconds (``time.monotonic``; tests pass a fake one).
    """

    def __init__(self, duration: float, speed: float,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.duration = duration
        self.speed = speed
        self._clock = clock
        self._base = 0.0
        self._anchor = 0.0
        self._started = False
        self._playing = True
        self._floor = 0.0

    @property
    def started(self) -> bool:
        """Whether the first replayed event has reached Python."""
        return self._started

    @property
    def playing(self) -> bool:
        """Whether the replay is playing (not paused)."""
        return self._playing

    @property
    def position(self) -> float:
        """Seconds into the recording."""
        if not (self._started and self._playing):
            model = self._base
        elif self.speed == 0:
            model = self.duration
        else:
            model = self._base + (self._clock() - self._anchor) * self.speed
        return min(self.duration, max(model, self._floor))

    def arrived(self, at: float | None = None) -> None:
        """Note that a replayed event has reached Python (recorded at ``at``, if known).

        The first one starts the clock; ``at`` keeps the position from lagging behind it.
        """
        if at is not None:
            self._floor = max(self._floor, min(at, self.duration))
        if not self._started:
            self._started = True
            self._base = max(self._base, self._floor)  # the page was there when it posted it
            self._anchor = self._clock()

    def pause(self) -> None:
        """Stop the clock where it is."""
        self._base = self.position
        self._playing = False

    def play(self) -> None:
        """Run the clock again from where it stopped."""
        if self._playing:
            return
        self._playing = True
        self._anchor = self._clock()

    def seek(self, seconds: float) -> None:
        """Jump to ``seconds`` into the recording (keeps playing or paused)."""
        self._base = self._floor = seconds
        self._anchor = self._clock()


def _check_speed(speed: Any) -> float:
    if (isinstance(speed, bool) or not isinstance(speed, (int, float))
            or not math.isfinite(speed) or not 0 <= speed <= MAX_SPEED):
        raise ValueError(f"speed={speed!r} is not allowed: use a number from 0 to {MAX_SPEED:g} "
                         "(1: as recorded, 2: twice as fast, 0: as fast as possible)")
    return float(speed)


class ReplayPlayer:
    """The kernel side of a replay.

    It holds the page it plays, its clock, and where the recorded instructions belong.
    ``ReplaySession`` shows it; the player itself knows no widget.

    The page posts each recorded event to the notebook on cue, and events reach Python in
    order, none lost: the n-th one to arrive is the n-th of the timeline, until a seek makes
    the page post a state of its own choosing. The recorded instructions are shown on the page
    and never posted, so the session logs them where they belong: those recorded before an
    event just before it (:meth:`before_event`), those after the last event once it has
    arrived (:meth:`arrived`).

    Args:
        log: the recording: a ``SessionLog`` of one session.
        speed: 1 plays as recorded, 2 twice as fast, 0 as fast as possible (still in order).
        clock: the time source for the position (tests pass a fake one).
    """

    def __init__(
        self,
        log: SessionLog,
        *,
        speed: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        speed = _check_speed(speed)
        if len(log.sessions) > 1:
            raise ValueError(f"this log spans {len(log.sessions)} sessions {log.sessions}; "
                             "replay one at a time: UpscopeSession.replay(log.session(name))")
        self.recording = log
        self.timeline = build_timeline(log)
        self.page = build_page(SimulatorOptions(), replay=self.timeline.page_data(speed))
        """The simulator page in replay mode, with the timeline in it."""
        self.clock = ReplayClock(self.timeline.duration, speed, clock)
        self._arrivals: list[float] | None = [
            it[0] for it in self.timeline.items if it[1] != "i"
        ]
        self._heard = 0
        # The recorded instructions, by the number of events recorded before each.
        self._instructions: list[list[tuple[dict[str, Any], str]]] = [[]]
        for item in self.timeline.items:
            if item[1] == "i":
                self._instructions[-1].append((item[2], item[3] or "python"))
            else:
                self._instructions.append([])
        self._told = 0  # how many of those lists were handed out
        # the log class comes with the recording: this module never imports the log (a cycle)
        self.sent_log = type(log)(origin=log.origin)
        """What was sent while replaying, not the recorded ones (``ReplaySession.sent``)."""

    def refusal(self, message: dict[str, Any]) -> ReplayError:
        """Return the error for scripting the simulated visitor of a replay."""
        return ReplayError(
            f"cannot send {message.get('action')!r}: this session is a replay of a saved log, "
            "whose visitor is the recording and cannot be scripted. Use pause(), play() and "
            "seek(seconds), or simulate a live session (UpscopeSession.simulate())."
        )

    def sent(self, message: dict[str, Any], source: str) -> None:
        """Keep an instruction sent to the replay (by the automation under test)."""
        self.sent_log.add("out", str(message["action"]), dict(message), source=source)

    def before_event(self) -> list[tuple[dict[str, Any], str]]:
        """Return the recorded instructions to log before the event arriving now."""
        return self._take(self._heard)

    def arrived(self) -> list[tuple[dict[str, Any], str]]:
        """Move the clock: an event was applied.

        Returns the instructions recorded after the last event once it has arrived.
        """
        at = None
        if self._arrivals is not None and self._heard < len(self._arrivals):
            at = self._arrivals[self._heard]
        self._heard += 1
        self.clock.arrived(at)
        if self._arrivals is not None and self._heard == len(self._arrivals):
            return self._take(self._heard)
        return []

    def _take(self, up_to: int) -> list[tuple[dict[str, Any], str]]:
        if self._arrivals is None:
            return []  # after a seek, which events arrive is the page's choice: nothing to place
        taken: list[tuple[dict[str, Any], str]] = []
        while self._told <= min(up_to, len(self._instructions) - 1):
            taken += [(dict(message), source) for message, source in self._instructions[self._told]]
            self._told += 1
        return taken

    @property
    def finished(self) -> bool:
        """Whether the replay has played to the end of the recording."""
        return self.clock.started and self.clock.position >= self.timeline.duration

    def pause(self) -> dict[str, Any]:
        """Stop the clock; return the control message for the page."""
        self.clock.pause()
        return {"action": REPLAY_ACTIONS["pause"]}

    def play(self) -> dict[str, Any]:
        """Run the clock again; return the control message for the page."""
        self.clock.play()
        return {"action": REPLAY_ACTIONS["play"], "from": self.clock.position}

    def seek(self, seconds: float) -> dict[str, Any]:
        """Jump to ``seconds`` and return the control message for the page.

        The page then posts the state at that time. Raises ``ValueError`` outside 0 to the
        recording's length.
        """
        duration = self.timeline.duration
        if (isinstance(seconds, bool) or not isinstance(seconds, (int, float))
                or not math.isfinite(seconds) or not 0 <= seconds <= duration):
            raise ValueError(f"seconds={seconds!r} is not allowed: use a number from 0 to "
                             f"{duration:g} (the recording's length)")
        self.clock.seek(float(seconds))
        self._arrivals = None  # events still in flight from before the seek: stop counting
        return {"action": REPLAY_ACTIONS["seek"], "to": float(seconds)}
