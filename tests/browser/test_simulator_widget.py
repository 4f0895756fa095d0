"""UpscopeSession.simulate() end to end in a browser: the widget loads the simulator as a blob
page, through the same gate as a real watch link, and Python drives it."""

from __future__ import annotations

from typing import Any

import pytest

from upscope_widget import SessionEndedError, UpscopeSession

pytestmark = pytest.mark.browser


def simulate(h: Any, **options: Any) -> UpscopeSession:
    options.setdefault("time_scale", 0.05)
    options.setdefault("seed", 7)
    session = h.create(lambda: UpscopeSession.simulate(**options))
    h.mount(views=1)
    return session


def test_start_up_sequence_reaches_python_in_order(harness):
    statuses: list[str] = []
    session = harness.create(
        lambda: UpscopeSession.simulate(time_scale=0.05, require_authorization=True)
    )
    session.observe(lambda ch: statuses.append(ch["new"]), "session_status")
    harness.mount(views=1)
    harness.wait_until(lambda: session.session_status == "viewerReady", what="viewerReady")
    assert statuses == ["waiting", "pendingRequest", "active", "snapshotReceived", "viewerReady"]
    assert session.connected is True
    assert session.visitor["callName"]
    assert session.rejected_messages == 0
    src = harness.page.locator("iframe.upscope-frame").get_attribute("src")
    assert src.startswith("blob:" + harness.host)


def test_instructions_change_the_simulated_session(harness):
    session = simulate(harness)
    harness.wait_until(lambda: session.session_status == "viewerReady")
    session.set_mode("draw")
    harness.wait_until(lambda: session.control_tool == "drawing", what="drawing")
    session.switch_color("#112233")
    harness.wait_until(lambda: session.color == "#112233", what="color")
    session.set_current_url("https://shop.example/somewhere")
    harness.wait_until(lambda: session.current_url == "https://shop.example/somewhere")
    errors: list[Any] = []
    session.on_error(errors.append)
    session.set_active_connection("no-such-tab")
    harness.wait_until(lambda: errors, what="an error for an unknown tab")
    assert errors[0].code == "connection:user_not_found"
    session.run_console_command("document.title")  # console not allowed by default
    harness.wait_until(lambda: len(errors) == 2, what="a refusal")
    assert errors[1].code == "remote_control:element_not_allowed"


def test_scripted_visitor(harness):
    session = simulate(harness)
    harness.wait_until(lambda: session.session_status == "viewerReady")
    messages: list[dict[str, Any]] = []
    session.on_custom_message(messages.append)
    session.simulator.visitor_sends({"cart": 3})
    harness.wait_until(lambda: messages == [{"cart": 3}], what="the visitor's message")
    tab = session.simulator.open_tab("https://shop.example/tab3")
    harness.wait_until(lambda: any(c["id"] == tab for c in session.connections or []))
    ended: list[str] = []
    session.on_session_ended(ended.append)
    session.simulator.end("error")
    harness.wait_until(lambda: ended == ["error"], what="the end")
    assert session.session_status == "terminated"
    assert session.last_error.code == "connection:data"
    with pytest.raises(SessionEndedError):
        session.simulator.navigate("https://shop.example/")
    with pytest.raises(SessionEndedError):
        session.set_mode("cursor")


def test_the_notebook_page_cannot_forge_simulator_state(harness):
    # the blob page shares the notebook's origin: only the source check tells them apart
    session = simulate(harness)
    harness.wait_until(lambda: session.session_status == "viewerReady")
    harness.page.evaluate(
        "window.postMessage({type: 'upscope.sessionState.update',"
        " state: {sessionStatus: 'terminated'}}, '*')"
    )
    harness.wait_until(lambda: session.rejected_messages == 1, what="a rejection")
    assert session.session_status == "viewerReady"


def test_end_session_from_python(harness):
    session = simulate(harness)
    harness.wait_until(lambda: session.session_status == "viewerReady")
    session.end_session()
    harness.wait_until(lambda: session.ended_reason == "ended", what="sessionEnded")
    assert session.session_status == "terminated"
