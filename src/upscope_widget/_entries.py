"""The log's leaf: one entry, who can send an instruction, and what an entry may hold.

The session log, the analysis and the replay all import from here, and this module imports none
of them, so that they never import each other in a circle.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any, Literal, get_args

from ._json import MAX_DEPTH, MAX_JSON_CHARS, json_problem, short_repr

Direction = Literal["in", "out"]
Source = Literal["python", "toolbar", "agent", "mcp", "simulator", "replay"]

#: Who can send an instruction: code in a cell (``"python"``), a click in the widget's toolbar
#: (``"toolbar"``), a model's tool call through ``run_tool_call(s)`` (``"agent"``), the MCP
#: endpoint (``"mcp"``), the simulator's scripting handle (``"simulator"``: never reaches the
#: service) and a replay's own controls (``"replay"``: play, pause, seek).
SOURCES: tuple[str, ...] = get_args(Source)

#: Sources whose instructions are the simulator's or a replay's own, never the service's.
SIMULATED_SOURCES: frozenset[str] = frozenset({"simulator", "replay"})

# The longest string json_problem passes (it counts a string's quotes too).
_PLAIN_CHARS = MAX_JSON_CHARS - 2


def data_problem(data: object, name: str = "data") -> str | None:
    """Return why ``data`` cannot be an entry's ``data``, or ``None`` if it can.

    ``data`` must be a dict with str keys whose every value is a bounded JSON value
    (:func:`upscope_widget._json.json_problem`: at most ``MAX_DEPTH`` deep and
    ``MAX_JSON_CHARS`` long each). The values are checked one by one, as the session checks
    the properties of a state, so that whatever the session logs is accepted; and whatever is
    accepted can be saved and loaded back.
    """
    if not isinstance(data, dict):
        return f"{name}={short_repr(data)} is not valid; expected a dict (a JSON object)"
    for key, value in data.items():
        if not isinstance(key, str):
            return (f"{name} has the key {short_repr(key)} of type {type(key).__name__}; "
                    "JSON object keys must be str")
        # Most values are small scalars that json_problem would pass: every state update is
        # logged, so they are settled here without its walk (same verdict).
        kind = type(value)
        if (value is None or kind is bool or (kind is str and len(value) < _PLAIN_CHARS)
                or (kind is int and value.bit_length() < 64)
                or (kind is float and math.isfinite(value))):
            continue
        if json_problem(value, max_depth=MAX_DEPTH) is not None:  # named only when it fails
            return json_problem(value, name=f"{name}[{short_repr(key, 40)}]",
                                max_depth=MAX_DEPTH)
    return None


@dataclass(frozen=True)
class LogEntry:
    """One line of the session log.

    ``direction`` is ``"out"`` for an instruction (``kind`` is its ``action``) and ``"in"`` for
    an event (``kind`` is its ``type``). ``data`` is the wire message; for a state update it
    holds only the properties that changed (wire names), and ``changed`` their snake_case names
    (a property that disappeared is in ``changed`` but not in ``data``).

    ``source`` says who sent an instruction (one of :data:`SOURCES`, or a source a newer
    version knows, kept as it is); it is ``None`` for events. ``session`` names the session an
    entry came from in a log that spans several (:meth:`SessionLog.concat`), else ``None``.
    ``extra`` keeps the fields of a saved entry that this version does not know, so that they
    survive a load and a save.
    """

    time: float
    direction: Direction
    kind: str
    data: dict[str, Any]
    changed: frozenset[str] = field(default_factory=frozenset)
    source: str | None = None
    session: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def to_record(self) -> dict[str, Any]:
        """Return the entry as a flat dict (one row of a table)."""
        record = {
            "time": self.time,
            "direction": self.direction,
            "kind": self.kind,
            "changed": sorted(self.changed),
            "data": self.data,
            "source": self.source,
        }
        if self.session is not None:
            record["session"] = self.session
        return record
