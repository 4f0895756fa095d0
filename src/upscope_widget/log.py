"""The session log: every instruction sent and every event received, in order, for analysis.

Saving, loading and concatenating live in :mod:`upscope_widget.analysis.store`, the summary and
the plot in :mod:`upscope_widget.analysis.summary` / :mod:`~upscope_widget.analysis.plot`, and
replays in :mod:`upscope_widget.simulator.replay`; they are imported only when used, so that
``import upscope_widget`` stays fast and pandas / matplotlib stay optional.
"""

from __future__ import annotations

import os
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from typing import TYPE_CHECKING, Any, SupportsIndex, overload

from ._entries import SIMULATED_SOURCES as SIMULATED_SOURCES
from ._entries import SOURCES as SOURCES
from ._entries import Direction as Direction
from ._entries import LogEntry as LogEntry
from ._entries import Source as Source
from ._entries import data_problem as data_problem
from ._json import short_repr
from .errors import missing_extra

if TYPE_CHECKING:
    from .analysis.summary import SessionSummary
    from .simulator.replay import ReplayedState



class SessionLog:
    """A bounded, ordered record of a session's traffic (the oldest entries drop first).

    ``len(log)``, iteration and indexing work as on a list; :meth:`to_records` gives plain
    dicts and :meth:`to_dataframe` a pandas DataFrame (pandas is optional). A log outlives its
    session: :meth:`save` writes it as JSON Lines and :meth:`load` reads it back, for
    :meth:`summary`, :meth:`plot` and replays (``UpscopeSession.replay(log)``).

    Args:
        maxlen: how many entries to keep (0 turns the log off).
        origin: the session's origin (never the watch link), or a callable returning it; it
            goes into a saved file's header.
    """

    def __init__(
        self,
        maxlen: int = 10_000,
        *,
        origin: str | Callable[[], str | None] | None = None,
    ) -> None:
        if isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 0:
            raise ValueError(f"log_size must be an int >= 0 (0 turns the log off), got {maxlen!r}")
        self._entries: deque[LogEntry] = deque(maxlen=maxlen)
        self._origin = origin
        self.dropped = 0
        """How many old entries were dropped to stay within :attr:`maxlen`."""
        self.started: float = time.time()
        """When the session (or the log) started, in seconds since the epoch."""
        self.name: str | None = None
        """A label for the log: the file's name without extension once loaded, else ``None``."""
        self.header_extra: dict[str, Any] = {}
        """Header fields of a loaded file that this version does not know (kept when saved)."""

    @classmethod
    def from_entries(
        cls,
        entries: Iterable[LogEntry],
        *,
        origin: str | None = None,
        started: float | None = None,
        name: str | None = None,
        dropped: int = 0,
    ) -> SessionLog:
        """Make a log holding ``entries`` (all of them: it keeps at least 10,000).

        ``started`` defaults to the first entry's time. Useful for hand-made logs in tests.
        """
        items = list(entries)
        for item in items:
            if not isinstance(item, LogEntry):
                raise ValueError(f"entries must be LogEntry objects, got {item!r}")
        log = cls(max(10_000, len(items)), origin=origin)
        log._entries.extend(items)
        log.dropped = dropped
        if started is not None:
            log.started = started
        elif items:
            log.started = items[0].time
        log.name = name
        return log

    @property
    def maxlen(self) -> int:
        """The most entries kept."""
        return self._entries.maxlen or 0

    @property
    def origin(self) -> str | None:
        """The session's origin (``"simulator"`` for the built-in simulator), or ``None``."""
        return self._origin() if callable(self._origin) else self._origin

    @origin.setter
    def origin(self, value: str | None) -> None:
        self._origin = value

    @property
    def sessions(self) -> list[str]:
        """The names of the sessions a concatenated log spans, in order (else ``[]``)."""
        seen: dict[str, None] = {}
        for entry in self._entries:
            if entry.session is not None:
                seen.setdefault(entry.session, None)
        return list(seen)

    def add(
        self,
        direction: Direction,
        kind: str,
        data: dict[str, Any],
        changed: frozenset[str] = frozenset(),
        source: str | None = None,
    ) -> None:
        """Append an entry stamped with the current time.

        ``source`` says who sent an instruction: one of :data:`SOURCES` (``"python"``, the
        default for ``"out"``, ``"toolbar"``, ...) or any other non-empty string (a source that
        a newer version sends with, as in a replay of its log); events (``"in"``) have none.

        Raises ``ValueError``, logging nothing, for an entry that could not be saved and
        loaded back: a ``kind`` that is not a non-empty string, ``data`` that is not a bounded
        JSON object (see :func:`data_problem`), ``changed`` names that are not strings.
        """
        if direction == "out":
            if source is None:
                source = "python"
            elif not isinstance(source, str) or not source:
                raise ValueError(f"source={short_repr(source)} is not valid; expected a "
                                 f"non-empty string such as one of {SOURCES}")
        elif direction == "in":
            if source is not None:
                raise ValueError(f"source={short_repr(source)} is only for instructions "
                                 "(direction 'out'); events have source None")
        else:
            raise ValueError(f"direction={short_repr(direction)} is not valid; allowed: "
                             "'in', 'out'")
        if not isinstance(kind, str) or not kind:
            raise ValueError(f"kind={short_repr(kind)} is not valid; expected a non-empty "
                             "string (the action or the event type)")
        if not isinstance(changed, (frozenset, set)) or not all(
                isinstance(name, str) for name in changed):
            raise ValueError(f"changed={short_repr(changed)} is not valid; expected a "
                             "frozenset of property names (strings)")
        problem = data_problem(data)
        if problem is not None:
            raise ValueError(f"cannot log {short_repr(kind, 60)}: {problem}")
        if not self.maxlen:
            return
        if len(self._entries) == self.maxlen:
            self.dropped += 1
        self._entries.append(
            LogEntry(time.time(), direction, kind, data, frozenset(changed), source))

    def clear(self) -> None:
        """Forget every entry."""
        self._entries.clear()
        self.dropped = 0

    def filter(self, kind: str | None = None, direction: Direction | None = None) -> list[LogEntry]:
        """Return the entries of one ``kind`` (event type or action) and/or ``direction``."""
        if direction not in (None, "in", "out"):
            raise ValueError(f"direction={direction!r} is not allowed; use 'in', 'out' or None")
        return [
            e
            for e in self._entries
            if (kind is None or e.kind == kind) and (direction is None or e.direction == direction)
        ]

    def session(self, name: str) -> SessionLog:
        """Return the entries of one session of a concatenated log, as a log of their own."""
        from .analysis.store import select_session

        return select_session(self, name)

    def to_records(self) -> list[dict[str, Any]]:
        """Return every entry as a flat dict, oldest first."""
        return [e.to_record() for e in self._entries]

    def to_dataframe(self) -> Any:
        """Return every entry as a pandas DataFrame (``time`` as datetimes); needs pandas.

        Columns: ``time``, ``direction``, ``kind``, ``changed``, ``data``, ``source``, and
        ``session`` when the log spans several sessions (:meth:`concat`).
        """
        try:
            import pandas as pd
        except ImportError:
            raise missing_extra("SessionLog.to_dataframe()", "pandas") from None
        columns = ["time", "direction", "kind", "changed", "data", "source"]
        if any(e.session is not None for e in self._entries):
            columns.append("session")
        frame = pd.DataFrame(self.to_records(), columns=columns)
        frame["time"] = pd.to_datetime(frame["time"], unit="s")
        return frame

    # --- keeping, summarizing, replaying ------------------------------------------------------

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write the log to ``path`` as JSON Lines: a header line, then one entry per line.

        The header holds the format version, the package version, the session's origin (never
        the watch link) and its start time. :meth:`load` reads the file back.
        """
        from .analysis.store import save

        save(self, path)

    @classmethod
    def load(cls, *paths: str | os.PathLike[str] | Iterable[str | os.PathLike[str]]) -> SessionLog:
        """Read a log saved with :meth:`save`; several files give one log (see :meth:`concat`).

        Raises ``ValueError`` naming the file and the line if a file is not a session log or
        was cut short; nothing is half-loaded.
        """
        from .analysis.store import load

        return load(paths, cls)

    @classmethod
    def concat(cls, logs: Iterable[SessionLog]) -> SessionLog:
        """Join several logs into one table; each entry's ``session`` names its log.

        A log's name is its :attr:`name` (a loaded file's name), else ``"session<N>"``.
        """
        from .analysis.store import concat

        return concat(logs, cls)

    def summary(self) -> SessionSummary:
        """Return the key figures of the session: duration, statuses, latency, errors, pages."""
        from .analysis.summary import summarize

        return summarize(self)

    def plot(self, ax: Any = None) -> Any:
        """Draw latency over time, with status changes and instructions marked (matplotlib).

        Returns the matplotlib ``Figure``; draws into ``ax`` if one is given.
        """
        from .analysis.plot import plot

        return plot(self, ax=ax)

    def replay_states(self) -> Iterator[ReplayedState]:
        """Yield the session's states in order, rebuilt from the log (no browser needed).

        Each item is a :class:`~upscope_widget.simulator.replay.ReplayedState`: ``offset``
        (seconds since the first entry), ``time``, the full ``state`` and the ``changed``
        names, exactly as ``on_state_change`` saw them.
        """
        from .simulator.replay import replay_states

        return replay_states(self)

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(list(self._entries))

    @overload
    def __getitem__(self, index: SupportsIndex) -> LogEntry: ...

    @overload
    def __getitem__(self, index: slice) -> list[LogEntry]: ...

    def __getitem__(self, index: SupportsIndex | slice) -> LogEntry | list[LogEntry]:
        """Return the entry at ``index`` (negative counts from the end), or a list for a slice."""
        if isinstance(index, slice):
            return list(self._entries)[index]
        return self._entries[index]

    def __repr__(self) -> str:
        where = f" {self.name!r}" if self.name else ""
        return (f"<SessionLog{where} {len(self)} entries (max {self.maxlen}, "
                f"{self.dropped} dropped)>")
