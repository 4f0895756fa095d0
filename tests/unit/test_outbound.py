"""The one outbound path: ``Outbound`` on its own, and every sender of the session through it.

The first half drives ``Outbound`` with plain functions (no widget). The second checks that
each way of sending an instruction (a method, ``send_instruction``, a tool call, ``perform``,
the simulator's handle) is told to ``on_instruction`` and logged with its source; before the
rebuild ``send_instruction`` and everything built on it reached neither.
"""

from __future__ import annotations

from typing import Any

import pytest

from support.aio import run
from support.wire import batch, full, snapshot
from upscope_widget import SessionLog, UpscopeSession
from upscope_widget._outbound import Outbound, check_source
from upscope_widget.simulator import CONTROL_PREFIX


class Recorder:
    def __init__(self) -> None:
        self.sent: list[dict[str, Any]] = []
        self.told: list[tuple[str, dict[str, Any], str]] = []
        self.refusal: Exception | None = None

    def outbound(self, log: SessionLog) -> Outbound:
        return Outbound(
            log=log,
            transport=self.sent.append,
            refuse=lambda message, source: self.refusal,
            notify=lambda action, params, source: self.told.append((action, params, source)),
            control_prefix=CONTROL_PREFIX,
        )


def test_send_logs_numbers_transports_and_tells_in_that_order() -> None:
    rec, log = Recorder(), SessionLog()
    out = rec.outbound(log)
    first = out.send(out.build("setMode", {"mode": "draw"}), "python")
    second = out.send(out.build("switchColor", {}), "agent")
    assert (first, second) == (1, 2)
    assert rec.sent == [
        {"kind": "instructions", "items": [[1, {"action": "setMode", "mode": "draw"}]]},
        {"kind": "instructions", "items": [[2, {"action": "switchColor"}]]},
    ]
    assert rec.told == [("setMode", {"mode": "draw"}, "python"), ("switchColor", {}, "agent")]
    assert [(e.kind, e.source) for e in log] == [("setMode", "python"), ("switchColor", "agent")]
    assert [seq for seq, _ in out.outbox.pending()] == [1, 2]


def test_sent_hears_what_send_sent_after_the_callbacks_never_what_was_recorded() -> None:
    order: list[tuple[str, str]] = []
    out = Outbound(
        log=SessionLog(),
        transport=lambda message: order.append(("transport", message["items"][0][1]["action"])),
        refuse=lambda message, source: None,
        notify=lambda action, params, source: order.append(("notify", action)),
        control_prefix=CONTROL_PREFIX,
        sent=lambda message, source: order.append(("sent", f"{message['action']}/{source}")),
    )
    out.send(out.build("setMode", {"mode": "draw"}), "agent")
    out.record({"action": "switchColor"}, "toolbar")  # a click: posted by the frontend already
    assert order == [("transport", "setMode"), ("notify", "setMode"), ("sent", "setMode/agent"),
                     ("notify", "switchColor")]


@pytest.mark.parametrize("bad", ["toolbar", "bot", "", None, 3, "Python"])
def test_a_bad_source_is_refused_naming_the_allowed_ones(bad: Any) -> None:
    rec, log = Recorder(), SessionLog()
    with pytest.raises(ValueError) as err:
        rec.outbound(log).send({"action": "switchColor"}, bad)
    text = str(err.value)
    assert f"source={bad!r}" in text
    for allowed in ("'python'", "'agent'", "'mcp'", "'simulator'", "'replay'"):
        assert allowed in text
    assert rec.sent == [] and rec.told == [] and len(log) == 0
    with pytest.raises(ValueError):
        check_source(bad)


def test_what_the_refuse_rule_refuses_is_neither_logged_nor_sent_nor_told() -> None:
    rec, log = Recorder(), SessionLog()
    rec.refusal = RuntimeError("read-only")
    with pytest.raises(RuntimeError, match="read-only"):
        rec.outbound(log).send({"action": "switchColor"}, "python")
    assert rec.sent == [] and rec.told == [] and len(log) == 0


def test_control_messages_come_only_from_the_simulator_and_replay_sources() -> None:
    rec, log = Recorder(), SessionLog()
    out = rec.outbound(log)
    control = {"action": f"{CONTROL_PREFIX}navigate", "url": "/cart"}
    with pytest.raises(ValueError, match="simulator control message"):
        out.send(control, "python")
    with pytest.raises(ValueError, match="needs an action starting with"):
        out.send({"action": "endSession"}, "simulator")  # the service's: never as a control
    out.send(control, "simulator")
    out.send({"action": f"{CONTROL_PREFIX}pause"}, "replay")
    # a replay's own controls are told but not logged: its log is the recording again
    assert [(e.kind, e.source) for e in log] == [(f"{CONTROL_PREFIX}navigate", "simulator")]
    assert [t[2] for t in rec.told] == ["simulator", "replay"]
    assert len(rec.sent) == 2


def test_record_logs_and_tells_without_sending() -> None:
    rec, log = Recorder(), SessionLog()
    rec.outbound(log).record({"action": "setMode", "mode": "draw"}, "toolbar")
    rec.outbound(log).record({"action": "setMode", "mode": "pointer"}, "voice")  # a newer source
    assert rec.sent == []
    assert rec.told == [("setMode", {"mode": "draw"}, "toolbar"),
                        ("setMode", {"mode": "pointer"}, "voice")]
    assert [e.source for e in log] == ["toolbar", "voice"]


# --- every sender of the session takes the path ---------------------------------------------


def ready(make_session: Any) -> tuple[UpscopeSession, Any, list[tuple[Any, ...]]]:
    session, comm = make_session()
    comm.from_frontend({"kind": "hello", "posted": 0})
    comm.from_frontend(batch(full(snapshot())))
    heard: list[tuple[Any, ...]] = []
    session.on_instruction(lambda action, params, source: heard.append((action, params, source)))
    return session, comm, heard


def outs(session: UpscopeSession) -> list[tuple[str, str | None]]:
    return [(e.kind, e.source) for e in session.log if e.direction == "out"]


def test_send_instruction_is_told_and_logged_with_its_source(make_session: Any) -> None:
    session, _, heard = ready(make_session)
    session.send_instruction("setMode", mode="draw")
    session.send_instruction("switchColor", source="agent")
    assert heard == [("setMode", {"mode": "draw"}, "python"), ("switchColor", {}, "agent")]
    assert outs(session) == [("setMode", "python"), ("switchColor", "agent")]
    with pytest.raises(ValueError, match="source='toolbar' is not allowed"):
        session.send_instruction("switchColor", source="toolbar")
    assert len(heard) == 2


def test_tool_calls_are_told_and_logged_as_agent(make_session: Any) -> None:
    session, _, heard = ready(make_session)
    one = run(session.run_tool_call("switch_color", "{}"))
    many = run(session.run_tool_calls([{"name": "reload_page", "arguments": "{}"},
                                       {"name": "set_mode", "arguments": {"mode": "laser"}}]))
    assert one["ok"] and many[0]["result"]["ok"] and not many[1]["result"]["ok"]
    assert heard == [("switchColor", {}, "agent"), ("reloadPage", {}, "agent")]
    assert outs(session) == [("switchColor", "agent"), ("reloadPage", "agent")]


def test_perform_is_told_and_logged(make_session: Any) -> None:
    session, comm, heard = ready(make_session)

    async def main() -> Any:
        import asyncio

        loop = asyncio.get_running_loop()
        loop.call_later(0.05, comm.from_frontend, batch({"s": {"controlTool": "drawing"}}))
        return await session.perform("set_mode", mode="draw", timeout=5)

    state = run(main())
    assert state is not None and state.control_tool == "drawing"
    assert heard == [("setMode", {"mode": "draw"}, "python")]
    assert outs(session) == [("setMode", "python")]


def test_the_simulators_controls_are_told_as_simulator(make_session: Any) -> None:
    session = UpscopeSession.simulate()
    heard: list[tuple[Any, ...]] = []
    session.on_instruction(lambda action, params, source: heard.append((action, params, source)))
    assert session.simulator is not None
    session.simulator.navigate("https://shop.example/cart")
    assert [(a, s) for a, _p, s in heard] == [(f"{CONTROL_PREFIX}navigate", "simulator")]
    assert [(e.kind, e.source) for e in session.log] == [(f"{CONTROL_PREFIX}navigate",
                                                          "simulator")]
