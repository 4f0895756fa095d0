"""The widget in a real JupyterLab 4 and Notebook 7, with a real kernel and headless Chromium."""

from __future__ import annotations

import json
from typing import Any

import pytest

from support.frames import session_frame


def wait_received(nb: Any, frame: Any, count: int) -> list[dict[str, Any]]:
    for _ in range(200):
        got: list[dict[str, Any]] = frame.evaluate("window.received")
        if len(got) >= count:
            return got
        nb.pump(50)
    raise AssertionError(f"the iframe received {frame.evaluate('window.received')}")


def test_state_reaches_python_and_instructions_reach_the_iframe(jupyter_server, make_notebook,
                                                                origins):
    url = f"{origins[1]}/frame.html"
    nb = make_notebook(jupyter_server, [
        "from upscope_widget import UpscopeSession\n"
        f"session = UpscopeSession({url!r}, height=300)\n"
        "session.set_mode('pointer')  # before the widget is shown: queued\n"
        "statuses = []\n"
        "session.observe(lambda ch: statuses.append(ch['new']), 'session_status')\n"
        "session",
    ])
    nb.run_all()
    frame = session_frame(nb, origins[1])
    # an instruction given before display arrives once the iframe has loaded
    assert wait_received(nb, frame, 1)[0]["data"] == {"action": "setMode", "mode": "pointer"}

    # iframe -> Python: every status, in order, with its values
    frame.evaluate("""for (const s of ['waiting', 'active', 'snapshotReceived', 'viewerReady'])
                        postState({sessionStatus: s, currentUrl: 'https://shop.example/cart'})""")
    nb.wait_for_kernel("statuses", lambda v: len(v) >= 4, timeout=30)
    assert nb.kernel.eval("statuses") == ["waiting", "active", "snapshotReceived", "viewerReady"]
    assert nb.kernel.eval("session.current_url") == "https://shop.example/cart"
    assert nb.kernel.eval("session.state.visitor.call_name") == "Grace Hopper"

    # Python -> iframe: exact wire form, from the kernel
    nb.kernel.execute("session.set_active_connection('c2'); session.switch_color()")
    got = wait_received(nb, frame, 3)
    assert [g["data"] for g in got[1:]] == [
        {"action": "setActiveConnection", "connectionId": "c2"}, {"action": "switchColor"}
    ]
    nb.wait_for_kernel("len(session.pending_instructions)", lambda n: n == 0, timeout=30)
    # drawn in the page: status bar
    assert "viewerReady" in nb.page.locator(".upscope-bar").first.inner_text()


def test_burst_and_awaiting_cell(lab_server, make_notebook, origins):
    url = f"{origins[1]}/frame.html"
    nb = make_notebook(lab_server, [
        "from upscope_widget import UpscopeSession\n"
        f"session = UpscopeSession({url!r}, height=200)\n"
        "speeds = []\n"
        "session.observe(lambda ch: speeds.append(ch['new']), 'data_bounce_speed')\n"
        "session",
    ])
    nb.run_all()
    frame = session_frame(nb, origins[1])
    frame.evaluate("burst(1000)")
    nb.wait_for_kernel("len(speeds)", lambda n: n >= 1000, timeout=60)
    assert nb.kernel.eval("speeds == list(range(1000))") is True

    # a cell that awaits the session gets what the iframe sends meanwhile...
    frame.evaluate("setTimeout(() => postState({sessionStatus: 'snapshotReceived'}), 700)")
    out = nb.kernel.execute(
        "st = await session.wait_for_status('snapshotReceived', timeout=30)\n"
        "print(st.session_status)",
        timeout=60,
    )
    assert out.strip() == "snapshotReceived"
    # ...and messages keep flowing after it (the ipykernel 7.4 trap does not bite)
    frame.evaluate("postState({sessionStatus: 'viewerReady', dataBounceSpeed: 5000})")
    nb.wait_for_kernel("speeds[-1]", lambda v: v == 5000, timeout=30)


def test_two_outputs_share_one_session(lab_server, make_notebook, origins):
    url = f"{origins[1]}/frame.html"
    nb = make_notebook(lab_server, [
        "from upscope_widget import UpscopeSession\n"
        f"session = UpscopeSession({url!r}, height=200)\nsession",
        "session",
    ])
    nb.run_all()
    frame = session_frame(nb, origins[1])
    frame.evaluate("postState()")
    nb.wait_for(
        "document.querySelectorAll('.upscope-card').length === 1", what="a status card"
    )
    assert nb.evaluate("document.querySelectorAll('iframe.upscope-frame').length") == 1
    nb.wait_for("document.querySelector('.upscope-card').closest('.upscope-widget')"
                ".innerText.includes('Grace Hopper')", what="the visitor in the card")


@pytest.mark.filterwarnings("ignore")
def test_rejected_messages_counted_in_the_kernel(lab_server, make_notebook, origins):
    url = f"{origins[1]}/frame.html"
    nb = make_notebook(lab_server, [
        "from upscope_widget import UpscopeSession\n"
        f"session = UpscopeSession({url!r}, height=200)\nsession",
    ])
    nb.run_all()
    session_frame(nb, origins[1])
    nb.evaluate("window.postMessage(" + json.dumps(
        {"type": "upscope.sessionState.update", "state": {"sessionStatus": "terminated"}}
    ) + ", '*')")
    nb.wait_for_kernel("session.rejected_messages", lambda n: n >= 1, timeout=30)
    assert nb.kernel.eval("session.session_status") is None
