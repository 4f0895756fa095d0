"""Which page shows the session, and what each page has posted: the hand-over, as a plain class.

One iframe, one connection, one stream of snapshots: the latest page to start (a reload, a
second browser tab) or to claim the session owns it, and only its batches count. The page it
took over from may still post what it holds until it hears it lost the session; what it then
says it posted (up to the last instruction it could have had) counts too, and the new owner
holds back until it hears that (the ``delivered`` message), so that nothing is posted twice.

:class:`Ownership` only decides; it sends nothing itself. Its methods return the messages the
session must send to the frontends, so unit tests drive every hand-over without a widget.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ._bridge import DELIVERED, KIND_INSTRUCTIONS, OWNER, Outbox


def _int_or(value: Any, default: int) -> int:
    return value if type(value) is int else default


def frontend_id(value: Any) -> str | None:
    """Return a frontend's id if ``value`` is one (a non-empty str), else ``None``."""
    return value if isinstance(value, str) and value else None


@dataclass
class BatchVerdict:
    """What :meth:`Ownership.batch` decided about a batch from a frontend."""

    apply: bool
    """Whether its events are the session's (it came from the owner)."""
    replies: list[dict[str, Any]] = field(default_factory=list)
    """Messages for the frontends, in order."""


class Ownership:
    """The hand-over state machine.

    Args:
        outbox: the session's numbered instructions; acknowledged here as pages say what they
            posted.
    """

    def __init__(self, outbox: Outbox) -> None:
        self.outbox = outbox
        self.owner: str | None = None
        """The page that may show the iframe (the latest hello)."""
        self.previous: str | None = None
        """The owner before it, until it says what it posted."""
        self.previous_limit = 0
        """The last instruction the previous owner could have had."""
        # Whether the owner's iframe has loaded (until then it can have posted nothing), and
        # whether the previous owner's had: only then is what it was sent in doubt.
        self.owner_loaded = False
        self.previous_loaded = False

    @property
    def connected(self) -> bool:
        """Whether a page shows the session now (an owner that has not released it)."""
        return self.owner is not None

    def hello(self, frontend: Any, posted: Any) -> tuple[bool, list[dict[str, Any]]]:
        """Take a hello: a page (re)started or claims the session.

        Returns ``(new_owner, replies)``: whether the owner changed (the session then forgets
        the snapshot it decoded from the old one), and the messages to send: the ``owner``
        message, then every instruction not yet posted (marked in doubt where the previous
        owner may have posted it already). A hello without a frontend id changes nothing.
        """
        page = frontend_id(frontend)
        if page is None:
            return False, []
        self._acknowledge(page, posted)
        new_owner = page != self.owner
        if new_owner:
            if self.owner is not None:
                self.previous, self.previous_limit = self.owner, self.outbox.last
                self.previous_loaded = self.owner_loaded
            self.owner = page
            self.owner_loaded = False
        replies: list[dict[str, Any]] = [
            {"kind": OWNER, "frontend": page, "previous": self.previous}
        ]
        pending = self.outbox.pending()
        if pending:
            doubt = self.previous_limit if self.previous is not None and self.previous_loaded else 0
            items = [[seq, message, seq <= doubt] for seq, message in pending]
            replies.append({"kind": KIND_INSTRUCTIONS, "items": items})
        return new_owner, replies

    def batch(self, frontend: Any, content: dict[str, Any]) -> BatchVerdict:
        """Take a batch: acknowledge what it says was posted, and say whether it counts.

        Only the owner's events count (the previous owner is dropping its iframe); a batch
        without a frontend id never counts, even while no page owns the session.
        """
        page = frontend_id(frontend)
        if page is None:
            return BatchVerdict(apply=False)
        self._acknowledge(page, content.get("posted"))
        released = content.get("released") is True
        if page != self.owner:
            if released and page == self.previous:
                # the new owner holds back what it got until it hears what this one posted
                up_to = min(_int_or(content.get("posted"), 0), self.previous_limit)
                self.previous = None
                return BatchVerdict(False, [{"kind": DELIVERED, "upTo": up_to, "by": page}])
            return BatchVerdict(apply=False)
        if content.get("loaded") is True:
            self.owner_loaded = True
        return BatchVerdict(apply=True)

    def released(self, frontend: Any) -> None:
        """Take a release: the owner's page is going away and said what it posted.

        Nothing is in doubt, and the next page to show the session need not wait for it.
        """
        if frontend_id(frontend) is not None and frontend == self.owner:
            self.owner = None
            self.previous = None
            self.owner_loaded = False

    def _acknowledge(self, page: str, posted: Any) -> None:
        """Count ``posted`` only from the owner, or the previous owner for what it had."""
        if type(posted) is not int or posted <= 0:
            return
        if page == self.owner:
            self.outbox.ack(min(posted, self.outbox.last))
        elif page == self.previous:
            self.outbox.ack(min(posted, self.previous_limit))
