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
