"""Record a session on the simulator, save it, load it and replay it through the real widget.

Both sessions run the real UpscopeSession and the built widget.js in headless Chromium, with
the simulator page loaded as a ``blob:`` iframe: the replayed states reach Python through the
same gate, bridge and kernel code as the live ones did.
"""

from __future__ import annotations

from typing import Any

import pytest

from support.widget_harness import WidgetHarness
from upscope_widget import ReplayError, SessionEndedError, SessionLog, UpscopeSession
from upscope_widget.simulator import CONTROL_PREFIX

pytestmark = pytest.mark.browser

SHOP = "https://shop.acme-outfitters.example"


def second_harness(browser: Any, origins: tuple[str, str, str]) -> tuple[WidgetHarness, Any]:
    context = browser.new_context()
    return WidgetHarness(context.new_page(), *origins), context


def record(h: WidgetHarness) -> tuple[UpscopeSession, list[Any], list[str]]:
    """A simulated session with navigation, tabs, tools, an error, messages and an end."""
    session = h.create(lambda: UpscopeSession.simulate(time_scale=0.05, seed=11))
    states: list[Any] = []
    events: list[str] = []
    session.on_state_change(lambda state, changed: states.append((state, changed)))
    session.on_event(lambda event: events.append(event.type))
    h.mount(views=1)
    h.wait_until(lambda: session.session_status == "viewerReady", 30, "viewerReady")
    session.set_mode("draw")
    h.wait_until(lambda: session.control_tool == "drawing", 30, "drawing")
    session.switch_color("#112233")
    h.wait_until(lambda: session.color == "#112233", 30, "the color")
    session.set_current_url(SHOP + "/cart")
    h.wait_until(lambda: session.current_url == SHOP + "/cart", 30, "the cart")
    tab = session.simulator.open_tab(SHOP + "/products/camp-mug")
    h.wait_until(lambda: any(c["id"] == tab for c in session.connections or []), 30, "a tab")
    session.set_active_connection(tab)
    h.wait_until(lambda: session.active_connection_id == tab, 30, "the new tab")
    session.set_active_connection("no-such-tab")
    h.wait_until(lambda: session.last_error is not None, 30, "an error")
    session.send_custom_message({"question": "Ready?"})
    h.wait_until(lambda: "customMessage" in events, 30, "the visitor's reply")
    session.end_session()
    h.wait_until(lambda: session.ended_reason == "ended", 30, "the end")
    return session, states, events


def test_a_replay_reaches_python_like_the_original(harness, browser, origins, tmp_path):
    original, states, events = record(harness)
    path = tmp_path / "recorded.jsonl"
    original.log.save(path)
    loaded = SessionLog.load(path)
    assert [e.to_record() for e in loaded] == [e.to_record() for e in original.log]

    h2, context = second_harness(browser, origins)
    try:
        replay = h2.create(lambda: UpscopeSession.replay(loaded, speed=20))
        replayed: list[Any] = []
        replayed_events: list[str] = []
        replay.on_state_change(lambda state, changed: replayed.append((state, changed)))
        replay.on_event(lambda event: replayed_events.append(event.type))
        heard: list[Any] = []
        replay.on_instruction(lambda action, params, source: heard.append((action, source)))
        h2.mount(views=1)
        src = h2.page.locator("iframe.upscope-frame").get_attribute("src")
        assert src.startswith("blob:")
        h2.wait_until(lambda: replay.ended_reason == "ended", 60, "the replay's end")
        h2.wait_until(lambda: len(replayed) >= len(states), 30, "every state")
        assert replayed == states  # the same states, in the same order, the same changes
        assert replayed_events == events
        # the replay's log is the recording's: events and instructions, in order (the
        # simulator's own control messages aside); the instructions were shown, not posted
        recorded = [e for e in original.log if not e.kind.startswith(CONTROL_PREFIX)]
        assert [(e.direction, e.kind, e.data, e.source) for e in replay.log] == \
            [(e.direction, e.kind, e.data, e.source) for e in recorded]
        assert heard == [(e.kind, e.source) for e in recorded if e.direction == "out"]
        assert len(heard) == 7
        assert replay.finished and replay.position == pytest.approx(replay.duration)
        assert replay.summary().status_timeline[-1][1] == "terminated"
        # after the recorded end it refuses instructions as the live session did; its
        # visitor is the recording and cannot be scripted
        with pytest.raises(SessionEndedError, match="the session has ended"):
            replay.set_mode("cursor")
        with pytest.raises(ReplayError, match="cannot be scripted"):
            replay.simulator.visitor_sends({"a": 1})
        assert len(replay.sent) == 0
        assert replay.get_state("_read_only")["_read_only"] is True
    finally:
        context.close()


def test_pause_seek_and_play_move_python_and_the_page(harness, tmp_path):
    # a long recording, so that pausing right after the start catches it in the middle
    from upscope_widget import LogEntry
    from upscope_widget.protocol import WIRE_TO_FIELD

    def state(t: float, **data: Any) -> LogEntry:
        return LogEntry(5000.0 + t, "in", "upscope.sessionState.update", data,
                        frozenset(WIRE_TO_FIELD[k] for k in data))

    recording = SessionLog.from_entries([
        state(0, sessionStatus="viewerReady", connected=True, currentUrl=SHOP + "/",
              activeConnectionId="conn-1", connections=[{"id": "conn-1"}, {"id": "conn-2"}],
              controlTool=None, color="#6e56cf"),
        state(60, currentUrl=SHOP + "/products", controlTool="pointer"),
        state(120, currentUrl=SHOP + "/cart", activeConnectionId="conn-2", color="#30a46c"),
        LogEntry(5121.0, "in", "error", {"type": "error", "error": "remote_control:inactive"}),
        state(600, dataBounceSpeed=300),
    ])
    replay = harness.create(lambda: UpscopeSession.replay(recording, speed=1))
    assert replay.position == 0 and not replay.finished
    harness.mount(views=1)
    harness.wait_until(lambda: replay.session_status == "viewerReady", 30, "the first state")
    replay.pause()
    paused_at = replay.position
    assert 0 <= paused_at < 60 and not replay.playing
    errors: list[Any] = []
    replay.on_error(errors.append)
    replay.seek(121.5)
    assert replay.position == 121.5
    harness.wait_until(lambda: replay.current_url == SHOP + "/cart", 30, "the state at 121.5 s")
    assert replay.active_connection_id == "conn-2" and replay.control_tool == "pointer"
    assert replay.color == "#30a46c"
    assert errors == []  # a seek jumps to the state; the events in between are skipped
    sim = next(f for f in harness.page.frames if f.url.startswith("blob:"))
    harness.wait_until(lambda: sim.locator("#addr-url").text_content() == SHOP + "/cart", 30,
                       "the page showing the cart")
    assert sim.locator(".tab.on").get_attribute("data-connection") == "conn-2"
    assert sim.locator("#tool-name").text_content() == "pointer"
    # the toolbar shows the replay but cannot send anything
    harness.wait_until(lambda: harness.page.locator(".upscope-toolbar.upscope-tb-readonly")
                       .count() == 1, 30, "a read-only toolbar")
    # every control but the one that dismisses an error banner sends an instruction
    senders = harness.page.locator(".upscope-toolbar button:not(.upscope-tb-dismiss), "
                                   ".upscope-toolbar input")
    assert senders.count() > 5
    assert all(senders.nth(i).is_disabled() for i in range(senders.count()))
    # an instruction from Python reaches the page, which shows it and applies nothing
    replay.set_mode("draw")
    harness.wait_until(lambda: sim.locator("#banner").text_content()
                       == 'Sent to the replay (not applied): setMode {"mode":"draw"}', 30,
                       "the page showing the instruction sent to it")
    assert sim.locator("#tool-name").text_content() == "pointer"
    assert replay.control_tool == "pointer"
    assert [(e.kind, e.source) for e in replay.sent] == [("setMode", "python")]
    harness.settle(300)
    assert replay.position == 121.5  # paused
    replay.seek(599.8)
    replay.play()
    harness.wait_until(lambda: replay.data_bounce_speed == 300, 30, "the last state")
    assert replay.finished
    with pytest.raises(ValueError, match="seconds=700"):
        replay.seek(700)


def test_the_shipped_sample_is_a_simulator_recording_that_replays(harness):
    from upscope_widget.samples import shop_session

    log = shop_session()
    assert log.origin == "simulator" and log.name == "shop_session"
    summary = log.summary()
    assert summary.status_timeline[0][1] == "waiting"
    assert [s for _, s in summary.status_timeline][-1] == "terminated"
    assert summary.time_to_ready is not None and summary.errors >= 2
    expected = [(r.state, r.changed) for r in log.replay_states()]
    replay = harness.create(lambda: UpscopeSession.replay(log, speed=0))
    seen: list[Any] = []
    replay.on_state_change(lambda state, changed: seen.append((state, changed)))
    harness.mount(views=1)
    harness.wait_until(lambda: replay.ended_reason == "ended", 60, "the end of the sample")
    harness.wait_until(lambda: len(seen) >= len(expected), 30, "every state")
    assert seen == expected  # the browser replay and replay_states() agree


def record_sample(path: Any) -> None:
    """Record the shop session shipped in upscope_widget/samples (run this file to redo it)."""
    from playwright.sync_api import sync_playwright

    from support.chromium import LAUNCH_ARGS, find_chromium
    from support.widget_harness import serve

    with serve() as a, serve() as b, serve() as c, sync_playwright() as p:
        browser = p.chromium.launch(executable_path=find_chromium(), headless=True,
                                    args=LAUNCH_ARGS)
        try:
            h = WidgetHarness(browser.new_context().new_page(), a, b, c)
            s = h.create(lambda: UpscopeSession.simulate(seed=42, require_authorization=True))
            h.mount(views=1)
            h.wait_until(lambda: s.session_status == "viewerReady", 30, "viewerReady")
            steps: list[tuple[Any, int]] = [
                (lambda: s.set_mode("pointer"), 3000),
                (lambda: s.simulator.navigate(SHOP + "/products"), 3000),
                (lambda: s.set_mode("draw"), 500),
                (lambda: s.switch_color("#e4572e"), 3000),
                (lambda: s.simulator.visitor_sends({"question": "Does the parka come in green?"}),
                 2500),
                (lambda: s.send_custom_message({"answer": "Yes: forest green, sizes S to XL."}),
                 2500),
                (lambda: s.set_current_url(SHOP + "/products/summit-parka"), 3000),
                (lambda: s.simulator.open_tab(SHOP + "/cart"), 1500),
                (lambda: s.set_active_connection(s.connections[-1]["id"]), 3000),
                (lambda: s.set_active_connection("conn-9"), 2000),
                (lambda: s.request_control(), 1000),
                (lambda: s.set_mode("cursor"), 2500),
                (lambda: s.simulator.raise_error("remote_control:click_not_allowed"), 2500),
                (lambda: s.toggle_audio(True), 3500),
                (lambda: s.toggle_audio(False), 1500),
                (lambda: s.emoji_confetti("🎉"), 2500),
                (lambda: s.end_session(), 0),
            ]
            for step, pause_ms in steps:
                step()
                h.settle(pause_ms)
            h.wait_until(lambda: s.ended_reason == "ended", 30, "the end")
            s.log.save(path)
        finally:
            browser.close()


if __name__ == "__main__":
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).parents[1]))
    target = Path(__file__).parents[2] / "src" / "upscope_widget" / "samples" / "shop_session.jsonl"
    record_sample(target)
    print(f"wrote {target}")
