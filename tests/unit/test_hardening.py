"""Defects found by attacking the widget (issue #13): each test failed before its fix."""

from __future__ import annotations

import asyncio
import sys
import time
import tracemalloc
import warnings

import pytest

from support.aio import run
from support.wire import batch, full, snapshot
from upscope_widget import UpscopeProtocolWarning

HELLO = {"kind": "hello", "posted": 0, "frontend": "tab-1"}


def nested(depth: int) -> list:
    value: list = []
    for _ in range(depth):
        value = [value]
    return value


def quietly(c, *messages):
    """Deliver messages with protocol warnings recorded, not printed; return them."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        for message in messages:
            c.from_frontend(message)
    return [str(w.message) for w in record if issubclass(w.category, UpscopeProtocolWarning)]


# --- 1. a deep value must not freeze the session ---------------------------------------------


def test_a_deep_value_is_refused_and_later_snapshots_still_apply(make_session):
    session, c = make_session()
    c.from_frontend(HELLO)
    good_visitor = {"shortId": "abc123", "callName": "Grace Hopper"}
    c.from_frontend(batch(full(snapshot(visitor=good_visitor)), frontend="tab-1"))
    deep = {"shortId": "abc123", "identities": nested(400)}
    texts = quietly(
        c,
        batch({"s": {"visitor": deep, "color": "#000001"}}, frontend="tab-1"),
        batch({"s": {"color": "#000002"}}, frontend="tab-1"),
        batch({"s": {"color": "#000003", "muted": True}}, frontend="tab-1"),
    )
    assert session.color == "#000003" and session.muted is True  # the state kept moving
    assert session.visitor == good_visitor  # the bad value never replaced the good one
    deep_reports = [t for t in texts if "state.visitor" in t]
    assert len(deep_reports) == 1, texts  # reported once, not on every later snapshot
    assert "nested deeper than 64" in deep_reports[0]


def test_a_bad_field_is_reported_again_once_it_was_well_in_between(make_session):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot())))
    texts = quietly(
        c,
        batch({"s": {"muted": "yes"}}),
        batch({"s": {"muted": "yes", "color": "#000001"}}),
        batch({"s": {"muted": False}}),
        batch({"s": {"muted": "yes"}}),
    )
    assert len([t for t in texts if "state.muted" in t]) == 2
    assert session.muted is False


# --- 2. one crafted item never costs the others ----------------------------------------------


@pytest.mark.parametrize(
    "crafted",
    [
        {"s": {"color": "#abcdef"}, "x": 5},
        {"s": {"color": "#abcdef"}, "z": 1},
        {"s": {"color": "#abcdef"}, "i": ["color"]},
        {"s": {"color": "#abcdef"}, "f": "yes"},
        {"e": {"type": "error", "error": "x"}, "t": {}},
        {"s": "not an object"},
        [1, 2],
        "text",
    ],
)
def test_a_crafted_item_is_reported_and_the_rest_of_the_batch_applies(make_session, crafted):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot())))
    errors = []
    session.on_error(errors.append)
    texts = quietly(
        c, batch(crafted, {"e": {"type": "error", "error": "connection:data"}})
    )
    assert [e.code for e in errors] == ["connection:data"]
    assert any("unreadable batch item" in t for t in texts), texts


def test_a_failure_inside_applying_one_message_never_stops_the_next(make_session, monkeypatch):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot())))
    real = session._receive
    calls = []

    def flaky(raw):
        calls.append(raw)
        if len(calls) == 1:
            raise RuntimeError("boom")
        real(raw)

    monkeypatch.setattr(session, "_receive", flaky)
    c.from_frontend(batch({"s": {"color": "#000001"}}, {"s": {"color": "#000002"}}))
    assert session.color == "#000002"
    assert "boom" in session.notices[-1]["text"]


def test_a_warning_text_is_built_without_the_whole_value(make_session):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot())))
    huge = "x" * 4_000_000
    texts = quietly(c, batch({"s": {"color": ["list", huge]}}))
    assert texts and all(len(t) < 1000 for t in texts)
    assert len(session.notices[-1]["text"]) < 1000


# --- 3. warnings: capped, once, and flat memory ------------------------------------------------


def test_a_big_bad_value_sent_25_times_is_reported_once_and_small(make_session):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot())))
    bad = ["x" * 4_000_000]
    texts = quietly(c, *[batch({"s": {"connected": bad, "observersCount": n}}) for n in range(25)])
    assert len([t for t in texts if "state.connected" in t]) == 1
    assert session.observers_count == 24
    synced = sum(len(n["text"]) for n in session.notices)
    assert synced < 5_000  # what is re-synced to the browser on each notice stays small


def test_many_distinct_bad_values_leave_no_trace_in_pythons_warning_registry(make_session):
    import upscope_widget.session as module

    _session, c = make_session()
    c.from_frontend(batch(full(snapshot())))
    before = len(module.__dict__.get("__warningregistry__", {}))
    with warnings.catch_warnings(record=True):
        warnings.simplefilter("default")  # the default action keeps a registry entry per text
        for n in range(2000):
            c.from_frontend(batch({"s": {"muted": f"bad-{n}"}}))
    after = len(module.__dict__.get("__warningregistry__", {}))
    assert after - before < 5


def test_memory_stays_flat_under_a_stream_of_bad_values(make_session, monkeypatch):
    import logging

    # pytest keeps every log record it captures: that would be the test's memory, not ours
    monkeypatch.setattr(logging.getLogger("upscope_widget"), "disabled", True)
    _session, c = make_session(log_size=100)
    c.from_frontend(batch(full(snapshot())))

    def feed(start: int) -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            for n in range(start, start + 2000):
                c.from_frontend(batch({"s": {"muted": f"bad-{n}", "observersCount": n}}))
                c.sent.clear()  # the test comm records what it sends: not the widget's memory

    feed(0)  # warm up: the log and the notices fill to their bounds
    tracemalloc.start()
    first, _ = tracemalloc.get_traced_memory()
    feed(2000)
    second, _ = tracemalloc.get_traced_memory()
    feed(4000)
    third, _ = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert third - second < 200_000, (first, second, third)


# --- 7. awaits: no missed condition, one budget, NaN refused -------------------------------------


def test_a_condition_that_comes_true_while_the_frontend_arrives_is_not_missed(make_session):
    session, c = make_session()

    async def main():
        def arrive():
            c.from_frontend(HELLO)
            c.from_frontend(batch(full(snapshot()), frontend="tab-1"))

        asyncio.get_running_loop().call_later(0.05, arrive)
        return await session.wait_for_status("viewerReady", timeout=3)

    assert run(main()).session_status == "viewerReady"


def test_the_whole_await_respects_its_timeout(make_session):
    session, c = make_session()

    async def main():
        asyncio.get_running_loop().call_later(0.9, c.from_frontend, HELLO)
        started = time.monotonic()
        with pytest.raises(TimeoutError):
            await session.wait_for(lambda s: s.muted is True, timeout=1.0)
        return time.monotonic() - started

    # before the fix the frontend's grace came on top: about 1.9 s
    assert run(main()) < 1.6


@pytest.mark.parametrize("timeout", [float("nan"), -1.0, 0, True, "1"])
def test_bad_timeouts_are_value_errors(make_session, timeout):
    session, _ = make_session()
    with pytest.raises(ValueError, match="timeout must be a positive number"):
        run(session.wait_for(lambda s: False, timeout=timeout))


# --- 8. smaller ones --------------------------------------------------------------------------


def test_a_second_session_ended_is_ignored(make_session):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot())))
    reasons = []
    session.on_session_ended(reasons.append)
    texts = quietly(
        c,
        batch({"e": {"type": "sessionEnded", "reason": "ended"}}),
        batch({"e": {"type": "sessionEnded", "reason": "error"}}),
    )
    assert reasons == ["ended"]
    assert session.ended_reason == "ended"
    assert any("second sessionEnded" in t for t in texts)


def test_a_snapshot_after_the_end_does_not_bring_the_session_back(make_session):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot())))
    c.from_frontend(batch({"e": {"type": "sessionEnded", "reason": "ended"}}))
    quietly(c, batch({"s": {"sessionStatus": "active"}}))
    assert session.ended and session.session_status == "viewerReady"
    c.from_frontend(batch({"s": {"sessionStatus": "terminated"}}))
    assert session.session_status == "terminated"


def test_acks_count_only_from_the_owner_and_within_what_it_had(make_session):
    session, c = make_session()
    c.from_frontend(HELLO)
    session.set_mode("draw")
    session.switch_color()
    c.from_frontend(batch(posted=10**18, frontend="stranger"))
    c.from_frontend(batch(posted=10**18, released=True, frontend="stranger"))
    c.from_frontend({"kind": "hello", "posted": 10**18, "frontend": "tab-2"})
    assert len(session.pending_instructions) == 2
    # the previous owner's word counts only for what it could have had
    session.emoji_confetti("🎉")
    c.from_frontend(batch(posted=10**18, released=True, frontend="tab-1"))
    assert [m["action"] for m in session.pending_instructions] == ["emojiConfetti"]
    assert c.customs()[-1] == {"kind": "delivered", "upTo": 2, "by": "tab-1"}


def test_a_page_that_goes_away_releases_the_session(make_session):
    session, c = make_session()
    c.from_frontend(HELLO)
    session.set_mode("draw")
    session.switch_color()
    # pagehide: it posted the first, and gives the session up
    c.from_frontend(batch(posted=1, released=True, frontend="tab-1"))
    c.from_frontend({"kind": "hello", "posted": 0, "frontend": "tab-1-reloaded"})
    owner, resend = c.customs()[-2:]
    assert owner == {"kind": "owner", "frontend": "tab-1-reloaded", "previous": None}
    assert resend["items"] == [[2, {"action": "switchColor"}, False]]  # nothing in doubt


def test_a_page_whose_iframe_never_loaded_had_nothing_in_doubt(make_session):
    session, c = make_session()
    c.from_frontend(HELLO)  # shown, but its iframe never loaded: it posted nothing
    session.set_mode("draw")
    c.from_frontend({"kind": "hello", "posted": 0, "frontend": "tab-2"})
    assert c.customs()[-1]["items"] == [[1, {"action": "setMode", "mode": "draw"}, False]]
    c.from_frontend({"kind": "hello", "posted": 0, "frontend": "tab-3"})
    c.from_frontend(batch(loaded=True, frontend="tab-3"))
    c.from_frontend({"kind": "hello", "posted": 0, "frontend": "tab-4"})
    assert c.customs()[-1]["items"] == [[1, {"action": "setMode", "mode": "draw"}, True]]


def test_skipped_instructions_are_dropped_and_named_in_a_notice(make_session):
    session, c = make_session()
    c.from_frontend(HELLO)
    session.set_mode("draw")
    session.toggle_video()
    c.from_frontend({"kind": "hello", "posted": 0, "frontend": "tab-2"})
    c.from_frontend(batch(skipped=[1, 2], frontend="tab-2"))
    assert session.pending_instructions == []
    text = session.notices[-1]["text"]
    assert "2 instruction(s) were not posted again" in text
    assert "setMode, toggleVideo" in text


@pytest.mark.parametrize("rejected", [True, 1.5, "3", -2, None])
def test_only_a_positive_int_counts_as_rejected(make_session, rejected):
    session, c = make_session()
    c.from_frontend(batch(rejected=rejected))
    assert session.rejected_messages == 0


@pytest.mark.parametrize(
    ("field", "value", "kept"),
    [
        ("observersCount", -5, 1),
        ("size", {"width": float("inf"), "height": 720}, {"width": 1280, "height": 720}),
        ("size", {"width": -1, "height": 720}, {"width": 1280, "height": 720}),
        ("dataBounceSpeed", float("nan"), 120),
        ("dataBounceSpeed", -3, 120),
    ],
)
def test_out_of_range_values_are_reported_and_the_last_good_one_kept(
    make_session, field, value, kept
):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot())))
    texts = quietly(c, batch({"s": {field: value}}))
    assert any(f"state.{field}" in t for t in texts), texts
    assert session.state.to_wire()[field] == kept


def test_an_event_too_deep_for_json_is_refused_with_a_notice(make_session):
    session, c = make_session()
    messages = []
    session.on_custom_message(messages.append)
    texts = quietly(
        c,
        batch({"e": {"type": "customMessage", "message": {"x": nested(2000)}}},
              {"e": {"type": "customMessage", "message": {"ok": 1}}}),
    )
    assert messages == [{"ok": 1}]
    assert any("nested deeper than 64" in t for t in texts)


def test_short_repr_never_builds_a_huge_repr():
    from upscope_widget._json import short_repr

    assert "digits" in short_repr(10**5000)
    assert len(short_repr(["x" * 10_000_000] * 1000)) <= 120
    deep = nested(10_000)
    assert len(short_repr(deep)) <= 120


def test_the_recursion_limit_is_not_what_stops_a_deep_value():
    from upscope_widget._json import json_problem

    assert "deeper than 64" in json_problem({"a": nested(sys.getrecursionlimit() * 3)})
    assert json_problem({"a": nested(60)}) is None
