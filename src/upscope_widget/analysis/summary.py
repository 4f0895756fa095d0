"""``log.summary()`` / ``session.summary()``: a session's key figures, in plain Python.

No pandas needed: the summary walks the log once. In a notebook it shows as an HTML table;
elsewhere its ``repr`` is a readable block of text.
"""

from __future__ import annotations

import html
import math
import statistics
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeGuard

from .. import protocol
from .._entries import SIMULATED_SOURCES

if TYPE_CHECKING:
    from ..log import SessionLog

_STATUS = "sessionStatus"
_BOUNCE = "dataBounceSpeed"
_URL = "currentUrl"
_TAB = "activeConnectionId"


@dataclass(frozen=True)
class LatencyStats:
    """``dataBounceSpeed`` (the session's data round trip, ms) over the snapshots that set it.

    A value of 0 (or less) means "not measured yet" (sessions start with it) and is left out.

    ``p95`` is the nearest-rank 95th percentile: the smallest value that at least 95 % of the
    values do not exceed.
    """

    count: int
    min: float
    median: float
    p95: float
    max: float


@dataclass(frozen=True)
class SessionSummary:
    """The key figures of a session log (see :meth:`SessionLog.summary`).

    Times are in seconds; ``offset``s count from the log's first entry.
    """

    name: str | None
    """The log's name (a loaded file's name), if any."""
    entries: int
    """How many entries the log holds."""
    duration: float
    """Seconds from the first entry to the last."""
    time_to_ready: float | None
    """Seconds from the first state to the first ``viewerReady``; ``None`` if never ready.

    In a log that spans several sessions, the first session to be ready counts, timed from
    its own first state."""
    status_timeline: tuple[tuple[float, str | None], ...]
    """``(offset, status)`` at each change of ``sessionStatus``, in order."""
    latency: LatencyStats | None
    """``dataBounceSpeed`` min / median / p95 / max in ms; ``None`` if no snapshot had one."""
    instructions_by_action: dict[str, int]
    """How many instructions of each action were sent (simulator controls not included)."""
    instructions_by_source: dict[str, int]
    """How many instructions each source sent (``"python"``, ``"toolbar"``, ``"agent"``...)."""
    errors_by_code: dict[str, int]
    """How many ``error`` events of each code arrived."""
    custom_messages_in: int
    """``customMessage`` events from the visitor."""
    custom_messages_out: int
    """``sendCustomMessage`` instructions to the visitor."""
    pages: tuple[str, ...]
    """Every ``currentUrl`` seen, in the order first visited."""
    tabs: tuple[str, ...]
    """Every ``activeConnectionId`` seen (the tabs viewed), in the order first viewed."""
    ended: str | None = None
    """The ``sessionEnded`` reason, if the session ended."""
    sessions: tuple[str, ...] = ()
    """The sessions a concatenated log spans (else empty)."""
    simulator_controls: dict[str, int] = field(default_factory=dict)
    """The simulator's and a replay's own messages (sources ``"simulator"`` and ``"replay"``:
    ``session.simulator``, a replay's play, pause and seek), by action."""

    @property
    def instructions(self) -> int:
        """How many instructions were sent in all."""
        return sum(self.instructions_by_action.values())

    @property
    def errors(self) -> int:
        """How many ``error`` events arrived in all."""
        return sum(self.errors_by_code.values())

    def rows(self) -> list[tuple[str, str]]:
        """Return the summary as ``(label, text)`` rows, as ``repr`` and notebooks show it."""
        lat = self.latency
        rows = [
            ("entries", f"{self.entries:,}"),
            ("duration", _secs(self.duration)),
            ("first state → viewerReady",
             "never ready" if self.time_to_ready is None else _secs(self.time_to_ready)),
            ("status timeline", " → ".join(f"{s} ({_secs(t)})" for t, s in self.status_timeline)
             or "-"),
            ("latency (dataBounceSpeed)",
             "-" if lat is None else
             f"min {_num(lat.min)} · median {_num(lat.median)} · p95 {_num(lat.p95)} · "
             f"max {_num(lat.max)} ms (n={lat.count})"),
            ("instructions by action", _counts(self.instructions_by_action)),
            ("instructions by source", _counts(self.instructions_by_source)),
            ("errors by code", _counts(self.errors_by_code)),
            ("custom messages", f"in {self.custom_messages_in} · out {self.custom_messages_out}"),
            ("pages visited", f"{len(self.pages)}: " + ", ".join(self.pages) if self.pages
             else "-"),
            ("tabs viewed", f"{len(self.tabs)}: " + ", ".join(self.tabs) if self.tabs else "-"),
        ]
        if self.ended is not None:
            rows.append(("ended", self.ended))
        if self.simulator_controls:
            rows.append(("simulator controls", _counts(self.simulator_controls)))
        if self.sessions:
            rows.append(("sessions", f"{len(self.sessions)}: " + ", ".join(self.sessions)))
        return rows

    def __repr__(self) -> str:
        rows = self.rows()
        width = max(len(label) for label, _ in rows)
        title = f"SessionSummary {self.name!r}" if self.name else "SessionSummary"
        return "\n".join([title, *(f"  {label.ljust(width)}  {text}" for label, text in rows)])

    def _repr_html_(self) -> str:
        title = "Session summary" + (f": {self.name}" if self.name else "")
        body = "".join(
            f"<tr><th style='text-align:left;padding-right:1em'>{html.escape(label)}</th>"
            f"<td style='text-align:left'>{html.escape(text)}</td></tr>"
            for label, text in self.rows()
        )
        return (f"<table class='upscope-summary'><caption style='text-align:left'>"
                f"<b>{html.escape(title)}</b></caption>{body}</table>")


def _secs(value: float) -> str:
    return f"{value:.2f} s" if abs(value) < 10 else f"{value:,.1f} s"


def _num(value: float) -> str:
    return f"{value:g}" if float(value).is_integer() else f"{value:.1f}"


def _counts(counts: dict[str, int]) -> str:
    if not counts:
        return "-"
    total = sum(counts.values())
    return f"{total}: " + ", ".join(f"{k} {v}" for k, v in counts.items())


def is_latency(value: object) -> TypeGuard[float]:
    """Whether ``value`` is a measured ``dataBounceSpeed`` (a finite number > 0)."""
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value) and value > 0)


def nearest_rank(values: list[float], q: float) -> float:
    """Return the nearest-rank ``q``-th percentile (0 < q <= 100) of non-empty ``values``."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(q / 100 * len(ordered)) - 1)]


def _by_count(counter: Counter[str]) -> dict[str, int]:
    return dict(sorted(counter.items(), key=lambda kv: (-kv[1], kv[0])))


def summarize(log: SessionLog) -> SessionSummary:
    """Walk ``log`` once and return its :class:`SessionSummary`."""
    entries = list(log)
    start = entries[0].time if entries else 0.0
    duration = entries[-1].time - start if entries else 0.0
    actions: Counter[str] = Counter()
    sources: Counter[str] = Counter()
    controls: Counter[str] = Counter()
    errors: Counter[str] = Counter()
    custom_in = custom_out = 0
    bounces: list[float] = []
    pages: dict[str, None] = {}
    tabs: dict[str, None] = {}
    timeline: list[tuple[float, str | None]] = []
    status: str | None = None
    first_state: float | None = None  # of the current session
    time_to_ready: float | None = None
    ended: str | None = None
    session: str | None = None
    for e in entries:
        if e.session != session:  # a new session of a concatenated log starts from nothing
            session, status, first_state = e.session, None, None
        if e.direction == "out":
            if e.source in SIMULATED_SOURCES:  # never sent to the service
                controls[e.kind] += 1
                continue
            actions[e.kind] += 1
            sources[e.source or "unknown"] += 1
            if e.kind == protocol.SEND_CUSTOM_MESSAGE:
                custom_out += 1
            continue
        if e.kind == protocol.STATE_UPDATE:
            if first_state is None:
                first_state = e.time
            data = e.data
            if _STATUS in data:
                new = data[_STATUS] if isinstance(data[_STATUS], str) else None
            elif "session_status" in e.changed:
                new = None  # the property disappeared
            else:
                new = status
            if new != status:
                status = new
                timeline.append((e.time - start, status))
                if status == "viewerReady" and time_to_ready is None:
                    time_to_ready = e.time - first_state
            bounce = data.get(_BOUNCE)
            if is_latency(bounce):
                bounces.append(bounce)
            url = data.get(_URL)
            if isinstance(url, str):
                pages.setdefault(url, None)
            tab = data.get(_TAB)
            if isinstance(tab, str):
                tabs.setdefault(tab, None)
        elif e.kind == protocol.ERROR:
            code = e.data.get("error")
            errors[code if isinstance(code, str) else repr(code)] += 1
        elif e.kind == protocol.CUSTOM_MESSAGE:
            custom_in += 1
        elif e.kind == protocol.SESSION_ENDED:
            reason = e.data.get("reason")
            ended = reason if isinstance(reason, str) else repr(reason)
    latency = None
    if bounces:
        latency = LatencyStats(
            count=len(bounces),
            min=min(bounces),
            median=statistics.median(bounces),
            p95=nearest_rank(bounces, 95),
            max=max(bounces),
        )
    return SessionSummary(
        name=log.name,
        entries=len(entries),
        duration=duration,
        time_to_ready=time_to_ready,
        status_timeline=tuple(timeline),
        latency=latency,
        instructions_by_action=_by_count(actions),
        instructions_by_source=_by_count(sources),
        errors_by_code=_by_count(errors),
        custom_messages_in=custom_in,
        custom_messages_out=custom_out,
        pages=tuple(pages),
        tabs=tuple(tabs),
        ended=ended,
        sessions=tuple(log.sessions),
        simulator_controls=_by_count(controls),
    )
