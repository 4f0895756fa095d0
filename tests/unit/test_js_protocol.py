"""js/protocol.ts must spell every name exactly as Python defines it (one source of truth)."""

from __future__ import annotations

import re
from pathlib import Path

from upscope_widget import _bridge, protocol

TS = (Path(__file__).parents[2] / "js" / "protocol.ts").read_text()


def ts_constants() -> dict[str, str]:
    return dict(re.findall(r'export const (\w+) = "([^"]*)";', TS))


def test_bridge_names_match():
    constants = ts_constants()
    for name, value in _bridge.BRIDGE_NAMES.items():
        assert constants.get(name) == value, f"js/protocol.ts {name} drifted from Python"


def test_state_keys_drawn_by_the_frontend_exist():
    for name, value in ts_constants().items():
        if name.startswith("KEY_"):
            assert value in protocol.WIRE_TO_FIELD, f"{name}={value!r} is not a state key"


def test_no_unknown_constants():
    known = set(_bridge.BRIDGE_NAMES) | {k for k in ts_constants() if k.startswith("KEY_")}
    assert set(ts_constants()) == known
