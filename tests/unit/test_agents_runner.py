"""Running a model's tool calls: examples from each schema run; bad calls answer, send nothing."""

from __future__ import annotations

import asyncio
import json
from typing import Any

import jsonschema
import pytest
from pydantic import BaseModel

from support.aio import run
from support.wire import batch, full, snapshot
from upscope_widget import protocol
from upscope_widget.agents import TOOLS

HELLO = {"kind": "hello", "posted": 0}


def instructions(comm) -> list[dict[str, Any]]:
    """Every instruction the kernel sent to the frontend, in order."""
    return [message for m in comm.customs() if m.get("kind") == "instructions"
            for _seq, message in m["items"]]


def ready(make_session, **state):
    session, comm = make_session()
    comm.from_frontend(HELLO)
    comm.from_frontend(batch(full(snapshot(**state))))
    return session, comm


def strict_arguments(params: dict[str, Any], example: dict[str, Any]) -> dict[str, Any]:
    """The example as a strict-mode model would send it: every property, nulls, JSON strings."""
    args = {}
    for name, sub in params["properties"].items():
        value = example.get(name)
        if sub.get("type") == "string" and isinstance(value, dict):
            value = json.dumps(value)
        args[name] = value
    return args


@pytest.mark.parametrize("fmt", ["json_schema", "anthropic", "mcp", "openai", "openai-responses"])
def test_each_schema_example_validates_and_runs(make_session, fmt):
    session, comm = ready(make_session)
    for spec in session.tool_specs(fmt, include="all"):
        if fmt == "openai":
            name, params = spec["function"]["name"], spec["function"]["parameters"]
        elif fmt == "openai-responses":
            name, params = spec["name"], spec["parameters"]
        else:
            name = spec["name"]
            params = spec.get("parameters") or spec.get("input_schema") or spec["inputSchema"]
        example = dict(TOOLS[name].example)
        if "examples" in params:
            assert params["examples"] == [example]
        if fmt.startswith("openai"):
            example = strict_arguments(params, example)
        jsonschema.validate(example, params)
        if name == "end_session":
            continue  # ends the session: run last, below
        before = len(instructions(comm))
        result = run(session.run_tool_call(name, json.dumps(example), include="all"))
        assert result["ok"] is True, (fmt, name, result)
        json.dumps(result, allow_nan=False)  # JSON-ready for the model
        action = TOOLS[name].action
        if action is None:
            assert len(instructions(comm)) == before
            assert result["state"]["session_status"] == "viewerReady"
        else:
            # the wire instruction the method would send, and it was sent
            assert result["sent"] == protocol.build_instruction(action, TOOLS[name].example)
            assert instructions(comm)[before:] == [result["sent"]]
    result = run(session.run_tool_call("end_session", "{}"))
    assert result == {"ok": True, "sent": {"action": "endSession"}}


def test_wire_forms_of_a_few_calls(make_session):
    session, comm = ready(make_session)
    calls = [
        ("set_mode", '{"mode": null}', {"action": "setMode", "mode": None}),
        ("switch_color", '{"color": null}', {"action": "switchColor"}),
        ("set_active_connection", {"connection_id": "c2"},
         {"action": "setActiveConnection", "connectionId": "c2"}),
        ("send_custom_message", {"message": '{"a": [1, {"b": null}]}'},
         {"action": "sendCustomMessage", "message": {"a": [1, {"b": None}]}}),
        ("toggle_video", None, {"action": "toggleVideo"}),
    ]
    for name, arguments, wire in calls:
        assert run(session.run_tool_call(name, arguments)) == {"ok": True, "sent": wire}
    assert instructions(comm) == [wire for *_, wire in calls]


BAD_CALLS = [
    ("set_mode", '{"mode": "laser"}', ["mode='laser'", "'draw'", "'pointer'", "'cursor'"]),
    ("set_mode", '{"mode": ', ["not valid JSON", '{"mode": "draw"}']),
    ("set_mode", "[1, 2]", ["must be a JSON object", '{"mode": "draw"}']),
    ("set_mode", "{}", ["mode is required"]),
    ("set_mode", {"mode": "draw", "colour": "red"}, ["colour", "unknown parameter", "mode"]),
    ("toggle_audio", {"on": "yes"}, ["on='yes'", "True or False"]),
    ("set_current_url", {"url": "javascript:alert(1)"}, ["url=", "javascript:"]),
    ("send_custom_message", {"message": "hello"}, ["message must be a JSON object"]),
    ("send_custom_message", {"message": [1]}, ["message", "dict"]),
    ("emoji_confetti", {"emoji": "x" * 40}, ["emoji", "one emoji"]),
    ("set_active_connection", {"connection_id": " "}, ["connection_id", "non-empty"]),
    ("wait_for_status", {"status": "ready"}, ["status='ready'", "'viewerReady'"]),
    ("wait_for_status", {"status": "active", "timeout_seconds": -1}, ["timeout_seconds=-1"]),
    ("fly", {}, ["there is no tool 'fly'", "set_mode"]),
    (None, {}, ["there is no tool None"]),
    ("run_console_command", {"command": "document.title"},
     ["'run_console_command' is not offered", "include", "visitor's page"]),
]


@pytest.mark.parametrize(("name", "arguments", "fragments"), BAD_CALLS,
                         ids=[f"{c[0]}-{i}" for i, c in enumerate(BAD_CALLS)])
def test_bad_calls_answer_with_one_sentence_and_send_nothing(make_session, name, arguments,
                                                             fragments):
    session, comm = ready(make_session)
    log_before = len(session.log)
    result = run(session.run_tool_call(name, arguments))
    assert result["ok"] is False
    assert set(result) == {"ok", "error"}
    error = result["error"]
    assert "\n" not in error
    for fragment in fragments:
        assert fragment in error, error
    assert instructions(comm) == []
    assert session.pending_instructions == []
    assert len(session.log) == log_before


def test_excluded_tools_are_refused(make_session):
    session, comm = ready(make_session)
    result = run(session.run_tool_call("end_session", {}, exclude=["end_session"]))
    assert result["ok"] is False
    assert "'end_session' is not offered" in result["error"]
    result = run(session.run_tool_call("set_mode", {"mode": "draw"}, include=["emoji_confetti"]))
    assert result["ok"] is False and "available: emoji_confetti" in result["error"]
    assert instructions(comm) == []
    # named in include, the console tool runs
    result = run(session.run_tool_call("run_console_command", {"command": "document.title"},
                                       include=["run_console_command"]))
    assert result["sent"] == {"action": "runConsoleCommand", "command": "document.title"}


def test_after_the_end_calls_are_refused(make_session):
    session, comm = ready(make_session)
    comm.from_frontend(batch({"e": {"type": "sessionEnded", "reason": "ended"}}))
    result = run(session.run_tool_call("set_mode", {"mode": "draw"}))
    assert result["ok"] is False
    assert "ended" in result["error"]
    assert instructions(comm) == []


def test_get_session_state_is_snake_case_json(make_session):
    session, comm = ready(make_session, controlTool="drawing")
    comm.from_frontend(batch({"e": {"type": "error", "error": "connection:user_not_found"}}))
    result = run(session.run_tool_call("get_session_state", "{}"))
    assert result["ok"] is True
    assert result["state"]["control_tool"] == "drawing"
    assert result["state"]["current_url"] == "https://shop.example/"
    assert result["state"]["connections"] == [{"id": "c1", "url": "https://shop.example/"}]
    assert result["last_error"]["code"] == "connection:user_not_found"
    assert result["ended"] is False
    json.dumps(result, allow_nan=False)


def test_wait_true_returns_the_state_after_the_effect(make_session):
    session, comm = ready(make_session)

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, comm.from_frontend, batch({"s": {"controlTool": "pointer"}}))
        return await session.run_tool_call("set_mode", '{"mode": "pointer"}', wait=True,
                                           timeout=5)

    result = run(main())
    assert result["ok"] is True
    assert result["sent"] == {"action": "setMode", "mode": "pointer"}
    assert result["state"]["control_tool"] == "pointer"


def test_wait_true_timeout_is_a_note_with_the_last_state(make_session):
    session, _comm = ready(make_session)
    result = run(session.run_tool_call("set_mode", {"mode": "draw"}, wait=True, timeout=0.1))
    assert result["ok"] is True  # it was sent
    assert "control_tool == 'drawing'" in result["timeout"]
    assert result["state"]["control_tool"] is None


def test_wait_for_status_tool(make_session):
    session, comm = ready(make_session, sessionStatus="active")

    async def main():
        loop = asyncio.get_running_loop()
        loop.call_later(0.05, comm.from_frontend, batch({"s": {"sessionStatus": "viewerReady"}}))
        return await session.run_tool_call("wait_for_status",
                                           {"status": "viewerReady", "timeout_seconds": 5})

    result = run(main())
    assert result["ok"] is True and result["state"]["session_status"] == "viewerReady"
    late = run(session.run_tool_call("wait_for_status",
                                     {"status": "terminated", "timeout_seconds": 0.1}))
    assert late["ok"] is False
    assert "did not become 'terminated' within 0.1 s" in late["error"]
    assert late["state"]["session_status"] == "viewerReady"


class FakeFunction(BaseModel):  # the shape of the OpenAI SDK's objects (pydantic models)
    name: str
    arguments: str


class FakeToolCall(BaseModel):
    id: str
    type: str = "function"
    function: FakeFunction


def test_run_tool_calls_takes_what_models_return_in_order(make_session):
    session, comm = ready(make_session)
    openai_chat = [
        FakeToolCall(id="call_1", function=FakeFunction(name="set_mode",
                                                        arguments='{"mode":"draw"}')),
        {"id": "call_2", "type": "function",
         "function": {"name": "switch_color", "arguments": '{"color":"#00ff00"}'}},
    ]
    responses = [{"type": "function_call", "call_id": "fc_1", "name": "emoji_confetti",
                  "arguments": '{"emoji":"🎉"}'}]
    anthropic = [
        {"type": "text", "text": "I'll point at the cart."},
        {"type": "tool_use", "id": "toolu_1", "name": "set_mode", "input": {"mode": "pointer"}},
        {"type": "tool_use", "id": "toolu_2", "name": "set_mode", "input": {"mode": "laser"}},
    ]
    results = run(session.run_tool_calls([*openai_chat, *responses, *anthropic]))
    assert [(r["call_id"], r["name"], r["result"]["ok"]) for r in results] == [
        ("call_1", "set_mode", True), ("call_2", "switch_color", True),
        ("fc_1", "emoji_confetti", True), ("toolu_1", "set_mode", True),
        ("toolu_2", "set_mode", False),
    ]
    assert "mode='laser'" in results[-1]["result"]["error"]
    assert [m["action"] for m in instructions(comm)] == [
        "setMode", "switchColor", "emojiConfetti", "setMode"
    ]
    odd = run(session.run_tool_calls([{"arguments": "{}"}, 42]))
    assert [r["result"]["ok"] for r in odd] == [False, False]
    assert "not a tool call" in odd[0]["result"]["error"]


def test_bad_runner_settings_raise(make_session):
    session, _ = ready(make_session)
    with pytest.raises(ValueError, match="timeout"):
        run(session.run_tool_call("set_mode", {"mode": "draw"}, timeout=0))
    with pytest.raises(ValueError, match="include names 'nope'"):
        run(session.run_tool_calls([], include=["nope"]))


def test_every_tool_has_an_example():
    for tool in TOOLS.values():
        tool.model.model_validate(dict(tool.example))


# --- what must never raise, and what must never be misread -------------------------------------


def nested_lists(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


def nested_objects(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = {"a": value}
    return value


DEEP = 1000
DEEP_CALLS = [
    ("set_mode", '{"mode": ' + "[" * DEEP + "]" * DEEP + "}", ["set_mode", "nested deeper"]),
    ("set_mode", "[" * DEEP + "]" * DEEP, ["set_mode", "nested deeper"]),
    ("set_mode", nested_lists(DEEP), ["set_mode", "nested deeper"]),
    ("set_mode", {"mode": nested_lists(DEEP)}, ["set_mode", "nested deeper"]),
    ("send_custom_message", {"message": '{"a":' * DEEP + "1" + "}" * DEEP},
     ["message", "nested deeper"]),
    ("send_custom_message", '{"message": "' + '{\\"a\\":' * DEEP + "1" + "}" * DEEP + '"}',
     ["message", "nested deeper"]),
    ("send_custom_message", {"message": nested_objects(DEEP)}, ["message", "nested deeper"]),
    (nested_lists(DEEP), {}, ["there is no tool"]),
]


@pytest.mark.parametrize(("name", "arguments", "fragments"), DEEP_CALLS,
                         ids=[f"deep-{i}" for i in range(len(DEEP_CALLS))])
def test_deeply_nested_calls_answer_and_send_nothing(make_session, name, arguments, fragments):
    session, comm = ready(make_session)
    log_before = len(session.log)
    result = run(session.run_tool_call(name, arguments))
    assert set(result) == {"ok", "error"} and result["ok"] is False
    assert "\n" not in result["error"] and len(result["error"]) < 1000
    for fragment in fragments:
        assert fragment in result["error"], result["error"]
    assert instructions(comm) == []
    assert len(session.log) == log_before


def test_the_depth_bound_is_the_protocols_own(make_session):
    from upscope_widget._json import MAX_DEPTH

    session, comm = ready(make_session)
    deepest = nested_objects(MAX_DEPTH)  # the deepest message the protocol takes
    for arguments in ({"message": deepest}, {"message": json.dumps(deepest)},
                      json.dumps({"message": deepest}),
                      json.dumps({"message": json.dumps(deepest)})):
        assert run(session.run_tool_call("send_custom_message", arguments))["ok"] is True
    assert len(instructions(comm)) == 4
    # one level more is refused, as the protocol refuses it
    for arguments in ({"message": nested_objects(MAX_DEPTH + 1)},
                      {"message": json.dumps(nested_objects(MAX_DEPTH + 1))}):
        refused = run(session.run_tool_call("send_custom_message", arguments))
        assert refused["ok"] is False and "nested deeper than" in refused["error"]
    assert len(instructions(comm)) == 4


@pytest.mark.parametrize("wait", [False, True])
def test_a_replay_answers_that_its_call_was_logged_not_applied(wait):
    from support.fakecomm import recording_comms
    from upscope_widget import LogEntry, ReplaySession, SessionLog
    from upscope_widget.agents.runner import REPLAY_NOTE

    recording = SessionLog.from_entries([
        LogEntry(100.0, "in", "upscope.sessionState.update", {"sessionStatus": "viewerReady"},
                 frozenset({"session_status"})),
    ])
    with recording_comms() as comms:
        session = ReplaySession(recording, speed=0)
    comm = comms[-1]
    comm.from_frontend(HELLO)
    comm.from_frontend(batch(full(snapshot(sessionStatus="viewerReady", controlTool="cursor"))))
    # at once, even with wait=True: a replay shows no effect to wait for
    result = run(session.run_tool_call("set_mode", {"mode": "draw"}, wait=wait, timeout=30))
    assert result["ok"] is True and result["note"] == REPLAY_NOTE
    assert result["sent"] == {"action": "setMode", "mode": "draw"}
    assert result["state"]["control_tool"] == "cursor"  # the recording's, not applied
    assert instructions(comm) == [{"action": "setMode", "mode": "draw"}]
    assert [(e.kind, e.source) for e in session.sent] == [("setMode", "agent")]
    assert session._on_error.callbacks == []
    # a bad call is still refused, nothing sent
    refused = run(session.run_tool_call("set_mode", {"mode": "paint"}))
    assert refused["ok"] is False and len(session.sent) == 1
    assert run(session.run_tool_call("get_session_state"))["ok"] is True


@pytest.mark.parametrize(("name", "arguments", "key"), [
    ("set_mode", '{"mode":"draw","mode":"cursor"}', "mode"),
    ("send_custom_message", '{"message": {"a": 1, "b": {"c": 1, "c": 2}}}', "c"),
    ("send_custom_message", {"message": '{"x": 1, "x": 2}'}, "x"),
    ("send_custom_message", '{"message": "{\\"y\\": 1, \\"y\\": 2}"}', "y"),
])
def test_repeated_keys_are_refused_by_name(make_session, name, arguments, key):
    session, comm = ready(make_session)
    result = run(session.run_tool_call(name, arguments))
    assert set(result) == {"ok", "error"} and result["ok"] is False
    assert f"{key!r} twice" in result["error"], result["error"]
    assert instructions(comm) == []


class BrokenCall:
    """An SDK object whose dump fails."""

    def model_dump(self) -> Any:
        raise RuntimeError("cannot dump this call")


def test_every_call_gets_its_result_in_order_whatever_happens_in_one(make_session, monkeypatch):
    session, comm = ready(make_session)
    send = session.send_instruction

    def flaky(action, **params):
        if action == "emojiConfetti":
            raise RuntimeError("the comm went away")
        send(action, **params)

    monkeypatch.setattr(session, "send_instruction", flaky)
    calls = [
        {"id": "1", "name": "set_mode", "arguments": '{"mode": "draw"}'},
        {"id": "2", "arguments": nested_lists(DEEP)},  # no name, deep: shown shortened
        BrokenCall(),
        {"id": "4", "name": "set_mode", "arguments": "[" * DEEP + "]" * DEEP},
        {"id": "5", "name": "emoji_confetti", "arguments": {"emoji": "🎉"}},
        {"id": "6", "name": "send_custom_message", "arguments": {"message": '{"a":' * DEEP}},
        {"type": "text", "text": "done"},
        {"id": "7", "name": "set_mode", "arguments": '{"mode": "cursor"}'},
    ]
    results = run(session.run_tool_calls(calls))
    assert [r["call_id"] for r in results] == ["1", "2", None, "4", "5", "6", "7"]
    assert [r["result"]["ok"] for r in results] == [True, False, False, False, False, False, True]
    for r in results:
        json.dumps(r, allow_nan=False)
        if not r["result"]["ok"]:
            assert set(r["result"]) == {"ok", "error"} and "\n" not in r["result"]["error"]
    assert "cannot dump this call" in results[2]["result"]["error"]
    assert "the comm went away" in results[4]["result"]["error"]
    assert instructions(comm) == [{"action": "setMode", "mode": "draw"},
                                  {"action": "setMode", "mode": "cursor"}]


@pytest.mark.parametrize("calls", [
    "set_mode", b"[]", bytearray(b"[]"), {"name": "set_mode", "arguments": "{}"}, 42, None,
    FakeToolCall(id="call_1", function=FakeFunction(name="set_mode", arguments="{}")),
])
def test_run_tool_calls_wants_a_list_of_calls(make_session, calls):
    session, comm = ready(make_session)
    with pytest.raises(TypeError, match=r"calls must be a list of tool calls.*got ") as caught:
        run(session.run_tool_calls(calls))
    assert type(calls).__name__ in str(caught.value)
    assert instructions(comm) == []
    # a tuple or a generator is a list of calls
    assert run(session.run_tool_calls(())) == []
    made = ({"name": "toggle_video"} for _ in range(2))
    assert [r["result"]["ok"] for r in run(session.run_tool_calls(made))] == [True, True]
