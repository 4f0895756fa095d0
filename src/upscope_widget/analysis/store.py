"""Keep session logs: save as JSON Lines, load back (checked line by line), concatenate.

The file is UTF-8 JSON Lines. Line 1 is a header::

    {"format": "upscope-widget session log", "version": 1, "package": "0.1.0",
     "origin": "https://watch.example.com", "started": 1764495600.0, "dropped": 0,
     "entries": 2}

and each further line is one entry, oldest first::

    {"time": 1764495600.25, "direction": "in", "kind": "upscope.sessionState.update",
     "data": {"sessionStatus": "active"}, "changed": ["session_status"]}

``changed`` is left out when empty, ``source`` when ``None`` and ``session`` unless the log
spans several sessions. Fields this version does not know are kept and written back, so
save → load → save gives the same bytes. The header never holds the watch link (a credential),
only its origin. It counts the entries, so that a file cut short even at the end of a line is
caught.
"""

from __future__ import annotations

import json
import math
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from ..log import LogEntry, SessionLog

FORMAT = "upscope-widget session log"
"""The header's ``format``: what marks a file as a session log."""

FORMAT_VERSION = 1
"""The newest format version this package reads and the one it writes."""

_HEADER_KEYS = ("format", "version", "package", "origin", "started", "dropped", "entries")
_ENTRY_KEYS = frozenset({"time", "direction", "kind", "data", "changed", "source", "session"})


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def header_of(log: SessionLog) -> dict[str, Any]:
    """Return the header line of ``log`` as a dict (known fields, then kept unknown ones)."""
    from .. import __version__

    header: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "package": __version__,
        "origin": log.origin,
        "started": log.started,
        "dropped": log.dropped,
        "entries": len(log),
    }
    for key, value in log.header_extra.items():
        header.setdefault(key, value)
    return header


def entry_line(entry: LogEntry) -> dict[str, Any]:
    """Return one entry as the dict written on its line."""
    line: dict[str, Any] = {
        "time": entry.time,
        "direction": entry.direction,
        "kind": entry.kind,
        "data": entry.data,
    }
    if entry.changed:
        line["changed"] = sorted(entry.changed)
    if entry.source is not None:
        line["source"] = entry.source
    if entry.session is not None:
        line["session"] = entry.session
    for key, value in entry.extra.items():
        line.setdefault(key, value)
    return line


def save(log: SessionLog, path: str | os.PathLike[str]) -> None:
    """Write ``log`` to ``path`` (see the module's docstring for the format).

    The file is written next to ``path`` first and then moved into place, so an interrupted
    save never leaves a cut-short log behind.
    """
    target = Path(os.fspath(path))
    lines = [_dumps(header_of(log))]
    for number, entry in enumerate(log, start=2):
        try:
            lines.append(_dumps(entry_line(entry)))
        except (TypeError, ValueError) as err:
            raise ValueError(f"cannot save entry {number - 1} ({entry.kind!r}) to {target}: "
                             f"its data is not JSON ({err})") from None
    partial = target.with_name(target.name + ".partial")
    with open(partial, "w", encoding="utf-8", newline="\n") as out:
        out.write("\n".join(lines))
        out.write("\n")
    os.replace(partial, target)


class _Bad(Exception):
    pass


def _check_header(raw: Any) -> dict[str, Any]:
    if not isinstance(raw, dict) or raw.get("format") != FORMAT:
        raise _Bad(f"is not an upscope-widget session log (its first line must be a header "
                   f"with \"format\": {FORMAT!r})")
    version = raw.get("version")
    if isinstance(version, bool) or not isinstance(version, int) or version < 1:
        raise _Bad(f"header: version={version!r} is not valid; expected an int >= 1")
    if version > FORMAT_VERSION:
        raise _Bad(f"header: format version {version} is newer than this upscope-widget reads "
                   f"({FORMAT_VERSION}); upgrade upscope-widget to load it")
    origin = raw.get("origin")
    if origin is not None and not isinstance(origin, str):
        raise _Bad(f"header: origin={origin!r} is not valid; expected a string or null")
    started = raw.get("started")
    if started is not None and not _is_time(started):
        raise _Bad(f"header: started={started!r} is not valid; expected seconds since the epoch")
    for key in ("dropped", "entries"):
        value = raw.get(key, 0)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise _Bad(f"header: {key}={value!r} is not valid; expected an int >= 0")
    return raw


def _is_time(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _entry(raw: Any) -> LogEntry:
    if not isinstance(raw, dict):
        raise _Bad(f"is not a JSON object but {type(raw).__name__}")
    for key in ("time", "direction", "kind", "data"):
        if key not in raw:
            raise _Bad(f"has no {key!r}; every entry needs time, direction, kind and data")
    when = raw["time"]
    if not _is_time(when):
        raise _Bad(f"time={when!r} is not valid; expected seconds since the epoch (a number)")
    direction = raw["direction"]
    if direction not in ("in", "out"):
        raise _Bad(f"direction={direction!r} is not valid; allowed: 'in', 'out'")
    kind = raw["kind"]
    if not isinstance(kind, str) or not kind:
        raise _Bad(f"kind={kind!r} is not valid; expected a non-empty string")
    data = raw["data"]
    if not isinstance(data, dict):
        raise _Bad(f"data={data!r} is not valid; expected a JSON object")
    changed = raw.get("changed", [])
    if not isinstance(changed, list) or not all(isinstance(c, str) for c in changed):
        raise _Bad(f"changed={changed!r} is not valid; expected a list of strings")
    source = raw.get("source")
    if source is not None and not isinstance(source, str):
        raise _Bad(f"source={source!r} is not valid; expected a string or null")
    session = raw.get("session")
    if session is not None and not isinstance(session, str):
        raise _Bad(f"session={session!r} is not valid; expected a string or null")
    extra = {k: v for k, v in raw.items() if k not in _ENTRY_KEYS} if len(raw) > 4 else {}
    return LogEntry(when, direction, kind, data, frozenset(changed), source, session, extra)


def _fast_path(lines: list[str], cut_short: bool) -> tuple[Any, list[Any]] | None:
    """Parse every line at once (one ``json.loads`` call); ``None`` if any line is not JSON.

    Reading line by line finds and names the bad line; most files have none, and one call
    instead of one per line takes half the time.
    """
    if cut_short or len(lines) < 2:
        return None
    try:
        header = json.loads(lines[0])
        records = json.loads("[" + ",".join(lines[1:]) + "]")
    except ValueError:
        return None
    # A line holding two values ("{...},{...}") would parse as two: count them.
    if not isinstance(records, list) or len(records) != len(lines) - 1:
        return None
    return header, records


def load_one(path: str | os.PathLike[str]) -> SessionLog:
    """Read one file written by :func:`save`; raise ``ValueError`` naming the file and line."""
    where = os.fspath(path)
    with open(where, "rb") as handle:
        raw_bytes = handle.read()
    try:
        text = raw_bytes.decode("utf-8")
    except UnicodeDecodeError as err:
        at = raw_bytes.count(b"\n", 0, err.start) + 1
        if err.end == len(raw_bytes) and b"\n" not in raw_bytes[err.start:]:
            raise ValueError(f"{where}: line {at} is cut short (the file ends in the middle "
                             "of a character): the log was not completely written") from None
        raise ValueError(f"{where}: line {at} is not UTF-8 text, so the file is not a session "
                         f"log ({err.reason} at byte {err.start})") from None
    if not text:
        raise ValueError(f"{where}: line 1: the file is empty; a session log starts with a "
                         "header line")
    lines = text.split("\n")
    cut_short = lines[-1] != ""
    if not cut_short:
        lines.pop()
    header: dict[str, Any] = {}
    entries: list[LogEntry] = []
    fast = _fast_path(lines, cut_short)
    if fast is not None:  # every line is JSON: check the values, naming the line of any
        header_raw, records = fast
        try:
            header = _check_header(header_raw)
        except _Bad as bad:
            raise ValueError(f"{where}: line 1 {bad}") from None
        for number, raw in enumerate(records, start=2):
            try:
                entries.append(_entry(raw))
            except _Bad as bad:
                raise ValueError(f"{where}: line {number} {bad}") from None
        lines = []  # done: skip the line-by-line reading below
    for number, text_line in enumerate(lines, start=1):
        last = number == len(lines)
        try:
            try:
                raw = json.loads(text_line)
            except ValueError as err:
                if last and cut_short:
                    raise _Bad("is cut short (the file ends in the middle of it): the log "
                               "was not completely written") from None
                raise _Bad(f"is not valid JSON ({err})") from None
            if number == 1:
                header = _check_header(raw)
            else:
                entries.append(_entry(raw))
            if last and cut_short:
                raise _Bad("is cut short (the file does not end with a newline): the log "
                           "was not completely written")
        except _Bad as bad:
            raise ValueError(f"{where}: line {number} {bad}") from None
    announced = header.get("entries")
    if announced is not None and announced != len(entries):
        raise ValueError(f"{where}: line {len(lines) + 1}: the file ends after {len(entries)} "
                         f"entries but its header announces {announced}: it was cut short (or "
                         "edited)")
    log = SessionLog.from_entries(
        entries,
        origin=header.get("origin"),
        started=header.get("started"),
        name=Path(where).stem,
        dropped=header.get("dropped", 0),
    )
    log.header_extra = {k: v for k, v in header.items() if k not in _HEADER_KEYS}
    return log


def load(paths: Iterable[Any]) -> SessionLog:
    """Read one or several files; several are concatenated (see :func:`concat`)."""
    flat: list[str | os.PathLike[str]] = []
    for item in paths:
        if isinstance(item, (str, os.PathLike)):
            flat.append(item)
        elif isinstance(item, Iterable):
            for inner in item:
                if not isinstance(inner, (str, os.PathLike)):
                    raise ValueError(f"a path must be a str or os.PathLike, got {inner!r}")
                flat.append(inner)
        else:
            raise ValueError(f"a path must be a str or os.PathLike, got {item!r}")
    if not flat:
        raise ValueError("SessionLog.load() needs at least one file")
    logs = [load_one(p) for p in flat]  # every file is read before any is returned
    return logs[0] if len(logs) == 1 else concat(logs)


def concat(logs: Iterable[SessionLog]) -> SessionLog:
    """Join logs into one across sessions, in order; each entry's ``session`` names its log.

    An entry that already names its session (a concatenated log) keeps that name; otherwise
    it takes its log's :attr:`~SessionLog.name` or ``"session<N>"``, made unique with
    ``" (2)"``, ``" (3)"``….
    """
    from dataclasses import replace

    items = list(logs)
    for log in items:
        if not isinstance(log, SessionLog):
            raise ValueError(f"concat takes SessionLog objects, got {log!r}")
    if not items:
        raise ValueError("SessionLog.concat() needs at least one log")
    used: set[str] = set()
    entries: list[LogEntry] = []
    for index, log in enumerate(items, start=1):
        base = log.name or f"session{index}"
        label, n = base, 1
        while label in used:
            n += 1
            label = f"{base} ({n})"
        used.add(label)
        used.update(log.sessions)
        entries.extend(e if e.session is not None else replace(e, session=label) for e in log)
    origins = {log.origin for log in items}
    return SessionLog.from_entries(
        entries,
        origin=origins.pop() if len(origins) == 1 else None,
        started=min(log.started for log in items),
        dropped=sum(log.dropped for log in items),
    )


def select_session(log: SessionLog, name: str) -> SessionLog:
    """Return the entries of session ``name`` of a concatenated log, as a log of their own."""
    from dataclasses import replace

    names = log.sessions
    if name not in names:
        raise ValueError(f"session={name!r} is not in this log; its sessions: {names}")
    entries = [replace(e, session=None) for e in log if e.session == name]
    return SessionLog.from_entries(entries, origin=log.origin, name=name)
