"""js/protocol.ts must spell every name exactly as Python defines it (one source of truth)."""

from __future__ import annotations

import re
from pathlib import Path

from support.names import name_matches
from upscope_widget import _bridge, _json, protocol

TS = (Path(__file__).parents[2] / "js" / "protocol.ts").read_text()


def ts_constants() -> dict[str, str]:
    return dict(re.findall(r'export const (\w+) = "([^"]*)";', TS))


#: The names js/protocol.ts shares with Python, as Python defines them.
SHARED = {**_bridge.BRIDGE_NAMES, "STATE_UPDATE": protocol.STATE_UPDATE}


def test_bridge_names_match():
    constants = ts_constants()
    for name, value in SHARED.items():
        assert constants.get(name) == value, f"js/protocol.ts {name} drifted from Python"


def test_state_keys_drawn_by_the_frontend_exist():
    for name, value in ts_constants().items():
        if name.startswith("KEY_"):
            assert value in protocol.WIRE_TO_FIELD, f"{name}={value!r} is not a state key"


def _wire_params() -> set[str]:
    return {
        field.alias or name
        for model in protocol.INSTRUCTION_PARAMS.values()
        for name, field in model.model_fields.items()
    }


# The toolbar's names: each prefix and where Python defines the values it may take.
TOOLBAR_NAMES = {
    "ACTION_": lambda: set(protocol.INSTRUCTION_PARAMS),
    "PARAM_": _wire_params,
    "TOOL_": lambda: set(protocol.SET_MODE_VALUES),
    "CONTROL_": lambda: set(protocol.STATE_ENUMS["controlTool"]),
    "AUDIO_": lambda: set(protocol.STATE_ENUMS["audioState"]),
    "MODE_": lambda: set(protocol.STATE_ENUMS["mode"]),
    "STATUS_": lambda: set(protocol.STATE_ENUMS["sessionStatus"]),
}


def test_toolbar_names_are_pythons():
    for name, value in ts_constants().items():
        for prefix, allowed in TOOLBAR_NAMES.items():
            if name.startswith(prefix):
                assert value in allowed(), f"js/protocol.ts {name}={value!r} is not Python's"


#: Every prefix whose constants are named after their value (name -> value pairs).
NAMED_AFTER_VALUE = ("KEY_", "PARAM_", "TOOL_", "CONTROL_", "AUDIO_", "MODE_", "STATUS_", "EVENT_")


def test_each_constant_is_named_after_its_value():
    checked = 0
    for name, value in ts_constants().items():
        prefix = next((p for p in NAMED_AFTER_VALUE if name.startswith(p)), None)
        if prefix is not None:
            checked += 1
            assert name_matches(name, prefix, value), f"js/protocol.ts {name} holds {value!r}"
    assert checked >= 30


def test_the_name_check_catches_two_swapped_values():
    assert name_matches("TOOL_DRAW", "TOOL_", "draw")
    assert not name_matches("TOOL_DRAW", "TOOL_", "pointer")
    assert name_matches("KEY_SESSION_STATUS", "KEY_", "sessionStatus")
    assert name_matches("VIDEO_AUTHORIZING", "VIDEO_", "authorizing:")
    assert name_matches("ERROR_USER_NOT_FOUND", "ERROR_", "connection:user_not_found")


def test_the_tool_each_mode_shows_is_pythons():
    listed = re.search(r"CONTROL_TOOL_FOR_MODE: Readonly<Record<string, string>> = \{(.*?)\};",
                       TS, re.S)
    assert listed
    constants = ts_constants()
    pairs = {constants[mode]: constants[tool]
             for mode, tool in re.findall(r"\[(\w+)\]: (\w+),", listed.group(1))}
    assert pairs == {m: t for m, t in protocol.CONTROL_TOOL_FOR_MODE.items() if m is not None}


def test_toolbar_actions_are_spelled_like_python_constants():
    # ACTION_SET_MODE must be protocol.SET_MODE, not just any action
    for name, value in ts_constants().items():
        if name.startswith("ACTION_"):
            assert getattr(protocol, name[len("ACTION_"):]) == value, name


def test_event_types_are_pythons():
    # the frontend counts a forgery only when it is shaped like one of these
    events = {v for k, v in ts_constants().items() if k.startswith("EVENT_")}
    assert events | {protocol.STATE_UPDATE} == set(protocol.EVENT_TYPES)
    assert "EVENT_TYPES: readonly string[] = [\n  STATE_UPDATE," in TS


def test_inbound_limits_are_pythons():
    numbers = dict(re.findall(r"export const (MAX_\w+) = (\d+);", TS))
    assert numbers == {
        "MAX_DEPTH": str(_json.MAX_DEPTH),
        "MAX_JSON_CHARS": str(_json.MAX_JSON_CHARS),
        "MAX_STATE_PROPERTIES": str(_json.MAX_STATE_PROPERTIES),
    }


def test_no_unknown_constants():
    known = set(SHARED) | {
        k for k in ts_constants() if k.startswith(("KEY_", "EVENT_", *TOOLBAR_NAMES))
    }
    assert set(ts_constants()) == known
