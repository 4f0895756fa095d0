"""A comm that records what the widget sends, for driving a real widget without a kernel.

Everything above the comm (ipywidgets, anywidget, UpscopeSession) runs for real; only the
transport is replaced. Install it with :func:`recording_comms` before creating widgets.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import comm
from comm.base_comm import BaseComm


class RecordingComm(BaseComm):  # type: ignore[misc]
    """Keeps every message the kernel side would send to the frontend."""

    def __init__(self, **kwargs: Any) -> None:
        self.sent: list[dict[str, Any]] = []
        self.opened: dict[str, Any] | None = None
        self.page = "page-1"
        self.greeted = False
        super().__init__(**kwargs)

    def publish_msg(self, msg_type: str, data: Any = None, metadata: Any = None,
                    buffers: Any = None, **keys: Any) -> None:
        if msg_type == "comm_open":
            self.opened = data
        elif msg_type == "comm_msg":
            self.sent.append(data)

    def customs(self) -> list[Any]:
        """The custom messages (``model.send`` payloads) sent so far."""
        return [m["content"] for m in self.sent if m.get("method") == "custom"]

    def updates(self) -> list[dict[str, Any]]:
        """The trait updates sent so far (``{"name": value}`` dicts)."""
        return [m["state"] for m in self.sent if m.get("method") == "update"]

    def from_frontend(self, content: Any) -> None:
        """Deliver a custom message as the frontend's ``model.send(content)`` would.

        Like the real frontend, every message names its page: a message without a
        ``"frontend"`` key gets the page of the latest hello (``"page-1"`` before any); pass
        ``"frontend": None`` to send one without. A batch (or load timeout) before any hello is
        preceded by the hello a real page always sends first.
        """
        if isinstance(content, dict) and "frontend" not in content:
            content = {**content, "frontend": self.page}
        if isinstance(content, dict) and content.get("kind") == "hello":
            self.greeted = True
            if isinstance(content.get("frontend"), str):
                self.page = content["frontend"]
        elif isinstance(content, dict) and content.get("kind") in ("batch", "loadTimeout") \
                and not self.greeted:
            self.from_frontend({"kind": "hello", "posted": 0, "frontend": content["frontend"]})
        self._deliver(content)

    def _deliver(self, content: Any) -> None:
        self.handle_msg({"content": {"data": {"method": "custom", "content": content}},
                         "buffers": []})


@contextmanager
def recording_comms() -> Iterator[list[RecordingComm]]:
    """Make every widget created inside the block use a RecordingComm; yields them all."""
    made: list[RecordingComm] = []
    original = comm.create_comm

    def create(**kwargs: Any) -> RecordingComm:
        c = RecordingComm(**kwargs)
        made.append(c)
        return c

    comm.create_comm = create
    try:
        yield made
    finally:
        comm.create_comm = original
