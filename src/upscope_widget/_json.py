"""The two JSON jobs pydantic's types do not do: bounded checks of untrusted values, and reprs.

Values cross between Python, the browser and the iframe as JSON. Every value that crosses is
held to the same limits in both directions (``js/protocol.ts`` spells them too, drift-tested):
Python's and the browser's JSON code recurse, so a deeply nested value would raise
``RecursionError`` far from where it came in, and a huge one would be kept and copied around.
"""

from __future__ import annotations

import math
import reprlib
from typing import Any

#: The deepest nesting accepted in a value (a state property, an event, a parameter).
MAX_DEPTH = 64
#: The longest JSON text accepted for one value, in characters (estimated while walking it).
MAX_JSON_CHARS = 1_048_576
#: Integers beyond this lose precision in JavaScript, which is where instructions go.
MAX_SAFE_INT = 2**53 - 1

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxdict = 6
_REPR.maxlist = 6
_REPR.maxtuple = 6
_REPR.maxset = 6
_REPR.maxstring = 60
_REPR.maxlong = 40
_REPR.maxother = 60


def short_repr(value: Any, limit: int = 120) -> str:
    """Return a ``repr`` of ``value`` at most ``limit`` characters long, never raising.

    It is built without ever making the whole ``repr``: a 4 MB value costs no more than a
    small one.
    """
    try:
        text = _REPR.repr(value)
    except Exception:  # e.g. an int too long to print: say what it is instead
        text = _describe(value)
    return text if len(text) <= limit else text[: limit - 1] + "…"


def _describe(value: Any) -> str:
    if isinstance(value, int):
        return f"<an int of about {int(value.bit_length() * 0.30103) + 1} digits>"
    return f"<a {type(value).__name__}>"


def json_problem(value: Any, *, max_depth: int = MAX_DEPTH, safe_ints: bool = False) -> str | None:
    """Return why ``value`` is not a bounded JSON value, or ``None`` if it is.

    JSON here means: dicts with ``str`` keys, lists (or tuples), ``str``, ``int``, finite
    ``float``, ``bool`` and ``None``; nested at most ``max_depth`` deep and at most
    :data:`MAX_JSON_CHARS` long as JSON. With ``safe_ints``, integers must fit JavaScript's
    safe range. The walk is iterative, so no value can make it recurse. The answer names
    where in the value the problem is (``at ['a'][0]``) and shows the bad part, shortened.
    """
    budget = MAX_JSON_CHARS
    stack: list[tuple[Any, int, str]] = [(value, 1, "")]
    while stack:
        item, depth, path = stack.pop()
        where = f" at {path}" if path else ""
        if isinstance(item, str):
            budget -= len(item) + 2
        elif item is None or isinstance(item, bool):
            budget -= 5
        elif isinstance(item, int):
            if safe_ints and abs(item) > MAX_SAFE_INT:
                return (
                    f"{short_repr(item)}{where} is outside JavaScript's safe integers "
                    f"(±{MAX_SAFE_INT}); send it as a string"
                )
            budget -= 20 if item.bit_length() < 64 else item.bit_length() // 3
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{item!r}{where} is not a finite number (JSON has no NaN or Infinity)"
            budget -= 24
        elif isinstance(item, (dict, list, tuple)):
            if depth > max_depth:
                return f"the value is nested deeper than {max_depth} levels{where}"
            budget -= 2
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):
                        return f"key {short_repr(key)}{where} is not a string (JSON keys are)"
                    budget -= len(key) + 4
                    stack.append((child, depth + 1, f"{path}[{short_repr(key, 40)}]"))
            else:
                for index, child in enumerate(item):
                    budget -= 1
                    stack.append((child, depth + 1, f"{path}[{index}]"))
        else:
            return (
                f"{short_repr(item)}{where} ({type(item).__name__}) is not JSON; allowed: "
                "dict with str keys, list, str, int, float, bool, None"
            )
        if budget < 0:
            return f"the value is longer than {MAX_JSON_CHARS} characters as JSON"
    return None
