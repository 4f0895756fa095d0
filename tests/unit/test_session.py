from __future__ import annotations

import json
from typing import Any

import pytest

from support.wire import INSTRUCTION_CASES, batch, full, snapshot
from upscope_widget import (
    CustomMessageEvent,
    EmbeddedSessionState,
    ErrorEvent,
    ReadOnlyStateError,
    SessionEndedError,
    SessionEndedEvent,
    SessionErrorInfo,
    StateUpdateEvent,
    UnknownEvent,
    UpscopeProtocolWarning,
    UpscopeSession,
)
from upscope_widget.protocol import STATE_FIELDS

STATE_TRAITS = [
    "active_connection_id", "agent_idleness", "audio_state", "available_modes", "color",
    "connected", "connections", "control_tool", "current_url", "data_bounce_speed",
    "is_video_on", "mode", "muted", "observers_count", "session_status", "size",
    "video_agent_state", "video_visitor_state", "viewer_audio_available", "visitor",
    "visitor_audio_available",
]


def test_every_state_property_has_a_snake_case_trait(make_session):
    session, _ = make_session()
    assert sorted(STATE_FIELDS) == sorted(STATE_TRAITS)
    for name in STATE_TRAITS:
        assert session.has_trait(name)
        assert getattr(session, name) is None
    assert session.state is None


def test_snapshot_sets_traits_to_wire_values(make_session):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot(agentIdleness="willDisconnect"))))
    assert session.agent_idleness == "willDisconnect"
    assert session.session_status == "viewerReady"
    assert session.connections == [{"id": "c1", "url": "https://shop.example/"}]
    assert session.size == {"width": 1280, "height": 720}
    assert session.visitor == {"shortId": "abc123", "callName": "Grace Hopper"}
    assert session.data_bounce_speed == 120
    assert session.control_tool is None
    assert isinstance(session.state, EmbeddedSessionState)
    assert session.state.visitor is not None
    assert session.state.visitor.call_name == "Grace Hopper"
    assert session.state.connections is not None
    assert session.state.connections[0].id == "c1"
    assert session.state.connections[0].url == "https://shop.example/"  # unknown field kept


def test_missing_property_is_none_and_unknown_fields_are_kept(make_session):
    session, c = make_session()
    state = snapshot(brandNewField={"x": 1})
    del state["mode"], state["visitor"]
    c.from_frontend(batch(full(state)))
    assert session.mode is None
    assert session.visitor is None
    assert session.state.model_extra == {"brandNewField": {"x": 1}}


@pytest.mark.parametrize(
    "name", [*STATE_TRAITS, "state", "last_error", "ended_reason", "rejected_messages"]
)
def test_assigning_state_trait_raises(make_session, name):
    session, _ = make_session()
    with pytest.raises(ReadOnlyStateError, match=f"{name} is read-only"):
        setattr(session, name, "x")


def test_read_only_error_names_the_instruction(make_session):
    session, _ = make_session()
    with pytest.raises(ReadOnlyStateError, match=r"set_mode\(mode\)"):
        session.control_tool = "drawing"
    with pytest.raises(ReadOnlyStateError, match=r"set_active_connection"):
        session.active_connection_id = "c2"
    with pytest.raises(AttributeError):  # also an AttributeError, for generic code
        session.color = "red"


def test_every_snapshot_reaches_observers_in_order(make_session):
    session, c = make_session()
    seen: list[str] = []
    session.observe(lambda ch: seen.append(ch["new"]), "session_status")
    statuses = ["waiting", "active", "snapshotReceived", "viewerReady"]
    items = [full(snapshot(sessionStatus=statuses[0]))]
    items += [{"s": {"sessionStatus": s}} for s in statuses[1:]]
    c.from_frontend(batch(*items))
    assert seen == statuses


def test_thousand_snapshot_burst_is_applied_one_by_one(make_session):
    session, c = make_session()
    seen: list[int] = []
    session.observe(lambda ch: seen.append(ch["new"]), "data_bounce_speed")
    changes: list[set[str]] = []
    session.on_state_change(lambda state, changed: changes.append(changed))
    items = [full(snapshot(dataBounceSpeed=0))] + [
        {"s": {"dataBounceSpeed": i}} for i in range(1, 1000)
    ]
    for start in range(0, 1000, 64):  # several batches, as the frontend sends them
        c.from_frontend(batch(*items[start : start + 64]))
    assert seen == list(range(1000))
    assert len(changes) == 1000
    assert changes[1] == {"data_bounce_speed"}


def test_changes_are_type_strict(make_session):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot(vendorFlag=True, observersCount=1))))
    changed: list[set[str]] = []
    session.on_state_change(lambda s, ch: changed.append(ch))
    c.from_frontend(batch({"s": {"vendorFlag": 1}}))  # True == 1 in Python, still a change
    c.from_frontend(batch({"s": {"vendorFlag": 1}}))
    assert changed == [{"vendorFlag"}]
    assert session.state.model_extra == {"vendorFlag": 1}
    with pytest.warns(UpscopeProtocolWarning, match="connected=1"):
        c.from_frontend(batch({"s": {"connected": 1}}))
    assert session.connected is True  # a bad value never replaces the last good one
    assert changed == [{"vendorFlag"}]  # so nothing changed


def test_removed_property_becomes_none(make_session):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot())))
    c.from_frontend(batch({"s": {}, "x": ["activeConnectionId"]}))
    assert session.active_connection_id is None
    assert session.state.active_connection_id is None


def test_on_state_change_gets_state_and_changed_names(make_session):
    session, c = make_session()
    got: list[tuple[EmbeddedSessionState, set[str]]] = []

    @session.on_state_change
    def cb(state, changed):
        got.append((state, changed))

    c.from_frontend(batch(full(snapshot())))
    c.from_frontend(batch({"s": {"controlTool": "drawing", "color": "#00ff00"}}))
    c.from_frontend(batch({"s": {}}))  # nothing changed: no call
    assert len(got) == 2
    assert got[1][1] == {"control_tool", "color"}
    assert got[1][0].control_tool == "drawing"
    session.on_state_change(cb, remove=True)
    c.from_frontend(batch({"s": {"color": "#0000ff"}}))
    assert len(got) == 2


def test_error_event(make_session):
    session, c = make_session()
    errors: list[SessionErrorInfo] = []
    session.on_error(errors.append)
    c.from_frontend(batch({"e": {"type": "error", "error": "remote_control:click_not_allowed"}},
                          {"e": {"type": "error", "error": "future:thing"}}))
    assert [e.code for e in errors] == ["remote_control:click_not_allowed", "future:thing"]
    assert errors[0].category == "remote_control"
    assert "clicks" in errors[0].description
    assert errors[1].category == "future" and not errors[1].known
    assert session.last_error == errors[1]


def test_session_ended_event_blocks_instructions(make_session):
    session, c = make_session()
    reasons: list[str] = []
    session.on_session_ended(reasons.append)
    c.from_frontend(batch({"e": {"type": "sessionEnded", "reason": "error"}}))
    assert reasons == ["error"]
    assert session.ended_reason == "error"
    assert session.ended
    with pytest.raises(SessionEndedError, match="has ended"):
        session.set_mode("draw")


def test_terminated_status_blocks_instructions(make_session):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot(sessionStatus="terminated"))))
    with pytest.raises(SessionEndedError):
        session.end_session()


def test_custom_message_and_on_event(make_session):
    session, c = make_session()
    messages: list[dict[str, Any]] = []
    events: list[Any] = []
    session.on_custom_message(messages.append)
    session.on_event(events.append)
    c.from_frontend(batch(
        full(snapshot()),
        {"e": {"type": "customMessage", "message": {"hello": [1, 2]}}},
        {"e": {"type": "error", "error": "connection:expired"}},
        {"e": {"type": "somethingNew", "payload": 3}},
        {"e": {"type": "sessionEnded", "reason": "ended"}},
    ))
    assert messages == [{"hello": [1, 2]}]
    assert [type(e) for e in events] == [
        StateUpdateEvent, CustomMessageEvent, ErrorEvent, UnknownEvent, SessionEndedEvent
    ]
    assert events[3].type == "somethingNew" and events[3].payload == 3


def test_failing_callback_does_not_stop_others_and_is_shown(make_session):
    session, c = make_session()
    calls: list[str] = []

    def bad(message):
        raise RuntimeError("boom in callback")

    session.on_custom_message(bad)
    session.on_custom_message(lambda m: calls.append("second"))
    c.from_frontend(batch({"e": {"type": "customMessage", "message": {}}}))
    assert calls == ["second"]
    assert session.notices[-1]["level"] == "error"
    assert "boom in callback" in session.notices[-1]["text"]
    assert "Traceback" in session.notices[-1]["text"]
    # the notice reaches the frontend (synced trait) so it shows under the widget
    assert any("_notices" in u for u in c.updates())
    c.from_frontend({"kind": "dismiss"})
    assert session.notices == []


def test_on_x_rejects_non_callables(make_session):
    session, _ = make_session()
    with pytest.raises(TypeError, match="callable"):
        session.on_error("not a function")


@pytest.mark.parametrize(
    ("raw", "fragment"),
    [
        ("just a string", "not an object"),
        ({"no": "type"}, "without a string 'type'"),
        ({"type": "upscope.sessionState.update", "state": [1, 2]}, "'state' is not an object"),
        ({"type": "customMessage", "message": "x"}, "'message' is not an object"),
        ({"type": "error", "error": 5}, "'error' is not a string"),
    ],
)
def test_malformed_messages_warn_and_never_raise(make_session, raw, fragment):
    session, c = make_session()
    with pytest.warns(UpscopeProtocolWarning, match=fragment):
        c.from_frontend(batch({"e": raw}))
    assert fragment in session.notices[-1]["text"]


def test_bad_fields_are_reported_and_the_rest_applied(make_session):
    session, c = make_session()
    with pytest.warns(UpscopeProtocolWarning) as record:
        c.from_frontend(batch(full(snapshot(connected="yes", dataBounceSpeed="fast",
                                            color="#123456"))))
    text = " ".join(str(w.message) for w in record)
    assert "connected='yes'" in text and "dataBounceSpeed='fast'" in text
    assert session.connected is None  # no good value yet
    assert session.data_bounce_speed is None
    assert session.color == "#123456"
    assert session.session_status == "viewerReady"


def test_unknown_enum_value_is_kept_with_a_warning(make_session):
    session, c = make_session()
    with pytest.warns(UpscopeProtocolWarning, match="audioState='connecting'"):
        c.from_frontend(batch(full(snapshot(audioState="connecting"))))
    assert session.audio_state == "connecting"


def test_unreadable_item_warns(make_session):
    _session, c = make_session()
    with pytest.warns(UpscopeProtocolWarning, match="not forwarded: a bigint"):
        c.from_frontend(batch({"u": "a bigint"}))


def test_rejected_messages_counted(make_session):
    session, c = make_session()
    assert session.rejected_messages == 0
    c.from_frontend(batch(rejected=3))
    c.from_frontend(batch(rejected=2))
    assert session.rejected_messages == 5


def _nested(depth: int) -> dict:
    value: object = 1
    for _ in range(depth):
        value = [value]
    return {"deep": value}


# --- instructions -----------------------------------------------------------------------------



@pytest.mark.parametrize(("call", "wire"), INSTRUCTION_CASES)
def test_instruction_wire_form(make_session, call, wire):
    session, c = make_session()
    call(session)
    assert c.customs()[-1] == {"kind": "instructions", "items": [[1, wire]]}
    assert json.loads(json.dumps(wire)) == wire


def test_all_twenty_documented_instructions_have_methods():
    from upscope_widget.protocol import INSTRUCTION_PARAMS
    from upscope_widget.protocol import to_camel as camel

    assert len(INSTRUCTION_PARAMS) == 20
    methods = {camel(n) for n in dir(UpscopeSession) if not n.startswith("_")}
    assert set(INSTRUCTION_PARAMS) <= methods


@pytest.mark.parametrize(
    ("call", "fragments"),
    [
        (lambda s: s.set_mode("laser"), ["'laser'", "'draw'", "'pointer'", "'cursor'"]),
        (lambda s: s.toggle_audio("yes"), ["'yes'", "True or False"]),
        (lambda s: s.set_muted(1), ["muted=1", "True or False"]),
        (lambda s: s.send_custom_message("hi"), ["'hi'", "dict"]),
        (lambda s: s.send_custom_message({"t": {1, 2}}), ["{1, 2}", "JSON"]),
        (lambda s: s.send_custom_message({"x": float("nan")}), ["nan", "JSON"]),
        (lambda s: s.set_current_url("javascript:alert(1)"), ["javascript:alert(1)", "https:"]),
        (lambda s: s.set_current_url("/cart"), ["/cart", "absolute"]),
        (lambda s: s.set_active_connection(""), ["connection_id=''", "non-empty"]),
        (lambda s: s.emoji_confetti(""), ["emoji=''", "non-empty"]),
        (lambda s: s.run_console_command("  "), ["command='  '", "non-empty"]),
        (lambda s: s.switch_color(""), ["color=''", "non-empty"]),
        (lambda s: s.send_instruction(""), ["''", "non-empty"]),
        (lambda s: s.send_instruction("x", action="y"), ["'action'"]),
        (lambda s: s.send_instruction("setMode", mode="draw", extra=1), ["extra=1", "mode"]),
        (lambda s: s.send_instruction("futureThing", blob=object(), allow_unknown=True),
         ["JSON"]),
        (lambda s: s.send_instruction("futureThing"), ["'futureThing'", "allow_unknown=True",
                                                        "'setCurrentUrl'"]),
        # a near miss would skip the URL check: refused even when the caller allows unknowns
        (lambda s: s.send_instruction("setcurrenturl", url="javascript:alert(1)"),
         ["'setcurrenturl'", "did you mean 'setCurrentUrl'"]),
        (lambda s: s.send_instruction("setCurrentUrl ", url="javascript:alert(1)",
                                      allow_unknown=True),
         ["'setCurrentUrl '", "did you mean 'setCurrentUrl'"]),
        (lambda s: s.send_custom_message(_nested(2000)), ["nested deeper than 64"]),
        (lambda s: s.send_custom_message({"n": 10**5000}), ["about 5001 digits", "safe"]),
        (lambda s: s.send_custom_message({"big": "x" * 2_000_000}), ["longer than 1048576"]),
        (lambda s: s.set_current_url("https://shop.example/" + "a" * 2_000_000),
         ["the limit is 8192"]),
    ],
)
def test_bad_instruction_raises_and_sends_nothing(make_session, call, fragments):
    session, c = make_session()
    with pytest.raises(ValueError) as info:
        call(session)
    for fragment in fragments:
        assert fragment in str(info.value)
    assert c.customs() == []
    assert session.pending_instructions == []


def test_instructions_queue_until_posted_and_resend_on_hello(make_session):
    session, c = make_session()
    session.set_mode("draw")
    session.switch_color()
    session.emoji_confetti("🎉")
    assert [m["action"] for m in session.pending_instructions] == [
        "setMode", "switchColor", "emojiConfetti"
    ]
    # a frontend starts (page load): it announces itself and gets everything unposted
    c.from_frontend({"kind": "hello", "posted": 0})
    resend = c.customs()[-1]
    assert resend["kind"] == "instructions"
    assert [item[0] for item in resend["items"]] == [1, 2, 3]
    assert [item[2] for item in resend["items"]] == [False] * 3  # no page had them before
    # it posts the first two; the acknowledgement rides on a batch
    c.from_frontend(batch(posted=2))
    assert [m["action"] for m in session.pending_instructions] == ["emojiConfetti"]
    c.from_frontend({"kind": "hello", "posted": 0})  # another reload: only the rest
    assert [item[0] for item in c.customs()[-1]["items"]] == [3]


def test_setting_url_resets_state_and_drops_undelivered(make_session):
    session, c = make_session()
    session.set_mode("draw")  # the page that ends the session never says it posted it
    c.from_frontend(batch(full(snapshot()), {"e": {"type": "sessionEnded", "reason": "ended"}}))
    assert session.ended and session.pending_instructions
    session.url = "https://other.example.com/watch"
    assert session.session_status is None and session.state is None
    assert session.ended_reason is None and not session.ended
    assert session.pending_instructions == []
    assert "dropped" in session.notices[-1]["text"]
    session.set_mode("cursor")  # usable again
    assert session.origin == "https://other.example.com"


@pytest.mark.parametrize(
    "url",
    ["javascript:alert(1)", "data:text/html,hi", "file:///etc/passwd", "relative/path",
     "http://example.com/watch", "ftp://example.com", "https://", ""],
)
def test_bad_urls_refused_at_construction(make_session, url):
    with pytest.raises(ValueError, match="allowed"):
        make_session(url)


@pytest.mark.parametrize(
    "url", ["https://a.example/x?y=1", "http://localhost:8000/", "http://127.0.0.1:9/p",
            "http://[::1]:8080/"],
)
def test_good_urls_accepted(make_session, url):
    session, _ = make_session(url)
    assert session.url == url


def test_width_and_height(make_session):
    session, _ = make_session(width=800, height="70vh")
    assert (session.width, session.height) == (800, "70vh")
    with pytest.raises(ValueError, match=r"height='tall' is not allowed.*CSS length"):
        session.height = "tall"
    with pytest.raises(ValueError, match="width=-5 is not allowed"):
        session.width = -5
    with pytest.raises(ValueError, match="width=True"):
        session.width = True


def test_url_is_synced_and_state_traits_are_not(make_session):
    _session, c = make_session()
    synced = set(c.opened["state"])
    assert {"url", "width", "height", "_session_id"} <= synced
    assert not synced & set(STATE_TRAITS)


def test_repr_hides_the_watch_link_query(make_session):
    session, _ = make_session("https://watch.example.com/cobrowse?token=SECRET")
    assert "SECRET" not in repr(session)


def test_the_latest_frontend_owns_the_session(make_session):
    session, c = make_session()
    c.from_frontend({"kind": "hello", "posted": 0, "frontend": "tab-1"})
    assert c.customs()[-1] == {"kind": "owner", "frontend": "tab-1", "previous": None}
    c.from_frontend(batch(full(snapshot(color="#111111")), frontend="tab-1"))
    assert session.color == "#111111"
    c.from_frontend({"kind": "hello", "posted": 0, "frontend": "tab-2"})  # another tab opens
    assert c.customs()[-1] == {"kind": "owner", "frontend": "tab-2", "previous": "tab-1"}
    # what the old owner still sends is ignored; the new owner starts from a whole snapshot
    c.from_frontend(batch({"s": {"color": "#222222"}}, frontend="tab-1", rejected=4))
    assert session.color == "#111111" and session.rejected_messages == 0
    c.from_frontend(batch(full(snapshot(color="#333333", muted=True)), frontend="tab-2"))
    assert (session.color, session.muted) == ("#333333", True)


def test_a_claiming_frontend_gets_the_undelivered_instructions(make_session):
    session, c = make_session()
    c.from_frontend({"kind": "hello", "posted": 0, "frontend": "tab-1"})
    c.from_frontend(batch(loaded=True, frontend="tab-1"))  # its iframe is up: it may post
    session.set_mode("draw")
    session.switch_color()
    c.from_frontend({"kind": "hello", "posted": 0, "frontend": "tab-2"})
    # tab-1 may have posted them: if it never says, tab-2 skips them rather than post twice
    assert c.customs()[-1]["items"] == [[1, {"action": "setMode", "mode": "draw"}, True],
                                        [2, {"action": "switchColor"}, True]]
    # the old owner had posted the first one: its release counts, and the new owner is told
    c.from_frontend(batch(posted=1, released=True, frontend="tab-1"))
    assert session.pending_instructions == [{"action": "switchColor"}]
    assert c.customs()[-1] == {"kind": "delivered", "upTo": 1, "by": "tab-1"}
