"""Browser tests of the simulator page, loaded exactly the way the widget will load it.

A host page served from 127.0.0.1 turns the HTML into a ``blob:`` URL, embeds it in an
unsandboxed iframe, records every message whose ``source`` is that iframe's window and whose
``origin`` is ``new URL(blobUrl).origin`` into ``window.events``, and posts instructions to that
origin with ``window.send(msg)``.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, TypeVar

import pytest
from playwright.sync_api import expect

from upscope_widget.simulator import (
    DEFAULT_VISITOR,
    SimulatorControl,
    SimulatorOptions,
    build_page,
)

pytestmark = pytest.mark.browser

T = TypeVar("T")
Event = dict[str, Any]

SHOP = "https://shop.acme-outfitters.example"
STATE_KEYS = {
    "activeConnectionId", "agentIdleness", "audioState", "availableModes", "color",
    "connected", "connections", "controlTool", "currentUrl", "dataBounceSpeed", "isVideoOn",
    "mode", "muted", "observersCount", "sessionStatus", "size", "videoAgentState",
    "videoVisitorState", "viewerAudioAvailable", "visitor", "visitorAudioAvailable",
}  # fmt: skip
STARTUP = ["waiting", "active", "snapshotReceived", "viewerReady"]
FAST = 0.05  # time_scale for most tests

HOST_HTML = b"""<!doctype html>
<html><head><meta charset="utf-8"><title>simulator host</title></head>
<body style="margin:0">
<script>
window.events = [];
window.sent = [];
window.startSim = function (html) {
  return new Promise(function (resolve) {
    const url = URL.createObjectURL(new Blob([html], {type: "text/html"}));
    const origin = new URL(url).origin;
    const frame = document.createElement("iframe");
    frame.id = "sim-frame";
    frame.style.cssText = "width:800px;height:600px;border:0;display:block";
    window.addEventListener("message", function (ev) {
      if (ev.source !== frame.contentWindow || ev.origin !== origin) return;
      const d = ev.data;
      window.events.push({t: performance.now(), data: d,
                          keys: d && d.state ? Object.keys(d.state) : null});
    });
    window.send = function (msg) {
      window.sent.push({t: performance.now(), msg: msg});
      frame.contentWindow.postMessage(msg, origin);
    };
    frame.addEventListener("load", function () { resolve(origin); }, {once: true});
    frame.src = url;  // src before insertion, as the widget does
    document.body.appendChild(frame);
  });
};
</script>
</body></html>
"""


class _HostHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200)
        self.send_header("Content-Type", "text/html; charset=utf-8")
        self.send_header("Content-Length", str(len(HOST_HTML)))
        self.end_headers()
        self.wfile.write(HOST_HTML)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def host_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _HostHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


def _describe(event: Event) -> str:
    if event.get("type") == "upscope.sessionState.update":
        s = event["state"]
        brief = {k: s.get(k) for k in (
            "sessionStatus", "connected", "activeConnectionId", "currentUrl", "controlTool",
            "mode", "audioState", "videoAgentState", "color", "dataBounceSpeed")}  # fmt: skip
        return "state " + json.dumps(brief)
    return json.dumps(event)[:300]


class Sim:
    """One host page with one simulator iframe, and helpers to drive and observe it."""

    def __init__(self, page: Any) -> None:
        self.page = page
        self.control = SimulatorControl(post=self.send_raw)
        self._syncs = 0

    @property
    def frame(self) -> Any:
        return self.page.query_selector("#sim-frame").content_frame()

    def send_raw(self, message: dict[str, Any]) -> None:
        self.page.evaluate("m => window.send(m)", message)

    def send(self, action: str, **params: Any) -> None:
        self.send_raw({"action": action, **params})

    def records(self) -> list[dict[str, Any]]:
        result: list[dict[str, Any]] = self.page.evaluate("window.events")
        return result

    def events(self, since: int = 0) -> list[Event]:
        return [r["data"] for r in self.records()[since:]]

    def states(self, since: int = 0) -> list[dict[str, Any]]:
        return [
            e["state"] for e in self.events(since) if e.get("type") == "upscope.sessionState.update"
        ]

    def state(self) -> dict[str, Any]:
        return self.states()[-1]

    def mark(self) -> int:
        return len(self.records())

    def wait_for(
        self, check: Callable[[list[Event]], T | None], what: str, timeout: float = 5.0
    ) -> T:
        deadline = time.monotonic() + timeout
        while True:
            events = self.events()
            result = check(events)
            if result:
                return result
            if time.monotonic() > deadline:
                lines = "\n".join(_describe(e) for e in events[-40:])
                pytest.fail(f"timed out waiting for {what}; last events:\n{lines}", pytrace=False)
            self.page.wait_for_timeout(20)

    def wait_state(
        self,
        check: Callable[[dict[str, Any]], object],
        what: str,
        since: int = 0,
        timeout: float = 5.0,
    ) -> dict[str, Any]:
        def find(events: list[Event]) -> dict[str, Any] | None:
            for e in events[since:]:
                if e.get("type") == "upscope.sessionState.update" and check(e["state"]):
                    return dict(e["state"])
            return None

        return self.wait_for(find, what, timeout)

    def wait_event(self, expected: Event, since: int = 0, timeout: float = 5.0) -> int:
        """Wait for an event equal to ``expected``; return its index."""

        def find(events: list[Event]) -> int | None:
            for i in range(since, len(events)):
                if events[i] == expected:
                    return i + 1  # +1 so that index 0 is truthy
            return None

        return self.wait_for(find, f"event {expected}", timeout) - 1

    def sync(self) -> dict[str, Any]:
        """Wait until every instruction sent so far has been handled (they run in order)."""
        self._syncs += 1
        color = f"#{self._syncs:06x}"
        mark = self.mark()
        self.send("switchColor", color=color)
        return self.wait_state(lambda st: st["color"] == color, f"sync {color}", mark)

    def ready(self) -> dict[str, Any]:
        return self.wait_state(lambda s: s["sessionStatus"] == "viewerReady", "viewerReady")

    def errors(self, since: int = 0) -> list[str]:
        return [e["error"] for e in self.events(since) if e.get("type") == "error"]

    def text(self, selector: str) -> str:
        result: str = self.frame.locator(selector).first.text_content()
        return result

    def visible(self, selector: str) -> bool:
        result: bool = self.frame.locator(selector).first.is_visible()
        return result


@pytest.fixture
def open_sim(browser: Any, host_url: str) -> Iterator[Callable[..., Sim]]:
    context = browser.new_context()

    def _open(**options: Any) -> Sim:
        options.setdefault("time_scale", FAST)
        options.setdefault("seed", 7)
        page = context.new_page()
        page.goto(host_url)
        origin = page.evaluate(
            "html => window.startSim(html)", build_page(SimulatorOptions(**options))
        )
        assert origin == host_url.rstrip("/")
        return Sim(page)

    try:
        yield _open
    finally:
        context.close()


@pytest.fixture
def sim(open_sim: Callable[..., Sim]) -> Sim:
    """A simulator that has reached viewerReady (defaults: time_scale 0.05, seed 7)."""
    s = open_sim()
    s.ready()
    return s


def _has(key: str, value: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda state: bool(state[key] == value)


def _differs(key: str, value: Any) -> Callable[[dict[str, Any]], bool]:
    return lambda state: bool(state[key] != value)


def _dedupe(values: list[Any]) -> list[Any]:
    out: list[Any] = []
    for v in values:
        if not out or out[-1] != v:
            out.append(v)
    return out


# ---------------------------------------------------------------- start-up and state shape


def test_startup_sequence_and_full_snapshots(open_sim: Callable[..., Sim]) -> None:
    s = open_sim()
    s.ready()
    records = s.records()
    statuses = [r["data"]["state"]["sessionStatus"] for r in records]
    assert statuses[: len(STARTUP)] == STARTUP
    for r in records:
        assert r["data"]["type"] == "upscope.sessionState.update"
        assert set(r["keys"]) == STATE_KEYS  # every snapshot is full (undefined keys too)

    waiting = records[0]["data"]["state"]
    assert waiting["connected"] is False
    assert waiting["visitor"] is None and waiting["mode"] is None and waiting["size"] is None
    assert waiting["activeConnectionId"] is None and waiting["currentUrl"] is None
    assert waiting["connections"] == []

    ready = s.state()
    assert ready["connected"] is True
    assert ready["visitor"] == DEFAULT_VISITOR
    assert ready["mode"] == "visitor_browser"
    assert ready["size"] == {"width": 800, "height": 600}
    assert ready["activeConnectionId"] == "conn-1"
    assert ready["currentUrl"] == SHOP + "/"
    assert [c["id"] for c in ready["connections"]] == ["conn-1", "conn-2"]
    assert [c["active"] for c in ready["connections"]] == [True, False]
    assert ready["connections"][1]["url"] == SHOP + "/products/trail-runner-2"
    assert ready["connections"][1]["title"].startswith("Trail Runner 2")
    assert ready["controlTool"] is None and ready["audioState"] == "off"
    assert ready["availableModes"] == ["visitor_browser", "visitor_screen", "agent_screen"]
    assert ready["agentIdleness"] == "active" and ready["observersCount"] == 1
    assert ready["dataBounceSpeed"] > 0
    # visible: the shop, the simulated badge, both tabs, the visitor, no cover
    assert "Simulated session" in s.text("#bar")
    assert s.text(".tab.on").startswith("Acme Outfitters")
    assert s.frame.locator(".tab").count() == 2
    assert "Grace Hopper" in s.text("#visitor-chip")
    assert s.text("#page h1") == "Gear for every trail"
    assert not s.visible("#cover")


def test_startup_with_authorization_passes_pending_request(open_sim: Callable[..., Sim]) -> None:
    s = open_sim(require_authorization=True, time_scale=0.5)
    s.wait_state(lambda st: st["sessionStatus"] == "pendingRequest", "pendingRequest")
    assert s.state()["visitor"] is None
    # the page draws on its next frame: wait for the text itself, not for the state
    expect(s.frame.locator("#cover-title")).to_contain_text("Waiting for Grace Hopper")
    s.ready()
    statuses = [st["sessionStatus"] for st in s.states()]
    assert statuses[:5] == [
        "waiting",
        "pendingRequest",
        "active",
        "snapshotReceived",
        "viewerReady",
    ]


def test_the_shop_shows_as_soon_as_the_viewer_is_ready(open_sim: Callable[..., Sim]) -> None:
    # at the real pace the next redraw (the latency drifting) comes seconds later
    s = open_sim(time_scale=1)
    s.ready()
    assert not s.visible("#cover")
    assert s.text("#page h1") == "Gear for every trail"


def test_time_scale_zero_still_passes_every_status(open_sim: Callable[..., Sim]) -> None:
    s = open_sim(time_scale=0, require_authorization=True)
    s.ready()
    statuses = [st["sessionStatus"] for st in s.states()]
    assert statuses[:5] == [
        "waiting",
        "pendingRequest",
        "active",
        "snapshotReceived",
        "viewerReady",
    ]


def test_instructions_before_ready_wait_for_the_viewer(open_sim: Callable[..., Sim]) -> None:
    s = open_sim(time_scale=0.5)
    s.send("setMode", mode="draw")  # right after load, like the widget's queued instructions
    ready_at = s.wait_for(
        lambda evs: next((i + 1 for i, e in enumerate(evs)
                          if e["state"]["sessionStatus"] == "viewerReady"), None),
        "viewerReady",
    )  # fmt: skip
    drawn = s.wait_state(lambda st: st["controlTool"] == "drawing", "controlTool drawing")
    assert drawn["sessionStatus"] == "viewerReady"
    assert all(st["controlTool"] is None for st in s.states()[:ready_at])


def test_data_bounce_speed_drifts_reproducibly_with_a_seed(open_sim: Callable[..., Sim]) -> None:
    def drift(seed: int) -> list[int]:
        s = open_sim(seed=seed)
        s.ready()
        s.wait_for(lambda evs: len(evs) >= 10, "drift snapshots")
        states = s.states()
        assert states[0]["dataBounceSpeed"] == 0  # nothing measured before the session starts
        values = _dedupe([st["dataBounceSpeed"] for st in states[1:]])
        s.page.close()
        return values[:5]

    first, again, other = drift(42), drift(42), drift(43)
    assert len(first) == 5
    assert first == again
    assert first != other
    assert all(isinstance(v, int) and 15 <= v <= 1500 for v in first + other)


def test_size_follows_the_viewer(sim: Sim) -> None:
    mark = sim.mark()
    sim.page.evaluate("document.getElementById('sim-frame').style.width = '640px'")
    state = sim.wait_state(lambda st: st["size"]["width"] == 640, "size.width 640", mark)
    assert state["size"] == {"width": 640, "height": 600}


# ---------------------------------------------------------------- the 20 instructions


def test_set_mode(sim: Sim) -> None:
    for mode, tool in [("draw", "drawing"), ("pointer", "pointer"), ("cursor", "cursor")]:
        mark = sim.mark()
        sim.send("setMode", mode=mode)
        sim.wait_state(_has("controlTool", tool), f"controlTool {tool}", mark)
        assert sim.frame.locator("#overlay").get_attribute("data-tool") == tool
        assert sim.text("#tool-name") == tool
    mark = sim.mark()
    sim.send("setMode", mode="lasso")  # invalid: no change
    sim.send("setMode", mode=None)
    sim.wait_state(lambda st: st["controlTool"] is None, "controlTool null", mark)
    assert all(st["controlTool"] in ("cursor", None) for st in sim.states(mark))
    assert sim.text("#tool-name") == "no tool"


def test_switch_color(sim: Sim) -> None:
    start = sim.state()["color"]
    mark = sim.mark()
    sim.send("switchColor")
    cycled = sim.wait_state(lambda st: st["color"] != start, "a new built-in color", mark)
    assert cycled["color"].startswith("#")
    mark = sim.mark()
    sim.send("switchColor", color="not a color")  # ignored
    sim.send("switchColor", color="#ff00aa")
    sim.wait_state(lambda st: st["color"] == "#ff00aa", "color #ff00aa", mark)
    assert all(st["color"] in (cycled["color"], "#ff00aa") for st in sim.states(mark))
    css = sim.frame.evaluate(
        "getComputedStyle(document.getElementById('sim')).getPropertyValue('--agent').trim()"
    )
    assert css == "#ff00aa"
    seen = []
    previous = "#ff00aa"
    for _ in range(6):  # cycling goes through the built-in colors and comes back
        mark = sim.mark()
        sim.send("switchColor")
        previous = sim.wait_state(_differs("color", previous), "next color", mark)["color"]
        seen.append(previous)
    assert len(set(seen)) == 5 and seen[0] == seen[5] and "#ff00aa" not in seen


def test_audio_and_mute(sim: Sim) -> None:
    mark = sim.mark()
    sim.send("toggleAudio", on=True)
    sim.wait_state(lambda st: st["audioState"] == "active", "audio active", mark)
    audio = _dedupe([st["audioState"] for st in sim.states(mark)])
    assert [a for a in audio if a != "off"] == ["ringing", "active"]
    assert "call active" in sim.text("#audio-chip")
    mark = sim.mark()
    sim.send("setMuted", muted=True)
    sim.wait_state(lambda st: st["muted"] is True, "muted", mark)
    assert "(muted)" in sim.text("#audio-chip")
    mark = sim.mark()
    sim.send("setMuted", muted="yes")  # invalid: ignored
    sim.send("setMuted", muted=False)
    sim.wait_state(lambda st: st["muted"] is False, "unmuted", mark)
    mark = sim.mark()
    sim.send("toggleAudio", on=False)
    sim.wait_state(lambda st: st["audioState"] == "off", "audio off", mark)
    assert not sim.visible("#audio-chip")


def test_video(sim: Sim) -> None:
    mark = sim.mark()
    sim.send("beginVideo")
    on = sim.wait_state(lambda st: st["isVideoOn"], "video on", mark)
    assert on["videoAgentState"] == "active:sim-agent-1"
    video = _dedupe([st["videoAgentState"] for st in sim.states(mark)])
    assert [v for v in video if v != "off"] == ["authorizing:sim-agent-1", "active:sim-agent-1"]
    assert sim.visible("#video")
    mark = sim.mark()
    sim.send("endVideo")
    off = sim.wait_state(lambda st: st["videoAgentState"] == "off", "video off", mark)
    assert off["isVideoOn"] is False
    assert not sim.visible("#video")
    mark = sim.mark()
    sim.send("toggleVideo")
    sim.wait_state(lambda st: st["videoAgentState"] == "active:sim-agent-1", "toggled on", mark)
    mark = sim.mark()
    sim.send("toggleVideo")
    sim.wait_state(lambda st: st["videoAgentState"] == "off" and not st["isVideoOn"], "off", mark)


def test_navigation_instructions(sim: Sim) -> None:
    def go(action: str, expected: str, **params: Any) -> dict[str, Any]:
        mark = sim.mark()
        sim.send(action, **params)
        return sim.wait_state(lambda st: st["currentUrl"] == expected, f"{action}", mark)

    go("setCurrentUrl", SHOP + "/products", url=SHOP + "/products")
    assert sim.text("#page h1") == "All products"
    assert sim.text("#addr-url") == SHOP + "/products"
    external = "https://docs.example.org/help?q=<b>"
    state = go("setCurrentUrl", external, url=external)
    assert state["connections"][0]["title"] == external
    assert sim.text("#page h1") == external  # a stand-in page titled with the URL
    go("historyBack", SHOP + "/products")
    go("historyBack", SHOP + "/")
    assert sim.text("#page h1") == "Gear for every trail"
    sim.send("historyBack")  # at the start of the history: no change
    assert sim.sync()["currentUrl"] == SHOP + "/"
    go("historyForward", SHOP + "/products")
    sim.send("reloadPage")
    assert sim.sync()["currentUrl"] == SHOP + "/products"
    sim.frame.locator("#page h1").wait_for()
    assert sim.text("#page h1") == "All products"
    mark = sim.mark()
    sim.send("setCurrentUrl", url="javascript:alert(1)")  # not http(s): ignored
    sim.send("setCurrentUrl", url=SHOP + "/cart")
    sim.wait_state(lambda st: st["currentUrl"] == SHOP + "/cart", "cart", mark)
    assert all(st["currentUrl"] != "javascript:alert(1)" for st in sim.states(mark))
    assert sim.text("#page h1") == "Your cart"


def test_set_active_connection_and_unknown_connection(sim: Sim) -> None:
    mark = sim.mark()
    sim.send("setActiveConnection", connectionId="conn-2")
    state = sim.wait_state(lambda st: st["activeConnectionId"] == "conn-2", "conn-2", mark)
    assert state["currentUrl"] == SHOP + "/products/trail-runner-2"
    assert [c["active"] for c in state["connections"]] == [False, True]
    assert sim.text(".tab.on small") == "conn-2"
    assert sim.text("#page h1") == "Trail Runner 2"
    mark = sim.mark()
    sim.send("setActiveConnection", connectionId="conn-404")
    sim.wait_event({"type": "error", "error": "connection:user_not_found"}, mark)
    sim.page.wait_for_timeout(150)
    assert all(st["activeConnectionId"] == "conn-2" for st in sim.states(mark))


def test_request_control_and_remote_clicks(sim: Sim) -> None:
    mark = sim.mark()
    sim.send("setMode", mode="cursor")
    sim.wait_state(lambda st: st["controlTool"] == "cursor", "cursor", mark)
    mark = sim.mark()
    sim.frame.click("#page .shopnav [data-href='/products']")  # not granted yet
    sim.wait_event({"type": "error", "error": "remote_control:inactive"}, mark)
    assert sim.state()["currentUrl"] == SHOP + "/"

    sim.send("requestControl")
    sim.frame.locator("#control-chip").wait_for(state="visible")
    assert "granted remote control" in sim.text("#banner")
    mark = sim.mark()
    sim.frame.click("#page .shopnav [data-href='/products']")
    sim.wait_state(lambda st: st["currentUrl"] == SHOP + "/products", "clicked to products", mark)
    sim.frame.click("#page .card[data-href='/products/camp-mug']")
    sim.wait_state(lambda st: st["currentUrl"] == SHOP + "/products/camp-mug", "mug page", mark)
    sim.frame.click("#page [data-act='add']")
    sim.wait_state(lambda st: st["currentUrl"] == SHOP + "/cart", "cart", mark)
    assert sim.text("#cart-link") == "Cart (2)"
    mark = sim.mark()
    sim.frame.click("#page [data-deny='click']")
    sim.wait_event({"type": "error", "error": "remote_control:click_not_allowed"}, mark)
    sim.frame.locator("#page input[name='card']").press_sequentially("42")
    sim.wait_event({"type": "error", "error": "remote_control:type_not_allowed"}, mark)
    assert sim.frame.locator("#page input[name='card']").input_value() == ""
    sim.frame.locator("#page input[name='name']").press_sequentially("Ada")
    assert sim.frame.locator("#page input[name='name']").input_value() == "Ada"


def test_full_tab(sim: Sim) -> None:
    mark = sim.mark()
    sim.send("requestFullTab")
    sim.wait_state(lambda st: st["mode"] == "visitor_screen", "visitor_screen", mark)
    assert sim.visible("#taskbar")
    mark = sim.mark()
    sim.send("stopFullTab")
    sim.wait_state(lambda st: st["mode"] == "visitor_browser", "visitor_browser", mark)
    assert not sim.visible("#taskbar")


def test_force_refresh(sim: Sim) -> None:
    mark = sim.mark()
    sim.send("forceRefresh")

    def refreshed(events: list[Event]) -> bool:
        statuses = [st["sessionStatus"] for st in sim.states(mark)]
        return "snapshotReceived" in statuses and statuses[-1] == "viewerReady"

    sim.wait_for(refreshed, "snapshotReceived then viewerReady")
    statuses = [st["sessionStatus"] for st in sim.states(mark)]
    assert set(statuses) == {"snapshotReceived", "viewerReady"}
    assert sim.frame.locator("#flash").get_attribute("data-count") == "1"


def test_console_command_when_allowed(open_sim: Callable[..., Sim]) -> None:
    s = open_sim(allow_console=True)
    s.ready()
    s.send("runConsoleCommand", command="document.title")
    s.sync()
    lines = s.frame.locator("#console-pane div").all_text_contents()
    assert lines == [
        "document.title",
        json.dumps("Acme Outfitters \u2014 Gear for every trail", ensure_ascii=False),
    ]
    hostile = '<img src=x onerror="parent.pwned=1">'
    s.send("runConsoleCommand", command=hostile)
    s.frame.locator("#console-pane div").nth(3).wait_for()
    assert s.frame.locator("#console-pane div").nth(2).text_content() == hostile
    assert s.frame.locator("img").count() == 0
    assert s.page.evaluate("window.pwned") is None
    assert s.errors() == []
    assert s.visible("#console-pane")


def test_console_command_refused_by_default(sim: Sim) -> None:
    mark = sim.mark()
    sim.send("runConsoleCommand", command="location.href")
    sim.wait_event({"type": "error", "error": "remote_control:element_not_allowed"}, mark)
    assert not sim.visible("#console-pane")
    assert sim.frame.locator("#console-pane div").count() == 0


def test_send_custom_message_gets_a_reply(sim: Sim) -> None:
    mark = sim.mark()
    message = {"kind": "coupon", "code": "TRAIL10", "nested": [1, {"x": None}]}
    sim.send("sendCustomMessage", message=message)
    sim.wait_event(
        {"type": "customMessage",
         "message": {"reply": "Thanks, I got your message!", "received": message}},
        mark,
    )  # fmt: skip
    assert "TRAIL10" in sim.text("#toast-body")


def test_emoji_confetti(sim: Sim) -> None:
    sim.send("emojiConfetti", emoji="\U0001f389")
    sim.sync()
    pieces = sim.frame.locator("#confetti .piece")
    assert pieces.count() > 10
    assert set(pieces.all_text_contents()) == {"\U0001f389"}


def test_end_session_and_nothing_afterwards(sim: Sim) -> None:
    mark = sim.mark()
    sim.send("endSession")
    index = sim.wait_event({"type": "sessionEnded", "reason": "ended"}, mark)
    states = sim.states(mark)
    assert states[-1]["sessionStatus"] == "terminated"
    assert states[-1]["connected"] is False
    assert sim.events()[index - 1]["type"] == "upscope.sessionState.update"
    assert "Session ended" in sim.text("#cover-title")
    count = sim.mark()
    sim.send("setMode", mode="draw")
    sim.send("endSession")
    sim.control.navigate(SHOP + "/cart")
    sim.send_raw({"action": 42})
    sim.page.wait_for_timeout(500)  # several drift periods at time_scale 0.05
    assert sim.mark() == count  # no drift, no answers


def test_unknown_and_malformed_instructions_are_ignored(sim: Sim) -> None:
    mark = sim.mark()
    for bad in [{"action": "selfDestruct"}, {"action": "constructor"}, {"action": "__proto__"},
                {"action": None}, {"no": "action"}, ["setMode", "draw"], "setMode", 7, None,
                {"action": "setMode"}, {"action": "setCurrentUrl", "url": 5},
                {"action": "sendCustomMessage", "message": [1]},
                {"action": "emojiConfetti", "emoji": ""}]:  # fmt: skip
        sim.send_raw(bad)  # type: ignore[arg-type]
    sim.send("setMode", mode="pointer")
    sim.wait_state(lambda st: st["controlTool"] == "pointer", "still answering", mark)
    assert sim.errors(mark) == []
    assert all(e["type"] == "upscope.sessionState.update" for e in sim.events(mark))


def test_messages_from_other_sources_are_ignored(sim: Sim) -> None:
    mark = sim.mark()
    # from the simulator's own window (same origin, wrong source)
    sim.frame.evaluate("window.postMessage({action: 'setMode', mode: 'draw'}, location.origin)")
    # from a same-origin sibling frame of the host page
    sim.page.evaluate(
        """() => {
            const sib = document.createElement('iframe');
            document.body.appendChild(sib);
            const target = document.getElementById('sim-frame').contentWindow;
            sib.contentWindow.eval('(w, o) => w.postMessage({action: "setMode", mode: "draw"}, o)')(
                target, location.origin);
            sib.contentWindow.eval('(w, o) => w.postMessage({action: "upscope-sim:end",'
                + ' reason: "error"}, o)')(target, location.origin);
        }"""
    )
    sim.page.wait_for_timeout(300)
    assert all(st["controlTool"] is None for st in sim.states(mark))
    assert sim.errors(mark) == []
    sim.send("setMode", mode="cursor")
    sim.wait_state(lambda st: st["controlTool"] == "cursor", "the parent is obeyed", mark)


def test_visitor_fields_are_rendered_as_text(open_sim: Callable[..., Sim]) -> None:
    evil = '</script><img src=x onerror="parent.pwned=1">\u2028&amp;'
    s = open_sim(visitor={"callName": evil, "browserName": "<b>Firefox</b>", "shortId": "X1"})
    ready = s.ready()
    assert ready["visitor"]["callName"] == evil
    assert evil in s.text("#visitor-chip")
    assert "<b>Firefox</b>" in s.text("#visitor-chip")
    assert s.frame.locator("img").count() == 0
    assert s.page.evaluate("window.pwned") is None


# ---------------------------------------------------------------- simulator control messages


def test_control_visitor_sends(sim: Sim) -> None:
    mark = sim.mark()
    sim.control.visitor_sends({"intent": "help", "items": [1, 2.5, True, None, "<i>x</i>"]})
    sim.wait_event(
        {"type": "customMessage",
         "message": {"intent": "help", "items": [1, 2.5, True, None, "<i>x</i>"]}},
        mark,
    )  # fmt: skip
    assert "<i>x</i>" in sim.text("#toast-body")


def test_control_tabs(sim: Sim) -> None:
    mark = sim.mark()
    new_id = sim.control.open_tab("https://shop.acme-outfitters.example/cart")
    state = sim.wait_state(
        lambda st: any(c["id"] == new_id for c in st["connections"]), "new tab", mark
    )
    assert state["activeConnectionId"] == "conn-1"  # opening a tab does not switch the view
    assert state["connections"][-1] == {
        "id": new_id, "url": SHOP + "/cart", "title": "Your cart \u2014 Acme Outfitters",
        "active": False}  # fmt: skip
    assert sim.frame.locator(".tab").count() == 3

    mark = sim.mark()
    sim.control.close_tab("conn-2")  # not the active one
    state = sim.wait_state(lambda st: len(st["connections"]) == 2, "conn-2 closed", mark)
    assert [c["id"] for c in state["connections"]] == ["conn-1", new_id]
    assert state["activeConnectionId"] == "conn-1"

    mark = sim.mark()
    sim.control.close_tab("conn-unknown")  # ignored
    sim.control.close_tab("conn-1")  # the active one: the view moves to another tab
    state = sim.wait_state(lambda st: len(st["connections"]) == 1, "conn-1 closed", mark)
    assert state["activeConnectionId"] == new_id
    assert state["currentUrl"] == SHOP + "/cart"
    assert sim.text("#page h1") == "Your cart"

    mark = sim.mark()
    sim.control.close_tab(new_id)  # the last one: the visitor is gone
    state = sim.wait_state(lambda st: not st["connections"], "no tabs", mark)
    assert state["connected"] is False and state["currentUrl"] is None
    assert state["activeConnectionId"] is None
    assert sim.errors(mark) == ["connection:user_not_online"]
    assert "Visitor offline" in sim.text("#cover-title")

    mark = sim.mark()
    back_id = sim.control.open_tab("https://shop.acme-outfitters.example/")
    state = sim.wait_state(
        lambda st: st["connected"] and st["sessionStatus"] == "viewerReady", "back online", mark
    )
    assert state["activeConnectionId"] == back_id
    assert _dedupe([st["sessionStatus"] for st in sim.states(mark)])[:3] == STARTUP[1:]
    assert not sim.visible("#cover")


def test_control_navigate(sim: Sim) -> None:
    mark = sim.mark()
    sim.control.navigate("https://shop.acme-outfitters.example/products/summit-parka")
    sim.wait_state(lambda st: st["currentUrl"].endswith("/summit-parka"), "visitor navigated", mark)
    assert sim.text("#page h1") == "Summit Parka"
    mark = sim.mark()
    sim.send("historyBack")  # the visitor's navigation is in the history
    sim.wait_state(lambda st: st["currentUrl"] == SHOP + "/", "back home", mark)


def test_control_raise_error(sim: Sim) -> None:
    mark = sim.mark()
    sim.control.raise_error("connection:expired")
    sim.control.raise_error("custom:made-up")
    sim.wait_for(lambda evs: len(sim.errors(mark)) == 2, "two errors")
    assert sim.errors(mark) == ["connection:expired", "custom:made-up"]
    assert sim.state()["connected"] is True


def test_control_disconnect_and_come_back(sim: Sim) -> None:
    mark = sim.mark()
    sim.control.disconnect()
    error_at = sim.wait_event({"type": "error", "error": "connection:user_not_online"}, mark)
    state = sim.wait_state(lambda st: st["connected"] is False, "offline", mark)
    offline_at = next(i for i, e in enumerate(sim.events())
                      if i >= mark and e.get("state", {}).get("connected") is False)  # fmt: skip
    assert error_at < offline_at
    assert state["sessionStatus"] == "viewerReady"
    assert [c["id"] for c in state["connections"]] == ["conn-1", "conn-2"]
    assert "Visitor offline" in sim.text("#cover-title")
    sim.page.wait_for_timeout(300)
    assert sim.states()[-1]["connected"] is False  # no drift snapshots while offline

    mark = sim.mark()
    sim.send("setCurrentUrl", url=SHOP + "/cart")  # needs the visitor
    sim.wait_event({"type": "error", "error": "connection:user_not_online"}, mark)
    sim.send("setMode", mode="pointer")  # agent-side: still works
    sim.wait_state(lambda st: st["controlTool"] == "pointer", "pointer while offline", mark)
    assert all(st["currentUrl"] == SHOP + "/" for st in sim.states(mark))

    mark = sim.mark()
    sim.control.navigate(SHOP + "/products")  # the visitor is back
    sim.wait_state(
        lambda st: st["connected"] and st["sessionStatus"] == "viewerReady"
        and st["currentUrl"] == SHOP + "/products", "back online", mark,
    )  # fmt: skip
    assert _dedupe([st["sessionStatus"] for st in sim.states(mark)])[:3] == STARTUP[1:]


def test_control_end_with_error(sim: Sim) -> None:
    mark = sim.mark()
    sim.control.end("error")
    end_index = sim.wait_event({"type": "sessionEnded", "reason": "error"}, mark)
    events = sim.events()
    error_index = events.index({"type": "error", "error": "connection:data"}, mark)
    terminated = [i for i in range(mark, len(events))
                  if events[i].get("state", {}).get("sessionStatus") == "terminated"]  # fmt: skip
    assert error_index < terminated[0] < end_index
    assert "error" in sim.text("#cover-text")


def test_control_end_normally(sim: Sim) -> None:
    mark = sim.mark()
    sim.control.end()
    sim.wait_event({"type": "sessionEnded", "reason": "ended"}, mark)
    assert sim.errors(mark) == []


# ---------------------------------------------------------------- latency


def _answer_delay(sim: Sim, mode: str, tool: str) -> float:
    mark = sim.mark()
    sim.send("setMode", mode=mode)
    sim.wait_state(lambda st: st["controlTool"] == tool, f"controlTool {tool}", mark)
    records = sim.records()
    sent_at: float = sim.page.evaluate("window.sent[window.sent.length - 1].t")
    answered = next(
        r["t"] for r in records[mark:] if r["data"].get("state", {}).get("controlTool") == tool
    )
    return float(answered - sent_at)


def test_latency_option_delays_answers_in_order(open_sim: Callable[..., Sim]) -> None:
    s = open_sim(latency_ms=400)
    s.ready()
    assert _answer_delay(s, "draw", "drawing") >= 350
    color = s.state()["color"]
    mark = s.mark()
    s.send("setMode", mode="pointer")
    s.send("switchColor", color="#123456")
    s.send("setMode", mode="cursor")
    s.wait_state(lambda st: st["controlTool"] == "cursor", "cursor", mark)
    answers = _dedupe([(st["controlTool"], st["color"]) for st in s.states(mark)])
    assert [a for a in answers if a != ("drawing", color)] == [
        ("pointer", color), ("pointer", "#123456"), ("cursor", "#123456")]  # fmt: skip


def test_set_latency_control(sim: Sim) -> None:
    sim.control.set_latency(400)
    assert _answer_delay(sim, "draw", "drawing") >= 350
    sim.control.set_latency(0)
    assert _answer_delay(sim, "cursor", "cursor") < 350
