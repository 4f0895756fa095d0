"""The session log: every instruction sent and every event received, in order, for analysis."""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

Direction = Literal["in", "out"]


@dataclass(frozen=True)
class LogEntry:
    """One line of the session log.

    ``direction`` is ``"out"`` for an instruction (``kind`` is its ``action``) and ``"in"`` for
    an event (``kind`` is its ``type``). ``data`` is the wire message; for a state update it
    holds only the properties that changed (wire names), and ``changed`` their snake_case names.
    """

    time: float
    direction: Direction
    kind: str
    data: dict[str, Any]
    changed: frozenset[str] = field(default_factory=frozenset)

    def to_record(self) -> dict[str, Any]:
        """Return the entry as a flat dict (one row of a table)."""
        return {
            "time": self.time,
            "direction": self.direction,
            "kind": self.kind,
            "changed": sorted(self.changed),
            "data": self.data,
        }


class SessionLog:
    """A bounded, ordered record of a session's traffic (the oldest entries drop first).

    ``len(log)``, iteration and indexing work as on a list; :meth:`to_records` gives plain
    dicts and :meth:`to_dataframe` a pandas DataFrame (pandas is optional).
    """

    def __init__(self, maxlen: int = 10_000) -> None:
        if isinstance(maxlen, bool) or not isinstance(maxlen, int) or maxlen < 0:
            raise ValueError(f"log_size must be an int >= 0 (0 turns the log off), got {maxlen!r}")
        self._entries: deque[LogEntry] = deque(maxlen=maxlen)
        self.dropped = 0
        """How many old entries were dropped to stay within :attr:`maxlen`."""

    @property
    def maxlen(self) -> int:
        """The most entries kept."""
        return self._entries.maxlen or 0

    def add(
        self,
        direction: Direction,
        kind: str,
        data: dict[str, Any],
        changed: frozenset[str] = frozenset(),
    ) -> None:
        """Append an entry stamped with the current time."""
        if not self.maxlen:
            return
        if len(self._entries) == self.maxlen:
            self.dropped += 1
        self._entries.append(LogEntry(time.time(), direction, kind, data, changed))

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

    def to_records(self) -> list[dict[str, Any]]:
        """Return every entry as a flat dict, oldest first."""
        return [e.to_record() for e in self._entries]

    def to_dataframe(self) -> Any:
        """Return every entry as a pandas DataFrame (``time`` as datetimes); needs pandas."""
        try:
            import pandas as pd
        except ImportError:
            raise ImportError(
                "SessionLog.to_dataframe() needs pandas: pip install pandas"
            ) from None
        columns = ["time", "direction", "kind", "changed", "data"]
        frame = pd.DataFrame(self.to_records(), columns=columns)
        frame["time"] = pd.to_datetime(frame["time"], unit="s")
        return frame

    def __len__(self) -> int:
        return len(self._entries)

    def __iter__(self) -> Iterator[LogEntry]:
        return iter(list(self._entries))

    def __getitem__(self, index: int) -> LogEntry:
        return self._entries[index]

    def __repr__(self) -> str:
        return f"<SessionLog {len(self)} entries (max {self.maxlen}, {self.dropped} dropped)>"
