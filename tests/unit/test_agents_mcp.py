"""``serve_mcp``: the official MCP client lists and calls the session's tools; tokens guard it.

Here the server runs on a plain asyncio loop with a recorded comm; tests/e2e/test_agents_jupyter.py
runs it inside a live kernel with the simulator in Chromium.
"""

from __future__ import annotations

import asyncio
import sys

import httpx
import pytest

from support.aio import run
from support.wire import batch, full, snapshot
from upscope_widget.agents import mcp as agents_mcp

HELLO = {"kind": "hello", "posted": 0}


def ready(make_session, **state):
    session, comm = make_session()
    comm.from_frontend(HELLO)
    comm.from_frontend(batch(full(snapshot(**state))))
    return session, comm


def sent(comm):
    return [message for m in comm.customs() if m.get("kind") == "instructions"
            for _seq, message in m["items"]]


async def mcp_session(url, headers, body):
    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    async with create_mcp_http_client(headers=headers) as http, \
            streamable_http_client(url, http_client=http) as (read, write), \
            ClientSession(read, write) as client:
        await client.initialize()
        return await body(client)


def test_the_official_client_lists_and_calls_the_tools(make_session):
    session, comm = ready(make_session)
    heard = []
    session.on_instruction(lambda action, params, source: heard.append((action, params, source)))

    async def main():
        handle = session.serve_mcp(wait=True, timeout=5)
        assert handle.url.startswith("http://127.0.0.1:") and handle.url.endswith("/mcp")
        assert handle.token not in repr(handle)
        loop = asyncio.get_running_loop()

        async def body(client):
            tools = (await client.list_tools()).tools
            # the effect arrives while the tool call waits for it
            loop.call_later(0.1, comm.from_frontend, batch({"s": {"controlTool": "drawing"}}))
            drawn = await client.call_tool("set_mode", {"mode": "draw"})
            bad = await client.call_tool("set_mode", {"mode": "laser"})
            hidden = await client.call_tool("run_console_command", {"command": "1"})
            state = await client.call_tool("get_session_state", {})
            return tools, drawn, bad, hidden, state

        try:
            return await mcp_session(handle.url, handle.headers, body)
        finally:
            handle.stop()
            await handle.wait_closed()
            assert not handle.running

    tools, drawn, bad, hidden, state = run(main())
    by_name = {t.name: t for t in tools}
    assert "set_mode" in by_name and "run_console_command" not in by_name
    assert by_name["get_session_state"].annotations.read_only_hint is True
    assert by_name["end_session"].annotations.destructive_hint is True
    assert by_name["set_mode"].input_schema["required"] == ["mode"]
    assert drawn.is_error is False
    assert drawn.structured_content["sent"] == {"action": "setMode", "mode": "draw"}
    assert drawn.structured_content["state"]["control_tool"] == "drawing"
    assert bad.is_error is True and "mode='laser'" in bad.structured_content["error"]
    assert hidden.is_error is True and "not offered" in hidden.structured_content["error"]
    assert state.structured_content["state"]["control_tool"] == "drawing"
    assert sent(comm) == [{"action": "setMode", "mode": "draw"}]
    # the endpoint's instructions take the one outbound path, told and logged as "mcp"
    assert heard == [("setMode", {"mode": "draw"}, "mcp")]
    assert [(e.kind, e.source) for e in session.log if e.direction == "out"] == [
        ("setMode", "mcp")]


def test_requests_without_the_token_are_refused(make_session):
    session, comm = ready(make_session)

    async def main():
        handle = session.serve_mcp(token="s3cret-token-of-24-chars")
        request = {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
                   "params": {"name": "set_mode", "arguments": {"mode": "draw"}}}
        headers = {"Accept": "application/json, text/event-stream",
                   "Content-Type": "application/json"}
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                answers = [
                    await http.post(handle.url, json=request, headers=headers),
                    await http.post(handle.url, json=request, headers={
                        **headers, "Authorization": "Bearer s3cret-token-of-24-charX"}),
                    await http.post(handle.url, json=request, headers={
                        **headers, "Authorization": "s3cret-token-of-24-chars"}),
                ]
            with pytest.raises(BaseException):  # noqa: B017 - the SDK wraps it in a group
                await mcp_session(handle.url, {"Authorization": "Bearer wrong"},
                                  lambda client: client.list_tools())
            return answers
        finally:
            handle.stop()
            await handle.wait_closed()

    answers = run(main())
    assert [a.status_code for a in answers] == [401, 401, 401]
    assert answers[0].headers["www-authenticate"].startswith("Bearer")
    assert sent(comm) == []


def test_bad_settings_are_clear_value_errors(make_session):
    session, _ = ready(make_session)

    async def attempt(**kwargs):
        session.serve_mcp(**kwargs)

    with pytest.raises(ValueError, match=r"host='0.0.0.0' would let other machines.*allow_remote"):
        run(attempt(host="0.0.0.0"))
    with pytest.raises(ValueError, match="port must be an int"):
        run(attempt(port=70000))
    with pytest.raises(ValueError, match="token must be a string of at least 16"):
        run(attempt(token="short"))
    with pytest.raises(ValueError, match="include names 'fly'"):
        run(attempt(include=["fly"]))
    with pytest.raises(RuntimeError, match="running asyncio loop"):
        session.serve_mcp()


def test_remote_binding_needs_the_explicit_argument(make_session):
    session, _ = ready(make_session)

    async def main():
        handle = session.serve_mcp(host="0.0.0.0", allow_remote=True)
        local = handle.url.replace("0.0.0.0", "127.0.0.1")
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                answer = await http.post(local, json={})

            async def body(client):
                return [tool.name for tool in (await client.list_tools()).tools]

            names = await mcp_session(local, handle.headers, body)
            return handle.url, answer.status_code, names
        finally:
            handle.stop()
            await handle.wait_closed()

    url, status, names = run(main())
    assert url.startswith("http://0.0.0.0:")
    assert status == 401
    assert "set_mode" in names  # with the token, it serves


def test_without_the_sdk_the_error_names_the_extra(make_session, monkeypatch):
    session, _ = ready(make_session)
    monkeypatch.setitem(sys.modules, "mcp.server.lowlevel", None)

    async def attempt():
        session.serve_mcp()

    with pytest.raises(ImportError, match=r"'agents' extra.*upscope-widget\[agents\]"):
        run(attempt())
    assert not agents_mcp._RUNNING


LIST = {"jsonrpc": "2.0", "id": 1, "method": "tools/list", "params": {}}
SET_MODE = {"jsonrpc": "2.0", "id": 2, "method": "tools/call",
            "params": {"name": "set_mode", "arguments": {"mode": "draw"}}}
ACCEPT = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def test_the_bearer_scheme_is_case_insensitive(make_session):
    session, comm = ready(make_session)
    token = "s3cret-token-of-24-chars"
    accepted = [f"{scheme} {token}" for scheme in ("Bearer", "bearer", "BEARER", "bEaReR")]
    accepted.append(f"Bearer  {token}")  # RFC 9110: one or more spaces after the scheme
    refused = [f"Bearer{token}", f"Basic {token}", f"Token {token}", "Bearer",
               f"Bearer {token.upper()}", f"Bearer {token} more", f"Bearer {token[:-1]}"]

    async def main():
        handle = session.serve_mcp(token=token, wait=False)
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                good = [(await http.post(handle.url, json=LIST,
                                         headers={**ACCEPT, "Authorization": value})).status_code
                        for value in accepted]
                bad = [(await http.post(handle.url, json=SET_MODE,
                                        headers={**ACCEPT, "Authorization": value})).status_code
                       for value in refused]
            return good, bad
        finally:
            handle.stop()
            await handle.wait_closed()

    good, bad = run(main())
    assert good == [200] * len(accepted)
    assert bad == [401] * len(refused)
    assert sent(comm) == []


def test_two_authorization_headers_are_refused(make_session):
    session, comm = ready(make_session)

    async def main():
        handle = session.serve_mcp(wait=False)
        right = ("Authorization", handle.headers["Authorization"])
        wrong = ("Authorization", "Bearer not-the-token-at-all")
        try:
            async with httpx.AsyncClient(timeout=30) as http:
                return [await http.post(handle.url, json=SET_MODE,
                                        headers=[*ACCEPT.items(), *pair])
                        for pair in ([wrong, right], [right, wrong], [right, right])]
        finally:
            handle.stop()
            await handle.wait_closed()

    answers = run(main())
    assert [a.status_code for a in answers] == [400, 400, 400]
    for answer in answers:
        error = answer.json()
        assert error["error"] == "invalid_request"
        assert "2 Authorization headers" in error["error_description"]
        assert "exactly one" in error["error_description"]
    assert sent(comm) == []
