"""Replays without a browser: the timeline, replay_states(), the clock (fake), the session."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest

from support.fakecomm import recording_comms
from support.wire import batch, full, snapshot
from upscope_widget import LogEntry, ReplayError, ReplaySession, SessionLog, UpscopeSession
from upscope_widget.protocol import WIRE_TO_FIELD
from upscope_widget.simulator import REPLAY_ACTIONS
from upscope_widget.simulator.replay import ReplayClock, build_timeline

STATE = "upscope.sessionState.update"


def state(t: float, gone: tuple[str, ...] = (), **data: Any) -> LogEntry:
    names = {WIRE_TO_FIELD.get(k, k) for k in (*data, *gone)}
    return LogEntry(100.0 + t, "in", STATE, data, frozenset(names))


RECORDING = [
    LogEntry(100.0, "out", "setMode", {"action": "setMode", "mode": "draw"}, source="python"),
    state(0.5, sessionStatus="active", color="#111111", size={"width": 1, "height": 2}),
    state(1.0, sessionStatus="viewerReady", gone=("size",)),
    LogEntry(101.2, "out", "upscope-sim:navigate", {"action": "upscope-sim:navigate"},
             source="simulator"),
    LogEntry(101.5, "in", "futureEvent", {"type": "futureEvent", "x": 1}),
    # the wall clock stepped back
    LogEntry(101.4, "in", "error", {"type": "error", "error": "connection:data"}),
    state(3.0, color="#222222"),
    LogEntry(104.0, "out", "switchColor", {"action": "switchColor"}, source="toolbar"),
]


class FakeClock:
    def __init__(self) -> None:
        self.now = 50.0

    def __call__(self) -> float:
        return self.now


def test_the_timeline_is_what_the_page_plays():
    timeline = build_timeline(SessionLog.from_entries(RECORDING))
    assert timeline.items == [
        [0.0, "i", {"action": "setMode", "mode": "draw"}, "python"],
        [0.5, "s", {"sessionStatus": "active", "color": "#111111",
                    "size": {"width": 1, "height": 2}}, []],
        [1.0, "s", {"sessionStatus": "viewerReady"}, ["size"]],  # size disappeared
        [1.5, "e", {"type": "futureEvent", "x": 1}],  # an event this version does not know
        [1.5, "e", {"type": "error", "error": "connection:data"}],  # never a negative wait
        [3.0, "s", {"color": "#222222"}, []],
        [4.0, "i", {"action": "switchColor"}, "toolbar"],
    ]  # the simulator control is not replayed: it never reached the service
    assert timeline.duration == 4.0


def test_replay_states_are_what_on_state_change_saw(make_session):
    session, c = make_session()
    seen: list[Any] = []
    session.on_state_change(lambda s, changed: seen.append((s, changed)))
    c.from_frontend(batch(full(snapshot(sessionStatus="active", dataBounceSpeed=90))))
    c.from_frontend(batch({"s": {"sessionStatus": "viewerReady"}},
                          {"e": {"type": "error", "error": "connection:data"}},
                          {"s": {"dataBounceSpeed": 95}, "x": ["size"]},
                          {"s": {}},  # a snapshot that changed nothing
                          {"s": {"visitor": {"shortId": "v2", "newField": 1}}}))
    replayed = list(session.log.replay_states())
    assert [(r.state, r.changed) for r in replayed] == seen
    assert len(seen) == 4
    assert replayed[2].state.size is None and replayed[2].state.data_bounce_speed == 95
    assert replayed[0].offset == 0 and replayed[-1].offset >= replayed[0].offset
    assert replayed[-1].time == session.log[-1].time


def test_the_clock_follows_speed_pause_play_and_seek():
    fake = FakeClock()
    clock = ReplayClock(duration=10.0, speed=2.0, clock=fake)
    fake.now += 5
    assert clock.position == 0 and not clock.started  # nothing has arrived: nothing played
    clock.arrived(0.5)
    assert clock.position == 0.5  # the page posted it at 0.5 s: it runs from there
    fake.now += 1
    assert clock.position == 2.5  # 1 s at speed 2
    clock.pause()
    fake.now += 100
    assert clock.position == 2.5 and not clock.playing
    clock.play()
    fake.now += 0.25
    assert clock.position == 3.0
    clock.arrived(6.0)  # the page is ahead (latency): the clock catches up
    assert clock.position == 6.0
    clock.seek(1.0)
    assert clock.position == 1.0
    fake.now += 2
    assert clock.position == 5.0
    fake.now += 100
    assert clock.position == 10.0  # it stops at the end
    clock.pause()
    clock.seek(4.0)
    fake.now += 5
    assert clock.position == 4.0  # a seek keeps it paused


def test_speed_zero_is_at_the_end_once_running():
    fake = FakeClock()
    clock = ReplayClock(duration=7.0, speed=0.0, clock=fake)
    assert clock.position == 0
    clock.arrived(0.0)
    assert clock.position == 7.0


@pytest.fixture
def replay() -> Any:
    fake = FakeClock()
    with recording_comms() as comms:
        session = ReplaySession(SessionLog.from_entries(RECORDING), speed=2, clock=fake)
    return session, comms[-1], fake


def page_replay(session: UpscopeSession) -> dict[str, Any]:
    page = session.get_state("_simulator_page")["_simulator_page"]
    match = re.search(r'<script id="upscope-sim-options" type="application/json">(.*?)</script>',
                      page, re.DOTALL)
    assert match
    return json.loads(match.group(1))["replay"]  # type: ignore[no-any-return]


def test_the_session_carries_the_timeline_to_the_page(replay):
    session, _, _ = replay
    data = page_replay(session)
    assert data == {"timeline": build_timeline(SessionLog.from_entries(RECORDING)).items,
                    "speed": 2.0, "duration": 4.0}
    assert session.get_state("_read_only")["_read_only"] is True
    assert session.simulated and session.duration == 4.0 and session.speed == 2.0
    assert session.recording.origin is None and session.log.origin is None


def test_instructions_sent_to_a_replay_are_logged_shown_and_kept_apart(replay):
    session, c, _ = replay
    heard: list[Any] = []
    session.on_instruction(lambda action, params, source: heard.append((action, params, source)))
    c.from_frontend({"kind": "hello", "frontend": "f1", "posted": 0})
    c.from_frontend(batch(full({"sessionStatus": "active", "color": "#111111"}), frontend="f1"))
    session.set_mode("cursor")
    session.send_instruction("switchColor", source="agent")
    # posted to the page (which shows them), in order, each numbered once
    posted = [item[1] for m in c.customs() if m.get("kind") == "instructions"
              for item in m["items"]]
    assert posted == [{"action": "setMode", "mode": "cursor"}, {"action": "switchColor"}]
    # logged after the recorded instruction, told to on_instruction with their source
    assert [(e.kind, e.source) for e in session.log if e.direction == "out"] == [
        ("setMode", "python"), ("setMode", "python"), ("switchColor", "agent")]
    assert heard[-2:] == [("setMode", {"mode": "cursor"}, "python"),
                          ("switchColor", {}, "agent")]
    # kept apart from the recorded ones
    assert [(e.kind, e.data, e.source) for e in session.sent] == [
        ("setMode", {"action": "setMode", "mode": "cursor"}, "python"),
        ("switchColor", {"action": "switchColor"}, "agent")]
    # never applied: the state is the recording's
    assert session.control_tool is None and session.color == "#111111"
    # checked as on a live session: nothing sent for a bad one
    with pytest.raises(ValueError, match="mode"):
        session.set_mode("paint")  # type: ignore[arg-type]
    assert len(session.sent) == 2
    assert session.read_only
    assert UpscopeSession("https://watch.example.com/x").get_state("_read_only") == \
        {"_read_only": False}


def test_a_replays_visitor_cannot_be_scripted(replay):
    session, c, _ = replay
    before = len(c.customs())
    for script in (lambda: session.simulator.navigate("https://shop.example/"),
                   lambda: session.simulator.visitor_sends({"a": 1})):
        with pytest.raises(ReplayError, match="whose visitor is the recording and cannot be "
                                              "scripted"):
            script()
    assert len(c.customs()) == before and len(session.log) == 0 and len(session.sent) == 0


def test_after_the_recorded_end_a_replay_refuses_as_live_until_a_seek(replay):
    from upscope_widget import SessionEndedError

    session, c, _ = replay
    c.from_frontend({"kind": "hello", "frontend": "f1", "posted": 0})
    c.from_frontend(batch(full({"sessionStatus": "terminated"}),
                          {"e": {"type": "sessionEnded", "reason": "ended"}}, frontend="f1"))
    with pytest.raises(SessionEndedError, match="'setMode': the session has ended"):
        session.set_mode("draw")
    assert len(session.sent) == 0
    session.seek(1.0)
    session.set_mode("draw")
    assert [e.kind for e in session.sent] == ["setMode"]


def test_pause_play_seek_post_control_messages_not_logged(replay):
    session, c, _ = replay
    session.pause()
    session.seek(3.5)
    session.play()
    sent = [item[1] for m in c.customs() if m.get("kind") == "instructions" for item in m["items"]]
    assert sent == [{"action": REPLAY_ACTIONS["pause"]},
                    {"action": REPLAY_ACTIONS["seek"], "to": 3.5},
                    {"action": REPLAY_ACTIONS["play"], "from": 3.5}]
    assert len(session.log) == 0  # the log holds the session's traffic only
    assert session.position == 3.5 and session.playing
    for bad in (-1, 4.5, float("nan"), "2", True):
        with pytest.raises(ValueError, match=r"seconds=.* is not allowed: use a number "
                                             r"from 0 to 4"):
            session.seek(bad)


def test_position_starts_with_the_first_replayed_event(replay):
    session, c, fake = replay
    fake.now += 30  # not shown yet: nothing has played
    assert session.position == 0 and not session.finished
    c.from_frontend({"kind": "hello", "frontend": "f1", "posted": 0})
    c.from_frontend(batch(full({"sessionStatus": "active", "color": "#111111"}),
                          frontend="f1"))
    assert session.session_status == "active"
    assert session.position == 0.5  # that state was recorded at 0.5 s
    fake.now += 0.25
    assert session.position == 1.0  # 0.25 s at speed 2
    c.from_frontend(batch({"s": {"sessionStatus": "viewerReady"}},
                          {"e": {"type": "futureEvent", "x": 1}},
                          {"e": {"type": "error", "error": "connection:data"}},
                          {"s": {"color": "#222222"}}, frontend="f1"))
    assert session.position == 3.0  # what arrived was played
    fake.now += 10
    assert session.position == 4.0 and session.finished
    assert repr(session).startswith("<ReplaySession 4.0/4.0 s speed=2")


def test_recorded_instructions_take_their_place_in_the_replays_log(replay):
    session, c, _fake = replay
    heard: list[Any] = []
    session.on_instruction(lambda action, params, source: heard.append((action, params, source)))
    c.from_frontend({"kind": "hello", "frontend": "f1", "posted": 0})
    c.from_frontend(batch(full({"sessionStatus": "active", "color": "#111111",
                                "size": {"width": 1, "height": 2}}), frontend="f1"))
    # the instruction recorded before the first state is logged before it
    assert [(e.direction, e.kind, e.source) for e in session.log] == [
        ("out", "setMode", "python"), ("in", STATE, None)]
    assert heard == [("setMode", {"mode": "draw"}, "python")]
    c.from_frontend(batch({"s": {"sessionStatus": "viewerReady"}, "x": ["size"]},
                          {"e": {"type": "futureEvent", "x": 1}},
                          {"e": {"type": "error", "error": "connection:data"}},
                          {"s": {"color": "#222222"}}, frontend="f1"))
    # the simulator's control message is not an instruction; the toolbar's click, recorded
    # after the last event, comes once that event has arrived, with its recorded source
    assert [(e.direction, e.kind, e.source) for e in session.log] == [
        (e.direction, e.kind, e.source) for e in RECORDING
        if not e.kind.startswith("upscope-sim:")]
    assert heard[-1] == ("switchColor", {}, "toolbar")
    assert [m for m in c.customs() if m.get("kind") == "instructions"] == []  # none posted


def test_seeking_back_before_the_end_makes_the_session_live_again(replay):
    session, c, _ = replay
    c.from_frontend({"kind": "hello", "frontend": "f1", "posted": 0})
    c.from_frontend(batch(full({"sessionStatus": "terminated"}),
                          {"e": {"type": "sessionEnded", "reason": "ended"}}, frontend="f1"))
    assert session.ended and session.ended_reason == "ended"
    session.seek(1.0)
    assert not session.ended and session.ended_reason is None
    c.from_frontend(batch({"s": {"sessionStatus": "viewerReady"}}, frontend="f1"))
    assert session.session_status == "viewerReady"


def test_bad_recordings_and_speeds(tmp_path):
    log = SessionLog.from_entries(RECORDING)
    for bad in (-1, float("inf"), 1001, "fast", True, None):
        with pytest.raises(ValueError, match=r"speed=.* is not allowed: use a number from 0 to "
                                             r"1000"):
            UpscopeSession.replay(log, speed=bad)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="log must be a SessionLog"):
        UpscopeSession.replay(42)  # type: ignore[arg-type]
    two = SessionLog.concat([SessionLog.from_entries(RECORDING, name="a"),
                             SessionLog.from_entries(RECORDING, name="b")])
    with pytest.raises(ValueError, match=r"spans 2 sessions \['a', 'b'\]; replay one at a "
                                         r"time: UpscopeSession.replay\(log.session\(name\)\)"):
        UpscopeSession.replay(two)
    path = tmp_path / "saved.jsonl"
    log.save(path)
    from_file = UpscopeSession.replay(str(path), speed=0)
    assert isinstance(from_file, ReplaySession) and from_file.recording.name == "saved"
    assert page_replay(from_file)["speed"] == 0


def test_a_log_with_a_source_this_version_does_not_know_replays_whole(tmp_path):
    # written by a newer version: an instruction from a source this one does not know
    recording = [
        LogEntry(100.0, "out", "setMode", {"action": "setMode", "mode": "draw"},
                 source="voice-assistant"),
        state(0.5, sessionStatus="active", color="#111111"),
        LogEntry(100.8, "out", "switchColor", {"action": "switchColor"}, source="voice-assistant"),
        state(1.0, color="#222222"),
        state(2.0, sessionStatus="viewerReady"),
    ]
    path = tmp_path / "newer.jsonl"
    SessionLog.from_entries(recording).save(path)
    with recording_comms() as comms:
        session = ReplaySession(path, speed=0, clock=FakeClock())
    c = comms[-1]
    heard: list[Any] = []
    session.on_instruction(lambda action, params, source: heard.append((action, source)))
    c.from_frontend({"kind": "hello", "frontend": "f1", "posted": 0})
    c.from_frontend(batch(full({"sessionStatus": "active", "color": "#111111"}), frontend="f1"))
    c.from_frontend(batch({"s": {"color": "#222222"}}, {"s": {"sessionStatus": "viewerReady"}},
                          frontend="f1"))
    # every event applied, each instruction logged once, in place, its source kept
    assert session.color == "#222222" and session.session_status == "viewerReady"
    assert [(e.direction, e.kind, e.source) for e in session.log] == [
        (e.direction, e.kind, e.source) for e in recording]
    assert heard == [("setMode", "voice-assistant"), ("switchColor", "voice-assistant")]
    assert not [n for n in session.notices if "please report" in n["text"]]
