"""How a TypeScript constant is named after the wire value it holds (for the drift tests).

``KEY_SESSION_STATUS = "sessionStatus"``, ``MODE_VISITOR_SCREEN = "visitor_screen"``,
``VIDEO_AUTHORIZING = "authorizing:"``. The drift tests check each constant's *name* against its
value, as well as the value against Python's: two values swapped between constants then fail,
which a check of the values alone (is it one of Python's?) would let through.
"""

from __future__ import annotations

import re


def upper_snake(value: str) -> str:
    """``"sessionStatus"`` -> ``"SESSION_STATUS"``; ``"remote_control:inactive"`` likewise."""
    spaced = re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", value)
    return re.sub(r"[^A-Za-z0-9]+", "_", spaced).strip("_").upper()


def name_matches(name: str, prefix: str, value: str) -> bool:
    """Whether ``name`` is ``prefix`` plus the value's name (with or without a ``x:`` scope)."""
    scoped = value.split(":", 1)[1] if ":" in value.rstrip(":") else value
    return name in {prefix + upper_snake(value), prefix + upper_snake(scoped)}
