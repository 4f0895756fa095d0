"""The kernel <-> frontend transport: message kinds, the numbered outbox, the inbound decoder.

These names are ours, not the vendor's; ``js/protocol.ts`` spells the same ones (a unit test
fails if the two drift). Browser -> kernel data travels as custom messages, never as traitlet
writes from JS: those are merged by ipywidgets and stall under ipykernel 7.4 after an awaiting
cell (see the notes in ``shared/notes``).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from . import protocol

# kernel -> frontend
INSTRUCTIONS = "instructions"  # {"kind", "items": [[seq, wire_message], ...]}
OWNER = "owner"  # {"kind", "frontend": id, "previous": id}: only that frontend shows the iframe
DELIVERED = "delivered"  # {"kind", "upTo": seq, "by": id}: what the previous owner posted
# frontend -> kernel; each carries "frontend": a random id per page (per widget manager)
HELLO = "hello"  # {"kind", "posted": int}: a frontend (re)started or claims the session
BATCH = "batch"  # {"kind", "events": [...], "posted"?: int, "rejected"?: int, "released"?}
DISMISS = "dismiss"  # {"kind"}: the user closed the notices under the widget

# Items of a batch. Snapshots travel as changes against the previous one from the same frame.
ITEM_STATE = "s"  # {"s": {changed wire keys}, "x": [removed keys], "f": true if full}
ITEM_REMOVED = "x"
ITEM_FULL = "f"
ITEM_EVENT = "e"  # {"e": any other message, as received}
ITEM_UNREADABLE = "u"  # {"u": "why"}: a message the frontend could not serialise

BRIDGE_NAMES: dict[str, str] = {
    "INSTRUCTIONS": INSTRUCTIONS,
    "OWNER": OWNER,
    "DELIVERED": DELIVERED,
    "HELLO": HELLO,
    "BATCH": BATCH,
    "DISMISS": DISMISS,
    "ITEM_STATE": ITEM_STATE,
    "ITEM_REMOVED": ITEM_REMOVED,
    "ITEM_FULL": ITEM_FULL,
    "ITEM_EVENT": ITEM_EVENT,
    "ITEM_UNREADABLE": ITEM_UNREADABLE,
    "STATE_UPDATE": protocol.STATE_UPDATE,
}


class Outbox:
    """Instructions numbered in the kernel and kept until a frontend says it posted them.

    Only the kernel outlives a page reload, so only it knows what is still undelivered.
    """

    def __init__(self) -> None:
        self._next = 1
        self._pending: list[tuple[int, dict[str, Any]]] = []

    def add(self, message: dict[str, Any]) -> int:
        """Keep ``message`` until acknowledged; return the number given to it."""
        seq = self._next
        self._next += 1
        self._pending.append((seq, message))
        return seq

    def ack(self, posted: int) -> None:
        """Forget every instruction numbered ``posted`` or lower."""
        self._pending = [(s, m) for s, m in self._pending if s > posted]

    def pending(self) -> list[tuple[int, dict[str, Any]]]:
        """Return the instructions not yet acknowledged, in order."""
        return list(self._pending)

    def clear(self) -> int:
        """Drop every pending instruction; return how many there were."""
        dropped = len(self._pending)
        self._pending = []
        return dropped


class InboundDecoder:
    """Turns batch items back into the messages the iframe posted, in order."""

    def __init__(self) -> None:
        self._snapshot: dict[str, Any] = {}

    def reset(self) -> None:
        """Forget the previous snapshot (a new link was loaded)."""
        self._snapshot = {}

    def decode(self, items: Any) -> Iterator[tuple[Any, str | None]]:
        """Yield ``(message, problem)`` per item; ``problem`` describes an unusable item."""
        if not isinstance(items, list):
            yield None, f"a batch whose events are not a list: {items!r:.80}"
            return
        for item in items:
            if isinstance(item, dict) and ITEM_STATE in item:
                changes = item[ITEM_STATE]
                if not isinstance(changes, dict):
                    yield None, f"a state item that is not an object: {changes!r:.80}"
                    continue
                if item.get(ITEM_FULL):
                    self._snapshot = {}
                self._snapshot.update(changes)
                for key in item.get(ITEM_REMOVED) or ():
                    self._snapshot.pop(key, None)
                yield {"type": protocol.STATE_UPDATE, "state": dict(self._snapshot)}, None
            elif isinstance(item, dict) and ITEM_EVENT in item:
                yield item[ITEM_EVENT], None
            elif isinstance(item, dict) and ITEM_UNREADABLE in item:
                yield None, f"the iframe posted a message that is not JSON: {item[ITEM_UNREADABLE]}"
            else:
                yield None, f"an unreadable batch item: {item!r:.80}"
