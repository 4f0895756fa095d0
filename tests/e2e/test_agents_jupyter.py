"""Agents in a real JupyterLab: a scripted agent loop and an outside MCP client drive the simulator.

What the agent did is read where the visitor would see it: in the simulator page inside the
widget's iframe (its toolbar, its tabs, its colors).
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import httpx
import nbformat
import pytest

from support.aio import run
from support.frames import wait_for_frame
from support.jupyter import open_notebook
from upscope_widget import protocol
from upscope_widget.agents.effects import resolve_action

AGENT = Path(__file__).parents[2] / "notebooks" / "agent.ipynb"
SHOP = "https://shop.acme-outfitters.example"


def simulator_frame(nb: Any) -> Any:
    """The simulator page in the widget's iframe, once it has drawn its toolbar."""
    frame = wait_for_frame(nb.page, "blob:", "document.getElementById('tool-name') !== null")
    if frame is None:
        raise AssertionError(f"the simulator iframe never loaded\n{nb.diagnostics()}")
    return frame


def wait_in_frame(nb: Any, frame: Any, js: str, what: str, tries: int = 300) -> Any:
    """Poll ``js`` in the simulator page until it is truthy (the page draws asynchronously)."""
    value = None
    for _ in range(tries):
        value = frame.evaluate(js)
        if value:
            return value
        nb.pump(100)
    raise AssertionError(f"the simulator page never showed {what}; last: {value!r}\n"
                         f"{nb.diagnostics()}")


def test_the_agent_notebook_drives_the_simulator(lab_server, page):
    shutil.copy(AGENT, lab_server.root_dir / "agent.ipynb")
    nb = open_notebook(page, lab_server, "agent.ipynb")
    try:
        cells = nbformat.read(AGENT, as_version=4).cells
        for index, cell in enumerate(cells):
            if cell.cell_type == "code":
                nb.run_cell(index, timeout=180)
        assert nb.kernel.eval("headless") is False
        assert nb.kernel.eval("answer") == "Done: the cart is open, in orange ink."
        sent = nb.kernel.eval("[e.data for e in session.log.filter(direction='out')]")
        other_tab = nb.kernel.eval("session.active_connection_id")
        # the bad call (mode 'laser') was answered, not sent; the rest went out in order
        assert sent[:5] == [
            {"action": "setMode", "mode": "draw"},
            {"action": "switchColor", "color": "#e4572e"},
            {"action": "setCurrentUrl", "url": f"{SHOP}/cart"},
            {"action": "emojiConfetti", "emoji": "🛒"},
            {"action": "setActiveConnection", "connectionId": other_tab},
        ]
        assert not any(m.get("mode") == "laser" for m in sent)
        # perform: the pointer tool, then the page's answer through events()
        assert sent[5:7] == [{"action": "setMode", "mode": "pointer"},
                             {"action": "sendCustomMessage",
                              "message": {"question": "Found what you need?"}}]
        transcript = "\n".join(nb.cell_output_text(i) for i in range(len(cells))
                               if cells[i].cell_type == "code")
        assert "set_mode: mode='laser' is not valid: allowed: 'draw', 'pointer' or 'cursor'" \
            in transcript
        assert "tool: pointer" in transcript
        assert "the visitor's page answered:" in transcript
        assert "status over MCP: viewerReady" in transcript

        # what the visitor's page shows: the iframe received the agent's instructions
        frame = simulator_frame(nb)
        wait_in_frame(nb, frame, "document.getElementById('tool-name').textContent === 'pointer'",
                      "the pointer tool")
        wait_in_frame(nb, frame, "getComputedStyle(document.getElementById('sim'))"
                                 ".getPropertyValue('--agent').trim() === '#e4572e'",
                      "the agent's orange")
        tab_urls = frame.evaluate("Object.fromEntries([...document.querySelectorAll('#tabs .tab')]"
                                  ".map(t => [t.dataset.connection, t.title]))")
        assert tab_urls["conn-1"] == f"{SHOP}/cart"
        active = frame.evaluate("document.querySelector('#tabs .tab.on').dataset.connection")
        assert active == other_tab == "conn-2"
        assert nb.kernel.eval("session.rejected_messages") == 0
    finally:
        nb.close()


async def call_over_mcp(url: str, token: str) -> tuple[list[Any], Any, Any]:
    """The official MCP client, as an agent outside the notebook would use it."""
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http, \
            streamable_http_client(url, http_client=http) as (read, write), \
            ClientSession(read, write) as client:
        await client.initialize()
        tools = (await client.list_tools()).tools
        drawn = await client.call_tool("set_mode", {"mode": "draw"})
        refused = await client.call_tool("set_mode", {"mode": "laser"})
        return tools, drawn, refused


async def refused_client(url: str) -> None:
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    async with create_mcp_http_client(headers={"Authorization": "Bearer not-the-token"}) as http, \
            streamable_http_client(url, http_client=http) as (read, write), \
            ClientSession(read, write) as client:
        await client.initialize()


def test_an_mcp_client_drives_the_live_kernel(lab_server, make_notebook):
    nb = make_notebook(lab_server, [
        "from upscope_widget import UpscopeSession\n"
        "session = UpscopeSession.simulate(seed=3, height=300)\n"
        "session",
        "server = session.serve_mcp()",
    ])
    nb.run_all()
    nb.wait_for_kernel("session.session_status", lambda s: s == "viewerReady", timeout=60)
    url, token = nb.kernel.eval("[server.url, server.token]")
    assert url.startswith("http://127.0.0.1:")

    tools, drawn, refused = run(call_over_mcp(url, token))
    names = {tool.name for tool in tools}
    assert {"set_mode", "get_session_state", "wait_for_status"} <= names
    assert "run_console_command" not in names
    assert drawn.is_error is False
    assert drawn.structured_content["sent"] == {"action": "setMode", "mode": "draw"}
    # the server waited for the effect: the state it answers with already shows it
    assert drawn.structured_content["state"]["control_tool"] == "drawing"
    assert refused.is_error is True
    assert "mode='laser'" in refused.structured_content["error"]

    # the instruction reached the iframe: the simulated page shows the drawing tool
    frame = simulator_frame(nb)
    wait_in_frame(nb, frame, "document.getElementById('tool-name').textContent === 'drawing'",
                  "the drawing tool")
    assert frame.evaluate("document.getElementById('overlay').dataset.tool") == "drawing"

    # a wrong token, or none, is refused, and nothing more is sent
    request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
               "params": {"name": "end_session", "arguments": {}}}
    headers = {"Accept": "application/json, text/event-stream"}
    for auth in ({}, {"Authorization": f"Bearer {token[:-1]}x"}, {"Authorization": token}):
        answer = httpx.post(url, json=request, headers={**headers, **auth}, timeout=30)
        assert answer.status_code == 401, auth
    with pytest.raises(BaseException):  # noqa: B017 - the SDK wraps the 401 in a group
        run(refused_client(url))
    sent = nb.kernel.eval("[e.data for e in session.log.filter(direction='out')]")
    assert sent == [{"action": "setMode", "mode": "draw"}]
    assert nb.kernel.eval("session.ended") is False

    nb.kernel.execute("server.stop()")
    nb.wait_for_kernel("server.running", lambda running: running is False, timeout=30)
    with pytest.raises(httpx.TransportError):
        httpx.post(url, json=request, headers=headers, timeout=10)
    assert json.dumps(nb.kernel.eval("repr(server)")).count(token) == 0


PERFORM_EVERY_INSTRUCTION = """
import json
SHOP = "https://shop.acme-outfitters.example"
await session.wait_for_status("viewerReady", timeout=60)
steps = [
    ("set_mode", {"mode": "draw"}), ("set_mode", {"mode": "pointer"}), ("set_mode", {"mode": None}),
    ("switch_color", {"color": "#123456"}), ("switch_color", {}),
    ("toggle_audio", {"on": True}), ("set_muted", {"muted": True}), ("set_muted", {"muted": False}),
    ("toggle_audio", {"on": False}),
    ("begin_video", {}), ("end_video", {}), ("toggle_video", {}), ("toggle_video", {}),
    ("set_current_url", {"url": SHOP + "/cart"}), ("history_back", {}), ("history_forward", {}),
    ("set_active_connection", {"connection_id": "conn-2"}),
    ("request_full_tab", {}), ("stop_full_tab", {}),
    ("force_refresh", {}), ("reload_page", {}), ("request_control", {}),
    ("send_custom_message", {"message": {"hi": 1}}), ("emoji_confetti", {"emoji": "🎉"}),
    ("run_console_command", {"command": "document.title"}),
    ("end_session", {}),
]
done = []
for name, params in steps:
    state = await session.perform(name, timeout=30, **params)
    done.append([name, state.control_tool, state.color, state.current_url, state.mode,
                 state.is_video_on, state.session_status])
print(json.dumps(done))
"""


def test_every_effect_shows_on_the_simulator(lab_server, make_notebook):
    """The effect table matches how the simulator page answers each instruction."""
    nb = make_notebook(lab_server, [
        "from upscope_widget import UpscopeSession\n"
        "session = UpscopeSession.simulate(seed=5, time_scale=0.2, height=300)\n"
        "session",
    ])
    nb.run_all()
    done = json.loads(nb.kernel.execute(PERFORM_EVERY_INSTRUCTION, timeout=300).strip())
    names = [row[0] for row in done]
    assert {resolve_action(n) for n in names} == set(protocol.INSTRUCTION_PARAMS)
    by_step = dict(enumerate(done))
    assert by_step[0][1] == "drawing" and by_step[2][1] is None
    assert by_step[3][2] == "#123456" and by_step[4][2] != "#123456"
    assert by_step[13][3] == f"{SHOP}/cart" and by_step[14][3] == f"{SHOP}/"
    assert by_step[17][4] == "visitor_screen" and by_step[18][4] == "visitor_browser"
    assert [by_step[i][5] for i in (9, 10, 11, 12)] == [True, False, True, False]
    assert done[-1][6] == "terminated"
    frame = simulator_frame(nb)
    wait_in_frame(nb, frame, "document.getElementById('cover-title').textContent "
                             "=== 'Session ended'", "the end of the session")
