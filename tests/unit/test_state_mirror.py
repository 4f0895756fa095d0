"""The inbound state mirror, driven without a widget: parse, apply, diff, report."""

from __future__ import annotations

from typing import Any

from support.wire import snapshot
from upscope_widget import protocol
from upscope_widget._mirror import StateMirror


def _update(state: dict[str, Any]) -> dict[str, Any]:
    return {"type": protocol.STATE_UPDATE, "state": state}


def test_the_first_snapshot_changes_every_property_and_sets_the_traits_in_order() -> None:
    mirror = StateMirror()
    inbound = mirror.receive(_update(snapshot()))
    assert isinstance(inbound.event, protocol.StateUpdateEvent)
    change = inbound.change
    assert change is not None and inbound.reports == []
    assert mirror.state is change.state and mirror.state.color == "#ff5500"
    assert "color" in change.changed and "session_status" in change.changed
    # in the documented order; a property that is None was None before too (absent counts as None)
    expected = sorted((w for w, v in snapshot().items() if v is not None),
                      key=protocol.WIRE_ORDER.__getitem__)
    assert [name for name, _ in change.traits] == [protocol.WIRE_TO_FIELD[w] for w in expected]
    assert "control_tool" not in change.changed


def test_a_next_snapshot_reports_only_what_changed() -> None:
    mirror = StateMirror()
    mirror.receive(_update(snapshot()))
    inbound = mirror.receive(_update(snapshot(color="#00ff00", controlTool="drawing")))
    assert inbound.change is not None
    assert inbound.change.changed == {"color", "control_tool"}
    assert inbound.change.data == {"color": "#00ff00", "controlTool": "drawing"}
    order = protocol.WIRE_ORDER
    expected = sorted([("color", "#00ff00"), ("controlTool", "drawing")],
                      key=lambda item: order[item[0]])
    assert inbound.change.traits == [(protocol.WIRE_TO_FIELD[w], v) for w, v in expected]


def test_the_diff_is_type_strict_and_counts_a_property_that_went_away() -> None:
    mirror = StateMirror()
    mirror.receive(_update(snapshot(newThing=1)))  # a property this version does not know
    state = snapshot(newThing=True)
    del state["dataBounceSpeed"]
    inbound = mirror.receive(_update(state))
    assert inbound.change is not None
    # 1 -> True is a change (1 == True in Python); a property that disappeared is changed too,
    # but has no new value
    assert inbound.change.changed >= {"newThing", "data_bounce_speed"}
    assert "dataBounceSpeed" not in inbound.change.data


def test_a_bad_field_is_reported_once_until_it_changes_or_heals() -> None:
    mirror = StateMirror()
    mirror.receive(_update(snapshot()))
    first = mirror.receive(_update(snapshot(sessionStatus="bogus")))
    assert first.change is not None and len(first.reports) == 1
    assert "bogus" in first.reports[0] and "sessionStatus" in first.reports[0]
    again = mirror.receive(_update(snapshot(sessionStatus="bogus", color="#000000")))
    assert again.reports == []  # the same problem: not news
    healed = mirror.receive(_update(snapshot(color="#000001")))
    assert healed.reports == []
    relapse = mirror.receive(_update(snapshot(sessionStatus="bogus")))
    assert len(relapse.reports) == 1  # well in between: news again


def test_snapshots_after_the_end_are_ignored_and_said_so() -> None:
    mirror = StateMirror()
    mirror.receive(_update(snapshot()))
    ended = mirror.receive({"type": protocol.SESSION_ENDED, "reason": "ended"})
    assert isinstance(ended.event, protocol.SessionEndedEvent)
    assert mirror.ended and mirror.ended_reason == "ended"
    late = mirror.receive(_update(snapshot(color="#123456")))
    assert late.event is None and late.change is None
    assert len(late.reports) == 1 and "after the session ended" in late.reports[0]
    assert mirror.state is not None and mirror.state.color == "#ff5500"


def test_a_second_session_ended_is_ignored() -> None:
    mirror = StateMirror()
    mirror.receive({"type": protocol.SESSION_ENDED, "reason": "ended"})
    second = mirror.receive({"type": protocol.SESSION_ENDED, "reason": "error"})
    assert second.event is None and mirror.ended_reason == "ended"
    assert "second" in second.reports[0]


def test_messages_that_are_no_event_never_raise() -> None:
    mirror = StateMirror()
    for raw in (None, 3, "x", [], {"type": ""}, {"no": "type"},
                {"type": protocol.STATE_UPDATE, "state": "nope"}):
        inbound = mirror.receive(raw)
        assert inbound.event is None and inbound.change is None
        assert inbound.reports
    assert mirror.state is None


def test_other_events_pass_through_unchanged() -> None:
    mirror = StateMirror()
    inbound = mirror.receive({"type": protocol.CUSTOM_MESSAGE, "message": {"hi": 1}})
    assert isinstance(inbound.event, protocol.CustomMessageEvent)
    assert inbound.event.message == {"hi": 1} and inbound.change is None


def test_reset_forgets_the_session() -> None:
    mirror = StateMirror()
    mirror.receive(_update(snapshot(sessionStatus="terminated")))
    assert mirror.ended
    mirror.reset()
    assert mirror.state is None and mirror.raw == {} and not mirror.ended
    inbound = mirror.receive(_update(snapshot()))
    assert inbound.change is not None and mirror.state is not None


def test_a_state_with_too_many_properties_keeps_the_documented_ones_and_says_so() -> None:
    from upscope_widget._json import MAX_STATE_PROPERTIES

    mirror = StateMirror()
    extra = {f"k{i}": i for i in range(MAX_STATE_PROPERTIES + 50)}
    state = {**extra, **snapshot()}  # the documented ones last: kept all the same
    inbound = mirror.receive(_update(state))
    assert inbound.change is not None and mirror.state is not None
    assert len(mirror.raw) == MAX_STATE_PROPERTIES
    assert mirror.state.color == "#ff5500" and mirror.state.session_status == "viewerReady"
    kept_unknown = MAX_STATE_PROPERTIES - len(snapshot())
    assert f"k{kept_unknown - 1}" in mirror.raw and f"k{kept_unknown}" not in mirror.raw
    assert len(inbound.reports) == 1
    assert f"more than {MAX_STATE_PROPERTIES} properties" in inbound.reports[0]
    assert f"'k{kept_unknown}'" in inbound.reports[0]
    # growing further: the same problem, not news on every snapshot
    again = mirror.receive(_update({**state, "k99999": 1}))
    assert again.reports == []


def test_the_decoder_bounds_a_snapshot_grown_key_by_key() -> None:
    from upscope_widget._bridge import InboundDecoder
    from upscope_widget._json import MAX_STATE_PROPERTIES

    decoder = InboundDecoder()
    items = [{"s": snapshot(), "f": True}]
    items += [{"s": {f"k{i}": i}} for i in range(MAX_STATE_PROPERTIES * 2)]
    decoded = list(decoder.decode(items))
    sizes = [len(message["state"]) for message, _ in decoded]
    assert max(sizes) == MAX_STATE_PROPERTIES
    assert sizes[-1] == MAX_STATE_PROPERTIES
    last, problems = decoded[-1]
    assert last["state"]["color"] == "#ff5500"  # the documented ones stay
    assert problems and f"more than {MAX_STATE_PROPERTIES}" in problems[0].text


def test_the_browsers_count_of_what_it_left_out_is_reported() -> None:
    from upscope_widget._bridge import ITEM_LEFT_OUT, InboundDecoder

    decoded = list(InboundDecoder().decode([{"s": snapshot(), "f": True, ITEM_LEFT_OUT: 12}]))
    (message, problems), = decoded
    assert message["state"]["color"] == "#ff5500"
    assert [p.text for p in problems] == [
        "the state has more than 256 properties; the browser forwarded only the first ones"]


SAMPLES: list[Any] = [None, True, False, 0, 1, -1, 2**70, 0.0, -0.0, 1.5, -2.5, float("nan"),
                      float("inf"), float("-inf"), "", "x", "drawing", [], {}, ["x"], {"a": 1},
                      b"x"]


def test_the_scalar_fast_path_takes_only_what_the_model_takes_as_it_is() -> None:
    checks = protocol.SCALAR_CHECKS
    assert len(checks) >= 15  # every string, bool and number property of the state
    for wire, check in checks.items():
        name = protocol.WIRE_TO_FIELD[wire]
        for value in SAMPLES[1:]:
            try:
                model = protocol.EmbeddedSessionState.model_validate({wire: value})
            except ValueError:
                model = None
            if check(value):
                assert model is not None, (wire, value)
                got = getattr(model, name)
                assert type(got) is type(value) and got == value, (wire, value)


def test_a_snapshot_parsed_on_the_fast_path_equals_one_parsed_whole() -> None:
    state, data, _ = protocol.parse_state(snapshot())
    for change in ({"dataBounceSpeed": 5}, {"dataBounceSpeed": 2.5, "muted": None},
                   {"sessionStatus": "bogus"}, {"color": "#000000", "connected": False}):
        raw = {**data, **change}
        fast, fast_data, fast_problems = protocol.parse_state(raw, data, state)
        whole, whole_data, whole_problems = protocol.parse_state(raw)
        assert fast == whole and fast_data == whole_data
        assert fast.model_fields_set == whole.model_fields_set
        assert fast.model_extra == whole.model_extra
        assert fast.to_wire() == whole.to_wire()
        assert [p.text for p in fast_problems] == [p.text for p in whole_problems]
