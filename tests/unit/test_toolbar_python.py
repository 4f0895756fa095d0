"""The kernel's side of the toolbar: what it hears of clicks, the load-timeout notice, and what
the session shows where no widget runs (repr, the static HTML card)."""

from __future__ import annotations

import html
from typing import Any

import pytest

from support.wire import batch, full, snapshot
from upscope_widget import SessionGrid, UpscopeProtocolWarning
from upscope_widget.errors import ERROR_DESCRIPTIONS
from upscope_widget.session import LOAD_FAILURE_HELP

WIDGET_MIME = "application/vnd.jupyter.widget-view+json"


def heard_by(session: Any) -> list[tuple[Any, ...]]:
    heard: list[tuple[Any, ...]] = []
    session.on_instruction(lambda action, params, source: heard.append((action, params, source)))
    return heard


def test_python_instructions_reach_on_instruction_with_their_wire_params(make_session):
    session, _ = make_session()
    heard = heard_by(session)
    session.set_mode("draw")
    session.switch_color()
    session.set_active_connection("c2")
    assert heard == [
        ("setMode", {"mode": "draw"}, "python"),
        ("switchColor", {}, "python"),
        ("setActiveConnection", {"connectionId": "c2"}, "python"),
    ]
    assert [e.source for e in session.log] == ["python"] * 3


def test_a_refused_instruction_is_not_heard(make_session):
    session, _ = make_session()
    heard = heard_by(session)
    with pytest.raises(ValueError):
        session.set_mode("laser")
    assert heard == []


def test_toolbar_items_are_logged_and_heard_in_order_with_events(make_session):
    session, c = make_session()
    heard = heard_by(session)
    c.from_frontend(batch(
        full(snapshot()),
        {"t": {"action": "setMode", "mode": "draw"}},
        {"s": {"controlTool": "drawing"}},
        {"t": {"action": "setCurrentUrl", "url": "https://shop.example/cart"}},
    ))
    assert heard == [
        ("setMode", {"mode": "draw"}, "toolbar"),
        ("setCurrentUrl", {"url": "https://shop.example/cart"}, "toolbar"),
    ]
    log = [(e.direction, e.kind, e.source) for e in session.log]
    assert log == [
        ("in", "upscope.sessionState.update", None),
        ("out", "setMode", "toolbar"),
        ("in", "upscope.sessionState.update", None),
        ("out", "setCurrentUrl", "toolbar"),
    ]
    # posted by the page already: the kernel keeps nothing to send, and sends nothing
    assert session.pending_instructions == []
    assert not [m for m in c.customs() if m.get("kind") == "instructions"]


def test_a_toolbar_item_python_would_refuse_is_reported_not_hidden(make_session):
    session, c = make_session()
    heard = heard_by(session)
    with pytest.warns(UpscopeProtocolWarning, match="toolbar posted an instruction"):
        c.from_frontend(batch({"t": {"action": "setMode", "mode": "laser"}}))
    assert heard == [("setMode", {"mode": "laser"}, "toolbar")]  # it was posted: say so
    with pytest.warns(UpscopeProtocolWarning, match="not an instruction"):
        c.from_frontend(batch({"t": ["nonsense"]}))
    assert len(heard) == 1


def test_toolbar_items_from_a_page_that_lost_the_session_are_ignored(make_session):
    session, c = make_session()
    heard = heard_by(session)
    c.from_frontend({"kind": "hello", "posted": 0, "frontend": "tab-1"})
    c.from_frontend({"kind": "hello", "posted": 0, "frontend": "tab-2"})
    c.from_frontend(batch({"t": {"action": "reloadPage"}}, frontend="tab-1"))
    assert heard == []
    c.from_frontend(batch({"t": {"action": "reloadPage"}}, frontend="tab-2"))
    assert heard == [("reloadPage", {}, "toolbar")]


def test_load_timeout_notice_then_cleared_by_a_state(make_session):
    session, c = make_session(load_timeout=7)
    c.from_frontend({"kind": "loadTimeout", "seconds": 7})
    assert session.load_timeout == 7.0
    [notice] = session.notices
    assert notice["text"].startswith("Nothing arrived from the session within 7 s.")
    for sentence in LOAD_FAILURE_HELP[1:]:
        assert sentence in notice["text"]
    c.from_frontend({"kind": "loadTimeout", "seconds": 7})  # once is enough
    assert len(session.notices) == 1
    c.from_frontend(batch(full(snapshot())))
    assert session.notices == []


def test_the_frontend_gets_the_sentences_from_python(make_session):
    _session, c = make_session()
    ui = c.opened["state"]["_ui_text"]
    assert ui["errors"] == ERROR_DESCRIPTIONS
    assert ui["loadFailure"] == list(LOAD_FAILURE_HELP)
    assert c.opened["state"]["toolbar"] is True
    assert c.opened["state"]["load_timeout"] == 20.0


def test_repr_is_one_line_without_the_watch_link(make_session):
    secret = "https://watch.example.com/cobrowse?id=SECRET123&token=abc"
    session, c = make_session(secret)
    assert repr(session) == (
        "<UpscopeSession https://watch.example.com status=None current_url=None visitor=None "
        "connected=None last_error=None>"
    )
    c.from_frontend(batch(
        full(snapshot(currentUrl="https://shop.example/cart")),
        {"e": {"type": "error", "error": "connection:user_not_online"}},
    ))
    text = repr(session)
    assert "\n" not in text and "SECRET123" not in text and "token" not in text
    assert text == (
        "<UpscopeSession https://watch.example.com status='viewerReady' "
        "current_url='https://shop.example/cart' visitor='Grace Hopper' connected=True "
        "last_error='connection:user_not_online'>"
    )
    assert str(session) == text


def test_mimebundle_keeps_the_widget_and_adds_an_escaped_static_card(make_session):
    session, c = make_session("https://watch.example.com/w?id=SECRET123")
    c.from_frontend(batch(full(snapshot(
        currentUrl="https://shop.example/?q=<script>alert(1)</script>",
        visitor={"callName": "<b>Eve</b> & co"},
    )), {"e": {"type": "error", "error": "remote_control:click_not_allowed"}}))
    bundle, _ = session._repr_mimebundle_()
    assert bundle[WIDGET_MIME]["model_id"] == session.model_id
    assert bundle["text/plain"] == repr(session)
    card = bundle["text/html"]
    assert "<script>" not in card and "<b>Eve</b>" not in card
    assert html.escape("https://shop.example/?q=<script>alert(1)</script>") in card
    assert html.escape("<b>Eve</b> & co") in card
    assert "viewerReady" in card
    assert html.escape(ERROR_DESCRIPTIONS["remote_control:click_not_allowed"]) in card
    assert "SECRET123" not in card and "SECRET123" not in bundle["text/plain"]


def test_grid_mimebundle_and_summary(make_session):
    s1, c1 = make_session()
    s2, _ = make_session()
    c1.from_frontend(batch(full(snapshot(dataBounceSpeed=321))))
    grid = SessionGrid([s1, s2])
    bundle, _ = grid._repr_mimebundle_()
    assert WIDGET_MIME in bundle
    assert bundle["text/html"].count("upscope-static-card") == 2
    assert repr(s1) in bundle["text/plain"]
    assert grid.summary()[0]["data_bounce_speed"] == 321
    assert grid.summary()[1]["status"] is None
    assert len(grid) == 2


def test_an_html_export_without_widget_state_shows_the_card(make_session):
    import nbformat
    from nbconvert import HTMLExporter

    session, c = make_session()
    c.from_frontend(batch(full(snapshot(currentUrl="https://shop.example/exported"))))
    nb = nbformat.v4.new_notebook()
    cell = nbformat.v4.new_code_cell("session")
    cell.outputs = [nbformat.v4.new_output("display_data", data=session._repr_mimebundle_()[0])]
    nb.cells = [cell]
    body, _ = HTMLExporter().from_notebook_node(nb)
    assert "https://shop.example/exported" in body
    assert "upscope-static-card" in body
