"""The hand-over state machine, driven without a widget or a comm.

Each test plays what pages would send (hellos and batches) and checks the replies
``Ownership`` returns and what it acknowledges in the outbox: the rules of the table in
docs/architecture.md ("One session, one iframe").
"""

from __future__ import annotations

from upscope_widget._bridge import DELIVERED, KIND_INSTRUCTIONS, OWNER, Outbox
from upscope_widget._ownership import Ownership

A, B = "page-a", "page-b"


def _with(*actions: str) -> tuple[Ownership, Outbox]:
    outbox = Outbox()
    for action in actions:
        outbox.add({"action": action})
    return Ownership(outbox), outbox


def test_the_first_hello_owns_the_session_and_gets_what_is_pending() -> None:
    own, _ = _with("endSession")
    new_owner, replies = own.hello(A, 0)
    assert new_owner and own.owner == A and own.connected
    assert replies == [
        {"kind": OWNER, "frontend": A, "previous": None},
        {"kind": KIND_INSTRUCTIONS, "items": [[1, {"action": "endSession"}, False]]},
    ]


def test_a_hello_without_a_frontend_id_changes_nothing() -> None:
    own, _ = _with()
    for bad in (None, "", 7, ["page"]):
        assert own.hello(bad, 0) == (False, [])
    assert own.owner is None and not own.connected


def test_a_batch_without_a_frontend_id_never_counts_even_with_no_owner() -> None:
    own, outbox = _with("setMode")
    verdict = own.batch(None, {"events": [{"t": "x"}], "posted": 1})
    assert not verdict.apply and verdict.replies == []
    assert outbox.pending() == [(1, {"action": "setMode"})]  # its "posted" acknowledged nothing


def test_only_the_owners_batches_count() -> None:
    own, _ = _with()
    own.hello(A, 0)
    assert own.batch(A, {"events": []}).apply
    assert not own.batch(B, {"events": []}).apply


def test_a_second_page_takes_over_and_what_the_first_may_have_posted_is_in_doubt() -> None:
    own, outbox = _with("setMode", "switchColor")
    own.hello(A, 0)
    own.batch(A, {"loaded": True, "posted": 1})  # A's iframe loaded and posted the first
    assert outbox.pending() == [(2, {"action": "switchColor"})]
    new_owner, replies = own.hello(B, 0)
    assert new_owner and own.owner == B and own.previous == A and own.previous_limit == 2
    assert replies == [
        {"kind": OWNER, "frontend": B, "previous": A},
        {"kind": KIND_INSTRUCTIONS, "items": [[2, {"action": "switchColor"}, True]]},
    ]


def test_nothing_is_in_doubt_when_the_previous_iframe_never_loaded() -> None:
    own, _ = _with("setMode")
    own.hello(A, 0)
    _, replies = own.hello(B, 0)
    assert replies[1]["items"] == [[1, {"action": "setMode"}, False]]


def test_the_previous_owner_saying_what_it_posted_tells_the_new_owner() -> None:
    own, outbox = _with("setMode", "switchColor")
    own.hello(A, 0)
    own.batch(A, {"loaded": True})
    own.hello(B, 0)
    outbox.add({"action": "reloadPage"})  # number 3: A never had it
    verdict = own.batch(A, {"posted": 3, "released": True})
    assert not verdict.apply
    assert verdict.replies == [{"kind": DELIVERED, "upTo": 2, "by": A}]
    assert own.previous is None
    assert outbox.pending() == [(3, {"action": "reloadPage"})]  # acknowledged up to A's limit


def test_after_the_owner_releases_the_session_no_page_is_connected() -> None:
    own, outbox = _with("setMode")
    own.hello(A, 0)
    own.batch(A, {"loaded": True, "posted": 1, "released": True})
    own.released(A)
    assert own.owner is None and not own.connected
    assert outbox.pending() == []
    # the next page takes over at once, with nothing in doubt
    outbox.add({"action": "endSession"})
    _, replies = own.hello(B, 0)
    assert replies == [
        {"kind": OWNER, "frontend": B, "previous": None},
        {"kind": KIND_INSTRUCTIONS, "items": [[2, {"action": "endSession"}, False]]},
    ]


def test_a_release_from_a_page_that_is_not_the_owner_changes_nothing() -> None:
    own, _ = _with()
    own.hello(A, 0)
    own.released(B)
    own.released(None)
    assert own.owner == A


def test_posted_counts_only_as_far_as_the_page_could_have_had() -> None:
    own, outbox = _with("setMode")
    own.hello(A, 0)
    own.batch(A, {"posted": 99})  # more than was ever given: only what exists is acknowledged
    assert outbox.pending() == []
    outbox.add({"action": "switchColor"})
    assert outbox.pending() == [(2, {"action": "switchColor"})]
    for bad in (True, "2", -1, 2.0):
        own.batch(A, {"posted": bad})
    assert outbox.pending() == [(2, {"action": "switchColor"})]
