"""The agent toolbar in a real browser: every control, what reaches the cross-origin iframe, and
what Python hears of it (``on_instruction``, the log), with a real UpscopeSession behind it."""

from __future__ import annotations

from typing import Any

import pytest

from upscope_widget import UpscopeSession
from upscope_widget.errors import ERROR_DESCRIPTIONS
from upscope_widget.session import LOAD_FAILURE_HELP

pytestmark = [pytest.mark.browser]

TB = ".upscope-toolbar"
TWO_TABS = ("{connections: [{id: 'c1'}, {id: 'c2', url: 'https://shop.example/help'}], "
            "activeConnectionId: 'c1'}")


def start(h: Any, **kwargs: Any) -> tuple[UpscopeSession, Any, list[tuple[Any, ...]]]:
    session = h.create(lambda: UpscopeSession(h.frame_url(), **kwargs))
    heard: list[tuple[Any, ...]] = []
    session.on_instruction(lambda action, params, source: heard.append((action, params, source)))
    h.mount()
    frame = h.session_frame()
    frame.evaluate(f"postState({TWO_TABS})")
    h.wait_until(lambda: session.session_status == "viewerReady", what="the first state")
    # the toolbar draws on the next animation frame: wait for what it shows
    h.page.wait_for_selector(f"{TB} [data-connection-id='c2']:not([disabled])")
    return session, frame, heard


def control(h: Any, action: str, extra: str = "") -> Any:
    return h.page.locator(f'{TB} [data-action="{action}"]{extra}')


def received(h: Any, frame: Any, n: int) -> list[dict[str, Any]]:
    """Wait until the iframe holds ``n`` instructions; return their data."""
    h.wait_until(lambda: len(h.received(frame)) >= n, what=f"{n} instructions in the iframe")
    return [r["data"] for r in h.received(frame)]


# Each control, how to use it, and the exact wire instruction it must post.
CLICKS: list[tuple[str, str, dict[str, Any]]] = [
    ('setMode', '[data-mode="draw"]', {"action": "setMode", "mode": "draw"}),
    ('setMode', '[data-mode="pointer"]', {"action": "setMode", "mode": "pointer"}),
    ('setMode', '[data-mode="cursor"]', {"action": "setMode", "mode": "cursor"}),
    ('setMode', '[data-mode="none"]', {"action": "setMode", "mode": None}),
    ('switchColor', '[data-color="next"]', {"action": "switchColor"}),
    ('toggleAudio', '', {"action": "toggleAudio", "on": True}),
    ('setMuted', '', {"action": "setMuted", "muted": True}),
    ('toggleVideo', '', {"action": "toggleVideo"}),
    ('historyBack', '', {"action": "historyBack"}),
    ('historyForward', '', {"action": "historyForward"}),
    ('reloadPage', '', {"action": "reloadPage"}),
    ('forceRefresh', '', {"action": "forceRefresh"}),
    ('setActiveConnection', '[data-connection-id="c2"]',
     {"action": "setActiveConnection", "connectionId": "c2"}),
    ('requestControl', '', {"action": "requestControl"}),
    ('requestFullTab', '', {"action": "requestFullTab"}),
]


def test_every_control_posts_its_exact_instruction_and_python_hears_it(harness):
    session, frame, heard = start(harness)
    expected: list[dict[str, Any]] = []
    for action, extra, wire in CLICKS:
        control(harness, action, extra).click()
        expected.append(wire)
        assert received(harness, frame, len(expected)) == expected, action

    harness.page.locator(f"{TB} input[type=color]").fill("#00aa55")
    expected.append({"action": "switchColor", "color": "#00aa55"})
    assert received(harness, frame, len(expected)) == expected

    address = control(harness, "setCurrentUrl")
    address.fill("https://shop.example/cart")
    address.press("Enter")
    expected.append({"action": "setCurrentUrl", "url": "https://shop.example/cart"})
    assert received(harness, frame, len(expected)) == expected

    harness.page.get_by_label("Confetti emoji").select_option("🚀")
    control(harness, "emojiConfetti").click()
    expected.append({"action": "emojiConfetti", "emoji": "🚀"})
    assert received(harness, frame, len(expected)) == expected

    # the toggles send what flips the state the iframe reported
    frame.evaluate("postState({mode: 'visitor_screen', audioState: 'active', muted: true})")
    harness.page.wait_for_selector(f'{TB} [data-action="stopFullTab"][aria-pressed="true"]')
    control(harness, "stopFullTab").click()
    control(harness, "toggleAudio").click()
    control(harness, "setMuted").click()
    expected += [{"action": "stopFullTab"}, {"action": "toggleAudio", "on": False},
                 {"action": "setMuted", "muted": False}]
    assert received(harness, frame, len(expected)) == expected

    # end session: the first click only arms it, the second sends
    end = control(harness, "endSession")
    end.click()
    assert end.inner_text() == "Confirm end"
    end.click()
    expected.append({"action": "endSession"})
    assert received(harness, frame, len(expected)) == expected

    # every post went to the watch link's origin, and Python heard each once, in order
    assert {r["origin"] for r in harness.received(frame)} == {harness.host}
    want = [(w["action"], {k: v for k, v in w.items() if k != "action"}, "toolbar")
            for w in expected]
    harness.wait_until(lambda: len(heard) >= len(want), what="on_instruction for every click")
    harness.settle(300)
    assert heard == want
    out = [e for e in session.log if e.direction == "out"]
    assert [(e.kind, e.data, e.source) for e in out] == [
        (w["action"], w, "toolbar") for w in expected
    ]
    # a toolbar instruction was posted by the page: nothing waits in the kernel's outbox
    assert session.pending_instructions == []
    assert harness.page_errors == []


def test_a_refused_address_sends_nothing_and_says_why(harness):
    _session, frame, heard = start(harness)
    address = control(harness, "setCurrentUrl")
    for bad in ("javascript:alert(1)", "shop.example/cart", "https:shop.example", "ftp://x.example/"):
        address.fill(bad)
        address.press("Enter")
        hint = harness.page.locator(f"{TB} .upscope-tb-hint")
        hint.wait_for(state="visible")
        assert hint.inner_text().strip(), bad
        assert address.get_attribute("aria-invalid") == "true"
        assert address.input_value() == bad  # refused in place: the text stays to be fixed
    address.fill("https://shop.example/ok")  # typing clears the message
    assert harness.page.locator(f"{TB} .upscope-tb-hint").is_hidden()
    harness.settle(300)
    assert harness.received(frame) == []
    assert heard == []


def test_end_session_confirmation_is_cancelled_by_escape_and_by_time(harness):
    _session, frame, heard = start(harness)
    end = control(harness, "endSession")
    end.click()
    assert end.inner_text() == "Confirm end"
    end.press("Escape")
    harness.page.wait_for_function(
        "() => document.querySelector('[data-action=endSession]').textContent === 'End session'")
    end.click()  # armed again; left alone it disarms after a few seconds
    harness.page.wait_for_function(
        "() => document.querySelector('[data-action=endSession]').textContent === 'End session'",
        timeout=30_000)
    harness.settle(200)
    assert harness.received(frame) == []
    assert heard == []


def test_the_toolbar_shows_the_state(harness):
    _session, frame, _ = start(harness)
    page = harness.page

    def shows(js: str, what: str) -> None:
        page.wait_for_function(f"() => {{ const tb = document.querySelector('{TB}'); "
                               "const p = s => tb.querySelector(s).getAttribute('aria-pressed');"
                               f"return {js}; }}", timeout=30_000)

    for ms, level in ((150, "good"), (350, "fair"), (700, "poor")):
        frame.evaluate(f"postState({{dataBounceSpeed: {ms}}})")
        shows(f"tb.querySelector('.upscope-tb-latency').textContent === '{ms} ms' && "
              f"tb.querySelector('.upscope-tb-latency').classList.contains('upscope-latency-{level}')",
              f"latency {ms}")
    frame.evaluate("postState({visitor: {email: 'ada@example.com', shortId: 'v1'}, "
                   "observersCount: 3, connected: false})")
    shows("tb.querySelector('.upscope-tb-visitor').textContent === 'ada@example.com' && "
          "tb.querySelector('.upscope-tb-observers').textContent === '3 observing' && "
          "tb.querySelector('.upscope-tb-conn').textContent === 'offline'", "visitor by email")
    frame.evaluate("postState({visitor: {shortId: 'v1'}})")
    shows("tb.querySelector('.upscope-tb-visitor').textContent === 'v1'", "visitor by id")

    frame.evaluate("postState({controlTool: 'drawing', audioState: 'ringing', isVideoOn: true, "
                   f"muted: true, ...{TWO_TABS}, activeConnectionId: 'c2', "
                   "currentUrl: 'https://shop.example/help'})")
    shows("p('[data-mode=draw]') === 'true' && "
          "p('[data-mode=none]') === 'false' && "
          "tb.querySelector('[data-action=toggleAudio]').textContent === 'Ringing…' && "
          "p('[data-action=toggleAudio]') === 'true' && "
          "p('[data-action=setMuted]') === 'true' && "
          "p('[data-action=toggleVideo]') === 'true' && "
          "p('[data-connection-id=c2]') === 'true' && "
          "p('[data-connection-id=c1]') === 'false' && "
          "tb.querySelector('[data-action=setCurrentUrl]').value === 'https://shop.example/help'",
          "tools, call, tabs and address")
    frame.evaluate("postState({controlTool: null, audioState: 'active'})")
    shows("p('[data-mode=none]') === 'true' && "
          "tb.querySelector('[data-action=toggleAudio]').textContent === 'Audio on'", "no tool")


def test_error_banner_then_the_ended_state_disables_every_control(harness):
    session, frame, _ = start(harness)
    page = harness.page
    code = "remote_control:click_not_allowed"
    frame.evaluate(f"post({{type: 'error', error: '{code}'}})")
    banner = page.locator(f"{TB} .upscope-tb-banner")
    banner.wait_for(state="visible")
    assert ERROR_DESCRIPTIONS[code] in banner.inner_text()
    assert code in banner.inner_text()
    page.get_by_role("button", name="Dismiss the error").click()
    banner.wait_for(state="hidden")
    for other in ERROR_DESCRIPTIONS:  # every documented code has its sentence
        frame.evaluate(f"post({{type: 'error', error: '{other}'}})")
        page.wait_for_function(
            "c => document.querySelector('.upscope-tb-banner-code').textContent === c", arg=other)
        assert page.locator(f"{TB} .upscope-tb-banner-text").inner_text() == \
            ERROR_DESCRIPTIONS[other]
    frame.evaluate("post({type: 'error', error: 'brand:new'})")
    page.wait_for_function(
        "() => document.querySelector('.upscope-tb-banner-code').textContent === 'brand:new'")
    assert "does not know" in page.locator(f"{TB} .upscope-tb-banner-text").inner_text()

    frame.evaluate("postState({sessionStatus: 'terminated'}); "
                   "post({type: 'sessionEnded', reason: 'error'})")
    ended = page.locator(f"{TB} .upscope-tb-ended")
    ended.wait_for(state="visible")
    assert "reason: error" in ended.inner_text()
    page.wait_for_function(
        "() => [...document.querySelectorAll('.upscope-toolbar [data-action], "
        ".upscope-toolbar select')].every(c => c.disabled)")
    harness.wait_until(lambda: session.ended_reason == "error")


def test_python_and_clicks_interleaved_none_lost_none_twice(harness):
    session, frame, heard = start(harness)
    draw = control(harness, "setMode", '[data-mode="draw"]')
    expected: list[tuple[str, str]] = []
    for i in range(6):
        session.switch_color(f"#00000{i}")
        expected.append(("python", f"#00000{i}"))
        draw.click()  # posted by the page at once, reported to Python in the next batch
        expected.append(("toolbar", "draw"))
        if i % 2:
            harness.pump()  # sometimes the kernel's instruction reaches the page only now
    harness.wait_until(lambda: len(harness.received(frame)) >= len(expected),
                       what="every instruction")
    harness.settle(400)
    got = [r["data"] for r in harness.received(frame)]
    # each exactly once; the kernel's own in their order, the clicks in theirs
    assert len(got) == len(expected)
    assert [g["color"] for g in got if g["action"] == "switchColor"] == \
        [f"#00000{i}" for i in range(6)]
    assert sum(g == {"action": "setMode", "mode": "draw"} for g in got) == 6
    assert sorted((s, (p.get("color") or p.get("mode"))) for _, p, s in heard) == \
        sorted(expected)
    assert session.pending_instructions == []
    sources = [e.source for e in session.log if e.direction == "out"]
    assert sources.count("toolbar") == 6 and sources.count("python") == 6


def test_toolbar_off_leaves_the_status_line(harness):
    session, _frame, _ = start(harness)
    page = harness.page
    assert page.locator(TB).is_visible()
    assert page.locator(".upscope-bar").is_hidden()  # the toolbar shows all it did, and more
    session.toolbar = False
    harness.pump()
    page.locator(TB).wait_for(state="hidden")
    page.locator(".upscope-bar").wait_for(state="visible")
    assert "viewerReady" in page.locator(".upscope-bar").inner_text()
    session.toolbar = True
    harness.pump()
    page.locator(TB).wait_for(state="visible")
    with pytest.raises(ValueError, match="toolbar='yes'"):
        session.toolbar = "yes"


def test_read_only_shows_the_toolbar_with_every_control_disabled(harness):
    _session, _frame, _ = start(harness)
    harness.page.evaluate("harness.update({_read_only: true})")
    harness.page.wait_for_function(
        "() => [...document.querySelectorAll('.upscope-toolbar [data-action], "
        ".upscope-toolbar select')].every(c => c.disabled)")
    assert harness.page.locator(TB).is_visible()
    harness.page.evaluate("harness.update({_read_only: false})")
    harness.page.wait_for_selector(f'{TB} [data-mode="draw"]:not([disabled])')


def test_connecting_then_the_load_timeout_explains_and_tells_python(harness):
    # the test page posts nothing until told: no state arrives
    session = harness.create(lambda: UpscopeSession(harness.frame_url(), load_timeout=1.5))
    harness.mount()
    loading = harness.page.locator(".upscope-loading")
    loading.wait_for(state="visible")
    assert "Connecting" in loading.inner_text()
    harness.page.wait_for_selector(".upscope-loading-failed", timeout=30_000)
    text = loading.inner_text()
    assert "1.5 s" in text
    for sentence in LOAD_FAILURE_HELP[1:]:
        assert sentence in text
    harness.wait_until(lambda: any("within 1.5 s" in n["text"] for n in session.notices),
                       what="the notice in Python")
    notice = next(n["text"] for n in session.notices if "within 1.5 s" in n["text"])
    assert all(s.format(seconds="1.5") in notice for s in LOAD_FAILURE_HELP)
    # a state after all clears both
    harness.session_frame().evaluate("postState()")
    loading.wait_for(state="hidden")
    harness.wait_until(lambda: not any("within" in n["text"] for n in session.notices),
                       what="the notice to go")


def test_bad_constructor_values_are_refused():
    with pytest.raises(ValueError, match="load_timeout=0"):
        UpscopeSession("https://example.com/w", load_timeout=0)
    with pytest.raises(ValueError, match="load_timeout='20'"):
        UpscopeSession("https://example.com/w", load_timeout="20")
    with pytest.raises(ValueError, match="toolbar=1"):
        UpscopeSession("https://example.com/w", toolbar=1)


def test_a_click_during_a_hand_over_hold_waits_behind_the_queued_instructions(harness):
    session, frame, heard = start(harness)
    frontend = harness.page.evaluate(
        "[...window[Symbol.for('upscope-widget.bridges')].values()][0].frontendId")
    # another page had the session: ours holds back what the kernel sends until it hears
    # what that page posted
    harness.page.evaluate(
        "f => harness.fromKernel({kind: 'owner', frontend: f, previous: 'gone-page'})", frontend)
    session.switch_color("#000001")
    session.set_mode("pointer")
    harness.pump()
    harness.settle(100)
    assert harness.received(frame) == []  # held
    control(harness, "setMode", '[data-mode="draw"]').click()
    harness.settle(100)
    assert harness.received(frame) == []  # the click waits too: it came after them
    harness.page.evaluate("harness.fromKernel({kind: 'delivered', upTo: 0, by: 'gone-page'})")
    got = received(harness, frame, 3)
    assert got == [
        {"action": "switchColor", "color": "#000001"},
        {"action": "setMode", "mode": "pointer"},
        {"action": "setMode", "mode": "draw"},
    ]
    harness.wait_until(lambda: len(heard) == 3, what="the click heard by Python")
    assert [(a, s) for a, _p, s in heard] == [
        ("switchColor", "python"), ("setMode", "python"), ("setMode", "toolbar")]
