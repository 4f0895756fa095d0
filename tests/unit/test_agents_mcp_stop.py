"""``McpServerHandle.stop()``: refuses at once, ends what is in flight, and really finishes.

Every wait here is bounded by ``BOUND``, generous for a slow, busy machine yet far below the
time the calls under test would otherwise take (a 60 s tool call, a body that never comes), so a
stop that does not end them fails the test instead of hanging it.
"""

from __future__ import annotations

import asyncio
import gc
import json
import weakref
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from support.aio import run
from support.wire import batch, full, snapshot
from upscope_widget.agents import mcp as agents_mcp

HELLO = {"kind": "hello", "posted": 0}
BOUND = 20.0
HEADERS = {"Accept": "application/json, text/event-stream", "Content-Type": "application/json"}


def ready(make_session):
    session, comm = make_session()
    comm.from_frontend(HELLO)
    comm.from_frontend(batch(full(snapshot())))
    return session, comm


def sent(comm):
    return [message for m in comm.customs() if m.get("kind") == "instructions"
            for _seq, message in m["items"]]


def call(name, arguments):
    return {"jsonrpc": "2.0", "id": 1, "method": "tools/call",
            "params": {"name": name, "arguments": arguments}}


async def bounded(awaitable, what):
    """Await ``awaitable`` for at most ``BOUND`` seconds; fail the test (not hang) after that."""
    try:
        return await asyncio.wait_for(awaitable, BOUND)
    except asyncio.TimeoutError:
        raise AssertionError(f"{what} did not happen within {BOUND:g} s") from None


class Probe:
    """Stands in for the runner in mcp.py: records each tool call that reaches it, and its end."""

    def __init__(self, real: Callable[..., Any]) -> None:
        self.real = real
        self.entered: list[str] = []
        self.ended: list[tuple[str, str]] = []
        self._changed: asyncio.Event | None = None

    def _note(self) -> None:
        if self._changed is not None:
            self._changed.set()
            self._changed = None

    async def __call__(self, session, name, *args, **kwargs):
        self.entered.append(name)
        self._note()
        try:
            result = await self.real(session, name, *args, **kwargs)
        except asyncio.CancelledError:
            self.ended.append((name, "cancelled"))
            self._note()
            raise
        self.ended.append((name, "returned"))
        self._note()
        return result

    async def until(self, predicate: Callable[[], bool], what: str) -> None:
        async def waiting() -> None:
            while not predicate():
                if self._changed is None:
                    self._changed = asyncio.Event()
                await self._changed.wait()

        await bounded(waiting(), what)


@pytest.fixture
def probe(monkeypatch):
    probe = Probe(agents_mcp.run_tool_call)
    monkeypatch.setattr(agents_mcp, "run_tool_call", probe)
    return probe


def port_of(handle):
    return int(handle.url.rsplit(":", 1)[1].split("/", 1)[0])


async def post_with_stalled_body(handle, body):
    """Send a request's head with ``Expect: 100-continue``; return once the app awaits the body.

    The server answers ``100 Continue`` only when the application first asks for the body, so
    after it the request has passed the token check and is in flight inside the app.
    """
    port = port_of(handle)
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = (
        f"POST /mcp HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: Bearer {handle.token}\r\n"
        f"Accept: {HEADERS['Accept']}\r\nContent-Type: application/json\r\n"
        f"Content-Length: {len(body)}\r\nExpect: 100-continue\r\n\r\n"
    ).encode()
    writer.write(head)
    await writer.drain()
    interim = await bounded(reader.readuntil(b"\r\n\r\n"), "the 100 Continue")
    assert interim.startswith(b"HTTP/1.1 100"), interim
    return reader, writer


async def until_eof(reader):
    """Everything the server still sends on this connection, until it closes it."""
    try:
        return await bounded(reader.read(), "the server closing the connection")
    except ConnectionResetError:
        return b""


def test_after_stop_returns_no_request_reaches_the_session(make_session, probe):
    session, comm = ready(make_session)

    async def main():
        handle = session.serve_mcp(wait=False)
        auth = {**HEADERS, **handle.headers}
        outcomes = []
        async with httpx.AsyncClient(timeout=BOUND) as kept, \
                httpx.AsyncClient(timeout=BOUND) as fresh:
            # opens the keep-alive connection the next request would reuse
            first = await kept.post(handle.url, json=call("set_mode", {"mode": "draw"}),
                                    headers=auth)
            handle.stop()
            running = handle.running
            for http in (kept, fresh):
                try:
                    answer = await http.post(
                        handle.url, json=call("set_mode", {"mode": "pointer"}), headers=auth)
                    outcomes.append(answer.status_code)
                except httpx.TransportError as err:
                    outcomes.append(type(err).__name__)
        await bounded(handle.wait_closed(), "the server stopping")
        return first.status_code, running, outcomes, handle.running

    status, running_after_stop, outcomes, running_at_end = run(main())
    assert status == 200
    assert running_after_stop is False
    assert running_at_end is False
    # refused: a 503 from the server, or no connection at all
    assert all(o == 503 or isinstance(o, str) for o in outcomes), outcomes
    assert probe.entered == ["set_mode"]
    assert sent(comm) == [{"action": "setMode", "mode": "draw"}]


def test_stop_ends_a_tool_call_in_flight_within_the_deadline(make_session, probe):
    session, comm = ready(make_session)

    async def main():
        handle = session.serve_mcp(timeout=60)
        loop = asyncio.get_running_loop()
        async with httpx.AsyncClient(timeout=3 * BOUND) as http:
            pending = asyncio.ensure_future(http.post(
                handle.url, headers={**HEADERS, **handle.headers},
                json=call("wait_for_status", {"status": "terminated", "timeout_seconds": 60})))
            await probe.until(lambda: probe.entered == ["wait_for_status"], "the tool call")
            stopped_at = loop.time()
            handle.stop()
            running = handle.running
            await bounded(handle.wait_closed(), "the server stopping")
            took = loop.time() - stopped_at
            try:
                answer: Any = await bounded(pending, "the answer")
            except httpx.TransportError as err:
                answer = err
        return running, took, answer

    running, took, answer = run(main())
    assert running is False
    assert took < BOUND
    assert probe.ended == [("wait_for_status", "cancelled")]
    # the client hears why: the tool's error answer, or the 503 of a request cut short
    assert isinstance(answer, httpx.Response), answer
    if answer.status_code == 200:
        result = answer.json()["result"]
        assert result["isError"] is True
        assert "stopped" in result["structuredContent"]["error"]
    else:
        assert answer.status_code == 503
        assert "stopped" in answer.json()["error_description"]
    assert sent(comm) == []


def test_stop_ends_a_request_whose_body_is_still_coming(make_session, probe):
    session, comm = ready(make_session)

    async def main():
        handle = session.serve_mcp(wait=False)
        body = json.dumps(call("end_session", {})).encode()
        reader, writer = await post_with_stalled_body(handle, body)
        writer.write(body[:10])
        await writer.drain()
        handle.stop()
        running = handle.running
        await bounded(handle.wait_closed(), "the server stopping")
        rest = await until_eof(reader)
        writer.close()
        return running, rest

    running, rest = run(main())
    assert running is False
    assert rest.startswith(b"HTTP/1.1 503"), rest
    assert b"stopped" in rest
    assert probe.entered == []
    assert sent(comm) == []


def test_a_body_finished_after_stop_runs_no_tool(make_session, probe):
    session, comm = ready(make_session)

    async def main():
        handle = session.serve_mcp(wait=False)
        body = json.dumps(call("end_session", {})).encode()
        reader, writer = await post_with_stalled_body(handle, body)
        handle.stop()
        try:
            writer.write(body)
            await writer.drain()
        except OSError:  # the server may have closed the connection already: also a refusal
            pass
        rest = await until_eof(reader)
        await bounded(handle.wait_closed(), "the server stopping")
        writer.close()
        return rest

    rest = run(main())
    assert not rest.startswith(b"HTTP/1.1 200"), rest
    assert probe.entered == []
    assert sent(comm) == []


def test_stop_from_another_thread_refuses_at_once(make_session, probe):
    session, comm = ready(make_session)

    async def main():
        handle = session.serve_mcp(wait=False)
        loop = asyncio.get_running_loop()
        await loop.run_in_executor(None, handle.stop)
        running = handle.running
        await bounded(handle.wait_closed(), "the server stopping")
        async with httpx.AsyncClient(timeout=BOUND) as http:
            try:
                answer = await http.post(handle.url, json=call("set_mode", {"mode": "draw"}),
                                         headers={**HEADERS, **handle.headers})
                outcome: Any = answer.status_code
            except httpx.TransportError as err:
                outcome = type(err).__name__
        return running, outcome

    running, outcome = run(main())
    assert running is False
    assert outcome == 503 or isinstance(outcome, str), outcome
    assert probe.entered == []
    assert sent(comm) == []


def test_wait_closed_lets_its_caller_be_cancelled(make_session):
    session, _ = ready(make_session)

    async def main():
        handle = session.serve_mcp()
        waiting = asyncio.Event()

        async def waiter():
            waiting.set()  # the await below suspends in this same step, inside wait_closed
            await handle.wait_closed()

        task = asyncio.ensure_future(waiter())
        await bounded(waiting.wait(), "the waiter starting")
        task.cancel()
        await bounded(asyncio.wait({task}), "the waiter ending")
        still_running = handle.running
        handle.stop()
        await bounded(handle.wait_closed(), "the server stopping")
        return task.cancelled(), still_running

    cancelled, still_running = run(main())
    assert cancelled is True
    assert still_running is True  # cancelling a waiter does not stop the server


def test_closing_the_session_stops_its_endpoints(make_session, probe):
    session, comm = ready(make_session)

    async def main():
        handles = [session.serve_mcp(), session.serve_mcp()]
        session.close()
        running = [h.running for h in handles]
        for handle in handles:
            await bounded(handle.wait_closed(), "the server stopping")
        outcomes = []
        async with httpx.AsyncClient(timeout=BOUND) as http:
            for handle in handles:
                try:
                    answer = await http.post(handle.url, json=call("set_mode", {"mode": "draw"}),
                                             headers={**HEADERS, **handle.headers})
                    outcomes.append(answer.status_code)
                except httpx.TransportError as err:
                    outcomes.append(type(err).__name__)
        return running, outcomes

    running, outcomes = run(main())
    assert running == [False, False]
    assert all(o == 503 or isinstance(o, str) for o in outcomes), outcomes
    assert probe.entered == []
    assert sent(comm) == []


def test_a_stopped_endpoint_is_not_kept_alive_by_its_session(make_session):
    session, _ = ready(make_session)

    async def main():
        handle = session.serve_mcp()
        handle.stop()
        await bounded(handle.wait_closed(), "the server stopping")
        return weakref.ref(handle)

    ref = run(main())
    gc.collect()
    assert ref() is None
    assert not agents_mcp._RUNNING
    session.close()  # and closing the session afterwards is harmless
