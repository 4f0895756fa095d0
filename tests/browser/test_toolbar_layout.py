"""The toolbar's layout (480 px and 1200 px), keyboard-only use, and its accessibility.

Screenshots of the toolbar go to ``build/screenshots/`` (or ``$UPSCOPE_SCREENSHOTS``) for a
person to look at: ``toolbar-<width>-<scheme>.png``. Here the host page is not JupyterLab, so
"dark" is the widget's own fallback palette (the system's dark mode); the JupyterLab themes
themselves are shot by tests/e2e/test_toolbar_jupyter.py.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest

from support.widget_harness import WidgetHarness
from upscope_widget import UpscopeSession

pytestmark = [pytest.mark.browser]

SCREENSHOTS = Path(os.environ.get("UPSCOPE_SCREENSHOTS",
                                  Path(__file__).parents[2] / "build" / "screenshots"))
TB = ".upscope-toolbar"
CONTROLS = f"{TB} button, {TB} input, {TB} select"
# the controls on show (the error banner's dismiss button is there only with an error)
VISIBLE = f"[...document.querySelectorAll('{CONTROLS}')].filter(c => c.getClientRects().length)"
STATE = ("{connections: [{id: 'c1'}, {id: 'c2'}, {id: 'c3'}], activeConnectionId: 'c1', "
         "currentUrl: 'https://shop.acme-outfitters.example/products/trail-runner-2', "
         "controlTool: 'drawing', dataBounceSpeed: 240, observersCount: 2}")


def open_at(browser: Any, origins: tuple[str, str, str], width: int, scheme: str = "light"
            ) -> tuple[WidgetHarness, UpscopeSession, Any, Any]:
    context = browser.new_context(viewport={"width": width, "height": 800}, color_scheme=scheme)
    h = WidgetHarness(context.new_page(), *origins)
    session = h.create(lambda: UpscopeSession(h.frame_url(), height=360))
    h.mount()
    frame = h.session_frame()
    frame.evaluate(f"postState({STATE})")
    h.wait_until(lambda: session.session_status == "viewerReady", what="the first state")
    h.page.wait_for_selector(f"{TB} [data-connection-id='c3']:not([disabled])")
    return h, session, frame, context


def shoot(h: WidgetHarness, name: str) -> Path:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / name
    h.page.locator(".view").first.screenshot(path=str(path))
    assert path.stat().st_size > 1000
    return path


@pytest.mark.parametrize("width", [480, 1200])
def test_layout_fits_without_horizontal_scrolling(browser, origins, width):
    h, _session, _frame, context = open_at(browser, origins, width)
    try:
        page = h.page
        fits = page.evaluate("""() => {
            const doc = document.documentElement;
            const tb = document.querySelector('.upscope-toolbar');
            const box = tb.getBoundingClientRect();
            const out = [...tb.querySelectorAll('button, input, select')]
              .filter(c => c.getClientRects().length)
              .filter(c => { const r = c.getBoundingClientRect();
                             return r.left < box.left - 0.5 || r.right > box.right + 0.5; })
              .map(c => c.getAttribute('aria-label') || c.textContent);
            return {page: doc.scrollWidth <= doc.clientWidth,
                    toolbar: tb.scrollWidth <= tb.clientWidth, out, width: box.width};
        }""")
        assert fits["page"] and fits["toolbar"] and fits["out"] == [], fits
        assert fits["width"] <= width
        rows = page.evaluate("""() => new Set([...document.querySelectorAll(
            '.upscope-toolbar button, .upscope-toolbar input, .upscope-toolbar select')]
            .map(c => Math.round(c.getBoundingClientRect().top))).size""")
        if width == 480:
            assert rows >= 5  # it wraps rather than scrolls
        for scheme in ("light", "dark"):
            page.emulate_media(color_scheme=scheme)
            page.wait_for_timeout(50)  # the repaint, before the picture
            shoot(h, f"toolbar-{width}-{scheme}.png")
    finally:
        context.close()


def test_nothing_jumps_when_the_state_changes(browser, origins):
    h, _session, frame, context = open_at(browser, origins, 1200)
    try:
        page = h.page

        def layout() -> list[float]:
            return page.evaluate("""() => [document.querySelector('iframe.upscope-frame'),
                ...document.querySelectorAll('.upscope-toolbar button:not(.upscope-tb-dismiss)')]
                .map(e => e.getBoundingClientRect()).flatMap(r => [r.top, r.left])""")

        before = layout()
        changes = [
            (f"postState({{...{STATE}, audioState: 'ringing', muted: true, dataBounceSpeed: 1234, "
             "visitor: {callName: 'Someone With A Rather Long Name'}})",
             "tb.querySelector('[data-action=toggleAudio]').textContent === 'Ringing…'"),
            ("post({type: 'error', error: 'connection:user_not_online'})",
             "!tb.querySelector('.upscope-tb-banner').hidden"),
            (f"postState({{...{STATE}, audioState: 'active', controlTool: 'pointer', "
             "dataBounceSpeed: 5})",
             "tb.querySelector('[data-action=toggleAudio]').textContent === 'Audio on'"),
        ]
        for js, drawn in changes:
            frame.evaluate(js)
            page.wait_for_function(
                f"() => {{ const tb = document.querySelector('{TB}'); return {drawn}; }}")
            after = layout()
            moved = [i for i, (a, b) in enumerate(zip(before, after, strict=True))
                     if abs(a - b) > 0.5]
            assert moved == [], f"moved after {js}: {moved}"
    finally:
        context.close()


def test_keyboard_only(browser, origins):
    h, _session, frame, context = open_at(browser, origins, 1200)
    try:
        page = h.page
        ids = page.evaluate(f"""() => {VISIBLE}
            .map((c, i) => {{ c.dataset.kbd = String(i); return i; }})""")
        reached: list[str] = []
        page.locator("body").click(position={"x": 1, "y": 1})
        for _ in range(80):
            page.keyboard.press("Tab")
            key = page.evaluate("() => document.activeElement?.dataset?.kbd ?? null")
            if key is not None and key not in reached:
                reached.append(key)
            if len(reached) == len(ids):
                break
        assert sorted(reached, key=int) == [str(i) for i in ids], "Tab must reach every control"

        def focus(selector: str) -> None:
            for _ in range(80):
                if page.evaluate(f"() => document.activeElement?.matches('{selector}')"):
                    return
                page.keyboard.press("Tab")
            raise AssertionError(f"Tab never reached {selector}")

        focus('[data-mode="pointer"]')
        # the focus ring shows, from the keyboard
        ring = page.evaluate("() => { const s = getComputedStyle(document.activeElement); "
                             "return [s.outlineStyle, parseFloat(s.outlineWidth)]; }")
        assert ring[0] == "solid" and ring[1] >= 2
        page.keyboard.press("Enter")
        focus('[data-mode="cursor"]')
        page.keyboard.press(" ")
        focus('[data-action="setCurrentUrl"]')
        page.keyboard.press("Control+A")
        page.keyboard.type("https://shop.example/keyboard")
        page.keyboard.press("Enter")
        focus('[data-action="endSession"]')
        page.keyboard.press("Enter")
        page.keyboard.press("Enter")
        want = [{"action": "setMode", "mode": "pointer"}, {"action": "setMode", "mode": "cursor"},
                {"action": "setCurrentUrl", "url": "https://shop.example/keyboard"},
                {"action": "endSession"}]
        h.wait_until(lambda: len(h.received(frame)) >= len(want), what="the keyboard's orders")
        assert [r["data"] for r in h.received(frame)] == want
    finally:
        context.close()


def test_every_control_has_an_accessible_name(browser, origins):
    h, _session, _frame, context = open_at(browser, origins, 1200)
    try:
        page = h.page
        # names as the browser's accessibility tree computes them
        snapshot = page.locator(TB).aria_snapshot()
        lines = [ln.strip() for ln in snapshot.splitlines()]
        roles = ("button", "textbox", "combobox")
        controls = [ln for ln in lines if re.match(rf"- ({'|'.join(roles)})\b", ln)]
        count = page.evaluate(f"() => {VISIBLE}.length")
        assert len(controls) == count, snapshot
        unnamed = [ln for ln in controls if not re.match(r'- \w+ "[^"]+"', ln)]
        assert unnamed == [], snapshot
        # toggles say whether they are on
        for toggle in ('[data-mode="draw"]', '[data-action="toggleAudio"]',
                       '[data-action="setMuted"]', '[data-action="toggleVideo"]',
                       '[data-connection-id="c1"]', '[data-action="requestFullTab"]'):
            assert page.locator(f"{TB} {toggle}").get_attribute("aria-pressed") in ("true",
                                                                                 "false")
        assert page.get_by_role("button", name="Draw", pressed=True).count() == 1
    finally:
        context.close()
