from __future__ import annotations

import pytest

from support.wire import batch, full, snapshot
from upscope_widget import SessionLog


def test_log_records_instructions_and_events_in_order(make_session):
    session, c = make_session()
    session.set_mode("draw")
    c.from_frontend(batch(full(snapshot(controlTool=None))))
    c.from_frontend(batch({"s": {"controlTool": "drawing"}},
                          {"e": {"type": "customMessage", "message": {"a": 1}}}))
    kinds = [(e.direction, e.kind) for e in session.log]
    assert kinds == [
        ("out", "setMode"),
        ("in", "upscope.sessionState.update"),
        ("in", "upscope.sessionState.update"),
        ("in", "customMessage"),
    ]
    change = session.log[2]
    assert change.data == {"controlTool": "drawing"}
    assert change.changed == frozenset({"control_tool"})
    assert session.log.filter(direction="out")[0].data == {"action": "setMode", "mode": "draw"}
    assert session.log[0].time <= session.log[-1].time
    records = session.log.to_records()
    assert records[3]["data"]["message"] == {"a": 1}


def test_log_is_bounded(make_session):
    session, c = make_session(log_size=5)
    c.from_frontend(batch(full(snapshot(dataBounceSpeed=0)),
                          *({"s": {"dataBounceSpeed": i}} for i in range(1, 20))))
    assert len(session.log) == 5
    assert session.log.dropped == 15
    assert session.log[-1].data == {"dataBounceSpeed": 19}


def test_log_can_be_off_and_rejects_bad_sizes(make_session):
    session, _ = make_session(log_size=0)
    session.end_session()
    assert len(session.log) == 0
    for bad in (-1, 2.5, "10", True):
        with pytest.raises(ValueError, match="log_size"):
            SessionLog(bad)
    with pytest.raises(ValueError, match="direction"):
        session.log.filter(direction="sideways")


def test_to_dataframe_without_pandas_says_how_to_get_it(make_session, monkeypatch):
    import sys

    session, _ = make_session()
    monkeypatch.setitem(sys.modules, "pandas", None)  # as if pandas were not installed
    with pytest.raises(ImportError,
                       match=r"'analysis' extra: pip install 'upscope-widget\[analysis\]'"):
        session.log.to_dataframe()


def test_a_log_slices_like_a_list():
    from upscope_widget import LogEntry

    entries = [LogEntry(float(i), "in", f"event{i}", {"n": i}) for i in range(5)]
    log = SessionLog.from_entries(entries)
    assert log[1:3] == entries[1:3]
    assert isinstance(log[1:3], list)
    assert log[::-2] == entries[::-2]
    assert log[-2:] == entries[-2:] and log[10:] == []
    assert log[-1] is entries[-1] and log[0] is entries[0]
    with pytest.raises(IndexError):
        log[5]
