"""The simulator page in replay mode, on a fake clock (Playwright's ``page.clock``).

The page is the one the widget loads, in an iframe of a host page; the host records every
message the iframe posts with the fake clock's time. The clock lives in the page, so this is
where the recorded timing divided by ``speed`` is checked. (The page is served from a routed
URL rather than a ``blob:`` one because Playwright's fake clock reaches only frames that
navigate; the widget's ``blob:`` path is covered by test_replay_widget.py.)
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from upscope_widget import LogEntry, SessionLog
from upscope_widget.simulator import REPLAY_ACTIONS, SimulatorOptions, build_page
from upscope_widget.simulator.replay import build_timeline

pytestmark = pytest.mark.browser

STATE = "upscope.sessionState.update"
HOST = "http://replay.test/host.html"
SIM = "http://replay.test/sim.html"
HOST_HTML = """<!doctype html><html><head><meta charset="utf-8"></head><body>
<script>
window.events = [];
window.startSim = function (url) {
  return new Promise(function (resolve) {
    const origin = new URL(url).origin;
    const frame = document.createElement("iframe");
    frame.id = "sim-frame";
    frame.style.cssText = "width:800px;height:500px;border:0";
    window.addEventListener("message", function (ev) {
      if (ev.source !== frame.contentWindow || ev.origin !== origin) return;
      window.events.push({t: Date.now(), data: ev.data});
    });
    window.send = function (msg) { frame.contentWindow.postMessage(msg, origin); };
    frame.addEventListener("load", function () { resolve(Date.now()); }, {once: true});
    frame.src = url;
    document.body.appendChild(frame);
  });
};
</script></body></html>"""


def state(t: float, **data: Any) -> LogEntry:
    from upscope_widget.protocol import WIRE_TO_FIELD

    return LogEntry(1000.0 + t, "in", STATE, data, frozenset(WIRE_TO_FIELD[k] for k in data))


SHOP = "https://shop.acme-outfitters.example"
RECORDING = SessionLog.from_entries([
    state(0.0, sessionStatus="active", connected=True, dataBounceSpeed=90,
          activeConnectionId="conn-1", currentUrl=SHOP + "/",
          connections=[{"id": "conn-1"}, {"id": "conn-2", "url": SHOP + "/cart"}],
          color="#6e56cf", controlTool=None),
    state(0.5, sessionStatus="viewerReady"),
    LogEntry(1000.8, "out", "setMode", {"action": "setMode", "mode": "draw"}, source="python"),
    state(1.0, controlTool="drawing"),
    LogEntry(1002.0, "in", "error", {"type": "error", "error": "connection:user_not_found"}),
    state(3.0, activeConnectionId="conn-2", currentUrl=SHOP + "/cart", color="#112233"),
    state(4.0, dataBounceSpeed=120),
])


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    context = browser.new_context()
    page = context.new_page()
    page.route(HOST, lambda route: route.fulfill(status=200, body=HOST_HTML,
                                                 content_type="text/html; charset=utf-8"))
    page.clock.install(time=0)
    page.goto(HOST)
    page.clock.pause_at(10_000)  # from here on, time moves only when the test says so
    try:
        yield page
    finally:
        context.close()


def start(page: Any, speed: float) -> float:
    html = build_page(SimulatorOptions(), replay=build_timeline(RECORDING).page_data(speed))
    page.route(SIM, lambda route: route.fulfill(status=200, body=html,
                                                content_type="text/html; charset=utf-8"))
    loaded: float = page.evaluate("u => window.startSim(u)", SIM)
    return loaded


def posted(page: Any) -> list[tuple[float, dict[str, Any]]]:
    return [(e["t"], e["data"]) for e in page.evaluate("window.events")]


def frame(page: Any) -> Any:
    return page.query_selector("#sim-frame").content_frame()


def test_items_are_posted_at_their_recorded_time_divided_by_speed(page):
    start(page, speed=2.0)
    # at load, the items at offset 0 are posted at once, as the full accumulated snapshot
    first = posted(page)
    assert [d["state"]["sessionStatus"] for _, d in first] == ["active"]
    assert first[0][1]["state"]["currentUrl"] == SHOP + "/"
    now = 0
    # recorded offsets 0.5, 1, 2, 3, 4 s (the instruction at 0.8 s is shown, not posted)
    for count, due in enumerate([250, 500, 1000, 1500, 2000], start=2):
        page.clock.run_for(due - 1 - now)
        assert len(posted(page)) == count - 1, f"posted before {due} ms"
        page.clock.run_for(1)
        now = due
        assert len(posted(page)) == count, f"not posted at {due} ms"
    events = [d for _, d in posted(page)]
    assert [d["type"] for d in events] == [STATE, STATE, STATE, "error", STATE, STATE]
    last = events[-1]["state"]
    # every snapshot is whole: the changes accumulated on what came before
    assert last["sessionStatus"] == "viewerReady" and last["controlTool"] == "drawing"
    assert last["activeConnectionId"] == "conn-2" and last["dataBounceSpeed"] == 120
    assert events[3] == {"type": "error", "error": "connection:user_not_found"}
    page.clock.run_for(10_000)
    assert len(posted(page)) == 6  # the end: nothing more


def test_speed_zero_posts_everything_at_once_in_order(page):
    start(page, speed=0)
    # no timer in between: everything is there before the clock moves at all
    events = posted(page)
    assert [d.get("state", {}).get("dataBounceSpeed") for _, d in events if d["type"] == STATE] \
        == [90, 90, 90, 90, 120]
    assert [d["type"] for _, d in events] == [STATE, STATE, STATE, "error", STATE, STATE]


def test_pause_play_and_seek(page):
    start(page, speed=1.0)
    page.clock.run_for(600)
    assert len(posted(page)) == 2
    page.evaluate("m => window.send(m)", {"action": REPLAY_ACTIONS["pause"]})
    page.clock.run_for(5000)
    assert len(posted(page)) == 2  # paused: nothing more
    page.evaluate("m => window.send(m)", {"action": REPLAY_ACTIONS["seek"], "to": 3.5})
    page.clock.run_for(10)
    events = posted(page)
    assert len(events) == 3  # one snapshot: the state at 3.5 s
    jumped = events[2][1]["state"]
    assert jumped["currentUrl"] == SHOP + "/cart" and jumped["color"] == "#112233"
    assert jumped["dataBounceSpeed"] == 90
    # the page shows the recorded page, tab and tool
    sim = frame(page)
    assert sim.locator("#addr-url").text_content() == SHOP + "/cart"
    assert sim.locator(".tab.on").get_attribute("data-connection") == "conn-2"
    assert sim.locator("#tool-name").text_content() == "drawing"
    page.clock.run_for(5000)
    assert len(posted(page)) == 3  # still paused after the seek
    page.evaluate("m => window.send(m)", {"action": REPLAY_ACTIONS["play"], "from": 3.5})
    page.clock.run_for(499)
    assert len(posted(page)) == 3
    page.clock.run_for(1)
    events = posted(page)
    assert len(events) == 4 and events[3][1]["state"]["dataBounceSpeed"] == 120


def test_the_page_shows_errors_and_never_posts_on_its_own(page):
    start(page, speed=1.0)
    page.clock.run_for(2000)
    sim = frame(page)
    assert "connection:user_not_found" in sim.locator("#banner").text_content()
    assert sim.locator("#sim-badge").text_content() == "Replay"
    # instructions to a replay are ignored, and the page's own doings are not posted
    count = len(posted(page))
    page.evaluate("m => window.send(m)", {"action": "setMode", "mode": "cursor"})
    page.evaluate("m => window.send(m)", {"action": "upscope-sim:visitorSends", "message": {}})
    sim.evaluate("window.dispatchEvent(new Event('resize'))")
    page.clock.run_for(500)
    assert len(posted(page)) == count
    assert sim.locator("#tool-name").text_content() == "drawing"
