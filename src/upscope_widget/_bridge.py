"""The kernel <-> frontend transport: message kinds, the numbered outbox, the inbound decoder.

These names are ours, not the vendor's; ``js/protocol.ts`` spells the same ones (a unit test
fails if the two drift). Browser -> kernel data travels as custom messages, never as traitlet
writes from JS: those are merged by ipywidgets and stall under ipykernel 7.4 after an awaiting
cell (see "Why custom messages" in ``docs/architecture.md``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ._json import MAX_STATE_PROPERTIES, short_repr
from ._lazy import lazy_module
from .errors import Problem

if TYPE_CHECKING:
    from . import protocol
else:
    protocol = lazy_module("upscope_widget.protocol")  # pydantic: loaded with the first session

# kernel -> frontend
# {"kind", "items": [[seq, wire_message, in_doubt?], ...]}; in_doubt: the previous owner may
# have posted it already; if that page never says, the new owner skips it instead of posting twice
KIND_INSTRUCTIONS = "instructions"
OWNER = "owner"  # {"kind", "frontend": id, "previous": id}: only that frontend shows the iframe
DELIVERED = "delivered"  # {"kind", "upTo": seq, "by": id}: what the previous owner posted
# frontend -> kernel; each carries "frontend": a random id per page (per widget manager)
HELLO = "hello"  # {"kind", "posted": int}: a frontend (re)started or claims the session
# {"kind", "events": [...], "posted"?: int, "rejected"?: int, "released"?: true (the page gives
# the session up: it lost it, or it is going away), "skipped"?: [seq] (not posted: see OWNER)}
BATCH = "batch"
DISMISS = "dismiss"  # {"kind"}: the user closed the notices under the widget
LOAD_TIMEOUT = "loadTimeout"  # {"kind", "seconds"}: no state arrived within load_timeout

# Items of a batch. Snapshots travel as changes against the previous one from the same frame.
ITEM_STATE = "s"  # {"s": {changed wire keys}, "x": [removed keys], "f": true if full}
ITEM_REMOVED = "x"
ITEM_FULL = "f"
ITEM_EVENT = "e"  # {"e": any other message, as received}
ITEM_UNREADABLE = "u"  # {"u": "why"}: a message the frontend could not (or would not) forward
ITEM_INVALID = "i"  # in a state item, {"i": {key: why}}: properties too deep or long to forward
ITEM_LEFT_OUT = "o"  # in a state item, {"o": n}: properties beyond MAX_STATE_PROPERTIES left out
# {"t": wire instruction}: the toolbar posted it to the iframe already; Python only hears of it,
# in order with the iframe's events (a click while the kernel is busy must not wait for it)
ITEM_TOOLBAR = "t"

BRIDGE_NAMES: dict[str, str] = {
    "KIND_INSTRUCTIONS": KIND_INSTRUCTIONS,
    "OWNER": OWNER,
    "DELIVERED": DELIVERED,
    "HELLO": HELLO,
    "BATCH": BATCH,
    "DISMISS": DISMISS,
    "LOAD_TIMEOUT": LOAD_TIMEOUT,
    "ITEM_STATE": ITEM_STATE,
    "ITEM_REMOVED": ITEM_REMOVED,
    "ITEM_FULL": ITEM_FULL,
    "ITEM_EVENT": ITEM_EVENT,
    "ITEM_UNREADABLE": ITEM_UNREADABLE,
    "ITEM_INVALID": ITEM_INVALID,
    "ITEM_LEFT_OUT": ITEM_LEFT_OUT,
    "ITEM_TOOLBAR": ITEM_TOOLBAR,
}


@dataclass(frozen=True)
class ToolbarInstruction:
    """An instruction the widget's toolbar already posted to the iframe (a batch item)."""

    message: Any


class Outbox:
    """Instructions numbered in the kernel and kept until a frontend says it posted them.

    Only the kernel outlives a page reload, so only it knows what is still undelivered.
    """

    def __init__(self) -> None:
        self._next = 1
        self._pending: list[tuple[int, dict[str, Any]]] = []

    @property
    def last(self) -> int:
        """The number given to the latest instruction (0 before the first)."""
        return self._next - 1

    def add(self, message: dict[str, Any]) -> int:
        """Keep ``message`` until acknowledged; return the number given to it."""
        seq = self._next
        self._next += 1
        self._pending.append((seq, message))
        return seq

    def ack(self, posted: int) -> None:
        """Forget every instruction numbered ``posted`` or lower."""
        self._pending = [(s, m) for s, m in self._pending if s > posted]

    def remove(self, seqs: set[int]) -> list[dict[str, Any]]:
        """Forget the instructions numbered in ``seqs``; return those that were pending."""
        removed = [m for s, m in self._pending if s in seqs]
        self._pending = [(s, m) for s, m in self._pending if s not in seqs]
        return removed

    def pending(self) -> list[tuple[int, dict[str, Any]]]:
        """Return the instructions not yet acknowledged, in order."""
        return list(self._pending)

    def clear(self) -> int:
        """Drop every pending instruction; return how many there were."""
        dropped = len(self._pending)
        self._pending = []
        return dropped


_STATE_ITEM_KEYS = frozenset({ITEM_STATE, ITEM_REMOVED, ITEM_FULL, ITEM_INVALID, ITEM_LEFT_OUT})


class InboundDecoder:
    """Turns batch items back into the messages the iframe posted, in order.

    Every item is decoded on its own: nothing in one item (a wrong type, an extra field, a
    value that makes Python's code fail) can cost the items after it.
    """

    def __init__(self) -> None:
        self._snapshot: dict[str, Any] = {}

    def reset(self) -> None:
        """Forget the previous snapshot (a new link was loaded)."""
        self._snapshot = {}

    def decode(self, items: Any) -> Iterator[tuple[Any, list[Problem]]]:
        """Yield ``(message, problems)`` per item; ``message`` is ``None`` for an unusable one."""
        if not isinstance(items, list):
            yield None, [Problem(None, f"a batch whose events are not a list: {short_repr(items)}")]
            return
        for item in items:
            try:
                decoded = self._decode(item)
            except Exception as err:  # a crafted item: report it, go on with the next
                decoded = None, [
                    Problem(None, f"an unreadable batch item ({type(err).__name__}): "
                                  f"{short_repr(item)}")
                ]
            yield decoded

    def _decode(self, item: Any) -> tuple[Any, list[Problem]]:
        if not isinstance(item, dict):
            return _unreadable(item)
        if ITEM_STATE in item:
            changes = item[ITEM_STATE]
            removed = item.get(ITEM_REMOVED, [])
            invalid = item.get(ITEM_INVALID, {})
            if (
                not item.keys() <= _STATE_ITEM_KEYS
                or not isinstance(changes, dict)
                or not isinstance(removed, list)
                or not all(isinstance(k, str) for k in removed)
                or not isinstance(invalid, dict)
                or not isinstance(item.get(ITEM_FULL, False), bool)
            ):
                return _unreadable(item)
            problems = [
                Problem(key, f"state.{key} could not be forwarded by the browser: "
                             f"{_reason(why)}; kept its last value")
                for key, why in invalid.items()
            ]
            if item.get(ITEM_FULL):
                kept = {k: self._snapshot[k] for k in invalid if k in self._snapshot}
                self._snapshot = kept
            self._snapshot.update(changes)
            for key in removed:
                self._snapshot.pop(key, None)
            left_out = item.get(ITEM_LEFT_OUT)
            if type(left_out) is int and left_out > 0:
                problems.append(Problem(protocol.TOO_MANY_PROPERTIES, (
                    f"the state has more than {MAX_STATE_PROPERTIES} properties; the browser "
                    "forwarded only the first ones")))
            if len(self._snapshot) > MAX_STATE_PROPERTIES:  # a frontend that does not bound it
                self._snapshot, too_many = protocol.bound_properties(self._snapshot)
                if too_many is not None:
                    problems.append(too_many)
            return {"type": protocol.STATE_UPDATE, "state": dict(self._snapshot)}, problems
        if len(item) != 1:
            return _unreadable(item)
        if ITEM_EVENT in item:
            return item[ITEM_EVENT], []
        if ITEM_TOOLBAR in item:
            return ToolbarInstruction(item[ITEM_TOOLBAR]), []
        if ITEM_UNREADABLE in item:
            why = _reason(item[ITEM_UNREADABLE])
            return None, [Problem(None, f"the iframe posted a message that was not forwarded: "
                                        f"{why}")]
        return _unreadable(item)


def _unreadable(item: Any) -> tuple[None, list[Problem]]:
    return None, [Problem(None, f"an unreadable batch item: {short_repr(item)}")]


def _reason(why: Any) -> str:
    """Return the frontend's reason as short text (it came from a page, so it is capped)."""
    return why[:300] if isinstance(why, str) else short_repr(why)
