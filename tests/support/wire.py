"""Wire-format helpers for tests: snapshots and frontend batches."""

from __future__ import annotations

from typing import Any


def snapshot(**overrides: Any) -> dict[str, Any]:
    """A complete, valid EmbeddedSessionState in wire form."""
    state: dict[str, Any] = {
        "activeConnectionId": "c1",
        "agentIdleness": "active",
        "audioState": "off",
        "availableModes": ["visitor_browser", "visitor_screen"],
        "color": "#ff5500",
        "connected": True,
        "connections": [{"id": "c1", "url": "https://shop.example/"}],
        "controlTool": None,
        "currentUrl": "https://shop.example/",
        "dataBounceSpeed": 120,
        "isVideoOn": False,
        "mode": "visitor_browser",
        "muted": False,
        "observersCount": 1,
        "sessionStatus": "viewerReady",
        "size": {"width": 1280, "height": 720},
        "videoAgentState": "off",
        "videoVisitorState": "off",
        "viewerAudioAvailable": True,
        "visitor": {"shortId": "abc123", "callName": "Grace Hopper"},
        "visitorAudioAvailable": True,
    }
    state.update(overrides)
    return state


def full(state: dict[str, Any]) -> dict[str, Any]:
    """A batch item carrying a whole snapshot (what the frontend sends first)."""
    return {"s": state, "f": True}


def batch(*items: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {"kind": "batch", "events": list(items), **extra}


#: Every instruction method (and send_instruction) with the exact message it must post.
INSTRUCTION_CASES = [
    (lambda s: s.end_session(), {"action": "endSession"}),
    (lambda s: s.set_mode("draw"), {"action": "setMode", "mode": "draw"}),
    (lambda s: s.set_mode(None), {"action": "setMode", "mode": None}),
    (lambda s: s.switch_color(), {"action": "switchColor"}),
    (lambda s: s.switch_color("#ff0000"), {"action": "switchColor", "color": "#ff0000"}),
    (lambda s: s.toggle_audio(True), {"action": "toggleAudio", "on": True}),
    (lambda s: s.toggle_video(), {"action": "toggleVideo"}),
    (lambda s: s.set_muted(False), {"action": "setMuted", "muted": False}),
    (lambda s: s.begin_video(), {"action": "beginVideo"}),
    (lambda s: s.end_video(), {"action": "endVideo"}),
    (lambda s: s.force_refresh(), {"action": "forceRefresh"}),
    (lambda s: s.history_back(), {"action": "historyBack"}),
    (lambda s: s.history_forward(), {"action": "historyForward"}),
    (lambda s: s.reload_page(), {"action": "reloadPage"}),
    (lambda s: s.request_control(), {"action": "requestControl"}),
    (lambda s: s.request_full_tab(), {"action": "requestFullTab"}),
    (lambda s: s.run_console_command("console.log(1)"),
     {"action": "runConsoleCommand", "command": "console.log(1)"}),
    (lambda s: s.send_custom_message({"a": [1, {"b": None}]}),
     {"action": "sendCustomMessage", "message": {"a": [1, {"b": None}]}}),
    (lambda s: s.set_active_connection("c2"),
     {"action": "setActiveConnection", "connectionId": "c2"}),
    (lambda s: s.set_current_url("https://shop.example/cart"),
     {"action": "setCurrentUrl", "url": "https://shop.example/cart"}),
    (lambda s: s.stop_full_tab(), {"action": "stopFullTab"}),
    (lambda s: s.emoji_confetti("🎉"), {"action": "emojiConfetti", "emoji": "🎉"}),
    (lambda s: s.send_instruction("futureThing", level=3, allow_unknown=True),
     {"action": "futureThing", "level": 3}),
    (lambda s: s.send_instruction("setActiveConnection", connectionId="c9"),
     {"action": "setActiveConnection", "connectionId": "c9"}),
]
