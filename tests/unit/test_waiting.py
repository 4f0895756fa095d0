from __future__ import annotations

import asyncio
import math
import re
import threading

import pytest

from support.aio import run
from support.wire import batch, full, snapshot
from upscope_widget._waiting import Waiters, check_timeout

HELLO = {"kind": "hello", "posted": 0}


def feed_later(loop, comm, *messages, delay=0.01):
    for i, message in enumerate(messages):
        loop.call_later(delay * (i + 1), comm.from_frontend, message)


def test_wait_for_status_resolves_on_the_transition(make_session):
    session, c = make_session()
    c.from_frontend(HELLO)

    async def main():
        feed_later(asyncio.get_running_loop(), c,
                   batch(full(snapshot(sessionStatus="waiting"))),
                   batch({"s": {"sessionStatus": "active"}}),
                   batch({"s": {"sessionStatus": "viewerReady"}}))
        return await session.wait_for_status("viewerReady", timeout=5)

    state = run(main())
    assert state.session_status == "viewerReady"


def test_wait_for_returns_at_once_when_already_true(make_session):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot(controlTool="drawing"))))
    state = run(session.wait_for(lambda s: s.control_tool == "drawing", timeout=1))
    assert state.control_tool == "drawing"


def test_wait_for_times_out_with_a_clear_message(make_session):
    session, c = make_session()
    c.from_frontend(HELLO)
    with pytest.raises(TimeoutError, match="session_status=None"):
        run(session.wait_for(lambda s: s.muted is True, timeout=0.05))


def test_next_event_of_a_type(make_session):
    session, c = make_session()
    c.from_frontend(HELLO)

    async def main():
        feed_later(asyncio.get_running_loop(), c,
                   batch(full(snapshot())),
                   batch({"e": {"type": "customMessage", "message": {"ok": 1}}}))
        return await session.next_event("customMessage", timeout=5)

    event = run(main())
    assert event.message == {"ok": 1}


def test_bad_wait_arguments(make_session):
    session, _ = make_session()
    with pytest.raises(ValueError, match=r"'ready'.*allowed"):
        run(session.wait_for_status("ready"))
    with pytest.raises(ValueError, match="timeout"):
        run(session.wait_for(lambda s: True, timeout=-1))
    with pytest.raises(ValueError, match=r"timeout must be a positive number.*'soon'"):
        run(session.wait_for(lambda s: False, timeout="soon"))
    with pytest.raises(TypeError, match="callable"):
        run(session.wait_for("soon"))


def test_predicate_error_fails_only_that_wait(make_session):
    session, c = make_session()
    c.from_frontend(HELLO)

    async def main():
        feed_later(asyncio.get_running_loop(), c, batch(full(snapshot())))
        return await session.wait_for(lambda s: s.size["nope"] if s.size else False, timeout=5)

    with pytest.raises(KeyError):
        run(main())
    assert session.session_status == "viewerReady"  # the widget carried on


def test_no_frontend_fails_fast_with_a_clear_error(make_session, monkeypatch):
    import upscope_widget.session as module
    from upscope_widget import NoFrontendError

    monkeypatch.setattr(module, "FRONTEND_GRACE", 0.05)
    session, _ = make_session()
    with pytest.raises(NoFrontendError, match="display it"):
        run(session.wait_for_status("viewerReady", timeout=30))
    assert not session.frontend_connected


def test_a_frontend_arriving_during_the_wait_is_enough(make_session):
    session, c = make_session()

    async def main():
        feed_later(asyncio.get_running_loop(), c, HELLO, batch(full(snapshot())))
        return await session.wait_for_status("viewerReady", timeout=5)

    assert run(main()).session_status == "viewerReady"
    assert session.frontend_connected


BAD_TIMEOUTS = [10**400, -(10**400), float("nan"), -math.inf, 0, -1, True, "soon", [1]]


@pytest.mark.parametrize("bad", BAD_TIMEOUTS, ids=[f"t{i}" for i in range(len(BAD_TIMEOUTS))])
def test_a_timeout_that_is_no_number_of_seconds_is_a_value_error(make_session, bad):
    from upscope_widget._json import short_repr

    session, c = make_session()
    c.from_frontend(HELLO)
    c.from_frontend(batch(full(snapshot())))
    shown = re.escape(short_repr(bad))

    async def stream():
        session.events(timeout=bad)

    for attempt in (lambda: check_timeout(bad),
                    lambda: run(session.wait_for(lambda s: True, timeout=bad)),
                    lambda: run(session.next_event(timeout=bad)),
                    lambda: run(session.perform("set_mode", mode="draw", timeout=bad)),
                    lambda: run(session.run_tool_call("set_mode", {"mode": "draw"},
                                                      timeout=bad)),
                    lambda: run(session.run_tool_calls([], timeout=bad)),
                    lambda: run(stream())):
        with pytest.raises(ValueError, match=rf"timeout must be a positive number.*{shown}"):
            attempt()
    assert c.customs() == [] or all(m.get("kind") != "instructions" for m in c.customs())


@pytest.mark.parametrize("good", [None, math.inf, 1e-3, 5, 10**300, 1e300])
def test_good_timeouts(good):
    check_timeout(good)


def test_an_event_arriving_while_the_condition_is_checked_is_not_missed():
    waiters = Waiters()
    calls = []

    def check(event):
        calls.append(event)
        if len(calls) == 1:
            # the event lands from the comm's thread between the check and the wait
            notifier = threading.Thread(target=waiters.notify, args=("arrived",))
            notifier.start()
            notifier.join()
            return False
        return event == "arrived"

    got = run(waiters.wait(check, lambda e: e, 30, lambda: "no event"))
    assert got == "arrived"
    assert waiters._pending == []


def test_an_event_arriving_while_waiting_for_a_frontend_is_not_missed():
    waiters = Waiters()

    async def before_waiting(remaining):
        notifier = threading.Thread(target=waiters.notify, args=("arrived",))
        notifier.start()
        notifier.join()

    got = run(waiters.wait(lambda e: e == "arrived", lambda e: e, 30, lambda: "no event",
                           before_waiting=before_waiting))
    assert got == "arrived"
    assert waiters._pending == []
