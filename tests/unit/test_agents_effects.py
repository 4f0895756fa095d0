"""``perform`` (send, then await the effect in the state) and ``events`` (a stream of events).

The service's answers are played by feeding the snapshots it would post (as the simulator page
does: tests/e2e/test_agents_jupyter.py runs every effect against the real simulator).
"""

from __future__ import annotations

import asyncio
import gc

import pytest

from support.aio import run
from support.wire import batch, full, snapshot
from upscope_widget import NoFrontendError, SessionEndedError, protocol
from upscope_widget.agents import EFFECTS, EffectTimeoutError
from upscope_widget.agents import effects as fx

HELLO = {"kind": "hello", "posted": 0}


def ready(make_session, **state):
    session, comm = make_session()
    comm.from_frontend(HELLO)
    comm.from_frontend(batch(full(snapshot(**state))))
    return session, comm


def answer(comm, *items, delay=0.05):
    """Play the service: post ``items`` (batch items) a little later, in order."""
    loop = asyncio.get_running_loop()
    for i, item in enumerate(items):
        loop.call_later(delay * (i + 1), comm.from_frontend, batch(item))


def sent(comm):
    return [message for m in comm.customs() if m.get("kind") == "instructions"
            for _seq, message in m["items"]]


def test_the_effect_table_covers_every_instruction_with_protocol_values():
    assert set(EFFECTS) == set(protocol.INSTRUCTION_PARAMS)
    assert set(protocol.CONTROL_TOOL_FOR_MODE) - {None} == set(protocol.SET_MODE_VALUES)
    assert set(protocol.CONTROL_TOOL_FOR_MODE.values()) - {None} == set(
        protocol.STATE_ENUMS["controlTool"])
    assert fx.AUDIO_OFF in protocol.STATE_ENUMS["audioState"]
    assert fx.FULL_SCREEN_MODE in protocol.STATE_ENUMS["mode"]
    assert fx.VIDEO_OFF in protocol.VIDEO_AGENT_STATES


@pytest.mark.parametrize(("method", "params", "before", "after"), [
    ("set_mode", {"mode": "draw"}, {}, {"controlTool": "drawing"}),
    ("set_mode", {"mode": None}, {"controlTool": "cursor"}, {"controlTool": None}),
    ("switch_color", {"color": "#00FF00"}, {}, {"color": "#00ff00"}),
    ("switch_color", {"color": "red"}, {}, {"color": "#ff0000"}),  # written its own way
    ("switch_color", {}, {}, {"color": "#0091ff"}),  # cycles: any other color
    ("toggle_audio", {"on": True}, {}, {"audioState": "ringing"}),
    ("toggle_audio", {"on": False}, {"audioState": "active"}, {"audioState": "off"}),
    ("set_muted", {"muted": True}, {}, {"muted": True}),
    ("begin_video", {}, {}, {"videoAgentState": "active:a1", "isVideoOn": True}),
    ("end_video", {}, {"videoAgentState": "active:a1", "isVideoOn": True},
     {"videoAgentState": "off", "isVideoOn": False}),
    ("toggle_video", {}, {}, {"videoAgentState": "active:a1", "isVideoOn": True}),
    ("toggle_video", {}, {"videoAgentState": "active:a1", "isVideoOn": True},
     {"videoAgentState": "off", "isVideoOn": False}),
    ("setCurrentUrl", {"url": "https://shop.example/cart"}, {},
     {"currentUrl": "https://shop.example/cart"}),
    ("set_current_url", {"url": "https://shop.example/cart"}, {},
     {"currentUrl": "https://shop.example/login?next=cart"}),  # a redirect
    ("history_back", {}, {}, {"currentUrl": "https://shop.example/before"}),
    ("set_active_connection", {"connection_id": "c2"}, {}, {"activeConnectionId": "c2"}),
    ("request_full_tab", {}, {}, {"mode": "visitor_screen"}),
    ("stop_full_tab", {}, {"mode": "visitor_screen"}, {"mode": "visitor_browser"}),
])
def test_perform_returns_once_the_state_shows_the_effect(make_session, method, params, before,
                                                         after):
    session, comm = ready(make_session, **before)

    async def main():
        # first an unrelated snapshot (the drift), then the effect
        answer(comm, {"s": {"dataBounceSpeed": 99}}, {"s": after})
        return await session.perform(method, timeout=10, **params)

    state = run(main())
    assert state is session.state
    assert state.data_bounce_speed == 99  # it did not return before the effect
    assert sent(comm)[-1]["action"] == fx.resolve_action(method)


def test_perform_ends_with_the_session(make_session):
    session, comm = ready(make_session)

    async def main():
        answer(comm, {"s": {"sessionStatus": "terminated", "connected": False}},
               {"e": {"type": "sessionEnded", "reason": "ended"}})
        return await session.perform("end_session")

    state = run(main())
    assert state.session_status == "terminated" and session.ended


def test_instructions_without_a_state_effect_return_at_once(make_session):
    session, comm = ready(make_session)
    for method, params in [("emoji_confetti", {"emoji": "🎉"}), ("reload_page", {}),
                           ("send_custom_message", {"message": {"a": 1}}),
                           ("request_control", {}), ("force_refresh", {})]:
        assert run(session.perform(method, timeout=0.01, **params)) is session.state
    assert [m["action"] for m in sent(comm)] == [
        "emojiConfetti", "reloadPage", "sendCustomMessage", "requestControl", "forceRefresh"
    ]


def test_timeout_carries_the_last_state_the_effect_and_the_errors(make_session):
    session, comm = ready(make_session)

    async def main():
        answer(comm, {"e": {"type": "error", "error": "connection:user_not_found"}})
        await session.perform("set_active_connection", connection_id="nope", timeout=0.5)

    with pytest.raises(EffectTimeoutError) as caught:
        run(main())
    err = caught.value
    assert isinstance(err, TimeoutError)
    assert err.action == "setActiveConnection"
    assert err.effect == "active_connection_id == 'nope'"
    assert err.state.active_connection_id == "c1"
    assert [e.code for e in err.errors] == ["connection:user_not_found"]
    text = str(err)
    assert "never showed active_connection_id == 'nope'" in text
    assert "active_connection_id='c1'" in text
    assert "connection:user_not_found" in text
    # the temporary error callback is gone
    assert session._on_error.callbacks == []


def test_the_session_ending_first_is_said_at_once(make_session):
    session, comm = ready(make_session)

    async def main():
        answer(comm, {"e": {"type": "sessionEnded", "reason": "error"}})
        await session.perform("set_mode", mode="draw", timeout=30)

    with pytest.raises(SessionEndedError, match=r"ended .*before the state showed control_tool"):
        run(main())


def test_bad_perform_sends_nothing(make_session):
    session, comm = ready(make_session)
    with pytest.raises(ValueError, match=r"mode='laser'.*'draw'"):
        run(session.perform("set_mode", mode="laser"))
    with pytest.raises(ValueError, match=r"'fly' is not an instruction; allowed: .*set_mode"):
        run(session.perform("fly"))
    with pytest.raises(ValueError, match="timeout"):
        run(session.perform("set_mode", mode="draw", timeout=-1))
    assert sent(comm) == []


def test_perform_without_a_frontend_says_so(make_session):
    session, comm = make_session()
    with pytest.raises(NoFrontendError):
        run(session.perform("set_mode", mode="draw", timeout=0.2))
    assert sent(comm) == [{"action": "setMode", "mode": "draw"}]  # queued for later


def test_events_stream_in_order_with_a_filter(make_session):
    session, comm = ready(make_session)

    async def main():
        got = []
        answer(comm, {"e": {"type": "customMessage", "message": {"n": 1}}},
               {"s": {"controlTool": "pointer"}},
               {"e": {"type": "customMessage", "message": {"n": 2}}},
               {"e": {"type": "error", "error": "connection:data"}})
        async for event in session.events(["customMessage", "error"], timeout=5):
            got.append(event)
            if len(got) == 3:
                break
        return got

    got = run(main())
    assert [e.type for e in got] == ["customMessage", "customMessage", "error"]
    assert [e.message for e in got[:2]] == [{"n": 1}, {"n": 2}]
    gc.collect()
    assert session._on_event.callbacks == []  # the loop ended: no longer listening


def test_events_every_type_and_async_with(make_session):
    session, comm = ready(make_session)

    async def main():
        answer(comm, {"s": {"controlTool": "pointer"}},
               {"e": {"type": "sessionEnded", "reason": "ended"}})
        async with session.events(timeout=5) as stream:
            first = await stream.__anext__()
            second = await stream.__anext__()
        return stream, first, second

    stream, first, second = run(main())
    assert first.type == "upscope.sessionState.update" and second.type == "sessionEnded"
    assert stream.closed and session._on_event.callbacks == []


def test_events_timeout_and_bad_arguments(make_session):
    session, _comm = ready(make_session)

    async def main():
        async for _event in session.events("customMessage", timeout=0.1):
            pass

    with pytest.raises(TimeoutError, match="no customMessage event arrived"):
        run(main())
    assert session._on_event.callbacks == []

    async def bad(**kwargs):
        session.events(**kwargs)

    with pytest.raises(ValueError, match=r"'message', which is not an event type; allowed: "):
        run(bad(types=["message"]))
    with pytest.raises(ValueError, match="timeout"):
        run(bad(timeout=0))
    with pytest.raises(RuntimeError, match="needs a running asyncio loop"):
        session.events()


def test_events_without_a_frontend(make_session):
    session, _comm = make_session()

    async def main():
        async for _event in session.events(timeout=0.2):
            pass

    with pytest.raises(NoFrontendError):
        run(main())


def custom(n):
    return {"e": {"type": "customMessage", "message": {"n": n}}}


def test_an_unread_stream_keeps_the_newest_events_and_says_what_it_dropped(make_session):
    import warnings

    session, comm = ready(make_session)

    async def main():
        stream = fx.EventStream(session, "customMessage", timeout=5, max_buffer=10)
        comm.from_frontend(batch(*(custom(n) for n in range(25))))
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            first = await stream.__anext__()
            rest = [await stream.__anext__() for _ in range(9)]
            told = [str(w.message) for w in caught]
            kinds = {w.category for w in caught}
            # a second gap is told once too, with its own count
            comm.from_frontend(batch(*(custom(n) for n in range(100, 112))))
            later = [await stream.__anext__() for _ in range(10)]
            told_later = [str(w.message) for w in caught][len(told):]
        stream.close()
        return stream, first, rest, told, kinds, later, told_later

    stream, first, rest, told, kinds, later, told_later = run(main())
    assert [e.message["n"] for e in [first, *rest]] == list(range(15, 25))  # the newest, in order
    assert len(told) == 1 and kinds == {RuntimeWarning}
    assert "dropped 15 events" in told[0] and "max_buffer=10" in told[0]
    assert [e.message["n"] for e in later] == list(range(102, 112))
    assert len(told_later) == 1 and "dropped 2 events" in told_later[0]
    assert stream.dropped == 17
    assert stream.max_buffer == 10


def test_session_events_are_bounded_by_default(make_session):
    import warnings

    session, comm = ready(make_session)

    async def main():
        stream = session.events("customMessage", timeout=5)
        comm.from_frontend(batch(*(custom(n) for n in range(fx.MAX_BUFFER + 5))))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            first = await stream.__anext__()
        stream.close()
        return stream, first

    stream, first = run(main())
    assert stream.max_buffer == fx.MAX_BUFFER == 1000
    assert stream.dropped == 5 and first.message == {"n": 5}


def test_session_events_takes_max_buffer(make_session):
    import warnings

    session, comm = ready(make_session)

    async def main():
        stream = session.events("customMessage", timeout=5, max_buffer=3)
        comm.from_frontend(batch(*(custom(n) for n in range(8))))
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            got = [(await stream.__anext__()).message["n"] for _ in range(3)]
        stream.close()
        return stream, got

    stream, got = run(main())
    assert got == [5, 6, 7] and stream.dropped == 5 and stream.max_buffer == 3


@pytest.mark.parametrize("bad", [0, -1, 1.5, True, "10", None])
def test_max_buffer_must_be_a_positive_int(make_session, bad):
    session, _comm = ready(make_session)

    async def main():
        fx.EventStream(session, max_buffer=bad)

    with pytest.raises(ValueError, match=rf"max_buffer={bad!r} is not allowed: .*e\.g\. 1000"):
        run(main())
    assert session._on_event.callbacks == []


def test_a_stream_ends_with_its_session(make_session):
    session, comm = ready(make_session)

    async def main():
        stream = session.events("customMessage", timeout=5)
        comm.from_frontend(batch(custom(1), custom(2)))
        session.close()
        got = [event.message["n"] async for event in stream]
        return stream, got

    stream, got = run(main())
    assert got == [1, 2]  # what had arrived, then the end
    assert stream.closed
    assert session._on_event.callbacks == [] and session._on_close.callbacks == []


def test_a_waiting_stream_ends_when_its_session_closes(make_session):
    session, _comm = ready(make_session)

    async def main():
        asyncio.get_running_loop().call_later(0.05, session.close)
        return [event async for event in session.events(timeout=5)]

    assert run(main()) == []
    assert session._on_close.callbacks == []
