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
only its origin: a URL found there is cut down to ``scheme://host[:port]`` when it is loaded and
when it is saved. It counts the entries, so that a file cut short even at the end of a line is
caught.

Whatever :meth:`SessionLog.add` accepts is saved and loaded back; what load would refuse, save
refuses (naming the entry) rather than write a file that cannot be read. Values are held to the
package's JSON bounds (:func:`upscope_widget.log.data_problem`), so that no file, however deep
or long its lines, makes load raise anything but a ``ValueError`` naming the file and the line.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from .._entries import LogEntry, data_problem
from .._json import MAX_DEPTH, MAX_JSON_CHARS
from .._version import __version__
from ..simulator._control import CONTROL_PREFIX
from ..urls import origin_of

if TYPE_CHECKING:
    from ..log import SessionLog

FORMAT = "upscope-widget session log"
"""The header's ``format``: what marks a file as a session log."""

FORMAT_VERSION = 1
"""The newest format version this package reads and the one it writes."""

_HEADER_KEYS = ("format", "version", "package", "origin", "started", "dropped", "entries")
_ENTRY_KEYS = frozenset({"time", "direction", "kind", "data", "changed", "source", "session"})
_REQUIRED_KEYS = frozenset({"time", "direction", "kind", "data"})
# A line whose values could break the bounds: nested deeper than MAX_DEPTH needs as many
# brackets; and data_problem's size estimate is at most 24 times the JSON text (a float counts
# 24, and no JSON value is shorter than one character), so a shorter line cannot exceed it.
# Only such lines are checked value by value, which keeps loading and saving fast.
_MAX_PLAIN_BRACKETS = MAX_DEPTH
_MAX_PLAIN_CHARS = MAX_JSON_CHARS // 24
_SURROGATE = re.compile("[\ud800-\udfff]")
_AUTHORITY = re.compile(r"^\s*([A-Za-z][A-Za-z0-9+.\-]*:)//(?:[^/?#@]*@)?([^/?#@]*)")


def _dumps(value: dict[str, Any]) -> str:
    return json.dumps(value, ensure_ascii=False, allow_nan=False, separators=(",", ":"))


def _refuse_constant(name: str) -> Any:
    # json.loads takes NaN and Infinity, which save (allow_nan=False) could not write back.
    raise ValueError(f"{name} is not a number JSON can carry; write null or a finite number")


def _loads(text: str) -> Any:
    return json.loads(text, parse_constant=_refuse_constant)


def _may_break_bounds(text: str) -> bool:
    return (len(text) > _MAX_PLAIN_CHARS
            or text.count("[") + text.count("{") > _MAX_PLAIN_BRACKETS)


def origin_only(origin: str | None) -> str | None:
    """Return what a saved header may hold of ``origin``: a URL's ``scheme://host[:port]``.

    A header must never hold a watch link, whose path or query is a credential, yet files
    written by hand or by older code may. ``"simulator"``, ``None`` and other strings that are
    not URLs are returned as they are.
    """
    if origin is None or "://" not in origin:
        return origin
    try:
        result = origin_of(origin)
    except ValueError:  # not a URL the browser would load: cut it by hand below
        result = "null"
    if result != "null":
        return result
    match = _AUTHORITY.match(origin)
    # Nothing that might be a link is written when its host cannot be told apart.
    return f"{match[1]}//{match[2]}" if match else None


def header_of(log: SessionLog) -> dict[str, Any]:
    """Return the header line of ``log`` as a dict (known fields, then kept unknown ones)."""
    header: dict[str, Any] = {
        "format": FORMAT,
        "version": FORMAT_VERSION,
        "package": __version__,
        "origin": origin_only(log.origin),
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
    save never leaves a cut-short log behind. Raises ``ValueError`` naming the entry for one
    that load would refuse (only hand-made entries can be: :meth:`SessionLog.add` refuses them).
    """
    target = Path(os.fspath(path))
    lines = [_dumps(header_of(log))]
    for number, entry in enumerate(log, start=1):
        try:
            line = entry_line(entry)
            text = _dumps(line)
            _check_entry(line, text)
        except _Bad as bad:
            problem = str(bad)
        except RecursionError:
            problem = f"its data is nested deeper than {MAX_DEPTH} levels"
        except (TypeError, ValueError) as err:
            problem = f"its data is not JSON ({err})"
        else:
            lines.append(text)
            continue
        raise ValueError(f"cannot save entry {number} ({entry.kind!r}) to {target}: "
                         f"{problem}")
    content = "\n".join(lines) + "\n"
    try:
        data = content.encode("utf-8")
    except UnicodeEncodeError:
        # A lone surrogate (a JavaScript string may hold one) has no UTF-8 form; it can only be
        # inside a JSON string, where its \u escape reads back as the same character.
        data = _SURROGATE.sub(lambda m: f"\\u{ord(m[0]):04x}", content).encode("utf-8")
    partial = target.with_name(target.name + ".partial")
    with open(partial, "wb") as out:
        out.write(data)
    os.replace(partial, target)


class _Bad(Exception):
    pass


def _check_header(raw: Any, text: str) -> dict[str, Any]:
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
    if _may_break_bounds(text):
        problem = data_problem({k: v for k, v in raw.items() if k not in _HEADER_KEYS},
                               name="header")
        if problem is not None:
            raise _Bad(problem)
    return raw


def _all_str(items: list[Any]) -> bool:
    try:
        "".join(items)  # in C: this runs for every entry saved or loaded
    except TypeError:
        return False
    return True


def _is_time(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _check_entry(raw: Any, text: str) -> None:
    """Raise ``_Bad`` unless ``raw`` (parsed from ``text``) is a valid entry line."""
    if not isinstance(raw, dict):
        raise _Bad(f"is not a JSON object but {type(raw).__name__}")
    if not raw.keys() >= _REQUIRED_KEYS:
        missing = next(k for k in ("time", "direction", "kind", "data") if k not in raw)
        raise _Bad(f"has no {missing!r}; every entry needs time, direction, kind and data")
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
    if not isinstance(changed, list) or not _all_str(changed):
        raise _Bad(f"changed={changed!r} is not valid; expected a list of strings")
    source = raw.get("source")
    if source is not None and not isinstance(source, str):
        raise _Bad(f"source={source!r} is not valid; expected a string or null")
    session = raw.get("session")
    if session is not None and not isinstance(session, str):
        raise _Bad(f"session={session!r} is not valid; expected a string or null")
    if _may_break_bounds(text):
        extra = {k: v for k, v in raw.items() if k not in _ENTRY_KEYS}
        problem = data_problem(data) or data_problem(extra, name="entry")
        if problem is not None:
            raise _Bad(problem)


def _entry(raw: Any, text: str) -> LogEntry:
    """Return the entry of one line (``raw`` parsed from ``text``); raise ``_Bad`` if invalid."""
    _check_entry(raw, text)
    direction, kind, source = raw["direction"], raw["kind"], raw.get("source")
    extra = {k: v for k, v in raw.items() if k not in _ENTRY_KEYS} if len(raw) > 4 else {}
    if direction == "out" and source == "python" and kind.startswith(CONTROL_PREFIX):
        # Older files logged the simulator's control messages with source "python"; the
        # analysis now tells them from instructions by their source alone.
        source = "simulator"
    return LogEntry(raw["time"], direction, kind, raw["data"], frozenset(raw.get("changed", ())),
                    source, raw.get("session"), extra)


def _fast_path(lines: list[str], cut_short: bool) -> tuple[Any, list[Any]] | None:
    """Parse every line at once (one ``json.loads`` call); ``None`` if any line is not JSON.

    Reading line by line finds and names the bad line; most files have none, and one call
    instead of one per line takes half the time.
    """
    if cut_short or len(lines) < 2:
        return None
    try:
        header = _loads(lines[0])
        records = _loads("[" + ",".join(lines[1:]) + "]")
    except (ValueError, RecursionError):  # read line by line, which names the line
        return None
    # A line holding two values ("{...},{...}") would parse as two: count them.
    if not isinstance(records, list) or len(records) != len(lines) - 1:
        return None
    return header, records


def load_one(path: str | os.PathLike[str], cls: type[SessionLog]) -> SessionLog:
    """Read one file written by :func:`save` into a ``cls``.

    Raises ``ValueError`` naming the file and line.
    """
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
    line_count = len(lines)
    header: dict[str, Any] = {}
    entries: list[LogEntry] = []
    fast = _fast_path(lines, cut_short)
    if fast is not None:  # every line is JSON: check the values, naming the line of any
        header_raw, records = fast
        try:
            header = _check_header(header_raw, lines[0])
        except _Bad as bad:
            raise ValueError(f"{where}: line 1 {bad}") from None
        for number, raw in enumerate(records, start=2):
            try:
                entries.append(_entry(raw, lines[number - 1]))
            except _Bad as bad:
                raise ValueError(f"{where}: line {number} {bad}") from None
        lines = []  # done: skip the line-by-line reading below
    for number, text_line in enumerate(lines, start=1):
        last = number == len(lines)
        try:
            try:
                raw = _loads(text_line)
            except RecursionError:
                raise _Bad(f"is nested deeper than {MAX_DEPTH} levels (far too deep to "
                           "read)") from None
            except ValueError as err:
                if last and cut_short:
                    raise _Bad("is cut short (the file ends in the middle of it): the log "
                               "was not completely written") from None
                raise _Bad(f"is not valid JSON ({err})") from None
            if number == 1:
                header = _check_header(raw, text_line)
            else:
                entries.append(_entry(raw, text_line))
            if last and cut_short:
                raise _Bad("is cut short (the file does not end with a newline): the log "
                           "was not completely written")
        except _Bad as bad:
            raise ValueError(f"{where}: line {number} {bad}") from None
    announced = header.get("entries")
    if announced is not None and announced != len(entries):
        raise ValueError(f"{where}: line {line_count + 1}: the file ends after {len(entries)} "
                         f"entries but its header announces {announced}: it was cut short (or "
                         "edited)")
    log = cls.from_entries(
        entries,
        origin=origin_only(header.get("origin")),
        started=header.get("started"),
        name=Path(where).stem,
        dropped=header.get("dropped", 0),
    )
    log.header_extra = {k: v for k, v in header.items() if k not in _HEADER_KEYS}
    return log


def load(paths: Iterable[Any], cls: type[SessionLog]) -> SessionLog:
    """Read one or several files into a ``cls``; several are concatenated (see :func:`concat`).

    ``cls`` is the log class (``SessionLog``): this module never imports the log, which
    imports it.
    """
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
    logs = [load_one(p, cls) for p in flat]  # every file is read before any is returned
    return logs[0] if len(logs) == 1 else concat(logs, cls)


def concat(logs: Iterable[SessionLog], cls: type[SessionLog]) -> SessionLog:
    """Join logs into one across sessions, in order; each entry's ``session`` names its log.

    An entry that already names its session (a concatenated log) keeps that name; otherwise
    it takes its log's :attr:`~SessionLog.name` or ``"session<N>"``, made unique with
    ``" (2)"``, ``" (3)"``….
    """
    from dataclasses import replace

    items = list(logs)
    for log in items:
        if not isinstance(log, cls):
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
    return cls.from_entries(
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
    return type(log).from_entries(entries, origin=log.origin, name=name)
