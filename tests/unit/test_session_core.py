"""Defects of the session's core, each reproduced through the real widget and a recording comm."""

from __future__ import annotations

import logging
from typing import Any

import pytest

import upscope_widget.session as session_module
from support.aio import run
from support.wire import batch, full, snapshot
from upscope_widget import NoFrontendError, SessionLog, UpscopeProtocolWarning


def test_frontend_connected_turns_false_after_the_last_page_releases(make_session, monkeypatch):
    monkeypatch.setattr(session_module, "FRONTEND_GRACE", 0.2)
    session, comm = make_session()
    comm.from_frontend({"kind": "hello", "posted": 0, "frontend": "tab-1"})
    comm.from_frontend(batch(full(snapshot()), frontend="tab-1"))
    assert session.frontend_connected
    comm.from_frontend(batch(posted=0, released=True, frontend="tab-1"))  # the tab closed
    assert not session.frontend_connected
    # nothing can arrive now: the await says so instead of waiting for its timeout
    with pytest.raises(NoFrontendError, match="no frontend shows this session"):
        run(session.wait_for_status("active", timeout=30))
    comm.from_frontend({"kind": "hello", "posted": 0, "frontend": "tab-2"})
    assert session.frontend_connected


def test_a_batch_without_a_frontend_id_is_refused_while_no_page_owns_the_session(make_session):
    session, comm = make_session()
    session.switch_color()
    comm.greeted = True  # no hello at all: only the batch, without an id
    with pytest.warns(UpscopeProtocolWarning, match="without a frontend id was ignored"):
        comm.from_frontend(batch(full(snapshot()), posted=1, frontend=None))
    assert session.state is None  # not applied
    assert [m["action"] for m in session.pending_instructions] == ["switchColor"]  # not acked


def test_ipywidgets_own_log_calls_reach_the_package_logger(make_session, caplog):
    session, comm = make_session()
    caplog.set_level(logging.WARNING)
    # what ipywidgets does with an unknown comm method, and with a rejected trait update:
    # outside IPython it calls self.log.error / self.log.warning (once an AttributeError)
    comm.handle_msg({"content": {"data": {"method": "nonsense"}}, "buffers": []})
    comm.handle_msg({"content": {"data": {"method": "update", "state": {"toolbar": "yes"}}},
                     "buffers": []})
    texts = [r.getMessage() for r in caplog.records]
    assert any('method "nonsense"' in t for t in texts)
    assert any("Exception in widget method" in t for t in texts)
    assert session.toolbar is True
    assert isinstance(session.log, SessionLog)  # users' session.log is still the session log


def _deep(depth: int) -> Any:
    value: Any = 1
    for _ in range(depth):
        value = [value]
    return value


@pytest.mark.parametrize("item", [
    {"action": ""},
    {"action": "   "},
    {"action": "setMode", "mode": _deep(3000)},
    _deep(3000),
])
def test_a_bad_toolbar_item_is_reported_and_never_breaks_the_log(make_session, tmp_path, item):
    session, comm = make_session()
    comm.from_frontend(batch(full(snapshot())))
    with pytest.warns(UpscopeProtocolWarning):
        comm.from_frontend(batch({"t": item}, {"s": {"color": "#000000"}}))
    # the event after it still applies, and no "please report this" notice
    assert session.color == "#000000"
    assert not [n for n in session.notices if "please report" in n["text"]]
    assert [e.direction for e in session.log] == ["in", "in"]  # nothing unkeepable logged
    path = tmp_path / "log.jsonl"
    session.log.save(path)
    assert len(SessionLog.load(path)) == 2
