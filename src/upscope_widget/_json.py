"""The two JSON jobs pydantic's types do not do: bounded checks of untrusted values, and reprs.

Values cross between Python, the browser and the iframe as JSON. Every value that crosses is
held to the same limits in both directions (``js/protocol.ts`` spells them too, drift-tested):
Python's and the browser's JSON code recurse, so a deeply nested value would raise
``RecursionError`` far from where it came in, and a huge one would be kept and copied around.
"""

from __future__ import annotations

import math
import re
import reprlib
from typing import Any

#: The deepest nesting accepted in a value (a state property, an event, a parameter).
MAX_DEPTH = 64
#: The longest JSON text accepted for one value, in characters (estimated while walking it).
MAX_JSON_CHARS = 1_048_576
#: The most properties a state snapshot may have. The documented ones are always kept; unknown
#: ones beyond the limit are left out and reported, so that a page that grows its state key by
#: key cannot make every next snapshot cost more (the frontend bounds it too).
MAX_STATE_PROPERTIES = 256
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


#: What JSON can carry, as the refusals say it.
JSON_ALLOWED = "None, bool, int, finite float, str, list (or tuple), or dict with str keys"


def json_problem(
    value: Any, *, name: str = "value", max_depth: int = MAX_DEPTH, safe_ints: bool = False
) -> str | None:
    """Return why ``value`` is not a bounded JSON value, or ``None`` if it is.

    The one check of values that cross to or from the browser. JSON here means
    :data:`JSON_ALLOWED`, with finite numbers, nested at most ``max_depth`` deep, at most
    :data:`MAX_JSON_CHARS` long as JSON (estimated while walking) and without reference
    cycles; with ``safe_ints``, integers must fit JavaScript's safe range. The walk is
    iterative, so no value can make it recurse. The answer names the bad part by its path from
    ``name`` (``message['a'][0]``) and shows it shortened.
    """
    budget = MAX_JSON_CHARS
    on_path: set[int] = set()  # containers being walked: meeting one again is a cycle
    stack: list[tuple[Any, int, str, bool]] = [(value, 1, name, False)]
    while stack:
        item, depth, path, leaving = stack.pop()
        if leaving:
            on_path.discard(id(item))
            continue
        if isinstance(item, str):
            budget -= len(item) + 2
        elif item is None or isinstance(item, bool):
            budget -= 5
        elif isinstance(item, int):
            if safe_ints and abs(item) > MAX_SAFE_INT:
                return (
                    f"{path} is {short_repr(item)}, outside JavaScript's safe integers "
                    f"(±{MAX_SAFE_INT}); send it as a string"
                )
            budget -= 20 if item.bit_length() < 64 else item.bit_length() // 3
        elif isinstance(item, float):
            if not math.isfinite(item):
                return f"{path} is {item!r}, which JSON cannot carry; use a finite number"
            budget -= 24
        elif isinstance(item, (dict, list, tuple)):
            if id(item) in on_path:
                return f"{path} contains itself (a reference cycle), which JSON cannot carry"
            if depth > max_depth:
                return f"{path} is nested deeper than {max_depth} levels"
            on_path.add(id(item))
            stack.append((item, depth, path, True))
            budget -= 2
            if isinstance(item, dict):
                for key, child in item.items():
                    if not isinstance(key, str):
                        return (
                            f"{path} has the key {short_repr(key)} of type "
                            f"{type(key).__name__}; JSON object keys must be str"
                        )
                    budget -= len(key) + 4
                    stack.append((child, depth + 1, f"{path}[{short_repr(key, 40)}]", False))
            else:
                for index, child in enumerate(item):
                    budget -= 1
                    stack.append((child, depth + 1, f"{path}[{index}]", False))
        else:
            return (
                f"{path} is {short_repr(item)} of type {type(item).__name__}; "
                f"allowed in JSON: {JSON_ALLOWED}"
            )
        if budget < 0:
            return f"{name} is longer than {MAX_JSON_CHARS} characters as JSON"
    return None


# A JSON string (closed or running to the end of the text), or one bracket: what decides nesting.
_NESTING = re.compile(r'"[^"\\]*(?:\\.[^"\\]*)*"?|[\[{]|[\]}]', re.DOTALL)


def json_text_problem(text: str, *, max_depth: int = MAX_DEPTH) -> str | None:
    """Return why JSON ``text`` must not be parsed, as a phrase, or ``None`` if it may be.

    The phrase follows "is"/"are" in the caller's sentence: ``"nested deeper than 64
    levels"`` or ``"longer than 1048576 characters"``. Python's ``json`` parser recurses, so
    text nested about a thousand deep raises ``RecursionError``; this scan is iterative and
    skips brackets inside strings, so it is the check to make before ``json.loads``. Whether
    the text is JSON at all is left to the parser.
    """
    if len(text) > MAX_JSON_CHARS:
        return f"longer than {MAX_JSON_CHARS} characters"
    depth = 0
    for match in _NESTING.finditer(text):
        token = match.group()
        if token[0] == '"':
            continue
        if token in "[{":
            depth += 1
            if depth > max_depth:
                return f"nested deeper than {max_depth} levels"
        else:
            depth -= 1
    return None


class DuplicateKeyError(ValueError):
    """A JSON object names the same key twice (``json.loads`` would keep only the last)."""

    def __init__(self, key: str) -> None:
        super().__init__(f"the key {short_repr(key, 60)} twice")
        self.key = key


def unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    """``object_pairs_hook`` for ``json.loads`` that raises :class:`DuplicateKeyError`.

    The stock parser silently keeps the last of repeated keys, so ``{"mode": "draw",
    "mode": "cursor"}`` would be read as something its sender may not have meant.
    """
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise DuplicateKeyError(key)
        result[key] = value
    return result
