"""Hypothesis strategies for everything the session's iframe (or a crafted frontend) can send.

One generator serves both halves of the inbound fuzz (issue #13):

* ``messages`` is what the iframe may post: valid snapshots (``wire.snapshot()``), snapshots
  with properties mutated (wrong types, huge strings, deep nesting, NaN and infinities,
  negative counts, prototype and pydantic keys at every level, unknown properties and enum
  values), the other events, unknown types and non-objects. The browser half posts these
  from the session iframe (and from a stranger's).
* ``batch_items``, ``batches`` and ``frontend_contents`` wrap them the way the frontend hands
  them to Python (``{"s": changes, "x": removed, "f": full, "i": invalid}``, ``{"e": message}``,
  …) and add what only a crafted frontend would send (extra keys, wrong ``x``/``i``/``f``
  types, other kinds). Only the Python half uses these: the browser makes its own batches.

:func:`to_browser` turns a message into the JSON text the browser half posts (non-finite
numbers travel as markers that :data:`REVIVE_JS` turns back), or ``None`` when JavaScript
cannot hold the message as it is (an integer beyond the safe range would be rounded): those
are left to the Python half. :func:`valid` and :func:`has_problem` spell out the documented
rules a state value is held to, for the tests to compute what the session must show.
"""

from __future__ import annotations

import json
import math
from typing import Any

import pydantic
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st

from support.wire import snapshot
from upscope_widget import protocol
from upscope_widget._json import MAX_SAFE_INT, json_problem

#: Keys that mean something to JavaScript objects; they appear at every level.
PROTOTYPE_KEYS: tuple[str, ...] = ("__proto__", "constructor", "prototype", "toString")
#: Names pydantic models use for themselves: a property or field named so must stay data.
MODEL_KEYS: tuple[str, ...] = ("model_config", "__class__", "to_wire", "__pydantic_extra__")
#: Python attribute names of documented state properties where they differ from the wire name.
SNAKE_KEYS: tuple[str, ...] = tuple(
    name for name, wire in protocol.STATE_FIELDS.items() if name != wire
)
#: Top-level keys a snapshot may carry besides the documented ones. Drawn from a small pool on
#: purpose: the session remembers reported problems per field (up to a bound), and a pool
#: this size stays below it, so "reported once" can be checked exactly.
UNKNOWN_STATE_KEYS: tuple[str, ...] = (
    *PROTOTYPE_KEYS, *MODEL_KEYS, "hasOwnProperty", "valueOf", "futureField", "", "type",
    "state", "session_status", "dataBounceSpeed ", "COLOR",
)
WIRE_KEYS: tuple[str, ...] = tuple(protocol.STATE_FIELDS.values())
STATE_KEYS: tuple[str, ...] = WIRE_KEYS + UNKNOWN_STATE_KEYS

NON_FINITE: tuple[float, ...] = (math.nan, math.inf, -math.inf)
_MARK = "\u0000nonfinite"  # how to_browser spells NaN and the infinities; see REVIVE_JS


def rarely(rare: st.SearchStrategy[Any], common: st.SearchStrategy[Any],
           one_in: int) -> st.SearchStrategy[Any]:
    """``rare`` about once in ``one_in`` draws, else ``common`` (keeps the fuzz fast)."""
    return weighted((1, rare), (one_in - 1, common))


def weighted(*choices: tuple[int, st.SearchStrategy[Any]]) -> st.SearchStrategy[Any]:
    """One of the strategies, each as often as its weight says.

    ``st.one_of`` flattens nested ``one_of``s into one list of equally likely branches, so a
    branch that is itself a ``one_of`` of many would crowd the others out.
    """
    pool = [strategy for weight, strategy in choices for _ in range(weight)]
    return st.sampled_from(pool).flatmap(lambda strategy: strategy)


# --- values ------------------------------------------------------------------------------------

keys = st.one_of(st.sampled_from(PROTOTYPE_KEYS + MODEL_KEYS), st.sampled_from(SNAKE_KEYS[:3]),
                 st.text(max_size=6))
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**63), 2**63),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=12),
)
finite_json = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=10,
)
#: Any JSON value, NaN and the infinities now and then (Python's JSON reader accepts them).
junk = st.recursive(
    scalars | st.sampled_from(NON_FINITE),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(keys, inner, max_size=4),
    max_leaves=10,
)


def _nest(depth: int, shape: str, leaf: Any) -> Any:
    value = leaf
    for level in range(depth - 1):
        if shape == "list":
            value = [value]
        elif shape == "proto":
            value = {PROTOTYPE_KEYS[level % len(PROTOTYPE_KEYS)]: value}
        else:
            value = {"a": value, "n": level}
    return value


#: A value nested 60 to 400 levels deep (up to 64 is allowed, so some of these are fine).
deep = st.builds(_nest, st.integers(60, 400), st.sampled_from(["list", "dict", "proto"]),
                 st.sampled_from([1, "x", None, [], {}]))


def _huge(size: int) -> str:
    return "x" * size


#: A string of 1 to 5 MB: over the limit of 1 MiB of JSON text unless just above 1 MB.
huge_string = st.builds(_huge, st.integers(1_000_000, 5_000_000))


def _valid_values() -> dict[str, st.SearchStrategy[Any]]:
    text = st.text(max_size=16)
    enum = {wire: st.sampled_from(values) for wire, values in protocol.STATE_ENUMS.items()}
    amount = st.integers(0, 10**6) | st.floats(0, 1e6)
    visitor = st.fixed_dictionaries(
        {},
        optional={
            "shortId": text,
            "callName": text,
            "email": text,
            "isOnline": st.booleans(),
            "tags": st.lists(finite_json, max_size=3),
            "lastSeenAt": finite_json,
            "__proto__": finite_json,
            "constructor": finite_json,
            "short_id": finite_json,  # a field's Python name: an unknown key on the wire
        },
    )
    size = st.fixed_dictionaries(
        {"width": amount, "height": amount}, optional={"toString": finite_json}
    )
    connection = st.fixed_dictionaries(
        {"id": text}, optional={"url": text, "prototype": finite_json}
    )
    return {
        "activeConnectionId": text,
        "agentIdleness": enum["agentIdleness"],
        "audioState": enum["audioState"],
        "availableModes": st.lists(st.sampled_from(protocol.AVAILABLE_MODES), max_size=3),
        "color": text,
        "connected": st.booleans(),
        "connections": st.lists(connection, max_size=3),
        "controlTool": enum["controlTool"],
        "currentUrl": text,
        "dataBounceSpeed": amount,
        "isVideoOn": st.booleans(),
        "mode": enum["mode"],
        "muted": st.booleans(),
        "observersCount": st.integers(0, 50),
        # the end of the session stops most later snapshots: keep it rarer than the others
        "sessionStatus": rarely(
            st.just("terminated"),
            st.sampled_from([s for s in protocol.STATE_ENUMS["sessionStatus"]
                             if s != "terminated"]),
            5,
        ),
        "size": size,
        "videoAgentState": st.sampled_from(["off", "authorizing:o1", "active:o1"]),
        "videoVisitorState": st.sampled_from(["off", "ringing", "authorizing:c1", "active:c1"]),
        "viewerAudioAvailable": st.booleans(),
        "visitor": visitor,
        "visitorAudioAvailable": st.booleans(),
    }


VALID: dict[str, st.SearchStrategy[Any]] = _valid_values()

_NEGATIVE = st.integers(max_value=-1) | st.floats(max_value=-1e-9, allow_infinity=False)
_SPECIFIC_BAD: dict[str, st.SearchStrategy[Any]] = {
    "observersCount": _NEGATIVE | st.floats(0, 50) | st.sampled_from([True, "1"]),
    "dataBounceSpeed": _NEGATIVE | st.sampled_from(NON_FINITE) | st.sampled_from([True, "5"]),
    "size": st.fixed_dictionaries({"width": _NEGATIVE | st.sampled_from(NON_FINITE) | junk,
                                   "height": junk}),
    "connections": st.lists(st.fixed_dictionaries({}, optional={"id": junk, "url": junk}),
                            min_size=1, max_size=3),
    "visitor": st.fixed_dictionaries({"shortId": junk, "short_id": junk, "isOnline": junk}),
    "availableModes": st.lists(st.text(max_size=8) | junk, min_size=1, max_size=3),
    # a value this version does not know: kept, and reported
    "videoAgentState": st.text(max_size=10),
    "videoVisitorState": st.text(max_size=10),
    **{wire: st.text(max_size=10) for wire in protocol.STATE_ENUMS},
}


def bad_value(wire: str) -> st.SearchStrategy[Any]:
    """A value that breaks the rules for ``wire`` (or, by chance, keeps them)."""
    common = weighted((2, junk), (3, _SPECIFIC_BAD.get(wire, junk)),
                      (1, st.sampled_from(NON_FINITE)))
    return rarely(huge_string, rarely(deep, common, 12), 40)


def field_value(wire: str) -> st.SearchStrategy[Any]:
    """A good, bad or missing (``None``) value of the state property ``wire``."""
    good = VALID.get(wire, finite_json)
    return weighted((3, good), (4, bad_value(wire)), (1, st.none()))


def state_changes(max_size: int = 5) -> st.SearchStrategy[dict[str, Any]]:
    """Some state properties (documented or not) with new values, good or bad."""
    return st.lists(st.sampled_from(STATE_KEYS), unique=True, max_size=max_size).flatmap(
        lambda chosen: st.fixed_dictionaries({k: field_value(k) for k in chosen})
    )


def _mutate(changes: dict[str, Any], removed: list[str]) -> dict[str, Any]:
    state = snapshot(**changes)
    for key in removed:
        state.pop(key, None)
    return state


#: A whole snapshot: ``wire.snapshot()`` with some properties changed or left out.
snapshots = st.builds(
    _mutate, state_changes(), st.lists(st.sampled_from(WIRE_KEYS), unique=True, max_size=3)
)

STATE_UPDATE = protocol.STATE_UPDATE


def _state_message(state: Any, extra: dict[str, Any]) -> dict[str, Any]:
    return {"type": STATE_UPDATE, "state": state, **extra}


state_messages = st.builds(
    _state_message,
    rarely(junk | deep, snapshots, 20),
    rarely(st.dictionaries(st.sampled_from([*PROTOTYPE_KEYS, "extra"]), junk, min_size=1,
                           max_size=2), st.just({}), 10),
)

event_messages = st.one_of(
    st.builds(lambda m: {"type": protocol.CUSTOM_MESSAGE, "message": m},
              st.dictionaries(keys, junk, max_size=4) | junk | deep | huge_string),
    st.builds(lambda e: {"type": protocol.ERROR, "error": e},
              st.sampled_from(["connection:data", "remote_control:scroll_not_allowed"])
              | st.text(max_size=20) | junk),
    rarely(
        st.builds(lambda r, extra: {"type": protocol.SESSION_ENDED, "reason": r, **extra},
                  st.sampled_from(protocol.SESSION_END_REASONS) | junk,
                  st.dictionaries(st.sampled_from(PROTOTYPE_KEYS), junk, max_size=1)),
        st.builds(lambda e: {"type": protocol.ERROR, "error": e}, st.text(max_size=20)),
        2,
    ),
    st.builds(lambda t, extra: {"type": t, **extra},
              st.sampled_from(["resize", "upscope.sessionState.updat", "SessionEnded",
                               *PROTOTYPE_KEYS]) | st.text(max_size=12),
              st.dictionaries(keys, junk, max_size=3)),
    st.builds(lambda t, extra: {"type": t, **extra}, junk,
              st.dictionaries(keys, junk, max_size=2)),
)

non_objects = st.one_of(
    st.text(max_size=20), st.integers(), st.floats(), st.none(), st.booleans(),
    st.lists(junk, max_size=3), deep,
)

#: Everything the iframe may post, snapshots most often.
messages = weighted((6, state_messages), (3, event_messages), (1, non_objects))


# --- batch items: how the frontend hands messages to Python ------------------------------------


def _state_item(changes: dict[str, Any], options: dict[str, Any]) -> dict[str, Any]:
    return {"s": changes, **options}


state_items = st.builds(
    _state_item,
    state_changes(),
    st.fixed_dictionaries(
        {},
        optional={
            "x": st.lists(st.sampled_from(STATE_KEYS), unique=True, max_size=3),
            "f": st.booleans(),
            "i": st.dictionaries(st.sampled_from(STATE_KEYS),
                                 st.text(max_size=30) | junk, min_size=1, max_size=2),
        },
    ),
)


def _full_item(state: dict[str, Any]) -> dict[str, Any]:
    return {"s": state, "f": True}


_not_list = scalars | st.dictionaries(keys, junk, max_size=3)
_not_dict = scalars | st.lists(junk, max_size=3)
_not_bool = st.none() | st.integers() | st.text(max_size=5) | st.lists(junk, max_size=2)

#: Items no frontend of ours sends: extra keys, wrong types for x / i / f / s, non-objects.
crafted_items = st.one_of(
    st.builds(lambda item, k, v: {**item, k: v}, state_items,
              st.sampled_from(["z", "e", "t", *PROTOTYPE_KEYS]), junk),
    st.builds(lambda changes, x: {"s": changes, "x": x}, state_changes(),
              _not_list | st.lists(junk, min_size=1, max_size=3)),
    st.builds(lambda changes, i: {"s": changes, "i": i}, state_changes(), _not_dict),
    st.builds(lambda changes, f: {"s": changes, "f": f}, state_changes(), _not_bool),
    st.builds(lambda s: {"s": s}, _not_dict),
    st.builds(lambda m, t: {"e": m, "t": t}, messages, junk),
    st.dictionaries(st.sampled_from(["s", "x", "f", "i", "e", "t", "u", "q"]), junk,
                    max_size=3),
    non_objects,
)

#: The ways a session ends; drawn often enough that what comes after an end gets fuzzed too.
endings = st.one_of(
    st.builds(lambda reason: {"e": {"type": protocol.SESSION_ENDED, "reason": reason}},
              st.sampled_from(protocol.SESSION_END_REASONS) | junk),
    st.builds(lambda extra: {"s": {"sessionStatus": "terminated", **extra}},
              st.dictionaries(st.sampled_from(WIRE_KEYS), junk, max_size=2)),
)

batch_items = weighted(
    (1, endings),
    (6, state_items),
    (2, st.builds(_full_item, snapshots)),
    (3, st.builds(lambda m: {"e": m}, messages)),
    (1, st.builds(lambda why: {"u": why}, st.text(max_size=40) | junk)),
    (1, st.builds(lambda t: {"t": t}, st.fixed_dictionaries(
        {"action": st.sampled_from(sorted(protocol.INSTRUCTION_PARAMS)) | junk},
        optional={"mode": junk, "color": junk}))),
    (2, crafted_items),
)


def _batch(events: Any, extra: dict[str, Any]) -> dict[str, Any]:
    return {"kind": "batch", "events": events, **extra}


#: Whole batches as ``model.send`` delivers them to the kernel (from the owning frontend).
batches = st.builds(
    _batch,
    rarely(junk, st.lists(batch_items, max_size=4), 25),
    st.fixed_dictionaries({}, optional={
        "rejected": st.integers(-3, 5) | junk,
        "posted": st.integers(-3, 5) | junk,
        "skipped": junk,
        "released": st.booleans() | junk,
    }),
)

#: Whatever else the kernel may hear from the frontend (from the same frontend: the owner).
other_contents = st.one_of(
    st.builds(lambda kind, posted: {"kind": kind, "posted": posted},
              st.sampled_from(["hello", "dismiss", "loadTimeout", "batches", ""]) | junk, junk),
    junk,
)

#: What ``model.send`` from the owning frontend delivers to the kernel, batches most often.
frontend_contents = weighted((12, batches), (1, other_contents))


def sample(strategy: st.SearchStrategy[Any], count: int) -> list[Any]:
    """``count`` values of ``strategy``, the same on every run (for a stream, not a search).

    Hypothesis starts with the simplest values it can make; those are left out.
    """
    drawn: list[Any] = []

    @given(strategy)
    @settings(max_examples=count + 3, deadline=None, derandomize=True, database=None,
              phases=[Phase.generate], suppress_health_check=list(HealthCheck))
    def draw(value: Any) -> None:
        drawn.append(value)

    draw()
    return drawn[-count:]


# --- the browser half --------------------------------------------------------------------------


def to_browser(message: Any) -> str | None:
    """The JSON text the browser half posts (revive it with :data:`REVIVE_JS`), or ``None``.

    ``None`` when the message is not expressible in JavaScript as it is: an integer beyond
    the safe range would arrive rounded.
    """
    stack = [message]
    while stack:
        item = stack.pop()
        if isinstance(item, bool):
            continue
        if isinstance(item, int) and abs(item) > MAX_SAFE_INT:
            return None
        if isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return json.dumps(_marked(message))


def _marked(value: Any) -> Any:
    # iterative for depth: a 400-level value would come close to Python's recursion limit
    if isinstance(value, float) and not math.isfinite(value):
        return {_MARK: repr(value)}
    if not isinstance(value, (dict, list)):
        return value
    root: Any = {} if isinstance(value, dict) else []
    stack = [(value, root)]
    while stack:
        source, target = stack.pop()
        pairs = source.items() if isinstance(source, dict) else enumerate(source)
        for key, child in pairs:
            if isinstance(child, float) and not math.isfinite(child):
                out: Any = {_MARK: repr(child)}
            elif isinstance(child, (dict, list)):
                out = {} if isinstance(child, dict) else []
                stack.append((child, out))
            else:
                out = child
            if isinstance(target, dict):
                target[key] = out
            else:
                target.append(out)
    return root


#: A JSON.parse reviver for :func:`to_browser`'s text: NaN and the infinities come back.
#: JSON.parse makes own properties, so ``__proto__`` arrives as a key, as a page would post it.
REVIVE_JS = (
    "(k, v) => (v !== null && typeof v === 'object' && !Array.isArray(v)"
    f" && Object.keys(v).length === 1 && typeof v[{json.dumps(_MARK)}] === 'string')"
    f" ? Number(v[{json.dumps(_MARK)}].replace('nan', 'NaN').replace('inf', 'Infinity'))"
    " : v"
)


# --- the rules a value is held to (the documented ones, spelled out for the tests) -------------


def valid(wire: str, value: Any) -> bool:
    """The documented rule: bounded JSON, and a valid value for that property alone."""
    if json_problem(value) is not None:
        return False
    if wire not in protocol.WIRE_TO_FIELD:
        return True  # an unknown property: kept as the session sent it
    try:  # by wire names only, nested ones too (a ``short_id`` is an unknown key)
        protocol.EmbeddedSessionState.model_validate({wire: value}, by_alias=True,
                                                     by_name=False)
    except pydantic.ValidationError:
        return False
    return True


def unknown_value(wire: str, value: Any) -> bool:
    """A valid value the protocol does not list (kept, and reported)."""
    if value is None:
        return False
    if wire in protocol.STATE_ENUMS:
        return value not in protocol.STATE_ENUMS[wire]
    prefixes = {"videoAgentState": protocol.VIDEO_AGENT_STATES,
                "videoVisitorState": protocol.VIDEO_VISITOR_STATES}.get(wire)
    if prefixes is not None:
        return not any(value == p or (p.endswith(":") and value.startswith(p))
                       for p in prefixes)
    if wire == "availableModes":
        return any(m not in protocol.AVAILABLE_MODES for m in value)
    return False


def has_problem(wire: str, value: Any) -> bool:
    return not valid(wire, value) or unknown_value(wire, value)
