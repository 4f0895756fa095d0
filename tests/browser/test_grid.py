"""SessionGrid in a real browser: two real sessions and a grid on one page, each widget with its
own Python object and comm, their iframes on a second origin. A screenshot of the grid goes to
``build/screenshots/grid.png`` (or ``$UPSCOPE_SCREENSHOTS``)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from support.fakecomm import RecordingComm, recording_comms
from support.frames import find_frame
from upscope_widget import SessionGrid, UpscopeSession
from upscope_widget.errors import ERROR_DESCRIPTIONS

pytestmark = [pytest.mark.browser]

SCREENSHOTS = Path(os.environ.get("UPSCOPE_SCREENSHOTS",
                                  Path(__file__).parents[2] / "build" / "screenshots"))


class Page:
    """One page with several widgets, each bridged to its own Python object."""

    def __init__(self, page: Any, host: str) -> None:
        self.page = page
        self.inbox: list[tuple[str, Any]] = []
        self.errors: list[str] = []
        self.comms: dict[str, list[Any]] = {}  # key -> [comm, messages delivered]
        page.on("pageerror", lambda e: self.errors.append(str(e)))
        page.expose_binding("__toKernelFor",
                            lambda _source, key, text: self.inbox.append((key, json.loads(text))))
        page.goto(f"{host}/host.html")
        page.wait_for_function("window.harnessReady === true")

    def add(self, key: str, make: Callable[[], Any]) -> Any:
        with recording_comms() as made:
            widget = make()
        comm: RecordingComm = made[-1]
        assert comm.opened is not None
        self.comms[key] = [comm, len(comm.sent)]
        self.page.evaluate("([k, s]) => harness.mountKeyed(k, s)", [key, comm.opened["state"]])
        self.pump()
        return widget

    def view(self, key: str) -> int:
        index: int = self.page.evaluate("k => harness.addViewOf(k)", key)
        self.pump()
        return index

    def pump(self) -> None:
        for _ in range(100):
            moved = False
            for key, entry in self.comms.items():
                comm, done = entry
                while done < len(comm.sent):
                    msg = comm.sent[done]
                    done += 1
                    moved = True
                    if msg.get("method") == "custom":
                        self.page.evaluate("([k, c]) => harness.fromKernelTo(k, c)",
                                           [key, msg["content"]])
                    elif msg.get("method") == "update":
                        self.page.evaluate("([k, s]) => harness.updateOf(k, s)",
                                           [key, msg["state"]])
                entry[1] = done
            while self.inbox:
                key, content = self.inbox.pop(0)
                self.comms[key][0].from_frontend(content)
                moved = True
            if not moved:
                return

    def wait_until(self, predicate: Callable[[], Any], what: str, timeout: float = 30) -> Any:
        deadline = time.monotonic() + timeout
        while True:
            self.pump()
            value = predicate()
            if value:
                return value
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out waiting for {what}; page errors: {self.errors}")
            self.page.wait_for_timeout(20)

    def frame(self, origin: str, tag: str) -> Any:
        return self.wait_until(
            lambda: find_frame(self.page, f"{origin}/frame.html?s={tag}",
                               "typeof window.post === 'function'"),
            what=f"the iframe of session {tag}")

    def frames(self) -> int:
        count: int = self.page.evaluate(
            "document.querySelectorAll('iframe.upscope-frame').length")
        return count


@pytest.fixture
def two(browser: Any, origins: tuple[str, str, str]) -> Iterator[tuple[Page, list[Any]]]:
    context = browser.new_context(viewport={"width": 1100, "height": 900})
    page = Page(context.new_page(), origins[0])
    sessions = [
        page.add(f"s{i}", lambda i=i: UpscopeSession(f"{origins[1]}/frame.html?s={i}"))
        for i in (1, 2)
    ]
    try:
        yield page, sessions
    finally:
        context.close()


def received(frame: Any) -> list[dict[str, Any]]:
    return [r["data"] for r in frame.evaluate("window.received")]


def test_grid_shows_live_cards_and_enlarges_one_in_place(two, origins):
    page, (s1, s2) = two
    heard: list[tuple[Any, ...]] = []
    s1.on_instruction(lambda *args: heard.append(args))
    grid = page.add("grid", lambda: SessionGrid([s1, s2]))
    page.view("grid")
    f1, f2 = page.frame(origins[1], "1"), page.frame(origins[1], "2")
    f1.evaluate("window.marker = 'first load'")
    f1.evaluate("postState({visitor: {callName: 'Ada'}, dataBounceSpeed: 120, "
                "currentUrl: 'https://shop.example/cart'})")
    f2.evaluate("postState({visitor: {email: 'bob@example.com'}, dataBounceSpeed: 640, "
                "currentUrl: 'https://shop.example/help'})")
    f2.evaluate("post({type: 'error', error: 'connection:user_not_online'})")
    page.wait_until(lambda: s1.visitor and s2.last_error, what="both states in Python")
    cards = page.page.locator(".upscope-grid-card")
    page.page.wait_for_function("""() => {
        const c = [...document.querySelectorAll('.upscope-grid-card')].map(e => e.innerText);
        return c.length === 2 && c[0].includes('Ada') && c[0].includes('120 ms')
          && c[0].includes('https://shop.example/cart') && c[1].includes('bob@example.com')
          && c[1].includes('640 ms') && c[1].includes('connection:user_not_online'); }""")
    assert ERROR_DESCRIPTIONS["connection:user_not_online"] in cards.nth(1).inner_text()
    assert "viewerReady" in cards.nth(0).inner_text()
    assert cards.nth(1).locator(".upscope-latency-poor").count() == 1
    # one iframe per session, each a live picture in its card, scaled down
    assert page.frames() == 2
    assert cards.nth(0).locator("iframe.upscope-frame").count() == 1
    assert "scale(" in cards.nth(0).locator("iframe").evaluate("f => f.style.transform")
    assert cards.nth(0).locator("iframe").evaluate("f => f.inert")  # a picture, not a stop
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.page.locator(".view").first.screenshot(path=str(SCREENSHOTS / "grid.png"))

    # one click enlarges it in the same output, with its toolbar, the same iframe
    cards.nth(0).click()
    panel = page.page.locator(".upscope-grid-panel")
    panel.locator(".upscope-toolbar").wait_for(state="visible")
    assert panel.locator("iframe.upscope-frame").count() == 1
    assert page.frames() == 2
    assert f1.evaluate("window.marker") == "first load"  # moved, not reloaded
    assert panel.locator("iframe").evaluate("f => !f.inert && !f.style.transform")
    panel.locator('[data-action="setMode"][data-mode="draw"]').click()
    page.wait_until(lambda: received(f1) == [{"action": "setMode", "mode": "draw"}],
                    what="the click in session 1's iframe")
    page.wait_until(lambda: heard == [("setMode", {"mode": "draw"}, "toolbar")],
                    what="session 1's on_instruction")
    assert received(f2) == []
    page.page.screenshot(path=str(SCREENSHOTS / "grid-enlarged.png"))

    # another click returns to the grid; the iframe goes back to its card, still live
    page.page.get_by_role("button", name="← Back to the grid").click()
    cards.nth(0).locator("iframe.upscope-frame").wait_for(state="attached")
    assert f1.evaluate("window.marker") == "first load"
    s1.set_mode("pointer")
    page.wait_until(lambda: len(received(f1)) == 2, what="Python's instruction")
    assert received(f1)[1] == {"action": "setMode", "mode": "pointer"}
    page.wait_until(lambda: s1.pending_instructions == [], what="the acknowledgement")
    assert grid.sessions == (s1, s2)
    assert page.errors == []


def test_a_session_shown_in_its_own_output_moves_between_it_and_the_grid(two, origins):
    page, (s1, s2) = two
    page.view("s1")  # the session's own output holds its iframe
    f1 = page.frame(origins[1], "1")
    f1.evaluate("window.marker = 'kept'; postState()")
    page.add("grid", lambda: SessionGrid([s1, s2]))
    grid_view = page.view("grid")
    first = page.page.locator(".upscope-grid-card").nth(0)
    page.page.wait_for_function(
        "() => document.querySelector('.upscope-grid-card').innerText"
        ".includes('Live in another output')")
    first.get_by_role("button", name="Show it here").click()
    first.locator("iframe.upscope-frame").wait_for(state="attached")
    own = page.page.locator('.view[data-key="s1"]')
    own.locator(".upscope-card").wait_for()
    assert "session grid" in own.inner_text()
    assert f1.evaluate("window.marker") == "kept"
    own.get_by_role("button", name="Show the session here").click()
    own.locator("iframe.upscope-frame").wait_for(state="attached")
    assert f1.evaluate("window.marker") == "kept"
    assert page.page.locator('.view[data-key="s1"] iframe, .upscope-grid iframe').count() == 2

    # the grid takes it again, then goes away: the session's output takes it back
    first.get_by_role("button", name="Show it here").click()
    first.locator("iframe.upscope-frame").wait_for(state="attached")
    page.page.evaluate("i => harness.removeKeyedView(i)", grid_view)
    own.locator("iframe.upscope-frame").wait_for(state="attached")
    assert f1.evaluate("window.marker") == "kept"
    s1.switch_color("#123456")
    page.wait_until(lambda: received(f1) == [{"action": "switchColor", "color": "#123456"}],
                    what="the instruction, once")
    assert page.errors == []


def test_bad_input_is_refused(two):
    _, (s1, _s2) = two
    with pytest.raises(ValueError, match="at least one"):
        SessionGrid([])
    with pytest.raises(ValueError, match="UpscopeSession objects only"):
        SessionGrid([s1, "https://example.com/w"])
    with pytest.raises(ValueError, match="twice"):
        SessionGrid([s1, s1])
    with pytest.raises(ValueError, match="list of UpscopeSession"):
        SessionGrid(s1)
    with pytest.raises(ValueError, match="min_card_width=50"):
        SessionGrid([s1], min_card_width=50)
