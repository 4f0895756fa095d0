"""``Callbacks``: a callback removed during a dispatch is not called again by any dispatch."""

from __future__ import annotations

from upscope_widget._callbacks import Callbacks


def test_a_callback_removed_by_a_nested_dispatch_is_not_called_by_the_outer_one():
    reports: list[str] = []
    dispatch = Callbacks(reports.append)
    calls: list[str] = []

    def a() -> None:
        calls.append("a")
        if calls.count("a") == 1:
            dispatch()  # a callback that dispatches again (e.g. it changes the state)

    def b() -> None:
        calls.append("b")
        dispatch.register(b, remove=True)

    dispatch.register(a, False)
    dispatch.register(b, False)
    dispatch()
    assert calls == ["a", "a", "b"]
    assert reports == []
    dispatch()
    assert calls == ["a", "a", "b", "a"]  # b stays removed


def test_a_callback_removed_by_an_earlier_one_is_not_called():
    dispatch = Callbacks(lambda text: None)
    calls: list[str] = []

    def a() -> None:
        calls.append("a")
        dispatch.register(b, remove=True)

    def b() -> None:
        calls.append("b")

    def c() -> None:
        calls.append("c")

    for callback in (a, b, c):
        dispatch.register(callback, False)
    dispatch()
    assert calls == ["a", "c"]


def test_a_callback_added_during_a_dispatch_waits_for_the_next_one():
    dispatch = Callbacks(lambda text: None)
    calls: list[str] = []

    def late() -> None:
        calls.append("late")

    def a() -> None:
        calls.append("a")
        dispatch.register(late, False)

    dispatch.register(a, False)
    dispatch()
    assert calls == ["a"]
    dispatch()
    assert calls == ["a", "a", "late"]


def test_a_failing_callback_is_reported_and_the_others_still_run():
    reports: list[str] = []
    dispatch = Callbacks(reports.append)
    calls: list[str] = []

    def boom() -> None:
        raise KeyError("nope")

    dispatch.register(boom, False)
    dispatch.register(lambda: calls.append("after"), False)
    dispatch()
    assert calls == ["after"]
    assert len(reports) == 1 and "boom raised" in reports[0] and "KeyError" in reports[0]
