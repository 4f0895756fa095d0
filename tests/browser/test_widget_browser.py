"""The built widget in a real browser, bridged to a real UpscopeSession in Python."""

from __future__ import annotations

from typing import Any

import pytest

from support.wire import INSTRUCTION_CASES
from upscope_widget import UpscopeProtocolWarning, UpscopeSession

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::upscope_widget.UpscopeProtocolWarning"),
]


def start(h: Any, views: int = 1, delay_ms: int = 0, **kwargs: Any) -> tuple[UpscopeSession, Any]:
    session = h.create(lambda: UpscopeSession(h.frame_url(delay_ms), **kwargs))
    h.mount(views)
    return session, h.session_frame()




def test_every_instruction_arrives_in_the_iframe_exactly(harness):
    session, frame = start(harness)
    for call, _ in INSTRUCTION_CASES:
        call(session)
    n = len(INSTRUCTION_CASES)
    got = harness.wait_until(lambda: len(r := harness.received(frame)) >= n and r,
                             what=f"{n} instructions in the iframe")
    harness.settle(300)
    got = harness.received(frame)
    assert [g["data"] for g in got] == [wire for _, wire in INSTRUCTION_CASES]
    assert {g["origin"] for g in got} == {harness.host}
    # each was acknowledged: nothing is left to resend
    harness.wait_until(lambda: session.pending_instructions == [], what="acknowledgements")


def test_instructions_target_the_watch_links_origin_only(harness):
    session, frame = start(harness)
    # the iframe navigates away to another origin: a '*' post would reach it, ours must not
    frame.evaluate(f"location.href = '{harness.other_origin}/frame.html'")
    other = harness.session_frame(harness.other_origin)
    session.set_mode("draw")
    harness.settle(500)
    assert harness.received(other) == []


def test_every_event_type_reaches_python(harness):
    session, frame = start(harness)
    events: list[Any] = []
    ended: list[str] = []
    messages: list[dict[str, Any]] = []
    errors: list[Any] = []
    session.on_event(events.append)
    session.on_session_ended(ended.append)
    session.on_custom_message(messages.append)
    session.on_error(errors.append)
    frame.evaluate("postState({sessionStatus: 'active'})")
    frame.evaluate("post({type: 'customMessage', message: {hello: 'agent'}})")
    frame.evaluate("post({type: 'error', error: 'remote_control:scroll_not_allowed'})")
    frame.evaluate("post({type: 'brandNewEvent', x: 1})")
    frame.evaluate("post({type: 'sessionEnded', reason: 'ended'})")
    harness.wait_until(lambda: len(events) == 5, what="5 events")
    assert [e.type for e in events] == [
        "upscope.sessionState.update", "customMessage", "error", "brandNewEvent", "sessionEnded"
    ]
    assert session.session_status == "active"
    assert session.visitor == {"shortId": "abc", "callName": "Grace Hopper"}
    assert messages == [{"hello": "agent"}]
    assert errors[0].code == "remote_control:scroll_not_allowed"
    assert errors[0].category == "remote_control"
    assert ended == ["ended"] and session.ended_reason == "ended"
    assert session.rejected_messages == 0


def test_state_changes_arrive_as_changes_only(harness):
    session, frame = start(harness)
    frame.evaluate("postState()")
    harness.wait_until(lambda: session.session_status == "viewerReady")
    frame.evaluate("postState({color: '#123456'})")
    harness.wait_until(lambda: session.color == "#123456")
    batches = [m for m in harness.frontend_log if m.get("kind") == "batch" and m["events"]]
    assert batches[-1]["events"] == [{"s": {"color": "#123456"}}]


def test_forging_sibling_iframe_and_page_posts_are_rejected(harness):
    session, frame = start(harness)
    frame.evaluate("postState({sessionStatus: 'active'})")
    harness.wait_until(lambda: session.session_status == "active")
    # a second iframe from the SAME origin as the watch link: origin matches, source does not
    harness.page.evaluate(
        """o => new Promise(r => { const f = document.createElement('iframe');
             f.src = o + '/frame.html'; f.name = 'forger'; f.onload = r;
             document.body.append(f); })""",
        harness.frame_origin,
    )
    forger = harness.page.frame(name="forger")
    forger.evaluate("postState({sessionStatus: 'terminated', currentUrl: 'https://evil/'})")
    # the host page itself
    harness.page.evaluate(
        "window.postMessage({type: 'upscope.sessionState.update', state: {sessionStatus: 'x'}},"
        " '*')")
    harness.wait_until(lambda: session.rejected_messages >= 2, what="2 rejected messages")
    assert session.rejected_messages == 2
    assert session.session_status == "active"
    assert session.current_url == "https://shop.example/"
    assert not session.ended


def test_wrong_origin_from_the_session_iframe_is_rejected(harness):
    session, frame = start(harness)
    frame.evaluate(f"location.href = '{harness.other_origin}/frame.html'")
    other = harness.session_frame(harness.other_origin)
    other.evaluate("postState({sessionStatus: 'terminated'})")
    harness.wait_until(lambda: session.rejected_messages == 1, what="1 rejected message")
    assert session.session_status is None


def test_instructions_before_display_are_delivered_once_in_order(harness):
    session = harness.create(lambda: UpscopeSession(harness.frame_url(delay_ms=300)))
    session.set_mode("pointer")  # no frontend at all yet
    session.switch_color("#abcdef")
    harness.mount(views=1)  # the frontend appears; the frame is still loading (delayed)
    session.emoji_confetti("🚀")  # after the view, before the iframe has loaded
    frame = harness.session_frame()
    harness.wait_until(lambda: len(harness.received(frame)) >= 3, what="3 instructions")
    harness.settle(300)
    assert [r["data"]["action"] for r in harness.received(frame)] == [
        "setMode", "switchColor", "emojiConfetti"
    ]
    assert session.pending_instructions == []


def test_instructions_survive_a_page_reload(harness):
    session = harness.create(lambda: UpscopeSession(harness.frame_url()))
    harness.mount(views=0)  # a model, no view: nothing can be posted
    session.set_muted(True)
    session.request_control()
    harness.settle(200)
    assert len(session.pending_instructions) == 2
    harness.open_page()  # reload: the old frontend never posted them
    harness.mount(views=1)
    frame = harness.session_frame()
    harness.wait_until(lambda: len(harness.received(frame)) >= 2, what="2 instructions")
    harness.settle(300)
    assert [r["data"]["action"] for r in harness.received(frame)] == ["setMuted", "requestControl"]
    assert session.pending_instructions == []


def test_burst_of_1000_snapshots_all_reach_python_in_order(harness):
    session, frame = start(harness)
    seen: list[int] = []
    session.observe(lambda ch: seen.append(ch["new"]), "data_bounce_speed")
    sent_before = harness.page.evaluate("window.__sentToKernel")
    frame.evaluate("burst(1000)")
    harness.wait_until(lambda: len(seen) >= 1000, timeout=30, what="1000 snapshots")
    assert seen == list(range(1000))
    batches = harness.page.evaluate("window.__sentToKernel") - sent_before
    # posted in one go, they are queued together: 100, 200, 400, then the rest (every message
    # costs the kernel a fixed price, so few big ones are faster than many small ones). The
    # harness's iframe is on the page's own site (127.0.0.1), so in its process: all of them
    # are queued before the first is handled, and the count does not depend on timing.
    assert batches <= 6, f"{batches} messages for 1000 snapshots posted at once"


def test_malformed_messages_never_throw_and_the_rest_applies(harness):
    session, frame = start(harness)
    with pytest.warns(UpscopeProtocolWarning):
        frame.evaluate("post('a string')")
        frame.evaluate("post({noType: true})")
        frame.evaluate("post({type: 'upscope.sessionState.update', state: 'nope'})")
        frame.evaluate("post({type: 'upscope.sessionState.update', state: 42})")
        frame.evaluate("post(null)")
        frame.evaluate("postState({connected: 'yes', observersCount: 'many', color: '#0f0'})")
        harness.wait_until(lambda: session.color == "#0f0", what="the valid part applied")
    assert session.connected is None and session.observers_count is None
    assert session.session_status == "viewerReady"
    assert harness.page_errors == []
    assert harness.page.evaluate("harness.errors") == []
    texts = " ".join(n["text"] for n in session.notices)
    assert "connected='yes'" in texts and "not an object" in texts
    # the warnings show under the widget
    harness.wait_until(lambda: harness.page.locator(".upscope-notice").count() > 0)


def test_two_views_one_iframe_and_takeover(harness):
    session, frame = start(harness, views=2)
    assert harness.frame_count() == 1
    assert harness.page.evaluate("!!harness.frameIn(0) && !harness.frameIn(1)")
    frame.evaluate("postState({sessionStatus: 'viewerReady', currentUrl: 'https://shop.example/p/1'})")
    card = harness.page.locator(".view").nth(1)
    harness.wait_until(lambda: "This session is live in another output" in card.inner_text())
    harness.wait_until(lambda: "https://shop.example/p/1" in card.inner_text())
    assert "Grace Hopper" in card.inner_text()
    # the owner view goes away: the other takes over with a fresh iframe
    harness.remove_view(0)
    assert harness.frame_count() == 1
    assert harness.page.evaluate("!!harness.frameIn(1)")
    frame2 = harness.session_frame()
    session.set_mode("cursor")
    harness.wait_until(lambda: [r["data"] for r in harness.received(frame2)]
                       == [{"action": "setMode", "mode": "cursor"}])


def test_show_here_moves_the_iframe(harness):
    _session, _frame = start(harness, views=2)
    harness.page.locator(".view").nth(1).get_by_role("button", name="Show the session here").click()
    harness.pump()
    assert harness.frame_count() == 1
    assert harness.page.evaluate("!harness.frameIn(0) && !!harness.frameIn(1)")
    assert "live in another output" in harness.page.locator(".view").nth(0).inner_text()


def test_setting_url_loads_the_new_link_and_resets_state(harness):
    session, frame = start(harness)
    frame.evaluate("postState()")
    harness.wait_until(lambda: session.session_status == "viewerReady")
    session.url = f"{harness.other_origin}/frame.html"
    assert session.session_status is None
    other = harness.session_frame(harness.other_origin)
    other.evaluate("postState({sessionStatus: 'waiting'})")
    harness.wait_until(lambda: session.session_status == "waiting")
    assert session.rejected_messages == 0
    assert harness.frame_count() == 1


def test_frontend_refuses_unsafe_url_even_if_python_is_bypassed(harness):
    harness.create(lambda: UpscopeSession(harness.frame_url()))
    state = dict(harness.comm.opened["state"], url="javascript:alert(1)")
    harness.page.evaluate("s => { harness.mount(s); harness.addView(); }", state)
    assert harness.frame_count() == 0
    assert "refused" in harness.page.locator(".upscope-refused").inner_text()


def test_callback_error_shows_under_the_widget_and_can_be_dismissed(harness):
    session, frame = start(harness)

    @session.on_state_change
    def broken(state, changed):
        raise ValueError("my callback is broken")

    frame.evaluate("postState()")
    notice = harness.page.locator(".upscope-notice-error")
    harness.wait_until(lambda: notice.count() == 1, what="an error notice")
    assert "my callback is broken" in notice.inner_text()
    harness.page.get_by_role("button", name="Dismiss").click()
    harness.wait_until(lambda: notice.count() == 0, what="the notice to go")
    assert session.notices == []


def test_iframe_is_sized_and_allows_media(harness):
    session, _frame = start(harness, width=700, height="300px")
    box = harness.page.locator("iframe.upscope-frame").bounding_box()
    assert round(box["width"]) == 700 and round(box["height"]) == 300
    allow = harness.page.locator("iframe.upscope-frame").get_attribute("allow")
    for feature in ("microphone", "camera", "fullscreen", "clipboard-write", "display-capture"):
        assert feature in allow
    session.height = 200
    harness.pump()
    harness.wait_until(
        lambda: round(harness.page.locator("iframe.upscope-frame").bounding_box()["height"]) == 200
    )


def test_two_sessions_on_one_page_keep_their_own_messages(harness):
    session, frame = start(harness)
    # another widget on the page, its iframe on the SAME origin as ours
    other_state = dict(harness.comm.opened["state"], _session_id="another-session")
    harness.page.evaluate("s => harness.mountOther(s)", other_state)
    other = harness.wait_until(
        lambda: next((f for f in harness.page.frames
                      if f.url.startswith(harness.frame_origin) and f != frame
                      and f.evaluate("typeof window.post === 'function'")), None),
        what="the other session's iframe",
    )
    other.evaluate("postState({sessionStatus: 'waiting', color: '#111111'})")
    frame.evaluate("postState({sessionStatus: 'viewerReady', color: '#222222'})")
    harness.wait_until(lambda: session.color == "#222222", what="our own snapshot")
    harness.settle(400)
    recorded = harness.page.evaluate("harness.other.record")
    colors = [item["s"].get("color") for m in recorded if m["kind"] == "batch"
              for item in m["events"] if "s" in item]
    assert colors == ["#111111"]  # the other widget got its own snapshot, and only it
    assert session.session_status == "viewerReady"
    assert session.rejected_messages == 0  # a sibling widget's frame is not a forger
    assert not any(m.get("rejected") for m in recorded)


def frame_on(page, origin):
    return next((f for f in page.frames if f.url.startswith(origin + "/frame.html")
                 and f.evaluate("typeof window.post === 'function'")), None)


def test_a_second_browser_tab_takes_the_session_and_the_first_can_claim_it_back(harness):
    session, frame = start(harness)
    frame.evaluate("postState({sessionStatus: 'viewerReady', color: '#aaaaaa'})")
    harness.wait_until(lambda: session.color == "#aaaaaa")
    # the same notebook opened in another tab: a second frontend of the same session
    tab2 = harness.add_frontend()
    frame2 = harness.wait_until(lambda: frame_on(tab2, harness.frame_origin),
                                what="the iframe in the second tab")
    # the first tab gave the session up: no iframe, a card with a way back
    harness.wait_until(lambda: harness.frame_count() == 0, what="the first tab's iframe to go")
    card = harness.page.locator(".upscope-card")
    assert "another browser tab or window" in card.inner_text()
    frame2.evaluate("postState({sessionStatus: 'viewerReady', color: '#bbbbbb'})")
    harness.wait_until(lambda: session.color == "#bbbbbb", what="the second tab's snapshot")
    session.set_mode("draw")
    harness.wait_until(lambda: [r["data"] for r in harness.received(frame2)]
                       == [{"action": "setMode", "mode": "draw"}], what="the instruction")
    # the first tab claims the session back
    harness.page.get_by_role("button", name="Show the session here").click()
    frame1 = harness.wait_until(lambda: frame_on(harness.page, harness.frame_origin),
                                what="the first tab's iframe to return")
    harness.wait_until(lambda: tab2.evaluate(
        "document.querySelectorAll('iframe.upscope-frame').length") == 0,
        what="the second tab to give it up")
    frame1.evaluate("postState({sessionStatus: 'viewerReady', color: '#cccccc'})")
    harness.wait_until(lambda: session.color == "#cccccc")
    session.switch_color("#dddddd")
    harness.wait_until(lambda: [r["data"] for r in harness.received(frame1)]
                       == [{"action": "switchColor", "color": "#dddddd"}],
                       what=f"only the new instruction in the reclaimed iframe "
                            f"(it got {harness.received(frame1)})")
    assert session.rejected_messages == 0
    assert harness.page_errors == []
