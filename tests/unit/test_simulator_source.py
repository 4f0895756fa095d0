"""The simulator page's TypeScript source (js/simulator/) and the page built from it.

The page must spell every wire name as Python does. Its names come from js/protocol.ts (checked
by test_js_protocol.py) or js/simulator/wire.ts (checked here); the other modules use the
constants, never the strings.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from support.names import name_matches, upper_snake
from upscope_widget import errors, protocol
from upscope_widget.simulator import CONTROL_ACTIONS, CONTROL_PREFIX, REPLAY_ACTIONS, _page

JS = Path(__file__).parents[2] / "js"
SIM = JS / "simulator"
WIRE = (SIM / "wire.ts").read_text()


def constants(source: str) -> dict[str, str]:
    return dict(re.findall(r'export const (\w+) = "([^"]*)";', source))


def wire_constants() -> dict[str, str]:
    return constants(WIRE)


def resolved() -> dict[str, str]:
    """What every constant wire.ts can name stands for: its own and js/protocol.ts's."""
    return {**constants((JS / "protocol.ts").read_text()), **wire_constants()}


# Each prefix of wire.ts and where Python defines the values it may take.
PYTHON_NAMES: dict[str, Callable[[], set[str]]] = {
    "ACTION_": lambda: set(protocol.INSTRUCTION_PARAMS),
    "ERROR_": lambda: set(errors.ERROR_DESCRIPTIONS),
    "STATUS_": lambda: set(protocol.STATE_ENUMS["sessionStatus"]),
    "MODE_": lambda: set(protocol.STATE_ENUMS["mode"]),
    "IDLENESS_": lambda: set(protocol.STATE_ENUMS["agentIdleness"]),
    "VIDEO_": lambda: set(protocol.VIDEO_AGENT_STATES),
    "REASON_": lambda: set(protocol.SESSION_END_REASONS),
    "SIM_": lambda: set(CONTROL_ACTIONS.values()),
    "REPLAY_": lambda: set(REPLAY_ACTIONS.values()),
    "CONTROL_PREFIX": lambda: {CONTROL_PREFIX},
}


def test_wire_ts_names_are_pythons() -> None:
    names = wire_constants()
    assert names
    for name, value in names.items():
        prefixes = [p for p in PYTHON_NAMES if name.startswith(p)]
        assert prefixes, f"js/simulator/wire.ts {name}: no Python name it is checked against"
        assert value in PYTHON_NAMES[prefixes[0]](), f"wire.ts {name}={value!r} is not Python's"


def test_each_constant_is_named_after_its_value() -> None:
    # name -> value pairs: two values swapped between constants fail here
    for name, value in wire_constants().items():
        if name.startswith(("SIM_", "REPLAY_")):
            action = value.removeprefix(CONTROL_PREFIX)
            assert name in {"SIM_" + upper_snake(action), upper_snake(action)}, name
        elif name.startswith(("ERROR_", "STATUS_", "MODE_", "IDLENESS_", "VIDEO_", "REASON_")):
            prefix = name.split("_", 1)[0] + "_"
            assert name_matches(name, prefix, value), f"wire.ts {name} holds {value!r}"
    methods = {f"SIM_{m.upper()}": a for m, a in CONTROL_ACTIONS.items()}
    methods.update({f"REPLAY_{m.upper()}": a for m, a in REPLAY_ACTIONS.items()})
    assert {n: v for n, v in wire_constants().items() if n in methods} == methods


def test_the_end_reasons_are_the_protocols() -> None:
    from upscope_widget.simulator._control import END_REASONS

    assert END_REASONS == protocol.SESSION_END_REASONS


def test_actions_are_spelled_like_python_constants() -> None:
    for name, value in wire_constants().items():
        if name.startswith("ACTION_"):
            assert getattr(protocol, name[len("ACTION_"):]) == value, name


def test_the_page_has_a_handler_for_every_instruction() -> None:
    listed = re.search(r"INSTRUCTION_ACTIONS = \[(.*?)\] as const;", WIRE, re.S)
    assert listed
    idents = re.findall(r"(?:\bP\.)?(\w+)", listed.group(1))  # P.: js/protocol.ts's names
    values = [resolved()[ident] for ident in idents]
    assert sorted(values) == sorted(protocol.INSTRUCTION_PARAMS)
    # The handler table is typed by that list: `npx tsc` fails if an action has no handler.
    source = (SIM / "instructions.ts").read_text()
    assert "const TABLE: Record<InstructionAction, Handler> = {" in source
    handled = re.findall(r"^  \[(ACTION_\w+)\]: ", source, re.M)
    assert sorted(resolved()[h] for h in handled) == sorted(protocol.INSTRUCTION_PARAMS)


def test_the_page_handles_every_control_message() -> None:
    wire = wire_constants()
    handled = re.findall(r"^  \[(SIM_\w+), ", (SIM / "controls.ts").read_text(), re.M)
    assert {wire[h] for h in handled} == set(CONTROL_ACTIONS.values())
    handled = re.findall(r"^  \[(REPLAY_\w+), ", (SIM / "replay.ts").read_text(), re.M)
    assert {wire[h] for h in handled} == set(REPLAY_ACTIONS.values())


def test_the_state_snapshot_has_every_state_key() -> None:
    source = (SIM / "state.ts").read_text()
    # the snapshot is the page's SessionState plus the connection fields
    keys: set[str] = set()
    for head in ("SessionState", "StateSnapshot extends SessionState"):
        body = re.search(rf"export interface {head} \{{(.*?)\n\}}", source, re.S)
        assert body, head
        keys |= set(re.findall(r"^  (\w+): ", body.group(1), re.M))
    assert keys == set(protocol.WIRE_TO_FIELD)


def test_no_wire_name_spelled_outside_wire_ts() -> None:
    names = (
        set(protocol.INSTRUCTION_PARAMS)
        | set(protocol.EVENT_TYPES)
        | set(errors.ERROR_DESCRIPTIONS)
        | set(CONTROL_ACTIONS.values())
        | set(REPLAY_ACTIONS.values())
        | {CONTROL_PREFIX}
        | set(protocol.STATE_ENUMS["sessionStatus"])
    )
    for path in SIM.glob("*.ts"):
        if path.name == "wire.ts":
            continue
        spelled = set(re.findall(r'"([^"\n]*)"', path.read_text())) & names
        assert not spelled, f"{path.name} spells {sorted(spelled)}: use the wire.ts constants"


def test_an_unbuilt_page_says_how_to_build_it(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    # a source checkout where `npm run build` never ran: the package has no static/ folder
    monkeypatch.setattr(_page, "files", lambda package: tmp_path)
    with pytest.raises(RuntimeError, match=r"simulator page is not built .*npm run build"):
        _page.page_template()


def test_the_built_page_is_the_source_template_filled_in() -> None:
    template = (SIM / "page.html").read_text()
    built = _page.page_template()
    head, _, rest = template.partition("<style>/* SIMULATOR_CSS */</style>")
    body, _, tail = rest.partition("<script>/* SIMULATOR_JS */</script>")
    assert built.startswith(head) and built.endswith(tail), "static/simulator.html is stale"
    assert body in built
    assert "SIMULATOR_CSS" not in built and "SIMULATOR_JS" not in built
