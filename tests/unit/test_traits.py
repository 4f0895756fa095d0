"""SessionTrait on traitlets' public API: read-only, type-strict, consistent when observed."""

from __future__ import annotations

from typing import Any

import pytest
import traitlets

from support.wire import batch, full, snapshot
from upscope_widget import ReadOnlyStateError, UpscopeSession
from upscope_widget._traits import SessionTrait, applying, update


class Mirror(traitlets.HasTraits):
    a = SessionTrait()
    b = SessionTrait()
    color = SessionTrait()


def changes(obj: traitlets.HasTraits, *names: str) -> list[tuple[str, Any, Any]]:
    seen: list[tuple[str, Any, Any]] = []
    obj.observe(lambda ch: seen.append((ch["name"], ch["old"], ch["new"])), names=list(names))
    return seen


def test_assignment_outside_applying_raises_and_keeps_the_value():
    m = Mirror()
    with pytest.raises(ReadOnlyStateError, match=r"Mirror\.color is read-only.*switch_color"):
        m.color = "#ff0000"
    with pytest.raises(ReadOnlyStateError, match="no instruction sets it"):
        m.a = 1
    assert m.color is None and m.a is None


def test_set_inside_applying_notifies_on_type_strict_changes_only():
    m = Mirror()
    seen = changes(m, "a")
    with applying(m):
        m.a = 1
        m.a = 1  # the same: no notification
        m.a = True  # == 1 in Python, yet a change on the wire
        m.a = 1.0
        m.a = {"x": [1]}
        m.a = {"x": [1]}  # equal JSON: no notification
        m.a = {"x": [True]}
    assert [new for _, _, new in seen] == [1, True, 1.0, {"x": [1]}, {"x": [True]}]
    assert seen[1][1] == 1 and type(seen[1][1]) is int
    assert m.a == {"x": [True]}


def test_applying_is_restored_after_the_block_even_on_error():
    m = Mirror()
    with pytest.raises(RuntimeError), applying(m):
        m.a = 1
        raise RuntimeError("boom")
    with pytest.raises(ReadOnlyStateError):
        m.a = 2
    assert m.a == 1


def test_update_sets_everything_before_the_first_observer_runs():
    m = Mirror()
    read: list[tuple[Any, Any]] = []
    m.observe(lambda ch: read.append((m.a, m.b)), names=["a", "b"])
    seen = changes(m, "a", "b", "color")
    update(m, [("b", 2), ("a", 1), ("color", None)])  # color stays None: not a change
    assert [(n, new) for n, _, new in seen] == [("b", 2), ("a", 1)]
    assert read == [(1, 2), (1, 2)]


def test_hold_trait_notifications_still_delivers_each_change_once():
    m = Mirror()
    seen = changes(m, "a")
    with applying(m), m.hold_trait_notifications():
        m.a = 1
        m.a = 2
    assert seen == [("a", None, 2)]


def test_every_snapshot_reaches_observers_with_the_whole_snapshot_in_place(make_session):
    session, c = make_session()
    c.from_frontend(batch(full(snapshot(dataBounceSpeed=0, color="#000000"))))
    seen: list[tuple[Any, Any, Any]] = []
    calls: list[tuple[Any, set[str]]] = []
    session.observe(lambda ch: seen.append((ch["new"], session.color, session.state)),
                    "data_bounce_speed")
    session.on_state_change(lambda state, changed: calls.append((state, changed)))
    items = [{"s": {"dataBounceSpeed": i, "color": f"#{i:06x}"}} for i in range(1, 1001)]
    c.from_frontend(batch(*items))
    assert [v for v, _, _ in seen] == list(range(1, 1001))
    # the other trait and the state model were already this snapshot's
    assert all(color == f"#{v:06x}" and state.data_bounce_speed == v for v, color, state in seen)
    assert [s.data_bounce_speed for s, _ in calls] == list(range(1, 1001))
    assert all(changed == {"data_bounce_speed", "color"} for _, changed in calls)


def test_no_session_trait_is_synced():
    # _traits.update tells observers without asking ipywidgets whether to sync the change: that
    # holds only while the session's own traits stay in the kernel
    synced = [name for name, trait in UpscopeSession.class_traits().items()
              if isinstance(trait, SessionTrait) and trait.metadata.get("sync")]
    assert synced == []
    assert len([t for t in UpscopeSession.class_traits().values()
                if isinstance(t, SessionTrait)]) >= 22
