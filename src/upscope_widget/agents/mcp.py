"""``session.serve_mcp()``: an MCP server (streamable HTTP) for the live session, in the kernel.

Where it runs, and why: on the asyncio loop that is running when ``serve_mcp`` is called,
which in a notebook is the kernel's own main loop, not a thread of its own. So a tool call
touches the session on the same thread as the cell code and the widget's handlers, never
concurrently with them (traitlets and the comm are not thread-safe), and a tool call that waits
for an effect (``wait=True``) sees the state updates as they arrive: the kernel's loop handles
the widget's messages from the browser while it is idle or while a cell awaits. The price: while
a cell runs blocking code (a ``time.sleep``, a long computation), MCP requests wait until it
finishes or awaits, just as the widget's own messages do.

The SDK is the optional extra ``upscope-widget[agents]`` (the official ``mcp`` package), imported
only here.
"""

from __future__ import annotations

import asyncio
import contextlib
import hmac
import ipaddress
import json
import logging
import secrets
import socket
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from typing import TYPE_CHECKING, Any

from .._waiting import check_timeout
from .runner import run_tool_call
from .tools import select_tools, tool_spec

if TYPE_CHECKING:
    from ..session import UpscopeSession

_LOG = logging.getLogger("upscope_widget")
EXTRA_HINT = "pip install 'upscope-widget[agents]'"
MIN_TOKEN_LENGTH = 16
MCP_PATH = "/mcp"

STOP_DEADLINE = 1.0
"""Seconds a tool call under way when ``stop()`` is called may still take before it is cancelled."""
ANSWER_GRACE = 0.25
"""Seconds the requests ended by ``stop()`` get to write their answers before being cut."""
SERVER_GRACE = 5.0
"""Seconds the server gets to finish after the connections are closed, before it is cancelled."""
STOPPED = (
    "this MCP endpoint was stopped (McpServerHandle.stop(), or its session was closed); "
    "start a new one with session.serve_mcp()"
)

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Handles whose server (or its stop) still runs: asyncio keeps only weak references to tasks.
_RUNNING: set[McpServerHandle] = set()


def _import_sdk() -> tuple[Any, Any, Any]:
    try:
        import mcp_types
        import uvicorn
        from mcp.server.lowlevel import Server
    except ImportError as err:
        raise ImportError(
            f"serve_mcp needs the 'agents' extra (the official mcp SDK): {EXTRA_HINT}"
            f" ({err})"
        ) from err
    return mcp_types, uvicorn, Server


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _json_refusal(status: int, error: str, description: str,
                  extra: Iterable[tuple[bytes, bytes]] = ()) -> tuple[Message, Message]:
    """Build the two ASGI messages of a small JSON error answer (OAuth-style fields)."""
    body = json.dumps({"error": error, "error_description": description}).encode()
    start: Message = {
        "type": "http.response.start",
        "status": status,
        "headers": [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
            *extra,
        ],
    }
    return start, {"type": "http.response.body", "body": body}


async def _refuse(send: Send, status: int, error: str, description: str,
                  extra: Iterable[tuple[bytes, bytes]] = ()) -> None:
    for message in _json_refusal(status, error, description, extra):
        await send(message)


def _bearer_credentials(value: bytes) -> tuple[bytes, bytes | None]:
    """Split an ``Authorization`` value into its scheme and, for ``Bearer``, the token.

    RFC 9110: the scheme is case-insensitive and one or more spaces separate it from the
    credentials. The token is ``None`` for another scheme or when there is none.
    """
    scheme, separator, rest = value.partition(b" ")
    credentials = rest.lstrip(b" ")
    if not separator or scheme.lower() != b"bearer" or not credentials:
        return scheme, None
    return scheme, credentials


def bearer_auth(app: ASGIApp, token: str) -> ASGIApp:
    """Wrap an ASGI app: HTTP requests need exactly one ``Authorization: Bearer <token>``.

    The scheme is case-insensitive (``bearer``, ``BEARER`` …); the token is compared in
    constant time. A missing or wrong token gets ``401``; a request with two or more
    ``Authorization`` headers gets ``400`` (which one would count is ambiguous, so none does).
    """
    expected = token.encode()
    challenge = [(b"www-authenticate", b'Bearer realm="upscope-widget"')]
    how = "send the token shown by serve_mcp() as 'Authorization: Bearer <token>'"

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = [value for key, value in scope.get("headers") or ()
                     if key.lower() == b"authorization"]
            if len(given) > 1:
                await _refuse(send, 400, "invalid_request",
                              f"got {len(given)} Authorization headers; send exactly one: "
                              "'Authorization: Bearer <token>'")
                return
            scheme, credentials = _bearer_credentials(given[0]) if given else (b"", None)
            # constant time: how much of the token matched must not show in the timing
            matched = hmac.compare_digest(credentials or b"", expected)
            if credentials is None or not matched:
                if not given:
                    why = "no Authorization header"
                elif credentials is None and scheme.lower() != b"bearer":
                    shown = scheme[:20].decode("latin-1")
                    why = f"the Authorization scheme {shown!r} is not allowed, only 'Bearer'"
                elif credentials is None:
                    why = "no token after 'Bearer'"
                else:
                    why = "the token does not match"
                await _refuse(send, 401, "unauthorized", f"{why}: {how}", challenge)
                return
        await app(scope, receive, send)

    return guarded


class _Gate:
    """What the handle shares with the ASGI wrapper and the tool handler of one server.

    All of it is touched on the server's event loop only (``stopped`` is also set from
    :meth:`McpServerHandle.stop` on any thread: a plain bool, read by the loop).
    """

    def __init__(self) -> None:
        self.stopped = False
        self.requests: set[asyncio.Task[Any]] = set()  # HTTP requests being served
        self.calls: set[asyncio.Task[Any]] = set()  # tool calls running
        self.cut: set[asyncio.Task[Any]] = set()  # requests that stop() cancelled


def _stoppable(app: ASGIApp, gate: _Gate) -> ASGIApp:
    """Wrap an ASGI app: once ``gate`` is stopped, HTTP requests get ``503`` and never reach it.

    It also records the requests under way, so that stop can end them; a request that stop
    cancels answers ``503`` (or, if its answer had begun, ends it) instead of a server error.
    """

    async def gated(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # the lifespan, which must still shut the app down
            await app(scope, receive, send)
            return
        if gate.stopped:
            await _refuse(send, 503, "stopped", STOPPED, [(b"connection", b"close")])
            return
        task = asyncio.current_task()
        assert task is not None  # an ASGI server always runs a request in a task
        started = complete = False

        async def watched(message: Message) -> None:
            nonlocal started, complete
            if message["type"] == "http.response.start":
                started = True
            elif message["type"] == "http.response.body" and not message.get("more_body"):
                complete = True
            await send(message)

        gate.requests.add(task)
        try:
            await app(scope, receive, watched)
        except asyncio.CancelledError:
            if task not in gate.cut:
                raise
            uncancel = getattr(task, "uncancel", None)  # Python 3.11+: it was handled here
            if uncancel is not None:
                uncancel()
        finally:
            gate.requests.discard(task)
        if task in gate.cut:
            gate.cut.discard(task)
            if not started:
                await _refuse(send, 503, "stopped", STOPPED, [(b"connection", b"close")])
            elif not complete:
                await send({"type": "http.response.body", "body": b"", "more_body": False})

    return gated


class McpServerHandle:
    """A running MCP server for one session: its ``url``, ``token``, and ``stop()``.

    Clients send ``Authorization: Bearer <token>`` with every request. ``repr`` never shows
    the token.
    """

    def __init__(
        self,
        *,
        url: str,
        token: str,
        tools: list[str],
        server: Any,
        task: asyncio.Task[Any],
        gate: _Gate | None = None,
        on_finished: Callable[[], None] | None = None,
    ) -> None:
        self.url = url
        self.token = token
        self.tools = tools
        self._server = server
        self._task = task
        self._loop = task.get_loop()
        self._gate = gate if gate is not None else _Gate()
        self._on_finished = on_finished
        self._closer: asyncio.Task[None] | None = None
        task.add_done_callback(self._settle)

    @property
    def running(self) -> bool:
        """Whether the server still serves: false as soon as :meth:`stop` was called."""
        return not self._gate.stopped and not self._task.done()

    @property
    def headers(self) -> dict[str, str]:
        """The HTTP headers a client must send."""
        return {"Authorization": f"Bearer {self.token}"}

    def stop(self) -> None:
        """Stop serving; once this returns, no request reaches the session any more.

        At once: every new request is refused (new connections are not accepted, a request on
        a connection still open gets ``503``), idle connections are closed, ``running`` is
        false, and no tool call starts. A tool call already under way may finish for
        ``STOP_DEADLINE`` seconds (1 s); then it is cancelled and answers with an error.
        Requests still open after that (a body still being sent, say) are cut with ``503`` and
        their connections closed; then the server finishes (:meth:`wait_closed`). Calling it
        again does nothing. It may be called from any thread.
        """
        if self._gate.stopped:
            return
        self._gate.stopped = True
        try:
            current: asyncio.AbstractEventLoop | None = asyncio.get_running_loop()
        except RuntimeError:
            current = None
        if current is self._loop:
            self._begin_stop()
        elif not self._loop.is_closed():
            # the server's objects belong to its loop: the rest happens there
            with contextlib.suppress(RuntimeError):  # the loop closed in between
                self._loop.call_soon_threadsafe(self._begin_stop)

    def _begin_stop(self) -> None:
        server = self._server
        server.should_exit = True
        # uvicorn notices should_exit only at its next tick (0.1 s); refuse connections now
        for listener in getattr(server, "servers", ()):
            listener.close()
        for connection in _connections(server):
            # uvicorn's own graceful step: closes idle keep-alive connections, and makes busy
            # ones close after their answer; a connection in a broken state must not stop us
            with contextlib.suppress(Exception):
                connection.shutdown()
        self._closer = self._loop.create_task(
            self._close(), name=f"upscope-mcp-stop:{self.url}")
        self._closer.add_done_callback(self._settle)

    async def _close(self) -> None:
        """End what is in flight within the deadline, then make sure the server finishes."""
        gate = self._gate
        if gate.calls:
            await asyncio.wait(set(gate.calls), timeout=STOP_DEADLINE)
            for call in list(gate.calls):
                call.cancel()
            if gate.requests:
                # the calls just ended answer with an error: let those answers out first
                await asyncio.wait(set(gate.requests), timeout=ANSWER_GRACE)
        # what is left cannot run a tool any more (the gate refuses): no reason to wait for it
        for request in list(gate.requests):
            gate.cut.add(request)
            request.cancel()
        if gate.requests:
            await asyncio.wait(set(gate.requests), timeout=ANSWER_GRACE)
        for connection in _connections(self._server):
            transport = getattr(connection, "transport", None)
            if transport is not None:
                transport.close()  # flushes what was written, then closes
        await asyncio.wait({self._task}, timeout=SERVER_GRACE)
        if not self._task.done():
            _LOG.warning("the MCP server at %s did not finish %g s after stop(); cancelling it",
                         self.url, SERVER_GRACE)
            self._task.cancel()
            await asyncio.wait({self._task})

    def _settle(self, _done: asyncio.Task[Any]) -> None:
        """Once the server and the stop are both over: forget the handle, run ``on_finished``."""
        if not self._task.done() or (self._closer is not None and not self._closer.done()):
            return
        _RUNNING.discard(self)
        finished, self._on_finished = self._on_finished, None
        if finished is not None:
            finished()

    async def wait_closed(self) -> None:
        """Wait until the server has stopped (after :meth:`stop`, or on its own).

        If the server failed, the error was logged and this returns all the same. Cancelling
        the caller cancels only this wait (``CancelledError`` propagates), not the server.
        """
        await asyncio.wait({self._task})
        if self._closer is not None:
            await asyncio.wait({self._closer})

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<McpServerHandle {self.url} {state} tools={len(self.tools)} token=***>"


def _connections(server: Any) -> list[Any]:
    """List the open connections of a uvicorn server (its protocol objects)."""
    return list(getattr(getattr(server, "server_state", None), "connections", ()))


def serve_mcp(
    session: UpscopeSession,
    port: int = 0,
    *,
    host: str = "127.0.0.1",
    allow_remote: bool = False,
    token: str | None = None,
    include: str | Iterable[str] | None = None,
    exclude: str | Iterable[str] | None = None,
    wait: bool = True,
    timeout: float = 10.0,
    name: str = "upscope-session",
) -> McpServerHandle:
    """Start an MCP server for ``session`` on the running asyncio loop; return its handle.

    Closing the session (``session.close()``) stops the server; see
    :meth:`McpServerHandle.stop` for what stopping guarantees.
    """
    if isinstance(port, bool) or not isinstance(port, int) or not 0 <= port <= 65535:
        raise ValueError(f"port must be an int from 0 (any free port) to 65535, got {port!r}")
    if not isinstance(host, str) or not host:
        raise ValueError(f"host must be a host name or IP address such as '127.0.0.1', got "
                         f"{host!r}")
    if not is_loopback(host) and allow_remote is not True:
        raise ValueError(
            f"host={host!r} would let other machines drive this live session; pass "
            "allow_remote=True if you mean it (the token is then the only protection), or use "
            "host='127.0.0.1'"
        )
    if token is None:
        token = secrets.token_urlsafe(32)
    elif not isinstance(token, str) or len(token) < MIN_TOKEN_LENGTH or not token.isprintable() \
            or " " in token:
        raise ValueError(
            f"token must be a string of at least {MIN_TOKEN_LENGTH} printable characters "
            "without spaces (or None for a random one)"
        )
    if not isinstance(wait, bool):
        raise ValueError(f"wait must be True or False, got {wait!r}")
    check_timeout(timeout)
    offered = select_tools(include, exclude)  # raises ValueError for an unknown tool
    try:
        loop = asyncio.get_running_loop()
    except RuntimeError:
        raise RuntimeError(
            "serve_mcp runs the server on the running asyncio loop: call it from a notebook "
            "cell, or from a coroutine (e.g. inside asyncio.run(...))"
        ) from None
    types, uvicorn, Server = _import_sdk()

    specs = [tool_spec(tool, "mcp") for tool in offered]
    listed = [types.Tool.model_validate(spec) for spec in specs]

    async def list_tools(_ctx: Any, _params: Any) -> Any:
        return types.ListToolsResult(tools=listed)

    gate = _Gate()

    async def run_call(name: Any, arguments: Any) -> dict[str, Any]:
        if gate.stopped:  # a request that got in before stop() must not drive the session
            return {"ok": False, "error": f"the tool {name!r} was not run: {STOPPED}"}
        # its own task, so that stop() can end it at the deadline without cancelling the
        # SDK's machinery around it (which then still answers the client)
        work = asyncio.ensure_future(run_tool_call(
            session, name, arguments, wait=wait, timeout=timeout,
            include=include, exclude=exclude, source="mcp",
        ))
        gate.calls.add(work)
        try:
            await asyncio.wait({work})
        except asyncio.CancelledError:
            work.cancel()
            raise
        finally:
            gate.calls.discard(work)
        if work.cancelled():
            return {"ok": False, "error": (
                f"the tool {name!r} was ended {STOP_DEADLINE:g} s after the MCP endpoint was "
                f"stopped; what it had sent stays sent: {STOPPED}")}
        err = work.exception()
        if err is not None:  # an MCP client gets an answer, never a dropped connection
            _LOG.error("MCP tool call %r failed", name, exc_info=err)
            return {"ok": False, "error": f"{type(err).__name__}: {err}"}
        result: dict[str, Any] = work.result()
        return result

    async def call_tool(_ctx: Any, params: Any) -> Any:
        result = await run_call(params.name, params.arguments)
        return types.CallToolResult(
            content=[types.TextContent(text=json.dumps(result, ensure_ascii=False))],
            structured_content=result,
            is_error=not result.get("ok", False),
        )

    server = Server(
        name,
        instructions=(
            "These tools drive a live Upscope co-browsing session that a person watches in a "
            "Jupyter notebook. Call get_session_state first to see where the visitor is."
        ),
        on_list_tools=list_tools,
        on_call_tool=call_tool,
    )
    app = server.streamable_http_app(
        streamable_http_path=MCP_PATH, stateless_http=True, json_response=True,
        host="127.0.0.1" if is_loopback(host) else host,
    )

    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    bind_host = host.strip("[]")
    if host == "localhost":
        bind_host = "127.0.0.1"
    sock = socket.create_server((bind_host, port), family=family)
    sock.setblocking(False)
    bound_port = sock.getsockname()[1]

    base: Any = uvicorn.Server

    class _Server(base):  # type: ignore[misc]
        @contextlib.contextmanager
        def capture_signals(self) -> Any:
            # the kernel owns SIGINT (it interrupts cells); a server inside it must not take it
            yield

    config = uvicorn.Config(
        _stoppable(bearer_auth(app, token), gate), lifespan="on", log_config=None,
        log_level="warning", access_log=False, ws="none",
    )
    userver = _Server(config)
    task = loop.create_task(userver.serve(sockets=[sock]), name=f"upscope-mcp:{bound_port}")

    def finished() -> None:
        with contextlib.suppress(OSError):
            sock.close()
        # a stopped handle must not stay alive in the session's callbacks
        session.on_close(handle.stop, remove=True)

    url_host = f"[{bind_host}]" if family == socket.AF_INET6 else bind_host
    handle = McpServerHandle(
        url=f"http://{url_host}:{bound_port}{MCP_PATH}",
        token=token,
        tools=[tool.name for tool in offered],
        server=userver,
        task=task,
        gate=gate,
        on_finished=finished,
    )
    _RUNNING.add(handle)
    session.on_close(handle.stop)

    def failed(done: asyncio.Task[Any]) -> None:
        if not done.cancelled() and done.exception() is not None:
            _LOG.error("the MCP server at %s stopped: %r", handle.url, done.exception())

    task.add_done_callback(failed)
    return handle
