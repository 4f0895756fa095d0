"""Issue #13 in a real browser: the built widget and a real UpscopeSession under attack."""

from __future__ import annotations

from typing import Any

import pytest

from upscope_widget import UpscopeSession

pytestmark = [
    pytest.mark.browser,
    pytest.mark.filterwarnings("ignore::upscope_widget.UpscopeProtocolWarning"),
]

BRIDGES = "window[Symbol.for('upscope-widget.bridges')]"


def start(h: Any, views: int = 1) -> tuple[UpscopeSession, Any]:
    session = h.create(lambda: UpscopeSession(h.frame_url()))
    h.mount(views)
    return session, h.session_frame()


def other_frame(h: Any, ours: Any) -> Any:
    return h.wait_until(
        lambda: next((f for f in h.page.frames
                      if f.url.startswith(h.frame_origin) and f != ours
                      and f.evaluate("typeof window.post === 'function'")), None),
        what="the other session's iframe",
    )


def test_two_sessions_from_two_module_copies_never_count_each_other(harness):
    # anywidget imports the module once per model: the other session has its own copy
    session, frame = start(harness)
    other_state = dict(harness.comm.opened["state"], _session_id="another-session")
    harness.page.evaluate("s => harness.mountOtherCopy(s)", other_state)
    other = other_frame(harness, frame)
    for i in range(20):
        other.evaluate(f"postState({{color: '#1111{i:02d}'}})")
        frame.evaluate(f"postState({{color: '#2222{i:02d}'}})")
    harness.wait_until(lambda: session.color == "#222219", what="our last snapshot")
    harness.settle(400)
    assert session.rejected_messages == 0
    recorded = harness.page.evaluate("harness.otherCopy.model.record")
    assert not any(m.get("rejected") for m in recorded), recorded
    colors = [item["s"]["color"] for m in recorded if m["kind"] == "batch"
              for item in m["events"] if "s" in item and "color" in item["s"]]
    assert colors[-1] == "#111119"
    # one page, one registry and one listener, whichever copy made them
    assert harness.page.evaluate(f"{BRIDGES}.size") == 2


def test_only_protocol_shaped_messages_from_strangers_are_counted(harness):
    session, _frame = start(harness)
    stranger_frame = harness.stranger_frame()
    stranger_frame.evaluate("post('chatter'); post({hello: 1}); post({type: 'resize'})")
    stranger_frame.evaluate("postState(); post({type: 'error', error: 'connection:data'})")
    harness.wait_until(lambda: session.rejected_messages == 2, what="2 rejected")
    harness.settle(300)
    assert session.rejected_messages == 2
    assert session.state is None and session.last_error is None


def test_a_deep_property_is_refused_by_the_browser_and_the_state_keeps_moving(harness):
    session, frame = start(harness)
    frame.evaluate("postState({color: '#000001'})")
    harness.wait_until(lambda: session.color == "#000001")
    frame.evaluate(
        """() => {
             let deep = [];
             for (let i = 0; i < 400; i++) deep = [deep];
             const visitor = {shortId: 'abc', identities: deep};
             postState({visitor, color: '#000002'});
             postState({visitor, color: '#000003'});
             postState({visitor, color: '#000004', muted: true});
           }"""
    )
    harness.wait_until(lambda: session.color == "#000004", what="later snapshots")
    assert session.muted is True
    assert session.visitor == {"shortId": "abc", "callName": "Grace Hopper"}
    reports = [n["text"] for n in session.notices if "state.visitor" in n["text"]]
    assert len(reports) == 1 and "deeper than 64" in reports[0]


def test_the_browser_forwards_a_bounded_number_of_properties_and_says_so(harness):
    session, frame = start(harness)
    frame.evaluate(
        """() => {
             const extra = {};
             for (let i = 0; i < 1000; i++) extra['k' + i] = i;
             postState({...extra, color: '#000005'});
           }"""
    )
    harness.wait_until(lambda: any("more than 256 properties" in n["text"]
                                   for n in session.notices), what="the report")
    assert session.state is not None
    extras = session.state.model_extra or {}
    assert len(session.state.model_fields_set) == 256  # 21 documented, then the first unknown
    assert "k0" in extras and "k234" in extras and "k235" not in extras
    assert session.color == "#000005"


def test_an_oversized_event_is_refused_and_the_next_arrives(harness):
    session, frame = start(harness)
    messages: list[Any] = []
    session.on_custom_message(messages.append)
    frame.evaluate(
        """() => {
             let deep = 1;
             for (let i = 0; i < 3000; i++) deep = [deep];
             post({type: 'customMessage', message: {deep}});
             post({type: 'customMessage', message: {big: 'x'.repeat(2000000)}});
             post({type: 'customMessage', message: {ok: 1}});
           }"""
    )
    harness.wait_until(lambda: messages == [{"ok": 1}], what="the small message")
    texts = " ".join(n["text"] for n in session.notices)
    assert "deeper than 64" in texts and "characters of JSON" in texts


def test_nothing_is_sent_after_dispose_even_with_a_handover_pending(harness):
    _session, _frame = start(harness)
    frontend = harness.page.evaluate(f"[...{BRIDGES}.values()][0].frontendId")
    # another page had the session: ours holds back, with the hand-over timer running
    harness.page.evaluate(
        "f => harness.fromKernel({kind: 'owner', frontend: f, previous: 'gone-page'})", frontend
    )
    harness.page.evaluate("harness.unmount()")
    harness.pump()
    sent = harness.page.evaluate("window.__sentToKernel")
    harness.page.wait_for_timeout(900)  # past the hand-over wait and the lazy flush
    assert harness.page.evaluate("window.__sentToKernel") == sent
    assert harness.page.evaluate(f"{BRIDGES}.size") == 0
    assert harness.page_errors == []


def test_a_reload_never_posts_an_instruction_twice(harness):
    session, frame = start(harness)
    session.set_mode("draw")
    session.toggle_video()  # not idempotent: posting it twice would turn video off again
    harness.wait_until(lambda: len(harness.received(frame)) == 2, what="both posted")
    harness.open_page()  # reload before the lazy acknowledgement went out
    harness.mount(views=1)
    new_frame = harness.session_frame()
    harness.settle(900)  # past the hand-over wait
    assert harness.received(new_frame) == []
    assert session.pending_instructions == []
