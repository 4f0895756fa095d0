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

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

# Handles whose server still runs: asyncio keeps only weak references to tasks.
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


def bearer_auth(app: ASGIApp, token: str) -> ASGIApp:
    """Wrap an ASGI app: HTTP requests need ``Authorization: Bearer <token>``, else 401."""
    expected = f"Bearer {token}".encode()

    async def guarded(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            given = b""
            for key, value in scope.get("headers") or ():
                if key.lower() == b"authorization":
                    given = value
            # constant time: how much of the token matched must not show in the timing
            if not hmac.compare_digest(given, expected):
                body = json.dumps({
                    "error": "unauthorized",
                    "error_description": "send the token shown by serve_mcp() as "
                                         "'Authorization: Bearer <token>'",
                }).encode()
                await send({
                    "type": "http.response.start",
                    "status": 401,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                        (b"www-authenticate", b'Bearer realm="upscope-widget"'),
                    ],
                })
                await send({"type": "http.response.body", "body": body})
                return
        await app(scope, receive, send)

    return guarded


class McpServerHandle:
    """A running MCP server for one session: its ``url``, ``token``, and ``stop()``.

    Clients send ``Authorization: Bearer <token>`` with every request. ``repr`` never shows
    the token.
    """

    def __init__(
        self, *, url: str, token: str, tools: list[str], server: Any, task: asyncio.Task[Any]
    ) -> None:
        self.url = url
        self.token = token
        self.tools = tools
        self._server = server
        self._task = task

    @property
    def running(self) -> bool:
        """Whether the server still serves."""
        return not self._task.done()

    @property
    def headers(self) -> dict[str, str]:
        """The HTTP headers a client must send."""
        return {"Authorization": f"Bearer {self.token}"}

    def stop(self) -> None:
        """Stop serving (the server finishes the requests under way, then closes)."""
        self._server.should_exit = True

    async def wait_closed(self) -> None:
        """Wait until the server has stopped (after :meth:`stop`)."""
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.shield(self._task)

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<McpServerHandle {self.url} {state} tools={len(self.tools)} token=***>"


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
    """Start an MCP server for ``session`` on the running asyncio loop; return its handle."""
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

    async def call_tool(_ctx: Any, params: Any) -> Any:
        try:
            result = await run_tool_call(
                session, params.name, params.arguments, wait=wait, timeout=timeout,
                include=include, exclude=exclude,
            )
        except Exception as err:  # an MCP client gets an answer, never a dropped connection
            _LOG.exception("MCP tool call %r failed", params.name)
            result = {"ok": False, "error": f"{type(err).__name__}: {err}"}
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
        bearer_auth(app, token), lifespan="on", log_config=None, log_level="warning",
        access_log=False, ws="none",
    )
    userver = _Server(config)
    task = loop.create_task(userver.serve(sockets=[sock]), name=f"upscope-mcp:{bound_port}")
    url_host = f"[{bind_host}]" if family == socket.AF_INET6 else bind_host
    handle = McpServerHandle(
        url=f"http://{url_host}:{bound_port}{MCP_PATH}",
        token=token,
        tools=[tool.name for tool in offered],
        server=userver,
        task=task,
    )
    _RUNNING.add(handle)

    def finished(done: asyncio.Task[Any]) -> None:
        _RUNNING.discard(handle)
        with contextlib.suppress(OSError):
            sock.close()
        if not done.cancelled() and done.exception() is not None:
            _LOG.error("the MCP server at %s stopped: %r", handle.url, done.exception())

    task.add_done_callback(finished)
    return handle
