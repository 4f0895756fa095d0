"""Unit tests of the simulator's Python side: SimulatorControl, SimulatorOptions, build_page."""

from __future__ import annotations

import base64
import hashlib
import json
import math
import re
from importlib.resources import files
from typing import Any

import pytest

from upscope_widget.simulator import (
    CONTROL_ACTIONS,
    CONTROL_PREFIX,
    DEFAULT_VISITOR,
    REPLAY_ACTIONS,
    SimulatorControl,
    SimulatorOptions,
    build_page,
)

# The 20 instruction actions of the protocol (spec: embedded-session-control.md).
PROTOCOL_INSTRUCTIONS = [
    "endSession", "setMode", "switchColor", "toggleAudio", "toggleVideo", "setMuted",
    "beginVideo", "endVideo", "forceRefresh", "historyBack", "historyForward", "reloadPage",
    "requestControl", "requestFullTab", "runConsoleCommand", "sendCustomMessage",
    "setActiveConnection", "setCurrentUrl", "stopFullTab", "emojiConfetti",
]  # fmt: skip
PROTOCOL_EVENTS = ["upscope.sessionState.update", "sessionEnded", "customMessage", "error"]
PROTOCOL_ERRORS = {
    "connection:authentication", "connection:data", "connection:user_not_found",
    "connection:user_not_online", "connection:expired", "connection:version_not_supported",
    "remote_control:inactive", "remote_control:element_not_allowed",
    "remote_control:click_not_allowed", "remote_control:type_not_allowed",
    "remote_control:scroll_not_allowed",
}  # fmt: skip
METHODS = ["visitor_sends", "open_tab", "close_tab", "navigate", "raise_error", "disconnect",
           "set_latency", "end"]  # fmt: skip


def page_source() -> str:
    # The page as the package ships it: built by `npm run build` from js/simulator/.
    page = files("upscope_widget") / "static" / "simulator.html"
    return page.read_text(encoding="utf-8")


class Recorder:
    def __init__(self) -> None:
        self.posted: list[dict[str, Any]] = []

    def __call__(self, message: dict[str, Any]) -> None:
        self.posted.append(message)


@pytest.fixture
def rec() -> Recorder:
    return Recorder()


@pytest.fixture
def control(rec: Recorder) -> SimulatorControl:
    return SimulatorControl(post=rec)


# ---------------------------------------------------------------- the action table


def test_control_action_table() -> None:
    assert sorted(CONTROL_ACTIONS) == sorted(METHODS)
    for method, action in CONTROL_ACTIONS.items():
        assert callable(getattr(SimulatorControl, method))
        assert action.startswith(CONTROL_PREFIX)
    with pytest.raises(TypeError):
        CONTROL_ACTIONS["x"] = "y"  # type: ignore[index]


def test_page_knows_every_control_action_and_no_other() -> None:
    page = page_source()
    for action in CONTROL_ACTIONS.values():
        assert f'"{action}"' in page, action
    in_page = set(re.findall(r'"(upscope-sim:[A-Za-z]+)"', page))
    assert in_page == set(CONTROL_ACTIONS.values()) | set(REPLAY_ACTIONS.values())


def test_page_handles_every_protocol_instruction() -> None:
    page = page_source()
    for action in PROTOCOL_INSTRUCTIONS:  # the handlers: tests/unit/test_simulator_source.py
        assert f'"{action}"' in page, action
    assert len(set(PROTOCOL_INSTRUCTIONS)) == 20
    for event in PROTOCOL_EVENTS:
        assert f'"{event}"' in page, event


def test_page_only_raises_protocol_error_codes() -> None:
    used = set(re.findall(r'"((?:connection|remote_control):[a-z_]+)"', page_source()))
    assert used
    assert used <= PROTOCOL_ERRORS, used - PROTOCOL_ERRORS


# ---------------------------------------------------------------- posted messages


def test_messages_posted(control: SimulatorControl, rec: Recorder) -> None:
    control.visitor_sends({"a": 1, "b": [True, None, 2.5, "x"], "c": {"d": "e"}})
    control.close_tab("conn-2")
    control.navigate("https://shop.example/cart?x=1#top")
    control.raise_error("connection:expired")
    control.disconnect()
    control.set_latency(250)
    control.end()
    control.end("error")
    assert rec.posted == [
        {"action": "upscope-sim:visitorSends",
         "message": {"a": 1, "b": [True, None, 2.5, "x"], "c": {"d": "e"}}},
        {"action": "upscope-sim:closeTab", "connectionId": "conn-2"},
        {"action": "upscope-sim:navigate", "url": "https://shop.example/cart?x=1#top"},
        {"action": "upscope-sim:raiseError", "code": "connection:expired"},
        {"action": "upscope-sim:disconnect"},
        {"action": "upscope-sim:setLatency", "ms": 250},
        {"action": "upscope-sim:end", "reason": "ended"},
        {"action": "upscope-sim:end", "reason": "error"},
    ]  # fmt: skip


def test_open_tab_returns_the_new_connection_id(control: SimulatorControl, rec: Recorder) -> None:
    first = control.open_tab("http://localhost:8000/")
    second = control.open_tab("https://shop.example/")
    assert re.fullmatch(r"conn-[0-9a-f]{8}", first)
    assert first != second
    assert rec.posted == [
        {"action": "upscope-sim:openTab", "url": "http://localhost:8000/", "connectionId": first},
        {"action": "upscope-sim:openTab", "url": "https://shop.example/", "connectionId": second},
    ]


def test_visitor_sends_posts_a_copy(control: SimulatorControl, rec: Recorder) -> None:
    message: dict[str, Any] = {"items": [1, 2], "meta": {"k": "v"}}
    control.visitor_sends(message)
    message["items"].append(3)
    message["meta"]["k"] = "changed"
    assert rec.posted[0]["message"] == {"items": [1, 2], "meta": {"k": "v"}}


def test_unknown_error_codes_are_allowed(control: SimulatorControl, rec: Recorder) -> None:
    control.raise_error("my:own-code")
    assert rec.posted == [{"action": "upscope-sim:raiseError", "code": "my:own-code"}]


def test_post_must_be_callable() -> None:
    with pytest.raises(TypeError, match="post must be callable"):
        SimulatorControl(post="not callable")  # type: ignore[arg-type]


# ---------------------------------------------------------------- validation


def _cycle() -> dict[str, Any]:
    d: dict[str, Any] = {}
    d["self"] = d
    return d


@pytest.mark.parametrize(
    ("message", "fragment"),
    [
        (["not", "an", "object"], "message must be a JSON object"),
        ("text", "message must be a JSON object"),
        (None, "message must be a JSON object"),
        ({1: "int key"}, "the key 1 of type int"),
        ({"a": {"b": {2, 3}}}, "message['a']['b'] is {2, 3} of type set"),
        ({"a": math.nan}, "message['a'] is nan"),
        ({"a": math.inf}, "message['a'] is inf"),
        ({"a": b"bytes"}, "of type bytes"),
        ({"when": object()}, "message['when']"),
        (_cycle(), "reference cycle"),
    ],
)
def test_visitor_sends_rejects_non_json(
    control: SimulatorControl, rec: Recorder, message: Any, fragment: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(fragment)):
        control.visitor_sends(message)
    assert rec.posted == []


def test_visitor_sends_rejects_too_deep(control: SimulatorControl, rec: Recorder) -> None:
    deep: dict[str, Any] = {}
    node = deep
    for _ in range(100):
        node["n"] = {}
        node = node["n"]
    with pytest.raises(ValueError, match="nested deeper than"):
        control.visitor_sends(deep)
    assert rec.posted == []


BAD_URLS = [
    "ftp://example.com/file", "javascript:alert(1)", "/relative/path", "example.com",
    "https://", "http:///path", "https://exa mple.com/", "https://exa\nmple.com/",
    "", "data:text/html,hi", 42, None,
]  # fmt: skip


@pytest.mark.parametrize("url", BAD_URLS)
@pytest.mark.parametrize("method", ["open_tab", "navigate"])
def test_urls_must_be_absolute_http(
    control: SimulatorControl, rec: Recorder, method: str, url: Any
) -> None:
    with pytest.raises(ValueError, match=r"an absolute http: or https: URL") as info:
        getattr(control, method)(url)
    assert repr(url)[:20] in str(info.value)
    assert rec.posted == []


@pytest.mark.parametrize("value", ["", "   ", 5, None, "x" * 201])
def test_close_tab_and_raise_error_need_text(
    control: SimulatorControl, rec: Recorder, value: Any
) -> None:
    with pytest.raises(ValueError, match="connection_id must be a non-empty str"):
        control.close_tab(value)
    with pytest.raises(ValueError, match="code must be a non-empty str"):
        control.raise_error(value)
    assert rec.posted == []


@pytest.mark.parametrize("ms", [-1, True, False, 1.5, 100.0, "10", None, 600_001])
def test_set_latency_is_a_strict_int(control: SimulatorControl, rec: Recorder, ms: Any) -> None:
    with pytest.raises(ValueError, match=r"ms must be an int from 0 to 600000") as info:
        control.set_latency(ms)
    assert repr(ms) in str(info.value)
    assert rec.posted == []


def test_set_latency_bounds_are_allowed(control: SimulatorControl, rec: Recorder) -> None:
    control.set_latency(0)
    control.set_latency(600_000)
    assert [m["ms"] for m in rec.posted] == [0, 600_000]


@pytest.mark.parametrize("reason", ["done", "Ended", "", None, 1])
def test_end_reason(control: SimulatorControl, rec: Recorder, reason: Any) -> None:
    with pytest.raises(ValueError, match=r"reason must be one of 'ended', 'error'") as info:
        control.end(reason)
    assert repr(reason) in str(info.value)
    assert rec.posted == []


# ---------------------------------------------------------------- options and build_page


def options_json(html: str) -> tuple[str, Any]:
    match = re.search(
        r'<script id="upscope-sim-options" type="application/json">(.*?)</script>', html, re.S
    )
    assert match
    return match.group(1), json.loads(match.group(1))


def test_build_page_injects_options() -> None:
    html = build_page(
        SimulatorOptions(
            require_authorization=True, allow_console=True, visitor={"callName": "Ada"},
            seed=-1, time_scale=0.25, latency_ms=40,
        )
    )  # fmt: skip
    _, injected = options_json(html)
    assert injected == {
        "requireAuthorization": True, "allowConsole": True, "visitor": {"callName": "Ada"},
        "seed": 0xFFFFFFFF, "timeScale": 0.25, "latencyMs": 40,
    }  # fmt: skip
    assert "__UPSCOPE_SIM_OPTIONS__" not in html
    assert "__UPSCOPE_SIM_SCRIPT_HASH__" not in html


def test_build_page_defaults() -> None:
    _, injected = options_json(build_page())
    assert injected == {
        "requireAuthorization": False, "allowConsole": False, "visitor": DEFAULT_VISITOR,
        "seed": None, "timeScale": 1.0, "latencyMs": 0,
    }  # fmt: skip
    assert DEFAULT_VISITOR["callName"] == "Grace Hopper"
    assert build_page(SimulatorOptions()) == build_page(None)


def test_build_page_escapes_script_breakers() -> None:
    evil = "</script><script>alert(1)</script><!-- & \u2028\u2029 </SCRIPT >"
    html = build_page(SimulatorOptions(visitor={"callName": evil, evil: [evil]}))
    raw, injected = options_json(html)
    assert injected["visitor"] == {"callName": evil, evil: [evil]}
    for char in "<>&\u2028\u2029":
        assert char not in raw
    assert html.lower().count("</script") == 2  # the options and the main script, nothing else
    assert html.count("alert(1)") == 3  # the three copies inside the JSON, escaped


def test_page_content_security_policy_matches_the_script() -> None:
    html = build_page()
    scripts = re.findall(r"<script>(.*?)</script>", html, re.S)
    assert len(scripts) == 1
    digest = base64.b64encode(hashlib.sha256(scripts[0].encode()).digest()).decode()
    csp = re.search(r'http-equiv="Content-Security-Policy" content="([^"]*)"', html)
    assert csp
    assert f"script-src 'sha256-{digest}'" in csp.group(1)
    assert "default-src 'none'" in csp.group(1)


def test_page_is_self_contained_and_small() -> None:
    html = build_page()
    assert len(html.encode("utf-8")) < 60_000
    assert not re.search(r"\s(?:src|href)\s*=", html, re.I)
    for api in ("fetch(", "XMLHttpRequest", "WebSocket", "import(", "innerHTML", "outerHTML",
                "insertAdjacentHTML", "document.write", "eval("):  # fmt: skip
        assert api not in html, api


@pytest.mark.parametrize(
    ("kwargs", "field", "fragment"),
    [
        ({"time_scale": -0.5}, "time_scale", "greater than or equal to 0"),
        ({"time_scale": math.inf}, "time_scale", "finite"),
        ({"time_scale": 1000}, "time_scale", "less than or equal to 100"),
        ({"time_scale": "1"}, "time_scale", "valid number"),
        ({"require_authorization": "yes"}, "require_authorization", "valid boolean"),
        ({"allow_console": 1}, "allow_console", "valid boolean"),
        ({"latency_ms": -5}, "latency_ms", "greater than or equal to 0"),
        ({"latency_ms": 1.5}, "latency_ms", "valid integer"),
        ({"latency_ms": True}, "latency_ms", "valid integer"),
        ({"seed": "7"}, "seed", "valid integer"),
        ({"visitor": ["x"]}, "visitor", "valid dictionary"),
        ({"visitor": {"tags": {"a"}}}, "visitor", "visitor['tags'] is {'a'} of type set"),
        ({"visitor": {"x": math.nan}}, "visitor", "visitor['x'] is nan"),
        ({"visitor": {1: "a"}}, "visitor", "valid string"),
        ({"latency": 3}, "latency", "Extra inputs are not permitted"),
    ],
)
def test_options_reject_bad_values(kwargs: dict[str, Any], field: str, fragment: str) -> None:
    with pytest.raises(ValueError) as info:
        SimulatorOptions(**kwargs)
    message = str(info.value)
    assert field in message
    assert fragment in message


def test_options_accept_good_values() -> None:
    options = SimulatorOptions(time_scale=0, latency_ms=0, seed=123, visitor={})
    assert options.time_scale == 0.0
    assert SimulatorOptions(time_scale=2).time_scale == 2.0  # an int is a fine float
    with pytest.raises(ValueError, match="frozen"):
        options.seed = 5  # type: ignore[misc]
