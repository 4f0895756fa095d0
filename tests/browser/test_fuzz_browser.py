"""The inbound fuzz (issue #13) through the real built widget in Chromium.

The generator of tests/support/fuzz.py makes the messages; the session iframe posts them (as
JSON.parse makes them: ``__proto__`` is a key, NaN and the infinities are numbers) and the
real bridge hands them to a real UpscopeSession. A stranger iframe posts them too: only the
protocol-shaped ones may be counted, and none may reach the state.
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from support import fuzz
from support.wire import snapshot
from upscope_widget import UpscopeSession, protocol
from upscope_widget._json import json_problem
from upscope_widget._traits import strict_equal

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::upscope_widget.UpscopeProtocolWarning"),
]

CHUNK = 25  # messages per evaluate: big enough to make bursts, small enough for the pipe
POST_ALL = (
    "(texts) => { const revive = " + fuzz.REVIVE_JS + ";"
    " for (const t of texts) post(JSON.parse(t, revive)); return texts.length; }"
)


def for_browser(messages: list[Any]) -> list[tuple[Any, str]]:
    """The messages JavaScript can hold as they are, with their JSON text (others skipped)."""
    return [(m, text) for m in messages if (text := fuzz.to_browser(m)) is not None]


@contextmanager
def error_records() -> Iterator[list[str]]:
    """The session's error-level log: a failure to apply a message shows here."""
    texts: list[str] = []

    class Records(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            texts.append(record.getMessage())

    handler = Records(logging.ERROR)
    logger = logging.getLogger("upscope_widget")
    logger.addHandler(handler)
    try:
        yield texts
    finally:
        logger.removeHandler(handler)


def post_all(h: Any, frame: Any, texts: list[str]) -> None:
    for start in range(0, len(texts), CHUNK):
        frame.evaluate(POST_ALL, texts[start:start + CHUNK])
        h.pump()


def assert_valid_state(session: UpscopeSession) -> None:
    for name, wire in protocol.STATE_FIELDS.items():
        value = getattr(session, name)
        assert fuzz.valid(wire, value), (name, str(value)[:200])
    if session.state is not None:
        wire_state = session.state.to_wire()
        protocol.EmbeddedSessionState.model_validate(wire_state, by_alias=True, by_name=False)
        assert all(json_problem(v) is None for v in wire_state.values())


def test_generated_messages_from_the_session_iframe_never_break_the_widget(harness):
    messages = for_browser(fuzz.sample(fuzz.messages, 300))
    assert len(messages) >= 250
    session = harness.create(lambda: UpscopeSession(harness.frame_url()))
    harness.mount(1)
    frame = harness.session_frame()
    with error_records() as errors:
        post_all(harness, frame, [text for _, text in messages])
        harness.settle(300)
        assert_valid_state(session)
        # a valid snapshot still gets through, whatever came before (even the end: a
        # "terminated" snapshot is the one kind that applies after it)
        final = frame.evaluate(
            "() => { const s = state({color: '#f0220d', observersCount: 7,"
            " sessionStatus: 'terminated'}); post({type: 'upscope.sessionState.update',"
            " state: s}); return s; }"
        )
        harness.wait_until(lambda: session.color == "#f0220d", timeout=60,
                           what="the final valid snapshot")
        harness.settle(200)
    assert session.state is not None and session.state.to_wire() == final
    for name, wire in protocol.STATE_FIELDS.items():
        assert strict_equal(getattr(session, name), final[wire]), name
    assert_valid_state(session)
    assert errors == [], errors[:3]
    assert harness.page_errors == []
    assert harness.page.evaluate("harness.errors") == []
    assert session.rejected_messages == 0  # everything came from the session's own iframe
    # each message posted became one item for Python: none was lost on the way
    items = [item for content in harness.frontend_log if content.get("kind") == "batch"
             for item in content["events"]]
    assert len(items) == len(messages) + 1
    notices = session.notices
    assert len(notices) <= 20 and all(len(n["text"]) <= 4000 for n in notices)


def test_generated_messages_from_a_stranger_are_counted_only_if_protocol_shaped(harness):
    # other frames' chatter too (non-objects, other types), interleaved the same on every run
    drawn = (fuzz.sample(fuzz.messages, 150) + fuzz.sample(fuzz.event_messages, 60)
             + fuzz.sample(fuzz.non_objects, 60))
    random.Random(13).shuffle(drawn)
    messages = for_browser(drawn)
    shaped = sum(1 for m, _ in messages
                 if isinstance(m, dict) and isinstance(m.get("type"), str)
                 and m["type"] in protocol.EVENT_TYPES)
    assert shaped >= 50 and len(messages) - shaped >= 50  # both kinds, in numbers
    session = harness.create(lambda: UpscopeSession(harness.frame_url()))
    harness.mount(1)
    harness.session_frame()
    stranger_frame = harness.stranger_frame()
    with error_records() as errors:
        post_all(harness, stranger_frame, [text for _, text in messages])
        harness.wait_until(lambda: session.rejected_messages >= shaped, timeout=60,
                           what=f"{shaped} rejected messages")
        harness.settle(400)
    assert session.rejected_messages == shaped
    assert session.state is None and session.last_error is None
    assert session.ended_reason is None and not session.ended
    assert errors == []
    assert harness.page_errors == []
    assert harness.page.evaluate("harness.errors") == []


# found by the fuzz (#13): "__proto__" set the prototype of the changes object in bridge.ts
def test_prototype_keys_of_a_snapshot_reach_python_like_any_unknown_property(harness):
    # Python keeps unknown properties; a page may post "__proto__" as an own key (JSON.parse)
    session = harness.create(lambda: UpscopeSession(harness.frame_url()))
    harness.mount(1)
    frame = harness.session_frame()
    extra = {"__proto__": {"x": 1}, "constructor": 5, "toString": "t", "prototype": [1]}
    message = {"type": protocol.STATE_UPDATE, "state": {**snapshot(), **extra}}
    frame.evaluate("(text) => post(JSON.parse(text))", json.dumps(message))
    harness.wait_until(lambda: session.state is not None, what="the snapshot")
    wire_state = session.state.to_wire()
    assert {k: wire_state.get(k) for k in extra} == extra
    # and a "__proto__" the browser cannot forward is reported, like any other property
    deep: Any = 1
    for _ in range(100):
        deep = [deep]
    message = {"type": protocol.STATE_UPDATE,
               "state": {**snapshot(color="#0000aa"), "__proto__": deep}}
    frame.evaluate("(text) => post(JSON.parse(text))", json.dumps(message))
    harness.wait_until(lambda: session.color == "#0000aa", what="the second snapshot")
    assert any(n["text"].startswith("state.__proto__ could not be forwarded")
               for n in session.notices), session.notices
